//! Bilingual tasks: a bundle's `[i18n.ko]` title and summary and its
//! `README.ko.md` reach the API (both languages), the Korean pages and
//! `gaic tasks show --lang ko`; a task without a translation is shown in
//! English with a note saying so.

use reqwest::header::ACCEPT_LANGUAGE;
use serde_json::json;

use crate::helpers::{TestApp, copy_demo, edit_toml};
use crate::pages::client;

/// A published copy of the diabetes demo with no Korean at all.
async fn english_only(app: &TestApp) {
    let dir = copy_demo("diabetes");
    edit_toml(dir.path(), |t| {
        let t = t.split("# The Korean title").next().unwrap().to_owned();
        t.replace("slug = \"diabetes\"", "slug = \"diabetes-en\"")
    });
    std::fs::remove_file(dir.path().join("README.ko.md")).unwrap();
    let admin = app.admin().await;
    let res = admin.upload_bundle(gaic::bundle::pack_dir(dir.path()).unwrap()).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    admin.patch_json("/api/v1/tasks/diabetes-en", &json!({"published": true})).await;
}

async fn korean_page(app: &TestApp, path: &str) -> String {
    let res = client().get(app.url(path)).header(ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9").send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_api_returns_both_languages_and_korean_pages_show_korean_or_say_they_cannot() {
    let app = TestApp::spawn().await;
    english_only(&app).await;
    let anon = app.anon();

    let digits = anon.get_json("/api/v1/tasks/digits").await;
    assert_eq!(digits["title"], "Handwritten digits");
    assert_eq!(digits["translations"]["ko"]["title"], "손글씨 숫자");
    assert!(digits["statement"].as_str().unwrap().starts_with("# Handwritten digits"));
    assert!(digits["statement_translations"]["ko"].as_str().unwrap().starts_with("# 손글씨 숫자"));
    let list = anon.get_json("/api/v1/tasks?state=all").await;
    let items = list["items"].as_array().or(list.as_array()).unwrap().clone();
    let listed = items.iter().find(|t| t["slug"] == "breast-cancer").unwrap();
    assert_eq!(listed["translations"]["ko"]["title"], "유방암 진단");
    let plain = anon.get_json("/api/v1/tasks/diabetes-en").await;
    assert!(plain.get("translations").is_none(), "{plain}");
    assert_eq!(plain["statement_translations"], json!({}));

    // The Korean task page: the Korean title, summary and statement, no note.
    let page = korean_page(&app, "/tasks/digits").await;
    assert!(page.contains("<h1>손글씨 숫자") && page.contains("8×8 회색 단계 이미지에서"), "Korean title and summary");
    assert!(page.contains("스캔한 손글씨 숫자 하나를"), "the Korean statement");
    assert!(!page.contains("Each row is a scanned") && !page.contains("id=\"untranslated\""));
    assert!(page.contains("<article class=\"statement\" lang=\"ko\">"));
    // English pages keep the original.
    let page = crate::pages::html(&app, "/tasks/digits", None).await;
    assert!(page.contains("<h1>Handwritten digits") && page.contains("Each row is a scanned"));
    // No translation: English, with the note, in Korean.
    let page = korean_page(&app, "/tasks/diabetes-en").await;
    assert!(page.contains("<h1>Diabetes progression") && page.contains("id=\"untranslated\""), "fallback note");
    assert!(page.contains("아직 한국어로 번역되지 않아"));
    assert!(page.contains("<article class=\"statement\" lang=\"en\">"), "the English statement says so");
    // The Korean home page lists translated titles, and marks the other.
    let home = korean_page(&app, "/").await;
    assert!(home.contains("손글씨 숫자") && home.contains("유방암 진단") && home.contains("당뇨병 진행"));
    let card = home.split("/tasks/diabetes-en").nth(1).unwrap();
    assert!(card.split("</li>").next().unwrap().contains("영어"), "the untranslated card says English");
}

#[tokio::test]
async fn gaic_tasks_show_prints_the_language_asked_for() {
    let app = TestApp::spawn().await;
    english_only(&app).await;
    let cfg = tempfile::tempdir().unwrap();
    let run = crate::cli::gaic(&app, cfg.path(), &["tasks", "show", "digits", "--lang", "ko"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("손글씨 숫자 — digits"), "{}", run.stdout);
    assert!(run.stdout.contains("스캔한 손글씨 숫자 하나를") && !run.stdout.contains("no ko translation"));
    let run = crate::cli::gaic(&app, cfg.path(), &["tasks", "show", "diabetes-en", "--lang", "ko"], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Diabetes progression") && run.stdout.contains("no ko translation"),
        "{}",
        run.stdout
    );
    let run = crate::cli::gaic(&app, cfg.path(), &["tasks", "show", "digits"], "").await;
    assert!(run.stdout.starts_with("Handwritten digits — digits"), "{}", run.stdout);
    let run = crate::cli::gaic(&app, cfg.path(), &["tasks", "show", "digits", "--lang", "fr"], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--lang fr"), "{}", run.stderr);
}
