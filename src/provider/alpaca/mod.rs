//! Alpaca market data (SPEC 19): the REST client for stock bars (paged with
//! `next_page_token`). A free account gets real-time data from the IEX exchange only, so
//! volumes are IEX volumes; the paid SIP feed has every exchange.
//!
//! The key pair travels only in the `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` headers;
//! both are [`Secret`]s, masked in every `Debug`, `Display`, log line and error text.
//! Base URLs come from configuration (`[alpaca] data_url`, `stream_url`, `trading_url`)
//! so tests run against local servers.

pub mod chain;
pub mod feed;
pub mod rest;
pub mod stream;
pub mod subscriptions;
pub mod wire;

use crate::domain::Symbol;

pub use crate::config::Secret;

/// Which Alpaca stock feed: the free plan's IEX, or the paid consolidated SIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    Iex,
    Sip,
}

impl Feed {
    /// The feed's name in URLs and query strings (`iex`, `sip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Iex => "iex",
            Feed::Sip => "sip",
        }
    }

    /// The provider label the header shows: `IEX` warns that volumes are one exchange's.
    pub fn label(self) -> &'static str {
        match self {
            Feed::Iex => "IEX",
            Feed::Sip => "alpaca",
        }
    }
}

/// Where and how to reach Alpaca.
#[derive(Clone, Debug, PartialEq)]
pub struct AlpacaConnection {
    /// Market data REST base, e.g. `https://data.alpaca.markets`.
    pub data_url: String,
    /// Market data WebSocket base; `/v2/<feed>` is appended.
    pub stream_url: String,
    /// Trading API base (option contracts).
    pub trading_url: String,
    pub feed: Feed,
    pub key_id: Secret,
    pub secret_key: Secret,
}

impl AlpacaConnection {
    /// `text` with both keys replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.secret_key.redact_in(&self.key_id.redact_in(text))
    }
}

/// Cash indices Alpaca has no data for, with the ETF that tracks each.
pub const INDEX_PROXIES: [(&str, &str); 7] = [
    ("SPX", "SPY"),
    ("XSP", "SPY"),
    ("NDX", "QQQ"),
    ("RUT", "IWM"),
    ("DJI", "DIA"),
    ("OEX", "OEF"),
    ("VIX", ""),
];

/// `Err` naming the ETF to use when `symbol` is a cash index (Alpaca has stocks and
/// ETFs only); `is_index` is the configuration's own index list.
pub fn check_tradable(symbol: &Symbol, is_index: bool) -> Result<(), AlpacaError> {
    let known = INDEX_PROXIES
        .iter()
        .find(|(index, _)| *index == symbol.as_str());
    if known.is_none() && !is_index {
        return Ok(());
    }
    Err(AlpacaError::IndexNotOnAlpaca {
        symbol: symbol.as_str().to_string(),
        proxy: known
            .map(|(_, etf)| *etf)
            .filter(|etf| !etf.is_empty())
            .map(|etf| format!("; use its ETF {etf} instead"))
            .unwrap_or_else(|| "; use an ETF that tracks it instead".into()),
    })
}

/// What went wrong talking to Alpaca. No variant ever holds a key (texts pass through
/// [`AlpacaConnection::redact`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlpacaError {
    #[error(
        "Alpaca rejected the API keys (HTTP {status}: {message}); check APCA_API_KEY_ID and APCA_API_SECRET_KEY (or [alpaca] key_id and secret_key)"
    )]
    BadKeys { status: u16, message: String },
    #[error("Alpaca refused the parameters of {what} (HTTP 422: {message})")]
    BadRequest { what: String, message: String },
    #[error("Alpaca answered HTTP {status} for {what}: {detail}")]
    Http {
        status: u16,
        what: String,
        detail: String,
    },
    #[error("Alpaca could not be reached for {what}: {detail}")]
    Transport { what: String, detail: String },
    #[error("Alpaca's answer for {what} is not what was expected: {detail}")]
    Decode { what: String, detail: String },
    #[error(
        "no Alpaca keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or [alpaca] key_id and secret_key)"
    )]
    NoKeys,
    #[error("bad Alpaca URL {url:?}: {detail}")]
    BadUrl { url: String, detail: String },
    #[error(
        "the Alpaca stream refused the API keys (402 {0}); check APCA_API_KEY_ID and APCA_API_SECRET_KEY"
    )]
    StreamAuthFailed(String),
    #[error(
        "the Alpaca plan does not include the {feed} feed (409 {message}); a free plan has feed = \"iex\" only"
    )]
    InsufficientSubscription { feed: String, message: String },
    #[error("Alpaca refused the subscription: too many symbols (405 {0}); watch fewer symbols")]
    SymbolLimit(String),
    #[error(
        "nothing to stream from Alpaca: every watched symbol is an index, and Alpaca has stocks and ETFs only (watch SPY or QQQ)"
    )]
    NothingToStream,
    #[error("{symbol} is an index and Alpaca has no index data{proxy}")]
    IndexNotOnAlpaca { symbol: String, proxy: String },
}

impl AlpacaError {
    /// A key, plan or input problem: retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            AlpacaError::Http { .. } | AlpacaError::Transport { .. } | AlpacaError::Decode { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_refused_with_their_etf_named() {
        let spx = Symbol::parse("SPX").unwrap();
        let e = check_tradable(&spx, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "SPX is an index and Alpaca has no index data; use its ETF SPY instead"
        );
        let ndx = Symbol::parse("NDX").unwrap();
        assert!(
            check_tradable(&ndx, false)
                .unwrap_err()
                .to_string()
                .contains("QQQ")
        );
        assert!(check_tradable(&Symbol::parse("SPY").unwrap(), false).is_ok());
        let custom = Symbol::parse("MYIDX").unwrap();
        assert!(check_tradable(&custom, true).is_err());
    }

    #[test]
    fn keys_never_print_and_are_redacted_from_texts() {
        let c = AlpacaConnection {
            data_url: "https://data.alpaca.markets".into(),
            stream_url: "wss://stream.data.alpaca.markets".into(),
            trading_url: "https://paper-api.alpaca.markets".into(),
            feed: Feed::Iex,
            key_id: Secret::new("PKTESTKEYID01"),
            secret_key: Secret::new("SeCrEt0123456789"),
        };
        let debug = format!("{c:?}");
        assert!(!debug.contains("PKTESTKEYID01") && !debug.contains("SeCrEt0123456789"));
        assert_eq!(
            c.redact("key PKTESTKEYID01 secret SeCrEt0123456789"),
            "key *** secret ***"
        );
        assert_eq!(Feed::Iex.label(), "IEX");
    }
}
