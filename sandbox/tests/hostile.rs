//! Hostile and broken modules, as WAT fixtures: each must end with the right
//! verdict within its budget, and the sandbox must stay healthy (a good model
//! still runs afterwards, on the same sandbox).

use std::sync::OnceLock;
use std::time::Instant;

use gaic_sandbox::{Limits, RunReport, Sandbox, SandboxConfig, Verdict};

fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        Sandbox::new(SandboxConfig { concurrency: 8, max_memory_bytes: 64 << 20, ..Default::default() }).unwrap()
    })
}

fn limits() -> Limits {
    Limits { fuel: 50_000_000, memory_bytes: 4 << 20, wall_ms: 2_000, log_bytes: 1024 }
}

/// A module: `imports` and `body` go inside; the ABI's boilerplate (memory,
/// version, a bump allocator) comes with it unless `raw`.
fn module(imports: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
          {imports}
          (memory (export "memory") 1)
          (global $heap (mut i32) (i32.const 1024))
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param $n i32) (result i32)
            (local $p i32)
            global.get $heap local.set $p
            global.get $heap local.get $n i32.add global.set $heap
            (block $ok
              (loop $grow
                global.get $heap memory.size i32.const 65536 i32.mul i32.le_u br_if $ok
                i32.const 1 memory.grow i32.const -1 i32.eq if unreachable end
                br $grow))
            local.get $p)
          {body})"#
    );
    wat::parse_str(text).unwrap()
}

/// `gaic_predict` copying input column 0 to the single output.
const IDENTITY: &str = r#"
  (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
    (local $r i32)
    (block $done (loop $l
      local.get $r local.get $rows i32.ge_s br_if $done
      local.get $out local.get $r i32.const 4 i32.mul i32.add
      local.get $in local.get $r local.get $cols i32.mul i32.const 4 i32.mul i32.add f32.load
      f32.store
      local.get $r i32.const 1 i32.add local.set $r br $l))
    local.get $rows local.get $oc i32.mul)"#;

/// `gaic_predict` whose body is `code` and returns rows × oc.
fn predict(code: &str) -> String {
    format!(
        r#"(func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
             {code}
             local.get $rows local.get $oc i32.mul)"#
    )
}

fn run(bytes: &[u8]) -> RunReport {
    run_with(bytes, &limits())
}

fn run_with(bytes: &[u8], limits: &Limits) -> RunReport {
    let inputs: Vec<f32> = (0..20).map(|i| i as f32).collect();
    let start = Instant::now();
    let report = sandbox().compile_and_run(bytes, &inputs, 2, 1, limits);
    assert!(start.elapsed().as_millis() < u128::from(limits.wall_ms) + 3_000, "took {:?}", start.elapsed());
    report
}

fn expect(report: &RunReport, verdict: Verdict, needle: &str) {
    assert_eq!(report.verdict, verdict, "{report:?}");
    assert!(report.message.contains(needle), "{:?} should contain {needle:?}", report.message);
    // The process is still healthy: a good model runs right after.
    let good = run(&module("", IDENTITY));
    assert_eq!(good.verdict, Verdict::Ok, "{good:?}");
}

#[test]
fn a_good_model_runs_and_reports_its_costs() {
    let r = run(&module("", IDENTITY));
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert_eq!(r.outputs, (0..10).map(|i| (2 * i) as f32).collect::<Vec<_>>());
    assert!(r.fuel_used > 100, "{}", r.fuel_used);
    assert!(r.peak_memory_bytes >= 65536, "{}", r.peak_memory_bytes);
    // Fuel is deterministic.
    assert_eq!(run(&module("", IDENTITY)).fuel_used, r.fuel_used);
}

#[test]
fn infinite_loops_run_out_of_fuel_wherever_they_are() {
    let spin = "(loop $l br $l)";
    expect(&run(&module("", &predict(spin))), Verdict::OutOfFuel, "compute budget");
    // In the start function: caught before any export is called.
    let start = module("", &format!("{IDENTITY} (func $s {spin}) (start $s)"));
    expect(&run(&start), Verdict::OutOfFuel, "");
    // In gaic_alloc.
    let text = format!(
        r#"(module (memory (export "memory") 1)
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param i32) (result i32) {spin} i32.const 0)
          {IDENTITY})"#
    );
    expect(&run(&wat::parse_str(text).unwrap()), Verdict::OutOfFuel, "");
}

#[test]
fn the_wall_clock_net_catches_what_fuel_cannot() {
    // Plenty of fuel, little time: the epoch deadline ends it.
    let r =
        run_with(&module("", &predict("(loop $l br $l)")), &Limits { fuel: u64::MAX / 2, wall_ms: 200, ..limits() });
    expect(&r, Verdict::Timeout, "wall-clock");
    // Bulk memory ops cost one fuel each however many bytes they touch:
    // a loop of them is stopped by fuel or by the clock, never runs on.
    let fill = "(loop $l i32.const 0 i32.const 7 i32.const 65536 memory.fill br $l)";
    let r = run_with(&module("", &predict(fill)), &Limits { fuel: u64::MAX / 2, wall_ms: 300, ..limits() });
    expect(&r, Verdict::Timeout, "");
    let copy = "(loop $l i32.const 0 i32.const 32768 i32.const 32768 memory.copy br $l)";
    expect(&run(&module("", &predict(copy))), Verdict::OutOfFuel, "");
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    let body = format!(
        "(func $f (param i32) (result i32) local.get 0 i32.const 1 i32.add call $f) {}",
        predict("i32.const 0 call $f drop")
    );
    expect(&run(&module("", &body)), Verdict::StackOverflow, "stack");
}

#[test]
fn memory_bombs_hit_the_memory_limit() {
    let grow = "(loop $l i32.const 16 memory.grow i32.const -1 i32.ne br_if $l) unreachable";
    let r = run(&module("", &predict(grow)));
    expect(&r, Verdict::MemoryLimit, "allows 4194304");
    // A big initial memory is refused before anything runs.
    let text = r#"(module (memory (export "memory") 200)
        (func (export "gaic_abi_version") (result i32) i32.const 1)
        (func (export "gaic_alloc") (param i32) (result i32) i32.const 8)
        (func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32) i32.const 0))"#;
    expect(&run(&wat::parse_str(text).unwrap()), Verdict::MemoryLimit, "initial memory");
    // A table-grow bomb is refused too.
    let table = r#"(table 1 funcref)"#;
    let bomb = predict("(loop $l ref.null func i32.const 1000 table.grow i32.const -1 i32.ne br_if $l) unreachable");
    expect(&run(&module("", &format!("{table} {bomb}"))), Verdict::MemoryLimit, "a table of");
}

#[test]
fn every_trap_kind_is_a_trap_verdict_with_its_kind() {
    for (code, needle) in [
        ("unreachable", "unreachable"),
        ("i32.const 1 i32.const 0 i32.div_s drop", "divide by zero"),
        ("i32.const 0x80000000 i32.const -1 i32.div_s drop", "overflow"),
        ("i32.const -8 i32.load drop", "out of bounds"),
        ("f32.const nan i32.trunc_f32_s drop", "invalid conversion"),
        ("i32.const 0 call_indirect (type $t) drop", "uninitialized element"),
    ] {
        let body = format!("(type $t (func (result i32))) (table 1 funcref) {}", predict(code));
        let r = run(&module("", &body));
        expect(&r, Verdict::Trap, needle);
    }
}

#[test]
fn imports_and_exports_are_checked_before_compiling() {
    let wasi = r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#;
    expect(&run(&module(wasi, IDENTITY)), Verdict::InvalidModule, "only from module \"gaic\"");
    let unknown = r#"(import "gaic" "open_socket" (func (param i32) (result i32)))"#;
    expect(&run(&module(unknown, IDENTITY)), Verdict::InvalidModule, "unknown gaic.open_socket");
    let wrong = r#"(import "gaic" "matmul" (func (param f32) (result i32)))"#;
    expect(&run(&module(wrong, IDENTITY)), Verdict::InvalidModule, "the ABI's type is (i32, i32) -> (i32)");
    // A missing export, a wrongly typed one, an extra one.
    expect(&run(&module("", "")), Verdict::InvalidModule, "gaic_predict is missing");
    let typed = r#"(func (export "gaic_predict") (param i32) (result i32) i32.const 0)"#;
    expect(&run(&module("", typed)), Verdict::InvalidModule, "exports gaic_predict with type");
    let extra = format!(r#"{IDENTITY} (func (export "backdoor"))"#);
    expect(&run(&module("", &extra)), Verdict::InvalidModule, "\"backdoor\"");
    let v2 = wat::parse_str(
        r#"(module (memory (export "memory") 1)
           (func (export "gaic_abi_version") (result i32) i32.const 2)
           (func (export "gaic_alloc") (param i32) (result i32) i32.const 8)
           (func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32) i32.const 0))"#,
    )
    .unwrap();
    expect(&run(&v2), Verdict::InvalidModule, "ABI version 2");
    expect(&run(b"not wasm at all"), Verdict::InvalidModule, "not a WebAssembly");
    expect(&run(b"\0asm\x01\0\0\0\x01\xff"), Verdict::InvalidModule, "not a valid module");
}

#[test]
fn compile_bombs_and_oversized_modules_are_refused_cheaply() {
    let many: String = (0..60_000).map(|i| format!("(func $f{i})")).collect();
    let start = Instant::now();
    expect(&run(&module("", &format!("{IDENTITY} {many}"))), Verdict::InvalidModule, "more than 50000 functions");
    assert!(start.elapsed().as_secs() < 10);
    let big = format!(r#"{IDENTITY} (data (i32.const 0) "{}")"#, "\\00".repeat(17 << 20));
    expect(&run(&module("", &big)), Verdict::InvalidModule, "at most 16777216");
}

#[test]
fn a_log_flood_is_capped() {
    let flood = predict("(loop $l i32.const 0 i32.const 64 call $log br $l)");
    let r = run(&module(r#"(import "gaic" "log" (func $log (param i32 i32)))"#, &flood));
    assert_eq!(r.verdict, Verdict::OutOfFuel, "{r:?}");
    assert!(r.log.len() < 1024 + 100, "{}", r.log.len());
    assert!(r.log.contains("more bytes of log dropped"), "{}", r.log);
}

const TENSOR_IMPORTS: &str = r#"
  (import "gaic" "log" (func $log (param i32 i32)))
  (import "gaic" "tensor_from" (func $from (param i32 i32 i32 i32 i32) (result i32)))
  (import "gaic" "tensor_read" (func $read (param i32 i32 i32) (result i32)))
  (import "gaic" "matmul" (func $matmul (param i32 i32) (result i32)))"#;

#[test]
fn bad_pointers_and_lengths_to_host_ops_are_traps_not_panics() {
    for (code, needle) in [
        ("i32.const -4 i32.const 1000 call $log", "run past the end of memory"),
        ("i32.const 65530 i32.const 1 i32.const 4 i32.const 1 i32.const 1 call $from drop", "run past the end"),
        ("i32.const 0 i32.const 0 i32.const 1 i32.const 1 i32.const 1 call $from drop", "dimension 0 is 0"),
        ("i32.const 0 i32.const -1 i32.const 1 i32.const 1 i32.const 1 call $from drop", "dimension 0 is -1"),
        ("i32.const 0 i32.const 65536 i32.const 65536 i32.const 1 i32.const 1 call $from drop", "at most"),
        ("i32.const 77 i32.const 0 i32.const 1 call $read drop", "no live tensor"),
        (
            "i32.const 0 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from i32.const 2147483647 i32.const 1 call $read drop",
            "run past the end",
        ),
        (
            "i32.const 0 i32.const 2 i32.const 3 i32.const 1 i32.const 1 call $from i32.const 0 i32.const 2 i32.const 3 i32.const 1 i32.const 1 call $from call $matmul drop",
            "do not fit",
        ),
    ] {
        let r = run(&module(TENSOR_IMPORTS, &predict(code)));
        expect(&r, Verdict::Trap, needle);
    }
}

#[test]
fn host_op_abuse_is_charged_and_capped() {
    // A [100,100] × [100,100] matmul costs 2·10⁶ fuel: with 10⁶ left it is
    // refused before any work is done.
    let square = "i32.const 0 i32.const 100 i32.const 100 i32.const 1 i32.const 1 call $from";
    let code = format!("{square} {square} call $matmul drop");
    let r = run_with(&module(TENSOR_IMPORTS, &predict(&code)), &Limits { fuel: 1_000_000, ..limits() });
    expect(&r, Verdict::OutOfFuel, "host op matmul");
    // The same op is charged the same on every run.
    let with_fuel = run_with(&module(TENSOR_IMPORTS, &predict(&code)), &Limits { fuel: 10_000_000, ..limits() });
    assert_eq!(with_fuel.verdict, Verdict::Ok, "{with_fuel:?}");
    assert!(with_fuel.fuel_used > 2_000_000, "{}", with_fuel.fuel_used);
    // Hoarding host tensors hits the memory cap.
    let hoard = "(loop $l i32.const 0 i32.const 100 i32.const 100 i32.const 1 i32.const 1 call $from drop br $l)";
    let r = run_with(&module(TENSOR_IMPORTS, &predict(hoard)), &Limits { memory_bytes: 4 << 20, ..limits() });
    expect(&r, Verdict::MemoryLimit, "host tensors");
}

#[test]
fn outputs_must_be_finite_and_complete() {
    let nan = predict("local.get $out f32.const nan f32.store");
    expect(&run(&module("", &nan)), Verdict::InvalidOutput, "row 0 (0-based), column 0 is NaN");
    let inf = predict("local.get $out i32.const 4 i32.add f32.const inf f32.store");
    expect(&run(&module("", &inf)), Verdict::InvalidOutput, "row 1");
    let short = r#"(func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32) i32.const 3)"#;
    expect(&run(&module("", short)), Verdict::InvalidOutput, "wrote 3 values for 10 rows");
    let err = r#"(func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32) i32.const -7)"#;
    expect(&run(&module("", err)), Verdict::Trap, "error code -7");
}

#[test]
fn a_second_run_sees_fresh_zeroed_memory() {
    // Each call writes a marker at 60000 and outputs what was there before.
    let code = r#"
      local.get $out i32.const 60000 f32.load f32.store
      (block $d (loop $l
        local.get $rows i32.const 1 i32.le_s br_if $d
        local.get $rows i32.const 1 i32.sub local.set $rows
        local.get $out local.get $rows i32.const 4 i32.mul i32.add f32.const 0 f32.store br $l))
      i32.const 60000 f32.const 42 f32.store
      local.get $oc local.set $rows"#;
    let m = module(
        "",
        &format!(
            r#"(func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
             (local $n i32) local.get $rows local.set $n {code} local.get $n local.get $oc i32.mul)"#
        ),
    );
    let first = run(&m);
    assert_eq!(first.verdict, Verdict::Ok, "{first:?}");
    assert_eq!(first.outputs[0], 0.0);
    let second = run(&m);
    assert_eq!(second.outputs[0], 0.0, "the second run must not see the first run's marker");
}
