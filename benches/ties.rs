//! Statistical ties on a board of 2,000 teams × 10,000 test rows: 1,000
//! seeded bootstrap resamples, every team's 95 % interval and the paired
//! test between adjacent teams (target: under 2 s), for a 0/1 metric
//! (accuracy) and a real-valued one (squared errors, RMSE) through the
//! matrix product, and for macro F1 (10 classes), ROC AUC and Spearman
//! through the resampled metrics.
//!
//!     cargo bench --bench ties

use criterion::{Criterion, criterion_group, criterion_main};
use gaic::scoring::resample::{Auc, Confusion, ConfusionMetric, Spearman};
use gaic::ties::{Means, RESAMPLES, bootstrap, bootstrap_with};

/// Teams and rows: the full board under `cargo bench`; a small one when
/// `cargo test --benches` runs each benchmark once, unoptimised, as a check.
fn size() -> (usize, usize) {
    if std::env::args().any(|a| a == "--bench") { (2000, 10_000) } else { (20, 500) }
}

fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Team `t` of `teams`' skill, best first: from 0.95 down to 0.55.
fn skill(t: usize, teams: usize) -> f64 {
    0.95 - 0.4 * t as f64 / teams as f64
}

fn bench(c: &mut Criterion) {
    let (teams, rows) = size();
    let skill = |t| skill(t, teams);
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    let accuracy: Vec<Vec<f64>> =
        (0..teams).map(|t| (0..rows).map(|_| if next() < skill(t) { 1.0 } else { 0.0 }).collect()).collect();
    let accuracy = Means { values: accuracy, shared: Vec::new(), finish: |m, _| m };
    let squared: Vec<Vec<f64>> = (0..teams)
        .map(|t| {
            let scale = 1.0 + t as f64 / teams as f64;
            (0..rows).map(|_| (next() * scale * 50.0).powi(2)).collect()
        })
        .collect();
    let squared = Means { values: squared, shared: Vec::new(), finish: |m, _| m.sqrt() };
    // Ten classes; a team right with its skill's probability, else a random class.
    let truth: Vec<u32> = (0..rows).map(|_| (next() * 10.0) as u32).collect();
    let labels: Vec<Vec<u32>> = (0..teams)
        .map(|t| truth.iter().map(|&y| if next() < skill(t) { y } else { (next() * 10.0) as u32 }).collect())
        .collect();
    let f1 = Confusion::new(ConfusionMetric::MacroF1, 10, truth, &labels);
    drop(labels);
    // Binary scores: the positive's score shifted up by the team's skill.
    let positive: Vec<bool> = (0..rows).map(|_| next() < 0.3).collect();
    let scores: Vec<Vec<f64>> = (0..teams)
        .map(|t| positive.iter().map(|&p| next() + if p { 2.0 * skill(t) - 1.0 } else { 0.0 }).collect())
        .collect();
    let auc = Auc::binary(positive, scores);
    let y: Vec<f64> = (0..rows).map(|_| next()).collect();
    let values: Vec<Vec<f64>> = (0..teams).map(|t| y.iter().map(|v| v + (1.0 - skill(t)) * next()).collect()).collect();
    let spearman = Spearman::new(&y, values);
    let mut group = c.benchmark_group("ties_2000_teams_10000_rows");
    group.sample_size(10);
    group.bench_function("accuracy", |b| b.iter(|| bootstrap(&accuracy, true, RESAMPLES, 1)));
    group.bench_function("rmse", |b| b.iter(|| bootstrap(&squared, false, RESAMPLES, 1)));
    group.bench_function("macro_f1_10_classes", |b| b.iter(|| bootstrap_with(&f1, true, RESAMPLES, 1)));
    group.bench_function("roc_auc", |b| b.iter(|| bootstrap_with(&auc, true, RESAMPLES, 1)));
    group.bench_function("spearman", |b| b.iter(|| bootstrap_with(&spearman, true, RESAMPLES, 1)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
