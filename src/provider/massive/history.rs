//! The Massive feed's history over REST: per symbol one minute-bar request spanning the
//! previous session and today so far, and the daily bars (per symbol, or for the stocks
//! of a large universe from the grouped daily endpoint: one request per date for the
//! whole market; see [`use_grouped_daily`]). Requests run several at a time within the
//! client's [`super::limits::RequestLimits`], and each symbol's history comes out as soon
//! as its own answer is in ([`history_stream`]), so the feed serves the first symbols
//! while the rest still load.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use futures::{Stream, StreamExt};

use super::feed::{MassiveFeedConfig, session_at};
use super::rest::{AggBound, RestClient};
use super::{MassiveError, massive_ticker};
use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::{self, Session};
use crate::provider::live_session::{LiveSession, SymbolHistory};

/// One symbol's history, with the instant its minute-bar request was made: the REST
/// answer holds every final minute up to about then (see `MassiveFeed::on_history`).
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub symbol: Symbol,
    pub history: SymbolHistory,
    /// The feed clock's now when the minute-bar request was made.
    pub asked_at: DateTime<Utc>,
}

/// Every symbol's history of `session`, as a stream that yields each one as its answer
/// arrives (in no particular order), with at most `config.limits.max_concurrent` symbols
/// in flight. The grouped daily bars (when used) are fetched first, before this returns.
/// Each minute-bar request asks up to its own now (the feed clock's), so a symbol loaded
/// late has its bars up to then.
pub async fn history_stream(
    rest: &RestClient,
    config: &MassiveFeedConfig,
    session: Session,
) -> Result<impl Stream<Item = Result<Loaded, MassiveError>> + Send + 'static, MassiveError> {
    let previous = calendar::previous_session(session.date);
    let daily_from = previous.date - chrono::Duration::days(config.daily_days);
    let dates = trading_dates(daily_from, previous.date);
    let stocks: BTreeSet<String> = config
        .symbols
        .iter()
        .filter(|s| !config.indices.contains(*s))
        .map(|s| massive_ticker(s, false))
        .collect();
    let mut grouped = if use_grouped_daily(stocks.len(), dates.len()) {
        Some(grouped_daily(rest, &dates, &stocks, config.limits.max_concurrent).await?)
    } else {
        None
    };
    let clock = config.clock;
    let mut loads = Vec::with_capacity(config.symbols.len());
    for symbol in &config.symbols {
        let is_index = config.indices.contains(symbol);
        let daily_known = grouped
            .as_mut()
            .filter(|_| !is_index)
            .map(|g| g.remove(&massive_ticker(symbol, false)).unwrap_or_default());
        let (rest, symbol) = (rest.clone(), symbol.clone());
        loads.push(async move {
            let daily = match daily_known {
                Some(mut daily) => {
                    daily.sort_by_key(|d| d.date);
                    daily
                }
                None => {
                    rest.daily_bars(&symbol, is_index, daily_from, previous.date)
                        .await?
                }
            };
            let now = clock.now();
            // One request from the previous session's pre-market to now (or to the end
            // of the previous session before today's pre-market), split by session.
            let until = if now >= session.pre_market_open() {
                now.min(session.after_hours_close())
            } else {
                previous.after_hours_close() - chrono::Duration::minutes(1)
            };
            let minutes = rest
                .minute_bars(
                    &symbol,
                    is_index,
                    AggBound::Instant(previous.pre_market_open()),
                    AggBound::Instant(until),
                )
                .await?;
            let previous_day = previous.pre_market_open()..previous.after_hours_close();
            let today = session.pre_market_open()..session.after_hours_close();
            let previous_bars = minutes
                .iter()
                .filter(|b| previous_day.contains(&b.start))
                .copied()
                .collect();
            let bars = minutes
                .into_iter()
                .filter(|b| today.contains(&b.start) && is_final(b, now))
                .collect();
            Ok::<_, MassiveError>(Loaded {
                symbol,
                history: SymbolHistory {
                    is_index,
                    bars,
                    previous_bars,
                    daily,
                },
                asked_at: now,
            })
        });
    }
    Ok(futures::stream::iter(loads).buffer_unordered(config.limits.max_concurrent.max(1)))
}

/// Loads every symbol's history before returning: the session served at `now` (see
/// [`session_at`]), whole. `loaded` hears the count of symbols done after each one.
pub async fn load_session(
    rest: &RestClient,
    config: &MassiveFeedConfig,
    now: DateTime<Utc>,
    loaded: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<LiveSession, MassiveError> {
    let session = session_of(now)?;
    let total = config.symbols.len();
    let mut stream = std::pin::pin!(history_stream(rest, config, session).await?);
    let mut histories: HashMap<Symbol, SymbolHistory> = HashMap::with_capacity(total);
    while let Some(one) = stream.next().await {
        let one = one?;
        histories.insert(one.symbol, one.history);
        loaded(histories.len(), total);
    }
    let in_order = config
        .symbols
        .iter()
        .filter_map(|s| Some((s.clone(), histories.remove(s)?)))
        .collect();
    Ok(LiveSession::new(
        session,
        config.massive.is_delayed(),
        in_order,
    ))
}

/// The session served at `now`, or why there is none.
pub fn session_of(now: DateTime<Utc>) -> Result<Session, MassiveError> {
    session_at(now).ok_or_else(|| MassiveError::Decode {
        what: "the session".into(),
        detail: format!("no NYSE session on or before {now}"),
    })
}

/// Whether the stocks' daily bars come from the grouped daily endpoint: when there are
/// more stocks than dates, since it then takes fewer requests (one per date instead of one
/// per symbol; about 31 dates for ATR's 45 calendar days). A grouped answer is the
/// whole market (~12,000 rows, ~1 MB), so a short watchlist asks per symbol instead.
pub fn use_grouped_daily(stocks: usize, dates: usize) -> bool {
    stocks > dates
}

/// The NYSE trading dates in `from ..= to`.
fn trading_dates(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| calendar::session(*d).is_some())
        .collect()
}

/// The daily bars of `tickers` (Massive's spelling) over `dates`, one grouped request
/// per date, `concurrency` at a time.
async fn grouped_daily(
    rest: &RestClient,
    dates: &[NaiveDate],
    tickers: &BTreeSet<String>,
    concurrency: usize,
) -> Result<HashMap<String, Vec<DailyBar>>, MassiveError> {
    let requests: Vec<_> = dates
        .iter()
        .map(|date| rest.grouped_daily(*date, |t| tickers.contains(t)))
        .collect();
    let pages: Vec<_> = futures::stream::iter(requests)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut by_ticker: HashMap<String, Vec<DailyBar>> = HashMap::new();
    for page in pages {
        for (ticker, bar) in page? {
            by_ticker.entry(ticker).or_default().push(bar);
        }
    }
    Ok(by_ticker)
}

/// A minute bar is final once its minute has passed.
pub fn is_final(bar: &Bar, now: DateTime<Utc>) -> bool {
    bar.start + chrono::Duration::minutes(1) <= now
}
