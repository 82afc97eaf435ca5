//! `gaic score`: the judge, offline. Scores a submission file against a
//! solution file with exactly the code the server uses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::scoring::MetricKind;
use crate::scoring::solution::{Format, Solution};

/// Score a submission against a solution, offline.
///
/// The solution is `id,<target>`; the submission is `id,<target>` or, for
/// multiclass log_loss and roc_auc, `id,<class_1>,…,<class_k>`. The score is
/// the last line printed.
///
/// Exit codes: 0 scored, 2 the submission is invalid (the message says why),
/// 1 any other error.
///
/// Example: gaic score --metric accuracy --solution labels.csv --submission preds.csv
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Metric: accuracy, balanced_accuracy, macro_f1, roc_auc, log_loss, rmse,
    /// mae, r2, map_at_k, mean_iou or spearman.
    #[arg(long)]
    pub metric: String,
    /// K for map_at_k.
    #[arg(long)]
    pub k: Option<u32>,
    /// The class labels in order, comma-separated (default: the solution's
    /// distinct labels, sorted). For binary metrics the second is positive.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// The solution CSV: `id,<target>`.
    #[arg(long)]
    pub solution: PathBuf,
    /// The submission CSV.
    #[arg(long)]
    pub submission: PathBuf,
    /// Print `{"metric":…,"score":…,"rows":…}`.
    #[arg(long)]
    pub json: bool,
}

impl ScoreArgs {
    /// Runs the command.
    pub fn run(self) -> ExitCode {
        match self.score() {
            Ok(Ok((score, rows))) => {
                if self.json {
                    println!("{}", json!({ "metric": self.metric, "score": score, "rows": rows }));
                } else {
                    println!("{} over {rows} rows:", self.metric);
                    println!("{score}");
                }
                ExitCode::SUCCESS
            }
            Ok(Err(problems)) => {
                if self.json {
                    println!(
                        "{}",
                        json!({ "metric": self.metric, "error": "invalid submission", "problems": problems })
                    );
                } else {
                    eprintln!("the submission is invalid:");
                    for p in &problems {
                        eprintln!("  - {}", p.trim_start_matches("submission [").replacen("]: ", ": ", 1));
                    }
                }
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }

    /// Ok(Ok((score, rows))), Ok(Err(problems)) for an invalid submission,
    /// Err for anything else.
    fn score(&self) -> anyhow::Result<Result<(f64, usize), Vec<String>>> {
        let metric = MetricKind::from_name(&self.metric).with_context(|| {
            let names: Vec<_> = MetricKind::ALL.iter().map(|m| m.name()).collect();
            format!("unknown metric {:?}; known: {}", self.metric, names.join(", "))
        })?;
        if metric.needs_k() && self.k.is_none() {
            anyhow::bail!("{} needs --k", metric.name());
        }
        // Each file is read on every core, a chunk at a time when it is
        // large and plain.
        let solution = self.solution_of(metric)?;
        let preds = match solution
            .parse_submission_file(&self.submission)
            .with_context(|| format!("reading {}", self.submission.display()))?
        {
            Ok(p) => p,
            Err(problems) => return Ok(Err(problems.iter().map(ToString::to_string).collect())),
        };
        match solution.score_all(preds) {
            Ok(score) => Ok(Ok((score, solution.len()))),
            Err(e) => Ok(Err(vec![e.to_string()])),
        }
    }

    /// The solution file's labels, read for `metric`.
    fn solution_of(&self, metric: MetricKind) -> anyhow::Result<Solution> {
        let header: Vec<String> = csv::Reader::from_path(&self.solution)
            .with_context(|| format!("reading {}", self.solution.display()))?
            .headers()
            .context("reading the solution's header")?
            .iter()
            .map(|s| s.trim().to_owned())
            .collect();
        let [id_column, target] = header.as_slice() else {
            anyhow::bail!("the solution must have exactly two columns, id and target; found {header:?}");
        };
        let classes = self.classes.clone().filter(|_| metric.needs_classes());
        let find_classes = classes.is_none() && metric.needs_classes();
        let format = Format { metric, k: self.k, id_column: id_column.clone(), target: target.clone(), classes };
        if find_classes {
            // The solution's distinct labels, found as it is read.
            return Ok(Solution::parse_file_finding_classes(format, &self.solution)?);
        }
        Ok(Solution::parse_file(format, &self.solution)?)
    }
}
