//! A newcomer's first hour: a home page that says what each challenge is,
//! how long it runs and how busy it is; the guides in both languages; the
//! guest SDK to download; numbers and times written for people.

use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};

use crate::helpers::{TestApp, digits_right_on};
use crate::pages::client;

async fn page(app: &TestApp, path: &str, lang: &str) -> String {
    let res = client().get(app.url(path)).header(ACCEPT_LANGUAGE, lang).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// The text of the home page's card for `slug`.
fn card<'a>(home: &'a str, slug: &str) -> &'a str {
    let from = home.find(&format!("href=\"/tasks/{slug}\"")).unwrap_or_else(|| panic!("{slug} listed"));
    home[from..].split("</li>").next().unwrap()
}

#[tokio::test]
async fn the_home_page_shows_state_time_left_activity_and_the_metric_in_words() {
    let app = TestApp::spawn().await;
    let ana = app.competitor("ana").await;
    ana.submit_ok("digits", digits_right_on(100)).await;
    ana.submit_ok("digits", digits_right_on(200)).await;

    let home = page(&app, "/", "en").await;
    let digits = card(&home, "digits");
    assert!(digits.contains("Open: submissions accepted"), "{digits}");
    // The countdown's text form (a script makes it tick).
    let left = digits.split("class=\"countdown\"").nth(1).unwrap();
    assert!(left.contains("data-until=\"2027-05-31T23:59:59Z\"") && left.contains(" days "), "{left}");
    assert!(
        digits.contains("<dd class=\"teams\">1</dd>") && digits.contains("<dd class=\"recent\">2</dd>"),
        "{digits}"
    );
    assert!(digits.contains("Accuracy"), "the metric in words: {digits}");
    assert!(home.contains("href=\"/how-to-compete\"") && home.contains("href=\"/build-a-model\""));

    let home = page(&app, "/", "ko").await;
    let digits = card(&home, "digits");
    assert!(digits.contains("진행 중") && digits.contains("일 ") && digits.contains("시간"), "{digits}");
    // Times on Korean pages: KST first, UTC beside it.
    assert!(digits.contains("2027-06-01 08:59 KST (23:59 UTC)"), "{digits}");
    assert!(home.contains("참가 방법") && home.contains("모델 만들기"));
}

#[tokio::test]
async fn the_guides_are_in_both_languages_and_the_sdk_downloads() {
    let app = TestApp::spawn().await;
    let en = page(&app, "/how-to-compete", "en").await;
    assert!(en.contains("<h1>How to compete</h1>") && en.contains("gaic tasks download digits --path data/"));
    assert!(en.contains("gaic submit digits data/sample_submission.csv") && en.contains("gaic leaderboard digits"));
    let ko = page(&app, "/how-to-compete", "ko").await;
    assert!(
        ko.contains("<h1>참가 방법</h1>") && ko.contains("첫 CSV 제출") && ko.contains("gaic submit digits model.wasm")
    );

    let build = page(&app, "/build-a-model", "en").await;
    assert!(build.contains("<h1>Build a model</h1>") && build.contains("gaic_predict"), "the ABI guide");
    assert!(build.contains("export_model!") && build.contains("(module"), "the Rust and WAT examples");
    assert!(build.contains("GAIC_EXPORT(\"gaic_predict\")") && build.contains("gaic_matmul"), "the C example");
    assert!(build.contains("href=\"/downloads/gaic-guest-sdk.tar.gz\""));
    let build = page(&app, "/build-a-model", "ko").await;
    assert!(build.contains("<h1>모델 만들기</h1>") && build.contains("영어 원문"));

    let res = client().get(app.url("/downloads/gaic-guest-sdk.tar.gz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CONTENT_TYPE], "application/gzip");
    let bytes = res.bytes().await.unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
    assert!(names.contains(&"gaic-guest-sdk/ABI.md".to_owned()), "{names:?}");
}
