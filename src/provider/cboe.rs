//! CBOE delayed quotes (SPEC 10.4; market-data.md §4.3): the whole option chain of a
//! symbol in one keyless GET, about 15 minutes late, for GEX. Indices take an underscore
//! (`_SPX.json`), equities and ETFs do not (`SPY.json`).
//!
//! The feed is undocumented and meant for personal use, so it is fetched at most once per
//! five minutes per symbol (also after a failure), with a descriptive User-Agent. The
//! cache is a pure value with time passed in. The body is returned as JSON text (checked
//! to be a chain: an object with `data.options`); parse it with the GEX chain reader
//! (`gex::formats::cboe` json) once that is on main.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::domain::Symbol;

/// The public CDN location of the delayed-quotes chains.
pub const DEFAULT_BASE_URL: &str = "https://cdn.cboe.com/api/global/delayed_quotes/options";

/// The shortest time between two fetches of one symbol.
pub const MIN_INTERVAL: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CboeError {
    #[error("bad CBOE URL {0:?}")]
    BadUrl(String),
    #[error("CBOE could not be reached for {symbol}: {detail}")]
    Transport { symbol: String, detail: String },
    #[error("CBOE answered HTTP {status} for {symbol}: {detail}")]
    Http {
        status: u16,
        symbol: String,
        detail: String,
    },
    #[error("CBOE's answer for {symbol} is not a chain: {detail}")]
    NotAChain { symbol: String, detail: String },
    #[error(
        "the CBOE chain of {symbol} was fetched less than 5 minutes ago and failed; next try at {next}"
    )]
    TooSoon { symbol: String, next: DateTime<Utc> },
}

/// The file name of a symbol's chain: `_SPX` for an index, `SPY` otherwise.
pub fn cboe_symbol(symbol: &Symbol, is_index: bool) -> String {
    let s = symbol
        .as_str()
        .strip_prefix("I:")
        .unwrap_or(symbol.as_str());
    if is_index && !s.starts_with('_') {
        format!("_{s}")
    } else {
        s.to_string()
    }
}

#[derive(Clone, Debug)]
struct Entry {
    attempted_at: DateTime<Utc>,
    /// The last good body and when it was fetched.
    body: Option<(DateTime<Utc>, Arc<String>)>,
}

/// What the cache says about fetching a symbol at `now`.
#[derive(Clone, Debug, PartialEq)]
pub enum CacheAnswer {
    /// Fetched within the interval: use this body (fetched at the instant given).
    Fresh(DateTime<Utc>, Arc<String>),
    /// The last attempt within the interval failed: wait until `next`; the older body,
    /// if any, is still usable.
    Wait {
        next: DateTime<Utc>,
        stale: Option<(DateTime<Utc>, Arc<String>)>,
    },
    /// Go ahead and fetch.
    Fetch,
}

/// Per-symbol fetch times and bodies (pure: time is passed in).
#[derive(Clone, Debug, Default)]
pub struct ChainCache {
    entries: HashMap<String, Entry>,
}

impl ChainCache {
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> CacheAnswer {
        let Some(entry) = self.entries.get(key) else {
            return CacheAnswer::Fetch;
        };
        let next = entry.attempted_at + MIN_INTERVAL;
        if now >= next || now < entry.attempted_at {
            return CacheAnswer::Fetch;
        }
        match &entry.body {
            Some((at, body)) if *at == entry.attempted_at => CacheAnswer::Fresh(*at, body.clone()),
            stale => CacheAnswer::Wait {
                next,
                stale: stale.clone(),
            },
        }
    }

    /// Records an attempt at `now`: its body when it succeeded.
    pub fn record(&mut self, key: &str, now: DateTime<Utc>, body: Option<Arc<String>>) {
        let entry = self.entries.entry(key.to_string()).or_insert(Entry {
            attempted_at: now,
            body: None,
        });
        entry.attempted_at = now;
        if let Some(body) = body {
            entry.body = Some((now, body));
        }
    }
}

/// Checks that a body is a CBOE chain: a JSON object whose `data.options` is an array.
pub fn check_chain(symbol: &str, body: &str) -> Result<(), CboeError> {
    let not_a_chain = |detail: String| CboeError::NotAChain {
        symbol: symbol.to_string(),
        detail,
    };
    let trimmed = body.trim_start();
    if trimmed.starts_with('<') {
        return Err(not_a_chain(format!(
            "an HTML page ({:?})",
            super::massive::wire::excerpt(body)
        )));
    }
    #[derive(serde::Deserialize)]
    struct Head {
        data: Option<Data>,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        options: Option<Vec<serde::de::IgnoredAny>>,
    }
    let head: Head =
        serde_json::from_str(body).map_err(|e| not_a_chain(format!("invalid JSON ({e})")))?;
    match head.data.and_then(|d| d.options) {
        Some(_) => Ok(()),
        None => Err(not_a_chain("no data.options array".into())),
    }
}

/// A CBOE delayed-quotes client with its five-minute cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CboeClient {
    http: reqwest::Client,
    base: Url,
    cache: Arc<Mutex<ChainCache>>,
}

impl CboeClient {
    /// `base_url` is [`DEFAULT_BASE_URL`] in production, a local server in tests.
    pub fn new(base_url: &str) -> Result<CboeClient, CboeError> {
        let base = Url::parse(base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| CboeError::BadUrl(crate::text::printable(base_url)))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "coach/",
                env!("CARGO_PKG_VERSION"),
                " (personal options dashboard; at most one request per symbol per 5 minutes)"
            ))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CboeError::Transport {
                symbol: String::new(),
                detail: e.without_url().to_string(),
            })?;
        Ok(CboeClient {
            http,
            base,
            cache: Arc::new(Mutex::new(ChainCache::default())),
        })
    }

    /// The chain JSON of `symbol` and when it was fetched: from the cache when fetched
    /// within five minutes, else from CBOE. After a failed fetch, the older body (if any)
    /// is returned until the next try is allowed.
    pub async fn chain_json(
        &self,
        symbol: &Symbol,
        is_index: bool,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Arc<String>), CboeError> {
        let key = cboe_symbol(symbol, is_index);
        let answer = match self.cache.lock() {
            Ok(cache) => cache.check(&key, now),
            Err(poisoned) => poisoned.into_inner().check(&key, now),
        };
        match answer {
            CacheAnswer::Fresh(at, body) => return Ok((at, body)),
            CacheAnswer::Wait {
                stale: Some(stale), ..
            } => return Ok(stale),
            CacheAnswer::Wait { next, stale: None } => {
                return Err(CboeError::TooSoon { symbol: key, next });
            }
            CacheAnswer::Fetch => {}
        }
        let result = self.fetch(&key).await;
        let mut cache = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        match result {
            Ok(body) => {
                let body = Arc::new(body);
                cache.record(&key, now, Some(body.clone()));
                Ok((now, body))
            }
            Err(e) => {
                cache.record(&key, now, None);
                Err(e)
            }
        }
    }

    async fn fetch(&self, key: &str) -> Result<String, CboeError> {
        let url = Url::parse(&format!("{}/{key}.json", self.base))
            .map_err(|_| CboeError::BadUrl(key.to_string()))?;
        let transport = |e: reqwest::Error| CboeError::Transport {
            symbol: key.to_string(),
            detail: super::massive::rest::describe_error(e),
        };
        let response = self.http.get(url).send().await.map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(CboeError::Http {
                status: status.as_u16(),
                symbol: key.to_string(),
                detail: super::massive::wire::excerpt(&body),
            });
        }
        check_chain(key, &body)?;
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn indices_take_an_underscore() {
        let spx = Symbol::parse("SPX").unwrap();
        assert_eq!(cboe_symbol(&spx, true), "_SPX");
        assert_eq!(cboe_symbol(&Symbol::parse("SPY").unwrap(), false), "SPY");
        assert_eq!(cboe_symbol(&Symbol::parse("I:NDX").unwrap(), true), "_NDX");
    }

    #[test]
    fn a_symbol_is_fetched_at_most_once_per_five_minutes_even_after_a_failure() {
        let mut cache = ChainCache::default();
        assert_eq!(cache.check("SPY", at(0)), CacheAnswer::Fetch);
        let body = Arc::new("{}".to_string());
        cache.record("SPY", at(0), Some(body.clone()));
        assert_eq!(
            cache.check("SPY", at(4)),
            CacheAnswer::Fresh(at(0), body.clone())
        );
        assert_eq!(cache.check("QQQ", at(4)), CacheAnswer::Fetch, "per symbol");
        assert_eq!(cache.check("SPY", at(5)), CacheAnswer::Fetch);
        cache.record("SPY", at(5), None);
        assert_eq!(
            cache.check("SPY", at(7)),
            CacheAnswer::Wait {
                next: at(10),
                stale: Some((at(0), body))
            },
            "a failure waits too, and the old chain is still offered"
        );
        assert_eq!(cache.check("SPY", at(10)), CacheAnswer::Fetch);
        assert_eq!(
            cache.check("SPY", at(-1)),
            CacheAnswer::Fetch,
            "a clock that went back"
        );
    }

    #[test]
    fn a_body_must_be_a_chain() {
        assert!(
            check_chain(
                "SPY",
                r#"{"timestamp":"x","data":{"symbol":"SPY","options":[]}}"#
            )
            .is_ok()
        );
        let html = check_chain("SPY", "<html><title>Access denied</title></html>").unwrap_err();
        assert!(
            html.to_string().contains("HTML page (\"Access denied\")"),
            "{html}"
        );
        assert!(check_chain("SPY", r#"{"data":{}}"#).is_err());
        assert!(check_chain("SPY", "not json").is_err());
    }
}
