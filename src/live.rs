//! Watching boards for their live event streams: one poller per watched task
//! however many streams watch it.
//!
//! A board changes when one of its task's submissions is scored, by any
//! replica or remote worker, so the change is seen in the database: the count
//! of scored submissions and the latest score time (the task's [`Marker`]).
//! The first stream of a task starts a poller that reads the marker every
//! second and publishes it on a `watch` channel; every stream of that task
//! reads the channel; the poller stops once the last stream has gone. So N
//! streams on one board cost one query a second, not N.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::db::{Db, submissions};

/// A task's scored submissions: how many, and the latest score time (ms).
pub type Marker = (i64, Option<i64>);

/// The boards being watched, each by its poller.
#[derive(Debug, Clone)]
pub struct BoardWatch {
    db: Db,
    every: Duration,
    watched: Arc<Mutex<HashMap<i64, watch::Sender<Marker>>>>,
}

impl BoardWatch {
    /// Watches boards in `db`, reading each watched one every `every`.
    pub fn new(db: Db, every: Duration) -> Self {
        Self { db, every, watched: Arc::default() }
    }

    /// A receiver of `task_id`'s marker, starting its poller if no stream
    /// watches the task yet; its first value is the marker now.
    pub async fn watch(&self, task_id: i64) -> sqlx::Result<watch::Receiver<Marker>> {
        if let Some(rx) = self.existing(task_id) {
            return Ok(rx);
        }
        let first = submissions::scored_marker(&self.db.pool, task_id).await?;
        let mut watched = self.watched.lock().expect("board watch poisoned");
        if let Some(tx) = watched.get(&task_id) {
            return Ok(tx.subscribe());
        }
        let (tx, rx) = watch::channel(first);
        watched.insert(task_id, tx.clone());
        drop(watched);
        tokio::spawn(self.clone().poll(task_id, tx));
        Ok(rx)
    }

    fn existing(&self, task_id: i64) -> Option<watch::Receiver<Marker>> {
        self.watched.lock().expect("board watch poisoned").get(&task_id).map(watch::Sender::subscribe)
    }

    /// How many boards have a poller now.
    pub fn pollers(&self) -> usize {
        self.watched.lock().expect("board watch poisoned").len()
    }

    async fn poll(self, task_id: i64, tx: watch::Sender<Marker>) {
        loop {
            tokio::time::sleep(self.every).await;
            {
                let mut watched = self.watched.lock().expect("board watch poisoned");
                if tx.receiver_count() == 0 {
                    watched.remove(&task_id);
                    return;
                }
            }
            // A failed read is retried on the next tick; the streams keep
            // their last value meanwhile.
            if let Ok(now) = submissions::scored_marker(&self.db.pool, task_id).await {
                tx.send_if_modified(|last| {
                    let changed = *last != now;
                    *last = now;
                    changed
                });
            }
        }
    }
}
