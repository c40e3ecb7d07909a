//! Operational incidents (SPEC 9), as a pure state machine: worker records and the time
//! in, the notices to send out. The health monitor feeds it on a cadence and tells it
//! which deliveries succeeded.
//!
//! Rules:
//! - Nothing is sent during the start-up grace (workers settle). An issue that is still
//!   there when the grace ends is announced then.
//! - An issue is `failing` (the last `failures_in_a_row` runs failed) or `stale` (no
//!   completed cycle within the worker's `stale_after`); failing wins when both hold.
//! - One incident per worker and kind: the key is never the error text, so a changing
//!   message cannot bypass the cooldown (the original's bug). An ongoing incident is
//!   repeated at most once per cooldown; the cooldown of a kind also holds across a quick
//!   recovery, so a flapping worker cannot flood the channel.
//! - Recovery sends one message, and only for an incident the trader was told about.
//! - A notice counts as told only once delivered: a failed delivery is retried after
//!   `retry_delay` instead of being treated as sent (the original's other bug). While a
//!   worker's notice is on its way, that worker is not evaluated again.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::AlertsConfig;
use crate::worker_health::{WorkerRecord, WorkerState};

/// What is wrong with a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IncidentKind {
    /// No completed cycle (or heartbeat) within its stale threshold.
    Stale,
    /// Its last runs failed (error or panic), this many in a row or more.
    Failing,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Stale => "stale",
            IncidentKind::Failing => "failing",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct IncidentPolicy {
    pub startup_grace: Duration,
    pub cooldown: Duration,
    pub failures_in_a_row: u32,
    /// After a delivery failed, wait this long before trying the notice again.
    pub retry_delay: Duration,
}

impl IncidentPolicy {
    pub fn from_config(alerts: &AlertsConfig) -> IncidentPolicy {
        IncidentPolicy {
            startup_grace: alerts.startup_grace(),
            cooldown: alerts.cooldown(),
            failures_in_a_row: alerts.failures_in_a_row,
            retry_delay: Duration::from_secs(60).min(alerts.cooldown()),
        }
    }
}

/// A worker in trouble, with what the message shows. Instants are UTC.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub worker: String,
    pub kind: IncidentKind,
    pub state: WorkerState,
    pub started_at: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub restarts: u32,
    pub stale_after: Duration,
    /// When the monitor first saw this worker in trouble.
    pub since: DateTime<Utc>,
    /// When this notice was made.
    pub at: DateTime<Utc>,
    /// The trader was already told about this incident; this is the cooldown reminder.
    pub repeat: bool,
}

/// A worker that is healthy again after an incident the trader was told about.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    pub worker: String,
    /// The last incident kind announced.
    pub from: IncidentKind,
    /// When the trouble began.
    pub since: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpsNotice {
    Incident(Incident),
    Recovered(Recovery),
}

impl OpsNotice {
    pub fn worker(&self) -> &str {
        match self {
            OpsNotice::Incident(i) => &i.worker,
            OpsNotice::Recovered(r) => &r.worker,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum InFlight {
    Incident {
        kind: IncidentKind,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    Recovery,
}

/// What the monitor knows about one worker.
#[derive(Clone, Debug, Default)]
struct WorkerIncidents {
    /// When the current trouble began (any kind); `None` while healthy.
    trouble_since: Option<DateTime<Utc>>,
    /// The incident the trader was last told about, and when its trouble began.
    told: Option<(IncidentKind, DateTime<Utc>)>,
    /// When each kind was last delivered (the cooldown clock).
    last_sent: BTreeMap<IncidentKind, DateTime<Utc>>,
    in_flight: Option<InFlight>,
    retry_at: Option<DateTime<Utc>>,
}

/// The incident state of every worker.
#[derive(Clone, Debug)]
pub struct Incidents {
    policy: IncidentPolicy,
    started_at: DateTime<Utc>,
    /// Workers never reported on (the monitor itself).
    skip: Vec<String>,
    workers: BTreeMap<String, WorkerIncidents>,
}

/// The issue a worker has now, if any.
pub fn classify(
    record: &WorkerRecord,
    now: DateTime<Utc>,
    failures_in_a_row: u32,
) -> Option<IncidentKind> {
    if record.consecutive_failures >= failures_in_a_row {
        Some(IncidentKind::Failing)
    } else if record.is_stale(now) {
        Some(IncidentKind::Stale)
    } else {
        None
    }
}

impl Incidents {
    /// `started_at` starts the grace; workers named in `skip` are never reported.
    pub fn new(policy: IncidentPolicy, started_at: DateTime<Utc>, skip: &[&str]) -> Incidents {
        Incidents {
            policy,
            started_at,
            skip: skip.iter().map(|s| s.to_string()).collect(),
            workers: BTreeMap::new(),
        }
    }

    /// The notices due at `now`. Each must be answered with `delivered`.
    pub fn evaluate(&mut self, records: &[WorkerRecord], now: DateTime<Utc>) -> Vec<OpsNotice> {
        self.workers
            .retain(|name, _| records.iter().any(|r| &r.name == name));
        let in_grace = now - self.started_at < chrono_duration(self.policy.startup_grace);
        let cooldown = chrono_duration(self.policy.cooldown);
        let mut out = Vec::new();
        for record in records.iter().filter(|r| !self.skip.contains(&r.name)) {
            let issue = classify(record, now, self.policy.failures_in_a_row);
            let w = self.workers.entry(record.name.clone()).or_default();
            let since = match issue {
                Some(_) => *w.trouble_since.get_or_insert(now),
                None => {
                    w.trouble_since = None;
                    now
                }
            };
            if in_grace || w.in_flight.is_some() || w.retry_at.is_some_and(|t| now < t) {
                continue;
            }
            w.retry_at = None;
            match (issue, w.told) {
                (Some(kind), told) => {
                    let cooled = w.last_sent.get(&kind).is_none_or(|t| now - *t >= cooldown);
                    if cooled {
                        w.in_flight = Some(InFlight::Incident {
                            kind,
                            since,
                            at: now,
                        });
                        out.push(OpsNotice::Incident(Incident {
                            worker: record.name.clone(),
                            kind,
                            state: record.state,
                            started_at: record.started_at,
                            last_success: record.last_success,
                            last_error: record.last_error.clone(),
                            last_error_at: record.last_error_at,
                            consecutive_failures: record.consecutive_failures,
                            restarts: record.restarts,
                            stale_after: record.stale_after,
                            since,
                            at: now,
                            repeat: told.is_some_and(|(k, _)| k == kind),
                        }));
                    }
                }
                (None, Some((from, since))) => {
                    w.in_flight = Some(InFlight::Recovery);
                    out.push(OpsNotice::Recovered(Recovery {
                        worker: record.name.clone(),
                        from,
                        since,
                        at: now,
                    }));
                }
                (None, None) => {}
            }
        }
        out
    }

    /// The outcome of delivering `worker`'s notice: told, or to be retried later.
    pub fn delivered(&mut self, worker: &str, ok: bool, now: DateTime<Utc>) {
        let Some(w) = self.workers.get_mut(worker) else {
            return;
        };
        let Some(flight) = w.in_flight.take() else {
            return;
        };
        if !ok {
            w.retry_at = Some(now + chrono_duration(self.policy.retry_delay));
            return;
        }
        match flight {
            InFlight::Incident { kind, since, at } => {
                w.told = Some((kind, since));
                w.last_sent.insert(kind, at);
            }
            InFlight::Recovery => w.told = None,
        }
    }

    /// Workers whose notice is on its way.
    pub fn in_flight(&self) -> Vec<&str> {
        self.workers
            .iter()
            .filter(|(_, w)| w.in_flight.is_some())
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests;
