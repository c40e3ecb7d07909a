//! The GEX refresher worker (SPEC 7): recomputes each symbol's gamma-exposure profile from
//! its options chain every 5 minutes of market time (the simulation's chain, built around
//! the current price; over `[gex] max_symbols` quoted symbols only those of `[gex]`, the
//! watchlists' and the armed alerts'), serves the screen's requests for another expiry
//! filter or a forced refresh, and publishes the latest profiles on a `watch` board that
//! the detector and the screen read. Every refresh of a symbol's all-expirations profile
//! is kept (SPEC 20): stored in `gex_history` and published with the rest of the day's
//! points on the history board (the GEX pane's sparklines, the Chart's zero-gamma step
//! line); once a New York day the refresher prunes the history to 30 days.
//!
//! With `--provider alpaca` the chains are Alpaca's live ones (SPEC 19): each symbol's
//! contracts (open interest) joined with its option snapshots (IV), fetched at most once
//! per [`REFRESH_EVERY`] and re-priced at every later spot in between; a failed fetch is
//! shown in Health (the worker stops heartbeating until a round succeeds) and the last
//! chain of the same New York day stays in use.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Mutex, mpsc, watch};

use super::bus::MarketBus;
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::gex::cache::{GexCache, Refresh};
use crate::gex::history::{DailyPrune, GexPoint};
use crate::gex::straddle::atm_straddle;
use crate::gex::{Chain, ExpiryFilter, GexParams, GexProfile, compute_profile};
use crate::market::calendar;
use crate::provider::MarketEvent;
use crate::provider::alpaca::chain::expiry_horizon;
use crate::provider::alpaca::rest::RestClient;
use crate::provider::sim_chain::synthetic_chain;
use crate::store::Store;

/// The latest profile per (symbol, expiry filter).
pub type GexBoard = Arc<HashMap<(Symbol, ExpiryFilter), Arc<GexProfile>>>;

/// Each symbol's points of the current New York day, in time order.
pub type GexHistoryBoard = Arc<HashMap<Symbol, Arc<Vec<GexPoint>>>>;

/// How often profiles are recomputed, in market time.
pub const REFRESH_EVERY: Duration = Duration::minutes(5);

/// With Alpaca: the expirations fetched, up to this many calendar days ahead (as
/// `coach gex --symbol`'s default `--days`).
pub const ALPACA_CHAIN_DAYS: u32 = 45;

/// The screen asks for a symbol's profile under a filter; `force` bypasses the cache (`r`).
#[derive(Clone, Debug, PartialEq)]
pub struct GexRequest {
    pub symbol: Symbol,
    pub filter: ExpiryFilter,
    pub force: bool,
}

/// Both ends of the GEX worker's wiring, cheap to clone.
#[derive(Clone, Debug)]
pub struct GexChannels {
    pub board: watch::Sender<GexBoard>,
    /// Today's history per symbol (all expirations), one point per refresh.
    pub history: watch::Sender<GexHistoryBoard>,
    pub requests: mpsc::Sender<GexRequest>,
    incoming: Arc<Mutex<mpsc::Receiver<GexRequest>>>,
}

impl GexChannels {
    pub fn new() -> GexChannels {
        let (board, _) = watch::channel(GexBoard::default());
        let (history, _) = watch::channel(GexHistoryBoard::default());
        let (requests, incoming) = mpsc::channel(64);
        GexChannels {
            board,
            history,
            requests,
            incoming: Arc::new(Mutex::new(incoming)),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<GexBoard> {
        self.board.subscribe()
    }

    pub fn subscribe_history(&self) -> watch::Receiver<GexHistoryBoard> {
        self.history.subscribe()
    }

    /// The request queue's receiving end (one GEX worker at a time holds it).
    pub(super) fn incoming(&self) -> Arc<Mutex<mpsc::Receiver<GexRequest>>> {
        self.incoming.clone()
    }
}

impl Default for GexChannels {
    fn default() -> Self {
        GexChannels::new()
    }
}

/// Where chains come from: the simulation builds one around the last price.
#[derive(Clone, Copy, Debug)]
pub struct SimChains {
    pub seed: u64,
    pub params: GexParams,
}

/// Alpaca's live chains: `client` fetches each symbol's contracts expiring within `days`
/// calendar days.
#[derive(Clone, Debug)]
pub struct AlpacaChains {
    pub client: RestClient,
    pub days: u32,
    pub params: GexParams,
}

/// Where the refresher's chains come from.
#[derive(Clone, Debug)]
pub enum ChainSource {
    Sim(SimChains),
    Alpaca(Box<AlpacaChains>),
}

impl ChainSource {
    fn params(&self) -> GexParams {
        match self {
            ChainSource::Sim(s) => s.params,
            ChainSource::Alpaca(a) => a.params,
        }
    }
}

impl From<SimChains> for ChainSource {
    fn from(sim: SimChains) -> ChainSource {
        ChainSource::Sim(sim)
    }
}

struct Refresher {
    chains: ChainSource,
    /// Alpaca: each symbol's chain of the session, the last one fetched.
    listed: HashMap<Symbol, Chain>,
    /// The simulation lists each symbol's chain once at its first price of the day
    /// (strikes and open interest stay put while spot moves, as a real chain's do). Only
    /// that price and instant are kept: the chain is a pure function of them and the seed,
    /// built again when a profile is due (issue 25: holding 500 symbols' chains took
    /// 121 MB; building one takes about as long as the profile computed from it).
    sim_listed: HashMap<Symbol, (f64, DateTime<Utc>)>,
    /// The last simulated chain built and the listing it was built from (symbol, spot,
    /// instant), reused by the next profile of the same listing (the sweep's 0DTE profile
    /// follows its all-expirations one). Its spot and instant are the last profile's.
    sim_chain: Option<(SimListing, Chain)>,
    /// Alpaca: when each symbol's chain was last asked for (market clock), success or not.
    fetched: HashMap<Symbol, DateTime<Utc>>,
    /// Alpaca: the last round of fetches failed for at least one symbol (Health shows it).
    failing: bool,
    cache: GexCache,
    /// Last price and its instant per symbol (market clock).
    last: HashMap<Symbol, (f64, DateTime<Utc>)>,
    /// The symbols refreshed every [`REFRESH_EVERY`] (`[gex]`); `None`: every priced one.
    /// Any symbol's profile is still computed when the screen asks for it.
    scope: Option<HashSet<Symbol>>,
    last_sweep: Option<DateTime<Utc>>,
    /// Each symbol's points of one New York day (loaded from the store on first sight),
    /// the vector the history board hands out (one copy, not one per refresh).
    days: HashMap<Symbol, (NaiveDate, Arc<Vec<GexPoint>>)>,
    prune: DailyPrune,
}

impl Refresher {
    fn is_refreshed(&self, symbol: &Symbol) -> bool {
        self.scope.as_ref().is_none_or(|s| s.contains(symbol))
    }

    /// Computes (or takes from the cache) one profile. A chain with no usable contract is
    /// logged, not fatal: the other symbols still get theirs.
    fn profile(
        &mut self,
        symbol: &Symbol,
        filter: ExpiryFilter,
        refresh: Refresh,
    ) -> Option<Arc<GexProfile>> {
        let (spot, at) = *self.last.get(symbol)?;
        let params = self.chains.params();
        let day = calendar::ny_date(at);
        let listing = match &self.chains {
            ChainSource::Sim(sim) => {
                let (listed_spot, listed_at) = *self
                    .sim_listed
                    .entry(symbol.clone())
                    .and_modify(|first| {
                        if calendar::ny_date(first.1) != day {
                            *first = (spot, at);
                        }
                    })
                    .or_insert((spot, at));
                Listing::Sim(
                    SimListing {
                        symbol: symbol.clone(),
                        spot: listed_spot,
                        at: listed_at,
                    },
                    sim.seed,
                )
            }
            // A live chain serves its own New York day only (open interest is daily).
            ChainSource::Alpaca(_) => Listing::Held(
                self.listed
                    .get(symbol)
                    .filter(|c| calendar::ny_date(c.as_of) == day)?,
            ),
        };
        let sim_chain = &mut self.sim_chain;
        let result = self.cache.get_or_compute(symbol, filter, at, refresh, || {
            let (mut now, built) = match listing {
                Listing::Held(chain) => (chain.clone(), None),
                Listing::Sim(listing, seed) => {
                    let chain = match sim_chain.take() {
                        Some((key, chain)) if key == listing => chain,
                        _ => synthetic_chain(&listing.symbol, listing.spot, listing.at, seed),
                    };
                    (chain, Some(listing))
                }
            };
            now.spot = spot;
            now.as_of = at;
            let profile = compute_profile(&now, &params, filter).map(|mut profile| {
                profile.atm_straddle = atm_straddle(&now, &params);
                profile
            });
            if let Some(listing) = built {
                *sim_chain = Some((listing, now));
            }
            profile
        });
        match result {
            Ok(profile) => Some(profile),
            Err(e) => {
                tracing::warn!("GEX {symbol} ({filter}): {e}");
                None
            }
        }
    }

    /// Alpaca: fetches the chain of every refreshed symbol not asked for within the last
    /// [`REFRESH_EVERY`]; returns the symbols whose chain was renewed. A failed fetch keeps
    /// the symbol's earlier chain and is reported in Health (`ctx`), keys never included.
    async fn fetch_due(&mut self, now: DateTime<Utc>, ctx: &WorkerCtx) -> HashSet<Symbol> {
        let mut renewed = HashSet::new();
        let ChainSource::Alpaca(alpaca) = &self.chains else {
            return renewed;
        };
        let due: Vec<(Symbol, f64)> = self
            .last
            .iter()
            .filter(|(s, _)| {
                self.is_refreshed(s)
                    && (self.fetched.get(*s)).is_none_or(|t| now - *t >= REFRESH_EVERY || now < *t)
            })
            .map(|(s, (spot, _))| (s.clone(), *spot))
            .collect();
        if due.is_empty() {
            return renewed;
        }
        let today = calendar::ny_date(now);
        let horizon = expiry_horizon(today, alpaca.days);
        let mut errors = Vec::new();
        for (symbol, spot) in due {
            self.fetched.insert(symbol.clone(), now);
            match alpaca
                .client
                .options_chain(&symbol, spot, now, today, horizon)
                .await
            {
                Ok((chain, counts)) if counts.joined > 0 => {
                    tracing::info!(
                        "GEX {symbol}: Alpaca chain of {} contracts with open interest and IV ({} without IV, {} unreadable)",
                        counts.joined,
                        counts.without_iv,
                        counts.unreadable
                    );
                    self.listed.insert(symbol.clone(), chain);
                    renewed.insert(symbol);
                }
                Ok((_, counts)) => errors.push(format!(
                    "Alpaca gave no {symbol} option with both open interest and implied volatility expiring by {horizon} ({} without IV, {} unreadable)",
                    counts.without_iv, counts.unreadable
                )),
                Err(e) => errors.push(format!("the {symbol} options chain: {e}")),
            }
        }
        self.failing = !errors.is_empty();
        if self.failing {
            let message = errors.join("; ");
            tracing::warn!("GEX: {message}");
            ctx.cycle_failed(&message);
        }
        renewed
    }

    /// The chains due (Alpaca), then the sweep.
    async fn refresh(
        &mut self,
        now: DateTime<Utc>,
        ctx: &WorkerCtx,
        board: &watch::Sender<GexBoard>,
    ) -> Vec<Arc<GexProfile>> {
        if self.last_sweep.is_some_and(|t| now - t < REFRESH_EVERY) {
            return Vec::new();
        }
        let renewed = self.fetch_due(now, ctx).await;
        self.sweep(now, &renewed, board)
    }

    /// Every refreshed symbol's all-expirations profile, when 5 market minutes have passed (a
    /// symbol in `renewed` has a new chain: its cached profile is not reused); returns
    /// them (for the history).
    fn sweep(
        &mut self,
        now: DateTime<Utc>,
        renewed: &HashSet<Symbol>,
        board: &watch::Sender<GexBoard>,
    ) -> Vec<Arc<GexProfile>> {
        if self.last_sweep.is_some_and(|t| now - t < REFRESH_EVERY) {
            return Vec::new();
        }
        self.last_sweep = Some(now);
        self.cache.evict_stale(now);
        let symbols: Vec<Symbol> = (self.last.keys())
            .filter(|s| self.is_refreshed(s))
            .cloned()
            .collect();
        let mut fresh = Vec::new();
        let mut kept = Vec::new();
        for (i, symbol) in symbols.iter().enumerate() {
            // Published a part at a time, so the board lets go of the last sweep's
            // profiles as the new ones come (issue 25: 8,000 symbols' two generations
            // were 138 MB at the sweep's peak, one is half of it).
            if i % PUBLISH_EVERY_SYMBOLS == 0 && !fresh.is_empty() {
                kept.extend(all_expirations(&fresh));
                publish(board, fresh.drain(..));
            }
            let refresh = if renewed.contains(symbol) {
                Refresh::Force
            } else {
                Refresh::IfStale
            };
            let Some(all) = self.profile(symbol, ExpiryFilter::All, refresh) else {
                continue;
            };
            // 0DTE beside all expirations (SPEC 20), when today's expiry carries gamma.
            if all.zero_dte_share > 0.0
                && let Some(today) = self.profile(symbol, ExpiryFilter::ZeroDte, refresh)
            {
                fresh.push((ExpiryFilter::ZeroDte, today));
            }
            fresh.push((ExpiryFilter::All, all));
        }
        kept.extend(all_expirations(&fresh));
        publish(board, fresh.into_iter());
        kept
    }

    /// Keeps each profile's point: stored (once per instant), added to its symbol's day
    /// and published. The first point of a symbol on a day loads the day's earlier points
    /// from the store (a restart keeps the morning). A database that is away costs the
    /// stored row, never the refresh: it is logged and the point is still shown.
    async fn keep(
        &mut self,
        store: Option<&Store>,
        profiles: Vec<Arc<GexProfile>>,
        history: &watch::Sender<GexHistoryBoard>,
    ) {
        if profiles.is_empty() {
            return;
        }
        let mut changed = Vec::new();
        for profile in profiles {
            let point = GexPoint::of(&profile);
            let day = calendar::ny_date(point.at);
            let symbol = &profile.symbol;
            if self.days.get(symbol).is_none_or(|(d, _)| *d != day) {
                let earlier = match store {
                    Some(store) => store.gex_history(symbol, day).await.unwrap_or_else(|e| {
                        tracing::warn!("reading the GEX history of {symbol}: {e}");
                        Vec::new()
                    }),
                    None => Vec::new(),
                };
                self.days.insert(symbol.clone(), (day, Arc::new(earlier)));
            }
            let Some((_, points)) = self.days.get_mut(symbol) else {
                continue;
            };
            if points.last().is_some_and(|p| p.at >= point.at) {
                continue; // the cache's profile again, or an older one
            }
            if let Some(store) = store
                && let Err(e) = store.record_gex(symbol, &point).await
            {
                tracing::warn!("storing the GEX history of {symbol}: {e}");
            }
            changed.push((symbol.clone(), point));
        }
        if !changed.is_empty() {
            let days = &mut self.days;
            history.send_modify(|h| {
                let map = Arc::make_mut(h);
                for (symbol, point) in changed {
                    // The board lets go of its reference first, so the point is added in
                    // place unless a screen still holds the day (issue 25: a copy of
                    // every symbol's day per refresh grew 8,000 symbols by 0.2 MB a
                    // market minute).
                    map.remove(&symbol);
                    if let Some((_, points)) = days.get_mut(&symbol) {
                        Arc::make_mut(points).push(point);
                        map.insert(symbol, points.clone());
                    }
                }
            });
        }
    }

    /// Once a New York day: the history older than 30 days goes.
    async fn prune(&mut self, store: Option<&Store>, now: DateTime<Utc>) {
        let Some(store) = store else { return };
        let Some(before) = self.prune.due(calendar::ny_date(now)) else {
            return;
        };
        match store.prune_gex_history(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("pruned {n} GEX history points dated before {before}"),
            Err(e) => {
                tracing::warn!("pruning the GEX history: {e}");
                self.prune.retry();
            }
        }
    }
}

/// Where a profile's contracts come from: a chain held (Alpaca's), or the simulation's
/// listing, built on demand with the seed.
enum Listing<'a> {
    Held(&'a Chain),
    Sim(SimListing, u64),
}

/// The simulation lists a symbol's chain at its first price of the day: spot (price units)
/// and instant.
#[derive(Clone, Debug, PartialEq)]
struct SimListing {
    symbol: Symbol,
    spot: f64,
    at: DateTime<Utc>,
}

/// Symbols whose new profiles a sweep publishes at once.
const PUBLISH_EVERY_SYMBOLS: usize = 500;

/// The all-expirations profiles among `fresh` (those the history keeps).
fn all_expirations(
    fresh: &[(ExpiryFilter, Arc<GexProfile>)],
) -> impl Iterator<Item = Arc<GexProfile>> + '_ {
    (fresh.iter())
        .filter(|(f, _)| *f == ExpiryFilter::All)
        .map(|(_, p)| p.clone())
}

fn publish(
    board: &watch::Sender<GexBoard>,
    profiles: impl Iterator<Item = (ExpiryFilter, Arc<GexProfile>)>,
) {
    board.send_modify(|b| {
        let map = Arc::make_mut(b);
        for (filter, profile) in profiles {
            map.insert((profile.symbol.clone(), filter), profile);
        }
    });
}

/// `scope`: the symbols refreshed every [`REFRESH_EVERY`] (`None`: every priced one; see
/// `GexConfig::scope`).
pub async fn run_gex(
    ctx: WorkerCtx,
    bus: MarketBus,
    chains: ChainSource,
    channels: GexChannels,
    store: Option<Store>,
    scope: Option<HashSet<Symbol>>,
) -> Result<(), String> {
    let store = store.as_ref();
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot_or_end(&ctx).await? else {
        return Ok(());
    };
    let mut refresher = Refresher {
        chains,
        listed: HashMap::new(),
        sim_listed: HashMap::new(),
        sim_chain: None,
        fetched: HashMap::new(),
        failing: false,
        cache: GexCache::new(),
        last: HashMap::new(),
        scope,
        last_sweep: None,
        days: HashMap::new(),
        prune: DailyPrune::default(),
    };
    let mut incoming = channels.incoming.lock().await;
    let seed_prices = |refresher: &mut Refresher, snapshot: &crate::provider::MarketSnapshot| {
        for s in &snapshot.symbols {
            if let Some(q) = &s.last {
                refresher
                    .last
                    .insert(s.symbol.clone(), (q.price, snapshot.now));
            }
        }
    };
    seed_prices(&mut refresher, &snapshot);
    let fresh = refresher.refresh(snapshot.now, &ctx, &channels.board).await;
    refresher.keep(store, fresh, &channels.history).await;
    refresher.prune(store, snapshot.now).await;
    // Not held for the worker's life (issue 25: every symbol's two days of bars).
    drop(snapshot);
    if !refresher.failing {
        ctx.heartbeat();
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(MarketEvent::Step { at, quotes, .. }) => {
                    for q in quotes {
                        refresher.last.insert(q.symbol, (q.price, at));
                    }
                    let fresh = refresher.refresh(at, &ctx, &channels.board).await;
                    refresher.keep(store, fresh, &channels.history).await;
                    refresher.prune(store, at).await;
                }
                Ok(MarketEvent::Snapshot(snapshot)) => {
                    seed_prices(&mut refresher, &snapshot);
                    refresher.last_sweep = None;
                    let fresh = refresher.refresh(snapshot.now, &ctx, &channels.board).await;
                    refresher.keep(store, fresh, &channels.history).await;
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
            Some(request) = incoming.recv() => {
                let refresh = if request.force { Refresh::Force } else { Refresh::IfStale };
                match refresher.profile(&request.symbol, request.filter, refresh) {
                    Some(profile) => {
                        publish(&channels.board, std::iter::once((request.filter, profile.clone())));
                        if request.filter == ExpiryFilter::All {
                            refresher.keep(store, vec![profile], &channels.history).await;
                        }
                    }
                    None => tracing::warn!("no GEX profile for {} ({})", request.symbol, request.filter),
                }
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        if !refresher.failing {
            ctx.heartbeat();
        }
    }
}
