//! Elo-MMR over one contest of 10,000 entrants (all distinct ranks, and
//! with ties), with seeded ratings.
//!
//!     cargo bench --bench ranking
//!
//! Target: under 1 s per contest.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gaic::rating::{Rating, rate_contest};

fn players(n: usize) -> Vec<Rating> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Rating::new(1000.0 + (x % 1500) as f64, 80.0 + (x % 270) as f64)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let n = 10_000;
    let mut group = c.benchmark_group("elo_mmr_contest");
    group.sample_size(10);
    let distinct: Vec<u32> = (1..=n as u32).collect();
    let tied: Vec<u32> = (0..n as u32).map(|i| i / 10 * 10 + 1).collect();
    for (name, ranks) in [("10000_entrants_distinct", &distinct), ("10000_entrants_ties_of_10", &tied)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || players(n),
                |mut p| black_box(rate_contest(&mut p, ranks, 1.0)),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
