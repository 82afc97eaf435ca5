//! Near-duplicate predictions, for organizers to review: pairs of teams
//! whose best submissions agree on far more rows than their scores explain,
//! and model files shared across teams. Nothing here acts on its own: the
//! report names both teams' members and a person decides.
//!
//! Two submissions agree on a row when their predictions for it are the
//! same (classes and ranked items exactly; numbers within 1e-9 relative).
//! Rows where both are exactly right agree by necessity, so they explain
//! agreement; the *excess* is the share of agreeing rows among the rest
//! (rows where at least one of them is wrong or not exact). Two independent
//! models that are both 95 % accurate agree on ~90 % of rows but make
//! different mistakes (excess near 0); a copy makes the same ones (excess 1).
//! For probabilities and regression values nobody is ever exactly right, so
//! the excess is plain agreement: independent models never produce the same
//! floats row after row.
//!
//! Cost: teams are compared with the [`WINDOW`] teams nearest in public
//! score (a copy scores the same, give or take the rows it changed), so a
//! task of N teams costs N × WINDOW row-by-row comparisons. The files are
//! read one at a time, and only the parsed predictions of the last WINDOW
//! are held ([`similar_pairs`]). A task of more than [`SAMPLE_ROWS`] hidden
//! rows is compared on that many of them, evenly spaced and the same in
//! every file ([`Sample`]): at most WINDOW × SAMPLE_ROWS rows are held
//! however large the task, and a copy still agrees on every one of them.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::db::submissions;
use crate::error::{AppError, AppResult};
use crate::platform::Platform;
use crate::scoring::solution::Predictions;
use crate::tasks::spec_of;

/// Teams each team is compared with, in public-score order.
pub const WINDOW: usize = 25;

/// Below this many unexplained rows a pair is not judged (too little
/// evidence either way).
pub const MIN_ROWS: usize = 10;

/// The most rows of a task compared: a share measured on 100,000 rows has
/// a standard error of at most 0.16 percentage points.
pub const SAMPLE_ROWS: usize = 100_000;

/// The rows a review compares: every row of a task up to [`SAMPLE_ROWS`],
/// else that many evenly spaced.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// Every row.
    All,
    /// These rows, in order.
    Rows(Vec<usize>),
}

impl Sample {
    /// The sample of a task of `n` rows.
    pub fn of(n: usize) -> Self {
        if n <= SAMPLE_ROWS {
            return Sample::All;
        }
        Sample::Rows((0..SAMPLE_ROWS).map(|i| i * n / SAMPLE_ROWS).collect())
    }

    /// How many of a task's `n` rows it compares.
    pub fn len(&self, n: usize) -> usize {
        match self {
            Sample::All => n,
            Sample::Rows(rows) => rows.len(),
        }
    }

    /// `p` (predictions for every row, `k` a row when per class) cut to the
    /// sample's rows.
    pub fn keep(&self, p: Predictions, k: usize) -> Predictions {
        let Sample::Rows(rows) = self else { return p };
        let k = k.max(1);
        match p {
            Predictions::Classes(x) => Predictions::Classes(rows.iter().filter_map(|&r| x.get(r).copied()).collect()),
            Predictions::Values(x) => Predictions::Values(rows.iter().filter_map(|&r| x.get(r).copied()).collect()),
            Predictions::PerClass(x) => Predictions::PerClass(
                rows.iter().filter_map(|&r| x.get(r * k..(r + 1) * k)).flatten().copied().collect(),
            ),
            Predictions::Items(mut x) => {
                Predictions::Items(rows.iter().filter_map(|&r| x.get_mut(r).map(std::mem::take)).collect())
            }
        }
    }
}

/// How two submissions agree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Rows compared.
    pub rows: usize,
    /// Rows with the same prediction.
    pub same: usize,
    /// Rows both got exactly right.
    pub both_right: usize,
}

impl Agreement {
    /// Share of rows with the same prediction.
    pub fn share(&self) -> f64 {
        self.same as f64 / self.rows.max(1) as f64
    }

    /// Share of agreeing rows among those both-right does not explain.
    pub fn excess(&self) -> f64 {
        let rest = self.rows - self.both_right;
        if rest == 0 { 0.0 } else { (self.same - self.both_right) as f64 / rest as f64 }
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Whether row `r` of `a` and `b` holds the same prediction (`k` values a
/// row for per-class scores).
fn same_row(a: &Predictions, b: &Predictions, k: usize, r: usize) -> bool {
    match (a, b) {
        (Predictions::Classes(x), Predictions::Classes(y)) => x[r] == y[r],
        (Predictions::Values(x), Predictions::Values(y)) => close(x[r], y[r]),
        (Predictions::PerClass(x), Predictions::PerClass(y)) => {
            x[r * k..(r + 1) * k].iter().zip(&y[r * k..(r + 1) * k]).all(|(p, q)| close(*p, *q))
        }
        (Predictions::Items(x), Predictions::Items(y)) => x[r] == y[r],
        _ => false,
    }
}

fn rows_of(p: &Predictions, k: usize) -> usize {
    match p {
        Predictions::Classes(x) => x.len(),
        Predictions::Values(x) => x.len(),
        Predictions::PerClass(x) => x.len() / k.max(1),
        Predictions::Items(x) => x.len(),
    }
}

/// How `a` and `b` agree, `perfect` being the right answers (same layout).
pub fn agreement(a: &Predictions, b: &Predictions, perfect: &Predictions, k: usize) -> Agreement {
    let rows = rows_of(a, k).min(rows_of(b, k)).min(rows_of(perfect, k));
    let (mut same, mut both_right) = (0, 0);
    for r in 0..rows {
        if same_row(a, b, k, r) {
            same += 1;
            if same_row(a, perfect, k, r) {
                both_right += 1;
            }
        }
    }
    Agreement { rows, same, both_right }
}

/// One team in a pair.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamRef {
    /// Team id.
    pub team_id: i64,
    /// Team name.
    pub team: String,
    /// Its members' usernames.
    pub members: Vec<String>,
    /// The submission compared (its best public one).
    pub submission_id: i64,
    /// Its public score.
    pub public_score: f64,
}

/// Two teams whose best submissions agree more than their scores explain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarPair {
    /// One team.
    pub a: TeamRef,
    /// The other.
    pub b: TeamRef,
    /// Hidden rows compared (at most [`SAMPLE_ROWS`]).
    pub rows: usize,
    /// Share of rows with the same prediction.
    pub same_share: f64,
    /// Share of rows both got exactly right.
    pub both_right_share: f64,
    /// Share of the other rows on which they still agree (what is flagged).
    pub excess: f64,
}

/// One model file submitted by more than one team.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SharedModel {
    /// The file's SHA-256.
    pub sha256: String,
    /// The teams (name and members) that submitted it, and which submission.
    pub teams: Vec<TeamRef>,
}

/// What an organizer reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    /// Task slug.
    pub task: String,
    /// The excess share at or above which a pair is listed.
    pub threshold: f64,
    /// Teams compared (those on the public board).
    pub teams: usize,
    /// The task's hidden rows.
    pub rows: usize,
    /// Rows compared: every row, or [`SAMPLE_ROWS`] of them evenly spaced.
    pub rows_compared: usize,
    /// Pairs listed, most similar first.
    pub pairs: Vec<SimilarPair>,
    /// Model files shared across teams.
    pub shared_models: Vec<SharedModel>,
}

/// The review of task `slug` for its organizer or an admin: pairs whose
/// excess agreement is at least `threshold` (default 0.8, in (0, 1]).
pub async fn review(state: &Platform, me: &CurrentUser, slug: &str, threshold: Option<f64>) -> AppResult<Review> {
    let task = crate::leaderboard::organizer_task(state, me, slug).await?;
    let threshold = threshold.unwrap_or(0.8);
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(AppError::invalid("invalid_threshold", crate::msg!("threshold_range")));
    }
    let spec = spec_of(&task)?;
    let mut members: HashMap<i64, Vec<String>> = HashMap::new();
    for m in crate::db::teams::members_of_task(&state.db.pool, task.task_id).await? {
        members.entry(m.team_id).or_default().push(m.username);
    }
    // Every submission, scored or not: shared model files count whatever
    // their runs did; the best ones are looked up among them.
    let every = submissions::of_task(&state.db.pool, task.task_id, i64::from(u32::MAX), 0).await?;
    let by_id: HashMap<i64, &submissions::SubmissionRow> = every.iter().map(|s| (s.submission_id, s)).collect();
    let team_ref = |s: &submissions::SubmissionRow| TeamRef {
        team_id: s.team_id,
        team: s.team_name.clone(),
        members: members.get(&s.team_id).cloned().unwrap_or_default(),
        submission_id: s.submission_id,
        public_score: s.public_score.unwrap_or(f64::NAN),
    };

    // Model files shared across teams, oldest submission first.
    let mut by_file: BTreeMap<&str, Vec<&submissions::SubmissionRow>> = BTreeMap::new();
    for s in every.iter().rev().filter(|s| s.kind == "model") {
        let list = by_file.entry(s.blob_hash.as_str()).or_default();
        if !list.iter().any(|o| o.team_id == s.team_id) {
            list.push(s);
        }
    }
    let shared_models = by_file
        .into_iter()
        .filter(|(_, teams)| teams.len() > 1)
        .map(|(hash, teams)| SharedModel { sha256: hash.to_owned(), teams: teams.into_iter().map(team_ref).collect() })
        .collect();

    // Each team's best public submission, in public-score order.
    let computed = state.boards.computed(&task, &spec).await?;
    let best: Vec<&submissions::SubmissionRow> =
        computed.public().iter().filter_map(|st| by_id.get(&st.submission_id).copied()).collect();
    let solution = crate::leaderboard::current_solution(state, &task, &spec).await?;
    let k = spec.format().class_count();
    let rows = solution.solution.len();
    let sample = Sample::of(rows);
    let rows_compared = sample.len(rows);
    let files: Vec<(i64, String)> =
        best.iter().filter_map(|s| Some((s.submission_id, s.predictions_blob()?.to_owned()))).collect();
    let (blobs, runtime) = (state.blobs.clone(), tokio::runtime::Handle::current());
    let found = tokio::task::spawn_blocking(move || {
        let perfect = sample.keep(solution.solution.perfect_predictions(), k);
        // Each file is fetched when its turn comes, cut to the sample once
        // parsed and dropped.
        let read = files.into_iter().map(|(id, hash)| {
            let bytes = runtime.block_on(blobs.get(&hash))?;
            anyhow::Ok((id, solution.solution.parse_submission(&bytes).ok().map(|p| sample.keep(p, k))))
        });
        similar_pairs(read, &perfect, k, threshold)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::store)?;
    let mut pairs: Vec<SimilarPair> = found
        .into_iter()
        .filter_map(|(a, b, agreed)| {
            Some(SimilarPair {
                a: team_ref(by_id.get(&a)?),
                b: team_ref(by_id.get(&b)?),
                rows: agreed.rows,
                same_share: agreed.share(),
                both_right_share: agreed.both_right as f64 / agreed.rows.max(1) as f64,
                excess: agreed.excess(),
            })
        })
        .collect();
    pairs.sort_by(|x, y| y.excess.total_cmp(&x.excess).then(y.same_share.total_cmp(&x.same_share)));
    Ok(Review { task: task.slug, threshold, teams: best.len(), rows, rows_compared, pairs, shared_models })
}

/// The pairs among `files` (each a submission and its predictions, `None`
/// if they could not be read, in board order) whose excess agreement is at
/// least `threshold`, each file compared with the [`WINDOW`] read before
/// it; the earlier of each pair first, in board order. Only the window's
/// predictions are held, so memory does not grow with the number of teams.
pub fn similar_pairs<E>(
    files: impl Iterator<Item = Result<(i64, Option<Predictions>), E>>,
    perfect: &Predictions,
    k: usize,
    threshold: f64,
) -> Result<Vec<(i64, i64, Agreement)>, E> {
    let mut window: VecDeque<(usize, i64, Predictions)> = VecDeque::with_capacity(WINDOW);
    let mut found = Vec::new();
    for (at, file) in files.enumerate() {
        let (id, Some(b)) = file? else { continue };
        for (a_at, a_id, a) in &window {
            let agreed = agreement(a, &b, perfect, k);
            if agreed.rows - agreed.both_right >= MIN_ROWS && agreed.excess() >= threshold {
                found.push(((*a_at, at), (*a_id, id, agreed)));
            }
        }
        if window.len() == WINDOW {
            window.pop_front();
        }
        window.push_back((at, id, b));
    }
    // Found by the later of each pair; listed by the earlier first, as
    // ties in the caller's sort keep the order.
    found.sort_by_key(|(order, _)| *order);
    let found = found.into_iter().map(|(_, pair)| pair).collect();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` files of 200 random class labels (independent: ~10 % agree),
    /// where `copies` maps a position to the earlier one it copies.
    fn files(n: usize, copies: &[(usize, usize)]) -> Vec<Predictions> {
        let mut state = 5u64;
        let mut out: Vec<Predictions> = Vec::new();
        for at in 0..n {
            let p = match copies.iter().find(|c| c.0 == at) {
                Some(&(_, from)) => out[from].clone(),
                None => Predictions::Classes(
                    (0..200)
                        .map(|_| {
                            state =
                                state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                            ((state >> 33) % 10) as u32
                        })
                        .collect(),
                ),
            };
            out.push(p);
        }
        out
    }

    #[test]
    fn similar_pairs_compare_each_file_with_the_window_before_it() {
        let truth = Predictions::Classes(vec![0; 200]);
        let ids = |found: Vec<(i64, i64, Agreement)>| found.into_iter().map(|(a, b, _)| (a, b)).collect::<Vec<_>>();
        let read = |files: Vec<Predictions>, unreadable: &[usize]| {
            files
                .into_iter()
                .enumerate()
                .map(|(at, p)| Ok::<_, ()>((100 + at as i64, (!unreadable.contains(&at)).then_some(p))))
                .collect::<Vec<_>>()
        };
        // WINDOW apart is compared; one more is not.
        let found = similar_pairs(read(files(30, &[(25, 0), (29, 3)]), &[]).into_iter(), &truth, 10, 0.8).unwrap();
        assert_eq!(ids(found), [(100, 125)]);
        // A file that could not be read takes no place in the window.
        let found = similar_pairs(read(files(30, &[(29, 3)]), &[10]).into_iter(), &truth, 10, 0.8).unwrap();
        assert_eq!(ids(found), [(103, 129)]);
        // Several pairs: listed by the earlier of each, then the later.
        let copies = [(5, 4), (6, 2), (7, 4), (8, 1)];
        let found = similar_pairs(read(files(9, &copies), &[]).into_iter(), &truth, 10, 0.8).unwrap();
        assert_eq!(ids(found), [(101, 108), (102, 106), (104, 105), (104, 107), (105, 107)]);
        // A store error ends the review.
        let mut broken = read(files(3, &[]), &[]);
        broken[1] = Err(());
        assert_eq!(similar_pairs(broken.into_iter(), &truth, 10, 0.8).unwrap_err(), ());
    }

    #[test]
    fn agreement_counts_shared_mistakes_not_shared_right_answers() {
        let truth = Predictions::Classes((0..100).map(|i| i % 10).collect());
        // Two independent 90 % models: wrong on different rows.
        let a = Predictions::Classes((0..100).map(|i| if i % 10 == 0 { 9 } else { i % 10 }).collect());
        let b = Predictions::Classes((0..100).map(|i| if i % 10 == 5 { 9 } else { i % 10 }).collect());
        let ab = agreement(&a, &b, &truth, 10);
        assert_eq!((ab.rows, ab.same, ab.both_right), (100, 80, 80));
        assert_eq!(ab.excess(), 0.0, "agreeing only where both are right");
        // A copy that changed two rows: the same mistakes.
        let c = Predictions::Classes(
            (0..100)
                .map(|i| {
                    if i % 10 == 0 {
                        9
                    } else if i == 1 || i == 2 {
                        0
                    } else {
                        i % 10
                    }
                })
                .collect(),
        );
        let ac = agreement(&a, &c, &truth, 10);
        assert_eq!(ac.same, 98);
        assert!((ac.excess() - 10.0 / 12.0).abs() < 1e-12, "{}", ac.excess());
    }

    #[test]
    fn a_large_task_is_compared_on_evenly_spaced_rows_the_same_in_every_file() {
        assert_eq!(Sample::of(SAMPLE_ROWS), Sample::All);
        let n = 2 * SAMPLE_ROWS + 7;
        let Sample::Rows(rows) = Sample::of(n) else { panic!("{n} rows are sampled") };
        assert_eq!(rows.len(), SAMPLE_ROWS);
        assert!(rows[0] == 0 && rows.windows(2).all(|w| w[1] - w[0] >= 2) && rows[SAMPLE_ROWS - 1] < n);
        let sample = Sample::of(n);
        assert_eq!((Sample::of(7).len(7), sample.len(n)), (7, SAMPLE_ROWS));
        // Each kind keeps exactly the sample's rows, per-class rows whole.
        let Predictions::Values(v) = sample.keep(Predictions::Values((0..n).map(|i| i as f64).collect()), 1) else {
            panic!()
        };
        assert!(v.iter().zip(&rows).all(|(&v, &r)| v == r as f64) && v.len() == SAMPLE_ROWS);
        let Predictions::Classes(c) = sample.keep(Predictions::Classes((0..n as u32).collect()), 1) else { panic!() };
        assert!(c.iter().zip(&rows).all(|(&c, &r)| c as usize == r));
        let per_class = Predictions::PerClass((0..3 * n).map(|i| i as f64).collect());
        let Predictions::PerClass(p) = sample.keep(per_class, 3) else { panic!() };
        assert_eq!(p.len(), 3 * SAMPLE_ROWS);
        assert_eq!(&p[3..6], &[3.0 * rows[1] as f64, 3.0 * rows[1] as f64 + 1.0, 3.0 * rows[1] as f64 + 2.0]);
        let items = Predictions::Items((0..n).map(|i| vec![Box::from(i.to_string().as_str())]).collect());
        let Predictions::Items(items) = sample.keep(items, 1) else { panic!() };
        assert_eq!(*items[SAMPLE_ROWS - 1][0], rows[SAMPLE_ROWS - 1].to_string());
        // A copy still agrees on every sampled row; an independent file does not.
        let truth = sample.keep(Predictions::Classes(vec![0; n]), 1);
        let mut state = 7u64;
        let mut labels = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % 10) as u32
        };
        let a: Vec<u32> = (0..n).map(|_| labels()).collect();
        let b: Vec<u32> = (0..n).map(|_| labels()).collect();
        let files = [a.clone(), b, a].map(|p| Ok::<_, ()>((0, Some(sample.keep(Predictions::Classes(p), 1)))));
        let found =
            similar_pairs(files.into_iter().enumerate().map(|(i, f)| f.map(|(_, p)| (i as i64, p))), &truth, 10, 0.8);
        let found = found.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1, found[0].2.rows), (0, 2, SAMPLE_ROWS));
        assert_eq!(found[0].2.excess(), 1.0);
    }

    #[test]
    fn numbers_agree_within_a_relative_tolerance_and_per_class_rows_whole() {
        let truth = Predictions::Values(vec![1.0, 2.0, 3.0]);
        let a = Predictions::Values(vec![0.5, 2.5, 3.25]);
        let b = Predictions::Values(vec![0.5 + 1e-12, 2.5, 3.0]);
        let ab = agreement(&a, &b, &truth, 1);
        assert_eq!((ab.same, ab.both_right), (2, 0));
        let p = Predictions::PerClass(vec![0.2, 0.8, 0.6, 0.4]);
        let q = Predictions::PerClass(vec![0.2, 0.8, 0.6, 0.39]);
        let t = Predictions::PerClass(vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(agreement(&p, &q, &t, 2).same, 1);
    }
}
