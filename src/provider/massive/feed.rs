//! The Massive feed: loads the session's history over REST, streams `AM`/`A`/`V` events,
//! and turns both into the same `MarketEvent`s as the simulated feed: a `Snapshot` at
//! start and at each session roll, then `Step`s with new last prices and the minute bars
//! that became final. Snapshot requests are answered from the in-memory session. The
//! worker that runs it and publishes on the bus is `runtime::massive_feed`.
//!
//! Exactness: after every (re)connection and after the parser dropped frames, the
//! missed minutes are fetched over REST, one request per symbol, several at a time
//! (within [`RequestLimits`]). Only a symbol whose own backfill is still in flight has its
//! stream bars held back; when its REST answer arrives, REST and held bars are merged by
//! start and published through [`LiveSession::accept_bar`], and its stream flows again.
//! So each minute bar is published exactly once and in order per symbol, whatever the
//! disconnects, and the other symbols' bars never wait for it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::limits::RequestLimits;
use super::rest::{AggBound, RestClient, RetryPolicy};
use super::wire::{AggKind, StreamMessage};
use super::ws::{Cluster, StreamConfig, StreamEvent, StreamStats, spawn_stream};
use super::{MassiveConfig, MassiveError, massive_ticker, symbol_of_ticker};
use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::{self, Session};
use crate::provider::live_session::{LiveSession, SymbolHistory};
use crate::provider::{MarketEvent, MarketSnapshot, Quote, latest_session_date};

/// The feed's notion of now: the wall clock, optionally shifted (tests replay a past
/// session as if it were now).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FeedClock {
    offset: chrono::Duration,
}

impl FeedClock {
    pub fn real() -> FeedClock {
        FeedClock::default()
    }

    /// A clock that reads `at` now and runs at real speed from there.
    pub fn starting_at(at: DateTime<Utc>) -> FeedClock {
        FeedClock {
            offset: at - Utc::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// Stream timings (the protocol's by default; tests shorten them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamTimings {
    pub ping_every: Duration,
    pub read_deadline: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub eviction_backoff: Duration,
}

impl Default for StreamTimings {
    fn default() -> Self {
        let d = StreamConfig::new("", Default::default());
        StreamTimings {
            ping_every: d.ping_every,
            read_deadline: d.read_deadline,
            backoff_base: d.backoff_base,
            backoff_max: d.backoff_max,
            eviction_backoff: d.eviction_backoff,
        }
    }
}

/// What the Massive feed serves.
#[derive(Clone, Debug)]
pub struct MassiveFeedConfig {
    pub massive: MassiveConfig,
    /// The symbols to quote, in display order (our spelling: `SPX`, not `I:SPX`).
    pub symbols: Vec<Symbol>,
    /// Which of them are indices (`I:` tickers on the indices cluster).
    pub indices: BTreeSet<Symbol>,
    pub clock: FeedClock,
    pub retry: RetryPolicy,
    pub stream: StreamTimings,
    /// How often the worker heart-beats (while every stream is live) and checks for a
    /// new session. Prices and bars do not wait for it: they are published as soon as
    /// the events that carry them are read (see `runtime::massive_feed`).
    pub heartbeat_every: Duration,
    /// Calendar days of daily bars loaded before the previous session (ATR(14) needs 15
    /// sessions).
    pub daily_days: i64,
    /// A backfill asked for within this long after a minute ended waits until then, so
    /// the REST API has the minute that just ended (it may lag the stream by seconds).
    pub backfill_settle: Duration,
    /// REST requests in flight and per second (`[massive] max_concurrent_requests`,
    /// `max_requests_per_minute`).
    pub limits: RequestLimits,
}

impl MassiveFeedConfig {
    pub fn new(massive: MassiveConfig, symbols: Vec<Symbol>, indices: BTreeSet<Symbol>) -> Self {
        MassiveFeedConfig {
            massive,
            symbols,
            indices,
            clock: FeedClock::real(),
            retry: RetryPolicy::default(),
            stream: StreamTimings::default(),
            heartbeat_every: Duration::from_millis(250),
            daily_days: 45,
            backfill_settle: Duration::from_secs(10),
            limits: RequestLimits::default(),
        }
    }

    /// A stream's connection settings with this feed's timings.
    fn stream_config(&self) -> StreamConfig {
        let mut stream = StreamConfig::new(&self.massive.ws_url, self.massive.api_key.clone());
        let t = self.stream;
        stream.ping_every = t.ping_every;
        stream.read_deadline = t.read_deadline;
        stream.backoff_base = t.backoff_base;
        stream.backoff_max = t.backoff_max;
        stream.eviction_backoff = t.eviction_backoff;
        stream
    }

    fn cluster_of(&self, symbol: &Symbol) -> Cluster {
        if self.indices.contains(symbol) {
            Cluster::Indices
        } else {
            Cluster::Stocks
        }
    }

    /// The subscription params of a cluster: `AM` and `A` for stocks, `AM` and `V` for
    /// indices.
    pub fn params(&self, cluster: Cluster) -> Vec<String> {
        let mut params = Vec::new();
        for symbol in self
            .symbols
            .iter()
            .filter(|s| self.cluster_of(s) == cluster)
        {
            let ticker = massive_ticker(symbol, cluster == Cluster::Indices);
            params.push(format!("AM.{ticker}"));
            params.push(match cluster {
                Cluster::Stocks => format!("A.{ticker}"),
                Cluster::Indices => format!("V.{ticker}"),
            });
        }
        params
    }
}

/// The session to serve at `now`: today's if New York trades today, else the last one.
pub fn session_at(now: DateTime<Utc>) -> Option<Session> {
    calendar::session(latest_session_date(calendar::ny_date(now)))
}

/// Loads every symbol's history over REST, several requests at a time (the client's
/// [`RequestLimits`]): per symbol one minute-bar request spanning the previous session
/// and today so far; daily bars per symbol, or for the stocks of a large universe from
/// the grouped daily endpoint (one request per date for the whole market; see
/// [`use_grouped_daily`]). `loaded` hears the count of symbols done after each one.
pub async fn load_session(
    rest: &RestClient,
    config: &MassiveFeedConfig,
    now: DateTime<Utc>,
    loaded: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<LiveSession, MassiveError> {
    let session = session_at(now).ok_or_else(|| MassiveError::Decode {
        what: "the session".into(),
        detail: format!("no NYSE session on or before {now}"),
    })?;
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
    let total = config.symbols.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut loads = Vec::with_capacity(total);
    for (i, symbol) in config.symbols.iter().enumerate() {
        let is_index = config.indices.contains(symbol);
        let daily_known = grouped
            .as_mut()
            .filter(|_| !is_index)
            .map(|g| g.remove(&massive_ticker(symbol, false)).unwrap_or_default());
        let done = &done;
        let load = async move {
            let daily = match daily_known {
                Some(mut daily) => {
                    daily.sort_by_key(|d| d.date);
                    daily
                }
                None => {
                    rest.daily_bars(symbol, is_index, daily_from, previous.date)
                        .await?
                }
            };
            // One request from the previous session's pre-market to now (or to the end
            // of the previous session before today's pre-market), split by session.
            let until = if now >= session.pre_market_open() {
                now.min(session.after_hours_close())
            } else {
                previous.after_hours_close() - chrono::Duration::minutes(1)
            };
            let minutes = rest
                .minute_bars(
                    symbol,
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
            loaded(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            Ok::<_, MassiveError>((
                i,
                symbol.clone(),
                SymbolHistory {
                    is_index,
                    bars,
                    previous_bars,
                    daily,
                },
            ))
        };
        loads.push(load);
    }
    let mut histories: Vec<_> = futures::stream::iter(loads)
        .buffer_unordered(config.limits.max_concurrent.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    histories.sort_by_key(|(i, _, _)| *i);
    Ok(LiveSession::new(
        session,
        config.massive.is_delayed(),
        histories.into_iter().map(|(_, s, h)| (s, h)).collect(),
    ))
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
fn is_final(bar: &Bar, now: DateTime<Utc>) -> bool {
    bar.start + chrono::Duration::minutes(1) <= now
}

/// The missed minutes of one symbol, fetched over REST.
pub struct Backfill {
    symbol: Symbol,
    result: Result<Vec<Bar>, MassiveError>,
}

/// A symbol whose backfill is in flight: its stream bars wait here until the REST answer
/// is merged with them.
#[derive(Default)]
struct Filling {
    held: Vec<Bar>,
    /// Its stream reconnected while the request ran: fetch again from what we have.
    again: bool,
}

/// Per cluster: whether its stream is up.
#[derive(Default)]
struct ClusterState {
    /// Authenticated and subscribed now.
    live: bool,
}

/// The Massive feed between two publications: the session so far, each stream's state,
/// and the prices and final bars not yet published. The feed worker
/// (`runtime::massive_feed`) drives it: it hands in stream events and backfills, and
/// publishes what comes out as soon as the events that were ready are in.
pub struct MassiveFeed {
    config: MassiveFeedConfig,
    rest: RestClient,
    live: LiveSession,
    clusters: BTreeMap<Cluster, ClusterState>,
    quotes: BTreeMap<Symbol, Quote>,
    bars: Vec<(Symbol, Bar)>,
    /// Symbols with a backfill in flight (their stream bars held back).
    filling: BTreeMap<Symbol, Filling>,
    /// Where backfills report; set by [`MassiveFeed::start_streams`].
    backfill_tx: Option<mpsc::Sender<Backfill>>,
}

/// What the streams and the backfills send to the feed worker.
pub struct FeedInputs {
    /// Every cluster's stream events, in arrival order.
    pub events: mpsc::Receiver<(Cluster, StreamEvent)>,
    /// A stream that stopped for good, with why.
    pub ended: mpsc::Receiver<(Cluster, Result<(), MassiveError>)>,
    /// Missed minutes fetched over REST, for [`MassiveFeed::on_backfill`].
    pub backfilled: mpsc::Receiver<Backfill>,
}

impl MassiveFeed {
    /// Loads the session's history over REST, as of the feed clock's now.
    /// `loaded` hears how many symbols' history is in, of how many.
    pub async fn load(
        config: &MassiveFeedConfig,
        loaded: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<MassiveFeed, MassiveError> {
        let rest = RestClient::new(&config.massive)?
            .with_retry(config.retry)
            .with_limits(config.limits);
        let live = load_session(&rest, config, config.clock.now(), loaded).await?;
        Ok(MassiveFeed {
            config: config.clone(),
            rest,
            live,
            clusters: BTreeMap::new(),
            quotes: BTreeMap::new(),
            bars: Vec::new(),
            filling: BTreeMap::new(),
            backfill_tx: None,
        })
    }

    /// The feed clock's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// Everything known at `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        self.live.snapshot(now)
    }

    /// Connects one stream per cluster that has symbols; they stop when `cancel` fires.
    pub fn start_streams(&mut self, cancel: &CancellationToken) -> FeedInputs {
        let (events_tx, events) = mpsc::channel::<(Cluster, StreamEvent)>(1024);
        let (ended_tx, ended) = mpsc::channel::<(Cluster, Result<(), MassiveError>)>(4);
        let (backfill_tx, backfilled) = mpsc::channel::<Backfill>(256);
        self.backfill_tx = Some(backfill_tx);
        for cluster in [Cluster::Stocks, Cluster::Indices] {
            let params = self.config.params(cluster);
            if params.is_empty() {
                continue;
            }
            let handle = spawn_stream(
                self.config.stream_config(),
                cluster,
                params,
                events_tx.clone(),
                Arc::new(StreamStats::default()),
                cancel.clone(),
            );
            let ended_tx = ended_tx.clone();
            tokio::spawn(async move {
                let result = handle.task.await.unwrap_or_else(|e| {
                    Err(MassiveError::Transport {
                        what: "the stream".into(),
                        detail: format!("the stream task failed: {e}"),
                    })
                });
                let _ = ended_tx.send((cluster, result)).await;
            });
            self.clusters.insert(cluster, ClusterState::default());
        }
        FeedInputs {
            events,
            ended,
            backfilled,
        }
    }

    /// Takes one stream event in. A (re)connection starts a backfill of the missed
    /// minutes; a disconnect returns its reason, for Health.
    pub fn on_stream_event(&mut self, cluster: Cluster, event: StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Live { .. } | StreamEvent::Overflow { .. } => {
                if let Some(state) = self.clusters.get_mut(&cluster) {
                    state.live = true;
                    let mut work = Vec::new();
                    for symbol in self.live.symbols() {
                        if self.config.cluster_of(symbol) != cluster {
                            continue;
                        }
                        match self.filling.get_mut(symbol) {
                            Some(filling) => filling.again = true,
                            None => {
                                self.filling.insert(symbol.clone(), Filling::default());
                                work.push(symbol.clone());
                            }
                        }
                    }
                    self.start_backfill(work);
                }
                None
            }
            StreamEvent::Down { reason, .. } => {
                if let Some(state) = self.clusters.get_mut(&cluster) {
                    state.live = false;
                }
                Some(reason)
            }
            StreamEvent::Message(message) => {
                on_message(
                    &mut self.live,
                    &mut self.filling,
                    message,
                    &mut self.quotes,
                    &mut self.bars,
                );
                None
            }
        }
    }

    /// Merges one symbol's finished backfill with its bars held back meanwhile, and lets
    /// its stream flow again; or, when the stream reconnected during the request, takes
    /// the REST bars, keeps holding and fetches again. A key or plan error ends the feed.
    pub fn on_backfill(&mut self, done: Backfill) -> Result<(), MassiveError> {
        let Backfill { symbol, result } = done;
        let rest_bars = match result {
            Ok(bars) => bars,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                tracing::warn!("backfill of {symbol} failed, minutes may be missing: {e}");
                Vec::new()
            }
        };
        let Some(filling) = self.filling.get_mut(&symbol) else {
            return Ok(());
        };
        if filling.again {
            filling.again = false;
            self.accept_bars(&symbol, rest_bars);
            self.start_backfill(vec![symbol]);
            return Ok(());
        }
        let mut bars = rest_bars;
        if let Some(filling) = self.filling.remove(&symbol) {
            bars.extend(filling.held);
        }
        self.accept_bars(&symbol, bars);
        Ok(())
    }

    /// How many symbols have a backfill in flight (their stream bars held back).
    pub fn symbols_filling(&self) -> usize {
        self.filling.len()
    }

    /// The prices and bars gathered since the last step (the events read together, e.g.
    /// one WebSocket frame's), as one `Step` at `now`; `None` when nothing happened.
    pub fn take_step(&mut self, now: DateTime<Utc>) -> Option<MarketEvent> {
        if self.quotes.is_empty() && self.bars.is_empty() {
            return None;
        }
        Some(MarketEvent::Step {
            at: now,
            quotes: std::mem::take(&mut self.quotes).into_values().collect(),
            bars: std::mem::take(&mut self.bars),
        })
    }

    /// Whether every stream is authenticated and subscribed now.
    pub fn all_streams_live(&self) -> bool {
        self.clusters.values().all(|c| c.live)
    }

    /// At a new session (the date changed at `now`), reloads the history and returns the
    /// new session's snapshot.
    pub async fn roll(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Option<MarketSnapshot>, MassiveError> {
        if session_at(now).is_none_or(|s| s.date == self.live.session.date) {
            return Ok(None);
        }
        self.live = load_session(&self.rest, &self.config, now, &|_, _| {}).await?;
        Ok(Some(self.live.snapshot(now)))
    }

    fn accept_bars(&mut self, symbol: &Symbol, list: Vec<Bar>) {
        for bar in self.live.accept_bars(symbol, list) {
            self.bars.push((symbol.clone(), bar));
        }
    }

    fn start_backfill(&self, symbols: Vec<Symbol>) {
        if let Some(done) = &self.backfill_tx
            && !symbols.is_empty()
        {
            start_backfill(&self.rest, &self.config, &self.live, symbols, done.clone());
        }
    }
}

/// The error of a stream that stopped: its own, or "stopped" when it ended cleanly
/// (which a live feed never asks for).
pub fn stream_ended(cluster: Cluster, result: Result<(), MassiveError>) -> MassiveError {
    result.err().unwrap_or_else(|| MassiveError::Transport {
        what: format!("the {} stream", cluster.path()),
        detail: "stopped".into(),
    })
}

fn on_message(
    live: &mut LiveSession,
    filling: &mut BTreeMap<Symbol, Filling>,
    message: StreamMessage,
    quotes: &mut BTreeMap<Symbol, Quote>,
    bars: &mut Vec<(Symbol, Bar)>,
) {
    let mut quote = |live: &mut LiveSession, symbol: Symbol, price: f64, at: DateTime<Utc>| {
        let q = Quote { symbol, price, at };
        if live.set_quote(q.clone()) {
            quotes.insert(q.symbol.clone(), q);
        }
    };
    match message {
        StreamMessage::Agg(agg) => {
            let Some(symbol) = symbol_of_ticker(&agg.ticker) else {
                return;
            };
            if agg.kind == AggKind::Minute {
                let bar = agg.bar();
                match filling.get_mut(&symbol) {
                    Some(filling) => filling.held.push(bar),
                    None => {
                        if live.accept_bar(&symbol, bar) {
                            bars.push((symbol.clone(), bar));
                        }
                    }
                }
            }
            quote(live, symbol, agg.close, agg.end);
        }
        StreamMessage::Value { ticker, value, at } => {
            if let Some(symbol) = symbol_of_ticker(&ticker) {
                quote(live, symbol, value, at);
            }
        }
        StreamMessage::Status { .. } => {}
    }
}

/// Fetches each of `symbols` from its newest bar to now, in the background, as many at a
/// time as the limits allow; each symbol reports as soon as its own answer is in.
fn start_backfill(
    rest: &RestClient,
    config: &MassiveFeedConfig,
    live: &LiveSession,
    symbols: Vec<Symbol>,
    done: mpsc::Sender<Backfill>,
) {
    let clock = config.clock;
    let settle = config.backfill_settle;
    let concurrency = config.limits.max_concurrent.max(1);
    let work: Vec<(Symbol, bool, DateTime<Utc>)> = symbols
        .into_iter()
        .map(|s| {
            let (is_index, from) = (live.is_index(&s), live.backfill_from(&s));
            (s, is_index, from)
        })
        .collect();
    let rest = rest.clone();
    tokio::spawn(async move {
        let into_minute = Duration::from_millis(
            u64::try_from(clock.now().timestamp_millis().rem_euclid(60_000)).unwrap_or(0),
        );
        if into_minute < settle {
            tokio::time::sleep(settle - into_minute).await;
        }
        let fetches: Vec<_> = work
            .into_iter()
            .map(|(symbol, is_index, from)| {
                let (rest, done) = (rest.clone(), done.clone());
                async move {
                    // Each request asks up to its own now: the later it runs, the fewer
                    // bars wait in the hold.
                    let now = clock.now();
                    let result = if from > now {
                        Ok(Vec::new())
                    } else {
                        rest.minute_bars(
                            &symbol,
                            is_index,
                            AggBound::Instant(from),
                            AggBound::Instant(now),
                        )
                        .await
                        .map(|mut list| {
                            list.retain(|b| b.start >= from && is_final(b, now));
                            list
                        })
                    };
                    let _ = done.send(Backfill { symbol, result }).await;
                }
            })
            .collect();
        futures::stream::iter(fetches)
            .buffer_unordered(concurrency)
            .for_each(|()| async {})
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::massive::Secret;

    #[test]
    fn stocks_get_minute_and_second_aggregates_and_indices_minutes_and_values() {
        let s = |t: &str| Symbol::parse(t).unwrap();
        let config = MassiveFeedConfig::new(
            MassiveConfig {
                rest_url: "http://127.0.0.1:1".into(),
                ws_url: "ws://127.0.0.1:1".into(),
                api_key: Secret::new("k"),
            },
            vec![s("SPX"), s("SPY"), s("AAPL")],
            [s("SPX")].into(),
        );
        assert_eq!(
            config.params(Cluster::Stocks),
            ["AM.SPY", "A.SPY", "AM.AAPL", "A.AAPL"]
        );
        assert_eq!(config.params(Cluster::Indices), ["AM.I:SPX", "V.I:SPX"]);
    }

    #[test]
    fn the_session_served_is_today_on_a_trading_day_else_the_last_one() {
        let saturday = DateTime::parse_from_rfc3339("2026-11-28T15:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            session_at(saturday).unwrap().date,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            "Friday after Thanksgiving, an early close"
        );
        assert!(session_at(saturday).unwrap().early_close);
    }
}
