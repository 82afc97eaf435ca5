//! Statistical ties on a board: a bootstrap over the board's test rows
//! (1,000 resamples, seeded, the same resamples for every team so adjacent
//! teams are compared paired) gives each score a 95 % interval, and groups
//! teams whose difference from the team just above is not significant.
//!
//! Two ways to compute the resampled scores, the same resamples for both
//! (resample `b` is `n` draws from its own SplitMix64 stream):
//!
//! - [`bootstrap`], for a metric that is a function of means over rows
//!   (accuracy, log loss, MAE, MAP@K; RMSE as the root of one; R² as one
//!   minus a mean over a resampled variance of the truth): every team's
//!   resampled means, and every adjacent pair's paired difference, are one
//!   matrix product, resample weights × per-row values, computed with
//!   ndarray (`matrixmultiply`, runtime SIMD) on every core.
//! - [`bootstrap_with`], for any other metric (ROC AUC, F1, balanced
//!   accuracy, mean IoU, Spearman): a [`Resample`] scores each team under
//!   blocks of [`LANES`] resamples at once, from the resample weights laid
//!   out row by row, lane by lane, a tile of teams per block so that the
//!   block stays in the cache (`scoring::resample` holds those metrics).
//!
//! Two adjacent teams differ significantly when, in at least 97.5 % of the
//! resamples, the better-ranked team is still strictly better (a two-sided
//! test at 5 %; a resample where either score is undefined counts against
//! significance). A team tied with the one above joins its group; the group
//! is named by its best rank ("tied with #3"). Intervals are percentiles of
//! the resamples where the score is defined (an AUC needs both classes).

/// Resamples drawn.
pub const RESAMPLES: usize = 1000;

/// Resamples scored together by [`bootstrap_with`]: one lane each.
pub const LANES: usize = 32;

/// Each team's interval and group on one board, by team id.
pub type Ties = std::sync::Arc<std::collections::HashMap<i64, TieStats>>;

/// Ties per (task, private board), with the board version they were
/// computed at; `None` when a board has none (a ranked submission without
/// its predictions, or a board too large).
pub type Cache = Flights<(i64, bool), Option<Ties>>;

/// Values computed once per key and version, however many callers ask at
/// once: the first computes, the rest wait for its result (a computation
/// that fails is tried again by the next caller). A newer version replaces
/// the kept one; a caller still at an older version computes for itself,
/// unkept.
#[derive(Debug)]
pub struct Flights<K, V> {
    kept: std::sync::Mutex<std::collections::HashMap<K, (i64, Flight<V>)>>,
}

type Flight<V> = std::sync::Arc<tokio::sync::OnceCell<V>>;

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Self { kept: std::sync::Mutex::default() }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// The value of `key` at `version`, computing it with `compute` only if
    /// no caller has (or is).
    pub async fn get_or_compute<E, F>(&self, key: &K, version: i64, compute: impl FnOnce() -> F) -> Result<V, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        let flight = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            match kept.get(key) {
                Some((v, flight)) if *v == version => flight.clone(),
                Some((v, _)) if *v > version => Flight::default(),
                _ => {
                    let flight = Flight::default();
                    kept.insert(key.clone(), (version, flight.clone()));
                    flight
                }
            }
        };
        flight.get_or_try_init(compute).await.cloned()
    }
}

/// One team's interval and group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieStats {
    /// The 2.5th percentile of its score over the resamples.
    pub lo: f64,
    /// The 97.5th percentile.
    pub hi: f64,
    /// The rank (1-based position) of the first team of its group, when it
    /// is not significantly different from the team above it.
    pub tied_with: Option<u32>,
}

/// SplitMix64: a small seeded generator whose stream never changes with a
/// crate's version, so the same board always gets the same intervals.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply; the bias is below 2⁻³²).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// Resample `b` of `n` rows: calls `draw(row)` for each of its `n` draws
/// with replacement. Each resample has its own stream, so both paths, and
/// any order of computing them, see the same resamples.
fn draws(n: usize, seed: u64, b: usize, mut draw: impl FnMut(usize)) {
    let mut rng = SplitMix(seed ^ (b as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03));
    for _ in 0..n {
        draw(rng.below(n));
    }
}

/// Resample weights: `resamples` rows of `n` counts.
fn weights(n: usize, resamples: usize, seed: u64) -> Vec<f32> {
    let mut w = vec![0f32; n * resamples];
    for (b, row) in w.chunks_exact_mut(n.max(1)).enumerate() {
        draws(n, seed, b, |r| row[r] += 1.0);
    }
    w
}

/// The weights of one block of [`LANES`] resamples: `w[r][l]` is how often
/// resample `first + l` drew row `r` (lanes past the last resample are 0).
pub type Block = Vec<[f32; LANES]>;

fn block(n: usize, seed: u64, first: usize, used: usize) -> Block {
    let mut w = vec![[0f32; LANES]; n];
    (0..used).for_each(|l| draws(n, seed, first + l, |r| w[r][l] += 1.0));
    w
}

/// `out[b][t] = Σ_r w[b][r] · x[r][t]` for `w` (`bs` × `n`) and `x` (`n` ×
/// `t`), row-major, split over the cores by resample (ndarray's product:
/// `matrixmultiply` with the CPU's SIMD, chosen at run time).
fn products(w: &[f32], x: &[f32], bs: usize, n: usize, t: usize) -> Vec<f32> {
    let mut out = vec![0f32; bs * t];
    let threads = cores().min(bs.max(1));
    let per = bs.div_ceil(threads).max(1);
    let x = ndarray::ArrayView2::from_shape((n, t), x).expect("x is n × t");
    std::thread::scope(|s| {
        for (wpart, opart) in w.chunks(per * n).zip(out.chunks_mut(per * t)) {
            s.spawn(move || {
                let rows = wpart.len() / n.max(1);
                let w = ndarray::ArrayView2::from_shape((rows, n), wpart).expect("w is rows × n");
                let mut o = ndarray::ArrayViewMut2::from_shape((rows, t), opart).expect("out is rows × t");
                ndarray::linalg::general_mat_mul(1.0, &w, &x, 0.0, &mut o);
            });
        }
    });
    out
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}

/// Runs `work(i)` for `i` in `0..count` on every core, results in order.
fn on_every_core<T: Send>(count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores().min(count.max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            return mine;
                        }
                        mine.push((i, work(i)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Intervals and groups of `teams` teams in rank order over `resamples`
/// resamples, from `score(team, b)` (NaN where undefined) and
/// `above_better(team, b)`: whether team `team − 1` is strictly better than
/// `team` in resample `b`.
fn stats(
    teams: usize,
    resamples: usize,
    score: impl Fn(usize, usize) -> f64,
    above_better: impl Fn(usize, usize) -> bool,
) -> Vec<TieStats> {
    let mut out = Vec::with_capacity(teams);
    let mut leader = 1u32;
    for j in 0..teams {
        let mut scores: Vec<f64> = (0..resamples).map(|b| score(j, b)).filter(|s| !s.is_nan()).collect();
        scores.sort_by(f64::total_cmp);
        let (lo, hi) = (percentile(&scores, 0.025), percentile(&scores, 0.975));
        let tied_with = if j == 0 {
            None
        } else {
            let not_better = (0..resamples).filter(|&b| !above_better(j, b)).count();
            if (not_better as f64) < 0.025 * resamples as f64 {
                leader = j as u32 + 1;
                None
            } else {
                Some(leader)
            }
        };
        out.push(TieStats { lo, hi, tied_with });
    }
    out
}

fn undefined(teams: usize) -> Vec<TieStats> {
    vec![TieStats { lo: f64::NAN, hi: f64::NAN, tied_with: None }; teams]
}

/// Per-row values of teams in rank order, for [`bootstrap`]: each team's
/// score over any rows is `finish(mean of its values, means of the shared
/// columns)`, increasing in the first argument.
pub struct Means {
    /// `values[t]`: team `t`'s value on each row (all the same length).
    pub values: Vec<Vec<f64>>,
    /// Columns every team's score shares (R²'s truth), each one per row.
    pub shared: Vec<Vec<f64>>,
    /// The score from the resampled means.
    pub finish: fn(f64, &[f64]) -> f64,
}

/// Intervals and groups for teams in rank order from their per-row values
/// (see [`Means`]); `higher` when a higher score is better.
pub fn bootstrap(means: &Means, higher: bool, resamples: usize, seed: u64) -> Vec<TieStats> {
    let values = &means.values;
    let t = values.len();
    let n = values.first().map_or(0, Vec::len);
    if t == 0 || n == 0 || resamples == 0 || values.iter().chain(&means.shared).any(|v| v.len() != n) {
        return undefined(t);
    }
    // Columns: each team's values centred on its mean (the product sums
    // thousands of terms in f32: centring keeps them small), then for each
    // adjacent pair the per-row difference, taken in f64 first (exactly
    // zero where the two agree, so a pair that differs on one row is judged
    // on that row, not on rounding), then the shared columns, centred.
    let columns: Vec<&Vec<f64>> = values.iter().chain(&means.shared).collect();
    let centres: Vec<f64> = columns.iter().map(|v| v.iter().sum::<f64>() / n as f64).collect();
    let s = means.shared.len();
    let cols = 2 * t - 1 + s;
    let mut x = vec![0f32; n * cols];
    for r in 0..n {
        let row = &mut x[r * cols..(r + 1) * cols];
        for j in 0..t {
            row[j] = (values[j][r] - centres[j]) as f32;
        }
        for j in 1..t {
            row[t + j - 1] = (values[j - 1][r] - values[j][r]) as f32;
        }
        for i in 0..s {
            row[2 * t - 1 + i] = (means.shared[i][r] - centres[t + i]) as f32;
        }
    }
    let w = weights(n, resamples, seed);
    let sums = products(&w, &x, resamples, n, cols);
    let mean = |b: usize, c: usize, centre: f64| f64::from(sums[b * cols + c]) / n as f64 + centre;
    let shared: Vec<Vec<f64>> =
        (0..resamples).map(|b| (0..s).map(|i| mean(b, 2 * t - 1 + i, centres[t + i])).collect()).collect();
    let scores: Vec<f64> = (0..t)
        .flat_map(|j| (0..resamples).map(move |b| (j, b)))
        .map(|(j, b)| (means.finish)(mean(b, j, centres[j]), &shared[b]))
        .collect();
    let sign = if higher { 1.0 } else { -1.0 };
    // Paired: the same resample for both teams.
    stats(t, resamples, |j, b| scores[j * resamples + b], |j, b| sign * f64::from(sums[b * cols + t + j - 1]) > 0.0)
}

/// A metric's scores of teams under resamples, for [`bootstrap_with`].
pub trait Resample: Sync {
    /// What every team's scores under one block of resamples share (the
    /// truth's class totals or ranks in each lane).
    type Shared: Send + Sync;
    /// What one team's scores under every block share (its rows in order).
    type Team;
    /// Teams, in rank order.
    fn teams(&self) -> usize;
    /// Test rows.
    fn rows(&self) -> usize;
    /// The block's shared part.
    fn shared(&self, w: &Block) -> Self::Shared;
    /// Team `team`'s prepared rows.
    fn team(&self, team: usize) -> Self::Team;
    /// The team's score in each lane of the block (NaN where undefined).
    fn scores(&self, team: &Self::Team, w: &Block, shared: &Self::Shared, out: &mut [f64; LANES]);
}

/// Teams scored together under each block: the block's weights are read
/// from the cache by every team of the tile before the next block is.
const TILE: usize = 32;

/// A tile of teams scored under every block: the work [`bootstrap_with`]
/// hands to pulp, which inlines it into a function compiled for the CPU's
/// vector extensions (a closure would stay a call compiled without them).
struct Tile<'a, R: Resample> {
    metric: &'a R,
    teams: &'a [R::Team],
    blocks: &'a [(Block, R::Shared)],
    out: &'a mut [Vec<f64>],
}

impl<R: Resample> pulp::WithSimd for Tile<'_, R> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        for (b, (w, shared)) in self.blocks.iter().enumerate() {
            for (team, out) in self.teams.iter().zip(self.out.iter_mut()) {
                let lanes: &mut [f64; LANES] =
                    (&mut out[b * LANES..(b + 1) * LANES]).try_into().expect("a block is LANES long");
                self.metric.scores(team, w, shared, lanes);
            }
        }
    }
}

/// Intervals and groups for the teams of `metric`; `higher` when a higher
/// score is better. Teams are prepared once and scored a tile at a time,
/// block by block; tiles are spread over the cores.
pub fn bootstrap_with<R: Resample>(metric: &R, higher: bool, resamples: usize, seed: u64) -> Vec<TieStats> {
    let (t, n) = (metric.teams(), metric.rows());
    if t == 0 || n == 0 || resamples == 0 {
        return undefined(t);
    }
    let count = resamples.div_ceil(LANES);
    let blocks: Vec<(Block, R::Shared)> = on_every_core(count, |i| {
        let first = i * LANES;
        let w = block(n, seed, first, (resamples - first).min(LANES));
        let shared = metric.shared(&w);
        (w, shared)
    });
    // The lane loops are compiled for the CPU's widest vectors, chosen at
    // run time (AVX2 or AVX-512 where there are; pulp's dispatch).
    let arch = pulp::Arch::new();
    let tiles: Vec<Vec<Vec<f64>>> = on_every_core(t.div_ceil(TILE), |i| {
        let teams: Vec<R::Team> = (i * TILE..t.min((i + 1) * TILE)).map(|j| metric.team(j)).collect();
        let mut out = vec![vec![f64::NAN; count * LANES]; teams.len()];
        arch.dispatch(Tile { metric, teams: &teams, blocks: &blocks, out: &mut out });
        out
    });
    let scores: Vec<Vec<f64>> = tiles.into_iter().flatten().collect();
    let sign = if higher { 1.0 } else { -1.0 };
    stats(t, resamples, |j, b| scores[j][b], |j, b| sign * (scores[j - 1][b] - scores[j][b]) > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn means(values: Vec<Vec<f64>>) -> Means {
        Means { values, shared: Vec::new(), finish: |m, _| m }
    }

    fn roots(values: Vec<Vec<f64>>) -> Means {
        Means { values, shared: Vec::new(), finish: |m, _| m.sqrt() }
    }

    fn accuracy_rows(n: usize, right: usize, offset: usize) -> Vec<f64> {
        (0..n).map(|r| if (r + offset) % n < right { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn clearly_different_teams_are_not_tied_and_close_ones_are() {
        // 1,000 rows: 90 %, 89.9 % (one row apart), 70 %, 69.8 %.
        let n = 1000;
        let values = vec![
            accuracy_rows(n, 900, 0),
            accuracy_rows(n, 899, 0),
            accuracy_rows(n, 700, 0),
            accuracy_rows(n, 698, 500),
        ];
        let stats = bootstrap(&means(values), true, RESAMPLES, 7);
        assert_eq!(stats[0].tied_with, None);
        assert_eq!(stats[1].tied_with, Some(1), "one row apart: tied with #1");
        assert_eq!(stats[2].tied_with, None, "20 points below: significant");
        assert_eq!(stats[3].tied_with, Some(3), "{stats:?}");
        // The interval holds the score, about ±1.96·√(p(1−p)/n) wide.
        let half = 1.96 * (0.9f64 * 0.1 / n as f64).sqrt();
        assert!(stats[0].lo < 0.9 && stats[0].hi > 0.9);
        assert!(((stats[0].hi - stats[0].lo) / 2.0 - half).abs() < 0.006, "{:?} vs ±{half}", stats[0]);
    }

    #[test]
    fn pairing_finds_a_small_consistent_difference() {
        // Two teams identical but for 15 rows the second gets wrong: the
        // unpaired intervals overlap, the paired test still separates them.
        let n = 1000;
        let a = accuracy_rows(n, 800, 0);
        let mut b = a.clone();
        for v in b.iter_mut().take(15) {
            *v = 0.0;
        }
        let stats = bootstrap(&means(vec![a, b]), true, RESAMPLES, 1);
        assert!(stats[1].hi > stats[0].lo, "the intervals overlap: {stats:?}");
        assert_eq!(stats[1].tied_with, None, "but the difference is consistent");
    }

    #[test]
    fn errors_rank_lower_first_and_the_root_is_applied() {
        // Squared errors (RMSE = root of the mean): lower is better.
        let a: Vec<f64> = (0..400).map(|r| f64::from(r % 4)).collect(); // mean 1.5
        let b: Vec<f64> = (0..400).map(|r| f64::from(r % 4) + 3.0).collect(); // mean 4.5
        let stats = bootstrap(&roots(vec![a, b]), false, RESAMPLES, 3);
        assert!(stats[0].lo < 1.5f64.sqrt() && stats[0].hi > 1.5f64.sqrt(), "{stats:?}");
        assert_eq!(stats[1].tied_with, None);
        let same = bootstrap(&roots(vec![vec![2.0; 100], vec![2.0; 100]]), false, RESAMPLES, 3);
        assert_eq!(same[1].tied_with, Some(1), "equal scores are tied");
    }

    #[test]
    fn the_same_seed_gives_the_same_intervals() {
        let v = vec![accuracy_rows(500, 300, 0), accuracy_rows(500, 290, 100)];
        let v = means(v);
        assert_eq!(bootstrap(&v, true, 200, 9), bootstrap(&v, true, 200, 9));
        assert_ne!(bootstrap(&v, true, 200, 9)[0], bootstrap(&v, true, 200, 10)[0]);
    }

    /// The weighted mean through the general path.
    struct WeightedMean(Vec<Vec<f64>>);

    impl Resample for WeightedMean {
        type Shared = ();
        type Team = usize;
        fn teams(&self) -> usize {
            self.0.len()
        }
        fn rows(&self) -> usize {
            self.0[0].len()
        }
        fn shared(&self, _: &Block) {}
        fn team(&self, team: usize) -> usize {
            team
        }
        fn scores(&self, team: &usize, w: &Block, _: &(), out: &mut [f64; LANES]) {
            let v = &self.0[*team];
            for (l, o) in out.iter_mut().enumerate() {
                *o = v.iter().zip(w).map(|(x, w)| x * f64::from(w[l])).sum::<f64>() / v.len() as f64;
            }
        }
    }

    #[test]
    fn both_paths_see_the_same_resamples() {
        // 1,000 resamples is not a multiple of the lanes: the last block is
        // partly empty, and its empty lanes must not count.
        let v = vec![accuracy_rows(700, 600, 0), accuracy_rows(700, 590, 30), accuracy_rows(700, 500, 60)];
        let general = bootstrap_with(&WeightedMean(v.clone()), true, RESAMPLES, 5);
        let product = bootstrap(&means(v), true, RESAMPLES, 5);
        for (g, p) in general.iter().zip(&product) {
            assert!((g.lo - p.lo).abs() < 1e-6 && (g.hi - p.hi).abs() < 1e-6, "{general:?} vs {product:?}");
            assert_eq!(g.tied_with, p.tied_with);
        }
        assert_eq!(general[1].tied_with, Some(1));
        assert_eq!(general[2].tied_with, None);
    }

    #[test]
    fn a_shared_column_enters_every_score() {
        // Score = mean / mean of the shared column (2 on every row).
        let m = Means { values: vec![vec![1.0; 50]], shared: vec![vec![2.0; 50]], finish: |m, s| m / s[0] };
        let stats = bootstrap(&m, true, 100, 1);
        assert!((stats[0].lo - 0.5).abs() < 1e-6 && (stats[0].hi - 0.5).abs() < 1e-6, "{stats:?}");
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_computation_per_version() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let flights: Flights<u8, usize> = Flights::default();
        let runs = AtomicUsize::new(0);
        let compute = |v: usize| {
            let runs = &runs;
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok::<_, ()>(v)
            }
        };
        let askers: Vec<_> = (0..16).map(|_| flights.get_or_compute(&1, 7, compute(70))).collect();
        let got = futures::future::join_all(askers).await;
        assert!(got.iter().all(|g| *g == Ok(70)));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one computation for 16 askers");
        assert_eq!(flights.get_or_compute(&1, 7, compute(0)).await, Ok(70), "kept");
        assert_eq!(flights.get_or_compute(&1, 8, compute(80)).await, Ok(80), "a new version computes");
        assert_eq!(flights.get_or_compute(&1, 7, compute(71)).await, Ok(71), "an old one is not kept");
        assert_eq!(flights.get_or_compute(&1, 8, compute(0)).await, Ok(80));
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // A failure is not kept: the next asker computes again.
        let failed = flights.get_or_compute(&2, 1, || async { Err::<usize, _>("down") }).await;
        assert_eq!(failed, Err("down"));
        assert_eq!(flights.get_or_compute(&2, 1, compute(21)).await, Ok(21));
    }
}
