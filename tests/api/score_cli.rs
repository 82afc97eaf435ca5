//! `gaic score`, the offline judge: the same scorer as the server, its exit
//! codes and its JSON.

use std::process::Command;

use crate::helpers::tasks_dir;

fn score(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gaic")).arg("score").args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn path(rel: &str) -> String {
    tasks_dir().join(rel).display().to_string()
}

#[test]
fn it_prints_the_score_last_and_json_on_request() {
    let sol = path("digits/hidden/test_labels.csv");
    let (code, out, _) = score(&["--metric", "accuracy", "--solution", &sol, "--submission", &sol]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().last().unwrap(), "1");
    let (code, out, _) = score(&[
        "--metric",
        "rmse",
        "--solution",
        &path("diabetes/hidden/test_labels.csv"),
        "--submission",
        &path("diabetes/public/sample_submission.csv"),
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["metric"], "rmse");
    assert_eq!(v["rows"], 133);
    assert!(v["score"].as_f64().unwrap() > 40.0);
}

#[test]
fn it_agrees_with_the_server_on_the_demo_tasks() {
    // Same code path as the server: the breast-cancer sample is AUC 0.5.
    let (code, out, _) = score(&[
        "--metric",
        "roc_auc",
        "--solution",
        &path("breast-cancer/hidden/test_labels.csv"),
        "--submission",
        &path("breast-cancer/public/sample_submission.csv"),
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().last().unwrap(), "0.5");
}

#[test]
fn an_invalid_submission_exits_2_with_the_reason_and_other_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,label\n1,3\n").unwrap();
    let sol = path("digits/hidden/test_labels.csv");
    let (code, _, err) = score(&["--metric", "accuracy", "--solution", &sol, "--submission", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing 539 ids"), "{err}");
    let (code, out, _) =
        score(&["--metric", "accuracy", "--solution", &sol, "--submission", bad.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    assert!(out.contains("\"error\":\"invalid submission\""), "{out}");
    let (code, _, err) = score(&["--metric", "f1", "--solution", &sol, "--submission", &sol]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown metric \"f1\""), "{err}");
    let (code, _, err) = score(&["--metric", "accuracy", "--solution", "/nonexistent.csv", "--submission", &sol]);
    assert_eq!(code, 1);
    assert!(err.contains("reading /nonexistent.csv"), "{err}");
    // An undefined metric is the submission's problem: a constant vector for Spearman.
    let constant = dir.path().join("c.csv");
    let labels = std::fs::read_to_string(path("diabetes/hidden/test_labels.csv")).unwrap();
    let text: String = std::iter::once("id,progression".to_owned())
        .chain(labels.lines().skip(1).map(|l| format!("{},1", l.split(',').next().unwrap())))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&constant, text).unwrap();
    let (code, _, err) = score(&[
        "--metric",
        "spearman",
        "--solution",
        &path("diabetes/hidden/test_labels.csv"),
        "--submission",
        constant.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("constant"), "{err}");
}

/// `scripts/score_vs_sklearn.py`: 80 seeded random cases, every metric in
/// turn, from one row to 300,000 (past the sizes read on every core and
/// computed in slices), each scored by `gaic score` and by scikit-learn; a
/// damaged submission must be refused. The script exits 1 and names the case on any
/// difference.
#[test]
#[ignore = "needs python3 with numpy, scipy and scikit-learn; scripts/test.sh runs it"]
fn it_agrees_with_scikit_learn_on_randomised_files() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/score_vs_sklearn.py");
    let out = Command::new("python3")
        .args(["-W", "ignore"])
        .arg(script)
        .args(["--gaic", env!("CARGO_BIN_EXE_gaic"), "--cases", "80", "--seed", "1", "--dir"])
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Every case ran, and both kinds were met: seed 1's 80 cases hold 50
    // valid submissions and 30 damaged ones (the cases are drawn by
    // Python's `random`, whose sequence for a seed does not change).
    assert_eq!(
        stdout.lines().last(),
        Some("80 cases: 50 agreed with scikit-learn, 30 damaged and refused, 0 failed"),
        "{stdout}"
    );
}
