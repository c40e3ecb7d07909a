//! The health registry (SPEC 9): what every background worker is doing, as the
//! supervisor records it. Shared by the Health pane and (later) `coach serve`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerState {
    Starting,
    Running,
    /// Waiting out its restart backoff after a failure.
    Failed,
    Stopped,
}

impl WorkerState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerState::Starting => "starting",
            WorkerState::Running => "running",
            WorkerState::Failed => "failed",
            WorkerState::Stopped => "stopped",
        }
    }
}

/// One worker's record. Instants are UTC wall-clock times.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkerRecord {
    pub name: String,
    pub state: WorkerState,
    /// The cadence the worker promises: a cycle or heartbeat at least this often.
    #[serde(with = "secs")]
    pub expected_interval: Duration,
    pub started_at: Option<DateTime<Utc>>,
    pub last_cycle_start: Option<DateTime<Utc>>,
    pub last_cycle_end: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub cycles: u64,
    pub errors: u64,
    pub consecutive_failures: u32,
    pub restarts: u32,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl WorkerRecord {
    fn new(name: &str, expected_interval: Duration) -> Self {
        WorkerRecord {
            name: name.to_string(),
            state: WorkerState::Starting,
            expected_interval,
            started_at: None,
            last_cycle_start: None,
            last_cycle_end: None,
            last_success: None,
            last_error_at: None,
            last_error: None,
            cycles: 0,
            errors: 0,
            consecutive_failures: 0,
            restarts: 0,
        }
    }

    /// Stale: running, but no completed cycle within 3× its expected interval (counted
    /// from its start when it has never completed one).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        if self.state != WorkerState::Running {
            return false;
        }
        let Some(since) = self.last_success.or(self.started_at) else {
            return false;
        };
        let limit =
            chrono::Duration::from_std(self.expected_interval * 3).unwrap_or(chrono::Duration::MAX);
        now - since > limit
    }
}

/// Shared, cheap to clone. Writers bump a version so the UI redraws only on change.
#[derive(Clone, Debug)]
pub struct Health {
    records: Arc<Mutex<BTreeMap<String, WorkerRecord>>>,
    changed: Arc<watch::Sender<u64>>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            records: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
        }
    }
}

impl Health {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, WorkerRecord>> {
        // A poisoned lock only means a writer panicked mid-update; the records are
        // plain data and still the best we know.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(&self, name: &str, expected_interval: Duration) {
        self.lock()
            .entry(name.to_string())
            .or_insert_with(|| WorkerRecord::new(name, expected_interval));
        self.bump();
    }

    /// Applies a change to one worker's record.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut WorkerRecord)) {
        if let Some(record) = self.lock().get_mut(name) {
            change(record);
        }
        self.bump();
    }

    /// A copy of every record, in name order.
    pub fn snapshot(&self) -> Vec<WorkerRecord> {
        self.lock().values().cloned().collect()
    }

    /// Notified whenever a record changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Marks the end of a successful cycle (or a heartbeat of a streaming worker).
    pub fn cycle_ok(&self, name: &str, now: DateTime<Utc>) {
        self.update(name, |r| {
            r.state = WorkerState::Running;
            r.cycles += 1;
            r.last_cycle_end = Some(now);
            r.last_success = Some(now);
            r.consecutive_failures = 0;
        });
    }

    pub fn cycle_start(&self, name: &str, now: DateTime<Utc>) {
        self.update(name, |r| r.last_cycle_start = Some(now));
    }
}
