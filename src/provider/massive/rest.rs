//! The Massive REST client: aggregates (minute, day) paged through `next_url`, previous
//! close, the options chain snapshot (paged, filtered), market status.
//!
//! Every request goes to the configured base URL with the key in the `Authorization`
//! header (never in a URL). A `next_url` contributes only its path and query, joined to
//! the configured base, so the client never talks to a host the configuration did not
//! name. 429, 413, 499 and 5xx answers and transport failures are retried with
//! exponential backoff and full jitter, honouring `Retry-After`; 401 and 403 are never
//! retried and name the key or the entitlement. Error texts never contain the key.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{StatusCode, Url};

use crate::provider::backoff::retry_after;
pub use crate::provider::backoff::{RetryPolicy, describe_error};

use super::limits::{Limiter, RequestLimits};
use super::wire::{self, AggWire, MarketStatus, WireError};
use super::{MassiveConfig, MassiveError, Secret, massive_ticker};
use crate::domain::{Bar, DailyBar, Symbol};

/// Bar width of an aggregates request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timespan {
    Minute,
    Day,
}

impl Timespan {
    fn as_str(self) -> &'static str {
        match self {
            Timespan::Minute => "minute",
            Timespan::Day => "day",
        }
    }
}

/// A `from`/`to` of an aggregates request: a whole New York date or an instant (sent as
/// Unix milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggBound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl AggBound {
    fn to_path(self) -> String {
        match self {
            AggBound::Date(d) => d.format("%Y-%m-%d").to_string(),
            AggBound::Instant(t) => t.timestamp_millis().to_string(),
        }
    }
}

/// Which contracts of an options chain snapshot to fetch (all bounds inclusive).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChainFilter {
    pub expiry_from: Option<NaiveDate>,
    pub expiry_to: Option<NaiveDate>,
    /// Strike bounds in the underlying's price units.
    pub strike_min: Option<f64>,
    pub strike_max: Option<f64>,
}

/// Pages followed at most, so a server that keeps answering `next_url` cannot loop us.
const MAX_PAGES: usize = 2000;

/// A Massive REST client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: Url,
    key: Secret,
    retry: RetryPolicy,
    /// Shared by every clone: requests in flight and started per second.
    limiter: Arc<Limiter>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base.as_str())
            .field("key", &self.key)
            .finish()
    }
}

/// Parses and checks a configured base URL (`http`/`https`, with a host).
pub fn parse_base(url: &str, schemes: &[&str]) -> Result<Url, MassiveError> {
    let bad = |detail: &str| MassiveError::BadUrl {
        url: crate::text::printable(url),
        detail: detail.into(),
    };
    let parsed = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(bad(&format!("the scheme must be {}", schemes.join(" or "))));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; use the api_key setting",
        ));
    }
    Ok(parsed)
}

impl RestClient {
    pub fn new(config: &MassiveConfig) -> Result<RestClient, MassiveError> {
        if !config.api_key.is_set() {
            return Err(MassiveError::NoKey);
        }
        let base = parse_base(&config.rest_url, &["http", "https"])?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("coach/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| MassiveError::Transport {
                what: "starting the HTTP client".into(),
                detail: e.without_url().to_string(),
            })?;
        Ok(RestClient {
            http,
            base,
            key: config.api_key.clone(),
            retry: RetryPolicy::default(),
            limiter: Limiter::new(RequestLimits::default()),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> RestClient {
        self.retry = retry;
        self
    }

    /// Bounds requests in flight and per second (shared by this client's clones).
    pub fn with_limits(mut self, limits: RequestLimits) -> RestClient {
        self.limiter = Limiter::new(limits);
        self
    }

    /// `path_and_query` (starting with `/`) on the configured base, keeping a base path.
    fn url(&self, path_and_query: &str) -> Result<Url, MassiveError> {
        let base_path = self.base.path().trim_end_matches('/');
        let joined = format!(
            "{}://{}{}",
            self.base.scheme(),
            self.base.host_str().unwrap_or_default(),
            self.base
                .port()
                .map(|p| format!(":{p}"))
                .unwrap_or_default()
        );
        Url::parse(&format!("{joined}{base_path}{path_and_query}")).map_err(|e| {
            MassiveError::BadUrl {
                url: self.key.redact_in(path_and_query),
                detail: e.to_string(),
            }
        })
    }

    /// The path and query of an API-given `next_url` (absolute or relative), without any
    /// `apiKey` parameter.
    fn next_path(&self, next_url: &str) -> Result<String, MassiveError> {
        let parsed = Url::parse(next_url)
            .or_else(|_| Url::parse("http://relative.invalid")?.join(next_url))
            .map_err(|e| MassiveError::Decode {
                what: "a next_url".into(),
                detail: format!("{:?} is not a URL: {e}", self.key.redact_in(next_url)),
            })?;
        let mut path = parsed.path().to_string();
        let base_path = self.base.path().trim_end_matches('/');
        if !base_path.is_empty()
            && let Some(rest) = path.strip_prefix(base_path)
        {
            path = rest.to_string();
        }
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("apikey"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            return Ok(path);
        }
        let mut query = Url::parse("http://q.invalid/").map_err(|e| MassiveError::Decode {
            what: "a next_url".into(),
            detail: e.to_string(),
        })?;
        query.query_pairs_mut().extend_pairs(pairs);
        Ok(format!("{path}?{}", query.query().unwrap_or_default()))
    }

    /// One GET with retries; the body as text on a 2xx answer.
    pub async fn get_text(&self, what: &str, path_and_query: &str) -> Result<String, MassiveError> {
        let url = self.url(path_and_query)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.max_attempts;
            // Held until the answer is read; released before any retry wait.
            let permit = self.limiter.acquire().await;
            let response = self
                .http
                .get(url.clone())
                .bearer_auth(self.key.expose())
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    drop(permit);
                    let detail = self.key.redact_in(&describe_error(e));
                    if last {
                        return Err(MassiveError::Transport {
                            what: what.into(),
                            detail: format!("{detail} (after {attempt} attempts)"),
                        });
                    }
                    tracing::warn!("Massive {what}: {detail}; retrying");
                    tokio::time::sleep(self.jittered(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = response.text().await;
            drop(permit);
            let body = match body {
                Ok(b) => b,
                Err(e) if !last => {
                    tracing::warn!(
                        "Massive {what}: reading the answer failed: {}; retrying",
                        self.key.redact_in(&describe_error(e))
                    );
                    tokio::time::sleep(self.jittered(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(MassiveError::Transport {
                        what: what.into(),
                        detail: self.key.redact_in(&describe_error(e)),
                    });
                }
            };
            if status.is_success() {
                return Ok(body);
            }
            let message = self
                .key
                .redact_in(&wire::error_message(&body).unwrap_or_else(|| describe_body(&body)));
            match status {
                StatusCode::UNAUTHORIZED => {
                    return Err(MassiveError::BadKey {
                        status: status.as_u16(),
                        message,
                    });
                }
                StatusCode::FORBIDDEN => {
                    return Err(MassiveError::NotEntitled {
                        what: what.into(),
                        message,
                    });
                }
                s if is_retryable(s) && !last => {
                    let wait = match retry_after {
                        Some(d) => d.min(self.retry.max_retry_after),
                        None => self.jittered(attempt),
                    };
                    tracing::warn!(
                        "Massive {what}: HTTP {} ({message}); retrying in {:.1} s",
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
                    return Err(MassiveError::Http {
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

    fn jittered(&self, attempt: u32) -> Duration {
        self.retry.jittered(attempt)
    }

    /// Every page of a paged answer, following `next_url` on the configured base. `read`
    /// parses one page and returns its `next_url`.
    async fn paged<T>(
        &self,
        what: &str,
        first: String,
        mut read: impl FnMut(&str, &mut Vec<T>) -> Result<Option<String>, WireError>,
    ) -> Result<Vec<T>, MassiveError> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES || !seen.insert(path.clone()) {
                return Err(MassiveError::Decode {
                    what: what.into(),
                    detail: format!("paging did not end after {} pages", pages - 1),
                });
            }
            let body = self.get_text(what, &path).await?;
            let next_url = read(&body, &mut out).map_err(|e| decode_error(what, e, &self.key))?;
            next = match next_url {
                Some(u) => Some(self.next_path(&u)?),
                None => None,
            };
        }
        Ok(out)
    }

    /// Raw aggregates of `ticker` (Massive's spelling: `I:SPX` for an index), all pages.
    pub async fn aggregates(
        &self,
        ticker: &str,
        timespan: Timespan,
        from: AggBound,
        to: AggBound,
    ) -> Result<Vec<AggWire>, MassiveError> {
        let what = format!("{} aggregates of {ticker}", timespan.as_str());
        let path = format!(
            "/v2/aggs/ticker/{ticker}/range/1/{}/{}/{}?adjusted=true&sort=asc&limit=50000",
            timespan.as_str(),
            from.to_path(),
            to.to_path()
        );
        let mut skipped = 0;
        let bars = self
            .paged(&what, path, |body, out| {
                let page = wire::parse_aggs_page(body)?;
                skipped += page.skipped;
                out.extend(page.bars);
                Ok(page.next_url)
            })
            .await?;
        if skipped > 0 {
            tracing::warn!("{what}: {skipped} unusable bars skipped");
        }
        Ok(bars)
    }

    /// Final 1-minute bars starting in `from ..= to`, ascending, one per start.
    pub async fn minute_bars(
        &self,
        symbol: &Symbol,
        is_index: bool,
        from: AggBound,
        to: AggBound,
    ) -> Result<Vec<Bar>, MassiveError> {
        let raw = self
            .aggregates(
                &massive_ticker(symbol, is_index),
                Timespan::Minute,
                from,
                to,
            )
            .await?;
        let mut bars: Vec<Bar> = raw.iter().filter_map(wire::to_bar).collect();
        bars.sort_by_key(|b| b.start);
        bars.dedup_by_key(|b| b.start);
        Ok(bars)
    }

    /// Daily bars of the New York dates `from ..= to`, ascending, one per date.
    pub async fn daily_bars(
        &self,
        symbol: &Symbol,
        is_index: bool,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>, MassiveError> {
        let raw = self
            .aggregates(
                &massive_ticker(symbol, is_index),
                Timespan::Day,
                AggBound::Date(from),
                AggBound::Date(to),
            )
            .await?;
        let mut bars: Vec<DailyBar> = raw.iter().filter_map(wire::to_daily_bar).collect();
        bars.sort_by_key(|b| b.date);
        bars.dedup_by_key(|b| b.date);
        Ok(bars)
    }

    /// The whole US stock market's daily bars of one New York `date`, in one request
    /// (`/v2/aggs/grouped/locale/us/market/stocks/{date}`): per ticker (Massive's
    /// spelling) that `wanted` keeps, its bar of that date. Indices are not in it. The
    /// bar's date is the date asked for (the endpoint's meaning), whatever `t` says.
    pub async fn grouped_daily(
        &self,
        date: NaiveDate,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, DailyBar)>, MassiveError> {
        let what = format!("the grouped daily bars of {date}");
        let body = self
            .get_text(
                &what,
                &format!(
                    "/v2/aggs/grouped/locale/us/market/stocks/{}?adjusted=true",
                    date.format("%Y-%m-%d")
                ),
            )
            .await?;
        let page = wire::parse_grouped_page(&body, wanted)
            .map_err(|e| decode_error(&what, e, &self.key))?;
        let mut skipped = page.skipped;
        let rows: Vec<(String, DailyBar)> = page
            .rows
            .into_iter()
            .filter_map(|(ticker, agg)| {
                let bar = wire::to_daily_bar(&agg).map(|b| DailyBar { date, ..b });
                if bar.is_none() {
                    skipped += 1;
                }
                Some((ticker, bar?))
            })
            .collect();
        if skipped > 0 {
            tracing::warn!("{what}: {skipped} unusable rows skipped");
        }
        Ok(rows)
    }

    /// The previous session's daily bar (`/v2/aggs/ticker/{t}/prev`), if Massive has one.
    pub async fn previous_close(
        &self,
        symbol: &Symbol,
        is_index: bool,
    ) -> Result<Option<DailyBar>, MassiveError> {
        let ticker = massive_ticker(symbol, is_index);
        let what = format!("the previous close of {ticker}");
        let body = self
            .get_text(
                &what,
                &format!("/v2/aggs/ticker/{ticker}/prev?adjusted=true"),
            )
            .await?;
        let page = wire::parse_aggs_page(&body).map_err(|e| decode_error(&what, e, &self.key))?;
        Ok(page.bars.iter().rev().find_map(wire::to_daily_bar))
    }

    /// The options chain snapshot of `underlying` as the raw JSON text of every page, in
    /// order (`/v3/snapshot/options/{underlying}`, 250 contracts a page). Parse each with
    /// the GEX chain reader (`gex::formats::massive::parse_page`).
    pub async fn options_chain_pages(
        &self,
        underlying: &Symbol,
        is_index: bool,
        filter: &ChainFilter,
    ) -> Result<Vec<String>, MassiveError> {
        let ticker = massive_ticker(underlying, is_index);
        let what = format!("the options chain of {ticker}");
        let mut query = Url::parse("http://q.invalid/").map_err(|e| MassiveError::Decode {
            what: what.clone(),
            detail: e.to_string(),
        })?;
        {
            let mut q = query.query_pairs_mut();
            if let Some(d) = filter.expiry_from {
                q.append_pair("expiration_date.gte", &d.to_string());
            }
            if let Some(d) = filter.expiry_to {
                q.append_pair("expiration_date.lte", &d.to_string());
            }
            if let Some(s) = filter.strike_min.filter(|s| s.is_finite()) {
                q.append_pair("strike_price.gte", &s.to_string());
            }
            if let Some(s) = filter.strike_max.filter(|s| s.is_finite()) {
                q.append_pair("strike_price.lte", &s.to_string());
            }
            q.append_pair("limit", "250");
        }
        let path = format!(
            "/v3/snapshot/options/{ticker}?{}",
            query.query().unwrap_or_default()
        );
        self.paged(&what, path, |body, out| {
            let next = wire::next_url_of(body)?;
            out.push(body.to_string());
            Ok(next)
        })
        .await
    }

    /// `GET /v1/marketstatus/now`.
    pub async fn market_status(&self) -> Result<MarketStatus, MassiveError> {
        let what = "the market status";
        let body = self.get_text(what, "/v1/marketstatus/now").await?;
        wire::parse_market_status(&body).map_err(|e| decode_error(what, e, &self.key))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 413 | 429 | 499) || status.is_server_error()
}

/// A non-JSON body described for an error: empty, HTML (its title) or its first characters.
fn describe_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        "(empty body)".into()
    } else if trimmed.starts_with('<') {
        format!("(an HTML page: {:?})", wire::excerpt(body))
    } else {
        format!("({:?})", wire::excerpt(body))
    }
}

fn decode_error(what: &str, e: WireError, key: &Secret) -> MassiveError {
    match e {
        WireError::Status { status, message } => MassiveError::Api {
            what: what.into(),
            status,
            message: key.redact_in(&message),
        },
        WireError::NotJson(detail) => MassiveError::Decode {
            what: what.into(),
            detail: key.redact_in(&detail),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> RestClient {
        RestClient::new(&MassiveConfig {
            rest_url: base.into(),
            ws_url: "ws://127.0.0.1:1".into(),
            api_key: Secret::new("KEY123456"),
        })
        .unwrap()
    }

    #[test]
    fn next_url_keeps_only_path_and_query_on_the_configured_base() {
        let c = client("http://127.0.0.1:9000");
        let next = c
            .next_path("https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw&apiKey=KEY123456")
            .unwrap();
        assert_eq!(
            next,
            "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw"
        );
        assert_eq!(
            c.url(&next).unwrap().as_str(),
            "http://127.0.0.1:9000/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw"
        );
        assert_eq!(c.next_path("/v3/x?cursor=a").unwrap(), "/v3/x?cursor=a");
    }

    #[test]
    fn a_base_with_a_path_prefix_keeps_it() {
        let c = client("http://127.0.0.1:9000/proxy/");
        assert_eq!(
            c.url("/v1/marketstatus/now").unwrap().as_str(),
            "http://127.0.0.1:9000/proxy/v1/marketstatus/now"
        );
        assert_eq!(
            c.next_path("https://other.example/proxy/v3/x?cursor=a")
                .unwrap(),
            "/v3/x?cursor=a"
        );
    }

    #[test]
    fn bad_base_urls_and_a_missing_key_are_refused() {
        let config = |url: &str, key: &str| MassiveConfig {
            rest_url: url.into(),
            ws_url: String::new(),
            api_key: Secret::new(key),
        };
        assert!(matches!(
            RestClient::new(&config("ftp://x", "k1234")),
            Err(MassiveError::BadUrl { .. })
        ));
        assert!(matches!(
            RestClient::new(&config("https://u:p@x", "k1234")),
            Err(MassiveError::BadUrl { .. })
        ));
        assert_eq!(
            RestClient::new(&config("https://x", " ")).unwrap_err(),
            MassiveError::NoKey
        );
        assert!(!format!("{:?}", client("http://h")).contains("KEY123456"));
    }
}
