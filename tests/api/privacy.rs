//! Privacy completeness: the data export holds everything stored about a
//! person, and deleting the account removes or anonymises every row and
//! file that is theirs, table by table: a table the test does not know
//! fails it until someone decides what deletion does to it.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, User, digits_right_on};
use crate::models::{example, wait_final};

/// What deleting an account leaves in a table, for the deleted person.
enum Leaves {
    /// No row of theirs: `WHERE` clause naming them (`$1` is their id).
    Nothing(&'static str),
    /// Their rows stay, anonymised; the check says how (`$1` is their id;
    /// it must count 0 rows).
    Anonymised(&'static str, &'static str),
    /// The table holds nothing about a person (or only one-way hashes).
    NotPersonal(&'static str),
}

fn expectations() -> BTreeMap<&'static str, Leaves> {
    use Leaves::*;
    BTreeMap::from([
        (
            "users",
            Anonymised(
                "user_id = $1 AND NOT (username LIKE 'deleted-%' AND email LIKE '%@deleted.invalid' \
                 AND display_name = 'deleted user' AND password_hash = '!' AND country = 'ZZ' AND deleted_at IS NOT NULL)",
                "the row stays (results stay on the boards) with every personal field replaced",
            ),
        ),
        ("user_roles", Nothing("user_id = $1")),
        ("tokens", Nothing("user_id = $1")),
        ("tasks", NotPersonal("organizer_id: organizers' tasks outlive them (this person organized none)")),
        ("task_files", NotPersonal("task data")),
        (
            "teams",
            Anonymised(
                "team_id IN (SELECT team_id FROM team_members WHERE user_id = $1) AND name = 'ann'",
                "a team named after them is renamed",
            ),
        ),
        ("team_members", NotPersonal("membership stays: the team's results stay on the boards")),
        ("team_invites", Nothing("user_id = $1 OR invited_by = $1")),
        (
            "submissions",
            Anonymised(
                "user_id = $1 AND (message <> '' OR file_name <> 'submission' OR run_log IS NOT NULL \
                 OR idempotency_key IS NOT NULL)",
                "scores and predictions stay (ranked); messages, file names and logs go",
            ),
        ),
        ("baselines", NotPersonal("organizers' reference scores")),
        ("jobs", NotPersonal("queue state by submission id")),
        ("workers", NotPersonal("machines")),
        ("profiles", Nothing("user_id = $1")),
        ("consents", Nothing("user_id = $1")),
        ("consent_log", Nothing("user_id = $1")),
        (
            "talent_views",
            Anonymised(
                "user_id = $1",
                "views of them go; their views of others stay on those people's lists as a deleted recruiter's",
            ),
        ),
        ("shortlists", Nothing("recruiter_id = $1")),
        ("shortlist_entries", Nothing("user_id = $1")),
        ("contact_requests", Nothing("user_id = $1 OR recruiter_id = $1")),
        ("login_failures", NotPersonal("SHA-256 of address and username, gone within 15 minutes")),
        ("people_version", NotPersonal("a counter")),
        ("credential_keys", NotPersonal("the platform's signing keys")),
        ("credentials_issued", Anonymised("user_id = $1 AND revoked_reason IS NULL", "kept, revoked")),
        ("refused_uploads", NotPersonal("per-team counts")),
        ("audit_log", NotPersonal("kept for accountability; people by id only (the id's row is anonymised)")),
    ])
}

async fn tables(app: &TestApp) -> Vec<String> {
    let pool = &app.state.db.pool;
    let sql = match app.state.db.backend {
        gaic::db::Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
        }
    };
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

async fn columns(app: &TestApp, table: &str) -> Vec<String> {
    let pool = &app.state.db.pool;
    match app.state.db.backend {
        gaic::db::Backend::Postgres => sqlx::query_scalar(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap(),
        _ => {
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')")).fetch_all(pool).await.unwrap()
        }
    }
}

async fn count(app: &TestApp, table: &str, clause: &str, id: i64) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {clause}"))
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn recruiter(app: &TestApp, name: &str) -> User {
    let u = app.competitor(name).await;
    let res = app.admin().await.put(&format!("/api/v1/users/{name}/roles/recruiter")).await;
    assert_eq!(res.status(), StatusCode::OK);
    u
}

#[tokio::test]
async fn the_export_holds_everything_and_deletion_leaves_nothing_personal_in_any_table() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Ann competes (a team with Bob, a pending invite to Cat, a CSV with a
    // message, a model), has a profile and consents, is found, viewed and
    // contacted by Rita, and is a recruiter herself.
    let ann = recruiter(&app, "ann").await;
    let bob = app.competitor("bob").await;
    let cat = app.competitor("cat").await;
    ann.put_json("/api/v1/me/profile", &json!({ "affiliation": "Secret Lab of Ann", "bio": "ann's bio" })).await;
    for c in ["recruiters", "public_profile"] {
        ann.put(&format!("/api/v1/me/consents/{c}")).await;
    }
    cat.put("/api/v1/me/consents/recruiters").await;
    let csv = ann.submit_with("digits", digits_right_on(60), "ann's private note").await;
    assert_eq!(csv.status(), StatusCode::CREATED);
    let res = ann.post_json("/api/v1/tasks/digits/team/invites", &json!({ "username": "bob" })).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let invite = bob.get_json("/api/v1/invites").await[0]["id"].as_i64().unwrap();
    assert!(bob.post_empty(&format!("/api/v1/invites/{invite}/accept")).await.status().is_success());
    let res = ann.post_json("/api/v1/tasks/digits/team/invites", &json!({ "username": "cat" })).await;
    assert!(res.status().is_success());
    let model = ann.submit("diabetes", example("diabetes-linear.wat")).await;
    assert_eq!(model.status(), StatusCode::ACCEPTED);
    let model: Value = model.json().await.unwrap();
    let model = wait_final(&ann, model["submission"]["id"].as_i64().unwrap()).await;
    assert_eq!(model["status"], "scored", "{model}");
    let model_hash: String = sqlx::query_scalar("SELECT blob_hash FROM submissions WHERE submission_id = $1")
        .bind(model["id"].as_i64().unwrap())
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let rita = recruiter(&app, "rita").await;
    rita.get_json("/api/v1/talent").await;
    rita.get_json("/api/v1/talent/ann").await;
    rita.post_json("/api/v1/talent/ann/contact", &json!({ "organisation": "Acme", "message": "hi ann" })).await;
    let list: Value = ann.post_json("/api/v1/shortlists", &json!({ "name": "ann's list" })).await.json().await.unwrap();
    let path = format!("/api/v1/shortlists/{}/people/cat", list["id"]);
    assert_eq!(ann.put_json(&path, &json!({ "note": "ann's note on cat" })).await.status(), StatusCode::NO_CONTENT);
    ann.post_json("/api/v1/talent/cat/contact", &json!({ "organisation": "Ann Inc", "message": "hi cat" })).await;
    let hers: Value = rita.post_json("/api/v1/shortlists", &json!({ "name": "hires" })).await.json().await.unwrap();
    let path = format!("/api/v1/shortlists/{}/people/ann", hers["id"]);
    assert_eq!(rita.put_json(&path, &json!({ "note": "rita's note" })).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.post_empty("/api/v1/tasks/diabetes/close").await.status(), StatusCode::OK);
    assert_eq!(ann.get_json("/api/v1/me/credentials").await.as_array().unwrap().len(), 1);
    let session = app.anon().post_json("/api/v1/session", &json!({ "username": "ann", "password": PASSWORD })).await;
    assert_eq!(session.status(), StatusCode::OK);

    // The export.
    let doc = ann.get_json("/api/v1/me/export").await;
    assert_eq!(doc["contact_requests_received"][0]["from"], "rita");
    assert_eq!(doc["contact_requests_received"][0]["message"], "hi ann");
    assert_eq!(doc["contact_requests_sent"][0]["to"], "cat");
    assert_eq!(doc["shortlists"][0]["people"][0], json!({ "username": "cat", "note": "ann's note on cat" }));
    let invites: Vec<&str> =
        doc["invites"].as_array().unwrap().iter().map(|i| i["invitee"].as_str().unwrap()).collect();
    assert_eq!(invites, ["bob", "cat"]);
    assert_eq!(doc["credentials"][0]["task"], "diabetes");
    let kinds: Vec<&str> =
        doc["tokens_and_sessions"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"api") && kinds.contains(&"session"), "{kinds:?}");
    let whats: Vec<&str> = doc["viewed_by"].as_array().unwrap().iter().map(|v| v["what"].as_str().unwrap()).collect();
    assert_eq!(whats, ["contact", "profile", "search"]);
    let actions: Vec<&str> =
        doc["my_audited_actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["talent.contact"]);
    assert!(doc["submissions"].to_string().contains("ann's private note"));
    assert!(!doc.to_string().contains(ann.token.as_deref().unwrap()), "no secrets");

    // Deletion.
    let ann_id: i64 = sqlx::query_scalar("SELECT user_id FROM users WHERE username = 'ann'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(ann.delete_json("/api/v1/me", &json!({ "password": PASSWORD })).await.status(), StatusCode::NO_CONTENT);

    let expected = expectations();
    let mut found = tables(&app).await;
    found.sort();
    let known: Vec<String> = expected.keys().map(|k| (*k).to_owned()).collect();
    assert_eq!(found, known, "every table is classified here: what does deleting an account do to a new one?");
    for (table, leaves) in &expected {
        match leaves {
            Leaves::Nothing(clause) => assert_eq!(count(&app, table, clause, ann_id).await, 0, "{table}"),
            Leaves::Anonymised(check, why) => {
                assert_eq!(count(&app, table, check, ann_id).await, 0, "{table}: {why}");
            }
            Leaves::NotPersonal(why) => assert!(!why.is_empty(), "{table}: say why it holds nothing personal"),
        }
        // No text anywhere still names her.
        for col in columns(&app, table).await {
            for needle in
                ["ann@example.org", "Secret Lab of Ann", "ann's private note", "ann's note", "hi ann", "ann's list"]
            {
                let clause = format!("CAST({col} AS TEXT) LIKE '%{}%'", needle.replace('\'', "''"));
                assert_eq!(
                    count(&app, table, &format!("{clause} AND $1 = $1"), ann_id).await,
                    0,
                    "{table}.{col}: {needle}"
                );
            }
        }
    }
    // Her model's file is gone from the store; her results stay, revoked
    // credentials say why.
    assert!(app.state.blobs.get(&model_hash).await.is_err(), "the model file is deleted");
    let board = app.anon().get_json("/api/v1/tasks/diabetes/leaderboard?board=private").await;
    assert!(board.to_string().contains(&format!("deleted-{ann_id}")), "{board}");
    let revoked = app.anon().get_json("/api/v1/credentials/revoked").await;
    assert!(revoked.to_string().contains("deleted their account"), "{revoked}");
    // Rita's view of her and Cat's invite list are clean; Rita's log stays.
    assert!(cat.get_json("/api/v1/invites").await.as_array().unwrap().is_empty());
    assert!(!rita.get_json("/api/v1/contact-requests").await.to_string().contains("hi ann"));
}
