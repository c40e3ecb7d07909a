//! Delivery channels beyond the screen and Discord (SPEC 20): ntfy, a generic JSON
//! webhook, Slack-compatible webhooks, Telegram and a local command. Each takes one
//! [`Delivery`] at a time; HTTP channels retry with backoff (429 waits as asked, 5xx and
//! network failures back off, other 4xx give up at once). Every URL and token is a
//! [`Secret`](crate::config::Secret): errors are scrubbed of them before they leave here.
//! Which alert goes to which channel is decided elsewhere (`notify::routing`, pure).

pub mod command;
pub mod http;
pub mod ntfy;
pub mod slack;
pub mod telegram;
pub mod webhook;

use chrono::{DateTime, Utc};

use super::AlertKind;
use super::discord::RetryPolicy;
use crate::config::AlertsConfig;
use crate::domain::Symbol;

/// One alert on its way to a channel, its text already printable.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub kind: AlertKind,
    pub symbol: Symbol,
    /// `coach · SPY price alert`.
    pub title: String,
    /// What happened, in a trader's words.
    pub body: String,
    /// When the alert was raised (UTC).
    pub at: DateTime<Utc>,
}

impl Delivery {
    /// The delivery of a trading alert raised at `at`.
    pub fn of(alert: &super::TradingAlert, at: DateTime<Utc>) -> Delivery {
        Delivery {
            kind: alert.kind,
            symbol: alert.symbol.clone(),
            title: crate::text::printable(&format!(
                "coach · {} {}",
                alert.symbol.as_str(),
                alert.kind.label()
            )),
            body: crate::text::printable(&alert.text),
            at,
        }
    }
}

/// Why a delivery failed. Never holds a URL, a token or a command's raw output.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("refused: HTTP {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("rate limited for {wait_secs:.1} s, more than the {max_secs:.0} s allowed")]
    RateLimitedTooLong { wait_secs: f64, max_secs: f64 },
    #[error("still failing after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("{0}")]
    Command(String),
}

/// A configured channel.
#[derive(Debug)]
pub enum Channel {
    Ntfy(ntfy::Ntfy),
    Webhook(webhook::Webhook),
    Slack(slack::Slack),
    Telegram(telegram::Telegram),
    Command(command::Command),
}

impl Channel {
    /// The channel's one-word name in Health, `/metrics` and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Ntfy(_) => "ntfy",
            Channel::Webhook(_) => "webhook",
            Channel::Slack(_) => "slack",
            Channel::Telegram(_) => "telegram",
            Channel::Command(_) => "command",
        }
    }

    pub async fn send(&self, delivery: &Delivery) -> Result<(), ChannelError> {
        match self {
            Channel::Ntfy(c) => c.send(delivery).await,
            Channel::Webhook(c) => c.send(delivery).await,
            Channel::Slack(c) => c.send(delivery).await,
            Channel::Telegram(c) => c.send(delivery).await,
            Channel::Command(c) => c.send(delivery).await,
        }
    }
}

/// A channel with the kinds it receives (empty: every kind).
#[derive(Debug)]
pub struct Configured {
    pub channel: Channel,
    pub kinds: Vec<String>,
}

/// Every channel `[alerts]` configures, in a fixed order. A channel whose HTTP client
/// cannot be built is left out with its error, so the others still work.
pub fn from_config(
    alerts: &AlertsConfig,
    retry: &RetryPolicy,
) -> (Vec<Configured>, Vec<(&'static str, ChannelError)>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    let mut add = |name: &'static str,
                   made: Result<Option<Channel>, ChannelError>,
                   kinds: &[String]| match made {
        Ok(Some(channel)) => ok.push(Configured {
            channel,
            kinds: kinds.to_vec(),
        }),
        Ok(None) => {}
        Err(e) => failed.push((name, e)),
    };
    add(
        "ntfy",
        http::Poster::new(&alerts.ntfy_url, retry)
            .map(|p| p.map(|poster| Channel::Ntfy(ntfy::Ntfy { poster }))),
        &alerts.ntfy_kinds,
    );
    add(
        "webhook",
        http::Poster::new(&alerts.webhook_url, retry)
            .map(|p| p.map(|poster| Channel::Webhook(webhook::Webhook { poster }))),
        &alerts.webhook_kinds,
    );
    add(
        "slack",
        http::Poster::new(&alerts.slack_url, retry)
            .map(|p| p.map(|poster| Channel::Slack(slack::Slack { poster }))),
        &alerts.slack_kinds,
    );
    add(
        "telegram",
        telegram::Telegram::new(alerts, retry).map(|t| t.map(Channel::Telegram)),
        &alerts.telegram_kinds,
    );
    add(
        "command",
        Ok(command::Command::new(alerts).map(Channel::Command)),
        &alerts.command_kinds,
    );
    (ok, failed)
}
