//! The GEX refresher worker (SPEC 7): recomputes each symbol's gamma-exposure profile from
//! its options chain every 5 minutes of market time (the simulation's chain, built around
//! the current price), serves the screen's requests for another expiry filter or a forced
//! refresh, and publishes the latest profiles on a `watch` board that the detector and the
//! screen read.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Mutex, mpsc, watch};

use super::bus::MarketBus;
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::gex::cache::{GexCache, Refresh};
use crate::gex::straddle::atm_straddle;
use crate::gex::{Chain, ExpiryFilter, GexParams, GexProfile, compute_profile};
use crate::market::calendar;
use crate::provider::MarketEvent;
use crate::provider::sim_chain::synthetic_chain;

/// The latest profile per (symbol, expiry filter).
pub type GexBoard = Arc<HashMap<(Symbol, ExpiryFilter), Arc<GexProfile>>>;

/// How often profiles are recomputed, in market time.
pub const REFRESH_EVERY: Duration = Duration::minutes(5);

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
    pub requests: mpsc::Sender<GexRequest>,
    incoming: Arc<Mutex<mpsc::Receiver<GexRequest>>>,
}

impl GexChannels {
    pub fn new() -> GexChannels {
        let (board, _) = watch::channel(GexBoard::default());
        let (requests, incoming) = mpsc::channel(64);
        GexChannels {
            board,
            requests,
            incoming: Arc::new(Mutex::new(incoming)),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<GexBoard> {
        self.board.subscribe()
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

struct Refresher {
    chains: SimChains,
    /// Each symbol's chain of the session, listed once at its first price of the day:
    /// strikes and open interest stay put while spot moves, as a real chain's do.
    listed: HashMap<Symbol, Chain>,
    cache: GexCache,
    /// Last price and its instant per symbol (market clock).
    last: HashMap<Symbol, (f64, DateTime<Utc>)>,
    last_sweep: Option<DateTime<Utc>>,
}

impl Refresher {
    /// Computes (or takes from the cache) one profile. A chain with no usable contract is
    /// logged, not fatal: the other symbols still get theirs.
    fn profile(
        &mut self,
        symbol: &Symbol,
        filter: ExpiryFilter,
        refresh: Refresh,
    ) -> Option<Arc<GexProfile>> {
        let (spot, at) = *self.last.get(symbol)?;
        let (seed, params) = (self.chains.seed, self.chains.params);
        let day = calendar::ny_date(at);
        let listed = self
            .listed
            .entry(symbol.clone())
            .and_modify(|chain| {
                if calendar::ny_date(chain.as_of) != day {
                    *chain = synthetic_chain(symbol, spot, at, seed);
                }
            })
            .or_insert_with(|| synthetic_chain(symbol, spot, at, seed));
        let result = self.cache.get_or_compute(symbol, filter, at, refresh, || {
            let now = Chain {
                spot,
                as_of: at,
                ..listed.clone()
            };
            let mut profile = compute_profile(&now, &params, filter)?;
            profile.atm_straddle = atm_straddle(&now, &params);
            Ok::<_, crate::gex::GexError>(profile)
        });
        match result {
            Ok(profile) => Some(profile),
            Err(e) => {
                tracing::warn!("GEX {symbol} ({filter}): {e}");
                None
            }
        }
    }

    /// Every symbol's all-expirations profile, when 5 market minutes have passed.
    fn sweep(&mut self, now: DateTime<Utc>, board: &watch::Sender<GexBoard>) {
        if self.last_sweep.is_some_and(|t| now - t < REFRESH_EVERY) {
            return;
        }
        self.last_sweep = Some(now);
        self.cache.evict_stale(now);
        let symbols: Vec<Symbol> = self.last.keys().cloned().collect();
        let fresh: Vec<_> = symbols
            .iter()
            .filter_map(|s| self.profile(s, ExpiryFilter::All, Refresh::IfStale))
            .collect();
        publish(board, fresh.into_iter().map(|p| (ExpiryFilter::All, p)));
    }
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

pub async fn run_gex(
    ctx: WorkerCtx,
    bus: MarketBus,
    chains: SimChains,
    channels: GexChannels,
) -> Result<(), String> {
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot().await else {
        return Err("no market feed is running".into());
    };
    let mut refresher = Refresher {
        chains,
        listed: HashMap::new(),
        cache: GexCache::new(),
        last: HashMap::new(),
        last_sweep: None,
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
    refresher.sweep(snapshot.now, &channels.board);
    ctx.heartbeat();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(MarketEvent::Step { at, quotes, .. }) => {
                    for q in quotes {
                        refresher.last.insert(q.symbol, (q.price, at));
                    }
                    refresher.sweep(at, &channels.board);
                }
                Ok(MarketEvent::Snapshot(snapshot)) => {
                    seed_prices(&mut refresher, &snapshot);
                    refresher.last_sweep = None;
                    refresher.sweep(snapshot.now, &channels.board);
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
            Some(request) = incoming.recv() => {
                let refresh = if request.force { Refresh::Force } else { Refresh::IfStale };
                match refresher.profile(&request.symbol, request.filter, refresh) {
                    Some(profile) => publish(&channels.board, std::iter::once((request.filter, profile))),
                    None => tracing::warn!("no GEX profile for {} ({})", request.symbol, request.filter),
                }
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        ctx.heartbeat();
    }
}
