//! The Alpaca market data REST client: stock bars of many symbols at once, paged with
//! `next_page_token` (the same query re-sent with `page_token`).
//!
//! Every request goes to the configured base with the keys in the `APCA-API-KEY-ID` and
//! `APCA-API-SECRET-KEY` headers. 429 (200 calls a minute on the free plan) and 5xx
//! answers and transport failures are retried with exponential backoff and full jitter,
//! honouring `Retry-After` (the shared [`RetryPolicy`]); 401 and 403 are fatal and say
//! the keys were rejected; 422 names the refused parameters. Error texts never hold a key.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use reqwest::{StatusCode, Url};

use super::chain;
use super::wire::{self, BarsPage};
use super::{AlpacaConnection, AlpacaError, Feed};
use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar;
use crate::provider::backoff::{RetryPolicy, describe_error, retry_after};

/// Pages followed at most, so a server that keeps answering a token cannot loop us.
const MAX_PAGES: usize = 5000;

/// Bar width of a stock bars request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeframe {
    Minute,
    Day,
}

impl Timeframe {
    fn as_str(self) -> &'static str {
        match self {
            Timeframe::Minute => "1Min",
            Timeframe::Day => "1Day",
        }
    }
}

/// Which API of Alpaca a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Market data (`data_url`).
    Data,
    /// Trading (`trading_url`).
    Trading,
}

/// An Alpaca REST client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    data: Url,
    trading: Url,
    connection: AlpacaConnection,
    retry: RetryPolicy,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("data", &self.data.as_str())
            .field("trading", &self.trading.as_str())
            .field("feed", &self.connection.feed)
            .finish_non_exhaustive()
    }
}

fn base_url(url: &str) -> Result<Url, AlpacaError> {
    crate::provider::massive::rest::parse_base(url, &["http", "https"]).map_err(|e| {
        AlpacaError::BadUrl {
            url: crate::text::printable(url),
            detail: match e {
                crate::provider::massive::MassiveError::BadUrl { detail, .. } => detail,
                other => other.to_string(),
            },
        }
    })
}

impl RestClient {
    pub fn new(connection: &AlpacaConnection) -> Result<RestClient, AlpacaError> {
        if !(connection.key_id.is_set() && connection.secret_key.is_set()) {
            return Err(AlpacaError::NoKeys);
        }
        let data = base_url(&connection.data_url)?;
        let trading = base_url(&connection.trading_url)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("coach/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| AlpacaError::Transport {
                what: "starting the HTTP client".into(),
                detail: describe_error(e),
            })?;
        Ok(RestClient {
            http,
            data,
            trading,
            connection: connection.clone(),
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> RestClient {
        self.retry = retry;
        self
    }

    pub fn feed(&self) -> Feed {
        self.connection.feed
    }

    /// `path` (starting with `/`) on the API's base, keeping a base path, with `query`.
    fn url(&self, api: Api, path: &str, query: &[(&str, String)]) -> Result<Url, AlpacaError> {
        let base = match api {
            Api::Data => &self.data,
            Api::Trading => &self.trading,
        };
        let mut url = base.clone();
        let joined = format!("{}{path}", base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// GETs `url` with the keys, retrying as the policy says; the body of a 2xx answer.
    pub async fn get_text(&self, what: &str, url: Url) -> Result<String, AlpacaError> {
        let redact = |t: &str| self.connection.redact(t);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.max_attempts;
            let response = self
                .http
                .get(url.clone())
                .header("APCA-API-KEY-ID", self.connection.key_id.expose())
                .header("APCA-API-SECRET-KEY", self.connection.secret_key.expose())
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let detail = redact(&describe_error(e));
                    if last {
                        return Err(AlpacaError::Transport {
                            what: what.into(),
                            detail: format!("{detail} (after {attempt} attempts)"),
                        });
                    }
                    tracing::warn!("Alpaca {what}: {detail}; retrying");
                    tokio::time::sleep(self.retry.jittered(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let wait_hint = retry_after(response.headers());
            let body = match response.text().await {
                Ok(b) => b,
                Err(e) if !last => {
                    tracing::warn!(
                        "Alpaca {what}: reading the answer failed: {}; retrying",
                        redact(&describe_error(e))
                    );
                    tokio::time::sleep(self.retry.jittered(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(AlpacaError::Transport {
                        what: what.into(),
                        detail: redact(&describe_error(e)),
                    });
                }
            };
            if status.is_success() {
                return Ok(body);
            }
            let message = redact(&wire::error_message(&body).unwrap_or_else(|| {
                if body.trim().is_empty() {
                    "(empty body)".into()
                } else {
                    format!("({:?})", crate::text::printable(&wire::excerpt(&body)))
                }
            }));
            match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(AlpacaError::BadKeys {
                        status: status.as_u16(),
                        message,
                    });
                }
                StatusCode::UNPROCESSABLE_ENTITY => {
                    return Err(AlpacaError::BadRequest {
                        what: what.into(),
                        message,
                    });
                }
                s if is_retryable(s) && !last => {
                    let wait = self.retry.wait_after(attempt, wait_hint);
                    tracing::warn!(
                        "Alpaca {what}: HTTP {} ({message}); retrying in {:.1} s",
                        status.as_u16(),
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                }
                s => {
                    let tries = if is_retryable(s) {
                        format!(" (after {attempt} attempts)")
                    } else {
                        String::new()
                    };
                    return Err(AlpacaError::Http {
                        status: status.as_u16(),
                        what: what.into(),
                        detail: format!(
                            "{} {message}{tries}",
                            status.canonical_reason().unwrap_or("")
                        ),
                    });
                }
            }
        }
    }

    /// Every page of a paged answer: the query is re-sent with `page_token` set to the
    /// previous page's `next_page_token` until there is none. `read` parses one page and
    /// returns its token.
    pub async fn paged<T>(
        &self,
        what: &str,
        api: Api,
        path: &str,
        query: &[(&str, String)],
        mut read: impl FnMut(&str, &mut T) -> Result<Option<String>, String>,
        mut out: T,
    ) -> Result<T, AlpacaError> {
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut q = query.to_vec();
            if let Some(t) = &token {
                q.push(("page_token", t.clone()));
            }
            let url = self.url(api, path, &q)?;
            let body = self.get_text(what, url).await?;
            let next = read(&body, &mut out).map_err(|detail| AlpacaError::Decode {
                what: what.into(),
                detail: self.connection.redact(&detail),
            })?;
            match next {
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(AlpacaError::Decode {
                        what: what.into(),
                        detail: format!("the page token {t:?} came back twice"),
                    });
                }
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
        Err(AlpacaError::Decode {
            what: what.into(),
            detail: format!("paging did not end after {MAX_PAGES} pages"),
        })
    }

    /// Bars of `symbols` starting in `start ..= end` (Alpaca's bounds are inclusive), all
    /// pages, by symbol, ascending and one per start. Unadjusted prices (`adjustment=raw`)
    /// from the configured feed.
    pub async fn stock_bars(
        &self,
        symbols: &[Symbol],
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<Symbol, Vec<Bar>>, AlpacaError> {
        let list: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
        let what = format!("the {} bars of {}", timeframe.as_str(), list.join(","));
        let query = [
            ("symbols", list.join(",")),
            ("timeframe", timeframe.as_str().to_string()),
            ("start", start.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ("end", end.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ("limit", "10000".to_string()),
            ("adjustment", "raw".to_string()),
            ("feed", self.connection.feed.as_str().to_string()),
            ("sort", "asc".to_string()),
        ];
        let mut skipped = 0;
        let mut by_name: BTreeMap<String, Vec<Bar>> = self
            .paged(
                &what,
                Api::Data,
                "/v2/stocks/bars",
                &query,
                |body, out: &mut BTreeMap<String, Vec<Bar>>| {
                    let BarsPage {
                        bars,
                        next_page_token,
                        skipped: s,
                    } = wire::parse_bars_page(body)?;
                    skipped += s;
                    for (name, list) in bars {
                        out.entry(name).or_default().extend(list);
                    }
                    Ok(next_page_token)
                },
                BTreeMap::new(),
            )
            .await?;
        if skipped > 0 {
            tracing::warn!("{what}: {skipped} unusable bars skipped");
        }
        let mut out = BTreeMap::new();
        for symbol in symbols {
            let mut bars = by_name.remove(symbol.as_str()).unwrap_or_default();
            bars.retain(|b| b.start >= start && b.start <= end);
            bars.sort_by_key(|b| b.start);
            bars.dedup_by_key(|b| b.start);
            out.insert(symbol.clone(), bars);
        }
        Ok(out)
    }

    /// 1-minute bars of `symbol` for the New York dates `from ..= to`, extended hours
    /// included: bars starting from 04:00 to 19:59 New York time.
    pub async fn minute_bars(
        &self,
        symbol: &Symbol,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Bar>, AlpacaError> {
        let open = NaiveTime::from_hms_opt(4, 0, 0).unwrap_or_default();
        let last = NaiveTime::from_hms_opt(19, 59, 0).unwrap_or_default();
        let mut bars = self
            .stock_bars(
                std::slice::from_ref(symbol),
                Timeframe::Minute,
                calendar::ny_instant(from, open),
                calendar::ny_instant(to, last),
            )
            .await?
            .remove(symbol)
            .unwrap_or_default();
        bars.retain(|b| {
            let local = b.start.with_timezone(&chrono_tz::America::New_York).time();
            local >= open && local <= last
        });
        Ok(bars)
    }

    /// Daily bars of the New York dates `from ..= to`, ascending, one per date.
    pub async fn daily_bars(
        &self,
        symbol: &Symbol,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>, AlpacaError> {
        let midnight = NaiveTime::MIN;
        let bars = self
            .stock_bars(
                std::slice::from_ref(symbol),
                Timeframe::Day,
                calendar::ny_instant(from, midnight),
                calendar::ny_instant(to, midnight),
            )
            .await?
            .remove(symbol)
            .unwrap_or_default();
        let mut daily: Vec<DailyBar> = bars
            .iter()
            .map(wire::to_daily_bar)
            .filter(|d| d.date >= from && d.date <= to)
            .collect();
        daily.dedup_by_key(|d| d.date);
        Ok(daily)
    }
}

impl RestClient {
    /// The latest trade of `symbol` on the configured feed: `(price, RFC 3339 time)`.
    pub async fn latest_trade(
        &self,
        symbol: &Symbol,
    ) -> Result<Option<(f64, String)>, AlpacaError> {
        let what = format!("the latest trade of {symbol}");
        let url = self.url(
            Api::Data,
            "/v2/stocks/trades/latest",
            &[
                ("symbols", symbol.as_str().to_string()),
                ("feed", self.connection.feed.as_str().to_string()),
            ],
        )?;
        let body = self.get_text(&what, url).await?;
        chain::parse_latest_trade(&body, symbol.as_str())
            .map_err(|detail| AlpacaError::Decode { what, detail })
    }

    /// The options chain of `underlying` expiring by `expiry_to`: the trading API's
    /// contracts (open interest) joined with the option snapshots (implied volatility,
    /// `indicative` feed) at `spot`. Both are paged.
    pub async fn options_chain(
        &self,
        underlying: &Symbol,
        spot: f64,
        as_of: DateTime<Utc>,
        expiry_from: NaiveDate,
        expiry_to: NaiveDate,
    ) -> Result<(crate::gex::chain::Chain, chain::JoinCounts), AlpacaError> {
        let contracts = self
            .paged(
                &format!("the option contracts of {underlying}"),
                Api::Trading,
                "/v2/options/contracts",
                &[
                    ("underlying_symbols", underlying.as_str().to_string()),
                    ("expiration_date_gte", expiry_from.to_string()),
                    ("expiration_date_lte", expiry_to.to_string()),
                    ("limit", "10000".to_string()),
                ],
                chain::parse_contracts_page,
                Vec::new(),
            )
            .await?;
        let snapshots = self
            .paged(
                &format!("the option snapshots of {underlying}"),
                Api::Data,
                &format!("/v1beta1/options/snapshots/{underlying}"),
                &[
                    ("feed", "indicative".to_string()),
                    ("limit", "1000".to_string()),
                    ("expiration_date_gte", expiry_from.to_string()),
                    ("expiration_date_lte", expiry_to.to_string()),
                ],
                chain::parse_snapshots_page,
                BTreeMap::new(),
            )
            .await?;
        Ok(chain::join_chain(
            underlying, spot, as_of, &contracts, &snapshots,
        ))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::alpaca::Secret;

    fn connection(data: &str) -> AlpacaConnection {
        AlpacaConnection {
            data_url: data.into(),
            stream_url: "ws://127.0.0.1:1".into(),
            trading_url: "http://127.0.0.1:2/paper".into(),
            feed: Feed::Iex,
            key_id: Secret::new("PKID0123456"),
            secret_key: Secret::new("SECRET0123456"),
        }
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_the_query() {
        let c = RestClient::new(&connection("http://127.0.0.1:9000/proxy/")).unwrap();
        let url = c
            .url(
                Api::Data,
                "/v2/stocks/bars",
                &[("symbols", "SPY,QQQ".into()), ("page_token", "a+b=".into())],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9000/proxy/v2/stocks/bars?symbols=SPY%2CQQQ&page_token=a%2Bb%3D"
        );
        let t = c.url(Api::Trading, "/v2/options/contracts", &[]).unwrap();
        assert_eq!(t.as_str(), "http://127.0.0.1:2/paper/v2/options/contracts");
    }

    #[test]
    fn missing_keys_and_bad_urls_are_refused_and_debug_hides_the_keys() {
        let mut c = connection("http://h");
        c.secret_key = Secret::default();
        assert_eq!(RestClient::new(&c).unwrap_err(), AlpacaError::NoKeys);
        assert!(matches!(
            RestClient::new(&connection("ftp://h")),
            Err(AlpacaError::BadUrl { .. })
        ));
        let debug = format!("{:?}", RestClient::new(&connection("http://h")).unwrap());
        assert!(!debug.contains("PKID0123456") && !debug.contains("SECRET0123456"));
    }
}
