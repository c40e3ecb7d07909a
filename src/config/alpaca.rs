//! `[alpaca]` (SPEC 19): Alpaca's market data and trading API base URLs, the feed, and
//! the key pair. The keys also come from Alpaca's own variables `APCA_API_KEY_ID` and
//! `APCA_API_SECRET_KEY` (which win over the file); both are [`Secret`]s, never printed.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// The environment variables Alpaca's own tools read (win over `[alpaca]`).
pub const APCA_KEY_ID_VAR: &str = "APCA_API_KEY_ID";
pub const APCA_SECRET_KEY_VAR: &str = "APCA_API_SECRET_KEY";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlpacaConfig {
    pub key_id: Secret,
    pub secret_key: Secret,
    /// `iex` (free plan: the IEX exchange only, IEX volumes) or `sip` (paid: all
    /// exchanges). Selects the stream path `/v2/<feed>` and the REST `feed=` parameter.
    pub feed: String,
    /// Market data REST base (stock bars, option snapshots).
    pub data_url: String,
    /// Market data WebSocket base; the client appends `/v2/<feed>`.
    pub stream_url: String,
    /// Trading API base (option contracts with open interest).
    pub trading_url: String,
}

impl Default for AlpacaConfig {
    fn default() -> Self {
        AlpacaConfig {
            key_id: Secret::default(),
            secret_key: Secret::default(),
            feed: "iex".into(),
            data_url: "https://data.alpaca.markets".into(),
            stream_url: "wss://stream.data.alpaca.markets".into(),
            trading_url: "https://paper-api.alpaca.markets".into(),
        }
    }
}

impl AlpacaConfig {
    /// The provider's connection settings.
    pub fn connection(&self) -> crate::provider::alpaca::AlpacaConnection {
        crate::provider::alpaca::AlpacaConnection {
            data_url: self.data_url.clone(),
            stream_url: self.stream_url.clone(),
            trading_url: self.trading_url.clone(),
            feed: if self.feed == "sip" {
                crate::provider::alpaca::Feed::Sip
            } else {
                crate::provider::alpaca::Feed::Iex
            },
            key_id: self.key_id.clone(),
            secret_key: self.secret_key.clone(),
        }
    }

    /// Checks the feed, the URLs and, when `active` (the provider is `alpaca`), that both
    /// keys are set.
    pub(super) fn validate(&self, active: bool) -> Result<(), ConfigError> {
        use crate::provider::massive::rest::parse_base;
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: key.into(),
            reason,
        };
        if !matches!(self.feed.as_str(), "iex" | "sip") {
            return Err(invalid(
                "alpaca.feed",
                format!(
                    "{:?} is not a feed (iex or sip)",
                    crate::text::printable(&self.feed)
                ),
            ));
        }
        for (key, url, schemes) in [
            ("alpaca.data_url", &self.data_url, &["http", "https"][..]),
            ("alpaca.stream_url", &self.stream_url, &["ws", "wss"][..]),
            (
                "alpaca.trading_url",
                &self.trading_url,
                &["http", "https"][..],
            ),
        ] {
            parse_base(url, schemes).map_err(|e| invalid(key, e.to_string()))?;
        }
        for (key, secret) in [
            ("alpaca.key_id", &self.key_id),
            ("alpaca.secret_key", &self.secret_key),
        ] {
            if secret.expose().chars().any(char::is_whitespace) {
                return Err(invalid(key, "does not look like a key (no spaces)".into()));
            }
        }
        if active && !(self.key_id.is_set() && self.secret_key.is_set()) {
            return Err(invalid(
                "general.provider",
                format!(
                    "\"alpaca\" needs a key pair: set {APCA_KEY_ID_VAR} and {APCA_SECRET_KEY_VAR} (or [alpaca] key_id and secret_key)"
                ),
            ));
        }
        Ok(())
    }
}
