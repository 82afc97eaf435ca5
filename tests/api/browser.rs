//! The pages in a real browser: Debian's headless Chromium driven through
//! chromedriver (WebDriver) against the real server. Screenshots of the
//! main pages land in `target/screenshots/`.
//!
//! Without chromedriver these tests are skipped with a note, unless
//! `GAIC_TEST_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a missing
//! browser a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, copy_demo, edit_toml};

/// A chromedriver process and a browser session on it; the driver is killed
/// when this is dropped.
struct Browser {
    client: Client,
    driver: Child,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn program(var: &str, default: &str) -> Option<PathBuf> {
    let name = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let path = PathBuf::from(&name);
    if path.is_absolute() {
        return path.exists().then_some(path);
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(&name)).find(|p| p.exists())
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; `None` (skip)
    /// when they are not installed and not required.
    async fn start(app: &TestApp, lang: &str) -> Option<Self> {
        Self::start_with(app, lang, &[]).await
    }

    /// [`Browser::start`] with more Chromium arguments.
    async fn start_with(app: &TestApp, lang: &str, extra: &[&str]) -> Option<Self> {
        let required = std::env::var("GAIC_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let (Some(driver), Some(chromium)) =
            (program("GAIC_CHROMEDRIVER", "chromedriver"), program("GAIC_CHROMIUM", "chromium"))
        else {
            assert!(!required, "GAIC_TEST_REQUIRE_BROWSER=1 but chromedriver or chromium is not installed");
            eprintln!("skipped: chromedriver/chromium not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // A zone other than UTC, so English pages show the local time
        // beside UTC.
        let child = Command::new(driver)
            .env("TZ", "Europe/Berlin")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut args: Vec<String> =
            ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
                .into_iter()
                .chain(["--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,1000"])
                .map(str::to_owned)
                .collect();
        args.push(format!("--lang={lang}"));
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "prefs": { "intl.accept_languages": lang },
            }
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(caps.clone());
            match builder.connect(&url).await {
                Ok(client) => {
                    return Some(Self { client, driver: child, base: app.url("") });
                }
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn go(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        el.clear().await.ok();
        el.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }

    /// Clicks something that loads a new page and waits until it has.
    async fn click_to_page(&self, css: &str) {
        self.client.execute("window.__gaicOld = 1;", vec![]).await.unwrap();
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let script = "return window.__gaicOld === undefined && document.readyState === 'complete';";
        while self.client.execute(script, vec![]).await.ok() != Some(json!(true)) {
            assert!(Instant::now() < deadline, "{css} did not load a new page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn set_value(&self, css: &str, value: &str) {
        let script = "document.querySelector(arguments[0]).value = arguments[1];";
        self.client.execute(script, vec![json!(css), json!(value)]).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn html(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Waits until the element's text satisfies `ok`; its last text.
    async fn wait_text(&self, css: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text(css).await;
            if ok(&t) {
                return t;
            }
            assert!(Instant::now() < deadline, "{css} never matched; last text {t:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_competitor_signs_up_joins_submits_and_watches_a_model_run() {
    // No evaluation workers at first, so the model is seen waiting in the queue.
    let app = TestApp::spawn_with(|a| a.workers = Some(0)).await;
    let Some(b) = Browser::start(&app, "en").await else { return };

    b.go("/").await;
    b.shot("home").await;
    b.go("/signup").await;
    b.fill("#f-username", "ana").await;
    b.fill("#f-email", "ana@example.org").await;
    b.fill("#f-password", "short").await;
    b.fill("#f-country", "KR").await;
    b.click("#f-age_14_or_older").await;
    b.click_to_page("form button[type=submit]").await;
    // The error sits next to its field and what was typed is kept.
    let err = b.text("#e-password").await;
    assert!(err.contains("10"), "password error: {err:?}");
    let kept = b.client.find(Locator::Css("#f-email")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("ana@example.org"));
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;
    b.wait_text("header .who", 10, |t| t.contains("ana")).await;

    // Join digits by accepting its rules.
    b.go("/tasks/digits?tab=rules").await;
    b.shot("task-rules").await;
    b.click("#f-accept").await;
    b.click_to_page("form.join button").await;
    assert!(b.client.current_url().await.unwrap().as_str().ends_with("tab=submit"));
    assert_eq!(b.text("#remaining").await, "5");

    // A CSV: scored at once.
    let sample = std::fs::read(crate::helpers::tasks_dir().join("digits/public/sample_submission.csv")).unwrap();
    let (_d1, csv) = temp_file("predictions.csv", &sample);
    b.fill("#f-file", &csv).await;
    b.fill("#f-message", "all zeros").await;
    b.click_to_page("form[enctype] button").await;
    let score = b.wait_text("#mine tbody tr:first-child .score", 10, |t| !t.is_empty()).await;
    assert!(score.starts_with("0."), "score {score:?}");

    // The example model: queued, then (workers started) running, then scored —
    // the row updates without a reload.
    let wasm = crate::models::example("digits_mlp");
    let (_d2, model) = temp_file("digits_mlp.wasm", &wasm);
    b.go("/tasks/digits?tab=submit").await;
    b.fill("#f-file", &model).await;
    b.click_to_page("form[enctype] button").await;
    let first = b.text("#mine tbody tr:first-child .status").await;
    assert!(first.starts_with("queued"), "waiting in the queue first: {first:?}");
    b.shot("my-submissions-queued").await;
    gaic::eval::runner::start_workers(&app.state.queue, 1);
    b.wait_text("#mine tbody tr:first-child .status", 60, |t| t == "scored").await;
    let model_score = b.text("#mine tbody tr:first-child .score").await;
    assert!(model_score.starts_with("0.9"), "the model scores well: {model_score:?}");
    b.go("/tasks/digits?tab=submissions").await;
    b.shot("my-submissions").await;

    // The leaderboard lists the team with the model's score, and its chart.
    b.go("/tasks/digits?tab=leaderboard").await;
    let row = b.text("#board tbody tr:first-child").await;
    assert!(row.contains("ana") && row.contains(&model_score), "{row}");
    assert!(b.html().await.contains("<svg class=\"chart\""), "score-over-time chart");
    b.shot("leaderboard").await;

    // The team tab, and the profile page.
    b.go("/tasks/digits?tab=team").await;
    assert!(b.text("main h2").await.contains("ana"));
    b.go("/users/ana").await;
    assert!(b.text("#results").await.contains("Handwritten digits"));
    b.shot("profile").await;

    // At phone width the page still fits (no horizontal scroll of the page).
    b.client.set_window_size(390, 844).await.unwrap();
    b.go("/tasks/digits?tab=leaderboard").await;
    let overflow = b.client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap_or(9999) <= 390, "page width at 390px: {overflow}");
    b.shot("leaderboard-phone").await;
    b.close().await;
}

#[tokio::test]
async fn an_organizer_fixes_a_bundle_and_publishes_and_the_korean_pages_render() {
    let app = TestApp::spawn().await;
    app.organizer("olga").await;
    let Some(b) = Browser::start(&app, "ko").await else { return };

    // Accept-Language picks Korean; the switch goes back to English.
    b.go("/login").await;
    assert!(b.html().await.contains("<html lang=\"ko\""), "Korean from Accept-Language");
    b.click_to_page("a[href^='/lang/en']").await;
    assert!(b.html().await.contains("<html lang=\"en\""));
    b.fill("#f-username", "olga").await;
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;

    // A bundle with a mistake: every problem listed, nothing created.
    let dir = copy_demo("diabetes");
    // Its Korean statement left out: Korean pages fall back to English.
    std::fs::remove_file(dir.path().join("README.ko.md")).unwrap();
    edit_toml(dir.path(), |t| {
        t.replace("slug = \"diabetes\"", "slug = \"diabetes-2\"").replace("name = \"rmse\"", "name = \"rmsee\"")
    });
    let bad = gaic::bundle::pack_dir(dir.path()).unwrap();
    let (_d1, bad_path) = temp_file("bundle.tar.gz", &bad);
    b.go("/organize").await;
    b.fill("#f-bundle", &bad_path).await;
    b.click_to_page("form[enctype] button").await;
    let problems = b.text("#bundle-problems").await;
    assert!(problems.contains("rmsee"), "the problem is named: {problems}");
    b.shot("organize-bundle-error").await;

    // Fixed: created as a draft, then published from the management page.
    edit_toml(dir.path(), |t| t.replace("name = \"rmsee\"", "name = \"rmse\""));
    let good = gaic::bundle::pack_dir(dir.path()).unwrap();
    let (_d2, good_path) = temp_file("bundle.tar.gz", &good);
    b.fill("#f-bundle", &good_path).await;
    b.click_to_page("form[enctype] button").await;
    assert!(b.client.current_url().await.unwrap().path().ends_with("/tasks/diabetes-2/manage"));
    let anon = reqwest::get(app.url("/tasks/diabetes-2")).await.unwrap();
    assert_eq!(anon.status(), 404, "a draft is not public");
    // A missing date is reported next to its field and the other values
    // stay. (Date pickers take no typing in WebDriver; the value is set.)
    b.set_value("#f-closes_at", "").await;
    b.click("#f-published").await;
    b.click_to_page("#h-schedule + form button").await;
    assert!(!b.text("#e-closes_at").await.is_empty(), "the date error is shown");
    assert!(
        b.client.find(Locator::Css("#f-published")).await.unwrap().prop("checked").await.unwrap().as_deref()
            == Some("true")
    );
    b.set_value("#f-closes_at", "2099-01-01T00:00").await;
    b.click_to_page("#h-schedule + form button").await;
    b.shot("manage").await;
    let anon = reqwest::get(app.url("/tasks/diabetes-2")).await.unwrap();
    assert_eq!(anon.status(), 200, "published");

    // Closing asks first (site.js, the only script the CSP allows): a
    // dismissed question sends nothing; an accepted one closes the task.
    let state = || async {
        let t: Value = reqwest::get(app.url("/api/v1/tasks/diabetes-2")).await.unwrap().json().await.unwrap();
        t["state"].as_str().unwrap().to_owned()
    };
    b.click("form[action$='/manage/close'] button").await;
    let asked = b.client.get_alert_text().await.expect("a confirmation is asked");
    assert!(!asked.trim().is_empty());
    b.client.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state().await, "open", "dismissed: nothing was sent");
    b.client.execute("window.__gaicOld = 1;", vec![]).await.unwrap();
    b.click("form[action$='/manage/close'] button").await;
    b.client.accept_alert().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while state().await != "closed" {
        assert!(Instant::now() < deadline, "the accepted close never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The Korean task page.
    b.click_to_page("a[href^='/lang/ko']").await;
    b.go("/tasks/digits").await;
    let html = b.html().await;
    assert!(html.contains("<html lang=\"ko\"") && html.contains("리더보드") && html.contains("평가 지표"), "Korean");
    assert_eq!(b.text("main h1").await, "손글씨 숫자");
    assert!(b.text("article.statement").await.contains("스캔한 손글씨 숫자 하나를"), "the Korean statement");
    assert!(b.text("#untranslated").await.is_empty());
    b.shot("task-ko").await;
    // The organizer's copy has no Korean statement: English, with the note.
    b.go("/tasks/diabetes-2").await;
    assert!(b.text("#untranslated").await.contains("한국어로 번역되지 않아"));
    assert!(b.text("article.statement").await.contains("For 442 diabetes patients"));
    b.shot("task-ko-fallback").await;
    b.go("/tasks/digits?tab=leaderboard").await;
    b.shot("leaderboard-ko").await;

    // The CSP broke nothing on the pages this suite visited: the browser
    // reports every block to /csp-reports (counted in /metrics), and the
    // only report is that of a script slipped into this page, which the
    // policy blocked.
    let slipped = "var s = document.createElement('script'); s.textContent = 'window.__ran = 1'; \
                   document.body.appendChild(s); return window.__ran === undefined;";
    assert_eq!(b.client.execute(slipped, vec![]).await.unwrap(), json!(true), "an inline script is blocked");
    let deadline = Instant::now() + Duration::from_secs(10);
    while csp_violations(&app).await.is_empty() {
        assert!(Instant::now() < deadline, "the block was never reported");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(csp_violations(&app).await, vec![("script-src".to_owned(), 1)], "one block, the slipped script");
    b.close().await;
}

/// `gaic_csp_violations_total` by directive, from `/metrics` (the process's
/// counters: every browser test's pages count), less `other`, which the
/// report endpoint's own test sends.
async fn csp_violations(app: &TestApp) -> Vec<(String, u64)> {
    let text = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("gaic_csp_violations_total{directive=\""))
        .filter_map(|l| l.split_once("\"} "))
        .map(|(d, n)| (d.to_owned(), n.trim().parse::<f64>().unwrap() as u64))
        .filter(|(d, _)| d != "other")
        .collect()
}

#[tokio::test]
async fn a_person_consents_and_a_recruiter_finds_them_and_opens_their_profile() {
    let app = TestApp::spawn().await;
    let ann = app.competitor("ann").await;
    let truth = crate::helpers::csv_of("id,progression", crate::helpers::hidden_labels("diabetes"));
    ann.submit_ok("diabetes", truth).await;
    // A rival: a medal needs somebody to beat.
    let ben = app.competitor("ben").await;
    let worse = crate::helpers::hidden_labels("diabetes")
        .into_iter()
        .map(|(id, y)| (id, (y.parse::<f64>().unwrap() + 25.0).to_string()));
    ben.submit_ok("diabetes", crate::helpers::csv_of("id,progression", worse)).await;
    assert_eq!(app.admin().await.post_empty("/api/v1/tasks/diabetes/close").await.status(), 200);
    app.competitor("rita").await;
    assert_eq!(app.admin().await.put("/api/v1/users/rita/roles/recruiter").await.status(), 200);
    let Some(b) = Browser::start(&app, "en").await else { return };

    // Ann opts in to recruiters from her privacy page.
    b.go("/login").await;
    b.fill("#f-username", "ann").await;
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;
    b.go("/account/profile").await;
    b.fill("#f-affiliation", "Seoul National University").await;
    b.fill("#f-skills", "tabular, medical").await;
    b.click("#c-recruiters").await;
    b.click_to_page("form[action='/account/profile'] button[type=submit]").await;
    assert!(!b.text("#saved").await.is_empty(), "saved");
    b.shot("privacy").await;
    b.click_to_page("header form button").await;

    // Rita searches, finds her, opens her profile.
    b.go("/login").await;
    b.fill("#f-username", "rita").await;
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;
    b.go("/talent").await;
    b.fill("#f-min", "90").await;
    b.click_to_page("form[role=search] button").await;
    let row = b.text("#people tbody tr:first-child").await;
    assert!(row.contains("ann") && row.contains("Seoul National University") && row.contains("100.0"), "{row}");
    b.shot("talent").await;
    b.click_to_page("#people a[href='/users/ann']").await;
    let details = b.text("#details").await;
    assert!(details.contains("tabular, medical"), "{details}");
    assert!(b.text("#results").await.contains("1 / 2"));
    assert!(b.text("#standing").await.contains("gold 1"), "a gold medal shows");
    b.shot("profile-for-recruiter").await;

    // Shortlist her with a note, and ask to get in touch.
    b.go("/talent/shortlists").await;
    b.fill("#f-list", "Medical ML").await;
    b.click_to_page("form[action='/talent/shortlists'] button").await;
    b.go("/users/ann").await;
    b.fill("#f-note", "strong on tabular").await;
    b.click_to_page("form[action$='/shortlist'] button").await;
    assert!(b.text(".shortlist").await.contains("strong on tabular"));
    b.go("/users/ann").await;
    b.fill("#f-org", "Acme Health").await;
    b.fill("#f-msg", "Would you talk to us?").await;
    b.click_to_page("form[action$='/contact'] button").await;
    assert!(b.text("#sent-requests").await.contains("pending"));
    b.shot("shortlists").await;
    b.click_to_page("header form button").await;

    // Ann accepts; Rita then sees her email.
    b.go("/login").await;
    b.fill("#f-username", "ann").await;
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;
    b.go("/account/profile").await;
    assert!(b.text("#incoming-requests").await.contains("Acme Health"));
    b.click_to_page("#incoming-requests form[action$='/accept'] button").await;
    assert!(b.text("#incoming-requests").await.contains("accepted"));
    b.click_to_page("header form button").await;
    b.go("/login").await;
    b.fill("#f-username", "rita").await;
    b.fill("#f-password", PASSWORD).await;
    b.click_to_page("form button[type=submit]").await;
    b.go("/talent/shortlists").await;
    assert!(b.text("#sent-requests").await.contains("ann@example.org"));
    b.close().await;
}

#[tokio::test]
async fn a_newcomer_sees_the_countdown_and_reads_the_guides_in_both_languages() {
    let app = TestApp::spawn().await;
    for lang in ["en", "ko"] {
        let Some(b) = Browser::start(&app, lang).await else { return };
        b.go("/").await;
        // The countdown ticks once the script runs: "171d 17:42:09".
        let first = b.wait_text(".card .countdown", 5, |t| t.contains(':')).await;
        let digits = |t: &str| t.chars().filter(char::is_ascii_digit).count();
        assert!(digits(&first) >= 6, "{first}");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_ne!(b.text(".card .countdown").await, first, "it ticks");
        if lang == "en" {
            // UTC, and the viewer's time (Europe/Berlin here) beside it.
            let local = b.text(".card .local").await;
            assert!(local.contains("your time"), "{local:?}");
        } else {
            assert!(b.text(".card time").await.contains("KST"));
        }
        b.shot(&format!("home-{lang}")).await;
        b.go("/how-to-compete").await;
        assert_eq!(b.text("main h1").await, if lang == "en" { "How to compete" } else { "참가 방법" });
        b.shot(&format!("how-to-compete-{lang}")).await;
        b.go("/build-a-model").await;
        assert!(b.text("#abi").await.contains("gaic_predict"));
        b.shot(&format!("build-a-model-{lang}")).await;
        b.close().await;
    }
    // Without scripts the countdown is its text form, in words.
    let Some(b) = Browser::start_with(&app, "en", &["--blink-settings=scriptEnabled=false"]).await else { return };
    b.go("/").await;
    let left = b.text(".card .countdown").await;
    assert!(left.contains(" days ") && !left.contains(':'), "{left:?}");
    b.shot("home-en-no-script").await;
    b.close().await;
}
