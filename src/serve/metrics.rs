//! The `GET /metrics` body (pure): Prometheus text exposition format 0.0.4. Per-worker
//! gauges and counters come from the health records, the rest from `Metrics`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::workers::age_secs;
use crate::runtime::health::{Overall, WorkerRecord, overall};
use crate::runtime::metrics::MetricsSnapshot;

/// The `Content-Type` of the body.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        self.0
            .push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", labels.join(","))
        };
        self.0.push_str(&format!("{name}{labels} {value}\n"));
    }

    fn per_worker(
        &mut self,
        records: &[WorkerRecord],
        name: &str,
        kind: &str,
        help: &str,
        value: impl Fn(&WorkerRecord) -> Option<String>,
    ) {
        self.family(name, kind, help);
        for r in records {
            if let Some(v) = value(r) {
                self.sample(name, &[("worker", &r.name)], v);
            }
        }
    }

    fn labelled(&mut self, name: &str, label: &str, help: &str, counts: &BTreeMap<String, u64>) {
        self.family(name, "counter", help);
        for (value, count) in counts {
            self.sample(name, &[(label, value)], count);
        }
    }
}

fn flag(b: bool) -> Option<String> {
    Some(u8::from(b).to_string())
}

/// The whole exposition at `now`.
pub fn render(records: &[WorkerRecord], metrics: &MetricsSnapshot, now: DateTime<Utc>) -> String {
    let mut out = Out(String::new());
    let status = overall(records, now);
    out.family(
        "coach_health_status",
        "gauge",
        "Overall health: 1 on the current status (ok, degraded, down).",
    );
    for s in [Overall::Ok, Overall::Degraded, Overall::Down] {
        out.sample(
            "coach_health_status",
            &[("status", s.as_str())],
            u8::from(s == status),
        );
    }
    out.per_worker(
        records,
        "coach_worker_up",
        "gauge",
        "1 when the worker is healthy: running, not stale, its last run did not fail.",
        |r| flag(r.is_healthy(now)),
    );
    out.per_worker(
        records,
        "coach_worker_stale",
        "gauge",
        "1 when the worker completed no cycle within its stale threshold.",
        |r| flag(r.is_stale(now)),
    );
    out.per_worker(
        records,
        "coach_worker_cycles_total",
        "counter",
        "Completed cycles (or heartbeats) of the worker.",
        |r| Some(r.cycles.to_string()),
    );
    out.per_worker(
        records,
        "coach_worker_errors_total",
        "counter",
        "Runs of the worker that returned an error or panicked.",
        |r| Some(r.errors.to_string()),
    );
    out.per_worker(
        records,
        "coach_worker_restarts_total",
        "counter",
        "Restarts of the worker by its supervisor.",
        |r| Some(r.restarts.to_string()),
    );
    out.per_worker(
        records,
        "coach_worker_consecutive_failures",
        "gauge",
        "Failed runs of the worker since its last completed cycle.",
        |r| Some(r.consecutive_failures.to_string()),
    );
    out.per_worker(
        records,
        "coach_worker_last_success_age_seconds",
        "gauge",
        "Seconds since the worker last completed a cycle (absent if it never did).",
        |r| r.last_success.map(|t| format!("{:.3}", age_secs(t, now))),
    );
    out.per_worker(
        records,
        "coach_worker_stale_threshold_seconds",
        "gauge",
        "Seconds without a completed cycle after which the worker is stale.",
        |r| Some(format!("{:.3}", r.stale_after.as_secs_f64())),
    );
    out.family(
        "coach_market_events_total",
        "counter",
        "Market events published on the bus.",
    );
    out.sample("coach_market_events_total", &[], metrics.market_events);
    out.family(
        "coach_feed_last_event_age_seconds",
        "gauge",
        "Feed lag: seconds since the last market event was published (absent before the first).",
    );
    if let Some(t) = metrics.last_market_event {
        out.sample(
            "coach_feed_last_event_age_seconds",
            &[],
            format!("{:.3}", age_secs(t, now)),
        );
    }
    out.family(
        "coach_detector_lag_seconds",
        "gauge",
        "Detector lag behind the feed, in market seconds (a bar's end to its detections \
         stored, on the feed's market clock), by quantile over the latest bars (absent \
         before the first bar).",
    );
    if let Some(lag) = &metrics.detector_lag {
        for (quantile, value) in [("0.5", lag.p50), ("0.99", lag.p99), ("1", lag.max)] {
            out.sample(
                "coach_detector_lag_seconds",
                &[("quantile", quantile)],
                format!("{value:.3}"),
            );
        }
    }
    out.labelled(
        "coach_detections_total",
        "kind",
        "Setup detections stored, by setup kind.",
        &metrics.detections,
    );
    out.labelled(
        "coach_setup_transitions_total",
        "to",
        "Tracked-setup transitions, by the status entered.",
        &metrics.transitions,
    );
    out.labelled(
        "coach_incidents_total",
        "kind",
        "Operational incidents announced, by kind (stale, failing).",
        &metrics.incidents,
    );
    out.labelled(
        "coach_discord_messages_total",
        "result",
        "Discord webhook deliveries, by result (sent, failed).",
        &metrics.discord,
    );
    out.family(
        "coach_alert_deliveries_total",
        "counter",
        "Alert channel deliveries (ntfy, webhook, slack, telegram, command), by channel and \
         result (sent, failed). A failing channel is also a worker in Health.",
    );
    for ((channel, result), count) in &metrics.deliveries {
        out.sample(
            "coach_alert_deliveries_total",
            &[("channel", channel), ("result", result)],
            count,
        );
    }
    out.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::runtime::health::WorkerState;

    #[test]
    fn the_exposition_has_one_help_and_type_per_family_and_escapes_labels() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let record = WorkerRecord {
            name: "we\"ird\\name".into(),
            state: WorkerState::Running,
            expected_interval: Duration::from_secs(1),
            stale_after: Duration::from_secs(30),
            started_at: Some(now - chrono::Duration::seconds(60)),
            last_cycle_start: None,
            last_cycle_end: None,
            last_success: Some(now - chrono::Duration::milliseconds(1500)),
            last_error_at: None,
            last_error: None,
            cycles: 59,
            errors: 0,
            consecutive_failures: 0,
            restarts: 0,
            note: None,
        };
        let mut m = MetricsSnapshot {
            market_events: 12,
            last_market_event: Some(now - chrono::Duration::seconds(2)),
            ..MetricsSnapshot::default()
        };
        m.detections.insert("orb_breakout".into(), 3);
        m.deliveries.insert(("ntfy".into(), "failed".into()), 2);
        m.detector_lag = Some(crate::runtime::metrics::LagQuantiles {
            p50: 0.25,
            p99: 0.875,
            max: 3.5,
            window: 8000,
            total: 16000,
        });
        let text = render(&[record], &m, now);
        assert!(
            text.contains("coach_health_status{status=\"ok\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("coach_health_status{status=\"down\"} 0\n"));
        assert!(
            text.contains("coach_worker_up{worker=\"we\\\"ird\\\\name\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("coach_worker_cycles_total{worker=\"we\\\"ird\\\\name\"} 59\n"));
        assert!(text.contains(
            "coach_worker_last_success_age_seconds{worker=\"we\\\"ird\\\\name\"} 1.500\n"
        ));
        assert!(text.contains("coach_market_events_total 12\n"));
        assert!(text.contains("coach_feed_last_event_age_seconds 2.000\n"));
        assert!(text.contains("coach_detections_total{kind=\"orb_breakout\"} 3\n"));
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(types, helps);
        assert!(text.contains("coach_detector_lag_seconds{quantile=\"0.5\"} 0.250\n"));
        assert!(text.contains("coach_detector_lag_seconds{quantile=\"0.99\"} 0.875\n"));
        assert!(text.contains("coach_detector_lag_seconds{quantile=\"1\"} 3.500\n"));
        assert_eq!(types, 17);
        assert!(
            text.contains("coach_alert_deliveries_total{channel=\"ntfy\",result=\"failed\"} 2\n")
        );
    }
}
