//! Bounded compilation and the authenticated artifact cache.

use std::time::{Duration, Instant};

use gaic_sandbox::{Compiler, Limits, Sandbox, SandboxConfig, Verdict};

const MODEL: &str = r#"(module (memory (export "memory") 1) (global $h (mut i32) (i32.const 1024))
  (func (export "gaic_abi_version") (result i32) i32.const 1)
  (func (export "gaic_alloc") (param $n i32) (result i32) global.get $h global.get $h local.get $n i32.add global.set $h)
  (func (export "gaic_predict") (param $in i32) (param $rows i32) (param i32) (param $out i32) (param i32) (result i32)
    local.get $out local.get $in f32.load f32.store local.get $rows))"#;

fn sandbox(compiler: Compiler, cache_dir: Option<std::path::PathBuf>) -> Sandbox {
    Sandbox::new(SandboxConfig {
        concurrency: 1,
        max_memory_bytes: 16 << 20,
        compiler,
        cache_dir,
        ..Default::default()
    })
    .unwrap()
}

fn run(s: &Sandbox) -> gaic_sandbox::RunReport {
    s.compile_and_run(
        &wat::parse_str(MODEL).unwrap(),
        &[3.0],
        1,
        1,
        &Limits { memory_bytes: 1 << 20, ..Limits::default() },
    )
}

#[test]
fn a_compiler_that_hangs_is_killed_at_its_deadline() {
    let s = sandbox(
        Compiler::Subprocess {
            program: "sh".into(),
            args: vec!["-c".into(), "sleep 30".into(), "sh".into()],
            timeout: Duration::from_millis(500),
            memory_bytes: 1 << 30,
        },
        None,
    );
    let start = Instant::now();
    let r = run(&s);
    assert_eq!(r.verdict, Verdict::InvalidModule, "{r:?}");
    assert!(r.message.contains("longer than"), "{}", r.message);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_compiler_that_returns_garbage_is_never_trusted_blindly() {
    // A "compiler" that ignores its input and prints something else.
    let s = sandbox(
        Compiler::Subprocess {
            program: "sh".into(),
            args: vec!["-c".into(), "cat >/dev/null; echo not an artifact".into(), "sh".into()],
            timeout: Duration::from_secs(5),
            memory_bytes: 1 << 30,
        },
        None,
    );
    let r = run(&s);
    assert_eq!(r.verdict, Verdict::InvalidModule, "{r:?}");
    assert!(r.message.contains("does not load"), "{}", r.message);
}

#[test]
fn cached_artifacts_are_reused_and_a_tampered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = sandbox(Compiler::InProcess, Some(dir.path().to_owned()));
    assert_eq!(run(&first).outputs, [3.0]);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let key = std::fs::metadata(dir.path().join("hmac.key")).unwrap();
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777, 0o600);

    // A new process (sandbox) reuses the artifact.
    let second = sandbox(Compiler::InProcess, Some(dir.path().to_owned()));
    assert_eq!(run(&second).outputs, [3.0]);

    // Flip one byte of the artifact: the tag no longer verifies, so it is
    // deleted and the module recompiled, never deserialized.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&files[0], &bytes).unwrap();
    let third = sandbox(Compiler::InProcess, Some(dir.path().to_owned()));
    let r = run(&third);
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert_ne!(std::fs::read(&files[0]).unwrap(), bytes, "the tampered file was replaced");
}
