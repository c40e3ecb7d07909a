//! Configuration (SPEC 13): defaults, then a TOML file, then `COACH_<SECTION>_<KEY>`
//! environment overrides, then command-line flags. Every key is documented with its
//! default in `config.example.toml`; a bad file or value names the key and the reason.

mod alpaca;
mod backtest;
mod brief;
pub mod channels;
mod env;
mod gex;
mod llm;
mod ops;
mod secret;
mod toml_words;

pub use alpaca::{APCA_KEY_ID_VAR, APCA_SECRET_KEY_VAR, AlpacaConfig};
pub use backtest::{BacktestConfig, check_slippage};
pub use brief::{BriefConfig, load_calendar};
pub use gex::GexConfig;
pub use llm::{HOW_TO_CONFIGURE, LlmConfig};
pub use ops::{AlertsConfig, DiscordConfig, HealthConfig, SentryConfig, ServeConfig};
pub use secret::Secret;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::config::DetectorsConfig;
use crate::domain::Symbol;

/// The whole configuration. Unknown keys are errors, so a typo never goes unnoticed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub general: General,
    pub sim: Sim,
    pub replay: Replay,
    pub ui: Ui,
    /// Tracked setups (SPEC 5).
    pub setups: Setups,
    /// The Scanner's opportunity list (SPEC 6).
    pub scanner: ScannerConfig,
    /// Massive.com market data (SPEC 10.3): base URLs and the API key.
    pub massive: Massive,
    /// Alpaca market data (SPEC 19): the free IEX or the paid SIP feed, and the key pair.
    pub alpaca: AlpacaConfig,
    /// Detector thresholds (SPEC 4), one sub-table per detector.
    pub detectors: DetectorsConfig,
    /// Action name → key strings, e.g. `quit = ["q"]`, as written: missing actions keep
    /// their default. The screen owns the action names, the defaults and the validation
    /// (`tui::keymap::Keymap::from_config`); an empty table is every default.
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    pub health: HealthConfig,
    pub alerts: AlertsConfig,
    pub discord: DiscordConfig,
    pub sentry: SentryConfig,
    pub serve: ServeConfig,
    /// The AI coach's model server (SPEC 16).
    pub llm: LlmConfig,
    /// The morning brief (SPEC 8): schedule, freshness, economic calendar.
    pub brief: BriefConfig,
    /// `coach backtest` (SPEC 18): the costs it applies.
    pub backtest: BacktestConfig,
    /// Which symbols' GEX profiles are kept up to date (SPEC 7, 20).
    pub gex: GexConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    /// The trader; single-user mode uses `local`.
    pub user: String,
    /// Database URL (`sqlite://…` or `postgres://…`); empty means SQLite in the XDG data dir.
    pub db: String,
    /// Market data provider: `sim`, `replay`, `massive` or `alpaca`.
    pub provider: String,
}

/// `[massive]`: where the Massive REST API and WebSocket are, and the key. The key also
/// comes from `MASSIVE_API_KEY` (which wins over the file); it never appears in `Debug`
/// output, logs or errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Massive {
    /// REST base URL.
    pub rest_url: String,
    /// WebSocket base URL without the cluster (`/stocks`, `/indices` are appended);
    /// `wss://delayed.massive.com` is the 15-minute delayed stream.
    pub ws_url: String,
    pub api_key: Secret,
    /// REST requests in flight at once (history at start, backfills after reconnects).
    pub max_concurrent_requests: usize,
    /// REST requests started per minute; 0 = no pacing. Paid plans ask for under ~100
    /// a second (6,000 a minute); the free plan allows 5 a minute.
    pub max_requests_per_minute: u32,
}

impl Default for Massive {
    fn default() -> Self {
        let limits = crate::provider::massive::limits::RequestLimits::default();
        Massive {
            rest_url: "https://api.massive.com".into(),
            ws_url: "wss://socket.massive.com".into(),
            api_key: Secret::default(),
            max_concurrent_requests: limits.max_concurrent,
            max_requests_per_minute: limits.per_minute,
        }
    }
}

impl Massive {
    /// The provider's connection settings.
    pub fn connection(&self) -> crate::provider::massive::MassiveConfig {
        crate::provider::massive::MassiveConfig {
            rest_url: self.rest_url.clone(),
            ws_url: self.ws_url.clone(),
            api_key: self.api_key.clone(),
        }
    }

    /// The REST client's bounds.
    pub fn limits(&self) -> crate::provider::massive::limits::RequestLimits {
        crate::provider::massive::limits::RequestLimits {
            max_concurrent: self.max_concurrent_requests,
            per_minute: self.max_requests_per_minute,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sim {
    /// Seed of the simulated market; the same seed gives the same session.
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Symbols the simulated market quotes (the default watchlist is a subset).
    pub symbols: Vec<Symbol>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Replay {
    /// Minute-bar CSV files, or directories of `<SYMBOL>_1min*.csv` / `<SYMBOL>_1day*.csv`.
    pub bars: Vec<String>,
    /// Daily-bar CSV files (prior day, ATR).
    pub daily: Vec<String>,
    /// Option-chain files (CBOE CSV or JSON, Massive snapshot), each applied from its
    /// snapshot time through its session.
    pub chains: Vec<String>,
    /// Simulated seconds per real second.
    pub speed: f64,
}

impl Default for Replay {
    fn default() -> Self {
        Replay {
            bars: Vec::new(),
            daily: Vec::new(),
            chains: Vec::new(),
            speed: 60.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ui {
    /// `auto` (16 colours unless `NO_COLOR`), `16`, `truecolor` or `none`.
    pub color: String,
    /// Upper bound on frames drawn per second; frames are drawn only when something changed.
    pub max_fps: u32,
    /// Ask before `q` quits while setups are active.
    pub confirm_quit: bool,
    /// Ring the terminal bell when a price alert fires.
    pub bell: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Setups {
    /// Track the configured user's watchlist detections automatically as they appear: at
    /// most one per symbol per 5 minutes, never a detection the user already tracked.
    pub auto_track: bool,
}

/// `[scanner]`: how long a detection stays an opportunity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// Minutes after its signal bar a detection is listed as an opportunity (it leaves
    /// earlier when its stop or target trades); it stays in the detections history.
    pub max_age_minutes: u32,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            max_age_minutes: 60,
        }
    }
}

impl Default for General {
    fn default() -> Self {
        General {
            user: "local".into(),
            db: String::new(),
            provider: "sim".into(),
        }
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim {
            seed: 42,
            speed: 60.0,
            symbols: crate::provider::sim::DEFAULT_SYMBOLS
                .iter()
                .filter_map(|s| Symbol::parse(s).ok())
                .collect(),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            color: "auto".into(),
            max_fps: 20,
            confirm_quit: true,
            bell: false,
        }
    }
}

/// The market data providers `general.provider` and `--provider` accept.
pub const PROVIDERS: [&str; 4] = ["sim", "replay", "massive", "alpaca"];

/// The environment variable holding the Massive API key (wins over `[massive] api_key`).
pub const MASSIVE_API_KEY_VAR: &str = "MASSIVE_API_KEY";

/// A configuration problem, naming the file (or variable), the key and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("environment variable {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Where the configuration file is looked up: `--config`, then `$COACH_CONFIG`,
/// then `~/.config/coach/config.toml`. Only an explicitly named file must exist.
pub fn locate(flag: Option<&Path>) -> Option<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = std::env::var_os("COACH_CONFIG").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    directories::ProjectDirs::from("", "", "coach")
        .map(|d| (d.config_dir().join("config.toml"), false))
}

/// SPEC 13: a warning when the located configuration file holds a secret
/// (`discord.webhook_url`, `sentry.dsn`) and its permissions let others read it.
/// `None` when there is no file, no secret in it, or it is private.
pub fn secrets_exposed_warning(flag: Option<&Path>) -> Option<String> {
    let (path, _) = locate(flag)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let set = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(toml::Value::as_str)
            .is_some_and(|v| !v.trim().is_empty())
    };
    let mut secrets: Vec<&str> = secret::SECRET_KEYS
        .into_iter()
        .filter(|(section, key)| set(section, key))
        .map(|(section, _)| section)
        .collect();
    secrets.dedup();
    if secrets.is_empty() || !secret::readable_by_others(&path) {
        return None;
    }
    Some(format!(
        "config file {} holds secrets ({}) and others can read it: chmod 600 it, or use \
         DISCORD_WEBHOOK_URL / SENTRY_DSN / FRED_API_KEY / MASSIVE_API_KEY / APCA_API_KEY_ID and \
         APCA_API_SECRET_KEY",
        path.display(),
        secrets.join(", ")
    ))
}

impl Config {
    /// Loads defaults, the located file and the environment overrides, then validates.
    pub fn load(flag: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match locate(flag) {
            Some((path, required)) => match std::fs::read_to_string(&path) {
                Ok(text) => Some((path, text)),
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(ConfigError::Read {
                        path,
                        reason: e.to_string(),
                    });
                }
            },
            None => None,
        };
        let vars: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("COACH_") || SECRET_VARS.contains(&k.as_str()))
            .collect();
        Config::from_sources(file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())), &vars)
    }

    /// Builds the configuration from a file's text and environment variables (pure).
    /// Besides `COACH_*`, the secrets `DISCORD_WEBHOOK_URL` and `SENTRY_DSN` win over the file.
    pub fn from_sources(
        file: Option<(&Path, &str)>,
        vars: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some((path, text)) => {
                // TOML errors quote the offending line: a secret's value never reaches
                // the message (issue 26).
                let parse_error = |e: toml::de::Error| ConfigError::Parse {
                    path: path.to_path_buf(),
                    reason: quoted(text, &toml_words::describe(Some(text), &e)),
                };
                // Deserialising the text itself gives errors with line, column and key.
                toml::from_str::<Config>(text).map_err(parse_error)?;
                text.parse::<toml::Table>().map_err(parse_error)?
            }
            None => toml::Table::new(),
        };
        env::apply_overrides(&mut table, vars)?;
        let mut config: Config =
            Config::deserialize(toml::Value::Table(table)).map_err(|e| match file {
                Some((path, text)) => ConfigError::Parse {
                    path: path.to_path_buf(),
                    reason: quoted(text, &toml_words::in_words(e.message())),
                },
                None => ConfigError::Invalid {
                    key: "environment".into(),
                    reason: toml_words::in_words(e.message()),
                },
            })?;
        for (var, value) in vars.iter().filter(|(_, v)| !v.trim().is_empty()) {
            match var.as_str() {
                "DISCORD_WEBHOOK_URL" => config.discord.webhook_url = Secret::new(value.as_str()),
                "SENTRY_DSN" => config.sentry.dsn = Secret::new(value.as_str()),
                MASSIVE_API_KEY_VAR => config.massive.api_key = Secret::new(value.as_str()),
                FRED_API_KEY_VAR => config.brief.fred_api_key = Secret::new(value.as_str()),
                APCA_KEY_ID_VAR => config.alpaca.key_id = Secret::new(value.as_str()),
                APCA_SECRET_KEY_VAR => config.alpaca.secret_key = Secret::new(value.as_str()),
                _ => {}
            }
        }
        // `ann ` is `ann` (the store also compares names without regard to case).
        config.general.user = config.general.user.trim().to_string();
        config.validate()?;
        Ok(config)
    }

    /// Checks every value; `load` calls it, and callers that change values call it again.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| {
            Err(ConfigError::Invalid {
                key: key.into(),
                reason,
            })
        };
        let user = &self.general.user;
        if user.trim().is_empty() || user.len() > 64 || user.chars().any(char::is_control) {
            return invalid(
                "general.user",
                "must be 1 to 64 printable characters".into(),
            );
        }
        match self.general.provider.as_str() {
            "sim" => {}
            "replay" if self.replay.bars.is_empty() => {
                return invalid(
                    "replay.bars",
                    "the replay provider needs bar files or directories (--bars)".into(),
                );
            }
            "replay" => {}
            "massive" | "alpaca" => {}
            other => {
                return invalid(
                    "general.provider",
                    format!("{other:?} is not a provider ({})", PROVIDERS.join(", ")),
                );
            }
        }
        // The speed of the provider in use is named first: `--speed 0` in sim mode is
        // about sim.speed.
        let mut speeds = [
            ("sim.speed", self.sim.speed),
            ("replay.speed", self.replay.speed),
        ];
        if self.general.provider == "replay" {
            speeds.reverse();
        }
        for (key, speed) in speeds {
            if let Err(reason) = check_speed(speed) {
                return invalid(key, reason);
            }
        }
        self.validate_massive()?;
        if self.sim.symbols.is_empty() {
            return invalid("sim.symbols", "needs at least one symbol".into());
        }
        if !matches!(self.ui.color.as_str(), "auto" | "16" | "truecolor" | "none") {
            return invalid(
                "ui.color",
                format!(
                    "{:?} is not one of auto, 16, truecolor, none",
                    self.ui.color
                ),
            );
        }
        if !(1..=390).contains(&self.scanner.max_age_minutes) {
            return invalid(
                "scanner.max_age_minutes",
                format!(
                    "{} is not a number of minutes between 1 and 390 (a whole session)",
                    self.scanner.max_age_minutes
                ),
            );
        }
        if !(1..=60).contains(&self.ui.max_fps) {
            return invalid(
                "ui.max_fps",
                format!("{} is not between 1 and 60", self.ui.max_fps),
            );
        }
        self.detectors
            .validate()
            .map_err(|e| ConfigError::Invalid {
                key: format!("detectors.{}", e.key),
                reason: e.problem,
            })?;
        ops::validate(
            &self.health,
            &self.alerts,
            &self.discord,
            &self.sentry,
            &self.serve,
        )?;
        self.brief
            .validate()
            .map_err(|(key, reason)| ConfigError::Invalid {
                key: key.into(),
                reason,
            })?;
        self.backtest
            .validate()
            .map_err(|(key, reason)| ConfigError::Invalid {
                key: key.into(),
                reason,
            })?;
        self.llm.validate()?;
        self.alpaca.validate(self.general.provider == "alpaca")?;
        self.validate_massive()
    }

    fn validate_massive(&self) -> Result<(), ConfigError> {
        use crate::provider::massive::rest::parse_base;
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: key.into(),
            reason,
        };
        parse_base(&self.massive.rest_url, &["http", "https"])
            .map_err(|e| invalid("massive.rest_url", e.to_string()))?;
        parse_base(&self.massive.ws_url, &["ws", "wss"])
            .map_err(|e| invalid("massive.ws_url", e.to_string()))?;
        if !(1..=256).contains(&self.massive.max_concurrent_requests) {
            return Err(invalid(
                "massive.max_concurrent_requests",
                format!(
                    "{} is out of range (1 to 256)",
                    self.massive.max_concurrent_requests
                ),
            ));
        }
        let key = self.massive.api_key.expose();
        if !key.is_empty() && (key.trim().len() < 8 || key.chars().any(char::is_whitespace)) {
            return Err(invalid(
                "massive.api_key",
                "does not look like an API key (at least 8 characters, no spaces)".into(),
            ));
        }
        if self.general.provider == "massive" && !self.massive.api_key.is_set() {
            return Err(invalid(
                "general.provider",
                format!(
                    "\"massive\" needs an API key: set {MASSIVE_API_KEY_VAR} or [massive] api_key"
                ),
            ));
        }
        Ok(())
    }
}

/// Secrets read from the environment under their conventional names (SPEC 13).
const SECRET_VARS: [&str; 6] = [
    APCA_KEY_ID_VAR,
    APCA_SECRET_KEY_VAR,
    "DISCORD_WEBHOOK_URL",
    "SENTRY_DSN",
    MASSIVE_API_KEY_VAR,
    FRED_API_KEY_VAR,
];

/// The environment variable holding the FRED API key (wins over `[brief] fred_api_key`).
pub const FRED_API_KEY_VAR: &str = "FRED_API_KEY";

/// The most simulated (or replayed) seconds per real second: an hour a second.
pub const MAX_SPEED: f64 = 3600.0;

/// A speed, in simulated seconds per real second: above 0 and at most [`MAX_SPEED`].
pub fn check_speed(speed: f64) -> Result<(), String> {
    if speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED {
        Ok(())
    } else {
        Err(format!(
            "{speed} is not a speed: simulated seconds per real second, above 0 and at most \
             {MAX_SPEED} (1 is real time)"
        ))
    }
}

/// A TOML error about the file `text` as the user reads it: on one line, the values of
/// secret keys replaced by `***`, escapes and bidirectional overrides in the quoted line
/// removed.
fn quoted(text: &str, error: &str) -> String {
    crate::text::printable(&secret::redact_file_secrets(text, &one_line(error)))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
