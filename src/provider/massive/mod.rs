//! Massive.com (formerly Polygon.io) market data (SPEC 10.3): the REST client, the
//! WebSocket stream, and the feed worker that turns both into `MarketEvent`s.
//!
//! The API key is a [`Secret`]: it travels only in the `Authorization` header and is
//! masked in every `Debug`, `Display`, log line and error text. Base URLs come from
//! configuration (`[massive] rest_url`, `ws_url`) so tests run against local servers; a
//! `next_url` from the API is never followed to another host (only its path and query are
//! joined to the configured base).

pub mod feed;
pub mod history;
pub mod limits;
pub mod rest;
pub mod wire;
pub mod ws;

use crate::domain::Symbol;

/// API keys are the configuration's secrets: `Debug`, `Display` and serialisation print
/// `***`; only `expose` gives the value, for the one request header that carries it.
pub use crate::config::Secret;

/// Where and how to reach Massive.
#[derive(Clone, Debug, PartialEq)]
pub struct MassiveConfig {
    /// REST base, e.g. `https://api.massive.com` (no trailing slash needed).
    pub rest_url: String,
    /// WebSocket base without the cluster, e.g. `wss://socket.massive.com`; the client
    /// appends `/stocks` or `/indices`.
    pub ws_url: String,
    pub api_key: Secret,
}

impl MassiveConfig {
    /// Whether the stream is the 15-minute delayed one (`delayed.` host).
    pub fn is_delayed(&self) -> bool {
        self.ws_url.contains("://delayed.")
    }
}

/// Built-in index names (Massive's `I:` namespace) besides those the configuration
/// names as indices.
pub const KNOWN_INDICES: [&str; 8] = ["SPX", "NDX", "VIX", "RUT", "DJI", "XSP", "VIX9D", "OEX"];

/// Massive's ticker for one of our symbols: indices get the `I:` prefix.
pub fn massive_ticker(symbol: &Symbol, is_index: bool) -> String {
    let s = symbol.as_str();
    if is_index && !s.starts_with("I:") {
        format!("I:{s}")
    } else {
        s.to_string()
    }
}

/// Our symbol for a Massive ticker: the `I:` prefix dropped. `None` for text that is
/// not a valid symbol.
pub fn symbol_of_ticker(ticker: &str) -> Option<Symbol> {
    Symbol::parse(ticker.strip_prefix("I:").unwrap_or(ticker)).ok()
}

/// What went wrong talking to Massive. No variant ever holds the API key (texts pass
/// through [`Secret::redact`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MassiveError {
    #[error(
        "Massive refused the API key (HTTP {status}: {message}); check MASSIVE_API_KEY or [massive] api_key"
    )]
    BadKey { status: u16, message: String },
    #[error("the Massive plan is not entitled to {what} (HTTP 403: {message})")]
    NotEntitled { what: String, message: String },
    #[error("Massive answered HTTP {status} for {what}: {detail}")]
    Http {
        status: u16,
        what: String,
        detail: String,
    },
    #[error("Massive could not be reached for {what}: {detail}")]
    Transport { what: String, detail: String },
    #[error("Massive's answer for {what} is not what was expected: {detail}")]
    Decode { what: String, detail: String },
    #[error("Massive reported an error for {what}: {status}: {message}")]
    Api {
        what: String,
        status: String,
        message: String,
    },
    #[error("no Massive API key: set MASSIVE_API_KEY or [massive] api_key")]
    NoKey,
    #[error("bad Massive URL {url:?}: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("the Massive stream refused the API key: {0}")]
    AuthFailed(String),
    #[error("the Massive stream was taken over by another connection {0} times in a row: {1}")]
    Evicted(u32, String),
}

impl MassiveError {
    /// A key or plan problem: retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            MassiveError::BadKey { .. }
                | MassiveError::NotEntitled { .. }
                | MassiveError::NoKey
                | MassiveError::BadUrl { .. }
                | MassiveError::AuthFailed(_)
                | MassiveError::Evicted(..)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let key = Secret::new("sk_live_abcdef123456");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{key:?}"), "***");
        let config = MassiveConfig {
            rest_url: "https://api.massive.com".into(),
            ws_url: "wss://delayed.massive.com".into(),
            api_key: key.clone(),
        };
        assert!(!format!("{config:?}").contains("abcdef"));
        assert!(config.is_delayed());
        assert_eq!(
            key.redact_in("GET /v2?apiKey=sk_live_abcdef123456 failed"),
            "GET /v2?apiKey=*** failed"
        );
    }

    #[test]
    fn indices_carry_the_i_prefix_only_at_massive() {
        let spx = Symbol::parse("SPX").unwrap();
        assert_eq!(massive_ticker(&spx, true), "I:SPX");
        assert_eq!(massive_ticker(&spx, false), "SPX");
        assert_eq!(symbol_of_ticker("I:NDX").unwrap().as_str(), "NDX");
        assert_eq!(symbol_of_ticker("AAPL").unwrap().as_str(), "AAPL");
        assert!(symbol_of_ticker("bad ticker!").is_none());
    }
}
