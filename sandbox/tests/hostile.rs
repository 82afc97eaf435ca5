//! Hostile and broken modules, as WAT fixtures: each must end with the right
//! verdict within its budget, and the sandbox must stay healthy (a good model
//! still runs afterwards, on the same sandbox).

use std::process::Command;
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
    // A function with locals to the engine's limit: refused by the
    // pre-check (the NaN rewriting needs three more), with the reason.
    let locals = format!(
        "{IDENTITY} (func (local f32 f32 {}) f32.const 0 f32.const 0 f32.mul local.set 0)",
        "f64 ".repeat(49_998)
    );
    expect(&run(&module("", &locals)), Verdict::InvalidModule, "has 50000 locals (parameters included); at most 49997");
    let at_the_limit = format!(
        "{IDENTITY} (func (local f32 f32 {}) i32.const 0 f32.const 0 f32.const 0 f32.mul f32.store)",
        "f64 ".repeat(49_995)
    );
    expect(&run(&module("", &at_the_limit)), Verdict::Ok, "");
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
        ("i32.const 0 i32.const 65536 i32.const 65536 i32.const 1 i32.const 1 call $from drop", "run past the end"),
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

/// Every host op, each fed so that its output alone would blow the 64 MiB
/// cap (or the per-tensor limit), or called in a loop that hoards outputs.
/// `(name, body of gaic_predict)`; the module has 64 pages (4 MiB) of memory,
/// and `$t` is a 1M-value tensor made from it.
const BOMBS: &[(&str, &str)] = &[
    // [20000,1] × [1,20000]: 4·10⁸ values, 1.6 GB.
    (
        "matmul",
        "i32.const 0 i32.const 20000 i32.const 1 i32.const 1 i32.const 1 call $from
         i32.const 0 i32.const 1 i32.const 20000 i32.const 1 i32.const 1 call $from call $matmul drop",
    ),
    // [8192,1] × [1,8192]: exactly the per-tensor limit, 256 MiB.
    (
        "matmul_at_limit",
        "i32.const 0 i32.const 8192 i32.const 1 i32.const 1 i32.const 1 call $from
         i32.const 0 i32.const 1 i32.const 8192 i32.const 1 i32.const 1 call $from call $matmul drop",
    ),
    // A 1024² image through 64 1×1 filters: 256 MiB of output.
    (
        "conv2d",
        "i32.const 0 i32.const 1 i32.const 1 i32.const 1024 i32.const 1024 call $from
         i32.const 0 i32.const 64 i32.const 1 i32.const 1 i32.const 1 call $from
         i32.const 1 i32.const 0 call $conv drop",
    ),
    // Padding grows a 1×1 image by 64 on each side, 4096 filters: 268M values.
    (
        "conv2d_padded",
        "i32.const 0 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from
         i32.const 0 i32.const 4096 i32.const 1 i32.const 1 i32.const 1 call $from
         i32.const 1 i32.const 64 call $conv drop",
    ),
    (
        "tensor_from",
        "(loop $l i32.const 0 i32.const 1024 i32.const 1024 i32.const 1 i32.const 1 call $from drop br $l)",
    ),
    ("add_row", "$T (loop $l local.get $t local.get $row call $add_row drop br $l)"),
    ("relu", "$T (loop $l local.get $t call $relu drop br $l)"),
    ("sigmoid", "$T (loop $l local.get $t call $sigmoid drop br $l)"),
    ("tanh", "$T (loop $l local.get $t call $tanh drop br $l)"),
    ("softmax_rows", "$T (loop $l local.get $t call $softmax drop br $l)"),
    // One value per row: a [1M, 1] tensor gives 1M outputs a call.
    (
        "argmax_rows",
        "i32.const 0 i32.const 1048576 i32.const 1 i32.const 1 i32.const 1 call $from local.set $t
         (loop $l local.get $t call $argmax drop br $l)",
    ),
    // 1×1 windows of a 1024² image: 1M outputs a call.
    (
        "maxpool2d",
        "i32.const 0 i32.const 1 i32.const 1 i32.const 1024 i32.const 1024 call $from local.set $t
         (loop $l local.get $t i32.const 1 i32.const 1 call $pool drop br $l)",
    ),
];

const ALL_IMPORTS: &str = r#"
  (import "gaic" "log" (func $log (param i32 i32)))
  (import "gaic" "tensor_from" (func $from (param i32 i32 i32 i32 i32) (result i32)))
  (import "gaic" "tensor_dim" (func $dim (param i32 i32) (result i32)))
  (import "gaic" "tensor_read" (func $read (param i32 i32 i32) (result i32)))
  (import "gaic" "tensor_drop" (func $drop (param i32)))
  (import "gaic" "matmul" (func $matmul (param i32 i32) (result i32)))
  (import "gaic" "add_row" (func $add_row (param i32 i32) (result i32)))
  (import "gaic" "relu" (func $relu (param i32) (result i32)))
  (import "gaic" "sigmoid" (func $sigmoid (param i32) (result i32)))
  (import "gaic" "tanh" (func $tanh (param i32) (result i32)))
  (import "gaic" "softmax_rows" (func $softmax (param i32) (result i32)))
  (import "gaic" "argmax_rows" (func $argmax (param i32) (result i32)))
  (import "gaic" "conv2d" (func $conv (param i32 i32 i32 i32) (result i32)))
  (import "gaic" "maxpool2d" (func $pool (param i32 i32 i32) (result i32)))"#;

/// A module with every import, `pages` of memory and `code` as the body of
/// `gaic_predict` (locals `$t` and `$row` available; `$T` in `code` makes
/// `$t` a [1024,1024] tensor and `$row` a [1,1024] one).
fn bomb_module(code: &str, pages: u32) -> Vec<u8> {
    let make = "i32.const 0 i32.const 1024 i32.const 1024 i32.const 1 i32.const 1 call $from local.set $t
                i32.const 0 i32.const 1 i32.const 1024 i32.const 1 i32.const 1 call $from local.set $row";
    let code = code.replace("$T", make);
    let text = format!(
        r#"(module {ALL_IMPORTS}
          (memory (export "memory") {pages})
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param i32) (result i32) i32.const 8)
          (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
            (local $t i32) (local $row i32)
            {code}
            local.get $rows local.get $oc i32.mul))"#
    );
    wat::parse_str(text).unwrap()
}

/// This process's peak resident memory, bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Runs one bomb (named by GAIC_BOMB) and prints the verdict and the peak
/// RSS: started in a fresh process by the test below, so that the peak is
/// that bomb's alone.
#[test]
#[ignore = "a child process of host_op_bombs_never_allocate_past_the_cap, which runs it once per bomb"]
fn bomb_child() {
    let name = std::env::var("GAIC_BOMB").expect("GAIC_BOMB names the bomb");
    let (_, code) = BOMBS.iter().find(|(n, _)| *n == name).expect("a known bomb");
    let sandbox =
        Sandbox::new(SandboxConfig { concurrency: 1, max_memory_bytes: 64 << 20, ..Default::default() }).unwrap();
    // A large budget, as a task may grant: only the reservation stops it.
    let limits = Limits { fuel: 2_000_000_000, memory_bytes: 64 << 20, wall_ms: 20_000, log_bytes: 1024 };
    let r = sandbox.compile_and_run(&bomb_module(code, 64), &[0.0; 2], 2, 1, &limits);
    println!("BOMB verdict={} rss={} message={}", r.verdict, peak_rss().unwrap_or(0), r.message);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads the peak RSS from /proc/self/status (Linux)")]
fn host_op_bombs_never_allocate_past_the_cap() {
    assert!(peak_rss().is_some(), "/proc/self/status has no VmHWM line");
    let exe = std::env::current_exe().unwrap();
    for (name, _) in BOMBS {
        let out = Command::new(&exe)
            .args(["bomb_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("GAIC_BOMB", name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: the child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout
            .lines()
            .find_map(|l| l.find("BOMB verdict=").map(|i| &l[i..]))
            .unwrap_or_else(|| panic!("{name}: {stdout}"));
        assert!(line.contains("verdict=memory_limit"), "{name}: {line}");
        let rss: u64 = line.split("rss=").nth(1).and_then(|v| v.split(' ').next()).unwrap().parse().unwrap();
        assert!(rss > 0 && rss < (64 + 64) << 20, "{name}: peak RSS {} MiB for a 64 MiB cap", rss >> 20);
        println!("{name}: peak RSS {} MiB; {line}", rss >> 20);
    }
}

#[test]
fn a_loop_of_cheap_host_calls_runs_out_of_fuel_not_time() {
    // Plenty of wall clock: only fuel can stop these loops, deterministically.
    let generous = Limits { fuel: 20_000_000, wall_ms: 60_000, ..limits() };
    let dim = "i32.const 0 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from local.set $t
               (loop $l local.get $t i32.const 0 call $dim drop br $l)";
    let churn = "(loop $l i32.const 0 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from call $drop br $l)";
    for code in [dim, churn] {
        let m = bomb_module(code, 1);
        let first = run_with(&m, &generous);
        expect(&first, Verdict::OutOfFuel, "");
        assert!(first.wall_ms < 10_000, "{first:?}");
        // The same fuel on every run.
        assert_eq!(run_with(&m, &generous).fuel_used, first.fuel_used);
    }
    // Dropping a handle twice is a trap, not a crash.
    let twice = "i32.const 0 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from local.set $t
                 local.get $t call $drop local.get $t call $drop";
    expect(&run(&bomb_module(twice, 1)), Verdict::Trap, "no live tensor with handle 0");
}

#[test]
fn long_host_ops_stop_near_the_wall_clock() {
    // A 256-channel 128² image through a 33×33 kernel: ~9 GFLOP, seconds of
    // work on a CPU, with a small output; and a 2048² matmul.
    let conv = "i32.const 0 i32.const 1 i32.const 256 i32.const 128 i32.const 128 call $from
                i32.const 0 i32.const 1 i32.const 256 i32.const 33 i32.const 33 call $from
                i32.const 1 i32.const 16 call $conv drop";
    let matmul = "i32.const 0 i32.const 2048 i32.const 2048 i32.const 1 i32.const 1 call $from local.set $t
                  local.get $t local.get $t call $matmul drop
                  local.get $t local.get $t call $matmul drop
                  local.get $t local.get $t call $matmul drop";
    let s = Sandbox::new(SandboxConfig { concurrency: 1, max_memory_bytes: 256 << 20, ..Default::default() }).unwrap();
    for (name, code, wall_ms) in [("conv2d", conv, 300), ("matmul", matmul, 150)] {
        let m = s.compile(&bomb_module(code, 256), 256 << 20).unwrap();
        let limits = Limits { fuel: u64::MAX / 2, memory_bytes: 256 << 20, wall_ms, log_bytes: 1024 };
        let r = s.run(&m, &[0.0; 2], 2, 1, &limits);
        assert_eq!(r.verdict, Verdict::Timeout, "{name}: {r:?}");
        assert!(r.message.contains(&format!("host op {name}")), "{name}: {}", r.message);
        assert!(r.wall_ms <= wall_ms + 100, "{name}: stopped after {} ms for a {wall_ms} ms limit", r.wall_ms);
    }
}

#[test]
fn tables_imports_and_allocators_that_break_the_abi_are_refused() {
    // A huge initial table is refused before compiling.
    let table = format!("(table 1000000 funcref) {IDENTITY}");
    expect(&run(&module("", &table)), Verdict::MemoryLimit, "initial table has 1000000 elements");
    // Imports of the right name with the wrong signature or kind.
    let log_result = r#"(import "gaic" "log" (func (param i32 i32) (result i32)))"#;
    expect(&run(&module(log_result, IDENTITY)), Verdict::InvalidModule, "imports gaic.log with type");
    let mem = r#"(import "gaic" "tensor_from" (global i32))"#;
    expect(&run(&module(mem, IDENTITY)), Verdict::InvalidModule, "as a non-function");
    // gaic_alloc returning a pointer that is null, past the memory or
    // wrapping around it.
    for ptr in ["0", "65535", "-4", "2147483647"] {
        let text = format!(
            r#"(module (memory (export "memory") 1)
              (func (export "gaic_abi_version") (result i32) i32.const 1)
              (func (export "gaic_alloc") (param i32) (result i32) i32.const {ptr})
              {IDENTITY})"#
        );
        expect(&run(&wat::parse_str(text).unwrap()), Verdict::Trap, "gaic_alloc returned an unusable");
    }
    // Proposals beyond WebAssembly 2.0 (tail calls here) are not accepted.
    let tail = format!("(func $t (result i32) i32.const 0) {}", predict("return_call $t"));
    expect(&run(&module("", &tail)), Verdict::InvalidModule, "not a valid module");
}

#[test]
fn two_models_in_turn_see_nothing_of_each_other() {
    // The first leaves host tensors alive and a marker in its memory.
    let leave = bomb_module(
        "i32.const 100 f32.const 42 f32.store
         i32.const 100 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from drop
         i32.const 100 i32.const 1 i32.const 1 i32.const 1 i32.const 1 call $from drop
         local.get $out f32.const 1 f32.store",
        1,
    );
    let r = run(&leave);
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    // The second looks for them: no tensor 0 or 1, and zeroed memory.
    let peek = bomb_module("local.get $out i32.const 100 f32.load f32.store", 1);
    let r = run(&peek);
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert_eq!(r.outputs[0], 0.0, "the marker of the previous model leaked");
    for h in [0, 1] {
        let read = bomb_module(&format!("i32.const {h} i32.const 200 i32.const 1 call $read drop"), 1);
        expect(&run(&read), Verdict::Trap, &format!("no live tensor with handle {h}"));
    }
}

#[test]
fn host_ops_cost_the_same_fuel_on_every_run() {
    let code = "$T local.get $t local.get $row call $add_row call $relu call $softmax call $argmax drop
                i32.const 0 i32.const 64 i32.const 64 i32.const 1 i32.const 1 call $from local.set $t
                local.get $t local.get $t call $matmul drop";
    let m = bomb_module(code, 64);
    let lim = Limits { fuel: 200_000_000, memory_bytes: 64 << 20, ..limits() };
    let s = Sandbox::new(SandboxConfig {
        concurrency: 2,
        max_memory_bytes: 64 << 20,
        device: gaic_sandbox::DeviceChoice::Cpu,
        ..Default::default()
    })
    .unwrap();
    let runs: Vec<_> = (0..3).map(|_| s.compile_and_run(&m, &[0.0; 2], 2, 1, &lim)).collect();
    assert_eq!(runs[0].verdict, Verdict::Ok, "{:?}", runs[0]);
    assert!(
        runs.iter().all(|r| r.fuel_used == runs[0].fuel_used),
        "{:?}",
        runs.iter().map(|r| r.fuel_used).collect::<Vec<_>>()
    );
    // The fee per host call is part of it: 12 calls at least.
    assert!(runs[0].fuel_used > 12 * gaic_sandbox::HOST_CALL_FEE);
    assert_eq!(runs[0].device, "cpu");
}

#[test]
fn bulk_memory_costs_fuel_per_byte_as_abi_md_says() {
    // wasmtime 48 charges memory.fill / memory.copy one unit plus one per
    // byte: a 60,000-byte fill costs 59,999 more than a 1-byte one.
    let fill = |n: u32| module("", &predict(&format!("i32.const 0 i32.const 7 i32.const {n} memory.fill")));
    let small = run(&fill(1));
    let big = run(&fill(60_000));
    assert_eq!(small.verdict, Verdict::Ok, "{small:?}");
    assert_eq!(big.fuel_used - small.fuel_used, 59_999, "{} vs {}", big.fuel_used, small.fuel_used);
    let copy = |n: u32| module("", &predict(&format!("i32.const 0 i32.const 100 i32.const {n} memory.copy")));
    assert_eq!(run(&copy(30_001)).fuel_used - run(&copy(1)).fuel_used, 30_000);
}

#[test]
fn an_exhausted_instance_pool_is_a_platform_error_not_the_models_fault() {
    // A sandbox sized for one run at a time (a pool of two instances) asked
    // for four at once: the runs that find no slot are the platform's
    // failure, to be retried, never a `trap` charged to the model.
    let s = Sandbox::new(SandboxConfig { concurrency: 1, max_memory_bytes: 4 << 20, ..Default::default() }).unwrap();
    let m = s.compile(&module("", &predict("(loop $l br $l)")), 4 << 20).unwrap();
    let limits = Limits { fuel: u64::MAX / 2, wall_ms: 400, ..limits() };
    let barrier = std::sync::Barrier::new(4);
    let reports: Vec<RunReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    s.run(&m, &[0.0; 2], 2, 1, &limits)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let refused: Vec<_> = reports.iter().filter(|r| r.platform_error.is_some()).collect();
    assert!(!refused.is_empty(), "{reports:?}");
    for r in &refused {
        assert!(r.platform_error.as_deref().unwrap().contains("instantiating"), "{r:?}");
    }
    for r in reports.iter().filter(|r| r.platform_error.is_none()) {
        assert_eq!(r.verdict, Verdict::Timeout, "{r:?}");
    }
}

#[test]
fn toolchain_start_exports_are_tolerated_and_initialize_runs_first() {
    // `_initialize` (a reactor's start) sets what `gaic_predict` writes;
    // `__wasm_call_ctors` is tolerated and never called (it would trap).
    let body = r#"
      (global $ready (mut f32) (f32.const 0))
      (func (export "_initialize") f32.const 7 global.set $ready)
      (func (export "__wasm_call_ctors") unreachable)
      (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
        (local $r i32)
        (block $done (loop $l
          local.get $r local.get $rows i32.ge_s br_if $done
          local.get $out local.get $r i32.const 4 i32.mul i32.add global.get $ready f32.store
          local.get $r i32.const 1 i32.add local.set $r br $l))
        local.get $rows local.get $oc i32.mul)"#;
    let report = run(&module("", body));
    assert_eq!(report.verdict, Verdict::Ok, "{report:?}");
    assert!(report.outputs.iter().all(|v| *v == 7.0), "{:?}", report.outputs);
    // A wrongly typed one is still refused.
    let typed = format!(r#"{IDENTITY} (func (export "_initialize") (param i32))"#);
    expect(&run(&module("", &typed)), Verdict::InvalidModule, "exports _initialize with type");
}
