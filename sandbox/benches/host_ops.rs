//! Host matmul throughput (criterion reports elements/s as FLOP/s: the
//! throughput is 2n³ per product): the CPU backend, the CUDA backend as a
//! model's `gaic.matmul` uses it (copies in and out included), and cuBLAS
//! called directly on buffers already on the device (the device's peak for
//! this product). The CUDA rows appear only where a GPU is found.
//!
//!     cargo bench -p gaic-sandbox --bench host_ops

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gaic_sandbox::tensor::{self, CpuBackend, Deadline, DeviceChoice, TensorBackend};

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
            g.bench_with_input(BenchmarkId::new("cuda_host_op", n), &n, |bch, &n| {
                bch.iter(|| gpu.matmul(black_box(&a), &b, n, n, n, &Deadline::NONE))
            });
            direct::bench(&mut g, n, &a);
        }
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

criterion_group!(benches, bench);
criterion_main!(benches);
