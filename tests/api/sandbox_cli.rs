//! `gaic sandbox run`: the local judge of models, its report, exit codes and
//! the predictions CSV it writes.

use std::process::Command;

use crate::helpers::tasks_dir;
use crate::models::example;

fn gaic(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gaic")).args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// `gaic sandbox run MODEL --inputs INPUTS` with `flags`.
fn run_model(model: &std::path::Path, inputs: &std::path::Path, flags: &[&str]) -> (i32, String, String) {
    let mut args = vec!["sandbox", "run", model.to_str().unwrap(), "--inputs", inputs.to_str().unwrap()];
    args.extend_from_slice(flags);
    gaic(&args)
}

#[test]
fn a_good_model_runs_locally_and_writes_a_csv_ready_to_submit() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("digits_mlp.wasm");
    std::fs::write(&model, example("digits_mlp")).unwrap();
    let preds = dir.path().join("preds.csv");
    let inputs = tasks_dir().join("digits/public/test_inputs.csv");
    let (code, out, err) = run_model(
        &model,
        &inputs,
        &[
            "--metric",
            "accuracy",
            "--target",
            "label",
            "--classes",
            "0,1,2,3,4,5,6,7,8,9",
            "--output",
            preds.to_str().unwrap(),
            "--json",
        ],
    );
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
    let (code, out, _) = run_model(&spin, &inputs, &["--fuel", "1000000"]);
    assert_eq!(code, 2);
    assert!(out.contains("verdict:     out_of_fuel") && out.contains("fuel used:   1000000 of 1000000"), "{out}");
    let (code, _, err) = run_model(std::path::Path::new("/nonexistent.wasm"), &inputs, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("reading /nonexistent.wasm"), "{err}");
    let (code, _, err) = run_model(&spin, &inputs, &["--device", "tpu"]);
    assert_eq!(code, 1);
    assert!(err.contains("device must be auto, cpu or cuda"), "{err}");
}

/// The guest SDK's allocator gives back what a batch frees: the shapes CNN
/// copies each batch of 256 images into a scratch `Vec`, and a run over
/// eight batches peaks at the memory of a run over one (a heap that never
/// reused memory grew by 1 MiB a batch).
#[test]
fn a_models_memory_does_not_grow_with_the_number_of_batches() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("shapes_cnn.wasm");
    std::fs::write(&model, example("shapes_cnn")).unwrap();
    let peak = |rows: usize| {
        let inputs = dir.path().join(format!("inputs-{rows}.csv"));
        let header: Vec<String> = (0..1024).map(|i| format!("px_{}_{}", i / 32, i % 32)).collect();
        let mut csv = format!("id,{}\n", header.join(","));
        for r in 0..rows {
            let pixels: Vec<String> = (0..1024).map(|i| ((i * 31 + r * 7) % 256).to_string()).collect();
            csv.push_str(&format!("{r},{}\n", pixels.join(",")));
        }
        std::fs::write(&inputs, csv).unwrap();
        let (code, out, err) = run_model(
            &model,
            &inputs,
            &[
                "--out-cols",
                "4",
                "--memory-mib",
                "256",
                "--fuel",
                "40000000000",
                "--timeout-ms",
                "120000",
                "--device",
                "cpu",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{out} {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["peak_memory_bytes"].as_u64().unwrap()
    };
    let (one, eight) = (peak(256), peak(2048));
    assert!(eight <= one + (64 << 10), "one batch peaks at {one} bytes, eight at {eight}");
}
