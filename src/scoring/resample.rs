//! Scores under bootstrap resamples of the test rows, for the metrics that
//! are not a mean over rows (`ties::bootstrap_with`): ROC AUC, balanced
//! accuracy, macro F1, mean IoU and Spearman. Each works from a resample's
//! weights (how often each row was drawn): with every weight 1 it is the
//! metric itself, and with integer weights it is the metric on the rows
//! repeated that often — the tests check both against `metrics`.
//!
//! Each team is prepared once (its wrong rows, or its rows in score order
//! with tie groups marked) and then scored under [`LANES`] resamples at a
//! time, lane by lane in fixed-size arrays the compiler vectorises.

use crate::ties::{Block, LANES, Means, Resample, TieStats, bootstrap, bootstrap_with};

/// Marks the last row of a group of equal scores in an order.
const END: u32 = 1 << 31;

/// A zeroed lane array.
const ZERO: [f32; LANES] = [0.0; LANES];

#[inline(always)]
fn add(a: &mut [f32; LANES], b: &[f32; LANES]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Rows `0..v.len()` ordered by `v` (ascending), each group of equal values
/// ending with a row marked [`END`].
fn groups(v: impl Fn(u32) -> f64, n: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| v(a).total_cmp(&v(b)));
    for i in 0..order.len() {
        // -0.0 and 0.0 are the same score.
        if order.get(i + 1).is_none_or(|&next| v(next) != v(order[i])) {
            order[i] |= END;
        }
    }
    order
}

/// A metric read from the confusion matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfusionMetric {
    /// Mean recall over the classes with true rows.
    BalancedAccuracy,
    /// Mean F1 over all the task's classes.
    MacroF1,
    /// Mean IoU over the classes present on either side.
    MeanIou,
}

/// Balanced accuracy, macro F1 or mean IoU of each team's class labels.
/// Only a team's wrong rows are kept: a class's true positives are its
/// (resampled) true rows less its false negatives.
pub struct Confusion {
    metric: ConfusionMetric,
    k: usize,
    truth: Vec<u32>,
    /// Per team, (row, predicted class) of each wrong row.
    wrong: Vec<Vec<(u32, u32)>>,
}

impl Confusion {
    /// `truth` and each team's `predicted` classes, below `k`.
    pub fn new(metric: ConfusionMetric, k: usize, truth: Vec<u32>, predicted: &[Vec<u32>]) -> Self {
        let wrong = predicted
            .iter()
            .map(|p| {
                let wrong = truth.iter().zip(p).enumerate().filter(|(_, (t, q))| t != q);
                wrong.map(|(r, (_, &q))| (r as u32, q)).collect()
            })
            .collect();
        Self { metric, k, truth, wrong }
    }
}

impl Resample for Confusion {
    /// Per class, the weight of its true rows.
    type Shared = Vec<[f32; LANES]>;
    type Team = usize;

    fn teams(&self) -> usize {
        self.wrong.len()
    }

    fn rows(&self) -> usize {
        self.truth.len()
    }

    fn shared(&self, w: &Block) -> Self::Shared {
        let mut actual = vec![ZERO; self.k];
        for (&c, w) in self.truth.iter().zip(w) {
            add(&mut actual[c as usize], w);
        }
        actual
    }

    fn team(&self, team: usize) -> usize {
        team
    }

    #[inline(always)]
    fn scores(&self, &team: &usize, w: &Block, actual: &Self::Shared, out: &mut [f64; LANES]) {
        let (mut fns, mut fps) = (vec![ZERO; self.k], vec![ZERO; self.k]);
        for &(r, p) in &self.wrong[team] {
            let w = &w[r as usize];
            add(&mut fns[self.truth[r as usize] as usize], w);
            add(&mut fps[p as usize], w);
        }
        for (l, out) in out.iter_mut().enumerate() {
            let (mut sum, mut used) = (0.0, 0usize);
            for c in 0..self.k {
                let (all, fn_, fp) = (f64::from(actual[c][l]), f64::from(fns[c][l]), f64::from(fps[c][l]));
                let tp = all - fn_;
                match self.metric {
                    ConfusionMetric::BalancedAccuracy if all > 0.0 => (sum, used) = (sum + tp / all, used + 1),
                    ConfusionMetric::MacroF1 => {
                        let d = 2.0 * tp + fp + fn_;
                        (sum, used) = (if d > 0.0 { sum + 2.0 * tp / d } else { sum }, used + 1);
                    }
                    ConfusionMetric::MeanIou if tp + fp + fn_ > 0.0 => {
                        (sum, used) = (sum + tp / (tp + fp + fn_), used + 1)
                    }
                    _ => {}
                }
            }
            *out = if used > 0 { sum / used as f64 } else { f64::NAN };
        }
    }
}

/// ROC AUC of each team's scores: binary (one column) or the mean of
/// one-vs-rest AUCs over the classes with both sides present in the
/// resample (`k` columns). Walking a team's rows in score order, each
/// positive counts the negatives' weight below it, and half of those tied.
///
/// The walk goes by stretches ([`Stretch`]): rows of one class in a row
/// only add up their weights (ties within a class change nothing), and a
/// stretch of positives counts the negatives below it once; only a group of
/// equal scores holding both classes is handled row by row. Weights are
/// whole numbers, so the sums are exact in `f32` and the counts in `f64`.
pub struct Auc {
    /// Per column, whether each row is positive.
    positive: Vec<Vec<bool>>,
    /// Per team, `n × columns` scores, row-major.
    scores: Vec<Vec<f64>>,
}

impl Auc {
    /// Binary: `positive` rows and each team's one score per row.
    pub fn binary(positive: Vec<bool>, scores: Vec<Vec<f64>>) -> Self {
        Self { positive: vec![positive], scores }
    }

    /// One-vs-rest over `k` classes: true classes and each team's `n × k`
    /// scores.
    pub fn one_vs_rest(truth: &[u32], k: usize, scores: Vec<Vec<f64>>) -> Self {
        let positive = (0..k as u32).map(|c| truth.iter().map(|&t| t == c).collect()).collect();
        Self { positive, scores }
    }
}

/// Consecutive rows of a team's score order, up to `end` (exclusive, an
/// index into [`AucColumn::rows`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stretch {
    /// Negatives only.
    Negative { end: u32 },
    /// Positives only.
    Positive { end: u32 },
    /// One group of equal scores with both classes: positives up to
    /// `split`, then negatives.
    Tied { split: u32, end: u32 },
}

/// One column of a team: its rows in score order, cut into stretches.
pub struct AucColumn {
    rows: Vec<u32>,
    stretches: Vec<Stretch>,
}

impl AucColumn {
    /// From rows in score order with tie groups marked ([`groups`]).
    fn new(order: &[u32], positive: &[bool]) -> Self {
        let mut rows = Vec::with_capacity(order.len());
        let mut stretches: Vec<Stretch> = Vec::new();
        let mut start = 0;
        for (i, &e) in order.iter().enumerate() {
            if e & END == 0 {
                continue;
            }
            let group = &order[start..=i];
            start = i + 1;
            let is_pos = |e: &&u32| positive[(**e & !END) as usize];
            let positives = group.iter().filter(is_pos).count();
            if positives > 0 && positives < group.len() {
                rows.extend(group.iter().filter(is_pos).map(|e| e & !END));
                let split = rows.len() as u32;
                rows.extend(group.iter().filter(|e| !is_pos(e)).map(|e| e & !END));
                stretches.push(Stretch::Tied { split, end: rows.len() as u32 });
                continue;
            }
            rows.extend(group.iter().map(|e| e & !END));
            let end = rows.len() as u32;
            let next = if positives > 0 { Stretch::Positive { end } } else { Stretch::Negative { end } };
            match (stretches.last_mut(), next) {
                (Some(Stretch::Positive { end: e }), Stretch::Positive { .. })
                | (Some(Stretch::Negative { end: e }), Stretch::Negative { .. }) => *e = end,
                _ => stretches.push(next),
            }
        }
        Self { rows, stretches }
    }
}

/// The weight of `rows` in each lane.
#[inline(always)]
fn weight_of(rows: &[u32], w: &Block) -> [f32; LANES] {
    let mut sum = ZERO;
    for &r in rows {
        add(&mut sum, &w[r as usize]);
    }
    sum
}

impl Resample for Auc {
    /// Per column, the weight of its positive rows.
    type Shared = Vec<[f32; LANES]>;
    /// Per column, the rows in score order in stretches.
    type Team = Vec<AucColumn>;

    fn teams(&self) -> usize {
        self.scores.len()
    }

    fn rows(&self) -> usize {
        self.positive[0].len()
    }

    fn shared(&self, w: &Block) -> Self::Shared {
        self.positive
            .iter()
            .map(|pos| {
                let mut p = ZERO;
                pos.iter().zip(w).filter(|(pos, _)| **pos).for_each(|(_, w)| add(&mut p, w));
                p
            })
            .collect()
    }

    fn team(&self, team: usize) -> Self::Team {
        let (k, s) = (self.positive.len(), &self.scores[team]);
        let column = |c: usize| AucColumn::new(&groups(|r| s[r as usize * k + c], self.rows()), &self.positive[c]);
        (0..k).map(column).collect()
    }

    #[inline(always)]
    fn scores(&self, team: &Self::Team, w: &Block, positives: &Self::Shared, out: &mut [f64; LANES]) {
        let n = self.rows() as f64;
        let (mut sum, mut used) = ([0f64; LANES], [0u32; LANES]);
        for (column, p) in team.iter().zip(positives) {
            // `below`: negative weight under the current stretch; `num`:
            // Σ positive weight × negatives below (+ half of those tied).
            let (mut below, mut num) = (ZERO, [0f64; LANES]);
            let mut start = 0;
            for stretch in &column.stretches {
                match *stretch {
                    Stretch::Negative { end } => {
                        add(&mut below, &weight_of(&column.rows[start..end as usize], w));
                        start = end as usize;
                    }
                    Stretch::Positive { end } => {
                        let gp = weight_of(&column.rows[start..end as usize], w);
                        for l in 0..LANES {
                            num[l] += f64::from(gp[l]) * f64::from(below[l]);
                        }
                        start = end as usize;
                    }
                    Stretch::Tied { split, end } => {
                        let gp = weight_of(&column.rows[start..split as usize], w);
                        let gn = weight_of(&column.rows[split as usize..end as usize], w);
                        for l in 0..LANES {
                            num[l] += f64::from(gp[l]) * (f64::from(below[l]) + 0.5 * f64::from(gn[l]));
                        }
                        add(&mut below, &gn);
                        start = end as usize;
                    }
                }
            }
            for l in 0..LANES {
                let (p, q) = (f64::from(p[l]), n - f64::from(p[l]));
                if p > 0.0 && q > 0.0 {
                    sum[l] += num[l] / (p * q);
                    used[l] += 1;
                }
            }
        }
        for l in 0..LANES {
            out[l] = if used[l] > 0 { sum[l] / f64::from(used[l]) } else { f64::NAN };
        }
    }
}

/// Spearman's correlation of each team's values with the truth: weighted
/// mid-ranks on both sides (a group of equal values drawn `G` times in all,
/// after `C` smaller ones, ranks `C + (G + 1)/2`), then their Pearson
/// correlation, whose mean rank is always `m = (n + 1)/2`.
///
/// Only the cross term needs the team's order. With `a_r = w_r·(t_r − m)`
/// (`t_r` the truth's mid-rank), the covariance is `Σ a_r·(C_r + (G_r +
/// 1)/2) / n`: the walk in the team's order adds `a_r·C_r`, and the rest is
/// the same for every team whose row is its own group (computed once per
/// resample), corrected only for the team's groups of equal values. Its
/// rank variance is likewise `Σ positions² − Σ (G³ − G)/12` over groups.
pub struct Spearman {
    truth: Vec<u32>,
    values: Vec<Vec<f64>>,
}

impl Spearman {
    /// The true values and each team's predictions.
    pub fn new(truth: &[f64], values: Vec<Vec<f64>>) -> Self {
        Self { truth: groups(|r| truth[r as usize], truth.len()), values }
    }
}

/// Walks `order` in groups, weights `w`: calls `group(rows, weight, rank)`
/// for each group with its lanes' total weight and mid-rank.
fn ranked(order: &[u32], w: &Block, mut group: impl FnMut(&[u32], &[f64; LANES], &[f64; LANES])) {
    let mut below = [0f64; LANES];
    let mut start = 0;
    for (i, &e) in order.iter().enumerate() {
        if e & END == 0 {
            continue;
        }
        let rows = &order[start..=i];
        let mut g = [0f64; LANES];
        for &r in rows {
            let wr = &w[(r & !END) as usize];
            for l in 0..LANES {
                g[l] += f64::from(wr[l]);
            }
        }
        let mut rank = [0f64; LANES];
        for l in 0..LANES {
            rank[l] = below[l] + (g[l] + 1.0) / 2.0;
            below[l] += g[l];
        }
        group(rows, &g, &rank);
        start = i + 1;
    }
}

/// What every team's Spearman under one block shares.
pub struct SpearmanBlock {
    /// Per row, `w·(t − m)` per lane (exact: halves times whole numbers).
    a: Vec<[f32; LANES]>,
    /// The draws per lane (`n`).
    n: [f64; LANES],
    /// `Σ a_r·(w_r + 1)/2`: the cross term's part that is the same for a
    /// team whose every row is its own group.
    cross: [f64; LANES],
    /// `Σ w·rank²` of such a team's ranks: `n(n+1)(2n+1)/6 − Σ (w³ − w)/12`.
    squares: [f64; LANES],
    /// The truth's rank variance.
    truth_var: [f64; LANES],
}

/// A team's rows in the order of its values, and where groups of equal
/// values (two rows or more) start and end.
pub struct SpearmanTeam {
    order: Vec<u32>,
    ties: Vec<(u32, u32)>,
}

impl Resample for Spearman {
    type Shared = SpearmanBlock;
    type Team = SpearmanTeam;

    fn teams(&self) -> usize {
        self.values.len()
    }

    fn rows(&self) -> usize {
        self.truth.len()
    }

    fn shared(&self, w: &Block) -> Self::Shared {
        let mut n = [0f64; LANES];
        for wr in w {
            for l in 0..LANES {
                n[l] += f64::from(wr[l]);
            }
        }
        let m: [f64; LANES] = std::array::from_fn(|l| (n[l] + 1.0) / 2.0);
        let mut a = vec![ZERO; self.rows()];
        let mut truth_squares = [0f64; LANES];
        ranked(&self.truth, w, |rows, g, rank| {
            for &r in rows {
                let r = (r & !END) as usize;
                a[r] = std::array::from_fn(|l| (f64::from(w[r][l]) * (rank[l] - m[l])) as f32);
            }
            for l in 0..LANES {
                truth_squares[l] += g[l] * rank[l] * rank[l];
            }
        });
        let (mut cross, mut cubes) = ([0f64; LANES], [0f64; LANES]);
        for (ar, wr) in a.iter().zip(w) {
            for l in 0..LANES {
                let wl = f64::from(wr[l]);
                cross[l] += f64::from(ar[l]) * (wl + 1.0) / 2.0;
                cubes[l] += (wl * wl * wl - wl) / 12.0;
            }
        }
        let squares = std::array::from_fn(|l| n[l] * (n[l] + 1.0) * (2.0 * n[l] + 1.0) / 6.0 - cubes[l]);
        let truth_var = std::array::from_fn(|l| truth_squares[l] / n[l] - m[l] * m[l]);
        SpearmanBlock { a, n, cross, squares, truth_var }
    }

    fn team(&self, team: usize) -> SpearmanTeam {
        let v = &self.values[team];
        let grouped = groups(|r| v[r as usize], v.len());
        let (mut ties, mut start) = (Vec::new(), 0u32);
        for (i, &e) in grouped.iter().enumerate() {
            if e & END != 0 {
                if i as u32 > start {
                    ties.push((start, i as u32 + 1));
                }
                start = i as u32 + 1;
            }
        }
        SpearmanTeam { order: grouped.iter().map(|e| e & !END).collect(), ties }
    }

    #[inline(always)]
    fn scores(&self, team: &SpearmanTeam, w: &Block, b: &SpearmanBlock, out: &mut [f64; LANES]) {
        let (mut below, mut walk) = ([0f64; LANES], [0f64; LANES]);
        let (mut cross, mut squares) = (b.cross, b.squares);
        let mut next = 0;
        let rows = team.order.len() as u32;
        for &(start, end) in team.ties.iter().chain(std::iter::once(&(rows, rows))) {
            for &r in &team.order[next as usize..start as usize] {
                let (ar, wr) = (&b.a[r as usize], &w[r as usize]);
                for l in 0..LANES {
                    walk[l] += f64::from(ar[l]) * below[l];
                    below[l] += f64::from(wr[l]);
                }
            }
            if start < end {
                let (mut ga, mut gw) = ([0f64; LANES], [0f64; LANES]);
                for &r in &team.order[start as usize..end as usize] {
                    let (ar, wr) = (&b.a[r as usize], &w[r as usize]);
                    for l in 0..LANES {
                        let (al, wl) = (f64::from(ar[l]), f64::from(wr[l]));
                        ga[l] += al;
                        gw[l] += wl;
                        // Undo the row's part of the shared terms.
                        cross[l] -= al * (wl + 1.0) / 2.0;
                        squares[l] += (wl * wl * wl - wl) / 12.0;
                    }
                }
                for l in 0..LANES {
                    walk[l] += ga[l] * below[l];
                    below[l] += gw[l];
                    cross[l] += ga[l] * (gw[l] + 1.0) / 2.0;
                    squares[l] -= (gw[l] * gw[l] * gw[l] - gw[l]) / 12.0;
                }
            }
            next = end;
        }
        for l in 0..LANES {
            let (n, m) = (b.n[l], (b.n[l] + 1.0) / 2.0);
            let (cov, vt, vp) = ((walk[l] + cross[l]) / n, b.truth_var[l], squares[l] / n - m * m);
            // A constant side has no variance (up to rounding).
            let tiny = 1e-9 * m * m;
            out[l] = if vt > tiny && vp > tiny { cov / (vt * vp).sqrt() } else { f64::NAN };
        }
    }
}

/// A board's teams, best first, under their metric: what
/// [`TieInput::bootstrap`] resamples.
pub enum TieInput {
    /// A function of means over rows (the matrix-product path).
    Means(Means),
    /// A confusion-matrix metric.
    Confusion(Confusion),
    /// ROC AUC.
    Auc(Auc),
    /// Spearman's correlation.
    Spearman(Spearman),
}

impl TieInput {
    /// Each team's interval and group (see `ties`).
    pub fn bootstrap(&self, higher: bool, resamples: usize, seed: u64) -> Vec<TieStats> {
        match self {
            Self::Means(m) => bootstrap(m, higher, resamples, seed),
            Self::Confusion(m) => bootstrap_with(m, higher, resamples, seed),
            Self::Auc(m) => bootstrap_with(m, higher, resamples, seed),
            Self::Spearman(m) => bootstrap_with(m, higher, resamples, seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::metrics;

    /// Lane 0: every row once; lane 1: row r drawn r mod 3 times (some rows
    /// left out, some repeated; `n` a multiple of 3, so that the weights
    /// add up to `n` as a resample's do).
    fn two_lanes(n: usize) -> Block {
        (0..n).map(|r| std::array::from_fn(|l| [1.0, (r % 3) as f32][l.min(1)])).collect()
    }

    fn repeated<T: Clone>(v: &[T]) -> Vec<T> {
        v.iter().enumerate().flat_map(|(r, x)| std::iter::repeat_n(x.clone(), r % 3)).collect()
    }

    fn lanes<R: Resample>(m: &R, team: usize, w: &Block) -> [f64; LANES] {
        let mut out = [0.0; LANES];
        m.scores(&m.team(team), w, &m.shared(w), &mut out);
        out
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 40) as f64 / (1u64 << 24) as f64
            })
            .collect()
    }

    #[test]
    fn confusion_metrics_match_their_functions_under_any_weights() {
        let n = 300;
        let truth: Vec<u32> = (0..n).map(|r| (r * 7 % 4) as u32).collect();
        let pred: Vec<u32> =
            noise(n, 1).iter().zip(&truth).map(|(x, &t)| if *x < 0.6 { t } else { (x * 5.0) as u32 }).collect();
        let w = two_lanes(n);
        let (ty, tp) = (repeated(&truth), repeated(&pred));
        for (kind, f) in [
            (ConfusionMetric::BalancedAccuracy, metrics::balanced_accuracy as fn(&[u32], &[u32], usize) -> _),
            (ConfusionMetric::MacroF1, metrics::macro_f1),
            (ConfusionMetric::MeanIou, metrics::mean_iou),
        ] {
            let m = Confusion::new(kind, 5, truth.clone(), std::slice::from_ref(&pred));
            let got = lanes(&m, 0, &w);
            close(got[0], f(&truth, &pred, 5).unwrap());
            close(got[1], f(&ty, &tp, 5).unwrap());
        }
    }

    #[test]
    fn auc_matches_the_metric_under_any_weights_with_ties() {
        let n = 240;
        // Scores rounded to tenths: many ties, within and across classes.
        let s: Vec<f64> = noise(n, 2).iter().map(|x| (x * 10.0).round() / 10.0).collect();
        let y: Vec<bool> = noise(n, 3).iter().zip(&s).map(|(x, s)| x + s > 0.9).collect();
        let w = two_lanes(n);
        let m = Auc::binary(y.clone(), vec![s.clone()]);
        let got = lanes(&m, 0, &w);
        close(got[0], metrics::roc_auc(&y, &s).unwrap());
        close(got[1], metrics::roc_auc(&repeated(&y), &repeated(&s)).unwrap());

        let k = 3;
        let truth: Vec<u32> = (0..n).map(|r| (r % k) as u32).collect();
        let probs: Vec<f64> = noise(n * k, 4).iter().map(|x| (x * 8.0).round()).collect();
        let m = Auc::one_vs_rest(&truth, k, vec![probs.clone()]);
        let got = lanes(&m, 0, &w);
        close(got[0], metrics::roc_auc_ovr(&truth, &probs, k).unwrap());
        let rows: Vec<Vec<f64>> = probs.chunks(k).map(<[f64]>::to_vec).collect();
        let (ty, tp) = (repeated(&truth), repeated(&rows).concat());
        close(got[1], metrics::roc_auc_ovr(&ty, &tp, k).unwrap());
    }

    #[test]
    fn spearman_matches_the_metric_under_any_weights_with_ties() {
        let n = 201;
        let y: Vec<f64> = noise(n, 5).iter().map(|x| (x * 20.0).round()).collect();
        let p: Vec<f64> = noise(n, 6).iter().zip(&y).map(|(x, y)| (x * 10.0 + y / 2.0).round()).collect();
        let w = two_lanes(n);
        let m = Spearman::new(&y, vec![p.clone()]);
        let got = lanes(&m, 0, &w);
        close(got[0], metrics::spearman(&y, &p).unwrap());
        close(got[1], metrics::spearman(&repeated(&y), &repeated(&p)).unwrap());
        // A constant prediction has no correlation: undefined, not 0.
        let flat = Spearman::new(&y, vec![vec![1.0; n]]);
        assert!(lanes(&flat, 0, &w)[0].is_nan());
    }

    #[test]
    fn untied_scores_walk_row_by_row_and_match_too() {
        // Continuous values: every row its own group, on both sides.
        let n = 300;
        let y: Vec<f64> = noise(n, 7);
        let p: Vec<f64> = noise(n, 8).iter().zip(&y).map(|(x, y)| x + y).collect();
        let w = two_lanes(n);
        let m = Spearman::new(&y, vec![p.clone()]);
        let got = lanes(&m, 0, &w);
        close(got[0], metrics::spearman(&y, &p).unwrap());
        close(got[1], metrics::spearman(&repeated(&y), &repeated(&p)).unwrap());
        let positive: Vec<bool> = y.iter().map(|v| *v > 0.6).collect();
        let m = Auc::binary(positive.clone(), vec![p.clone()]);
        let got = lanes(&m, 0, &w);
        close(got[0], metrics::roc_auc(&positive, &p).unwrap());
        close(got[1], metrics::roc_auc(&repeated(&positive), &repeated(&p)).unwrap());
    }

    #[test]
    fn a_resample_with_one_class_leaves_auc_undefined() {
        // The other lanes draw only the positive rows, twice each.
        let w: Block =
            (0..4).map(|r| std::array::from_fn(|l| [1.0, if r >= 2 { 2.0 } else { 0.0 }][l.min(1)])).collect();
        let m = Auc::binary(vec![false, false, true, true], vec![vec![0.1, 0.2, 0.3, 0.4]]);
        let got = lanes(&m, 0, &w);
        close(got[0], 1.0);
        assert!(got[1].is_nan());
    }

    #[test]
    fn clearly_different_f1_teams_separate_and_near_equal_ones_tie() {
        // 2,000 rows of 3 classes: 90 % right, 89.9 % right (two rows apart),
        // 60 % right.
        let n = 2000;
        let truth: Vec<u32> = (0..n).map(|r| (r % 3) as u32).collect();
        let wrong_from = |from: usize| -> Vec<u32> {
            truth.iter().enumerate().map(|(r, &t)| if r >= from { (t + 1) % 3 } else { t }).collect()
        };
        let teams = [wrong_from(1800), wrong_from(1798), wrong_from(1200)];
        let m = Confusion::new(ConfusionMetric::MacroF1, 3, truth.clone(), &teams);
        let stats = bootstrap_with(&m, true, crate::ties::RESAMPLES, 11);
        assert_eq!(stats[1].tied_with, Some(1), "{stats:?}");
        assert_eq!(stats[2].tied_with, None, "{stats:?}");
        let f1 = metrics::macro_f1(&truth, &teams[0], 3).unwrap();
        assert!(stats[0].lo < f1 && f1 < stats[0].hi, "{stats:?} around {f1}");
    }
}
