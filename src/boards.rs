//! Boards: a task's public and private standings, computed from its scored
//! submissions by the rules in `competition`, cached per task and served
//! as rows (teams ranked, baselines slotted in by score) to the API, the
//! pages and the talent pool alike.
//!
//! Invariants: a board is computed from the database alone and cached under
//! the task's `board_version`, which triggers bump in the same transaction as
//! every change that can move it or its rows (scores, selections, teams,
//! names, members, baselines, the schedule), so a cached board is never
//! stale once the task row read with it is current, on every replica. The
//! rows themselves are cached too: serving a board costs the task row and
//! serialisation, and one request per version computes it while the others
//! wait for it. Fuel is shown to 3 significant digits ([`round3`]): exact
//! fuel would be a side channel for hidden inputs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::bundle::TaskSpec;
use crate::competition::{Standing, private_board, public_board};
use crate::db::{self, Db, submissions, tasks, teams};

/// Task rows with their parsed specs, kept while the row stands: a hot read
/// (a board at the deadline) costs one small query for the row's head
/// instead of the whole row and a JSON parse.
#[derive(Debug, Default)]
pub struct TaskRows {
    rows: std::sync::Mutex<HashMap<String, CachedTask>>,
}

/// A task row and its parsed spec, shared.
pub type CachedTask = (Arc<tasks::TaskRow>, Arc<TaskSpec>);

impl TaskRows {
    /// The task `slug` and its spec, current as of the head read now.
    pub async fn get(&self, db: &crate::db::Db, slug: &str) -> crate::error::AppResult<Option<CachedTask>> {
        let Some(head) = tasks::head_by_slug(&db.pool, slug).await? else { return Ok(None) };
        let cached = self.rows.lock().unwrap_or_else(|e| e.into_inner()).get(slug).cloned();
        let fresh = match cached {
            Some((row, spec)) if row.task_id == head.task_id && row.updated_at == head.updated_at => {
                if row.board_version == head.board_version {
                    return Ok(Some((row, spec)));
                }
                (Arc::new(tasks::TaskRow { board_version: head.board_version, ..(*row).clone() }), spec)
            }
            _ => {
                let Some(row) = tasks::by_slug(&db.pool, slug).await? else { return Ok(None) };
                let spec = Arc::new(crate::bundle::spec_of(&row)?);
                (Arc::new(row), spec)
            }
        };
        self.rows.lock().unwrap_or_else(|e| e.into_inner()).insert(slug.to_owned(), fresh.clone());
        Ok(Some(fresh))
    }
}

/// One row of a board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardEntry {
    /// 1-based rank; `null` for a baseline.
    pub rank: Option<u32>,
    /// Team name, or the baseline's name.
    pub team: String,
    /// Team id (absent for baselines).
    pub team_id: Option<i64>,
    /// Members' usernames.
    pub members: Vec<String>,
    /// The score that ranks the team on this board.
    pub score: f64,
    /// Submissions the team made.
    pub entries: i64,
    /// Time of the team's last submission (RFC 3339).
    pub last_submission_at: Option<String>,
    /// A displayed, unranked reference row.
    pub baseline: bool,
    /// Efficiency: fuel the ranking submission used, when it is a model
    /// (3 significant digits).
    pub fuel_used: Option<i64>,
    /// After the close: rank on the public board.
    pub public_rank: Option<u32>,
    /// After the close: rank on the private board.
    pub private_rank: Option<u32>,
    /// After the close: public rank − private rank (positive = climbed).
    pub movement: Option<i64>,
    /// The score's 95 % bootstrap interval over the board's rows (the private
    /// board; the public one on request), for metrics that are a mean over
    /// rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// When the team is not significantly different from the one above it:
    /// the best rank of its group ("tied with #3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tied_with: Option<u32>,
}

/// Both boards of a task, computed from its scored submissions.
pub struct TaskBoards {
    /// The public board.
    pub public: Vec<Standing>,
    /// The private board.
    pub private: Vec<Standing>,
}

/// Both boards of a task from its scored submissions, without these teams.
pub fn boards(subs: &[submissions::SubmissionRow], spec: &TaskSpec, disqualified: &HashSet<i64>) -> TaskBoards {
    let higher = spec.metric.higher_is_better;
    TaskBoards {
        public: public_board(subs, higher, disqualified),
        private: private_board(subs, higher, spec.submissions.final_selections, disqualified),
    }
}

/// What a task's boards and chart are built from, computed once per change
/// of its scored submissions (and disqualifications) and cached.
pub struct Computed {
    boards: TaskBoards,
    /// Per team: (scored submissions, last one's time in ms).
    counts: HashMap<i64, (i64, i64)>,
    /// Per submission: fuel used (models).
    fuel: HashMap<i64, i64>,
    /// The [`LEADERS`] teams with the best public scores so far, best first:
    /// name and progress line — the team's best public score at each
    /// improvement (ms, score), counting what the public board counts (the
    /// score-over-time chart draws them).
    pub leaders: Vec<(String, Vec<(i64, f64)>)>,
}

/// Teams drawn on the score-over-time chart.
pub const LEADERS: usize = 6;

impl Computed {
    /// The private board's standings, best first.
    pub fn private(&self) -> &[Standing] {
        &self.boards.private
    }

    /// The public board's standings, best first.
    pub fn public(&self) -> &[Standing] {
        &self.boards.public
    }
}

/// A board's rows, shared by every request of one board version.
pub type Rows = Arc<Vec<BoardEntry>>;

/// Which rows: (task, private, closed).
type RowsKey = (i64, bool, bool);

/// Every task's boards: the database and each task's cached [`Computed`]
/// with the board version it was computed at.
pub struct Boards {
    db: Db,
    cache: std::sync::Mutex<HashMap<i64, (i64, Arc<Computed>)>>,
    /// Rows per (task, private, closed), with the version they were built at.
    rows: std::sync::Mutex<HashMap<RowsKey, (i64, Rows)>>,
    /// One computation per task at a time: the requests that arrive while a
    /// board is being built wait for it instead of building it again.
    building: std::sync::Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// Every task's activity, read at most every [`ACTIVITY_TTL`] (one
    /// refresh at a time; the requests meanwhile wait for it).
    activity: tokio::sync::Mutex<Option<(std::time::Instant, ActivityMap)>>,
}

/// A task's activity as the home page shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Teams with at least one member.
    pub teams: i64,
    /// Submissions in the last 24 hours.
    pub recent: i64,
}

/// Every task's activity by task id.
pub type ActivityMap = Arc<HashMap<i64, Activity>>;

/// How long the activity counts are reused: the home page, which everyone
/// opens at a deadline, costs two grouped queries every few seconds
/// instead of two queries per task per view.
const ACTIVITY_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl std::fmt::Debug for Boards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boards").finish_non_exhaustive()
    }
}

impl Boards {
    /// Boards over `db`, nothing cached yet.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Default::default(),
            rows: Default::default(),
            building: Default::default(),
            activity: Default::default(),
        }
    }

    /// Every task's activity (teams; submissions since `day_ago`, in ms), at
    /// most [`ACTIVITY_TTL`] old; a task missing from the map has none.
    pub async fn activity(&self, day_ago: i64) -> sqlx::Result<ActivityMap> {
        let mut cached = self.activity.lock().await;
        if let Some((at, map)) = &*cached
            && at.elapsed() < ACTIVITY_TTL
        {
            return Ok(map.clone());
        }
        let mut map: HashMap<i64, Activity> = HashMap::new();
        for (task_id, teams) in db::teams::count_per_task(&self.db.pool).await? {
            map.entry(task_id).or_default().teams = teams;
        }
        for (task_id, recent) in db::submissions::count_per_task_since(&self.db.pool, day_ago).await? {
            map.entry(task_id).or_default().recent = recent;
        }
        let map = Arc::new(map);
        *cached = Some((std::time::Instant::now(), map.clone()));
        Ok(map)
    }

    /// A task's boards and leading progress lines, from the cache when nothing changed.
    pub async fn computed(&self, task: &tasks::TaskRow, spec: &TaskSpec) -> sqlx::Result<Arc<Computed>> {
        // The version comes with the task row: a cache hit costs no query. A
        // change committed after the row was read is caught on the next request.
        let key = task.board_version;
        if let Some((k, c)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&task.task_id)
            && *k == key
        {
            return Ok(c.clone());
        }
        let subs = submissions::scored_of_task(&self.db.pool, task.task_id).await?;
        let dq = disqualified(&self.db, task.task_id).await?;
        let higher = spec.metric.higher_is_better;
        let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
        let mut progress: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
        for s in &subs {
            let e = counts.entry(s.team_id).or_insert((0, 0));
            e.0 += 1;
            e.1 = e.1.max(s.created_at);
            if let Some(v) =
                s.public_score.filter(|_| !s.late.get() && s.hidden_at.is_none() && !dq.contains(&s.team_id))
            {
                let line = progress.entry(s.team_id).or_default();
                if line.last().is_none_or(|&(_, b)| if higher { v > b } else { v < b }) {
                    line.push((s.created_at, v));
                }
            }
        }
        let names = task_names(&subs);
        let mut lines: Vec<(i64, Vec<(i64, f64)>)> = progress.into_iter().collect();
        lines.sort_by(|a, b| {
            let (x, y) = (a.1.last().map_or(0.0, |p| p.1), b.1.last().map_or(0.0, |p| p.1));
            crate::scoring::metrics::better_first(x, y, higher).then(a.0.cmp(&b.0))
        });
        let leaders = lines
            .into_iter()
            .take(LEADERS)
            .map(|(team, line)| (names.get(&team).cloned().unwrap_or_default(), line))
            .collect();
        let c = Arc::new(Computed {
            boards: boards(&subs, spec, &dq),
            counts,
            fuel: subs.iter().filter_map(|s| Some((s.submission_id, s.fuel_used?))).collect(),
            leaders,
        });
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(task.task_id, (key, c.clone()));
        Ok(c)
    }

    /// Every row of one board (`private` or public), teams ranked and
    /// baselines slotted in by score — for the API, its CSV and the web page.
    /// From memory while the task's board version stands.
    pub async fn board_rows(
        &self,
        task: &tasks::TaskRow,
        spec: &TaskSpec,
        private: bool,
        closed: bool,
    ) -> sqlx::Result<Rows> {
        let key = (task.task_id, private, closed);
        let cached = |rows: &std::sync::Mutex<HashMap<RowsKey, (i64, Rows)>>| {
            let rows = rows.lock().unwrap_or_else(|e| e.into_inner());
            rows.get(&key).filter(|(v, _)| *v == task.board_version).map(|(_, r)| r.clone())
        };
        if let Some(rows) = cached(&self.rows) {
            return Ok(rows);
        }
        let lock = self.building.lock().unwrap_or_else(|e| e.into_inner()).entry(task.task_id).or_default().clone();
        let _building = lock.lock().await;
        if let Some(rows) = cached(&self.rows) {
            return Ok(rows);
        }
        let rows = Arc::new(self.build_rows(task, spec, private, closed).await?);
        let mut cache = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        // A board built from an older task row never replaces a newer one.
        if cache.get(&key).is_none_or(|(v, _)| *v <= task.board_version) {
            cache.insert(key, (task.board_version, rows.clone()));
        }
        Ok(rows)
    }

    async fn build_rows(
        &self,
        task: &tasks::TaskRow,
        spec: &TaskSpec,
        private: bool,
        closed: bool,
    ) -> sqlx::Result<Vec<BoardEntry>> {
        let c = self.computed(task, spec).await?;
        let members = members_by_team(&self.db, task.task_id).await?;
        let names: HashMap<i64, String> =
            teams::of_task(&self.db.pool, task.task_id).await?.into_iter().map(|t| (t.team_id, t.name)).collect();
        let mut entries = board_entries(&c, private, closed, &members, &names);
        for base in submissions::baselines(&self.db.pool, task.task_id).await? {
            entries.push(BoardEntry {
                rank: None,
                team: base.name,
                team_id: None,
                members: Vec::new(),
                score: if private { base.private_score } else { base.public_score },
                entries: 0,
                last_submission_at: None,
                baseline: true,
                fuel_used: None,
                public_rank: None,
                private_rank: None,
                movement: None,
                interval: None,
                tied_with: None,
            });
        }
        let higher = spec.metric.higher_is_better;
        // Baselines slot in by score; ranked rows keep their order.
        entries.sort_by(|a, b| match (a.rank, b.rank) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => crate::scoring::metrics::better_first(a.score, b.score, higher).then(a.baseline.cmp(&b.baseline)),
        });
        Ok(entries)
    }
}

/// The ids of a task's disqualified teams.
pub async fn disqualified(db: &Db, task_id: i64) -> sqlx::Result<HashSet<i64>> {
    Ok(teams::of_task(&db.pool, task_id)
        .await?
        .into_iter()
        .filter(|t| t.disqualified_at.is_some())
        .map(|t| t.team_id)
        .collect())
}

/// Team names by id, as the submissions carry them.
pub fn task_names(subs: &[submissions::SubmissionRow]) -> HashMap<i64, String> {
    subs.iter().map(|s| (s.team_id, s.team_name.clone())).collect()
}

async fn members_by_team(db: &Db, task_id: i64) -> sqlx::Result<HashMap<i64, Vec<String>>> {
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for m in teams::members_of_task(&db.pool, task_id).await? {
        map.entry(m.team_id).or_default().push(m.username);
    }
    Ok(map)
}

fn board_entries(
    c: &Computed,
    private: bool,
    closed: bool,
    members: &HashMap<i64, Vec<String>>,
    names: &HashMap<i64, String>,
) -> Vec<BoardEntry> {
    let (b, counts, fuel) = (&c.boards, &c.counts, &c.fuel);
    let public_rank: HashMap<i64, u32> = b.public.iter().map(|s| (s.team_id, s.rank)).collect();
    let private_rank: HashMap<i64, u32> = b.private.iter().map(|s| (s.team_id, s.rank)).collect();
    let rows = if private { &b.private } else { &b.public };
    rows.iter()
        .map(|s| {
            let (pr, vr) = (public_rank.get(&s.team_id).copied(), private_rank.get(&s.team_id).copied());
            let (n, last) = counts.get(&s.team_id).copied().unwrap_or((0, 0));
            BoardEntry {
                rank: Some(s.rank),
                team: names.get(&s.team_id).cloned().unwrap_or_default(),
                team_id: Some(s.team_id),
                members: members.get(&s.team_id).cloned().unwrap_or_default(),
                score: s.score,
                entries: n,
                last_submission_at: Some(db::ms_to_rfc3339(last)),
                baseline: false,
                fuel_used: fuel.get(&s.submission_id).copied().map(round3),
                public_rank: closed.then_some(pr).flatten(),
                private_rank: closed.then_some(vr).flatten(),
                movement: if closed { pr.zip(vr).map(|(p, v)| i64::from(p) - i64::from(v)) } else { None },
                interval: None,
                tied_with: None,
            }
        })
        .collect()
}

/// `v` to three significant digits: exact fuel would let a model leak hidden
/// inputs through its own cost, a few digits at a time.
pub fn round3(v: i64) -> i64 {
    if v < 1000 {
        return v;
    }
    let scale = 10i64.pow(v.ilog10() - 2);
    (v + scale / 2) / scale * scale
}
