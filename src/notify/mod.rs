//! Alerting (SPEC 9): operational incidents from the health monitor and trading alerts
//! from the setup evaluator go through one `Notifier` handle to the alert dispatcher
//! worker, which logs them, shows them on the screen (`AppEvent::Notice`), reports
//! incidents to Sentry (feature `sentry`) and posts them to the Discord webhook, one at
//! a time. With no webhook configured nothing is sent and nothing fails.

pub mod discord;
pub mod incidents;
pub mod message;
pub mod sentry;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use self::discord::{Discord, RetryPolicy, WebhookMessage};
use self::incidents::OpsNotice;
use crate::config::{AlertsConfig, Config};
use crate::domain::Symbol;
use crate::runtime::AppEvent;
use crate::runtime::metrics::Metrics;
use crate::runtime::supervisor::WorkerCtx;

/// The dispatcher's name in Health.
pub const WORKER: &str = "alerts";
/// The dispatcher heart-beats at least this often while idle.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
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

enum Job {
    Ops {
        notice: OpsNotice,
        done: oneshot::Sender<bool>,
    },
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

/// The alert dispatcher worker's state; clone it into `supervisor::spawn`.
#[derive(Clone)]
pub struct Dispatcher {
    jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    discord: Option<Arc<Discord>>,
    username: String,
    events: mpsc::Sender<AppEvent>,
    metrics: Arc<Metrics>,
}

/// A notifier and its dispatcher, from `[alerts]` and `[discord]`. If the HTTP client
/// cannot be built (no TLS roots, say) the error is logged and nothing goes to Discord.
pub fn notifier(
    config: &Config,
    retry: RetryPolicy,
    events: mpsc::Sender<AppEvent>,
    metrics: Arc<Metrics>,
) -> (Notifier, Dispatcher) {
    let discord = match Discord::new(&config.discord.webhook_url, retry) {
        Ok(discord) => discord.map(Arc::new),
        Err(e) => {
            tracing::error!("Discord alerts are off: {e}");
            None
        }
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    (
        Notifier {
            jobs: tx,
            alerts: Arc::new(config.alerts.clone()),
            seen: Arc::default(),
        },
        Dispatcher {
            jobs: Arc::new(tokio::sync::Mutex::new(rx)),
            discord,
            username: config.discord.username.clone(),
            events,
            metrics,
        },
    )
}

impl Dispatcher {
    /// Whether messages go to Discord.
    pub fn has_webhook(&self) -> bool {
        self.discord.is_some()
    }

    /// Delivers queued notices until cancelled; heart-beats while idle.
    pub async fn run(self, ctx: WorkerCtx) -> Result<(), String> {
        let mut jobs = self.jobs.lock().await;
        let mut beat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Ok(()),
                _ = beat.tick() => ctx.heartbeat(),
                job = jobs.recv() => {
                    let Some(job) = job else {
                        tracing::debug!("every notifier handle was dropped: nothing more to send");
                        return Ok(());
                    };
                    tokio::select! {
                        _ = self.handle(job) => ctx.heartbeat(),
                        _ = ctx.cancel.cancelled() => return Ok(()),
                    }
                }
            }
        }
    }

    async fn handle(&self, job: Job) {
        match job {
            Job::Trading { alert, at } => {
                let text = message::trading_text(&alert);
                tracing::info!(target: "coach::alert", "{text}");
                self.screen(text);
                let embed = message::trading_embed(&alert, at);
                self.post(WebhookMessage::embed(&self.username, embed))
                    .await;
            }
            Job::Ops { notice, done } => {
                let text = message::ops_text(&notice);
                match &notice {
                    OpsNotice::Incident(i) => {
                        tracing::warn!(target: "coach::incident", "{text}");
                        self.metrics.incident(i.kind.as_str());
                    }
                    OpsNotice::Recovered(_) => tracing::info!(target: "coach::incident", "{text}"),
                }
                sentry::ops_event(&notice, &text);
                self.screen(text);
                let delivered = self
                    .post(WebhookMessage::embed(
                        &self.username,
                        message::ops_embed(&notice),
                    ))
                    .await;
                if done.send(delivered).is_err() {
                    tracing::debug!("the health monitor restarted before a delivery report");
                }
            }
        }
    }

    /// Sends to Discord when configured; `true` when delivered or not configured.
    async fn post(&self, message: WebhookMessage) -> bool {
        let Some(discord) = &self.discord else {
            return true;
        };
        match discord.send(&message).await {
            Ok(()) => {
                self.metrics.discord(true);
                true
            }
            Err(e) => {
                self.metrics.discord(false);
                tracing::warn!("Discord alert not delivered: {e}");
                false
            }
        }
    }

    fn screen(&self, text: String) {
        match self.events.try_send(AppEvent::Notice(text)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("a notice was not shown: the screen is behind");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::trace!("no screen attached");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, setup_id: i64) -> TradingAlert {
        TradingAlert {
            kind,
            symbol: Symbol::parse("QQQ").unwrap(),
            setup_id,
            text: "VWAP reclaim long".into(),
        }
    }

    #[test]
    fn each_setup_gets_each_kind_of_alert_once_and_disabled_kinds_none() {
        let mut config = Config::default();
        config.alerts.invalidated = false;
        let (events, _screen) = mpsc::channel(8);
        let (notifier, _dispatcher) =
            notifier(&config, RetryPolicy::default(), events, Arc::default());
        assert_eq!(
            notifier.trading(alert(AlertKind::Triggered, 7)),
            Outcome::Queued
        );
        assert_eq!(
            notifier.trading(alert(AlertKind::Triggered, 7)),
            Outcome::Duplicate
        );
        let copy = notifier.clone();
        assert_eq!(
            copy.trading(alert(AlertKind::Triggered, 7)),
            Outcome::Duplicate,
            "clones share the memory"
        );
        assert_eq!(
            notifier.trading(alert(AlertKind::TargetHit, 7)),
            Outcome::Queued
        );
        assert_eq!(
            notifier.trading(alert(AlertKind::Triggered, 8)),
            Outcome::Queued
        );
        assert_eq!(
            notifier.trading(alert(AlertKind::Invalidated, 9)),
            Outcome::Disabled
        );
    }

    #[test]
    fn an_alert_not_queued_is_not_remembered_so_it_can_be_sent_later() {
        let (events, _screen) = mpsc::channel(8);
        let (notifier, dispatcher) = notifier(
            &Config::default(),
            RetryPolicy::default(),
            events,
            Arc::default(),
        );
        drop(dispatcher);
        assert_eq!(
            notifier.trading(alert(AlertKind::Detected, 1)),
            Outcome::Dropped
        );
        assert_eq!(
            notifier.trading(alert(AlertKind::Detected, 1)),
            Outcome::Dropped
        );
    }
}
