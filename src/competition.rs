//! Kaggle's competition rules as pure functions: the UTC-day submission
//! quota, the team merge rule, and ranking the public and private boards.
//!
//! Rankings are computed in memory from a task's scored submissions (an
//! indexed query), which keeps the rules in one readable place and the same
//! on both databases. Ties break to the earlier submission.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::db::submissions::SubmissionRow;
use crate::scoring::metrics::better_first;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// Start of the UTC day containing `now` (ms).
pub fn utc_day_start(now: i64) -> i64 {
    now.div_euclid(DAY_MS) * DAY_MS
}

/// Days a task has run at `now`, counting the current day (at least 1).
pub fn days_elapsed(opens_at: i64, now: i64) -> i64 {
    ((now - opens_at).div_euclid(DAY_MS) + 1).max(1)
}

/// Kaggle's merge rule: a merged team may not hold more submissions than one
/// team could have made since the task opened.
pub fn merge_allowed(total_submissions: i64, daily_cap: u32, opens_at: i64, now: i64) -> bool {
    total_submissions <= i64::from(daily_cap) * days_elapsed(opens_at, now)
}

/// A team's place on a board.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The team.
    pub team_id: i64,
    /// 1-based rank.
    pub rank: u32,
    /// The score that ranks it.
    pub score: f64,
    /// The submission that scored it.
    pub submission_id: i64,
    /// When that submission was made (ms); earlier wins ties.
    pub submitted_at: i64,
}

/// Submissions that may be ranked: scored, not late, not hidden, team not
/// disqualified.
fn rankable<'a>(subs: &'a [SubmissionRow], disqualified: &'a HashSet<i64>) -> impl Iterator<Item = &'a SubmissionRow> {
    subs.iter().filter(move |s| {
        s.status == crate::status::SubmissionStatus::Scored
            && !s.late.get()
            && s.hidden_at.is_none()
            && !disqualified.contains(&s.team_id)
    })
}

/// Better score first, then the earlier submission.
fn order(a: (f64, i64, i64), b: (f64, i64, i64), higher: bool) -> Ordering {
    better_first(a.0, b.0, higher).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

fn ranked(mut best: Vec<Standing>, higher: bool) -> Vec<Standing> {
    best.sort_by(|a, b| {
        order((a.score, a.submitted_at, a.submission_id), (b.score, b.submitted_at, b.submission_id), higher)
    });
    for (i, s) in best.iter_mut().enumerate() {
        s.rank = i as u32 + 1;
    }
    best
}

/// The public board: each team's best public score.
pub fn public_board(subs: &[SubmissionRow], higher: bool, disqualified: &HashSet<i64>) -> Vec<Standing> {
    let mut best: HashMap<i64, Standing> = HashMap::new();
    for s in rankable(subs, disqualified) {
        let Some(score) = s.public_score else { continue };
        let cand =
            Standing { team_id: s.team_id, rank: 0, score, submission_id: s.submission_id, submitted_at: s.created_at };
        best.entry(s.team_id)
            .and_modify(|b| {
                if order((score, s.created_at, s.submission_id), (b.score, b.submitted_at, b.submission_id), higher)
                    == Ordering::Less
                {
                    *b = cand.clone();
                }
            })
            .or_insert(cand);
    }
    ranked(best.into_values().collect(), higher)
}

/// The submissions of each team that count for the private board: its
/// selected ones, or with none selected its `n` best public ones.
pub fn final_candidates<'a>(
    subs: &'a [SubmissionRow],
    higher: bool,
    n: u32,
    disqualified: &'a HashSet<i64>,
) -> HashMap<i64, Vec<&'a SubmissionRow>> {
    let mut by_team: HashMap<i64, Vec<&SubmissionRow>> = HashMap::new();
    for s in rankable(subs, disqualified) {
        by_team.entry(s.team_id).or_default().push(s);
    }
    for list in by_team.values_mut() {
        if list.iter().any(|s| s.selected_at.is_some()) {
            list.retain(|s| s.selected_at.is_some());
        } else {
            list.retain(|s| s.public_score.is_some());
            list.sort_by(|a, b| {
                order(
                    (a.public_score.unwrap_or(0.0), a.created_at, a.submission_id),
                    (b.public_score.unwrap_or(0.0), b.created_at, b.submission_id),
                    higher,
                )
            });
            list.truncate(n as usize);
        }
    }
    by_team
}

/// The private board: each team's best private score among its final
/// candidates.
pub fn private_board(subs: &[SubmissionRow], higher: bool, n: u32, disqualified: &HashSet<i64>) -> Vec<Standing> {
    let best = final_candidates(subs, higher, n, disqualified)
        .into_iter()
        .filter_map(|(team_id, list)| {
            list.into_iter()
                .filter_map(|s| s.private_score.map(|p| (p, s)))
                .min_by(|(pa, a), (pb, b)| {
                    order((*pa, a.created_at, a.submission_id), (*pb, b.created_at, b.submission_id), higher)
                })
                .map(|(score, s)| Standing {
                    team_id,
                    rank: 0,
                    score,
                    submission_id: s.submission_id,
                    submitted_at: s.created_at,
                })
        })
        .collect();
    ranked(best, higher)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: i64, team: i64, at: i64, public: f64, private: f64) -> SubmissionRow {
        SubmissionRow {
            submission_id: id,
            task_id: 1,
            team_id: team,
            team_name: format!("t{team}"),
            user_id: team,
            username: format!("u{team}"),
            kind: "predictions".into(),
            message: String::new(),
            file_name: "s.csv".into(),
            blob_hash: String::new(),
            size: 1,
            status: crate::status::SubmissionStatus::Scored,
            public_score: Some(public),
            private_score: Some(private),
            error: None,
            late: crate::status::Flag(false),
            counted: crate::status::Flag(true),
            selected_at: None,
            hidden_at: None,
            hidden_reason: None,
            created_at: at,
            scored_at: Some(at),
            verdict: None,
            fuel_used: None,
            peak_memory_bytes: None,
            wall_ms: None,
            predictions_hash: None,
            raw_public_score: None,
            device: None,
        }
    }

    #[test]
    fn days_and_the_merge_rule() {
        assert_eq!(utc_day_start(DAY_MS * 3 + 5), DAY_MS * 3);
        assert_eq!(days_elapsed(0, 0), 1);
        assert_eq!(days_elapsed(0, DAY_MS * 2 + 1), 3);
        assert_eq!(days_elapsed(DAY_MS, 0), 1, "before the open counts as day one");
        assert!(merge_allowed(15, 5, 0, DAY_MS * 2));
        assert!(!merge_allowed(16, 5, 0, DAY_MS * 2));
    }

    #[test]
    fn the_public_board_takes_each_teams_best_and_breaks_ties_by_time() {
        let subs =
            vec![sub(1, 1, 10, 0.8, 0.7), sub(2, 1, 20, 0.9, 0.6), sub(3, 2, 5, 0.9, 0.95), sub(4, 3, 1, 0.5, 0.5)];
        let board = public_board(&subs, true, &HashSet::new());
        let order: Vec<(i64, u32, i64)> = board.iter().map(|s| (s.team_id, s.rank, s.submission_id)).collect();
        // Teams 1 and 2 tie at 0.9; team 2 submitted it earlier.
        assert_eq!(order, [(2, 1, 3), (1, 2, 2), (3, 3, 4)]);
        // Lower is better flips the order.
        let board = public_board(&subs, false, &HashSet::new());
        assert_eq!(board[0].team_id, 3);
    }

    #[test]
    fn the_private_board_uses_selections_or_the_best_public_ones() {
        let mut subs =
            vec![sub(1, 1, 10, 0.8, 0.99), sub(2, 1, 20, 0.9, 0.6), sub(3, 1, 30, 0.85, 0.7), sub(4, 2, 5, 0.7, 0.8)];
        // No selection, n = 2: the best two public (0.9 and 0.85) count; best private of them is 0.7.
        let board = private_board(&subs, true, 2, &HashSet::new());
        assert_eq!(board[0].team_id, 2);
        assert_eq!(board[1].score, 0.7);
        // Selecting submission 1 makes its 0.99 count.
        subs[0].selected_at = Some(40);
        let board = private_board(&subs, true, 2, &HashSet::new());
        assert_eq!((board[0].team_id, board[0].score), (1, 0.99));
    }

    #[test]
    fn late_hidden_and_disqualified_entries_are_not_ranked() {
        let mut subs =
            vec![sub(1, 1, 10, 0.8, 0.8), sub(2, 2, 10, 0.9, 0.9), sub(3, 3, 10, 0.95, 0.95), sub(4, 4, 1, 1.0, 1.0)];
        subs[1].late = crate::status::Flag(true);
        subs[2].hidden_at = Some(1);
        let dq: HashSet<i64> = [4].into();
        let board = public_board(&subs, true, &dq);
        assert_eq!(board.len(), 1);
        assert_eq!(board[0].team_id, 1);
    }
}
