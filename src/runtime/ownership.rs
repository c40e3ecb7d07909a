//! Which symbols this process works on (SPEC 14). On SQLite, all of them. On PostgreSQL,
//! the ones whose advisory lock this instance holds: every second the ownership worker
//! writes its heartbeat, counts the live instances, gives back its surplus over the fair
//! share (src/team/share.rs) and tries to lock what it lacks. A dead instance's locks go
//! with its connection; once its heartbeat is stale the survivors take its symbols.
//!
//! Order matters for "never owned by two": a symbol given back leaves this process's set
//! and the published row first, and only then its lock; a symbol gained is locked first.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::watch;

use super::supervisor::{WorkerCtx, retrying};
use crate::domain::Symbol;
use crate::store::{Store, SymbolLocks};
use crate::team::share;

/// The supervised worker's name.
pub const WORKER: &str = "ownership";
/// How often an instance heartbeats and rebalances.
pub const ROUND: Duration = Duration::from_secs(1);
/// An instance whose heartbeat is older than this is dead to the others (seconds).
pub const FRESH_SECS: f64 = 4.0;

/// The symbols this process may detect and evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    /// Not decided yet (before the first round): workers wait.
    Pending,
    /// Every symbol (SQLite: a single instance).
    All,
    /// These symbols (PostgreSQL: the locks held).
    Only(BTreeSet<Symbol>),
}

impl Owned {
    pub fn contains(&self, symbol: &Symbol) -> bool {
        match self {
            Owned::Pending => false,
            Owned::All => true,
            Owned::Only(set) => set.contains(symbol),
        }
    }
}

/// Waits for the first decision (returns at once on SQLite).
pub async fn decided(owned: &mut watch::Receiver<Owned>) -> Result<(), String> {
    owned
        .wait_for(|o| *o != Owned::Pending)
        .await
        .map(|_| ())
        .map_err(|_| "the ownership worker is gone".to_string())
}

/// A fixed "every symbol" for a process that works alone (tests, tools).
pub fn all() -> watch::Receiver<Owned> {
    watch::channel(Owned::All).1
}

/// The instance name written to `worker_status`: host and process id.
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| crate::text::printable(h.trim()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

/// The ownership channel for `store`: decided at once on SQLite, pending on PostgreSQL.
pub fn channel(store: &Store) -> (watch::Sender<Owned>, watch::Receiver<Owned>) {
    let initial = match store {
        Store::Sqlite(_) => Owned::All,
        Store::Postgres(_) => Owned::Pending,
    };
    watch::channel(initial)
}

/// The ownership worker (PostgreSQL). Losing the database publishes "nothing owned" (the
/// locks died with the connection) and connects again within seconds of its return.
pub async fn run_ownership(
    ctx: WorkerCtx,
    store: Store,
    instance: String,
    symbols: Vec<Symbol>,
    owned: watch::Sender<Owned>,
) -> Result<(), String> {
    retrying(&ctx, || session(&ctx, &store, &instance, &symbols, &owned)).await
}

/// One connection's worth of rounds; its locks end with it.
async fn session(
    ctx: &WorkerCtx,
    store: &Store,
    instance: &str,
    symbols: &[Symbol],
    owned: &watch::Sender<Owned>,
) -> Result<(), String> {
    let Some(mut locks) = store.symbol_locks().await.map_err(|e| e.to_string())? else {
        owned.send_replace(Owned::All);
        return Ok(());
    };
    let mut held = BTreeSet::new();
    let result = rounds(ctx, &mut locks, instance, symbols, owned, &mut held).await;
    owned.send_replace(Owned::Only(BTreeSet::new()));
    if result.is_ok() {
        // Cancelled: close now so a peer takes over without waiting for process exit.
        locks.close().await;
    }
    result
}

async fn rounds(
    ctx: &WorkerCtx,
    locks: &mut SymbolLocks,
    instance: &str,
    symbols: &[Symbol],
    owned: &watch::Sender<Owned>,
    held: &mut BTreeSet<Symbol>,
) -> Result<(), String> {
    let mut tick = tokio::time::interval(ROUND);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let listed: Vec<&Symbol> = held.iter().collect();
        let live = locks
            .heartbeat(instance, &listed, FRESH_SECS)
            .await
            .map_err(|e| e.to_string())?;
        let round = share::plan(symbols, held, live);
        if !round.release.is_empty() {
            for s in &round.release {
                held.remove(s);
            }
            owned.send_replace(Owned::Only(held.clone()));
            let listed: Vec<&Symbol> = held.iter().collect();
            locks
                .heartbeat(instance, &listed, FRESH_SECS)
                .await
                .map_err(|e| e.to_string())?;
            for s in &round.release {
                locks.unlock(s).await.map_err(|e| e.to_string())?;
            }
            tracing::info!(
                "gave back {} symbols to other instances",
                round.release.len()
            );
        }
        let mut gained = Vec::new();
        for s in &round.candidates {
            if gained.len() >= round.room {
                break;
            }
            if locks.try_lock(s).await.map_err(|e| e.to_string())? {
                gained.push(s.clone());
            }
        }
        if !gained.is_empty() {
            held.extend(gained.iter().cloned());
            let listed: Vec<&Symbol> = held.iter().collect();
            locks
                .heartbeat(instance, &listed, FRESH_SECS)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                "now working on {} symbols: {}",
                held.len(),
                held.iter()
                    .map(Symbol::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if !gained.is_empty() || *owned.borrow() == Owned::Pending {
            owned.send_replace(Owned::Only(held.clone()));
        }
        ctx.heartbeat();
    }
}
