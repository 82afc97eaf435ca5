//! Metric throughput at 1e5, 1e6 and 1e7 rows: ROC AUC (on uniform scores
//! and on a confident model's, crowded at 0 and 1), log loss (10 classes),
//! macro-F1 (10 classes) and RMSE, on seeded random data.
//!
//!     cargo bench --bench metrics
//!
//! The end-to-end comparison with scikit-learn (CSV parsing included) is
//! `benches/compare_sklearn.py`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gaic::scoring::metrics;

/// A small deterministic generator (xorshift) so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bench(c: &mut Criterion) {
    let k = 10;
    for n in [100_000usize, 1_000_000, 10_000_000] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let y_bin: Vec<bool> = (0..n).map(|_| rng.unit() < 0.3).collect();
        let scores: Vec<f64> = y_bin.iter().map(|&p| rng.unit() + if p { 0.3 } else { 0.0 }).collect();
        // A confident model's: most scores within 1e-3 of their class's end,
        // one in twenty on the wrong side.
        let confident: Vec<f64> = y_bin
            .iter()
            .map(|&p| {
                let (u, wrong) = (rng.unit(), rng.unit() < 0.05);
                if p != wrong { 1.0 - 1e-3 * u * u } else { 1e-3 * u * u }
            })
            .collect();
        let y_cls: Vec<u32> = (0..n).map(|_| (rng.next() % k as u64) as u32).collect();
        let p_cls: Vec<u32> =
            y_cls.iter().map(|&y| if rng.unit() < 0.7 { y } else { (rng.next() % k as u64) as u32 }).collect();
        let probs: Vec<f64> = (0..n * k).map(|_| rng.unit()).collect();
        let y_reg: Vec<f64> = (0..n).map(|_| rng.unit() * 100.0).collect();
        let p_reg: Vec<f64> = y_reg.iter().map(|y| y + rng.unit() - 0.5).collect();

        let mut g = c.benchmark_group(format!("metrics/{n}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(if n >= 10_000_000 { 10 } else { 20 });
        g.bench_function(BenchmarkId::new("roc_auc", n), |b| {
            b.iter(|| metrics::roc_auc(black_box(&y_bin), black_box(&scores)))
        });
        g.bench_function(BenchmarkId::new("roc_auc_confident", n), |b| {
            b.iter(|| metrics::roc_auc(black_box(&y_bin), black_box(&confident)))
        });
        g.bench_function(BenchmarkId::new("log_loss_10_classes", n), |b| {
            b.iter(|| metrics::log_loss(black_box(&y_cls), black_box(&probs), k))
        });
        g.bench_function(BenchmarkId::new("macro_f1_10_classes", n), |b| {
            b.iter(|| metrics::macro_f1(black_box(&y_cls), black_box(&p_cls), k))
        });
        g.bench_function(BenchmarkId::new("rmse", n), |b| {
            b.iter(|| metrics::rmse(black_box(&y_reg), black_box(&p_reg)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
