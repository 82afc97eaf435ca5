//! Result credentials: every one verifies (whatever its score), from the
//! signed bytes; every replica signs with the database's one key; a result
//! that later changes is revoked, and the verifiers say so; a verifier in
//! Python checks the same files.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, digits_right_on};

fn signed(v: &Value) -> gaic::credentials::Signed {
    // Through a pretty file and back, as a credential travels.
    serde_json::from_str(&serde_json::to_string_pretty(v).unwrap()).unwrap()
}

/// Twelve competitors of different accuracies on a closed `digits`.
async fn twelve_closed(app: &TestApp) -> Vec<(User, Value)> {
    let right = [245, 100, 150, 200, 260, 300, 350, 400, 450, 500, 520, 539];
    let mut people = Vec::new();
    for (i, n) in right.iter().enumerate() {
        let u = app.competitor(&format!("c{i:02}")).await;
        u.submit_ok("digits", digits_right_on(*n)).await;
        people.push(u);
    }
    assert_eq!(app.admin().await.post_empty("/api/v1/tasks/digits/close").await.status(), StatusCode::OK);
    let mut out = Vec::new();
    for u in people {
        let list = u.get_json("/api/v1/me/credentials").await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let c = list[0].clone();
        out.push((u, c));
    }
    out
}

#[tokio::test]
async fn twelve_credentials_all_verify_on_every_replica_and_a_changed_result_is_revoked() {
    let app = TestApp::spawn_with(|a| a.public_url = Some("https://gaic.example/".into())).await;
    let creds = twelve_closed(&app).await;
    let keys = app.anon().get_json("/.well-known/gaic-credential-key").await;
    let key = keys["public_key"].as_str().unwrap().to_owned();
    assert_eq!(keys["issuer"], "https://gaic.example");
    assert_eq!(keys["keys"][0]["key_id"], keys["key_id"]);
    for (_, c) in &creds {
        let stated = gaic::credentials::verify(&signed(c), &key).unwrap_or_else(|e| panic!("{e}: {c}"));
        assert_eq!(stated.issuer, "https://gaic.example");
        assert_eq!(stated.key_id, keys["key_id"].as_str().unwrap());
        assert_eq!(stated.of, 12);
    }
    let mut ranks: Vec<u64> = creds.iter().map(|(_, c)| c["credential"]["rank"].as_u64().unwrap()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=12).collect::<Vec<u64>>());
    assert!(app.anon().get_json("/api/v1/credentials/revoked").await.as_array().unwrap().is_empty());

    // A replica with a data folder of its own signs with the same key.
    let db = app.args.database_url.clone();
    let other = TestApp::spawn_with(|a| {
        a.database_url = db;
        a.public_url = Some("https://gaic.example".into());
    })
    .await;
    assert_eq!(other.anon().get_json("/.well-known/gaic-credential-key").await["public_key"], key.as_str());
    let again = other.login("c03", crate::helpers::PASSWORD).await.get_json("/api/v1/me/credentials").await;
    assert_eq!(again[0]["credential_id"], creds[3].1["credential_id"], "the same statement, the same credential");
    assert!(gaic::credentials::verify(&signed(&again[0]), &key).is_ok());

    // The winner is disqualified after the close: their credential is
    // revoked, and so is everyone's whose rank moved.
    let winner = creds.iter().find(|(_, c)| c["credential"]["rank"] == 1).unwrap();
    let team = winner.0.get_json("/api/v1/tasks/digits/team").await["id"].as_i64().unwrap();
    let res = app
        .admin()
        .await
        .put_json(&format!("/api/v1/tasks/digits/teams/{team}/disqualification"), &json!({"reason": "shared accounts"}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let id = winner.1["credential_id"].as_str().unwrap();
    let status = app.anon().get_json(&format!("/api/v1/credentials/{id}")).await;
    assert_eq!(status["status"], "revoked", "{status}");
    assert!(status["reason"].as_str().unwrap().contains("no longer ranked"), "{status}");
    let second = creds.iter().find(|(_, c)| c["credential"]["rank"] == 2).unwrap();
    let status =
        other.anon().get_json(&format!("/api/v1/credentials/{}", second.1["credential_id"].as_str().unwrap())).await;
    assert_eq!(status["status"], "revoked");
    assert!(status["reason"].as_str().unwrap().contains("now rank 1 of 11"), "{status}");
    let revoked = app.anon().get_json("/api/v1/credentials/revoked").await;
    assert_eq!(revoked.as_array().unwrap().len(), 12, "every rank of 12 became a rank of 11: {revoked}");
    assert_eq!(revoked[0]["task"], "digits");
    let unknown = app.anon().get_json(&format!("/api/v1/credentials/{}", "0".repeat(64))).await;
    assert_eq!(unknown["status"], "unknown");
    // The new standing is credentialed anew, and that one holds.
    let fresh = second.0.get_json("/api/v1/me/credentials").await;
    assert_eq!(fresh[0]["credential"]["rank"], 1);
    let fresh_id = fresh[0]["credential_id"].as_str().unwrap();
    assert_eq!(app.anon().get_json(&format!("/api/v1/credentials/{fresh_id}")).await["status"], "valid");
}

/// `python3 scripts/verify_credential.py ARGS`: (exit code, stdout).
fn python_verify(args: &[&str]) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/verify_credential.py");
    let out = std::process::Command::new("python3").arg(script).args(args).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
#[ignore = "needs python3 with the cryptography package; scripts/test.sh runs it"]
async fn credentials_verify_in_python() {
    let app = TestApp::spawn().await;
    let creds = twelve_closed(&app).await;
    let key = app.anon().get_json("/.well-known/gaic-credential-key").await["public_key"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    for (i, (_, c)) in creds.iter().enumerate() {
        let file = dir.path().join(format!("{i}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(c).unwrap()).unwrap();
        let (code, out) = python_verify(&[file.to_str().unwrap(), "--public-key", &key]);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with("valid: ") && out.contains("in digits with accuracy"), "{out}");
    }
    // A changed score, or a payload from elsewhere, is not valid.
    let file = dir.path().join("0.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = dir.path().join("tampered.json");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["credential"]["private_score"] = json!(0.999);
    std::fs::write(&tampered, v.to_string()).unwrap();
    let (code, out) = python_verify(&[tampered.to_str().unwrap(), "--public-key", &key]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("readable credential differs"), "{out}");
    v = serde_json::from_str(&text).unwrap();
    v["payload"] = creds[1].1["payload"].clone();
    std::fs::write(&tampered, v.to_string()).unwrap();
    let (code, out) = python_verify(&[tampered.to_str().unwrap(), "--public-key", &key]);
    assert_eq!(code, 2, "{out}");
    // Online (off the server's thread): the key by id, and revocation.
    let online = |file: std::path::PathBuf, base: String| {
        tokio::task::spawn_blocking(move || python_verify(&[file.to_str().unwrap(), "--server", &base]))
    };
    let (code, out) = online(file.clone(), app.base.clone()).await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("not revoked"), "{out}");
    let team = creds[0].0.get_json("/api/v1/tasks/digits/team").await["id"].as_i64().unwrap();
    let dq = format!("/api/v1/tasks/digits/teams/{team}/disqualification");
    app.admin().await.put_json(&dq, &json!({"reason": "x"})).await;
    let (code, out) = online(file, app.base.clone()).await.unwrap();
    assert_eq!(code, 3, "{out}");
    assert!(out.starts_with("REVOKED") && out.contains("no longer ranked"), "{out}");
}
