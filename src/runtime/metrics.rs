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
    detector_lag: LagWindow,
}

/// The detector's lag behind the feed, in market seconds (a bar's end → its detections
/// stored, read on the feed's market clock), for the latest [`LAG_SAMPLES`] bars.
#[derive(Debug, Default)]
struct LagWindow(Mutex<LagRing>);

/// Bars the lag quantiles are taken over: two minutes of an 8,000-symbol market.
pub const LAG_SAMPLES: usize = 16_384;

#[derive(Debug, Default)]
struct LagRing {
    /// Seconds, oldest overwritten first once full.
    samples: Vec<f64>,
    next: usize,
    /// Every sample ever recorded (the window holds the latest of them).
    total: u64,
}

impl LagRing {
    fn push(&mut self, seconds: f64) {
        if self.samples.len() < LAG_SAMPLES {
            self.samples.push(seconds);
        } else {
            self.samples[self.next] = seconds;
        }
        self.next = (self.next + 1) % LAG_SAMPLES;
        self.total += 1;
    }

    fn quantiles(&self) -> Option<LagQuantiles> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        // Nearest rank: the smallest sample with at least q of the window at or below it.
        let rank = |q: f64| {
            let n = sorted.len();
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            sorted[i]
        };
        Some(LagQuantiles {
            p50: rank(0.5),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            window: sorted.len(),
            total: self.total,
        })
    }
}

/// Quantiles of the detector's lag over the latest bars, in market seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LagQuantiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// Bars in the window the quantiles are taken over (at most [`LAG_SAMPLES`]).
    pub window: usize,
    /// Bars measured since start.
    pub total: u64,
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
    /// The detector's lag behind the feed over the latest bars (none before the first).
    pub detector_lag: Option<LagQuantiles>,
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

    /// Each bar's lag behind the feed, in market seconds (negative values, a bar ahead
    /// of the feed's clock, count as 0). Returns the quantiles with them.
    pub fn detector_lag(&self, seconds: impl IntoIterator<Item = f64>) -> Option<LagQuantiles> {
        let mut ring = self
            .detector_lag
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for s in seconds {
            ring.push(s.max(0.0));
        }
        ring.quantiles()
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
            detector_lag: self
                .detector_lag
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .quantiles(),
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

    #[test]
    fn the_detector_lag_quantiles_follow_the_latest_bars_only() {
        let m = Metrics::default();
        assert_eq!(m.snapshot().detector_lag, None);
        // 98 bars 0.2 s late, one 3 s, one 40 s (a bar held by a slow write).
        let lags = std::iter::repeat_n(0.2, 98).chain([3.0, 40.0]);
        let q = m.detector_lag(lags).unwrap();
        assert_eq!((q.p50, q.p99, q.max), (0.2, 3.0, 40.0));
        assert_eq!((q.window, q.total), (100, 100));
        // A full window of prompt bars pushes the slow ones out; a clock skew is 0.
        m.detector_lag(std::iter::repeat_n(0.5, LAG_SAMPLES - 1).chain([-2.0]));
        let q = m.snapshot().detector_lag.unwrap();
        assert_eq!((q.p50, q.p99, q.max), (0.5, 0.5, 0.5));
        assert_eq!((q.window, q.total), (LAG_SAMPLES, 100 + LAG_SAMPLES as u64));
    }
}
