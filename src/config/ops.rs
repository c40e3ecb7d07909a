//! The operational sections (SPEC 9, 12, 13): worker health thresholds, alerting, the
//! Discord webhook, Sentry and the `coach serve` endpoint. Durations are seconds (f64,
//! so tests and tight setups can use fractions).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::ConfigError;
use super::secret::Secret;

/// `[health]`: when a worker counts as stale, and how often that is checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// How often the health monitor evaluates every worker (seconds).
    pub check_secs: f64,
    /// Stale floor (seconds) for workers not named in `floors`.
    pub floor_secs: f64,
    /// Per-worker stale floors (seconds). A worker is stale when it completed no cycle or
    /// heartbeat within max(3 × its expected interval, its floor). Entries given in a
    /// file are laid over these defaults, so naming one worker keeps the others.
    #[serde(deserialize_with = "floors_over_defaults")]
    pub floors: BTreeMap<String, f64>,
}

/// `[alerts]`: operational incidents and trading alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// No incident is sent this long after start (seconds): workers settle first.
    pub startup_grace_secs: f64,
    /// One ongoing incident (worker + kind) is repeated at most once per cooldown (seconds).
    pub cooldown_secs: f64,
    /// A worker that failed this many runs in a row is an incident even before it is stale.
    pub failures_in_a_row: u32,
    /// Trading alerts, per kind: a watchlist setup detected, triggered, invalidated,
    /// target hit, stopped out.
    pub detected: bool,
    pub triggered: bool,
    pub invalidated: bool,
    pub target_hit: bool,
    pub stopped_out: bool,
    /// The trader's price alerts (SPEC 17) when they fire.
    pub price_alert: bool,
    /// Delivery channels beyond the screen and Discord (SPEC 20): see
    /// `config::channels` for their checks. Every `*_kinds` list names the kinds that
    /// channel receives (`triggered`, `price_alert`, …); empty: every enabled kind.
    /// A desktop notification through the terminal itself (OSC 777 and OSC 9).
    pub desktop: bool,
    pub desktop_kinds: Vec<String>,
    /// An ntfy topic URL (`https://ntfy.sh/my-topic`), a secret.
    pub ntfy_url: Secret,
    pub ntfy_kinds: Vec<String>,
    /// A URL that receives a generic JSON payload (README), a secret.
    pub webhook_url: Secret,
    pub webhook_kinds: Vec<String>,
    /// A Slack-compatible incoming webhook URL, a secret.
    pub slack_url: Secret,
    pub slack_kinds: Vec<String>,
    /// A Telegram bot token (a secret) and the chat it writes to.
    pub telegram_token: Secret,
    pub telegram_chat: String,
    pub telegram_kinds: Vec<String>,
    /// The Telegram Bot API base URL (a local server in tests).
    pub telegram_api_url: String,
    /// A program and its arguments, run without a shell; `{title}`, `{body}`,
    /// `{symbol}` and `{kind}` in an argument are replaced. Empty: off.
    pub command: Vec<String>,
    pub command_kinds: Vec<String>,
    /// The command is killed after this long (seconds).
    pub command_timeout_secs: f64,
    /// `HH:MM-HH:MM` in New York time (may cross midnight) when the channels above and
    /// Discord's trading alerts stay silent; the dashboard still shows. Empty: never.
    pub quiet_hours: String,
}

/// `[discord]`: where alerts go. `DISCORD_WEBHOOK_URL` in the environment wins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordConfig {
    /// The webhook URL, a secret. Empty: nothing is sent.
    pub webhook_url: Secret,
    /// The name messages are posted under.
    pub username: String,
}

/// `[sentry]`: optional error reporting, only in builds with `--features sentry`.
/// `SENTRY_DSN` in the environment wins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentryConfig {
    /// The project DSN, a secret. Empty: no events.
    pub dsn: Secret,
}

/// `[serve]`: the headless server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address of the HTTP endpoint (`/health/workers`, `/metrics`), e.g. `127.0.0.1:9464`.
    /// Empty: no endpoint. `coach serve --http ADDR` wins.
    pub http: String,
}

/// Default stale floors of the workers coach runs (seconds).
pub const DEFAULT_FLOORS: [(&str, f64); 5] = [
    ("feed", 30.0),
    ("detect", 60.0),
    ("evaluate", 60.0),
    ("health", 30.0),
    ("alerts", 120.0),
];

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            check_secs: 5.0,
            floor_secs: 60.0,
            floors: default_floors(),
        }
    }
}

fn default_floors() -> BTreeMap<String, f64> {
    DEFAULT_FLOORS
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect()
}

fn floors_over_defaults<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, f64>, D::Error> {
    let given = BTreeMap::<String, f64>::deserialize(d)?;
    let mut floors = default_floors();
    floors.extend(given);
    Ok(floors)
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            startup_grace_secs: 300.0,
            cooldown_secs: 900.0,
            failures_in_a_row: 3,
            detected: true,
            triggered: true,
            invalidated: true,
            target_hit: true,
            stopped_out: true,
            price_alert: true,
            desktop: false,
            desktop_kinds: Vec::new(),
            ntfy_url: Secret::default(),
            ntfy_kinds: Vec::new(),
            webhook_url: Secret::default(),
            webhook_kinds: Vec::new(),
            slack_url: Secret::default(),
            slack_kinds: Vec::new(),
            telegram_token: Secret::default(),
            telegram_chat: String::new(),
            telegram_kinds: Vec::new(),
            telegram_api_url: "https://api.telegram.org".into(),
            command: Vec::new(),
            command_kinds: Vec::new(),
            command_timeout_secs: 10.0,
            quiet_hours: String::new(),
        }
    }
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            webhook_url: Secret::default(),
            username: "coach".into(),
        }
    }
}

impl HealthConfig {
    pub fn check_interval(&self) -> Duration {
        secs(self.check_secs)
    }

    /// The stale floor of `worker`.
    pub fn floor(&self, worker: &str) -> Duration {
        secs(self.floors.get(worker).copied().unwrap_or(self.floor_secs))
    }
}

impl AlertsConfig {
    pub fn startup_grace(&self) -> Duration {
        secs(self.startup_grace_secs)
    }

    pub fn cooldown(&self) -> Duration {
        secs(self.cooldown_secs)
    }

    pub fn command_timeout(&self) -> Duration {
        secs(self.command_timeout_secs)
    }
}

/// Seconds as a `Duration`; values are validated at load, so this never sees NaN.
fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

const DAY: f64 = 86_400.0;

pub(super) fn check_secs(
    key: &str,
    value: f64,
    min_exclusive: bool,
    max: f64,
) -> Result<(), ConfigError> {
    let low_ok = if min_exclusive {
        value > 0.0
    } else {
        value >= 0.0
    };
    if value.is_finite() && low_ok && value <= max {
        Ok(())
    } else {
        let low = if min_exclusive {
            "above 0"
        } else {
            "0 or more"
        };
        Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!("{value} is not a number of seconds {low} and at most {max}"),
        })
    }
}

/// Checks the operational sections; messages name the key and never show a secret.
pub(super) fn validate(
    health: &HealthConfig,
    alerts: &AlertsConfig,
    discord: &DiscordConfig,
    sentry: &SentryConfig,
    serve: &ServeConfig,
) -> Result<(), ConfigError> {
    check_secs("health.check_secs", health.check_secs, true, 3600.0)?;
    check_secs("health.floor_secs", health.floor_secs, false, DAY)?;
    for (worker, floor) in &health.floors {
        if worker.is_empty() || !worker.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(ConfigError::Invalid {
                key: format!("health.floors.{worker}"),
                reason: "a worker name is lowercase letters and underscores".into(),
            });
        }
        check_secs(&format!("health.floors.{worker}"), *floor, false, DAY)?;
    }
    check_secs(
        "alerts.startup_grace_secs",
        alerts.startup_grace_secs,
        false,
        DAY,
    )?;
    check_secs(
        "alerts.cooldown_secs",
        alerts.cooldown_secs,
        true,
        7.0 * DAY,
    )?;
    if alerts.failures_in_a_row == 0 {
        return Err(ConfigError::Invalid {
            key: "alerts.failures_in_a_row".into(),
            reason: "must be 1 or more".into(),
        });
    }
    super::channels::validate(alerts)?;
    let url = discord.webhook_url.expose();
    if discord.webhook_url.is_set()
        && (!(url.starts_with("https://") || url.starts_with("http://"))
            || url.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(ConfigError::Invalid {
            key: "discord.webhook_url (or DISCORD_WEBHOOK_URL)".into(),
            reason: "is not an http(s) URL (value not shown: it is a secret)".into(),
        });
    }
    let name = &discord.username;
    if name.trim().is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(ConfigError::Invalid {
            key: "discord.username".into(),
            reason: "must be 1 to 80 printable characters".into(),
        });
    }
    if sentry.dsn.is_set() && !sentry.dsn.expose().starts_with("http") {
        return Err(ConfigError::Invalid {
            key: "sentry.dsn (or SENTRY_DSN)".into(),
            reason: "is not a DSN URL (value not shown: it is a secret)".into(),
        });
    }
    if !serve.http.is_empty() && serve.http.parse::<std::net::SocketAddr>().is_err() {
        return Err(ConfigError::Invalid {
            key: "serve.http".into(),
            reason: format!("{:?} is not an address like 127.0.0.1:9464", serve.http),
        });
    }
    Ok(())
}
