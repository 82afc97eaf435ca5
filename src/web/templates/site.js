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
var decimals = mine ? Number(mine.dataset.decimals || 5) : 5;
document.querySelectorAll("#mine tr[data-live]").forEach(function (row) {
  var es = new EventSource("/api/v1/submissions/" + row.dataset.id + "/events");
  es.addEventListener("state", function (e) {
    var s = JSON.parse(e.data);
    var status = word("status", s.status);
    if (s.status === "queued" && s.queue_position) { status += " (#" + s.queue_position + ")"; }
    if (s.status === "running" && s.worker) { status += " · " + s.worker; }
    row.querySelector(".status").textContent = status;
    if (s.public_score !== null) { row.querySelector(".score").textContent = s.public_score.toFixed(decimals); }
    if (s.verdict) { row.querySelector(".verdict").textContent = word("verdict", s.verdict); }
    if (s.status !== "queued" && s.status !== "running") { es.close(); }
  });
});

// Countdowns: the time left, live; the page's own words stay for browsers
// without scripts.
var pad = function (n) { return (n < 10 ? "0" : "") + n; };
document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
  var until = Date.parse(el.dataset.until);
  var tick = function () {
    var s = Math.max(0, Math.floor((until - Date.now()) / 1000));
    var d = Math.floor(s / 86400);
    el.textContent = (d > 0 ? d + "d " : "") + pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  };
  tick();
  setInterval(tick, 1000);
});

// Times are written in UTC (and KST on Korean pages); English pages add
// the viewer's own time beside them.
if (document.documentElement.lang === "en") {
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime()) || d.getTimezoneOffset() === 0) { return; }
    var span = document.createElement("span");
    span.className = "local";
    span.textContent = " (" + d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) + ", " + document.body.dataset.yourTime + ")";
    el.after(span);
  });
}
