//! Statistical ties on a board of 2,000 teams × 10,000 test rows: 1,000
//! seeded bootstrap resamples, every team's 95 % interval and the paired
//! test between adjacent teams (target: under 2 s), for a 0/1 metric
//! (accuracy) and a real-valued one (squared errors, RMSE).
//!
//!     cargo bench --bench ties

use criterion::{Criterion, criterion_group, criterion_main};
use gaic::ties::{RESAMPLES, bootstrap};

const TEAMS: usize = 2000;
const ROWS: usize = 10_000;

fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bench(c: &mut Criterion) {
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    // Accuracies from 95 % down to 55 %, best first.
    let accuracy: Vec<Vec<f64>> = (0..TEAMS)
        .map(|t| {
            let p = 0.95 - 0.4 * t as f64 / TEAMS as f64;
            (0..ROWS).map(|_| if next() < p { 1.0 } else { 0.0 }).collect()
        })
        .collect();
    let squared: Vec<Vec<f64>> = (0..TEAMS)
        .map(|t| {
            let scale = 1.0 + t as f64 / TEAMS as f64;
            (0..ROWS).map(|_| (next() * scale * 50.0).powi(2)).collect()
        })
        .collect();
    let mut group = c.benchmark_group("ties_2000_teams_10000_rows");
    group.sample_size(10);
    group.bench_function("accuracy", |b| b.iter(|| bootstrap(&accuracy, |m| m, true, RESAMPLES, 1)));
    group.bench_function("rmse", |b| b.iter(|| bootstrap(&squared, f64::sqrt, false, RESAMPLES, 1)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
