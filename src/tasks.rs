//! Tasks as the rest of the code sees them: storing a validated bundle,
//! judging a task's state, and who may see or edit it.
//!
//! Both the startup import of `--tasks-dir` and the upload endpoint store
//! bundles through [`store_bundle`]: blobs first (content-addressed, so a
//! crash leaves at worst an unreferenced blob), then the task row and its file
//! rows in one transaction, so a task never exists without its files.

use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::bundle::{self, Bundle};
use crate::db::{self, tasks};
use crate::error::AppError;
use crate::platform::Platform;

/// Where a task is in its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not open yet.
    Upcoming,
    /// Accepting ranked submissions.
    Open,
    /// Past its close.
    Closed,
}

impl TaskState {
    /// The state of a task with this schedule at `now` (all ms).
    pub fn at(opens_at: i64, closes_at: i64, now: i64) -> Self {
        if now < opens_at {
            Self::Upcoming
        } else if now < closes_at {
            Self::Open
        } else {
            Self::Closed
        }
    }
}

/// Whether `viewer` may see the task (published, or theirs, or an admin).
pub fn visible_to(row: &tasks::TaskRow, viewer: Option<&CurrentUser>) -> bool {
    row.published_at.is_some() || viewer.is_some_and(|u| u.is_admin() || u.user_id == row.organizer_id)
}

/// Whether `user` may change the task (its organizer or an admin).
pub fn editable_by(row: &tasks::TaskRow, user: &CurrentUser) -> bool {
    user.is_admin() || (user.user_id == row.organizer_id && user.has_role("organizer"))
}

pub use crate::bundle::spec_of;

/// Stores a validated bundle as a new task owned by `organizer_id`.
pub async fn store_bundle(
    state: &Platform,
    bundle: &Bundle,
    organizer_id: i64,
    publish: bool,
) -> Result<i64, AppError> {
    if tasks::by_slug(&state.db.pool, &bundle.spec.slug).await?.is_some() {
        return Err(AppError::Conflict(format!("a task with slug {:?} already exists", bundle.spec.slug).into()));
    }
    let mut hashes = Vec::with_capacity(bundle.files.len());
    for file in &bundle.files {
        hashes.push(state.blobs.put(Bytes::from(file.bytes.clone())).await.map_err(AppError::Internal)?);
    }
    let files: Vec<tasks::NewFile<'_>> = bundle
        .files
        .iter()
        .zip(&hashes)
        .map(|(f, hash)| tasks::NewFile {
            path: &f.path,
            visibility: f.visibility.as_str(),
            blob_hash: hash,
            size: f.bytes.len() as i64,
        })
        .collect();
    let spec = &bundle.spec;
    let spec_json = serde_json::to_string(spec).context("encoding spec").map_err(AppError::Internal)?;
    let now = db::now_ms();
    let new = tasks::NewTask {
        slug: &spec.slug,
        title: &spec.title,
        summary: &spec.summary,
        statement: &bundle.statement,
        spec: &spec_json,
        organizer_id,
        opens_at: spec.schedule.opens.timestamp_millis(),
        closes_at: spec.schedule.closes.timestamp_millis(),
        merger_deadline_at: spec.schedule.merger_deadline.map(|d| d.timestamp_millis()),
        published_at: publish.then_some(now),
    };
    let mut tx = state.db.pool.begin().await?;
    let task_id = tasks::insert(&mut tx, &new, &files, now).await?;
    tx.commit().await?;
    Ok(task_id)
}

/// On a store with no tasks, imports (and publishes) every bundle folder in
/// `dir`, owned by `organizer_id`. A bundle with problems is logged with each
/// problem and skipped; the others still import.
pub async fn import_dir_if_empty(state: &Platform, dir: &Path, organizer_id: i64) -> anyhow::Result<usize> {
    if tasks::count_all(&state.db.pool).await? > 0 {
        return Ok(0);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "tasks folder not found; starting with no tasks");
        return Ok(0);
    };
    let mut dirs: Vec<_> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("task.toml").is_file()).collect();
    dirs.sort();
    let mut imported = 0;
    for path in dirs {
        let loaded = tokio::task::spawn_blocking({
            let path = path.clone();
            move || bundle::load_dir(&path)
        })
        .await?;
        match loaded {
            Ok(b) => match store_bundle(state, &b, organizer_id, true).await {
                Ok(_) => {
                    imported += 1;
                    tracing::info!(slug = %b.spec.slug, "imported task bundle");
                }
                Err(e) => tracing::error!(bundle = %path.display(), error = %e, "could not store task bundle"),
            },
            Err(problems) => {
                for p in &problems {
                    tracing::error!(bundle = %path.display(), problem = %p, "invalid task bundle skipped");
                }
            }
        }
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_schedule() {
        assert_eq!(TaskState::at(10, 20, 5), TaskState::Upcoming);
        assert_eq!(TaskState::at(10, 20, 10), TaskState::Open);
        assert_eq!(TaskState::at(10, 20, 20), TaskState::Closed);
    }
}
