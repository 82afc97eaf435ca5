//! `gaic sandbox run`: the local judge of models, its report, exit codes and
//! the predictions CSV it writes.

use std::process::Command;

use crate::helpers::tasks_dir;
use crate::models::example;

fn gaic(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gaic")).args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_good_model_runs_locally_and_writes_a_csv_ready_to_submit() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("digits_mlp.wasm");
    std::fs::write(&model, example("digits_mlp")).unwrap();
    let preds = dir.path().join("preds.csv");
    let inputs = tasks_dir().join("digits/public/test_inputs.csv");
    let (code, out, err) = gaic(&[
        "sandbox",
        "run",
        model.to_str().unwrap(),
        "--inputs",
        inputs.to_str().unwrap(),
        "--metric",
        "accuracy",
        "--target",
        "label",
        "--classes",
        "0,1,2,3,4,5,6,7,8,9",
        "--output",
        preds.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["rows"], 539);
    assert!(v["fuel_used"].as_u64().unwrap() > 100_000);
    // The CSV scores like a submission, against the hidden labels.
    let labels = tasks_dir().join("digits/hidden/test_labels.csv");
    let (code, out, _) = gaic(&[
        "score",
        "--metric",
        "accuracy",
        "--solution",
        labels.to_str().unwrap(),
        "--submission",
        preds.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.lines().last().unwrap().parse::<f64>().unwrap() > 0.9, "{out}");
}

#[test]
fn other_verdicts_exit_2_and_tool_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let spin = dir.path().join("spin.wat");
    std::fs::write(&spin, crate::helpers::SPIN_WAT).unwrap();
    let inputs = tasks_dir().join("diabetes/public/test_inputs.csv");
    let (code, out, _) =
        gaic(&["sandbox", "run", spin.to_str().unwrap(), "--inputs", inputs.to_str().unwrap(), "--fuel", "1000000"]);
    assert_eq!(code, 2);
    assert!(out.contains("verdict:     out_of_fuel") && out.contains("fuel used:   1000000 of 1000000"), "{out}");
    let (code, _, err) = gaic(&["sandbox", "run", "/nonexistent.wasm", "--inputs", inputs.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("reading /nonexistent.wasm"), "{err}");
    let (code, _, err) =
        gaic(&["sandbox", "run", spin.to_str().unwrap(), "--inputs", inputs.to_str().unwrap(), "--device", "tpu"]);
    assert_eq!(code, 1);
    assert!(err.contains("device must be auto, cpu or cuda"), "{err}");
}
