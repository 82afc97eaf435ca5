//! Host matmul throughput, CPU versus CUDA (the CUDA rows appear only where
//! a GPU is found):
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
    for n in [256usize, 1024, 2048] {
        let a: Vec<f32> = (0..n * n).map(|i| (i % 97) as f32 / 97.0).collect();
        let b = a.clone();
        g.throughput(Throughput::Elements((2 * n * n * n) as u64));
        g.bench_with_input(BenchmarkId::new("cpu", n), &n, |bch, &n| {
            bch.iter(|| CpuBackend.matmul(black_box(&a), &b, n, n, n, &Deadline::NONE))
        });
        if let Some((gpu, _)) = &gpu {
            g.bench_with_input(BenchmarkId::new("cuda", n), &n, |bch, &n| {
                bch.iter(|| gpu.matmul(black_box(&a), &b, n, n, n, &Deadline::NONE))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
