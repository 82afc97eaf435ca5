//! The Ladder (Blum & Hardt, ICML 2015; the parameter-free variant of
//! REFERENCE.md): a public board that leaks little. A task that asks for it
//! (`[leaderboard] public_board = "ladder"`) shows a team a new public score
//! only when it beats the team's shown best by more than the significance
//! step; otherwise the shown best stands. The shown score, rounded to about
//! log₁₀(n) decimals, is what the competitor sees and what the public board
//! ranks; the raw public score is kept for organizers only.
//!
//! The step η is the standard error of the difference between the new
//! submission and the team's current best on the public rows, paired: for a
//! metric that is a mean over rows, s/√n with s the standard deviation of the
//! per-row differences; for the others (ROC AUC, F1, …) the standard
//! deviation of the difference over 200 seeded bootstrap resamples of the
//! public rows.

use crate::scoring::MetricKind;
use crate::scoring::solution::{Predictions, Solution};

/// Bootstrap resamples for metrics that are not a mean over rows.
pub const RESAMPLES: usize = 200;

/// The team's best so far: the score shown and the predictions behind it.
pub struct Best<'a> {
    /// The shown (rounded) score.
    pub shown: f64,
    /// The submission that set it.
    pub predictions: &'a Predictions,
}

/// What a new submission shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The score shown for it: its own (rounded) when accepted, else the
    /// shown best unchanged.
    pub shown: f64,
    /// Whether it beat the shown best by more than the step.
    pub accepted: bool,
    /// The step it had to beat by (0 for a team's first submission).
    pub eta: f64,
}

/// The bootstrap seed of a step against the best set by submission
/// `best_id`: the same at upload and on every rescore.
pub fn seed(split_seed: u64, best_id: i64) -> u64 {
    split_seed ^ best_id as u64
}

/// Decimals a score over `n` rows is shown with: ⌈log₁₀ n⌉, at least 1.
pub fn decimals(n: usize) -> i32 {
    ((n.max(2) as f64).log10().ceil() as i32).max(1)
}

/// `v` rounded to `d` decimals.
pub fn round_to(v: f64, d: i32) -> f64 {
    let f = 10f64.powi(d);
    (v * f).round() / f
}

/// The Ladder's step for a new submission with public score `score` and
/// predictions `new`, against the team's `best` (none for its first), on the
/// public `rows` of `solution`.
pub fn step(
    solution: &Solution,
    rows: &[u32],
    best: Option<Best<'_>>,
    new: &Predictions,
    score: f64,
    seed: u64,
) -> Step {
    let metric = solution.format.metric;
    let higher = metric.higher_is_better();
    let shown_new = round_to(score, decimals(rows.len()));
    let Some(best) = best else { return Step { shown: shown_new, accepted: true, eta: 0.0 } };
    let eta = eta(solution, rows, best.predictions, new, seed);
    // Loss-oriented: better is lower.
    let loss = |v: f64| if higher { -v } else { v };
    if loss(score) < loss(best.shown) - eta {
        Step { shown: shown_new, accepted: true, eta }
    } else {
        Step { shown: best.shown, accepted: false, eta }
    }
}

/// The standard error of (new − best) on the rows, in score units.
fn eta(solution: &Solution, rows: &[u32], best: &Predictions, new: &Predictions, seed: u64) -> f64 {
    let n = rows.len();
    if n < 2 {
        return 0.0;
    }
    if let (Some(a), Some(b)) = (solution.per_row(new, rows), solution.per_row(best, rows)) {
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let se = sd(&d) / (n as f64).sqrt();
        return if solution.format.metric == MetricKind::Rmse {
            // The root of a mean: the delta method at the best's mean.
            let m = b.iter().sum::<f64>() / n as f64;
            if m > 0.0 { se / (2.0 * m.sqrt()) } else { se.sqrt() }
        } else {
            se
        };
    }
    let mut state = seed ^ 0x5851_f42d_4c95_7f2d;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((u128::from(z ^ (z >> 31)) * n as u128) >> 64) as usize
    };
    let mut diffs = Vec::with_capacity(RESAMPLES);
    let mut sample = vec![0u32; n];
    for _ in 0..RESAMPLES {
        for s in sample.iter_mut() {
            *s = rows[next()];
        }
        if let (Ok(a), Ok(b)) = (solution.score(new, Some(&sample)), solution.score(best, Some(&sample))) {
            diffs.push(a - b);
        }
    }
    sd(&diffs)
}

fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::solution::Format;

    fn digits_like(metric: MetricKind, rows: usize) -> Solution {
        let format = Format {
            metric,
            k: None,
            id_column: "id".into(),
            target: "y".into(),
            classes: Some((0..10).map(|c| c.to_string()).collect()),
        };
        let labels: String = std::iter::once("id,y".to_owned())
            .chain((0..rows).map(|i| format!("{i},{}", i % 10)))
            .collect::<Vec<_>>()
            .join("\n");
        Solution::parse(format, labels.as_bytes()).expect("labels parse")
    }

    /// Right on the first `right` rows, off by one elsewhere.
    fn preds(rows: usize, right: usize) -> Predictions {
        Predictions::Classes((0..rows).map(|i| if i < right { i % 10 } else { (i + 1) % 10 } as u32).collect())
    }

    #[test]
    fn worked_example_accuracy_on_400_public_rows() {
        // n = 400: shown to ⌈log₁₀ 400⌉ = 3 decimals.
        let sol = digits_like(MetricKind::Accuracy, 400);
        let rows: Vec<u32> = (0..400).collect();
        let first = preds(400, 300); // 0.75
        let s1 = step(&sol, &rows, None, &first, 0.75, 1);
        assert_eq!(s1, Step { shown: 0.75, accepted: true, eta: 0.0 });
        // Two more rows right: the difference is 2 rows of 400; the per-row
        // differences are 1 on two rows, 0 elsewhere: s = √(2/400 − (2/400)²·…)
        // ≈ 0.0706, η = s/√400 ≈ 0.0035, and 0.755 − 0.75 = 0.005 > η.
        let better = preds(400, 302);
        let s2 = step(&sol, &rows, Some(Best { shown: 0.75, predictions: &first }), &better, 0.755, 1);
        assert!((s2.eta - 0.003_53).abs() < 1e-4, "{s2:?}");
        assert!(s2.accepted && s2.shown == 0.755, "{s2:?}");
        // A sideways step (one row gained, one lost, the same 0.755): the
        // shown best stands, and so it would for anything within η of it.
        let Predictions::Classes(mut sideways) = preds(400, 303) else { unreachable!() };
        sideways[0] = 9;
        let sideways = Predictions::Classes(sideways);
        let s3 = step(&sol, &rows, Some(Best { shown: 0.755, predictions: &better }), &sideways, 0.755, 1);
        assert!(!s3.accepted && s3.shown == 0.755 && s3.eta > 0.0, "{s3:?}");
        // Worse: never shown.
        let worse = preds(400, 200);
        let s4 = step(&sol, &rows, Some(Best { shown: 0.755, predictions: &better }), &worse, 0.5, 1);
        assert!(!s4.accepted && s4.shown == 0.755);
    }

    #[test]
    fn metrics_that_are_not_a_mean_use_the_bootstrap() {
        assert_eq!(decimals(160), 3);
        assert_eq!(round_to(0.123_456, 3), 0.123);
        // Macro-F1 is not a mean over rows: the step comes from resamples,
        // and a big improvement is still accepted, a tiny one not.
        let sol = digits_like(MetricKind::MacroF1, 500);
        let rows: Vec<u32> = (0..500).collect();
        let base = preds(500, 250);
        let base_score = sol.score(&base, Some(&rows)).unwrap();
        let big = preds(500, 400);
        let big_score = sol.score(&big, Some(&rows)).unwrap();
        let s =
            step(&sol, &rows, Some(Best { shown: round_to(base_score, 3), predictions: &base }), &big, big_score, 5);
        assert!(s.accepted && s.eta > 0.0 && s.eta < 0.05, "{s:?}");
        let tiny = preds(500, 251);
        let tiny_score = sol.score(&tiny, Some(&rows)).unwrap();
        let s =
            step(&sol, &rows, Some(Best { shown: round_to(base_score, 3), predictions: &base }), &tiny, tiny_score, 5);
        assert!(!s.accepted, "{s:?}");
    }
}
