//! The health registry (SPEC 9): what every background worker is doing, as the
//! supervisor records it. Shared by the Health pane and (later) `coach serve`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

// The records' own types live below the runtime so `notify` and `serve` read them without
// importing the runtime; re-exported here, where the registry hands them out.
pub use crate::worker_health::{Overall, WorkerRecord, WorkerState, overall};

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
