//! The brief scheduler worker (SPEC 8): at or after the configured New York time on each
//! trading day it makes sure the user's brief of the day exists (building it once; a
//! second process racing on the same database reads back the first one's), serves the
//! screen's requests (pane opened: rebuild when older than the freshness window; `r`:
//! rebuild now; preview of another watchlist: built and shown, never stored) and hands
//! every result to the screen.
//!
//! Time is the market's clock (the bus's instants; virtual in the simulation).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Mutex, mpsc, watch};

use super::AppEvent;
use super::bus::MarketBus;
use super::gex::GexBoard;
use super::supervisor::WorkerCtx;
use crate::brief::Position;
use crate::brief::model::PriceAt;
use crate::brief::{Brief, BriefInputs, EconCalendar, Schedule, SymbolInput, build};
use crate::domain::Symbol;
use crate::gex::ExpiryFilter;
use crate::provider::{MarketEvent, MarketSnapshot};
use crate::setups::{SetupStatus, TrackedSetup};
use crate::store::{Store, UserId};

/// What the screen asks of the scheduler.
#[derive(Clone, Debug, PartialEq)]
pub enum BriefRequest {
    /// The Brief pane was opened: rebuild if the stored brief is no longer fresh.
    Opened,
    /// `r`: rebuild now (generated_at moves).
    Regenerate,
    /// Build for the user's watchlist after `after` (by name, default first) and show
    /// it without storing it; after the last one, the stored brief again.
    PreviewNext { after: Option<String> },
}

/// The market data of the moment: the feed's snapshot and the latest GEX profiles.
#[derive(Clone, Debug)]
pub struct MarketView {
    pub snapshot: Arc<MarketSnapshot>,
    pub gex: GexBoard,
}

impl MarketView {
    /// Inputs for `symbols` (a symbol the feed does not carry gets an empty input, so
    /// the brief says what is missing rather than skipping it).
    pub fn inputs(&self, symbols: &[Symbol]) -> Vec<SymbolInput> {
        symbols
            .iter()
            .map(|symbol| {
                let mut input = SymbolInput::new(symbol.clone());
                if let Some(s) = self.snapshot.symbols.iter().find(|s| &s.symbol == symbol) {
                    input.daily = s.daily.to_vec();
                    input.previous_bars = s.previous_bars.load().to_vec();
                    input.bars = s.bars.load().to_vec();
                    input.last = s.last.as_ref().map(|q| PriceAt {
                        price: q.price,
                        at: q.at,
                    });
                }
                input.gex = self.gex.get(&(symbol.clone(), ExpiryFilter::All)).cloned();
                input
            })
            .collect()
    }
}

/// The user's open positions and live (active or triggered) setups: what a brief
/// carries over besides market data.
pub async fn open_book(
    store: &Store,
    user: UserId,
) -> Result<(Vec<Position>, Vec<TrackedSetup>), crate::store::StoreError> {
    let positions = store.positions(user, false).await?;
    let setups = store
        .setups(user, None)
        .await?
        .into_iter()
        .map(|r| r.setup)
        .filter(|s| matches!(s.status, SetupStatus::Active | SetupStatus::Triggered))
        .collect();
    Ok((positions, setups))
}

/// The watchlist's symbols, then each position's underlying not on it (so every
/// position's risk is measured).
pub fn with_position_symbols(watchlist: &[Symbol], positions: &[Position]) -> Vec<Symbol> {
    let mut symbols = watchlist.to_vec();
    for p in positions {
        if !symbols.contains(&p.spec.symbol) {
            symbols.push(p.spec.symbol.clone());
        }
    }
    symbols
}

/// Builds, stores and reads back one user's briefs. Two schedulers (two processes) on
/// one database agree on one brief per market date.
#[derive(Clone, Debug)]
pub struct BriefScheduler {
    store: Store,
    user_name: String,
    user: Option<UserId>,
    schedule: Schedule,
    calendar: Arc<EconCalendar>,
    /// The brief the screen was last given (the stored one of its date).
    current: Option<Arc<Brief>>,
}

impl BriefScheduler {
    pub fn new(store: Store, user: &str, schedule: Schedule, calendar: Arc<EconCalendar>) -> Self {
        BriefScheduler {
            store,
            user_name: user.to_string(),
            user: None,
            schedule,
            calendar,
            current: None,
        }
    }

    /// The scheduler `config` describes (its user, schedule and economic calendar); `Err`
    /// when the calendar file cannot be read.
    pub fn from_config(config: &crate::config::Config, store: &Store) -> Result<Self, String> {
        let calendar = config.brief.calendar()?;
        Ok(BriefScheduler::new(
            store.clone(),
            &config.general.user,
            config.brief.schedule(),
            Arc::new(calendar),
        ))
    }

    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// A brief is due at `now` that the screen does not have yet (no database access).
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.schedule
            .due_date(now)
            .is_some_and(|d| self.current.as_ref().is_none_or(|b| b.market_date != d))
    }

    /// The same schedule and calendar for another trader.
    fn for_user(&self, name: &str) -> BriefScheduler {
        BriefScheduler {
            user_name: name.to_string(),
            user: None,
            current: None,
            ..self.clone()
        }
    }

    /// Makes sure every other trader in the database has the brief due at `now`, each on
    /// their own default watchlist (team mode: one `coach serve` works for everybody).
    /// `others` keeps their schedulers between calls, so a brief is looked up once a day.
    pub async fn ensure_others(
        &self,
        others: &mut BTreeMap<String, BriefScheduler>,
        now: DateTime<Utc>,
        market: &MarketView,
    ) -> Result<(), String> {
        if self.schedule.due_date(now).is_none() {
            return Ok(());
        }
        let names = self.store.user_names().await.map_err(|e| e.to_string())?;
        for name in names.into_iter().filter(|n| *n != self.user_name) {
            let scheduler = others
                .entry(name)
                .or_insert_with_key(|name| self.for_user(name));
            if scheduler.is_due(now)
                && let Err(e) = scheduler.ensure(now, market).await
            {
                tracing::warn!("the brief of {}: {e}", scheduler.user_name);
            }
        }
        Ok(())
    }

    async fn user(&mut self, now: DateTime<Utc>) -> Result<UserId, String> {
        if let Some(u) = self.user {
            return Ok(u);
        }
        let u = self
            .store
            .ensure_user(&self.user_name, now)
            .await
            .map_err(|e| e.to_string())?;
        self.user = Some(u);
        Ok(u)
    }

    /// The user's watchlist to preview after `after`: the next by name after it (the
    /// default is first); `None` when the next is the default (show the stored brief).
    pub async fn next_watchlist(
        &mut self,
        now: DateTime<Utc>,
        after: Option<&str>,
    ) -> Result<Option<String>, String> {
        let user = self.user(now).await?;
        let lists = self
            .store
            .watchlists(user)
            .await
            .map_err(|e| e.to_string())?;
        if lists.len() < 2 {
            return Err("only one watchlist: there is no other to preview".into());
        }
        let at = after
            .and_then(|name| lists.iter().position(|w| w.name == name))
            .unwrap_or(0);
        let next = &lists[(at + 1) % lists.len()];
        Ok((!next.is_default).then(|| next.name.clone()))
    }

    /// Builds a brief for the user's watchlist `name` (the default one when `None`),
    /// with their open positions and live setups. Nothing is stored.
    pub async fn build(
        &mut self,
        now: DateTime<Utc>,
        watchlist: Option<&str>,
        market: &MarketView,
    ) -> Result<Brief, String> {
        let user = self.user(now).await?;
        let err = |e: crate::store::StoreError| e.to_string();
        let list = match watchlist {
            None => self.store.default_watchlist(user, now).await.map_err(err)?,
            Some(name) => self
                .store
                .watchlists(user)
                .await
                .map_err(err)?
                .into_iter()
                .find(|w| w.name == name)
                .ok_or_else(|| format!("no watchlist named {name:?}"))?,
        };
        let (positions, setups) = open_book(&self.store, user).await.map_err(err)?;
        let symbols = with_position_symbols(&list.symbols, &positions);
        let inputs = market.inputs(&symbols);
        // whole seconds (rounded up, so a quote of this very instant still counts), so
        // the stored column and the payload agree exactly
        let now = match now.trunc_subsecs(0) {
            whole if whole == now => whole,
            whole => whole + chrono::Duration::seconds(1),
        };
        build(&BriefInputs {
            now,
            market_date: crate::market::calendar::ny_date(now),
            watchlist: list.name,
            symbols: &inputs,
            calendar: &self.calendar,
            positions: &positions,
            setups: &setups,
        })
    }

    /// The brief due at `now`: the stored one, or built and stored now (`ON CONFLICT DO
    /// NOTHING`; losing the race reads back the winner). `None` when none is due
    /// (before the scheduled time, weekends, holidays). Returns `Some` only when it is
    /// not the brief the screen already has.
    pub async fn ensure(
        &mut self,
        now: DateTime<Utc>,
        market: &MarketView,
    ) -> Result<Option<Arc<Brief>>, String> {
        let Some(date) = self.schedule.due_date(now) else {
            return Ok(None);
        };
        if self.current.as_ref().is_some_and(|b| b.market_date == date) {
            return Ok(None);
        }
        let user = self.user(now).await?;
        let stored = self
            .store
            .brief(user, date)
            .await
            .map_err(|e| e.to_string())?;
        let brief = match stored {
            Some(s) => s.brief,
            None => {
                let fresh = self.build(now, None, market).await?;
                let inserted = self
                    .store
                    .insert_brief(user, &fresh)
                    .await
                    .map_err(|e| e.to_string())?;
                if inserted {
                    tracing::info!("morning brief of {date} generated");
                    fresh
                } else {
                    self.read_back(user, date).await?
                }
            }
        };
        let brief = Arc::new(brief);
        self.current = Some(brief.clone());
        Ok(Some(brief))
    }

    async fn read_back(&self, user: UserId, date: chrono::NaiveDate) -> Result<Brief, String> {
        self.store
            .brief(user, date)
            .await
            .map_err(|e| e.to_string())?
            .map(|s| s.brief)
            .ok_or_else(|| format!("the brief of {date} vanished while it was being stored"))
    }

    /// Records that the trader opened the brief of the day due at `now`.
    pub async fn mark_viewed(&mut self, now: DateTime<Utc>) -> Result<(), String> {
        let Some(date) = self.schedule.due_date(now) else {
            return Ok(());
        };
        let user = self.user(now).await?;
        self.store
            .mark_brief_viewed(user, date)
            .await
            .map_err(|e| e.to_string())
    }

    /// Rebuilds the day's brief (`force`), or only when the stored one is older than
    /// the freshness window. Compare-and-set on generated_at: when another process
    /// rebuilt it meanwhile, theirs is returned.
    pub async fn refresh(
        &mut self,
        now: DateTime<Utc>,
        market: &MarketView,
        force: bool,
    ) -> Result<Option<Arc<Brief>>, String> {
        let Some(date) = self.schedule.due_date(now) else {
            return Ok(None);
        };
        let user = self.user(now).await?;
        let stored = self
            .store
            .brief(user, date)
            .await
            .map_err(|e| e.to_string())?;
        let brief = match stored {
            None => {
                self.current = None;
                return self.ensure(now, market).await;
            }
            Some(s) if !force && self.schedule.is_fresh(s.brief.generated_at, now) => s.brief,
            Some(s) => {
                let fresh = self.build(now, None, market).await?;
                if self
                    .store
                    .replace_brief(user, &fresh, s.brief.generated_at)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    fresh
                } else {
                    self.read_back(user, date).await?
                }
            }
        };
        let brief = Arc::new(brief);
        self.current = Some(brief.clone());
        Ok(Some(brief))
    }
}

/// The scheduler's channels: the screen sends requests, results come as `AppEvent::Brief`.
#[derive(Clone, Debug)]
pub struct BriefChannels {
    pub requests: mpsc::Sender<BriefRequest>,
    incoming: Arc<Mutex<mpsc::Receiver<BriefRequest>>>,
}

impl BriefChannels {
    pub fn new() -> BriefChannels {
        let (requests, incoming) = mpsc::channel(16);
        BriefChannels {
            requests,
            incoming: Arc::new(Mutex::new(incoming)),
        }
    }
}

impl Default for BriefChannels {
    fn default() -> Self {
        BriefChannels::new()
    }
}

/// The market now; `None` once the recording finished (the worker then stops).
async fn view(
    ctx: &WorkerCtx,
    bus: &MarketBus,
    gex: &watch::Receiver<GexBoard>,
) -> Result<Option<MarketView>, String> {
    let Some(snapshot) = bus.snapshot_or_end(ctx).await? else {
        return Ok(None);
    };
    Ok(Some(MarketView {
        snapshot,
        gex: gex.borrow().clone(),
    }))
}

/// The worker: checks the schedule at every market step, answers the screen's requests.
pub async fn run_brief_scheduler(
    ctx: WorkerCtx,
    mut scheduler: BriefScheduler,
    bus: MarketBus,
    gex: watch::Receiver<GexBoard>,
    channels: BriefChannels,
    events: mpsc::Sender<AppEvent>,
    expect_gex: bool,
) -> Result<(), String> {
    let mut market_events = bus.subscribe();
    let mut gex = gex;
    if expect_gex && gex.borrow().is_empty() {
        // the GEX worker's first profiles land moments after the feed starts: a brief
        // built before them would say "no options chain" for the whole day
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), gex.changed()).await;
    }
    let Some(first) = view(&ctx, &bus, &gex).await? else {
        return Ok(());
    };
    let mut now = first.snapshot.now;
    let mut incoming = channels.incoming.lock().await;
    let send = |brief: Arc<Brief>, preview: bool| AppEvent::Brief { brief, preview };
    if let Some(b) = scheduler.ensure(now, &first).await? {
        let _ = events.send(send(b, false)).await;
    }
    let mut others = BTreeMap::new();
    scheduler.ensure_others(&mut others, now, &first).await?;
    // the snapshot shares the feed's bars: holding it for the whole session would make
    // the feed copy every symbol's bars of today at its next minute
    drop(first);
    ctx.heartbeat();
    // alive between market steps too (a provider outside market hours sends none)
    let mut alive = tokio::time::interval(std::time::Duration::from_secs(20));
    loop {
        tokio::select! {
            _ = alive.tick() => {
                // the other traders, new ones included, at most every 20 s
                let Some(market) = view(&ctx, &bus, &gex).await? else {
                    return Ok(());
                };
                scheduler.ensure_others(&mut others, now, &market).await?;
            }
            event = market_events.recv() => match event {
                Ok(MarketEvent::Step { at, .. }) => {
                    now = at;
                    if scheduler.is_due(now) {
                        let Some(market) = view(&ctx, &bus, &gex).await? else {
                            return Ok(());
                        };
                        if let Some(b) = scheduler.ensure(now, &market).await? {
                            let _ = events.send(send(b, false)).await;
                        }
                    }
                }
                Ok(MarketEvent::Snapshot(s)) => now = s.now,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
            Some(request) = incoming.recv() => {
                let Some(market) = view(&ctx, &bus, &gex).await? else {
                    return Ok(());
                };
                let (result, preview) = match &request {
                    BriefRequest::Opened => {
                        let shown = scheduler.refresh(now, &market, false).await;
                        if matches!(shown, Ok(Some(_)))
                            && let Err(e) = scheduler.mark_viewed(now).await
                        {
                            tracing::warn!("the brief could not be marked viewed: {e}");
                        }
                        (shown, false)
                    }
                    BriefRequest::Regenerate => (scheduler.refresh(now, &market, true).await, false),
                    BriefRequest::PreviewNext { after } => {
                        match scheduler.next_watchlist(now, after.as_deref()).await {
                            Ok(Some(name)) => (
                                scheduler.build(now, Some(&name), &market).await.map(|b| Some(Arc::new(b))),
                                true,
                            ),
                            Ok(None) => (scheduler.refresh(now, &market, false).await, false),
                            Err(e) => (Err(e), true),
                        }
                    }
                };
                match result {
                    Ok(Some(b)) => { let _ = events.send(send(b, preview)).await; }
                    Ok(None) => {
                        let next = scheduler.schedule().next_due(now);
                        let _ = events.send(AppEvent::Notice(format!(
                            "no brief is due yet: the next is at {} ET",
                            next.with_timezone(&crate::market::calendar::NEW_YORK).format("%a %H:%M")
                        ))).await;
                    }
                    Err(e) => { let _ = events.send(AppEvent::ActionFailed(format!("brief: {e}"))).await; }
                }
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        ctx.heartbeat();
    }
}
