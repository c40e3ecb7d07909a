//! What one background worker's health record says (SPEC 9): its state, its cycle and
//! error timestamps, when it counts as stale or healthy, and the overall status of a
//! process from its workers. Plain data shared by the runtime (which writes the records),
//! the notifier (which turns them into incidents) and `coach serve` (which reports them).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One worker's record. Instants are UTC wall-clock times. Serialized for
/// `/health/workers` and for `worker_status` (read back by attached screens).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRecord {
    pub name: String,
    pub state: WorkerState,
    /// The cadence the worker promises: a cycle or heartbeat at least this often.
    #[serde(with = "secs")]
    pub expected_interval: Duration,
    /// Stale after this long without a completed cycle: max(3 × expected interval, the
    /// worker's configured floor).
    #[serde(with = "secs")]
    pub stale_after: Duration,
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
    /// Why a worker stopped on its own, when it said ("recording finished"): shown in
    /// Health in place of the last error. Cleared when the worker (re)starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<std::time::Duration, D::Error> {
        let secs: f64 = serde::Deserialize::deserialize(d)?;
        std::time::Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

impl WorkerRecord {
    /// A worker that registered but has not started: stale after max(3 × its expected
    /// interval, `floor`).
    pub fn new(name: &str, expected_interval: Duration, floor: Duration) -> Self {
        WorkerRecord {
            name: name.to_string(),
            state: WorkerState::Starting,
            expected_interval,
            stale_after: (expected_interval * 3).max(floor),
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
            note: None,
        }
    }

    /// Stale: running, but no completed cycle (or heartbeat) within `stale_after`, counted
    /// from its last success, or from its start when it has never completed one (so a
    /// worker stuck before its first cycle is caught too).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        if self.state != WorkerState::Running {
            return false;
        }
        let Some(since) = self.last_success.or(self.started_at) else {
            return false;
        };
        let limit = chrono::Duration::from_std(self.stale_after).unwrap_or(chrono::Duration::MAX);
        now - since > limit
    }

    /// Healthy: starting or running, not stale, and its last run did not fail.
    pub fn is_healthy(&self, now: DateTime<Utc>) -> bool {
        matches!(self.state, WorkerState::Starting | WorkerState::Running)
            && !self.is_stale(now)
            && self.consecutive_failures == 0
    }
}

/// The status of the whole process, from its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    /// Every worker is healthy.
    Ok,
    /// Some worker is stale, failing or stopped, but not all.
    Degraded,
    /// No worker is healthy (or none runs at all).
    Down,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Ok => "ok",
            Overall::Degraded => "degraded",
            Overall::Down => "down",
        }
    }
}

/// The overall status at `now`: `ok` when every worker is healthy, `down` when none is
/// (or there are none), `degraded` in between.
pub fn overall(records: &[WorkerRecord], now: DateTime<Utc>) -> Overall {
    let healthy = records.iter().filter(|r| r.is_healthy(now)).count();
    if records.is_empty() || healthy == 0 {
        Overall::Down
    } else if healthy == records.len() {
        Overall::Ok
    } else {
        Overall::Degraded
    }
}
