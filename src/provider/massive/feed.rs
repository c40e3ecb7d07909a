//! The Massive feed: streams `AM`/`A`/`V` events while it loads the session's history over
//! REST (`super::history`), and turns both into the same `MarketEvent`s as the simulated
//! feed: `Snapshot`s (while the history loads, every few seconds with the symbols loaded
//! so far; at each session roll), then `Step`s with new last prices and the minute bars
//! that became final. Snapshot requests are answered from the in-memory session. The
//! worker that runs it and publishes on the bus is `runtime::massive_feed`.
//!
//! Exactness: the streams connect first. A symbol's stream bars and prices are published
//! at once, also while its history loads (the session holds them, and serves the symbol
//! with `history_loading` in snapshots: consumers run on live bars only meanwhile); its
//! history request asks up to its own now, so history and streamed bars together cover
//! every minute, merged by start through [`LiveSession::add_history`], and the next
//! snapshot has the symbol with both, each minute once, in order (consumers rebuild from
//! it). When the request may have missed the minute that ended just before the stream
//! went live ([`history_meets_stream`]), that gap is fetched over REST without holding the
//! stream: the minutes it fills go out with a further snapshot
//! ([`LiveSession::merge_bars`]). After a reconnection, and after the parser dropped frames,
//! the symbols that can have missed a minute ([`may_have_missed`]) are backfilled over
//! REST, one request per symbol, several at a time (within [`RequestLimits`]); only a
//! symbol whose own backfill is in flight has its stream bars held back, and its stream
//! flows again when its answer is merged. So each minute bar is published exactly once
//! and in order per symbol, whatever the disconnects, and no symbol waits for another.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::history::{Loaded, history_stream, is_final, load_session, session_of};
use super::limits::RequestLimits;
use super::rest::{AggBound, RestClient, RetryPolicy};
use super::wire::{AggKind, StreamMessage};
use super::ws::{Cluster, StreamConfig, StreamEvent, StreamStats, spawn_stream};
use super::{MassiveConfig, MassiveError, massive_ticker, symbol_of_ticker};
use crate::domain::{Bar, Symbol};
use crate::market::calendar::{self, Session};
use crate::provider::live_session::LiveSession;
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
    /// While the history loads, the symbols loaded so far are published (a new snapshot)
    /// at most this often; the last ones as soon as every symbol is in. Each snapshot
    /// re-primes the consumers (the detector replays every symbol's bars), hence not more.
    pub announce_every: Duration,
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
            announce_every: Duration::from_secs(5),
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

/// The missed minutes of one symbol, fetched over REST.
pub struct Backfill {
    symbol: Symbol,
    result: Result<Vec<Bar>, MassiveError>,
    /// The gap between a symbol's history and its stream at start (its stream was not
    /// held), not a reconnect's backfill.
    gap: bool,
}

/// A symbol whose backfill is in flight: its stream bars wait here until the REST answer
/// is merged with them.
#[derive(Default)]
struct Filling {
    held: Vec<Bar>,
    /// Its stream reconnected while the request ran: fetch again from what we have.
    again: bool,
}

/// Per cluster: whether its stream is up, and since when without a gap.
#[derive(Default)]
struct ClusterState {
    /// Authenticated and subscribed now.
    live: bool,
    /// The feed clock's now when the stream last went live or last dropped frames: it
    /// has delivered every minute that ended after this. `None` while down.
    whole_since: Option<DateTime<Utc>>,
}

/// The Massive feed between two publications: the session so far, each stream's state,
/// and the prices and final bars not yet published. The feed worker
/// (`runtime::massive_feed`) drives it: it hands in stream events, histories and
/// backfills, and publishes what comes out as soon as the events that were ready are in.
pub struct MassiveFeed {
    config: MassiveFeedConfig,
    rest: RestClient,
    live: LiveSession,
    clusters: BTreeMap<Cluster, ClusterState>,
    quotes: BTreeMap<Symbol, Quote>,
    bars: Vec<(Symbol, Bar)>,
    /// Symbols whose history is not in yet (their stream bars and prices are published
    /// and held by the session as they come).
    loading: HashSet<Symbol>,
    /// Symbols with a backfill in flight (their stream bars held back).
    filling: BTreeMap<Symbol, Filling>,
    /// Symbols whose history is in (or whose gap was filled) since the last published
    /// snapshot: the next snapshot is due for them (their bars and prices stream at once
    /// meanwhile; the snapshot brings the history and the filled minutes).
    unannounced: HashSet<Symbol>,
    /// Whether a snapshot of this session has been published.
    announced_once: bool,
    /// Where backfills report; set by [`MassiveFeed::start_streams`].
    backfill_tx: Option<mpsc::Sender<Backfill>>,
    /// Whether the streams' first connection is settled: every stream live, or one down.
    /// The history load waits for it (at most [`STREAMS_WAIT`]) so that its answers meet
    /// the live streams without a backfill, and a stream that cannot connect does not
    /// hold the load back.
    streams_settled: watch::Sender<bool>,
}

/// How long the history load waits for the streams' first connection before it starts
/// anyway (a symbol loaded before they are live is backfilled once they are).
const STREAMS_WAIT: Duration = Duration::from_secs(10);

/// What the streams, the history load and the backfills send to the feed worker.
pub struct FeedInputs {
    /// Every cluster's stream events, in arrival order.
    pub events: mpsc::Receiver<(Cluster, StreamEvent)>,
    /// A stream that stopped for good, with why.
    pub ended: mpsc::Receiver<(Cluster, Result<(), MassiveError>)>,
    /// Each symbol's history as it arrives, for [`MassiveFeed::on_history`]; an error
    /// ends the load (closed when every symbol is in, or when nothing was to load).
    pub histories: mpsc::Receiver<Result<Loaded, MassiveError>>,
    /// Missed minutes fetched over REST, for [`MassiveFeed::on_backfill`].
    pub backfilled: mpsc::Receiver<Backfill>,
}

impl MassiveFeed {
    /// A feed whose history is still to load: [`MassiveFeed::start_streams`] connects the
    /// streams and starts the load, each symbol joining as its history arrives.
    pub fn loading(config: &MassiveFeedConfig) -> Result<MassiveFeed, MassiveError> {
        let session = session_of(config.clock.now())?;
        let live =
            LiveSession::loading(session, config.massive.is_delayed(), config.symbols.clone());
        let loading = config.symbols.iter().cloned().collect();
        MassiveFeed::with(config, live, loading)
    }

    /// Loads the whole session's history over REST before returning, as of the feed
    /// clock's now; the streams connect afterwards. `loaded` hears how many symbols'
    /// history is in, of how many.
    pub async fn load(
        config: &MassiveFeedConfig,
        loaded: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<MassiveFeed, MassiveError> {
        let mut feed = MassiveFeed::loading(config)?;
        feed.live = load_session(&feed.rest, config, config.clock.now(), loaded).await?;
        feed.loading.clear();
        feed.announced_once = true;
        Ok(feed)
    }

    fn with(
        config: &MassiveFeedConfig,
        live: LiveSession,
        loading: HashSet<Symbol>,
    ) -> Result<MassiveFeed, MassiveError> {
        let rest = RestClient::new(&config.massive)?
            .with_retry(config.retry)
            .with_limits(config.limits);
        Ok(MassiveFeed {
            config: config.clone(),
            rest,
            live,
            clusters: BTreeMap::new(),
            quotes: BTreeMap::new(),
            bars: Vec::new(),
            loading,
            filling: BTreeMap::new(),
            unannounced: HashSet::new(),
            announced_once: false,
            backfill_tx: None,
            streams_settled: watch::Sender::new(false),
        })
    }

    /// The feed clock's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// Everything known at `now` (the symbols whose history is in).
    pub fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        self.live.snapshot(now)
    }

    /// Connects one stream per cluster that has symbols, and starts loading the history
    /// of the symbols still without one; they stop when `cancel` fires.
    pub fn start_streams(&mut self, cancel: &CancellationToken) -> FeedInputs {
        let (events_tx, events) = mpsc::channel::<(Cluster, StreamEvent)>(1024);
        let (ended_tx, ended) = mpsc::channel::<(Cluster, Result<(), MassiveError>)>(4);
        let (backfill_tx, backfilled) = mpsc::channel::<Backfill>(256);
        let (history_tx, histories) = mpsc::channel::<Result<Loaded, MassiveError>>(256);
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
        if !self.loading.is_empty() {
            let mut config = self.config.clone();
            config.symbols.retain(|s| self.loading.contains(s));
            start_history(
                self.rest.clone(),
                config,
                self.live.session,
                self.streams_settled.subscribe(),
                history_tx,
                cancel.clone(),
            );
        }
        FeedInputs {
            events,
            ended,
            histories,
            backfilled,
        }
    }

    /// Takes one stream event in. A (re)connection, or frames the parser dropped, start a
    /// backfill of the symbols that can have missed a minute; a disconnect returns its
    /// reason, for Health.
    pub fn on_stream_event(&mut self, cluster: Cluster, event: StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Live { .. } | StreamEvent::Overflow { .. } => {
                let now = self.now();
                if let Some(state) = self.clusters.get_mut(&cluster) {
                    state.live = true;
                    state.whole_since = Some(now);
                    let mut work = Vec::new();
                    for symbol in self.live.symbols() {
                        // a symbol still loading is judged when its history arrives
                        if self.config.cluster_of(symbol) != cluster
                            || !self.live.has_history(symbol)
                        {
                            continue;
                        }
                        match self.filling.get_mut(symbol) {
                            Some(filling) => filling.again = true,
                            None => {
                                let newest = self.live.last_bar_start(symbol);
                                if may_have_missed(newest, now, &self.live.session) {
                                    self.filling.insert(symbol.clone(), Filling::default());
                                    work.push((symbol.clone(), self.live.backfill_from(symbol)));
                                }
                            }
                        }
                    }
                    self.start_backfill(work, false);
                }
                if self.all_streams_live() {
                    self.streams_settled.send_replace(true);
                }
                None
            }
            StreamEvent::Down { reason, .. } => {
                if let Some(state) = self.clusters.get_mut(&cluster) {
                    state.live = false;
                    state.whole_since = None;
                }
                self.streams_settled.send_replace(true);
                Some(reason)
            }
            StreamEvent::Message(message) => {
                self.on_message(message);
                None
            }
        }
    }

    /// Takes one symbol's history in: merged with the bars it streamed meanwhile, it
    /// goes out with the next snapshot; when history and stream can leave a minute
    /// between them, that gap is fetched from the history's newest bar on (the stream
    /// keeps flowing; the filled minutes go out with a further snapshot).
    pub fn on_history(&mut self, loaded: Loaded) {
        let Loaded {
            symbol,
            history,
            asked_at,
        } = loaded;
        if !self.loading.remove(&symbol) {
            return;
        }
        // Start of the history's newest bar, today's or the previous session's.
        let newest = history.newest_bar().map(|b| b.start);
        self.live.add_history(symbol.clone(), history);
        self.unannounced.insert(symbol.clone());
        let whole_since = self
            .clusters
            .get(&self.config.cluster_of(&symbol))
            .and_then(|c| c.whole_since);
        let met = whole_since.is_some_and(|since| {
            history_meets_stream(newest, asked_at, since, self.config.backfill_settle)
        });
        if !met {
            let from = newest.map_or_else(
                || self.live.session.pre_market_open(),
                |t| t + chrono::Duration::minutes(1),
            );
            self.start_backfill(vec![(symbol, from)], true);
        }
    }

    /// Merges one symbol's finished backfill with its bars held back meanwhile, and lets
    /// its stream flow again; or, when the stream reconnected during the request, takes
    /// the REST bars, keeps holding and fetches again. A key or plan error ends the feed.
    /// The gap between a symbol's history and its stream ([`Backfill::gap`]) is merged by
    /// minute start: the minutes it fills go out with the next snapshot.
    pub fn on_backfill(&mut self, done: Backfill) -> Result<(), MassiveError> {
        let Backfill {
            symbol,
            result,
            gap,
        } = done;
        let rest_bars = match result {
            Ok(bars) => bars,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                tracing::warn!("backfill of {symbol} failed, minutes may be missing: {e}");
                Vec::new()
            }
        };
        if gap {
            let (new, filled) = self.live.merge_bars(&symbol, rest_bars);
            self.bars
                .extend(new.into_iter().map(|bar| (symbol.clone(), bar)));
            if filled {
                self.unannounced.insert(symbol);
            }
            return Ok(());
        }
        let Some(filling) = self.filling.get_mut(&symbol) else {
            return Ok(());
        };
        if filling.again {
            filling.again = false;
            self.accept_bars(&symbol, rest_bars);
            let from = self.live.backfill_from(&symbol);
            self.start_backfill(vec![(symbol, from)], false);
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

    /// How many symbols' history is not in yet (detected on their live bars only).
    pub fn symbols_loading(&self) -> usize {
        self.loading.len()
    }

    /// How many symbols the published snapshots have had with their history.
    pub fn symbols_announced(&self) -> usize {
        self.config.symbols.len() - self.loading.len() - self.unannounced.len()
    }

    /// Whether the next snapshot is due, `since_last` after the last one: as soon as the
    /// whole history is in, else every [`MassiveFeedConfig::announce_every`] while new
    /// symbols have loaded.
    pub fn announcement_due(&self, since_last: Duration) -> bool {
        let news = !self.unannounced.is_empty();
        if self.loading.is_empty() {
            news || !self.announced_once
        } else {
            news && since_last >= self.config.announce_every
        }
    }

    /// The snapshot that announces the symbols loaded since the last one (it has every
    /// symbol with its bars so far: history and streamed bars, or streamed bars only
    /// with `history_loading` while its history loads). Publish the pending step
    /// ([`MassiveFeed::take_step`]) before it.
    pub fn announce(&mut self, now: DateTime<Utc>) -> MarketSnapshot {
        self.unannounced.clear();
        self.announced_once = true;
        self.live.snapshot(now)
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
        self.loading.clear();
        self.unannounced.clear();
        Ok(Some(self.live.snapshot(now)))
    }

    fn on_message(&mut self, message: StreamMessage) {
        match message {
            StreamMessage::Agg(agg) => {
                let Some(symbol) = symbol_of_ticker(&agg.ticker) else {
                    return;
                };
                self.start_live(&symbol);
                if agg.kind == AggKind::Minute {
                    let bar = agg.bar();
                    if let Some(filling) = self.filling.get_mut(&symbol) {
                        filling.held.push(bar);
                    } else {
                        self.accept_bars(&symbol, vec![bar]);
                    }
                }
                self.quote(symbol, agg.close, agg.end);
            }
            StreamMessage::Value { ticker, value, at } => {
                if let Some(symbol) = symbol_of_ticker(&ticker) {
                    self.start_live(&symbol);
                    self.quote(symbol, value, at);
                }
            }
            StreamMessage::Status { .. } => {}
        }
    }

    /// A symbol whose history still loads is held live only from its first streamed
    /// event on, so its bars and prices are kept and published at once.
    fn start_live(&mut self, symbol: &Symbol) {
        if self.loading.contains(symbol) {
            self.live
                .start_live(symbol, self.config.indices.contains(symbol));
        }
    }

    /// A last price: kept by the session, and published.
    fn quote(&mut self, symbol: Symbol, price: f64, at: DateTime<Utc>) {
        let q = Quote { symbol, price, at };
        if self.live.set_quote(q.clone()) {
            self.quotes.insert(q.symbol.clone(), q);
        }
    }

    /// Accepts a symbol's bars into the session; those that were new are published.
    fn accept_bars(&mut self, symbol: &Symbol, list: Vec<Bar>) {
        let new = self.live.accept_bars(symbol, list);
        self.bars
            .extend(new.into_iter().map(|bar| (symbol.clone(), bar)));
    }

    /// Fetches each symbol's minutes from its instant on; `gap`: the gaps between
    /// histories and streams at start (see [`Backfill::gap`]).
    fn start_backfill(&self, work: Vec<(Symbol, DateTime<Utc>)>, gap: bool) {
        if let Some(done) = &self.backfill_tx
            && !work.is_empty()
        {
            start_backfill(
                &self.rest,
                &self.config,
                &self.live,
                work,
                gap,
                done.clone(),
            );
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

/// The start of the minute `t` is in.
fn minute_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp().div_euclid(60) * 60, 0).unwrap_or(t)
}

/// Whether a symbol's history, asked for at `asked_at` and whose newest bar starts at
/// `newest`, and its stream bars held since `whole_since` (the stream delivered every
/// minute that ended after it) leave no minute out. The stream may have missed the
/// minutes ended by `whole_since`'s minute; REST has them when the request came `settle`
/// after that minute ended (REST may lag the stream by seconds), or when the answer has
/// that minute already.
pub fn history_meets_stream(
    newest: Option<DateTime<Utc>>,
    asked_at: DateTime<Utc>,
    whole_since: DateTime<Utc>,
    settle: Duration,
) -> bool {
    let boundary = minute_floor(whole_since);
    let settle = chrono::Duration::from_std(settle).unwrap_or(chrono::Duration::MAX);
    asked_at >= boundary + settle
        || newest.is_some_and(|t| t + chrono::Duration::minutes(1) >= boundary)
}

/// Whether a stream that went live again at `now` can have missed a minute of a symbol
/// whose newest accepted bar starts at `newest`: unless that bar is the last minute of
/// `session` that ended by `now` (nothing has ended since).
pub fn may_have_missed(
    newest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    session: &Session,
) -> bool {
    let last_end = minute_floor(now).min(session.after_hours_close());
    last_end > session.pre_market_open()
        && newest.is_none_or(|t| t + chrono::Duration::minutes(1) < last_end)
}

/// Loads `config.symbols`' history of `session` in the background, sending each symbol's
/// as it arrives; stops at the first error (sent) or when `cancel` fires. The minute-bar
/// requests wait until the streams' first connection is settled (`streams_settled`), at
/// most [`STREAMS_WAIT`]: an answer asked for once they are live needs no backfill to
/// meet them.
fn start_history(
    rest: RestClient,
    config: MassiveFeedConfig,
    session: Session,
    mut streams_settled: watch::Receiver<bool>,
    done: mpsc::Sender<Result<Loaded, MassiveError>>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        let load = async {
            let stream = match history_stream(&rest, &config, session).await {
                Ok(stream) => stream,
                Err(e) => {
                    let _ = done.send(Err(e)).await;
                    return;
                }
            };
            let settled = streams_settled.wait_for(|settled| *settled);
            if tokio::time::timeout(STREAMS_WAIT, settled).await.is_err() {
                tracing::warn!(
                    "the Massive streams are not connected after {} s; loading the history anyway",
                    STREAMS_WAIT.as_secs()
                );
            }
            let mut stream = std::pin::pin!(stream);
            while let Some(one) = stream.next().await {
                let failed = one.is_err();
                if done.send(one).await.is_err() || failed {
                    return;
                }
            }
        };
        tokio::select! {
            () = load => {}
            () = cancel.cancelled() => {}
        }
    });
}

/// Fetches each symbol of `work` from its instant (a minute start) to now, in the
/// background, as many at a time as the limits allow; each symbol reports as soon as its
/// own answer is in.
fn start_backfill(
    rest: &RestClient,
    config: &MassiveFeedConfig,
    live: &LiveSession,
    work: Vec<(Symbol, DateTime<Utc>)>,
    gap: bool,
    done: mpsc::Sender<Backfill>,
) {
    let clock = config.clock;
    let settle = config.backfill_settle;
    let concurrency = config.limits.max_concurrent.max(1);
    let work: Vec<(Symbol, bool, DateTime<Utc>)> = work
        .into_iter()
        .map(|(s, from)| {
            let is_index = live.is_index(&s);
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
                    let _ = done
                        .send(Backfill {
                            symbol,
                            result,
                            gap,
                        })
                        .await;
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

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_history_asked_once_the_stream_was_whole_meets_it_unless_rest_may_lag_that_minute() {
        let live = at("2026-11-24T15:00:02.5Z");
        let newest_1459 = Some(at("2026-11-24T14:59:00Z"));
        let newest_1458 = Some(at("2026-11-24T14:58:00Z"));
        let asked = at("2026-11-24T15:00:03Z");
        // REST answers at once (no settle): asked after the minute that ended at 15:00.
        assert!(history_meets_stream(
            newest_1458,
            asked,
            live,
            Duration::ZERO
        ));
        // Asked before the stream was whole, in the previous minute: 14:59 may be missing.
        let early = at("2026-11-24T14:59:58Z");
        assert!(!history_meets_stream(
            newest_1458,
            early,
            live,
            Duration::ZERO
        ));
        // REST may lag 10 s: 3 s after 15:00 the answer may lack 14:59, unless it has it.
        let settle = Duration::from_secs(10);
        assert!(!history_meets_stream(newest_1458, asked, live, settle));
        assert!(history_meets_stream(newest_1459, asked, live, settle));
        assert!(history_meets_stream(
            None,
            at("2026-11-24T15:00:10Z"),
            live,
            settle
        ));
        assert!(
            !history_meets_stream(None, asked, live, settle),
            "no bar at all, asked within the settle"
        );
    }

    #[test]
    fn a_reconnect_misses_nothing_when_the_newest_bar_is_the_last_minute_ended() {
        let session =
            calendar::session(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let now = at("2026-11-24T15:00:40Z");
        assert!(!may_have_missed(
            Some(at("2026-11-24T14:59:00Z")),
            now,
            &session
        ));
        assert!(may_have_missed(
            Some(at("2026-11-24T14:58:00Z")),
            now,
            &session
        ));
        assert!(may_have_missed(None, now, &session), "no bar yet today");
        // Before the pre-market nothing of today can be missed, after the close nothing more.
        let night = session.pre_market_open() - chrono::Duration::minutes(30);
        assert!(!may_have_missed(None, night, &session));
        let last = session.after_hours_close() - chrono::Duration::minutes(1);
        let late = session.after_hours_close() + chrono::Duration::hours(2);
        assert!(!may_have_missed(Some(last), late, &session));
        assert!(may_have_missed(
            Some(last - chrono::Duration::minutes(1)),
            late,
            &session
        ));
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
