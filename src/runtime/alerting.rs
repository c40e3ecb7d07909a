//! The alert dispatcher worker (SPEC 9): delivers what the [`Notifier`] handles queue,
//! one at a time: logs it, shows it on the screen (`AppEvent::Notice`), reports
//! incidents to Sentry (feature `sentry`), posts to the Discord webhook, hands trading
//! alerts to the channel workers (`runtime::delivery`) and the terminal's desktop
//! notification as `notify::routing` decides, and counts incidents and deliveries for
//! `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::AppEvent;
use super::delivery::ChannelQueue;
use super::metrics::Metrics;
use super::supervisor::WorkerCtx;
use crate::config::Config;
use crate::config::channels::QuietHours;
use crate::notify::channels::Delivery;
use crate::notify::discord::{Discord, RetryPolicy, WebhookMessage};
use crate::notify::incidents::OpsNotice;
use crate::notify::snooze::{self, SnoozeTarget};
use crate::notify::{self, Job, Notifier, TradingAlert, message, routing, sentry};
use crate::store::Store;
use chrono::{DateTime, Utc};

/// The dispatcher's name in Health.
pub const WORKER: &str = "alerts";
/// The dispatcher heart-beats at least this often while idle.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// The alert dispatcher worker's state; clone it into `supervisor::spawn`.
#[derive(Clone)]
pub struct Dispatcher {
    jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    discord: Option<Arc<Discord>>,
    username: String,
    events: mpsc::Sender<AppEvent>,
    metrics: Arc<Metrics>,
    /// The channel workers' queues (`with_channels`).
    channels: Vec<ChannelQueue>,
    /// When channels, Discord's trading alerts and the desktop stay silent.
    quiet: Option<QuietHours>,
    /// The kinds sent as desktop notifications through the terminal; `None`: off.
    desktop: Option<Vec<String>>,
    /// Where snoozes are kept (`with_snoozes`); `None`: nothing is ever snoozed.
    snoozes: Option<Store>,
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
    let (notifier, rx) = notify::queue(&config.alerts);
    (
        notifier,
        Dispatcher {
            jobs: Arc::new(tokio::sync::Mutex::new(rx)),
            discord,
            username: config.discord.username.clone(),
            events,
            metrics,
            channels: Vec::new(),
            // Validated at load; a bad value cannot reach here, and would mean none.
            quiet: QuietHours::parse(&config.alerts.quiet_hours).unwrap_or(None),
            desktop: config
                .alerts
                .desktop
                .then(|| config.alerts.desktop_kinds.clone()),
            snoozes: None,
        },
    )
}

impl Dispatcher {
    /// Whether messages go to Discord.
    pub fn has_webhook(&self) -> bool {
        self.discord.is_some()
    }

    /// Hands trading alerts to these channel workers too.
    pub fn with_channels(mut self, channels: Vec<ChannelQueue>) -> Dispatcher {
        self.channels = channels;
        self
    }

    /// Reads snoozes from this database before delivering a trading alert.
    pub fn with_snoozes(mut self, store: Option<Store>) -> Dispatcher {
        self.snoozes = store;
        self
    }

    /// Whether the alert's price alert or setup is snoozed at `at`. A snooze that cannot
    /// be read does not silence anything: better one alert too many than one lost.
    async fn snoozed(&self, alert: &TradingAlert, at: DateTime<Utc>) -> bool {
        let Some(store) = &self.snoozes else {
            return false;
        };
        let target = SnoozeTarget::of(alert);
        match store.snoozed_until(target).await {
            Ok(until) => snooze::is_snoozed(until, at),
            Err(e) => {
                tracing::warn!("cannot read the snooze of {target}, delivering anyway: {e}");
                false
            }
        }
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
                if routing::is_quiet(self.quiet, at) {
                    tracing::debug!("quiet hours: {} alert shown only", alert.kind);
                    return;
                }
                if self.snoozed(&alert, at).await {
                    tracing::info!(
                        "{} is snoozed: {} alert shown only",
                        SnoozeTarget::of(&alert),
                        alert.kind
                    );
                    return;
                }
                let delivery = Delivery::of(&alert, at);
                for channel in &self.channels {
                    if routing::wants(&channel.kinds, alert.kind) {
                        channel.offer(delivery.clone());
                    }
                }
                if let Some(kinds) = &self.desktop
                    && routing::wants(kinds, alert.kind)
                {
                    self.send_event(AppEvent::Desktop {
                        title: delivery.title.clone(),
                        body: delivery.body.clone(),
                    });
                }
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
        self.send_event(AppEvent::Notice(text));
    }

    fn send_event(&self, event: AppEvent) {
        match self.events.try_send(event) {
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
    use crate::domain::Symbol;
    use crate::notify::{AlertKind, Outcome, TradingAlert};

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
