// The site's only script (the CSP allows no inline script).

// A form with data-confirm asks first (closing a task).
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (e) {
    if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); }
  });
});

// Live status: rows still queued or running follow their event stream,
// shown in the page's language.
var mine = document.getElementById("mine");
var words = mine ? JSON.parse(mine.dataset.words) : {};
var word = function (kind, v) { return words[kind + "." + v] || v; };
document.querySelectorAll("#mine tr[data-live]").forEach(function (row) {
  var es = new EventSource("/api/v1/submissions/" + row.dataset.id + "/events");
  es.addEventListener("state", function (e) {
    var s = JSON.parse(e.data);
    var status = word("status", s.status);
    if (s.status === "queued" && s.queue_position) { status += " (#" + s.queue_position + ")"; }
    if (s.status === "running" && s.worker) { status += " · " + s.worker; }
    row.querySelector(".status").textContent = status;
    if (s.public_score !== null) { row.querySelector(".score").textContent = s.public_score.toFixed(5); }
    if (s.verdict) { row.querySelector(".verdict").textContent = word("verdict", s.verdict); }
    if (s.status !== "queued" && s.status !== "running") { es.close(); }
  });
});
