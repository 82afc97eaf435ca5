//! The global rating, medals, tiers and points, written from their sources
//! (REFERENCE.md): Elo-MMR's logistic variant (Ebtekar & Liu, WWW 2021),
//! and Kaggle's medal thresholds, tiers and ranking points. Pure functions
//! over final standings; the talent pool recomputes them from scratch.
//!
//! Elo-MMR as published, per contest of weight `w` (REFERENCE.md; the
//! defaults of the reference code: weight limit 0.2, σ_lim 80, ρ 1, so
//! β = 80·√(1 + 1/(0.2w)) and γ² = 0.2w·80²). Each person keeps a posterior
//! (μ, σ), a Gaussian factor (μ_N, σ_N) and one logistic factor per result.
//! A contest with fewer than two entrants, or where everyone ties, changes
//! nobody. Otherwise:
//! 1. diffusion with weight transfer: σ grows by γ, and old results hand
//!    part of their weight to the Gaussian factor centred on the current μ,
//!    so the rating follows recent form instead of every result for ever;
//! 2. performance: each entrant's `p` solves
//!    Σ_below (1−L_j)/δ_j − Σ_above L_j/δ_j − Σ_tied (2L_j−1)/δ_j = 0 with
//!    L_j(x) = 1/(1+exp(−π(x−μ_j)/(√3 δ_j))), δ_j = √(σ_j² + β²);
//! 3. update: μ solves (μ−μ_N)/σ_N² + Σ_k w_out_k·tanh((μ−p_k)·w_arg_k) = 0
//!    (bounded terms: one wild result moves the rating a bounded amount),
//!    and σ ← (1/σ² + 1/β²)^(−½).
//!
//! Checked to 1e-6 against the reference implementation's numbers
//! (`tests/fixtures/elommr-vectors.json`).
//!
//! Speed: the sum over everyone in step 2, Σ_j L_j(x)/δ_j, is the same
//! function for every entrant; it is tabulated once with its exact slope
//! and read by cubic Hermite interpolation (error far below 1e-6 in the
//! performance), so a contest costs O(grid × N) instead of O(N²): 10,000
//! entrants in a fraction of a second (`cargo bench --bench ranking`). Tied
//! entrants share one equation, so they get one performance: the order of
//! tied members cannot matter.

use std::f64::consts::PI;

/// A newcomer's mean.
pub const MU0: f64 = 1500.0;
/// A newcomer's deviation.
pub const SIGMA0: f64 = 350.0;
/// The deviation a frequent competitor settles at.
pub const SIGMA_LIM: f64 = 80.0;
/// The share of a contest's weight a result can carry (the reference
/// code's `weight_limit`).
pub const WEIGHT_LIMIT: f64 = 0.2;
/// How fast old results hand their weight to the Gaussian factor (ρ).
pub const TRANSFER_SPEED: f64 = 1.0;

/// π/√3: the logistic's scale against a normal of the same deviation.
const TANH_MULTIPLIER: f64 = PI / 1.732_050_807_568_877_2;

/// One result as a logistic factor of the posterior: centred on the
/// performance `p`, with weights that shrink as it ages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factor {
    /// The performance.
    pub p: f64,
    /// The factor's outer weight (shrinks with every later contest).
    pub w_out: f64,
    /// The factor's inner weight.
    pub w_arg: f64,
}

impl Factor {
    fn new(p: f64, beta: f64) -> Self {
        let w = TANH_MULTIPLIER / beta;
        Self { p, w_out: w, w_arg: w / 2.0 }
    }

    /// The weight this factor would hand to a Gaussian.
    fn weight(&self) -> f64 {
        self.w_arg * self.w_out * 2.0 / (TANH_MULTIPLIER * TANH_MULTIPLIER)
    }
}

/// One person's rating state.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    /// Mean skill.
    pub mu: f64,
    /// Uncertainty.
    pub sigma: f64,
    /// The Gaussian factor's mean (the prior, plus the weight old results
    /// transferred to it).
    pub normal_mu: f64,
    /// The Gaussian factor's deviation.
    pub normal_sigma: f64,
    /// One factor per result, oldest first.
    pub factors: Vec<Factor>,
}

impl Default for Rating {
    fn default() -> Self {
        Self { mu: MU0, sigma: SIGMA0, normal_mu: MU0, normal_sigma: SIGMA0, factors: Vec::new() }
    }
}

impl Rating {
    /// A person rated (μ, σ) with no history (a newcomer's prior elsewhere).
    pub fn new(mu: f64, sigma: f64) -> Self {
        Self { mu, sigma, normal_mu: mu, normal_sigma: sigma, factors: Vec::new() }
    }

    /// The displayed, conservative rating μ − 2σ.
    pub fn display(&self) -> f64 {
        self.mu - 2.0 * self.sigma
    }

    /// Step 1: σ grows by γ and old results transfer weight to the
    /// Gaussian factor (the reference code's `add_noise_best`).
    fn diffuse(&mut self, gamma2: f64) {
        let grown = (self.sigma * self.sigma + gamma2).sqrt();
        let kappa = (self.sigma / grown).powi(2);
        let t = kappa.powf(TRANSFER_SPEED);
        let normal_w = self.normal_sigma.powi(-2);
        let from_normal = t * normal_w;
        let from_results = (1.0 - t) * (normal_w + self.factors.iter().map(Factor::weight).sum::<f64>());
        let total = from_normal + from_results;
        self.normal_mu = (from_normal * self.normal_mu + from_results * self.mu) / total;
        self.normal_sigma = (kappa * total).recip().sqrt();
        for f in &mut self.factors {
            f.w_out *= t * kappa;
        }
        self.sigma = grown;
    }

    /// Step 3: a new result, then μ as the root of the factors' sum.
    fn update(&mut self, p: f64, beta: f64) {
        self.factors.push(Factor::new(p, beta));
        let normal_w = self.normal_sigma.powi(-2);
        let g = |x: f64| {
            let mut v = (x - self.normal_mu) * normal_w;
            let mut d = normal_w;
            for f in &self.factors {
                let th = ((x - f.p) * f.w_arg).tanh();
                v += f.w_out * th;
                d += f.w_out * f.w_arg * (1.0 - th * th);
            }
            (v, d)
        };
        // Every term grows with x and is zero at its centre: the root lies
        // between the lowest and the highest centre.
        let (lo, hi) = self.factors.iter().fold((self.normal_mu, self.normal_mu), |(a, b), f| (a.min(f.p), b.max(f.p)));
        self.mu = solve_increasing(g, lo, hi, self.mu.clamp(lo, hi));
        self.sigma = (self.sigma.powi(-2) + beta.powi(-2)).powf(-0.5);
    }
}

/// (β, γ²) of a contest of weight `w` (> 0): the performance noise and the
/// diffusion.
pub fn contest_params(w: f64) -> (f64, f64) {
    let w = w * WEIGHT_LIMIT;
    ((1.0 + 1.0 / w).sqrt() * SIGMA_LIM, w * SIGMA_LIM * SIGMA_LIM)
}

/// The root of an increasing `f` (value and slope) in `[lo, hi]`, by
/// Newton's method kept inside a shrinking bracket (bisection when a step
/// would leave it), to the last bit.
fn solve_increasing(f: impl Fn(f64) -> (f64, f64), mut lo: f64, mut hi: f64, start: f64) -> f64 {
    let mut x = start;
    for _ in 0..200 {
        let (v, d) = f(x);
        if v == 0.0 {
            return x;
        }
        if v < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - v / d;
        let next = if d > 0.0 && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        if next == x || hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
            return next;
        }
        x = next;
    }
    x
}

fn logistic(x: f64, mu: f64, delta: f64) -> f64 {
    1.0 / (1.0 + (-PI * (x - mu) / (3f64.sqrt() * delta)).exp())
}

/// Σ_j L_j(x)/δ_j tabulated with its slope on a grid, read by cubic
/// Hermite interpolation; constant beyond the grid's ends.
struct Tabulated {
    lo: f64,
    h: f64,
    values: Vec<f64>,
    slopes: Vec<f64>,
}

impl Tabulated {
    const STEPS: usize = 4096;

    fn new(entrants: &[(f64, f64)], lo: f64, hi: f64) -> Self {
        let h = (hi - lo) / Self::STEPS as f64;
        let (mut values, mut slopes) = (vec![0.0; Self::STEPS + 1], vec![0.0; Self::STEPS + 1]);
        for &(mu, delta) in entrants {
            let k = PI / (3f64.sqrt() * delta);
            for (i, (v, s)) in values.iter_mut().zip(slopes.iter_mut()).enumerate() {
                let l = 1.0 / (1.0 + (-k * (lo + i as f64 * h - mu)).exp());
                *v += l / delta;
                *s += k * l * (1.0 - l) / delta;
            }
        }
        Self { lo, h, values, slopes }
    }

    fn at(&self, x: f64) -> f64 {
        let t = (x - self.lo) / self.h;
        if t <= 0.0 {
            return self.values[0];
        }
        if t >= Self::STEPS as f64 {
            return self.values[Self::STEPS];
        }
        let k = (t.floor() as usize).min(Self::STEPS - 1);
        let u = t - k as f64;
        let (u2, u3) = (u * u, u * u * u);
        let (p0, p1) = (self.values[k], self.values[k + 1]);
        let (m0, m1) = (self.slopes[k] * self.h, self.slopes[k + 1] * self.h);
        (2.0 * u3 - 3.0 * u2 + 1.0) * p0 + (u3 - 2.0 * u2 + u) * m0 + (-2.0 * u3 + 3.0 * u2) * p1 + (u3 - u2) * m1
    }
}

/// Performances of a contest's entrants: `entrants[i] = (μ, σ after
/// diffusion)`, `ranks[i]` 1-based (equal ranks are ties), `beta` the
/// contest's performance noise.
pub fn performances(entrants: &[(f64, f64)], ranks: &[u32], beta: f64) -> Vec<f64> {
    let n = entrants.len();
    if n == 0 {
        return Vec::new();
    }
    let with_deltas: Vec<(f64, f64)> = entrants.iter().map(|&(mu, s)| (mu, (s * s + beta * beta).sqrt())).collect();
    // Wide enough to hold every solution (the reference code bounds them
    // to [−6000, 9000]).
    let (lo_mu, hi_mu) = entrants.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), e| (a.min(e.0), b.max(e.0)));
    let (lo, hi) = ((lo_mu - 4000.0).max(-6000.0), (hi_mu + 4000.0).min(9000.0));
    let all = Tabulated::new(&with_deltas, lo, hi);
    // Group by rank: a tie group shares one equation.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| ranks[i]);
    let total_inv: f64 = with_deltas.iter().map(|d| 1.0 / d.1).sum();
    let mut out = vec![0.0; n];
    let mut above_inv = 0.0; // Σ 1/δ over entrants ranked better than the group
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && ranks[order[end]] == ranks[order[start]] {
            end += 1;
        }
        let group = &order[start..end];
        let group_inv: f64 = group.iter().map(|&j| 1.0 / with_deltas[j].1).sum();
        let below_inv = total_inv - above_inv - group_inv;
        // f(x) = Σ_below 1/δ − Σ_all L/δ + Σ_tied (1 − L)/δ, decreasing in x.
        let f = |x: f64| {
            let tied_l: f64 =
                group.iter().map(|&j| logistic(x, with_deltas[j].0, with_deltas[j].1) / with_deltas[j].1).sum();
            below_inv - all.at(x) + group_inv - tied_l
        };
        let (mut a, mut b) = (lo, hi);
        while b - a > f64::EPSILON * a.abs().max(b.abs()).max(1.0) {
            let m = 0.5 * (a + b);
            if m <= a || m >= b {
                break;
            }
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

/// Whether a contest moves ratings: at least two entrants, not all tied.
pub fn contest_counts(ranks: &[u32]) -> bool {
    ranks.len() >= 2 && ranks.iter().any(|&r| r != ranks[0])
}

/// Rates one contest: `players[i]` finished at `ranks[i]` (ties equal).
/// Returns each entrant's performance, or `None` (and changes nobody) for
/// a contest that does not count ([`contest_counts`]).
pub fn rate_contest(players: &mut [Rating], ranks: &[u32], weight: f64) -> Option<Vec<f64>> {
    assert_eq!(players.len(), ranks.len());
    if weight <= 0.0 || !contest_counts(ranks) {
        return None;
    }
    let (beta, gamma2) = contest_params(weight);
    for p in players.iter_mut() {
        p.diffuse(gamma2);
    }
    let entrants: Vec<(f64, f64)> = players.iter().map(|p| (p.mu, p.sigma)).collect();
    let perf = performances(&entrants, ranks, beta);
    for (p, &x) in players.iter_mut().zip(&perf) {
        p.update(x, beta);
    }
    Some(perf)
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
    fn contest_params_match_the_reference_defaults() {
        let (beta, gamma2) = contest_params(1.0);
        assert!((beta - 195.959_179_422_654_24).abs() < 1e-9, "{beta}");
        assert!((gamma2.sqrt() - 35.777_087_639_996_64).abs() < 1e-9, "{}", gamma2.sqrt());
    }

    /// Every contest of the reference implementation's vectors: each
    /// entrant's performance and everyone's (μ, σ) afterwards, to 1e-6.
    #[test]
    fn every_contest_matches_the_reference_implementation() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/elommr-vectors.json")).expect("valid vectors");
        let mut people: std::collections::BTreeMap<String, Rating> = Default::default();
        let contests = vectors["contests"].as_array().expect("contests");
        assert_eq!(contests.len(), 30);
        for c in contests {
            let index = &c["index"];
            let mut names = Vec::new();
            let mut ranks = Vec::new();
            for (place, group) in c["standings"].as_array().expect("standings").iter().enumerate() {
                for name in group.as_array().expect("group") {
                    names.push(name.as_str().expect("name").to_owned());
                    ranks.push(place as u32 + 1);
                }
            }
            let mut players: Vec<Rating> = names.iter().map(|n| people.get(n).cloned().unwrap_or_default()).collect();
            let perf = rate_contest(&mut players, &ranks, 1.0).expect("every vector contest counts");
            for ((name, p), r) in names.iter().zip(&perf).zip(players) {
                let want = c["perf"][name].as_f64().expect("perf");
                assert!((p - want).abs() < 1e-6, "contest {index}, {name}: performance {p} vs {want}");
                people.insert(name.clone(), r);
            }
            let after = c["after"].as_object().expect("after");
            assert_eq!(after.len(), people.len(), "contest {index}: everyone seen so far");
            for (name, want) in after {
                let r = &people[name];
                let (mu, sigma) = (want["mu"].as_f64().expect("mu"), want["sigma"].as_f64().expect("sigma"));
                assert!((r.mu - mu).abs() < 1e-6, "contest {index}, {name}: μ {} vs {mu}", r.mu);
                assert!((r.sigma - sigma).abs() < 1e-6, "contest {index}, {name}: σ {} vs {sigma}", r.sigma);
            }
        }
        assert!((people["p1"].mu - 1_028.474_471).abs() < 1e-6, "first once, then last: lowest");
    }

    #[test]
    fn the_rating_follows_recent_form() {
        // Thirty contests at one level against a fixed field, then thirty at
        // a much higher one: with weight transfer the rating catches up,
        // without it it would stay near the mean of both eras.
        let field = |mu: f64| Rating { mu, sigma: 80.0, ..Rating::new(mu, 80.0) };
        let mut me = Rating::default();
        let play = |me: &mut Rating, beats: f64| {
            let mut players = vec![me.clone(), field(beats - 100.0), field(beats + 100.0)];
            rate_contest(&mut players, &[2, 3, 1], 1.0).expect("counts");
            *me = players.swap_remove(0);
        };
        for _ in 0..30 {
            play(&mut me, 1300.0);
        }
        let before = me.mu;
        for _ in 0..30 {
            play(&mut me, 2100.0);
        }
        assert!((before - 1300.0).abs() < 60.0, "settled near its level: {before}");
        assert!(me.mu > 2000.0, "follows the new level: {}", me.mu);
    }

    #[test]
    fn contests_without_an_outcome_change_nobody() {
        let mut alone = vec![Rating::default()];
        assert_eq!(rate_contest(&mut alone, &[1], 1.0), None);
        assert_eq!(alone[0], Rating::default());
        let mut tied = vec![Rating::default(), Rating::new(1700.0, 200.0)];
        let before = tied.clone();
        assert_eq!(rate_contest(&mut tied, &[1, 1], 1.0), None);
        assert_eq!(tied, before, "everyone tied: no diffusion either");
    }

    #[test]
    fn a_two_person_contest_moves_winner_up_and_loser_down_symmetrically() {
        let mut p = vec![Rating::default(), Rating::default()];
        let perf = rate_contest(&mut p, &[1, 2], 1.0).expect("counts");
        assert!(perf[0] > 1500.0 && perf[1] < 1500.0);
        assert!((perf[0] - 1500.0 + perf[1] - 1500.0).abs() < 1e-6, "symmetric: {perf:?}");
        assert!(p[0].mu > 1500.0 && p[1].mu < 1500.0);
        assert!((p[0].mu + p[1].mu - 3000.0).abs() < 1e-6);
        assert!(p[0].sigma < SIGMA0, "uncertainty shrinks");
    }

    #[test]
    fn ranking_worse_never_rates_higher() {
        // A field of mixed ratings; whoever finishes lower gets a lower (or
        // equal) performance and a lower (or equal) new mean than had they
        // finished higher.
        let field: Vec<Rating> =
            (0..40).map(|i| Rating::new(1200.0 + f64::from(i * 17 % 600), 100.0 + f64::from(i % 5) * 40.0)).collect();
        let ranks: Vec<u32> = (1..=40).collect();
        let mut a = field.clone();
        let perf = rate_contest(&mut a, &ranks, 1.0).expect("counts");
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
        let field: Vec<Rating> = [1400.0, 1600.0, 1500.0, 1700.0].iter().map(|&mu| Rating::new(mu, 150.0)).collect();
        let mut a = field.clone();
        let pa = rate_contest(&mut a, &[1, 2, 2, 3], 1.0).expect("counts");
        let mut reordered = vec![field[0].clone(), field[2].clone(), field[1].clone(), field[3].clone()];
        let pb = rate_contest(&mut reordered, &[1, 2, 2, 3], 1.0).expect("counts");
        assert!((pa[1] - pa[2]).abs() < 1e-9, "tied entrants share a performance");
        assert!((pa[1] - pb[2]).abs() < 1e-9 && (pa[2] - pb[1]).abs() < 1e-9);
        assert!((a[1].mu - reordered[2].mu).abs() < 1e-9);
    }

    #[test]
    fn the_tabulated_sum_agrees_with_the_direct_solution() {
        // Direct O(N²) bisection as the reference, over a wide field with
        // newcomers, veterans and ties.
        let entrants: Vec<(f64, f64)> = (0..300)
            .map(|i| (600.0 + f64::from(i * 37 % 300) * 11.0, [80.0, 120.0, 200.0, 352.0][i as usize % 4]))
            .collect();
        let ranks: Vec<u32> =
            (0..300).map(|i| [3, 1, 2, 5, 4][i % 5] + (i as u32 / 5) * 5).map(|r| r / 2 * 2).collect();
        let sp = contest_params(1.0).0;
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
            for _ in 0..100 {
                let m = 0.5 * (a + b);
                if f(m) > 0.0 { a = m } else { b = m }
            }
            assert!((fast[i] - 0.5 * (a + b)).abs() < 1e-7, "entrant {i}: {} vs {}", fast[i], 0.5 * (a + b));
        }
    }
}
