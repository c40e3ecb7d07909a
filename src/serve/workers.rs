//! The `GET /health/workers` document (pure): the overall status and every worker's
//! record, instants as RFC 3339 UTC with milliseconds and ages in seconds.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::runtime::health::{Overall, WorkerRecord, WorkerState, overall};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkersDocument {
    /// `ok` (every worker healthy), `degraded` (some) or `down` (none).
    pub status: Overall,
    /// When this document was made.
    pub checked_at: String,
    pub workers: Vec<WorkerView>,
}

/// One worker as served. `*_age_secs` are seconds before `checked_at`; absent instants
/// and their ages are `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkerView {
    pub name: String,
    pub state: WorkerState,
    pub healthy: bool,
    pub stale: bool,
    pub expected_interval_secs: f64,
    pub stale_after_secs: f64,
    pub started_at: Option<String>,
    pub started_age_secs: Option<f64>,
    pub last_cycle_start: Option<String>,
    pub last_cycle_end: Option<String>,
    pub last_success: Option<String>,
    pub last_success_age_secs: Option<f64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_error_age_secs: Option<f64>,
    pub cycles: u64,
    pub errors: u64,
    pub consecutive_failures: u32,
    pub restarts: u32,
    /// Why a stopped worker stopped on its own ("recording finished"); `null` otherwise.
    /// Coach's own words, never an upstream answer, so it is served as is.
    pub note: Option<String>,
}

/// What `last_error` says instead of the error's text, which stays in the log, the
/// dashboard's Health pane and the Discord incident.
pub const ERROR_WITHHELD: &str = "failed; the error is in coach's log";

/// RFC 3339 UTC with milliseconds: `2026-11-24T14:30:00.250Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Seconds from `then` to `now`, to the millisecond, never negative.
pub fn age_secs(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let ms = (now - then).num_milliseconds().max(0);
    ms as f64 / 1000.0
}

pub fn document(records: &[WorkerRecord], now: DateTime<Utc>) -> WorkersDocument {
    WorkersDocument {
        status: overall(records, now),
        checked_at: iso(now),
        workers: records.iter().map(|r| view(r, now)).collect(),
    }
}

fn view(r: &WorkerRecord, now: DateTime<Utc>) -> WorkerView {
    WorkerView {
        name: r.name.clone(),
        state: r.state,
        healthy: r.is_healthy(now),
        stale: r.is_stale(now),
        expected_interval_secs: r.expected_interval.as_secs_f64(),
        stale_after_secs: r.stale_after.as_secs_f64(),
        started_at: r.started_at.map(iso),
        started_age_secs: r.started_at.map(|t| age_secs(t, now)),
        last_cycle_start: r.last_cycle_start.map(iso),
        last_cycle_end: r.last_cycle_end.map(iso),
        last_success: r.last_success.map(iso),
        last_success_age_secs: r.last_success.map(|t| age_secs(t, now)),
        // The text can carry what an upstream server answered (URLs, bodies); this
        // document is unauthenticated, so it only says that there is one.
        last_error: r.last_error.as_ref().map(|_| ERROR_WITHHELD.to_string()),
        last_error_at: r.last_error_at.map(iso),
        last_error_age_secs: r.last_error_at.map(|t| age_secs(t, now)),
        cycles: r.cycles,
        errors: r.errors,
        consecutive_failures: r.consecutive_failures,
        restarts: r.restarts,
        note: r.note.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::health::Health;

    #[test]
    fn an_upstream_error_text_is_not_served() {
        let health = Health::default();
        let now = Utc::now();
        health.register("feed", std::time::Duration::from_secs(60));
        health.update("feed", |r| {
            r.last_error = Some("GET https://api.example/v2?apiKey=SEKRET: 401 {\"body\"}".into());
            r.last_error_at = Some(now);
        });
        let doc = document(&health.snapshot(), now);
        let text = serde_json::to_string(&doc).unwrap();
        assert!(
            !text.contains("SEKRET") && !text.contains("api.example"),
            "{text}"
        );
        assert_eq!(doc.workers[0].last_error.as_deref(), Some(ERROR_WITHHELD));
        assert!(doc.workers[0].last_error_at.is_some());
    }

    #[test]
    fn a_worker_stopped_by_the_end_of_the_recording_says_so() {
        let health = Health::default();
        health.register("brief", std::time::Duration::from_secs(20));
        health.update("brief", |r| {
            r.state = WorkerState::Stopped;
            r.note = Some("recording finished".into());
        });
        health.register("feed", std::time::Duration::from_secs(1));
        let doc = document(&health.snapshot(), Utc::now());
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["workers"][0]["state"], "stopped");
        assert_eq!(json["workers"][0]["note"], "recording finished");
        assert!(json["workers"][1]["note"].is_null(), "{json}");
    }
}
