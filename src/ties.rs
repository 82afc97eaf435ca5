//! Statistical ties on a board: a bootstrap over the board's test rows
//! (1,000 resamples, seeded, the same resamples for every team so adjacent
//! teams are compared paired) gives each score a 95 % interval, and groups
//! teams whose difference from the team just above is not significant.
//!
//! Works for metrics that are a mean of per-row values (accuracy, log loss,
//! MAE, MAP@K; RMSE as the root of one): each resample's score of every team
//! is one matrix product, resample weights × per-row values, computed with
//! ndarray (`matrixmultiply`, runtime SIMD) on every core. For the others (ROC AUC,
//! F1, balanced accuracy, R², Spearman, mean IoU) no interval is given: a
//! resample would mean scoring every team again 1,000 times.
//!
//! Two adjacent teams differ significantly when, in at least 97.5 % of the
//! resamples, the better-ranked team is still strictly better (a two-sided
//! test at 5 %). A team tied with the one above joins its group; the group is
//! named by its best rank ("tied with #3").

/// Resamples drawn.
pub const RESAMPLES: usize = 1000;

/// Each team's interval and group on one board, by team id.
pub type Ties = std::sync::Arc<std::collections::HashMap<i64, TieStats>>;

/// Ties per (task, private board), with the board version they were
/// computed at; `None` for a metric that is not a mean over rows.
pub type Cache = std::sync::Mutex<std::collections::HashMap<(i64, bool), (i64, Option<Ties>)>>;

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

/// Resample weights: `resamples` rows of `n` counts, each row `n` draws
/// with replacement.
fn weights(n: usize, resamples: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix(seed);
    let mut w = vec![0f32; n * resamples];
    for row in w.chunks_exact_mut(n) {
        for _ in 0..n {
            row[rng.below(n)] += 1.0;
        }
    }
    w
}

/// `out[b][t] = Σ_r w[b][r] · x[r][t]` for `w` (`bs` × `n`) and `x` (`n` ×
/// `t`), row-major, split over the cores by resample (ndarray's product:
/// `matrixmultiply` with the CPU's SIMD, chosen at run time).
fn products(w: &[f32], x: &[f32], bs: usize, n: usize, t: usize) -> Vec<f32> {
    let mut out = vec![0f32; bs * t];
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get()).min(bs.max(1));
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Intervals and groups for teams in rank order: `values[t]` holds team
/// `t`'s per-row values on the board's rows (all the same length), its score
/// being `finish(mean)`; `higher` when a higher score is better. `finish`
/// must be increasing (the identity, or a square root).
pub fn bootstrap(
    values: &[Vec<f64>],
    finish: fn(f64) -> f64,
    higher: bool,
    resamples: usize,
    seed: u64,
) -> Vec<TieStats> {
    let t = values.len();
    let n = values.first().map_or(0, Vec::len);
    if t == 0 || n == 0 || resamples == 0 || values.iter().any(|v| v.len() != n) {
        return vec![TieStats { lo: f64::NAN, hi: f64::NAN, tied_with: None }; t];
    }
    // Columns: each team's values centred on its mean (the product sums
    // thousands of terms in f32: centring keeps them small), then for each
    // adjacent pair the per-row difference, taken in f64 first (exactly
    // zero where the two agree, so a pair that differs on one row is judged
    // on that row, not on rounding).
    let centres: Vec<f64> = values.iter().map(|v| v.iter().sum::<f64>() / n as f64).collect();
    let cols = 2 * t - 1;
    let mut x = vec![0f32; n * cols];
    for r in 0..n {
        let row = &mut x[r * cols..(r + 1) * cols];
        for j in 0..t {
            row[j] = (values[j][r] - centres[j]) as f32;
        }
        for j in 1..t {
            row[t + j - 1] = (values[j - 1][r] - values[j][r]) as f32;
        }
    }
    let w = weights(n, resamples, seed);
    let sums = products(&w, &x, resamples, n, cols);
    let mean = |b: usize, j: usize| f64::from(sums[b * cols + j]) / n as f64 + centres[j];
    let sign = if higher { 1.0 } else { -1.0 };
    let mut out = Vec::with_capacity(t);
    let mut leader = 1u32;
    for j in 0..t {
        let mut scores: Vec<f64> = (0..resamples).map(|b| finish(mean(b, j))).collect();
        scores.sort_by(f64::total_cmp);
        let (lo, hi) = (percentile(&scores, 0.025), percentile(&scores, 0.975));
        let tied_with = if j == 0 {
            None
        } else {
            // Paired: the same resample for both teams.
            let not_better = (0..resamples).filter(|&b| sign * f64::from(sums[b * cols + t + j - 1]) <= 0.0).count();
            let significant = (not_better as f64) < 0.025 * resamples as f64;
            if significant {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let stats = bootstrap(&values, |m| m, true, RESAMPLES, 7);
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
        let stats = bootstrap(&[a, b], |m| m, true, RESAMPLES, 1);
        assert!(stats[1].hi > stats[0].lo, "the intervals overlap: {stats:?}");
        assert_eq!(stats[1].tied_with, None, "but the difference is consistent");
    }

    #[test]
    fn errors_rank_lower_first_and_the_root_is_applied() {
        // Squared errors (RMSE = root of the mean): lower is better.
        let a: Vec<f64> = (0..400).map(|r| f64::from(r % 4)).collect(); // mean 1.5
        let b: Vec<f64> = (0..400).map(|r| f64::from(r % 4) + 3.0).collect(); // mean 4.5
        let stats = bootstrap(&[a, b], f64::sqrt, false, RESAMPLES, 3);
        assert!(stats[0].lo < 1.5f64.sqrt() && stats[0].hi > 1.5f64.sqrt(), "{stats:?}");
        assert_eq!(stats[1].tied_with, None);
        let same = bootstrap(&[vec![2.0; 100], vec![2.0; 100]], f64::sqrt, false, RESAMPLES, 3);
        assert_eq!(same[1].tied_with, Some(1), "equal scores are tied");
    }

    #[test]
    fn the_same_seed_gives_the_same_intervals() {
        let v = vec![accuracy_rows(500, 300, 0), accuracy_rows(500, 290, 100)];
        assert_eq!(bootstrap(&v, |m| m, true, 200, 9), bootstrap(&v, |m| m, true, 200, 9));
        assert_ne!(bootstrap(&v, |m| m, true, 200, 9)[0], bootstrap(&v, |m| m, true, 200, 10)[0]);
    }
}
