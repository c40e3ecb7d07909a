//! The health registry (SPEC 9): what every background worker is doing, as the
//! supervisor records it. Shared by the Health pane and (later) `coach serve`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

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
    fn new(name: &str, expected_interval: Duration, floor: Duration) -> Self {
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

/// Per-worker stale floors: a worker is stale after max(3 × its expected interval, its
/// floor). The default (`Health::default`) has no floors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaleFloors {
    /// For workers not in `per_worker`.
    pub default: Duration,
    pub per_worker: BTreeMap<String, Duration>,
}

impl StaleFloors {
    pub fn from_config(config: &crate::config::HealthConfig) -> StaleFloors {
        StaleFloors {
            default: Duration::try_from_secs_f64(config.floor_secs).unwrap_or_default(),
            per_worker: config
                .floors
                .keys()
                .map(|name| (name.clone(), config.floor(name)))
                .collect(),
        }
    }

    pub fn floor(&self, worker: &str) -> Duration {
        self.per_worker.get(worker).copied().unwrap_or(self.default)
    }
}

/// Shared, cheap to clone. Writers bump a version so the UI redraws only on change.
#[derive(Clone, Debug)]
pub struct Health {
    records: Arc<Mutex<BTreeMap<String, WorkerRecord>>>,
    changed: Arc<watch::Sender<u64>>,
    floors: Arc<StaleFloors>,
}

impl Default for Health {
    fn default() -> Self {
        Health::with_floors(StaleFloors::default())
    }
}

impl Health {
    /// A registry whose workers get these stale floors when they register.
    pub fn with_floors(floors: StaleFloors) -> Health {
        Health {
            records: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
            floors: Arc::new(floors),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, WorkerRecord>> {
        // A poisoned lock only means a writer panicked mid-update; the records are
        // plain data and still the best we know.
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(&self, name: &str, expected_interval: Duration) {
        self.lock()
            .entry(name.to_string())
            .or_insert_with(|| WorkerRecord::new(name, expected_interval, self.floors.floor(name)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn running(health: &Health, name: &str, last_success: DateTime<Utc>) -> WorkerRecord {
        health.update(name, |r| {
            r.state = WorkerState::Running;
            r.started_at = Some(t0());
        });
        health.cycle_ok(name, last_success);
        health
            .snapshot()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap()
    }

    #[test]
    fn a_worker_is_stale_after_three_intervals_or_its_floor_whichever_is_longer() {
        let floors = StaleFloors {
            default: Duration::from_secs(10),
            per_worker: [("feed".to_string(), Duration::from_secs(30))].into(),
        };
        let health = Health::with_floors(floors);
        health.register("feed", Duration::from_secs(1));
        health.register("brief", Duration::from_secs(60));
        let feed = running(&health, "feed", t0());
        let brief = running(&health, "brief", t0());
        assert_eq!(feed.stale_after, Duration::from_secs(30), "the floor wins");
        assert_eq!(brief.stale_after, Duration::from_secs(180), "3 × 60 s wins");
        let s = chrono::Duration::seconds;
        assert!(
            !feed.is_stale(t0() + s(30)),
            "exactly at the threshold is not stale"
        );
        assert!(feed.is_stale(t0() + s(31)));
        assert!(!brief.is_stale(t0() + s(179)));
        assert!(brief.is_stale(t0() + s(181)));
    }

    #[test]
    fn a_worker_stuck_before_its_first_cycle_goes_stale_from_its_start() {
        let health = Health::default();
        health.register("detector", Duration::from_secs(2));
        health.update("detector", |r| {
            r.state = WorkerState::Running;
            r.started_at = Some(t0());
        });
        let r = &health.snapshot()[0];
        assert!(!r.is_stale(t0() + chrono::Duration::seconds(6)));
        assert!(r.is_stale(t0() + chrono::Duration::seconds(7)));
    }

    #[test]
    fn overall_is_ok_degraded_or_down_by_how_many_workers_are_healthy() {
        let health = Health::default();
        for name in ["alerts", "feed", "health"] {
            health.register(name, Duration::from_secs(5));
            running(&health, name, t0());
        }
        let now = t0() + chrono::Duration::seconds(1);
        assert_eq!(overall(&health.snapshot(), now), Overall::Ok);

        health.update("feed", |r| {
            r.state = WorkerState::Failed;
            r.consecutive_failures = 1;
        });
        assert_eq!(overall(&health.snapshot(), now), Overall::Degraded);
        // Restarted but not yet successful: still degraded.
        health.update("feed", |r| r.state = WorkerState::Running);
        assert_eq!(overall(&health.snapshot(), now), Overall::Degraded);

        let much_later = t0() + chrono::Duration::minutes(5);
        assert_eq!(overall(&health.snapshot(), much_later), Overall::Down);
        assert_eq!(overall(&[], now), Overall::Down, "nothing running is down");
        assert_eq!(Overall::Degraded.as_str(), "degraded");
    }
}
