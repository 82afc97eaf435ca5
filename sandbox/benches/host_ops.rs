//! Host matmul throughput (criterion reports elements/s as FLOP/s: the
//! throughput is 2n³ per product): the CPU backend; the CUDA backend as a
//! model's `gaic.matmul` uses it, on tensors already on the device (a
//! session's op, then a wait for it: `cuda_host_op`) and with the copies
//! in and out of a model that uploads both and reads the product back
//! (`cuda_round_trip`); and cuBLAS called directly on buffers already on
//! the device (the device's peak for this product). The CUDA rows appear
//! only where a GPU is found.
//!
//! Then the `shapes` task's example CNN (`guest/examples/shapes-cnn`:
//! conv2d, maxpool2d, matmul host ops) end to end in the sandbox, compile
//! and run over 1,024 images, on the CPU (one core, as one evaluator runs
//! it) and on CUDA: criterion's elements/s are rows/s.
//!
//!     scripts/build-examples.sh && cargo bench -p gaic-sandbox --bench host_ops
//!
//! The model is read from `$GAIC_SHAPES_CNN`, else from the guest's build
//! folder.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gaic_sandbox::tensor::{self, CpuBackend, Deadline, DeviceChoice};
use gaic_sandbox::{Limits, Sandbox, SandboxConfig, Verdict};

fn bench(c: &mut Criterion) {
    let gpu = tensor::select(DeviceChoice::Cuda).ok();
    if gpu.is_none() {
        println!("no CUDA device: CPU rows only");
    }
    let mut g = c.benchmark_group("host_matmul");
    g.sample_size(10);
    for n in [256usize, 1024, 2048, 4096] {
        let a: Vec<f32> = (0..n * n).map(|i| (i % 97) as f32 / 97.0).collect();
        let b = a.clone();
        g.throughput(Throughput::Elements((2 * n * n * n) as u64));
        // The CPU at 4096² takes seconds a product: only where there is no
        // GPU to compare, at the sizes below.
        if n < 4096 {
            g.bench_with_input(BenchmarkId::new("cpu", n), &n, |bch, &n| {
                bch.iter(|| CpuBackend.matmul(black_box(&a), &b, n, n, n, &Deadline::NONE))
            });
        }
        if let Some((gpu, _)) = &gpu {
            let mut s = gpu.session(Deadline::NONE).expect("a session on the device");
            let shape = [n, n, 1, 1];
            let (da, db) = (s.upload(shape, &a).expect("copy in"), s.upload(shape, &b).expect("copy in"));
            g.bench_with_input(BenchmarkId::new("cuda_host_op", n), &n, |bch, _| {
                bch.iter(|| {
                    let c = s.matmul(black_box(&da), &db).expect("matmul");
                    s.sync().expect("synchronize");
                    c
                })
            });
            g.bench_with_input(BenchmarkId::new("cuda_round_trip", n), &n, |bch, _| {
                bch.iter(|| {
                    let (da, db) = (s.upload(shape, black_box(&a)).expect("in"), s.upload(shape, &b).expect("in"));
                    let c = s.matmul(&da, &db).expect("matmul");
                    s.values(&c).expect("out")
                })
            });
            drop(s);
            direct::bench(&mut g, n, &a);
        }
    }
    g.finish();
}

fn cnn(c: &mut Criterion) {
    const ROWS: usize = 1024;
    let path = std::env::var_os("GAIC_SHAPES_CNN").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("guest/target/wasm32-unknown-unknown/release/shapes_cnn.wasm")
    });
    let Ok(model) = std::fs::read(&path) else {
        println!("SKIPPED shapes_cnn: {} missing (run scripts/build-examples.sh)", path.display());
        return;
    };
    // Pixels 0-255 in a fixed pattern: the work depends on the shapes alone.
    let inputs: Vec<f32> = (0..ROWS * 1024).map(|i| ((i * 7919) % 256) as f32).collect();
    let limits = Limits { fuel: 40_000_000_000, memory_bytes: 256 << 20, wall_ms: 600_000, ..Limits::default() };
    let mut g = c.benchmark_group("shapes_cnn");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    for device in [DeviceChoice::Cpu, DeviceChoice::Cuda] {
        let config = SandboxConfig { concurrency: 1, max_memory_bytes: 256 << 20, device, ..Default::default() };
        let Ok(sandbox) = Sandbox::new(config) else { continue };
        g.bench_function(BenchmarkId::new(device.as_str(), ROWS), |bch| {
            bch.iter(|| {
                let report = sandbox.compile_and_run(&model, black_box(&inputs), 1024, 4, &limits);
                assert_eq!(report.verdict, Verdict::Ok, "{}", report.message);
                assert!(report.platform_error.is_none(), "{:?}", report.platform_error);
                report
            })
        });
    }
    g.finish();
}

/// cuBLAS sgemm on device buffers, nothing copied per iteration.
mod direct {
    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, BenchmarkId};
    use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
    use cudarc::driver::CudaContext;

    pub fn bench(g: &mut BenchmarkGroup<'_, WallTime>, n: usize, a: &[f32]) {
        let ctx = CudaContext::new(0).expect("the device the backend found");
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).expect("cuBLAS");
        let da = stream.clone_htod(a).expect("copy in");
        let db = stream.clone_htod(a).expect("copy in");
        let mut dc = stream.alloc_zeros::<f32>(n * n).expect("output");
        let cfg = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: n as i32,
            n: n as i32,
            k: n as i32,
            alpha: 1.0f32,
            lda: n as i32,
            ldb: n as i32,
            beta: 0.0f32,
            ldc: n as i32,
        };
        g.bench_with_input(BenchmarkId::new("cublas_direct", n), &n, |bch, _| {
            bch.iter(|| {
                #[expect(unsafe_code, reason = "cuBLAS gemm on n×n device buffers allocated just above")]
                // SAFETY: da, db and dc are n×n f32 buffers on this stream,
                // matching the dimensions and leading dimensions in `cfg`.
                unsafe {
                    blas.gemm(cfg, &db, &da, &mut dc).expect("gemm");
                }
                stream.synchronize().expect("synchronize");
            })
        });
    }
}

criterion_group!(benches, bench, cnn);
criterion_main!(benches);
