//! Alerting (SPEC 9): operational incidents from the health monitor and trading alerts
//! from the setup evaluator go through one `Notifier` handle to the alert dispatcher
//! worker (`runtime::alerting`), which logs them, shows them on the screen
//! (`AppEvent::Notice`), reports incidents to Sentry (feature `sentry`) and posts them to
//! the Discord webhook, one at a time. With no webhook configured nothing is sent and
//! nothing fails. This module holds the handle, the messages and their delivery
//! channels; it knows nothing of the runtime.

pub mod channels;
pub mod desktop;
pub mod discord;
pub mod incidents;
pub mod message;
pub mod routing;
pub mod sentry;
pub mod snooze;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use self::incidents::OpsNotice;
use crate::config::AlertsConfig;
use crate::domain::Symbol;

/// Messages waiting for the dispatcher before `trading` reports `QueueFull`.
const QUEUE: usize = 256;
/// De-duplication memory is pruned of entries older than this once it grows large.
const DEDUP_KEEP: chrono::Duration = chrono::Duration::days(3);
const DEDUP_PRUNE_AT: usize = 10_000;

/// What happened to a tracked setup (or a watchlist detection), for a trading alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A setup detected on the watchlist.
    Detected,
    Triggered,
    Invalidated,
    TargetHit,
    StoppedOut,
    /// A trader's price alert fired (SPEC 17); `setup_id` is the alert's id.
    PriceAlert,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Detected,
        AlertKind::Triggered,
        AlertKind::Invalidated,
        AlertKind::TargetHit,
        AlertKind::StoppedOut,
        AlertKind::PriceAlert,
    ];

    /// The kind's `[alerts]` key, as channel kind lists name it: `target_hit`.
    pub fn key(self) -> &'static str {
        match self {
            AlertKind::Detected => "detected",
            AlertKind::Triggered => "triggered",
            AlertKind::Invalidated => "invalidated",
            AlertKind::TargetHit => "target_hit",
            AlertKind::StoppedOut => "stopped_out",
            AlertKind::PriceAlert => "price_alert",
        }
    }

    /// Words for a message: `target hit`.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Detected => "detected",
            AlertKind::Triggered => "triggered",
            AlertKind::Invalidated => "invalidated",
            AlertKind::TargetHit => "target hit",
            AlertKind::StoppedOut => "stopped out",
            AlertKind::PriceAlert => "price alert",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            AlertKind::Detected => "🔎",
            AlertKind::Triggered => "⚡",
            AlertKind::Invalidated => "✖️",
            AlertKind::TargetHit => "🎯",
            AlertKind::StoppedOut => "🛑",
            AlertKind::PriceAlert => "🔔",
        }
    }

    /// Whether `[alerts]` sends this kind.
    pub fn enabled_in(self, alerts: &AlertsConfig) -> bool {
        match self {
            AlertKind::Detected => alerts.detected,
            AlertKind::Triggered => alerts.triggered,
            AlertKind::Invalidated => alerts.invalidated,
            AlertKind::TargetHit => alerts.target_hit,
            AlertKind::StoppedOut => alerts.stopped_out,
            AlertKind::PriceAlert => alerts.price_alert,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A trading alert from the setup evaluator.
#[derive(Clone, Debug, PartialEq)]
pub struct TradingAlert {
    pub kind: AlertKind,
    pub symbol: Symbol,
    /// The tracked setup's id (the detection's id for `Detected`); with `kind`, the
    /// de-duplication key.
    pub setup_id: i64,
    /// What happened, in a trader's words: `ORB long triggered at 683.20, stop 681.90`.
    pub text: String,
}

/// What `Notifier::trading` did with an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// On its way to the screen and Discord.
    Queued,
    /// This setup already had an alert of this kind.
    Duplicate,
    /// `[alerts]` turns this kind off.
    Disabled,
    /// The dispatcher is behind (or gone); the alert was not queued and may be retried.
    Dropped,
}

/// A message waiting for the alert dispatcher (`runtime::alerting`).
pub enum Job {
    /// An operational notice; `done` hears whether it was delivered.
    Ops {
        notice: OpsNotice,
        done: oneshot::Sender<bool>,
    },
    /// A trading alert queued at `at`.
    Trading {
        alert: TradingAlert,
        at: DateTime<Utc>,
    },
}

/// The handle workers alert through. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct Notifier {
    jobs: mpsc::Sender<Job>,
    alerts: Arc<AlertsConfig>,
    seen: Arc<Mutex<Sent>>,
}

/// When each (setup id, kind) alert was queued.
type Sent = HashMap<(i64, AlertKind), DateTime<Utc>>;

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

impl Notifier {
    /// Queues a trading alert unless its kind is off or this setup already had one of
    /// this kind.
    pub fn trading(&self, alert: TradingAlert) -> Outcome {
        self.queue(alert, true)
    }

    /// Queues a price alert's firing unless `[alerts] price_alert` is off. Not
    /// de-duplicated here: a re-arming alert fires again, and the store's guard already
    /// lets each firing through exactly once.
    pub fn price_alert(&self, alert: TradingAlert) -> Outcome {
        self.queue(alert, false)
    }

    fn queue(&self, alert: TradingAlert, dedupe: bool) -> Outcome {
        if !alert.kind.enabled_in(&self.alerts) {
            return Outcome::Disabled;
        }
        let key = (alert.setup_id, alert.kind);
        let now = Utc::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if dedupe && seen.contains_key(&key) {
            return Outcome::Duplicate;
        }
        match self.jobs.try_send(Job::Trading { alert, at: now }) {
            Ok(()) => {
                if seen.len() >= DEDUP_PRUNE_AT {
                    seen.retain(|_, at| now - *at < DEDUP_KEEP);
                }
                if dedupe {
                    seen.insert(key, now);
                }
                Outcome::Queued
            }
            Err(e) => {
                tracing::warn!(
                    "trading alert not queued: the alert dispatcher is {}",
                    match e {
                        mpsc::error::TrySendError::Full(_) => "behind",
                        mpsc::error::TrySendError::Closed(_) => "not running",
                    }
                );
                Outcome::Dropped
            }
        }
    }

    /// Queues an operational notice; the receiver says whether it was delivered
    /// (`false`, or a closed channel, means not: retry later). `None`: not queued.
    pub fn ops(&self, notice: OpsNotice) -> Option<oneshot::Receiver<bool>> {
        let (done, delivered) = oneshot::channel();
        self.jobs.try_send(Job::Ops { notice, done }).ok()?;
        Some(delivered)
    }
}

/// A notifier for `[alerts]` and the queue it fills, for the alert dispatcher.
pub fn queue(alerts: &AlertsConfig) -> (Notifier, mpsc::Receiver<Job>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let notifier = Notifier {
        jobs: tx,
        alerts: Arc::new(alerts.clone()),
        seen: Arc::default(),
    };
    (notifier, rx)
}
