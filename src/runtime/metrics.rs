//! Process counters for `GET /metrics` (SPEC 9, 12): cheap to bump from any worker
//! (atomics, or a small map behind a mutex for labelled counts), read as one snapshot.
//! Per-worker figures come from `Health`, not from here.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// Owned by `Services` and shared as `Arc<Metrics>`.
#[derive(Debug, Default)]
pub struct Metrics {
    market_events: AtomicU64,
    /// Microseconds since the Unix epoch (UTC) of the last market event seen; 0 = never.
    last_market_event: AtomicI64,
    detections: Labelled,
    transitions: Labelled,
    incidents: Labelled,
    discord: Labelled,
    /// Keyed `channel/result`.
    deliveries: Labelled,
}

/// A counter per label value (setup kind, status, …).
#[derive(Debug, Default)]
struct Labelled(Mutex<BTreeMap<String, u64>>);

impl Labelled {
    fn add(&self, label: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(label.to_string()).or_default() += 1;
    }

    fn get(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The counters at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Market events published on the bus since start.
    pub market_events: u64,
    /// When the last market event was seen (UTC wall clock).
    pub last_market_event: Option<DateTime<Utc>>,
    /// Detections stored, by setup kind.
    pub detections: BTreeMap<String, u64>,
    /// Tracked-setup transitions, by the status entered.
    pub transitions: BTreeMap<String, u64>,
    /// Operational incidents announced, by kind (`stale`, `failing`).
    pub incidents: BTreeMap<String, u64>,
    /// Discord deliveries, by result (`sent`, `failed`).
    pub discord: BTreeMap<String, u64>,
    /// Alert channel deliveries (ntfy, webhook, slack, telegram, command), by
    /// (channel, result: `sent`, `failed`).
    pub deliveries: BTreeMap<(String, String), u64>,
}

impl Metrics {
    /// `count` market events seen at `at` (the bus monitor calls this; a lagging
    /// subscriber reports how many it missed, so the count stays exact).
    pub fn market_events(&self, count: u64, at: DateTime<Utc>) {
        self.market_events.fetch_add(count, Ordering::Relaxed);
        self.last_market_event
            .store(at.timestamp_micros(), Ordering::Relaxed);
    }

    /// One detection stored, of this setup kind (e.g. `SetupKind::as_str()`).
    pub fn detection(&self, kind: &str) {
        self.detections.add(kind);
    }

    /// One tracked-setup transition into this status (e.g. `triggered`).
    pub fn transition(&self, to_status: &str) {
        self.transitions.add(to_status);
    }

    /// One operational incident announced (`stale` or `failing`).
    pub fn incident(&self, kind: &str) {
        self.incidents.add(kind);
    }

    /// One Discord delivery that succeeded or finally failed.
    pub fn discord(&self, delivered: bool) {
        self.discord.add(if delivered { "sent" } else { "failed" });
    }

    /// One channel delivery (`ntfy`, `command`, …) that succeeded or finally failed.
    pub fn delivery(&self, channel: &str, delivered: bool) {
        let result = if delivered { "sent" } else { "failed" };
        self.deliveries.add(&format!("{channel}/{result}"));
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let last = self.last_market_event.load(Ordering::Relaxed);
        MetricsSnapshot {
            market_events: self.market_events.load(Ordering::Relaxed),
            last_market_event: (last != 0)
                .then(|| DateTime::from_timestamp_micros(last))
                .flatten(),
            detections: self.detections.get(),
            transitions: self.transitions.get(),
            incidents: self.incidents.get(),
            discord: self.discord.get(),
            deliveries: self
                .deliveries
                .get()
                .into_iter()
                .filter_map(|(key, n)| {
                    let (channel, result) = key.split_once('/')?;
                    Some(((channel.to_string(), result.to_string()), n))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counters_add_up_by_label_and_the_last_event_time_is_kept() {
        let m = Metrics::default();
        assert_eq!(m.snapshot(), MetricsSnapshot::default());
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        m.market_events(1, at);
        m.market_events(41, at + chrono::Duration::seconds(2));
        m.detection("orb_breakout");
        m.detection("orb_breakout");
        m.detection("vwap_reclaim");
        m.transition("triggered");
        m.discord(true);
        m.discord(false);
        let s = m.snapshot();
        assert_eq!(s.market_events, 42);
        assert_eq!(s.last_market_event, Some(at + chrono::Duration::seconds(2)));
        assert_eq!(s.detections["orb_breakout"], 2);
        assert_eq!(s.detections["vwap_reclaim"], 1);
        assert_eq!(s.transitions["triggered"], 1);
        assert_eq!((s.discord["sent"], s.discord["failed"]), (1, 1));
    }
}
