//! The Alpaca feed: loads the session's history over REST (all symbols in each call),
//! streams minute bars and trades, and turns both into the same `MarketEvent`s as the
//! other feeds. It shares the Massive feed's design: the in-memory [`LiveSession`] keyed
//! by bar start, and after every (re)connection a REST backfill of the missed minutes
//! while the stream's bars are held back, then both merged by start, so each minute bar
//! is published exactly once and in order whatever the disconnects. A corrected bar
//! (`u`) replaces the bar with the same start (in the held bars, or in the session the
//! snapshots are made of). The worker is `runtime::alpaca_feed`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::rest::{RestClient, Timeframe};
use super::stream::{StreamEvent, StreamTimings, Watched, spawn_stream};
use super::{AlpacaConnection, AlpacaError};
use crate::domain::{Bar, Symbol};
use crate::market::calendar;
use crate::provider::backoff::RetryPolicy;
use crate::provider::live_session::{LiveSession, SymbolHistory};
use crate::provider::massive::feed::{FeedClock, session_at};
use crate::provider::{MarketEvent, MarketSnapshot, Quote};

/// What the Alpaca feed serves.
#[derive(Clone, Debug)]
pub struct AlpacaFeedConfig {
    pub connection: AlpacaConnection,
    /// The symbols, in display order (stocks and ETFs: indices are not on Alpaca).
    pub symbols: Vec<Symbol>,
    pub clock: FeedClock,
    pub retry: RetryPolicy,
    pub stream: StreamTimings,
    /// How often the worker heart-beats (while the stream is live) and checks for a new
    /// session; prices and bars are published as they are read, not on this timer.
    pub heartbeat_every: Duration,
    /// Calendar days of daily bars loaded before the previous session.
    pub daily_days: i64,
    /// A backfill asked for within this long after a minute ended waits until then, so
    /// the REST API has the minute that just ended.
    pub backfill_settle: Duration,
}

impl AlpacaFeedConfig {
    pub fn new(connection: AlpacaConnection, symbols: Vec<Symbol>) -> Self {
        AlpacaFeedConfig {
            connection,
            symbols,
            clock: FeedClock::real(),
            retry: RetryPolicy::default(),
            stream: StreamTimings::default(),
            heartbeat_every: Duration::from_millis(250),
            daily_days: 45,
            backfill_settle: Duration::from_secs(10),
        }
    }
}

/// A minute bar is final once its minute has passed.
fn is_final(bar: &Bar, now: DateTime<Utc>) -> bool {
    bar.start + chrono::Duration::minutes(1) <= now
}

/// Loads every symbol's history over REST: three calls for all symbols (daily bars,
/// the previous session's minutes, today's minutes so far).
pub async fn load_session(
    rest: &RestClient,
    config: &AlpacaFeedConfig,
    now: DateTime<Utc>,
) -> Result<LiveSession, AlpacaError> {
    let session = session_at(now).ok_or_else(|| AlpacaError::Decode {
        what: "the session".into(),
        detail: format!("no NYSE session on or before {now}"),
    })?;
    let previous = calendar::previous_session(session.date);
    let symbols = &config.symbols;
    let midnight = chrono::NaiveTime::MIN;
    let mut daily = rest
        .stock_bars(
            symbols,
            Timeframe::Day,
            calendar::ny_instant(
                previous.date - chrono::Duration::days(config.daily_days),
                midnight,
            ),
            calendar::ny_instant(previous.date, midnight),
        )
        .await?;
    let mut previous_bars = rest
        .stock_bars(
            symbols,
            Timeframe::Minute,
            previous.pre_market_open(),
            previous.after_hours_close() - chrono::Duration::minutes(1),
        )
        .await?;
    let mut today = if now >= session.pre_market_open() {
        rest.stock_bars(
            symbols,
            Timeframe::Minute,
            session.pre_market_open(),
            now.min(session.after_hours_close()),
        )
        .await?
    } else {
        BTreeMap::new()
    };
    let histories = symbols
        .iter()
        .map(|symbol| {
            let mut bars = today.remove(symbol).unwrap_or_default();
            bars.retain(|b| is_final(b, now));
            let history = SymbolHistory {
                is_index: false,
                bars,
                previous_bars: previous_bars.remove(symbol).unwrap_or_default(),
                daily: daily
                    .remove(symbol)
                    .unwrap_or_default()
                    .iter()
                    .map(super::wire::to_daily_bar)
                    .filter(|d| d.date <= previous.date)
                    .collect(),
            };
            (symbol.clone(), history)
        })
        .collect();
    let mut live = LiveSession::new(session, false, histories);
    live.provider = "alpaca";
    Ok(live)
}

/// The missed minutes of every symbol, fetched over REST.
pub struct Backfill {
    result: Result<BTreeMap<Symbol, Vec<Bar>>, AlpacaError>,
}

/// The Alpaca feed between two publications (driven by `runtime::alpaca_feed`).
pub struct AlpacaFeed {
    config: AlpacaFeedConfig,
    rest: RestClient,
    live: LiveSession,
    quotes: BTreeMap<Symbol, Quote>,
    bars: Vec<(Symbol, Bar)>,
    /// A backfill in flight holds the stream's bars back here, keyed by start.
    backfilling: bool,
    /// Another backfill was asked for while one ran (a reconnect meanwhile).
    again: bool,
    held: BTreeMap<Symbol, BTreeMap<DateTime<Utc>, Bar>>,
    /// Authenticated and subscribed now.
    stream_live: bool,
    backfill_tx: Option<mpsc::Sender<Backfill>>,
}

/// What the stream and the backfills send to the feed worker.
pub struct FeedInputs {
    pub events: mpsc::Receiver<StreamEvent>,
    /// The stream task: it ends only on cancellation or a fatal error.
    pub stream: JoinHandle<Result<(), AlpacaError>>,
    pub backfilled: mpsc::Receiver<Backfill>,
}

impl AlpacaFeed {
    /// Loads the session's history over REST, as of the feed clock's now.
    pub async fn load(config: &AlpacaFeedConfig) -> Result<AlpacaFeed, AlpacaError> {
        if config.symbols.is_empty() {
            return Err(AlpacaError::NothingToStream);
        }
        let rest = RestClient::new(&config.connection)?.with_retry(config.retry);
        let live = load_session(&rest, config, config.clock.now()).await?;
        Ok(AlpacaFeed {
            config: config.clone(),
            rest,
            live,
            quotes: BTreeMap::new(),
            bars: Vec::new(),
            backfilling: false,
            again: false,
            held: BTreeMap::new(),
            stream_live: false,
            backfill_tx: None,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    pub fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        self.live.snapshot(now)
    }

    /// Connects the stream (bars of every symbol, trades of up to 30, `focus`'s among
    /// them when it is a watched symbol); it stops when `cancel` fires.
    pub fn start_stream(
        &mut self,
        cancel: &CancellationToken,
        focus: watch::Receiver<Option<Symbol>>,
    ) -> FeedInputs {
        let (events_tx, events) = mpsc::channel(4096);
        let (backfill_tx, backfilled) = mpsc::channel(8);
        self.backfill_tx = Some(backfill_tx);
        let stream = spawn_stream(
            self.config.connection.clone(),
            self.config.stream,
            Watched::new(self.config.symbols.clone(), focus),
            events_tx,
            cancel.clone(),
        );
        FeedInputs {
            events,
            stream,
            backfilled,
        }
    }

    /// Takes one stream event in. A (re)connection starts a backfill of the missed
    /// minutes; a disconnect returns its reason, for Health.
    pub fn on_stream_event(&mut self, event: StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Live { .. } => {
                self.stream_live = true;
                if self.backfilling {
                    self.again = true;
                } else {
                    self.backfilling = true;
                    self.start_backfill();
                }
                None
            }
            StreamEvent::Down { reason, .. } => {
                self.stream_live = false;
                Some(reason)
            }
            StreamEvent::Bar {
                symbol,
                bar,
                corrected,
            } => {
                if self.backfilling {
                    // Keyed by start: a correction replaces the held bar.
                    self.held
                        .entry(symbol.clone())
                        .or_default()
                        .insert(bar.start, bar);
                } else if corrected && self.live.correct_bar(&symbol, bar) {
                    // Replaced in the session; the bar was published already.
                } else if self.live.accept_bar(&symbol, bar) {
                    self.bars.push((symbol.clone(), bar));
                }
                let at = bar.start + chrono::Duration::minutes(1);
                self.quote(symbol, bar.close, at);
                None
            }
            StreamEvent::Trade { symbol, price, at } => {
                self.quote(symbol, price, at);
                None
            }
        }
    }

    fn quote(&mut self, symbol: Symbol, price: f64, at: DateTime<Utc>) {
        let q = Quote { symbol, price, at };
        if self.live.set_quote(q.clone()) {
            self.quotes.insert(q.symbol.clone(), q);
        }
    }

    /// Merges a finished backfill with the bars held back meanwhile (the stream's, which
    /// are newer, win for the same start), or, when the stream reconnected during it,
    /// keeps holding and fetches again. A key or plan error ends the feed.
    pub fn on_backfill(&mut self, done: Backfill) -> Result<(), AlpacaError> {
        let fetched = match done.result {
            Ok(bars) => bars,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                tracing::warn!("the Alpaca backfill failed, minutes may be missing: {e}");
                BTreeMap::new()
            }
        };
        let mut by_symbol: BTreeMap<Symbol, BTreeMap<DateTime<Utc>, Bar>> = BTreeMap::new();
        for (symbol, list) in fetched {
            by_symbol
                .entry(symbol)
                .or_default()
                .extend(list.into_iter().map(|b| (b.start, b)));
        }
        if self.again {
            self.again = false;
            self.accept(by_symbol);
            self.start_backfill();
            return Ok(());
        }
        for (symbol, held) in std::mem::take(&mut self.held) {
            by_symbol.entry(symbol).or_default().extend(held);
        }
        self.backfilling = false;
        self.accept(by_symbol);
        Ok(())
    }

    fn accept(&mut self, by_symbol: BTreeMap<Symbol, BTreeMap<DateTime<Utc>, Bar>>) {
        for (symbol, bars) in by_symbol {
            for bar in bars.into_values() {
                if self.live.accept_bar(&symbol, bar) {
                    self.bars.push((symbol.clone(), bar));
                } else {
                    // Already published (a backfill that overlapped): keep the newest
                    // version in the session.
                    self.live.correct_bar(&symbol, bar);
                }
            }
        }
    }

    /// The prices and bars gathered since the last step, as one `Step` at `now`.
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

    pub fn stream_live(&self) -> bool {
        self.stream_live
    }

    /// No backfill in flight: every bar received so far is published or in the session.
    pub fn settled(&self) -> bool {
        !self.backfilling
    }

    /// At a new session (the date changed at `now`), reloads the history and returns the
    /// new session's snapshot.
    pub async fn roll(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Option<MarketSnapshot>, AlpacaError> {
        if session_at(now).is_none_or(|s| s.date == self.live.session.date) {
            return Ok(None);
        }
        self.live = load_session(&self.rest, &self.config, now).await?;
        Ok(Some(self.live.snapshot(now)))
    }

    /// Fetches every symbol from its newest bar to now in one paged call, in the
    /// background.
    fn start_backfill(&self) {
        let Some(done) = self.backfill_tx.clone() else {
            return;
        };
        let from: BTreeMap<Symbol, DateTime<Utc>> = self
            .live
            .symbols()
            .iter()
            .map(|s| (s.clone(), self.live.backfill_from(s)))
            .collect();
        let (clock, settle, rest) = (
            self.config.clock,
            self.config.backfill_settle,
            self.rest.clone(),
        );
        tokio::spawn(async move {
            let into_minute = Duration::from_millis(
                u64::try_from(clock.now().timestamp_millis().rem_euclid(60_000)).unwrap_or(0),
            );
            if into_minute < settle {
                tokio::time::sleep(settle - into_minute).await;
            }
            let now = clock.now();
            let earliest = from.values().min().copied();
            let result = match earliest {
                Some(start) if start <= now => {
                    let symbols: Vec<Symbol> = from.keys().cloned().collect();
                    rest.stock_bars(&symbols, Timeframe::Minute, start, now)
                        .await
                        .map(|mut bars| {
                            for (symbol, list) in bars.iter_mut() {
                                let first = from.get(symbol).copied().unwrap_or(start);
                                list.retain(|b| b.start >= first && is_final(b, now));
                            }
                            bars
                        })
                }
                _ => Ok(BTreeMap::new()),
            };
            let _ = done.send(Backfill { result }).await;
        });
    }
}

/// The symbols of a watchlist Alpaca can stream: indices are left out with a warning
/// naming the ETF to watch instead. `indices` is the configuration's index list.
pub fn streamable(symbols: &[Symbol], indices: &BTreeSet<Symbol>) -> Vec<Symbol> {
    symbols
        .iter()
        .filter(|s| match super::check_tradable(s, indices.contains(*s)) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        })
        .cloned()
        .collect()
}
