//! Sandbox costs, measured:
//!
//! - `instantiate_and_call`: a fresh store, instantiation from the pooling
//!   allocator and the ABI calls for one row (the per-submission start-up).
//! - `digits_mlp`: the digits example over the 539 test rows, against the
//!   same MLP computed natively with the same CPU backend.
//! - `matmul_512`: a 512×512 by 512×512 product in plain wasm arithmetic
//!   (examples/bench-kernels, a 4 × 8 tile of sums kept in registers) against the very same
//!   Rust code native.
//! - `fuel_metering`: that wasm product on a bare engine, with fuel metering
//!   on and off, and its NaNs canonicalised by the engine after every float
//!   operation, by the module rewritten where they can be seen (as the
//!   sandbox runs), or not at all.
//!
//! - `nan_rewriting`: the rewriting that canonicalises NaNs where their bits
//!   can be seen (`gaic_sandbox::nan`), over an example model and over a
//!   2.4 MB function built to need every pass of the analysis.
//!
//!     scripts/build-examples.sh && cargo bench -p gaic-sandbox

extern crate alloc;

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use gaic_sandbox::tensor::{CpuBackend, Deadline};
use gaic_sandbox::{Limits, Sandbox, SandboxConfig, Verdict};

mod kernels {
    include!("../guest/examples/bench-kernels/src/kernels.rs");
}

fn guest(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/target/wasm32-unknown-unknown/release").join(name);
    std::fs::read(&path).unwrap_or_else(|_| panic!("{} missing: run scripts/build-examples.sh first", path.display()))
}

const IDENTITY: &str = r#"(module (memory (export "memory") 1) (global $h (mut i32) (i32.const 1024))
  (func (export "gaic_abi_version") (result i32) i32.const 1)
  (func (export "gaic_alloc") (param $n i32) (result i32) global.get $h global.get $h local.get $n i32.add global.set $h)
  (func (export "gaic_predict") (param $in i32) (param $rows i32) (param i32) (param $out i32) (param i32) (result i32)
    local.get $out local.get $in f32.load f32.store local.get $rows))"#;

fn digits_inputs() -> Vec<f32> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/digits/public/test_inputs.csv"))
            .unwrap();
    text.lines()
        .skip(1)
        .flat_map(|l| l.split(',').skip(1).map(|v| v.parse::<f32>().unwrap()).collect::<Vec<_>>())
        .collect()
}

/// The digits MLP natively, as the guest computes it: `w` holds the first
/// layer already divided by 16 (the pixels' scale, folded in once).
fn native_mlp(x: &[f32], w: &[f32], rows: usize) -> Vec<f32> {
    let (w1, rest) = w.split_at(64 * 32);
    let (b1, rest) = rest.split_at(32);
    let (w2, b2) = rest.split_at(32 * 10);
    let mut h = CpuBackend.matmul(x, w1, rows, 64, 32, &Deadline::NONE).expect("no deadline");
    for (i, v) in h.iter_mut().enumerate() {
        *v = (*v + b1[i % 32]).max(0.0);
    }
    let mut y = CpuBackend.matmul(&h, w2, rows, 32, 10, &Deadline::NONE).expect("no deadline");
    for (i, v) in y.iter_mut().enumerate() {
        *v += b2[i % 10];
    }
    y
}

fn bench(c: &mut Criterion) {
    let sandbox =
        Sandbox::new(SandboxConfig { concurrency: 2, max_memory_bytes: 256 << 20, ..Default::default() }).unwrap();
    let limits = Limits { fuel: 50_000_000_000, memory_bytes: 256 << 20, wall_ms: 60_000, log_bytes: 1024 };

    let identity = sandbox.compile(&wat::parse_str(IDENTITY).unwrap(), limits.memory_bytes).unwrap();
    c.bench_function("instantiate_and_call", |b| {
        b.iter(|| {
            let r = sandbox.run(&identity, black_box(&[1.0, 2.0]), 2, 1, &limits);
            assert_eq!(r.verdict, Verdict::Ok);
        })
    });

    let inputs = digits_inputs();
    let rows = inputs.len() / 64;
    let mlp = sandbox.compile(&guest("digits_mlp.wasm"), limits.memory_bytes).unwrap();
    let mut weights: Vec<f32> =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/examples/digits-mlp/weights.bin"))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
    for w in &mut weights[..64 * 32] {
        *w /= 16.0;
    }
    let mut g = c.benchmark_group("digits_mlp_539_rows");
    g.bench_function("wasm_with_host_matmul", |b| {
        b.iter(|| assert_eq!(sandbox.run(&mlp, black_box(&inputs), 64, 10, &limits).verdict, Verdict::Ok))
    });
    g.bench_function("native", |b| b.iter(|| native_mlp(black_box(&inputs), &weights, rows)));
    g.finish();

    let n = 512;
    let x = kernels::weights(n);
    let w = kernels::weights(n);
    let mm = sandbox.compile(&guest("bench_kernels.wasm"), limits.memory_bytes).unwrap();
    {
        // The two sides compute the very same thing, to the bit.
        let report = sandbox.run(&mm, &x, n, n, &limits);
        let mut out = vec![0.0; n * n];
        kernels::matmul(&x, &w, n, n, n, &mut out);
        assert_eq!(report.verdict, Verdict::Ok, "{}", report.message);
        assert!(report.outputs.iter().zip(&out).all(|(a, b)| a.to_bits() == b.to_bits()), "wasm and native differ");
    }
    let mut g = c.benchmark_group("matmul_512");
    g.sample_size(10);
    g.bench_function("wasm", |b| {
        b.iter(|| assert_eq!(sandbox.run(&mm, black_box(&x), n, n, &limits).verdict, Verdict::Ok))
    });
    g.bench_function("native", |b| {
        let mut out = vec![0.0; n * n];
        b.iter(|| kernels::matmul(black_box(&x), &w, n, n, n, &mut out))
    });
    g.finish();

    // Fuel metering on and off, on a bare engine (the sandbox always meters).
    let bytes = guest("bench_kernels.wasm");
    let mut g = c.benchmark_group("fuel_metering_matmul_512");
    g.sample_size(10);
    let rewritten = gaic_sandbox::nan::canonicalise_nans(&bytes).unwrap();
    // NaNs canonicalised by the engine after every float operation, by the
    // module rewritten where they can be seen (as the sandbox runs), or not
    // at all.
    for (fuel, nans) in [
        (true, "engine"),
        (false, "engine"),
        (true, "rewritten"),
        (true, "not_canonicalised"),
        (false, "not_canonicalised"),
    ] {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(fuel).cranelift_nan_canonicalization(nans == "engine");
        let engine = wasmtime::Engine::new(&config).unwrap();
        let module = wasmtime::Module::new(&engine, if nans == "rewritten" { &rewritten } else { &bytes }).unwrap();
        let linker = wasmtime::Linker::new(&engine);
        let name = format!("{}_nan_{nans}", if fuel { "metered" } else { "unmetered" });
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut store = wasmtime::Store::new(&engine, ());
                if fuel {
                    store.set_fuel(u64::MAX / 2).unwrap();
                }
                let inst = linker.instantiate(&mut store, &module).unwrap();
                let init = inst.get_typed_func::<(), i32>(&mut store, "gaic_init").unwrap();
                init.call(&mut store, ()).unwrap();
                let alloc = inst.get_typed_func::<i32, i32>(&mut store, "gaic_alloc").unwrap();
                let predict =
                    inst.get_typed_func::<(i32, i32, i32, i32, i32), i32>(&mut store, "gaic_predict").unwrap();
                let (ip, op) = (
                    alloc.call(&mut store, (n * n * 4) as i32).unwrap(),
                    alloc.call(&mut store, (n * n * 4) as i32).unwrap(),
                );
                let mem = inst.get_memory(&mut store, "memory").unwrap();
                for (dst, v) in
                    mem.data_mut(&mut store)[ip as usize..ip as usize + n * n * 4].chunks_exact_mut(4).zip(&x)
                {
                    dst.copy_from_slice(&v.to_le_bytes());
                }
                assert_eq!(predict.call(&mut store, (ip, n as i32, n as i32, op, n as i32)).unwrap(), (n * n) as i32);
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("nan_rewriting");
    g.sample_size(10);
    let digits = guest("digits_mlp.wasm");
    g.bench_function("digits_mlp", |b| b.iter(|| gaic_sandbox::nan::canonicalise_nans(black_box(&digits)).unwrap()));
    let crafted = chain_of_locals(40_000, 10);
    g.bench_function("chain_of_40000_locals", |b| {
        b.iter(|| gaic_sandbox::nan::canonicalise_nans(black_box(&crafted)).unwrap())
    });
    g.finish();
}

/// A module whose one function passes an arithmetic result along `locals`
/// locals, one step a repetition: each pass of the analysis carries it
/// `reps` locals further, so it runs out of passes and then takes the
/// fallback: the costliest shape of function known for the rewriting's time
/// (`tests/nan.rs` has it small).
fn chain_of_locals(locals: u32, reps: u32) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, MemArg, MemorySection, MemoryType, Module,
        TypeSection, ValType,
    };
    let mut f = Function::new([(locals + 1, ValType::F32)]);
    {
        let mut s = f.instructions();
        for _ in 0..reps {
            for i in 0..locals {
                s.local_get(i + 1).local_set(i);
            }
            s.local_get(locals).local_get(locals).f32_mul().local_set(locals);
        }
        s.i32_const(0).local_get(0).f32_store(MemArg { offset: 0, align: 2, memory_index: 0 }).end();
    }
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    let mut memory = MemorySection::new();
    memory.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, 0);
    let mut code = CodeSection::new();
    code.function(&f);
    module.section(&types).section(&funcs).section(&memory).section(&exports).section(&code);
    module.finish()
}

criterion_group!(benches, bench);
criterion_main!(benches);
