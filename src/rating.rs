//! The global rating, medals, tiers and points, written from their sources
//! (REFERENCE.md): Elo-MMR's logistic variant (Ebtekar & Liu, WWW 2021),
//! and Kaggle's medal thresholds, tiers and ranking points. Pure functions
//! over final standings; the talent pool recomputes them from scratch.
//!
//! Elo-MMR, per contest of weight `w`:
//! 1. diffusion: every entrant's σ² grows by γ² = σ_lim⁴ / ((β² − σ_lim²)/w);
//! 2. performance: each entrant's `p` solves
//!    Σ_below (1−L_j)/δ_j − Σ_above L_j/δ_j − Σ_tied (2L_j−1)/δ_j = 0 with
//!    L_j(x) = 1/(1+exp(−π(x−μ_j)/(√3 δ_j))), δ_j = √(σ_j² + σ_perf²);
//! 3. update: μ solves (μ−μ₀)/σ₀² + Σ_k (π/(√3σ_perf))·tanh(π(μ−p_k)/(2√3σ_perf)) = 0
//!    over the entrant's performances (bounded terms: one wild result moves
//!    the rating a bounded amount), and σ ← (1/σ² + 1/σ_perf²)^(−½).
//!
//! Speed: the sum over everyone in step 2, Σ_j L_j(x)/δ_j, is the same
//! function for every entrant; it is tabulated once on a fine grid, so a
//! contest costs O(grid × N) instead of O(N²) — 10,000 entrants in a
//! fraction of a second (`cargo bench --bench metrics` prints it). Tied
//! entrants share one equation, so they get one performance: the order of
//! tied members cannot matter.

use std::f64::consts::PI;

/// A newcomer's mean.
pub const MU0: f64 = 1500.0;
/// A newcomer's deviation.
pub const SIGMA0: f64 = 350.0;
/// The performance noise of one contest.
pub const BETA: f64 = 200.0;
/// The deviation a frequent competitor settles at.
pub const SIGMA_LIM: f64 = 80.0;

/// One person's rating state.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    /// Mean skill.
    pub mu: f64,
    /// Uncertainty.
    pub sigma: f64,
    /// Performances so far (the update's history).
    pub performances: Vec<f64>,
}

impl Default for Rating {
    fn default() -> Self {
        Self { mu: MU0, sigma: SIGMA0, performances: Vec::new() }
    }
}

impl Rating {
    /// The displayed, conservative rating μ − 2σ.
    pub fn display(&self) -> f64 {
        self.mu - 2.0 * self.sigma
    }
}

/// (σ_perf, γ²) of a contest of weight `w` (> 0).
pub fn diffusion(w: f64) -> (f64, f64) {
    let excess = (BETA * BETA - SIGMA_LIM * SIGMA_LIM) / w;
    ((SIGMA_LIM * SIGMA_LIM + excess).sqrt(), SIGMA_LIM.powi(4) / excess)
}

fn logistic(x: f64, mu: f64, delta: f64) -> f64 {
    1.0 / (1.0 + (-PI * (x - mu) / (3f64.sqrt() * delta)).exp())
}

/// Performances of a contest's entrants: `entrants[i] = (μ, σ after
/// diffusion)`, `ranks[i]` 1-based (equal ranks are ties).
pub fn performances(entrants: &[(f64, f64)], ranks: &[u32], sigma_perf: f64) -> Vec<f64> {
    let n = entrants.len();
    if n == 0 {
        return Vec::new();
    }
    let deltas: Vec<f64> = entrants.iter().map(|&(_, s)| (s * s + sigma_perf * sigma_perf).sqrt()).collect();
    // Σ_all L_j(x)/δ_j on a grid wide enough to hold every solution.
    let (lo_mu, hi_mu) = entrants.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), e| (a.min(e.0), b.max(e.0)));
    let (lo, hi) = (lo_mu - 4000.0, hi_mu + 4000.0);
    let steps = 4096usize;
    let h = (hi - lo) / steps as f64;
    let grid: Vec<f64> = (0..=steps)
        .map(|k| {
            let x = lo + k as f64 * h;
            entrants.iter().zip(&deltas).map(|(&(mu, _), &d)| logistic(x, mu, d) / d).sum()
        })
        .collect();
    let all = |x: f64| -> f64 {
        let t = ((x - lo) / h).clamp(0.0, steps as f64);
        let k = (t.floor() as usize).min(steps - 1);
        let f = t - k as f64;
        grid[k] * (1.0 - f) + grid[k + 1] * f
    };
    // Group by rank: a tie group shares one equation.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| ranks[i]);
    let total_inv: f64 = deltas.iter().map(|d| 1.0 / d).sum();
    let mut out = vec![0.0; n];
    let mut above_inv = 0.0; // Σ 1/δ over entrants ranked better than the group
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && ranks[order[end]] == ranks[order[start]] {
            end += 1;
        }
        let group = &order[start..end];
        let group_inv: f64 = group.iter().map(|&j| 1.0 / deltas[j]).sum();
        let below_inv = total_inv - above_inv - group_inv;
        // f(x) = Σ_below 1/δ − Σ_all L/δ + Σ_tied (1 − L)/δ, decreasing in x.
        let f = |x: f64| {
            let tied_l: f64 = group.iter().map(|&j| logistic(x, entrants[j].0, deltas[j]) / deltas[j]).sum();
            below_inv - all(x) + group_inv - tied_l
        };
        let (mut a, mut b) = (lo, hi);
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if f(m) > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
        let p = 0.5 * (a + b);
        for &j in group {
            out[j] = p;
        }
        above_inv += group_inv;
        start = end;
    }
    out
}

/// The robust mean of a history of performances (step 3).
pub fn robust_mu(performances: &[f64], sigma_perf: f64) -> f64 {
    let c = PI / (3f64.sqrt() * sigma_perf);
    let g = |mu: f64| {
        (mu - MU0) / (SIGMA0 * SIGMA0)
            + performances.iter().map(|p| c * (PI * (mu - p) / (2.0 * 3f64.sqrt() * sigma_perf)).tanh()).sum::<f64>()
    };
    let (lo, hi) = performances.iter().fold((MU0, MU0), |(a, b), &p| (a.min(p), b.max(p)));
    let (mut a, mut b) = (lo - 1.0, hi + 1.0);
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        if g(m) < 0.0 {
            a = m;
        } else {
            b = m;
        }
    }
    0.5 * (a + b)
}

/// Rates one contest: `players[i]` finished at `ranks[i]` (ties equal).
/// Returns each entrant's performance.
pub fn rate_contest(players: &mut [Rating], ranks: &[u32], weight: f64) -> Vec<f64> {
    assert_eq!(players.len(), ranks.len());
    if weight <= 0.0 {
        return vec![f64::NAN; players.len()];
    }
    let (sigma_perf, gamma2) = diffusion(weight);
    for p in players.iter_mut() {
        p.sigma = (p.sigma * p.sigma + gamma2).sqrt();
    }
    let entrants: Vec<(f64, f64)> = players.iter().map(|p| (p.mu, p.sigma)).collect();
    let perf = performances(&entrants, ranks, sigma_perf);
    for (p, &x) in players.iter_mut().zip(&perf) {
        p.performances.push(x);
        p.mu = robust_mu(&p.performances, sigma_perf);
        p.sigma = (1.0 / (p.sigma * p.sigma) + 1.0 / (sigma_perf * sigma_perf)).powf(-0.5);
    }
    perf
}

/// A medal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Medal {
    /// Gold.
    Gold,
    /// Silver.
    Silver,
    /// Bronze.
    Bronze,
}

impl Medal {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gold => "gold",
            Self::Silver => "silver",
            Self::Bronze => "bronze",
        }
    }
}

/// How many teams get gold, silver and bronze (cumulative: top g, top s,
/// top b) among `n` ranked teams, by Kaggle's table.
pub fn medal_cutoffs(n: usize) -> (usize, usize, usize) {
    let pct = |p: usize| n * p / 100;
    match n {
        0 => (0, 0, 0),
        1..=99 => (pct(10).max(1), pct(20).max(1), pct(40).max(1)),
        100..=249 => (10, pct(20), pct(40)),
        250..=999 => (10 + n * 2 / 1000, 50, 100),
        _ => (10 + n * 2 / 1000, pct(5), pct(10)),
    }
}

/// The medal of rank `rank` (1-based) among `n` teams.
pub fn medal(rank: u32, n: usize) -> Option<Medal> {
    let (g, s, b) = medal_cutoffs(n);
    let r = rank as usize;
    if r <= g {
        Some(Medal::Gold)
    } else if r <= s {
        Some(Medal::Silver)
    } else if r <= b {
        Some(Medal::Bronze)
    } else {
        None
    }
}

/// A tier, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Everyone starts here.
    Novice,
    /// A completed profile and one submission.
    Contributor,
    /// Two medals (bronze or better).
    Expert,
    /// One gold and two more medals of silver or better.
    Master,
    /// Five golds, at least one solo.
    Grandmaster,
}

impl Tier {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Novice => "novice",
            Self::Contributor => "contributor",
            Self::Expert => "expert",
            Self::Master => "master",
            Self::Grandmaster => "grandmaster",
        }
    }

    /// Every tier, lowest first.
    pub const ALL: [Tier; 5] = [Tier::Novice, Tier::Contributor, Tier::Expert, Tier::Master, Tier::Grandmaster];
}

/// The tier a record earns: its medals as (medal, solo), whether the
/// profile is complete and whether the person has submitted.
pub fn tier(medals: &[(Medal, bool)], profile_complete: bool, submitted: bool) -> Tier {
    let gold = medals.iter().filter(|m| m.0 == Medal::Gold).count();
    let solo_gold = medals.iter().any(|m| m.0 == Medal::Gold && m.1);
    let silver_up = medals.iter().filter(|m| m.0 <= Medal::Silver).count();
    if gold >= 5 && solo_gold {
        Tier::Grandmaster
    } else if gold >= 1 && silver_up >= 3 {
        Tier::Master
    } else if medals.len() >= 2 {
        Tier::Expert
    } else if profile_complete && submitted {
        Tier::Contributor
    } else {
        Tier::Novice
    }
}

/// Kaggle's ranking points for one result: 100000/√teammates ·
/// rank^−0.75 · log10(1 + log10(n)) · e^(−days/500).
pub fn points(rank: u32, n: usize, teammates: usize, days_since: f64) -> f64 {
    if n == 0 || rank == 0 {
        return 0.0;
    }
    100_000.0 / (teammates.max(1) as f64).sqrt()
        * f64::from(rank).powf(-0.75)
        * (1.0 + (n as f64).log10()).log10()
        * (-days_since.max(0.0) / 500.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medal_thresholds_follow_the_worked_examples() {
        assert_eq!(medal_cutoffs(50), (5, 10, 20));
        assert_eq!(medal_cutoffs(150), (10, 30, 60));
        assert_eq!(medal_cutoffs(500), (11, 50, 100));
        assert_eq!(medal_cutoffs(1000), (12, 50, 100));
        assert_eq!(medal_cutoffs(5000), (20, 250, 500));
        assert_eq!(medal_cutoffs(3), (1, 1, 1), "at least one of each");
        assert_eq!(medal(1, 3), Some(Medal::Gold));
        assert_eq!(medal(2, 3), None);
        assert_eq!(medal(11, 500), Some(Medal::Gold));
        assert_eq!(medal(12, 500), Some(Medal::Silver));
        assert_eq!(medal(100, 500), Some(Medal::Bronze));
        assert_eq!(medal(101, 500), None);
    }

    #[test]
    fn points_follow_the_worked_examples() {
        assert!((points(1, 1000, 1, 0.0) - 60_206.0).abs() < 1.0, "{}", points(1, 1000, 1, 0.0));
        assert!((points(1, 1000, 4, 0.0) - 30_103.0).abs() < 1.0);
        assert!((points(10, 1000, 1, 365.0) - 5_159.0).abs() < 1.0, "{}", points(10, 1000, 1, 365.0));
    }

    #[test]
    fn tiers_climb_with_medals() {
        use Medal::*;
        assert_eq!(tier(&[], false, true), Tier::Novice);
        assert_eq!(tier(&[], true, true), Tier::Contributor);
        assert_eq!(tier(&[(Bronze, false), (Bronze, false)], false, true), Tier::Expert);
        assert_eq!(tier(&[(Gold, false), (Silver, false), (Silver, false)], false, true), Tier::Master);
        assert_eq!(tier(&[(Gold, false), (Silver, false)], false, true), Tier::Expert);
        let five: Vec<(Medal, bool)> = (0..5).map(|i| (Gold, i == 0)).collect();
        assert_eq!(tier(&five, false, true), Tier::Grandmaster);
        let no_solo: Vec<(Medal, bool)> = (0..5).map(|_| (Gold, false)).collect();
        assert_eq!(tier(&no_solo, false, true), Tier::Master);
    }

    #[test]
    fn diffusion_matches_the_reference_constants() {
        let (sp, g2) = diffusion(1.0);
        assert!((sp - 200.0).abs() < 1e-9);
        assert!((g2.sqrt() - 34.9).abs() < 0.05, "{}", g2.sqrt());
    }

    #[test]
    fn a_two_person_contest_moves_winner_up_and_loser_down_symmetrically() {
        let mut p = vec![Rating::default(), Rating::default()];
        let perf = rate_contest(&mut p, &[1, 2], 1.0);
        assert!(perf[0] > 1500.0 && perf[1] < 1500.0);
        assert!((perf[0] - 1500.0 + perf[1] - 1500.0).abs() < 0.5, "symmetric: {perf:?}");
        assert!(p[0].mu > 1500.0 && p[1].mu < 1500.0);
        assert!((p[0].mu + p[1].mu - 3000.0).abs() < 0.5);
        assert!(p[0].sigma < SIGMA0, "uncertainty shrinks");
        // A tie between equals changes nobody's mean.
        let mut q = vec![Rating::default(), Rating::default()];
        rate_contest(&mut q, &[1, 1], 1.0);
        assert!((q[0].mu - 1500.0).abs() < 0.5 && (q[1].mu - 1500.0).abs() < 0.5);
    }

    #[test]
    fn ranking_worse_never_rates_higher() {
        // A field of mixed ratings; whoever finishes lower gets a lower (or
        // equal) performance and a lower (or equal) new mean than had they
        // finished higher.
        let field: Vec<Rating> = (0..40)
            .map(|i| Rating {
                mu: 1200.0 + f64::from(i * 17 % 600),
                sigma: 100.0 + f64::from(i % 5) * 40.0,
                performances: vec![],
            })
            .collect();
        let ranks: Vec<u32> = (1..=40).collect();
        let mut a = field.clone();
        let perf = rate_contest(&mut a, &ranks, 1.0);
        for w in perf.windows(2) {
            assert!(w[0] >= w[1] - 1e-6, "performance falls with rank: {w:?}");
        }
        // Entrant 10 swaps with the one just above: it does better, never worse.
        let mut swapped = ranks;
        swapped.swap(9, 8);
        let mut b = field;
        rate_contest(&mut b, &swapped, 1.0);
        assert!(b[9].mu >= a[9].mu - 1e-6 && b[8].mu <= a[8].mu + 1e-6);
    }

    #[test]
    fn the_order_of_tied_entrants_does_not_matter() {
        let field: Vec<Rating> = [1400.0, 1600.0, 1500.0, 1700.0]
            .iter()
            .map(|&mu| Rating { mu, sigma: 150.0, performances: vec![] })
            .collect();
        let mut a = field.clone();
        let pa = rate_contest(&mut a, &[1, 2, 2, 3], 1.0);
        let mut reordered = vec![field[0].clone(), field[2].clone(), field[1].clone(), field[3].clone()];
        let pb = rate_contest(&mut reordered, &[1, 2, 2, 3], 1.0);
        assert!((pa[1] - pa[2]).abs() < 1e-9, "tied entrants share a performance");
        assert!((pa[1] - pb[2]).abs() < 1e-9 && (pa[2] - pb[1]).abs() < 1e-9);
        assert!((a[1].mu - reordered[2].mu).abs() < 1e-9);
    }

    #[test]
    fn the_tabulated_sum_agrees_with_the_direct_solution() {
        // Direct O(N²) bisection for a small field as the reference.
        let entrants: Vec<(f64, f64)> =
            (0..25).map(|i| (1300.0 + f64::from(i) * 23.0, 120.0 + f64::from(i % 4) * 50.0)).collect();
        let ranks: Vec<u32> = (0..25).map(|i| [3, 1, 2, 5, 4][i % 5] + (i as u32 / 5) * 5).collect();
        let sp = 200.0;
        let fast = performances(&entrants, &ranks, sp);
        for i in 0..entrants.len() {
            let f = |x: f64| {
                let mut s = 0.0;
                for (j, &(mu, sg)) in entrants.iter().enumerate() {
                    let d = (sg * sg + sp * sp).sqrt();
                    let l = logistic(x, mu, d);
                    s += match ranks[j].cmp(&ranks[i]) {
                        std::cmp::Ordering::Greater => (1.0 - l) / d,
                        std::cmp::Ordering::Less => -l / d,
                        std::cmp::Ordering::Equal => -(2.0 * l - 1.0) / d,
                    };
                }
                s
            };
            let (mut a, mut b) = (-6000.0, 9000.0);
            for _ in 0..80 {
                let m = 0.5 * (a + b);
                if f(m) > 0.0 { a = m } else { b = m }
            }
            assert!((fast[i] - 0.5 * (a + b)).abs() < 0.05, "entrant {i}: {} vs {}", fast[i], 0.5 * (a + b));
        }
    }
}
