//! The GEX worker on recorded bars with `--chain FILE…` (SPEC 19): publishes each
//! symbol's chain on the GEX board once the replay clock reaches its snapshot time, for
//! the session it applies to (`provider::chain_files`), and takes it off after. The
//! profile keeps the chain's own spot and time: coach never moves a recorded chain to a
//! later price. Requests for another expiry filter are computed from the same chain.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

use super::bus::MarketBus;
use super::gex::{GexBoard, GexChannels};
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::gex::straddle::atm_straddle;
use crate::gex::{ExpiryFilter, GexParams, compute_profile};
use crate::provider::MarketEvent;
use crate::provider::chain_files::{ReplayChain, in_force};

/// What is on the board at `now`: per symbol with chains, the one in force (if any).
pub fn board_at(
    chains: &[ReplayChain],
    now: DateTime<Utc>,
) -> HashMap<Symbol, Option<&ReplayChain>> {
    let mut out = HashMap::new();
    for c in chains {
        out.entry(c.chain.symbol.clone())
            .or_insert_with(|| in_force(chains, &c.chain.symbol, now));
    }
    out
}

/// Puts the board in step with `now`: the in-force chains' all-expirations profiles,
/// and no profile of a symbol whose chain is over.
fn sync(chains: &[ReplayChain], now: DateTime<Utc>, board: &tokio::sync::watch::Sender<GexBoard>) {
    let wanted = board_at(chains, now);
    board.send_if_modified(|b| {
        let mut changed = false;
        for (symbol, chain) in &wanted {
            let key = (symbol.clone(), ExpiryFilter::All);
            match chain {
                Some(c) if b.get(&key).is_none_or(|p| !Arc::ptr_eq(p, &c.profile)) => {
                    let map = Arc::make_mut(b);
                    map.retain(|(s, _), _| s != symbol);
                    map.insert(key, c.profile.clone());
                    changed = true;
                }
                None if b.keys().any(|(s, _)| s == symbol) => {
                    Arc::make_mut(b).retain(|(s, _), _| s != symbol);
                    changed = true;
                }
                _ => {}
            }
        }
        changed
    });
}

pub async fn run_recorded_gex(
    ctx: WorkerCtx,
    bus: MarketBus,
    chains: Arc<Vec<ReplayChain>>,
    channels: GexChannels,
) -> Result<(), String> {
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot().await else {
        return Err("no market feed is running".into());
    };
    let mut now = snapshot.now;
    sync(&chains, now, &channels.board);
    ctx.heartbeat();
    let incoming = channels.incoming();
    let mut incoming = incoming.lock().await;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(MarketEvent::Step { at, .. }) => {
                    now = at;
                    sync(&chains, now, &channels.board);
                }
                Ok(MarketEvent::Snapshot(snapshot)) => {
                    now = snapshot.now;
                    sync(&chains, now, &channels.board);
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
            Some(request) = incoming.recv() => {
                let Some(chain) = in_force(&chains, &request.symbol, now) else {
                    tracing::warn!("no recorded chain of {} in force", request.symbol);
                    continue;
                };
                let params = GexParams::default();
                match compute_profile(&chain.chain, &params, request.filter) {
                    Ok(mut profile) => {
                        profile.atm_straddle = atm_straddle(&chain.chain, &params);
                        channels.board.send_modify(|b| {
                            Arc::make_mut(b).insert((request.symbol.clone(), request.filter), Arc::new(profile));
                        });
                    }
                    Err(e) => tracing::warn!("GEX {} ({}): {e}", request.symbol, request.filter),
                }
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        ctx.heartbeat();
    }
}
