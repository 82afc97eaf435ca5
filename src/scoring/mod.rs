//! Scoring: the metrics the platform knows and their conventions.
//!
//! Invariants: `scorer` is the only code that loads hidden labels, and no
//! error it returns names a label. Here: the catalogue of metrics (name,
//! direction, what a task must declare for it), which task bundles are
//! validated against; `metrics` (pure functions), `solution` (labels and
//! submission CSVs), `split` (seeded public/private rows), `scorer`; `resample` (metrics
//! under bootstrap resamples, for statistical ties).

pub mod metrics;
pub mod records;
pub mod resample;
pub mod scorer;
pub mod solution;
pub mod split;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A metric a task can be scored by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Share of exactly right labels.
    Accuracy,
    /// Mean over classes of recall.
    BalancedAccuracy,
    /// Unweighted mean of per-class F1 over the task's classes.
    MacroF1,
    /// Area under the ROC curve (binary, or one-vs-rest macro).
    RocAuc,
    /// Cross-entropy of predicted class probabilities.
    LogLoss,
    /// Root mean squared error.
    Rmse,
    /// Mean absolute error.
    Mae,
    /// Coefficient of determination.
    R2,
    /// Mean average precision at K.
    MapAtK,
    /// Mean intersection over union of classes.
    MeanIou,
    /// Spearman rank correlation.
    Spearman,
}

impl MetricKind {
    /// Every metric, in a stable order.
    pub const ALL: [MetricKind; 11] = [
        Self::Accuracy,
        Self::BalancedAccuracy,
        Self::MacroF1,
        Self::RocAuc,
        Self::LogLoss,
        Self::Rmse,
        Self::Mae,
        Self::R2,
        Self::MapAtK,
        Self::MeanIou,
        Self::Spearman,
    ];

    /// The snake_case name used in `task.toml`, the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::BalancedAccuracy => "balanced_accuracy",
            Self::MacroF1 => "macro_f1",
            Self::RocAuc => "roc_auc",
            Self::LogLoss => "log_loss",
            Self::Rmse => "rmse",
            Self::Mae => "mae",
            Self::R2 => "r2",
            Self::MapAtK => "map_at_k",
            Self::MeanIou => "mean_iou",
            Self::Spearman => "spearman",
        }
    }

    /// Looks a metric up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether a larger score is better.
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Self::LogLoss | Self::Rmse | Self::Mae)
    }

    /// Whether the task must list its classes (a classification metric).
    pub fn needs_classes(self) -> bool {
        matches!(
            self,
            Self::Accuracy | Self::BalancedAccuracy | Self::MacroF1 | Self::RocAuc | Self::LogLoss | Self::MeanIou
        )
    }

    /// Whether labels are numbers (regression-style metrics).
    pub fn numeric_target(self) -> bool {
        matches!(self, Self::Rmse | Self::Mae | Self::R2 | Self::Spearman)
    }

    /// Whether the metric takes the parameter `k`.
    pub fn needs_k(self) -> bool {
        matches!(self, Self::MapAtK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_directions_follow_convention() {
        for m in MetricKind::ALL {
            assert_eq!(MetricKind::from_name(m.name()), Some(m));
        }
        assert!(!MetricKind::Rmse.higher_is_better());
        assert!(MetricKind::RocAuc.higher_is_better());
        assert_eq!(MetricKind::from_name("f1"), None);
    }
}
