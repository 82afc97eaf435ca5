//! The server's scorer: the only code that loads hidden labels.
//!
//! A task's solution is parsed once and cached, keyed by the task and the
//! labels' content hash, so a label fix (rescoring) is picked up at once.
//! Scoring runs on the blocking pool. Nothing here logs or returns a label:
//! errors describe the submission, never the solution.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{AppError, Problem};
use crate::messages::Msg;
use crate::msg;
use crate::scoring::solution::{Format, Predictions, Solution};
use crate::scoring::split::SplitSpec;

/// A task's solution with its public/private split.
#[derive(Debug)]
pub struct TaskSolution {
    /// The labels.
    pub solution: Solution,
    /// Rows on the public board.
    pub public_rows: Vec<u32>,
    /// Rows on the private board.
    pub private_rows: Vec<u32>,
}

/// A submission's two scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// On the public rows.
    pub public: f64,
    /// On the private rows.
    pub private: f64,
}

impl TaskSolution {
    /// Parses labels and splits the rows.
    pub fn build(format: Format, split: &SplitSpec, labels: &[u8]) -> Result<Self, Msg> {
        let solution = Solution::parse(format, labels).map_err(|e| Msg::Text(e.to_string()))?;
        let mask = solution.public_mask(split.seed, split.public_fraction);
        let (mut public_rows, mut private_rows) = (Vec::new(), Vec::new());
        for (row, public) in mask.into_iter().enumerate() {
            if public { &mut public_rows } else { &mut private_rows }.push(row as u32);
        }
        if public_rows.is_empty() || private_rows.is_empty() {
            return Err(msg!("split_empty"));
        }
        let perfect = solution.perfect_predictions();
        for (rows, board) in [(&public_rows, "board.public"), (&private_rows, "board.private")] {
            solution.score(&perfect, Some(rows)).map_err(|e| {
                Msg::Key(
                    "split_unscorable",
                    vec![("board", Msg::Key(board, Vec::new())), ("error", e.to_string().into())],
                )
            })?;
        }
        Ok(Self { solution, public_rows, private_rows })
    }

    /// Validates and scores a predictions CSV; on failure every problem (422).
    pub fn score(&self, bytes: &[u8]) -> Result<Scores, Vec<Problem>> {
        self.score_parsed(&self.solution.parse_submission(bytes)?)
    }

    /// Scores predictions already parsed against this solution.
    pub fn score_parsed(&self, preds: &Predictions) -> Result<Scores, Vec<Problem>> {
        // The refusal never says which board failed (nor does a failure on
        // one board read differently from one on the other): that would tell
        // which rows are private.
        let on = |rows: &[u32]| {
            self.solution.score(preds, Some(rows)).map_err(|e| {
                let m = Msg::Key("metric_error", vec![("error", e.to_string().into())]);
                vec![Problem::new("submission", "", m)]
            })
        };
        Ok(Scores { public: on(&self.public_rows)?, private: on(&self.private_rows)? })
    }
}

/// Cache of parsed solutions by task.
#[derive(Debug, Default)]
pub struct Scorer {
    cache: Mutex<HashMap<i64, (String, Arc<TaskSolution>)>>,
}

impl Scorer {
    /// The solution of `task_id` (labels stored under `labels_hash`).
    pub async fn solution(
        &self,
        blobs: &crate::blobs::Blobs,
        task_id: i64,
        format: Format,
        split: &SplitSpec,
        labels_hash: &str,
    ) -> Result<Arc<TaskSolution>, AppError> {
        if let Some((hash, sol)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&task_id)
            && hash == labels_hash
        {
            return Ok(sol.clone());
        }
        let bytes = blobs.get(labels_hash).await.map_err(AppError::store)?;
        let split = split.clone();
        let built = tokio::task::spawn_blocking(move || TaskSolution::build(format, &split, &bytes))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("task {task_id}: the hidden labels: {e}")))?;
        let sol = Arc::new(built);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(task_id, (labels_hash.to_owned(), sol.clone()));
        Ok(sol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::MetricKind;

    /// A refusal reads the same whichever board's rows the metric failed
    /// on: it must not tell which rows are private.
    #[test]
    fn a_metric_failure_does_not_name_the_board() {
        let format =
            Format { metric: MetricKind::Spearman, k: None, id_column: "id".into(), target: "y".into(), classes: None };
        let labels: String = std::iter::once("id,y".to_owned())
            .chain((0..200).map(|i| format!("{i},{i}")))
            .collect::<Vec<_>>()
            .join("\n");
        let split = SplitSpec { public_fraction: 0.5, seed: 7 };
        let task = TaskSolution::build(format, &split, labels.as_bytes()).expect("builds");
        let on = |public: bool| {
            let rows: std::collections::HashSet<u32> =
                if public { &task.public_rows } else { &task.private_rows }.iter().copied().collect();
            // Constant on one board's rows, varied on the other's.
            let body: Vec<String> =
                (0..200u32).map(|i| format!("{i},{}", if rows.contains(&i) { 1 } else { i })).collect();
            let problems = task.score(format!("id,y\n{}", body.join("\n")).as_bytes()).expect_err("undefined");
            problems.iter().map(|p| format!("{p:?}")).collect::<String>()
        };
        let (a, b) = (on(true), on(false));
        assert_eq!(a, b, "the same refusal either way");
        assert!(!a.contains("public") && !a.contains("private"), "{a}");
    }
}
