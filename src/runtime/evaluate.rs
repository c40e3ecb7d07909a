//! The evaluator worker (SPEC 5): every price update of a symbol against that symbol's
//! live setups, in the process that receives the price (event-driven, no timer); every
//! transition written once through the store's version guard, then published to the
//! other holders of setups ([`SetupChanges`]), the screen ([`AppEvent::SetupChanged`])
//! and the notifier ([`notify_transition`]).
//!
//! Which prices count: **regular-session prices only**, for entries and exits alike — a
//! final minute bar starting in `[open, close)` and a quote stamped in `(open, close]` of
//! the feed's session (early closes from the calendar). Detectors plan on regular-session
//! bars, extended-hours prints are thin and often far from where the trader could act,
//! and most options do not trade then; the original product let after-hours prints move
//! regular-session setups (its weakness 19). Multi-day setups wait for the next session.
//!
//! Order within a step: the bars that became final first (a bar spans the whole minute),
//! then the quotes; a quote at the same instant as a bar that just moved a setup is
//! ignored by the pure rules (`at ≤ triggered_at`).
//!
//! Expiry: the first step at or after the session close expires every active single-day
//! setup armed before that close (13:00 ET on early-close days). At start and at every
//! snapshot, setups whose close passed while nobody watched are expired at that close.
//!
//! Price alerts (SPEC 17) ride the same path: every quote and every final bar of a
//! symbol with armed alerts goes through the [`AlertBook`] (all hours: an alert is the
//! trader's own line, not a plan), each firing is recorded through the store's guard
//! (so it is announced exactly once, whichever process saw it first), then announced to
//! the notifier (Discord, the status line) and the screen ([`AppEvent::AlertFired`]).
//! After a restart, the snapshot's last price is judged against each alert's reference,
//! so a level crossed while nobody watched fires once then.
//!
//! Nothing is lost across a restart: at start (and at each session roll) the evaluator
//! replays the snapshot's regular-session bars — the previous session's and today's so
//! far — through the book; the pure rules skip bars from before a setup was armed or
//! triggered, and the store's guard refuses anything another process already applied.
//! A setup that joins the book later (tracked on a screen, by the auto-tracker or by
//! another process) is judged the same way against the snapshot's bars before the next
//! price, so a level crossed between its `armed_at` and its arrival is booked at that
//! bar and at the level, not a bar late.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

use super::AppEvent;
use super::alert_changes::{AlertChange, AlertChanges};
use super::bus::{MarketBus, fell_behind};
use super::gex::GexBoard;
use super::metrics::Metrics;
use super::ownership::{self, Owned};
use super::setup_changes::{SetupChange, SetupChanges};
use super::supervisor::WorkerCtx;
use crate::alerts::{AlertBook, Firing, GammaState, PriceAlert};
use crate::domain::Detection;
use crate::domain::{Bar, Symbol};
use crate::gex::ExpiryFilter;
use crate::market::calendar::{self, Session};
use crate::notify::{AlertKind, Notifier, TradingAlert};
use crate::provider::{MarketEvent, MarketSnapshot, Quote};
use crate::setups::{
    LateTrack, PriceUpdate, SetupBook, SetupStatus, TrackedSetup, Transition, evaluate,
    expire_at_close, judge_late_track,
};
use crate::store::{SetupRow, Store, StoreError, UserId};

/// The actor written on the evaluator's `setup_events`.
pub const EVALUATOR_ACTOR: &str = "evaluator";
/// How often the armed alerts are read back for the ones other processes added or
/// removed (this process's own changes arrive at once, through [`AlertChanges`]).
pub const ALERT_RESYNC: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether a final minute bar belongs to `session`'s regular hours.
pub fn is_regular_bar(session: &Session, bar: &Bar) -> bool {
    session.contains(bar.start)
}

/// Whether a quote stamped `at` is a regular-session price of `session`: after the open
/// and up to the close (a price stamped 16:00:00 is the last of the 15:59 minute).
pub fn is_regular_quote(session: &Session, at: DateTime<Utc>) -> bool {
    session.open < at && at <= session.close
}

/// The verdict on tracking `plan` now (SPEC 5, honest fills), from what the feed's
/// snapshot has of its symbol: the regular-session final minute bars of the previous and
/// the current session and the last trade, the prices the evaluator judges setups by.
/// A symbol the feed does not follow has no prices to judge by: [`LateTrack::Fresh`].
pub fn judge_track(snapshot: &MarketSnapshot, plan: &Detection) -> LateTrack {
    let Some(s) = snapshot.symbols.iter().find(|s| s.symbol == plan.symbol) else {
        return LateTrack::Fresh;
    };
    let today = snapshot.session;
    let previous = calendar::previous_session(today.date);
    let (previous_bars, bars) = (s.previous_bars.load(), s.bars.load());
    let bars = (previous_bars.iter())
        .filter(|b| is_regular_bar(&previous, b))
        .chain(bars.iter().filter(|b| is_regular_bar(&today, b)))
        .map(PriceUpdate::minute_bar);
    let last = (s.last.as_ref())
        .filter(|q| is_regular_quote(&today, q.at))
        .map(|q| PriceUpdate::trade(q.at, q.price));
    judge_late_track(plan, bars.chain(last))
}

/// The first session close after `t`: when a single-day setup armed at `t` expires.
pub fn first_close_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let date = calendar::ny_date(t);
    match calendar::session(date) {
        Some(s) if s.close > t => s.close,
        _ => calendar::next_session(date).close,
    }
}

/// What a book whose last-seen versions are `known` must do to match the store's live
/// setups `live` (`(id, version)`), after another process changed some (issue 22 item 5):
/// the setups to (re)load, new or at a newer version than the book's, and the ones to
/// drop, no longer live (removed, archived, resolved or expired elsewhere). A setup the
/// book already has at this version or later is left alone; so is one the book never had
/// that is not live. Both lists are in id order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SetupResync {
    pub load: Vec<i64>,
    pub drop: Vec<i64>,
}

impl SetupResync {
    /// `known` holds only the book's setups (a removed one is `i64::MAX`, never live again).
    pub fn between(known: &HashMap<i64, i64>, live: &[(i64, i64)]) -> SetupResync {
        let mut load: Vec<i64> = live
            .iter()
            .filter(|(id, version)| known.get(id).is_none_or(|k| k < version))
            .map(|(id, _)| *id)
            .collect();
        let live_ids: std::collections::HashSet<i64> = live.iter().map(|(id, _)| *id).collect();
        let mut drop: Vec<i64> = known
            .iter()
            .filter(|(id, version)| **version != i64::MAX && !live_ids.contains(id))
            .map(|(id, _)| *id)
            .collect();
        load.sort_unstable();
        drop.sort_unstable();
        SetupResync { load, drop }
    }
}

/// What the evaluator remembers of setups that left its book (resolved, removed,
/// archived, expired): their last version (`i64::MAX` once deleted) and owner, which only
/// refuse a change still queued from before they left. At each close sweep the ones that
/// had already left by the previous sweep are forgotten: nothing is queued a whole
/// session, and a process running for weeks keeps the live setups and one session of
/// departures instead of every setup it ever saw (issue 25 item 1). `in_book` says
/// whether an id is live; `departed` is the previous sweep's list, replaced.
pub fn forget_departed(
    versions: &mut HashMap<i64, i64>,
    owners: &mut HashMap<i64, UserId>,
    departed: &mut Vec<i64>,
    in_book: impl Fn(i64) -> bool,
) {
    for id in std::mem::take(departed) {
        if !in_book(id) {
            versions.remove(&id);
            owners.remove(&id);
        }
    }
    departed.extend(versions.keys().copied().filter(|id| !in_book(*id)));
    departed.sort_unstable();
}

/// Where an applied transition is announced besides the screen: the trading alerts
/// (Discord, the status line) and the `/metrics` counters.
#[derive(Clone, Debug)]
pub struct TransitionSinks {
    pub notifier: Notifier,
    pub metrics: Arc<Metrics>,
}

/// Logs a transition the store applied, counts it, and sends its trading alert
/// (de-duplicated per setup and kind by the notifier; kinds switch off in `[alerts]`):
/// "SPY orb_breakout long: triggered → triggered (stopped out) (stopped_out) at 99.40,
/// filled at 101.30, -1.90 R".
pub fn notify_transition(sinks: &TransitionSinks, user: UserId, row: &SetupRow, t: &Transition) {
    let s = &row.setup;
    let text = transition_text(s, t);
    tracing::info!(user = user.0, "setup {} {text}", s.id);
    sinks.metrics.transition(s.status.as_str());
    let kind = match (s.status, s.outcome) {
        (SetupStatus::Triggered, Some(crate::setups::Outcome::TargetHit)) => {
            Some(AlertKind::TargetHit)
        }
        (SetupStatus::Triggered, Some(crate::setups::Outcome::StoppedOut)) => {
            Some(AlertKind::StoppedOut)
        }
        (SetupStatus::Triggered, _) => Some(AlertKind::Triggered),
        (SetupStatus::Invalidated, _) => Some(AlertKind::Invalidated),
        _ => None,
    };
    if let Some(kind) = kind {
        sinks.notifier.trading(TradingAlert {
            kind,
            symbol: s.symbol.clone(),
            setup_id: s.id,
            text,
        });
    }
}

/// Logs a firing the store recorded and sends it to the notifier (Discord, the status
/// line) unless `[alerts] price_alert` is off. Returns the text.
pub fn notify_alert(
    sinks: &TransitionSinks,
    user: UserId,
    alert: &PriceAlert,
    firing: &Firing,
) -> String {
    let text = firing.describe(&alert.note);
    tracing::info!(user = user.0, "{text}");
    sinks.notifier.price_alert(TradingAlert {
        kind: AlertKind::PriceAlert,
        symbol: firing.symbol.clone(),
        setup_id: firing.id,
        text: text.clone(),
    });
    text
}

/// The text of a transition's trading alert and log line, for `setup` as it is after `t`.
/// A resolved attempt says what really happened (SPEC 5, honest fills): where it was
/// filled and the R between fill and exit.
pub fn transition_text(setup: &TrackedSetup, t: &Transition) -> String {
    let s = setup;
    let price = t.price.map_or_else(String::new, |p| format!(" at {p:.2}"));
    let result = match (s.outcome, s.fill_price, s.realised_r) {
        (Some(o), Some(fill), Some(r)) if o.is_final() => {
            format!(", filled at {fill:.2}, {r:+.2} R")
        }
        _ => String::new(),
    };
    format!(
        "{} {} {}: {} → {} ({}){price}{result}",
        s.symbol,
        s.kind,
        s.direction,
        t.from,
        describe(s),
        t.reason,
    )
}

fn describe(s: &TrackedSetup) -> String {
    match (s.status, s.outcome) {
        (SetupStatus::Triggered, Some(o)) => format!("triggered ({o})"),
        (status, _) => status.to_string(),
    }
}

/// The evaluator's state: the live setups by symbol, who owns each, the last version
/// seen of every setup, and the session whose close was swept.
struct Evaluator {
    store: Store,
    sinks: TransitionSinks,
    changes: SetupChanges,
    ui: mpsc::Sender<AppEvent>,
    book: SetupBook,
    owners: HashMap<i64, UserId>,
    /// Last version seen per setup (`i64::MAX` once deleted): older changes are ignored.
    versions: HashMap<i64, i64>,
    /// Setups out of the book at the last close sweep, forgotten at the next
    /// (`forget_departed`).
    departed: Vec<i64>,
    session: Session,
    swept: Option<NaiveDate>,
    scratch: Vec<Transition>,
    /// The symbols this instance evaluates; another instance owns the rest.
    owned: watch::Receiver<Owned>,
    /// The armed price alerts, who owns each, and the firings of the current update.
    alerts: AlertBook,
    alert_owners: HashMap<i64, UserId>,
    firings: Vec<Firing>,
    /// The GEX refresher's board: the gamma alerts (flip cross, wall break, regime change)
    /// judge each symbol's all-expirations refreshes.
    gex: watch::Receiver<GexBoard>,
    /// Setups that joined the book (or changed) elsewhere since the last catch-up: they
    /// are judged against the feed's bars since they were armed before the next price.
    pending: Vec<i64>,
}

impl Evaluator {
    async fn load(
        store: Store,
        sinks: TransitionSinks,
        changes: SetupChanges,
        ui: mpsc::Sender<AppEvent>,
        session: Session,
        owned: watch::Receiver<Owned>,
        gex: watch::Receiver<GexBoard>,
    ) -> Result<Evaluator, String> {
        let mut ev = Evaluator {
            store,
            sinks,
            changes,
            ui,
            book: SetupBook::new(),
            owners: HashMap::new(),
            versions: HashMap::new(),
            departed: Vec::new(),
            session,
            swept: None,
            scratch: Vec::new(),
            owned,
            alerts: AlertBook::new(),
            alert_owners: HashMap::new(),
            firings: Vec::new(),
            gex,
            pending: Vec::new(),
        };
        ev.reload().await?;
        ev.reload_alerts().await?;
        Ok(ev)
    }

    /// Replaces the book with the store's live setups.
    async fn reload(&mut self) -> Result<(), String> {
        let live = self
            .store
            .live_setups()
            .await
            .map_err(|e| format!("loading the live setups: {e}"))?;
        self.book = SetupBook::new();
        self.owners.clear();
        self.versions.clear();
        self.departed.clear();
        for (user, row) in live {
            self.remember(user, row.setup);
        }
        tracing::debug!("evaluating {} live setups", self.book.len());
        Ok(())
    }

    /// Replaces the alert book with the store's armed alerts (the last prices are kept).
    async fn reload_alerts(&mut self) -> Result<(), String> {
        let armed = self
            .store
            .armed_alerts()
            .await
            .map_err(|e| format!("loading the armed alerts: {e}"))?;
        let last: Vec<(Symbol, f64)> = self
            .alerts
            .symbols()
            .filter_map(|s| Some((s.clone(), self.alerts.last_price(s)?)))
            .collect();
        self.alerts = AlertBook::new();
        self.alert_owners.clear();
        for (user, alert) in armed {
            self.alert_owners.insert(alert.id, user);
            self.alerts.upsert(alert);
        }
        for (symbol, price) in last {
            self.alerts.prime(&symbol, price);
        }
        // The new book has seen no refresh: it takes the latest (its firings, if any, are
        // recorded with the next update's).
        self.judge_gamma();
        tracing::debug!("watching {} armed alerts", self.alerts.len());
        Ok(())
    }

    /// Follows the alerts other processes add or remove, which no in-process change
    /// announces: the book is synced with the store's armed alerts (keeping the state of
    /// the ones it already watches) and each user whose alerts changed is sent their list.
    /// A failed read leaves the book as it is until the next one.
    async fn resync_alerts(&mut self) {
        let armed = match self.store.armed_alerts().await {
            Ok(armed) => armed,
            Err(e) => {
                tracing::debug!("re-reading the armed alerts: {e}");
                return;
            }
        };
        let alerts: Vec<PriceAlert> = armed.iter().map(|(_, a)| a.clone()).collect();
        let changed = self.alerts.sync(&alerts);
        if changed.is_empty() {
            return;
        }
        let mut users: Vec<UserId> = changed
            .iter()
            .filter_map(|id| self.alert_owners.get(id))
            .copied()
            .collect();
        self.alert_owners = armed.iter().map(|(user, a)| (a.id, *user)).collect();
        users.extend(changed.iter().filter_map(|id| self.alert_owners.get(id)));
        users.sort_unstable();
        users.dedup();
        tracing::info!(
            "alerts changed elsewhere; watching {} armed",
            self.alerts.len()
        );
        for user in users {
            match self.store.alerts(user).await {
                Ok(alerts) => {
                    if self
                        .ui
                        .send(AppEvent::AlertsChanged { user, alerts })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => tracing::debug!("reading the alerts of user {}: {e}", user.0),
            }
        }
    }

    /// An alert added, changed or removed elsewhere.
    fn on_alert_change(&mut self, change: AlertChange) {
        match change.alert {
            Some(alert) => {
                self.alert_owners.insert(alert.id, change.user);
                self.alerts.upsert(alert);
            }
            None => {
                self.alerts.remove(change.id);
                self.alert_owners.remove(&change.id);
            }
        }
    }

    /// Gives the alert book each owned symbol's latest all-expirations GEX refresh (the book
    /// ignores a refresh it has already judged).
    fn judge_gamma(&mut self) {
        let board = self.gex.borrow_and_update().clone();
        let owned = self.owned.borrow();
        for ((symbol, filter), profile) in board.iter() {
            if *filter == ExpiryFilter::All && owned.contains(symbol) {
                self.alerts
                    .on_gex(symbol, GammaState::of(profile), &mut self.firings);
            }
        }
    }

    /// Records the firings of the last update through the store (each exactly once) and
    /// announces the ones this call recorded.
    async fn apply_firings(&mut self) -> Result<(), String> {
        let firings = std::mem::take(&mut self.firings);
        for firing in &firings {
            let Some(&user) = self.alert_owners.get(&firing.id) else {
                continue;
            };
            if !firing.rearmed {
                self.alert_owners.remove(&firing.id);
            }
            match self.store.fire_alert(user, firing).await {
                Ok(Some(alert)) => {
                    let text = notify_alert(&self.sinks, user, &alert, firing);
                    let event = AppEvent::AlertFired { user, alert, text };
                    if self.ui.send(event).await.is_err() {
                        tracing::debug!("the screen is gone; the alert firing is stored");
                    }
                }
                Ok(None) => tracing::info!(
                    "alert {} was already recorded as fired (or removed) elsewhere",
                    firing.id
                ),
                Err(e) => return Err(format!("recording alert {}: {e}", firing.id)),
            }
        }
        self.firings = firings;
        self.firings.clear();
        Ok(())
    }

    fn remember(&mut self, user: UserId, setup: TrackedSetup) {
        self.owners.insert(setup.id, user);
        self.versions.insert(setup.id, setup.version);
        self.book.upsert(setup);
    }

    /// A setup changed elsewhere (or here: then it is already known and ignored).
    fn on_change(&mut self, change: SetupChange) {
        let known = self.versions.get(&change.id).copied();
        match change.row {
            Some(row) => {
                if known.is_some_and(|v| v >= row.setup.version) {
                    return;
                }
                self.pending.push(row.setup.id);
                self.remember(change.user, row.setup);
            }
            None => {
                self.book.remove(change.id);
                self.owners.remove(&change.id);
                self.versions.insert(change.id, i64::MAX);
            }
        }
    }

    /// Follows the setups other processes on this database tracked, changed, removed or
    /// archived, which no in-process change announces (SQLite; the dashboard's fingerprint
    /// poller asks): the book takes the store's live setups, a new or newer one joins
    /// `pending` (caught up from its `armed_at` before the next price), and one no longer
    /// live leaves the book. A failed read is an error: the restart reloads everything.
    async fn resync_setups(&mut self) -> Result<(), String> {
        let live = self
            .store
            .live_setups()
            .await
            .map_err(|e| format!("re-reading the live setups: {e}"))?;
        let known: HashMap<i64, i64> = (self.owners.keys())
            .filter_map(|id| Some((*id, *self.versions.get(id)?)))
            .collect();
        let versions: Vec<(i64, i64)> = (live.iter())
            .map(|(_, row)| (row.setup.id, row.setup.version))
            .collect();
        let resync = SetupResync::between(&known, &versions);
        if resync == SetupResync::default() {
            return Ok(());
        }
        for id in &resync.drop {
            self.book.remove(*id);
            self.owners.remove(id);
            // A change still queued from before cannot bring it back.
            self.versions.insert(*id, i64::MAX);
        }
        for (user, row) in live {
            if resync.load.binary_search(&row.setup.id).is_ok() {
                self.book.remove(row.setup.id);
                self.pending.push(row.setup.id);
                self.remember(user, row.setup);
            }
        }
        tracing::info!(
            "setups changed elsewhere: {} joined or changed, {} left; evaluating {}",
            resync.load.len(),
            resync.drop.len(),
            self.book.len()
        );
        Ok(())
    }

    /// Writes the transitions in `scratch` through the store, one by one.
    async fn apply_scratch(&mut self) -> Result<(), String> {
        let transitions = std::mem::take(&mut self.scratch);
        for t in &transitions {
            self.apply(t).await?;
        }
        self.scratch = transitions;
        self.scratch.clear();
        Ok(())
    }

    async fn apply(&mut self, t: &Transition) -> Result<(), String> {
        let Some(&user) = self.owners.get(&t.setup_id) else {
            return Ok(());
        };
        match self.store.apply_transition(user, t, EVALUATOR_ACTOR).await {
            Ok(row) => {
                self.remember(user, row.setup.clone());
                self.changes
                    .publish(SetupChange::written(user, row.clone()));
                notify_transition(&self.sinks, user, &row, t);
                let event = AppEvent::SetupChanged {
                    user,
                    row,
                    transition: Some(*t),
                };
                if self.ui.send(event).await.is_err() {
                    tracing::debug!("the screen is gone; the transition is stored");
                }
                Ok(())
            }
            Err(
                e @ (StoreError::Conflict(_) | StoreError::NotFound(_) | StoreError::Invalid(_)),
            ) => {
                // Someone else moved the setup first: take the stored state and judge the
                // next price update against it.
                tracing::info!("{e}; reloading setup {}", t.setup_id);
                self.reload_one(user, t.setup_id).await
            }
            Err(e) => Err(format!("writing a transition of setup {}: {e}", t.setup_id)),
        }
    }

    async fn reload_one(&mut self, user: UserId, id: i64) -> Result<(), String> {
        match self.store.setup(user, id).await {
            Ok(Some(row)) => {
                self.book.remove(id);
                self.remember(user, row.setup);
            }
            Ok(None) => self.on_change(SetupChange::deleted(user, id)),
            Err(e) => return Err(format!("reloading setup {id}: {e}")),
        }
        Ok(())
    }

    async fn evaluate(&mut self, symbol: &Symbol, update: &PriceUpdate) -> Result<(), String> {
        if self.book.setups_for(symbol).is_empty() || !self.owned.borrow().contains(symbol) {
            return Ok(());
        }
        self.book.evaluate(symbol, update, &mut self.scratch);
        self.apply_scratch().await
    }

    /// One step of the stream: the final bars, then the quotes, then the close sweep.
    async fn on_step(
        &mut self,
        at: DateTime<Utc>,
        quotes: &[Quote],
        bars: &[(Symbol, Bar)],
    ) -> Result<(), String> {
        let session = self.session;
        for (symbol, bar) in bars {
            if is_regular_bar(&session, bar) {
                self.evaluate(symbol, &PriceUpdate::minute_bar(bar)).await?;
            }
            // Price alerts too are judged by the symbol's owner only (SPEC 14).
            if self.owned.borrow().contains(symbol) {
                self.alerts.on_bar(symbol, bar, &mut self.firings);
            }
        }
        for quote in quotes {
            if is_regular_quote(&session, quote.at) {
                self.evaluate(&quote.symbol, &PriceUpdate::trade(quote.at, quote.price))
                    .await?;
            }
            if self.owned.borrow().contains(&quote.symbol) {
                self.alerts
                    .on_price(&quote.symbol, quote.price, quote.at, &mut self.firings);
            }
        }
        self.apply_firings().await?;
        if at >= session.close && self.swept != Some(session.date) {
            self.swept = Some(session.date);
            let book = &self.book;
            forget_departed(
                &mut self.versions,
                &mut self.owners,
                &mut self.departed,
                |id| book.get(id).is_some(),
            );
            self.expire_overdue(at).await?;
        }
        Ok(())
    }

    /// Expires every active single-day setup whose close (the first after it was armed)
    /// is at or before `now`, dated at that close.
    async fn expire_overdue(&mut self, now: DateTime<Utc>) -> Result<(), String> {
        let symbols: Vec<Symbol> = {
            let owned = self.owned.borrow();
            self.book
                .symbols()
                .filter(|s| owned.contains(s))
                .cloned()
                .collect()
        };
        for symbol in symbols {
            for setup in self.book.setups_for(&symbol) {
                if setup.status == SetupStatus::Active
                    && !setup.multi_day
                    && let Some(t) = expire_at_close(setup, first_close_after(setup.armed_at), now)
                {
                    self.scratch.push(t);
                }
            }
        }
        self.apply_scratch().await
    }

    /// Judges the setups that joined the book since the last catch-up (tracked by a
    /// screen, the auto-tracker or another process, which reach this book a moment or
    /// several bars after they were armed) against the snapshot's regular-session bars of
    /// the previous and the current session, in time order: the pure rules skip the bars
    /// at or before `armed_at` (`triggered_at`), so a bar that crossed a level in between
    /// books its transition at that bar's end and the level's price, never a bar late at a
    /// later price (SPEC 5; issue 26 item 5). The store's guard refuses anything already
    /// applied elsewhere.
    async fn catch_up_pending(&mut self, snapshot: &MarketSnapshot) -> Result<(), String> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        pending.dedup();
        let previous = calendar::previous_session(snapshot.session.date);
        for (session, today) in [(previous, false), (snapshot.session, true)] {
            for &id in &pending {
                let Some(setup) = self.book.get(id) else {
                    continue;
                };
                let symbol = setup.symbol.clone();
                let Some(s) = (snapshot.symbols.iter()).find(|s| s.symbol == symbol) else {
                    continue;
                };
                if !self.owned.borrow().contains(&symbol) {
                    continue;
                }
                let bars = if today { &s.bars } else { &s.previous_bars }.load();
                for bar in bars.iter().filter(|b| is_regular_bar(&session, b)) {
                    let Some(setup) = self.book.get(id) else {
                        break;
                    };
                    if let Some(t) = evaluate(setup, &PriceUpdate::minute_bar(bar)) {
                        self.apply(&t).await?;
                    }
                }
            }
            if !today {
                self.expire_overdue(session.close).await?;
            }
        }
        Ok(())
    }

    /// Brings the book up to date with a snapshot: setups whose close passed expire at it;
    /// the previous session's and today's regular-session bars so far are evaluated in
    /// time order (bars from before a setup was armed are skipped by the rules).
    async fn catch_up(&mut self, snapshot: &MarketSnapshot) -> Result<(), String> {
        // Every setup of the book is judged below.
        self.pending.clear();
        self.session = snapshot.session;
        self.swept = None;
        let previous = calendar::previous_session(snapshot.session.date);
        self.expire_overdue(previous.open).await?;
        for (session, today) in [(previous, false), (snapshot.session, true)] {
            let mut updates: Vec<(DateTime<Utc>, Symbol, PriceUpdate)> = Vec::new();
            for s in &snapshot.symbols {
                if self.book.setups_for(&s.symbol).is_empty() {
                    continue;
                }
                let bars = if today { &s.bars } else { &s.previous_bars }.load();
                updates.extend(
                    bars.iter()
                        .filter(|b| is_regular_bar(&session, b))
                        .map(|b| (b.start, s.symbol.clone(), PriceUpdate::minute_bar(b))),
                );
            }
            updates.sort_by_key(|(start, _, _)| *start);
            for (_, symbol, update) in &updates {
                self.evaluate(symbol, update).await?;
            }
            if !today {
                self.expire_overdue(session.close).await?;
            }
        }
        self.expire_overdue(snapshot.now).await?;
        if snapshot.now >= snapshot.session.close {
            self.swept = Some(snapshot.session.date);
        }
        for s in &snapshot.symbols {
            if let Some(last) = &s.last {
                self.alerts
                    .on_price(&s.symbol, last.price, last.at, &mut self.firings);
            }
        }
        self.apply_firings().await
    }
}

/// Runs the evaluator until cancelled. Falling behind the market bus is an error (the
/// supervisor restarts it, and the restart catches up from a snapshot); falling behind
/// the setup changes reloads the book from the store.
// The worker's channels, one argument each, as the supervisor's closure clones them.
#[allow(clippy::too_many_arguments)]
pub async fn run_evaluator(
    ctx: WorkerCtx,
    bus: MarketBus,
    store: Store,
    changes: SetupChanges,
    alert_changes: AlertChanges,
    ui: mpsc::Sender<AppEvent>,
    sinks: TransitionSinks,
    mut owned: watch::Receiver<Owned>,
    gex: watch::Receiver<GexBoard>,
) -> Result<(), String> {
    ownership::decided(&mut owned).await?;
    owned.mark_unchanged();
    let mut owned_open = true;
    // Subscribe before loading, so no change or price between the two is missed.
    let mut change_rx = changes.subscribe();
    let mut resync_rx = changes.subscribe_resync();
    let mut alert_rx = alert_changes.subscribe();
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot_or_end(&ctx).await? else {
        return Ok(());
    };
    let mut gex_open = true;
    let mut ev = Evaluator::load(
        store,
        sinks,
        changes,
        ui,
        snapshot.session,
        owned.clone(),
        gex,
    )
    .await?;
    ev.catch_up(&snapshot).await?;
    ev.judge_gamma();
    ev.apply_firings().await?;
    // Not held for the worker's life (issue 25: every symbol's two days of bars).
    drop(snapshot);
    let mut resync =
        tokio::time::interval_at(tokio::time::Instant::now() + ALERT_RESYNC, ALERT_RESYNC);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ctx.heartbeat();
    loop {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return Ok(()),
            changed = owned.changed(), if owned_open => {
                if changed.is_err() {
                    // A fixed ownership (SQLite, tests): nothing more will change.
                    owned_open = false;
                    continue;
                }
                // Symbols gained: the store has what their previous owner applied; the
                // snapshot's bars catch up on what it did not (the guard refuses repeats).
                ev.reload().await?;
                if let Some(snapshot) = bus.snapshot().await {
                    ev.catch_up(&snapshot).await?;
                }
            }
            change = change_rx.recv() => match change {
                Ok(change) => {
                    ev.on_change(change);
                    if !ev.pending.is_empty() {
                        match bus.snapshot().await {
                            Some(snapshot) => ev.catch_up_pending(&snapshot).await?,
                            // No feed: nothing to catch up on.
                            None => ev.pending.clear(),
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::info!("missed {n} setup changes; reloading the live setups");
                    ev.reload().await?;
                    // The missed ones may have been armed bars ago: judge them all.
                    ev.pending.extend(ev.versions.keys().copied());
                    if let Some(snapshot) = bus.snapshot().await {
                        ev.catch_up_pending(&snapshot).await?;
                    }
                    ev.pending.clear();
                }
                Err(RecvError::Closed) => return Err("the setup changes channel closed".into()),
            },
            change = alert_rx.recv() => match change {
                Ok(change) => ev.on_alert_change(change),
                Err(RecvError::Lagged(n)) => {
                    tracing::info!("missed {n} alert changes; reloading the armed alerts");
                    ev.reload_alerts().await?;
                }
                Err(RecvError::Closed) => return Err("the alert changes channel closed".into()),
            },
            _ = resync.tick() => ev.resync_alerts().await,
            requested = resync_rx.changed() => {
                if requested.is_err() {
                    return Err("the setup changes channel closed".into());
                }
                ev.resync_setups().await?;
                if !ev.pending.is_empty() {
                    match bus.snapshot().await {
                        Some(snapshot) => ev.catch_up_pending(&snapshot).await?,
                        None => ev.pending.clear(),
                    }
                }
            }
            changed = ev.gex.changed(), if gex_open => {
                if changed.is_err() {
                    // No GEX worker (no options chains): no refresh will come.
                    gex_open = false;
                    continue;
                }
                ev.judge_gamma();
                ev.apply_firings().await?;
            }
            event = events.recv() => match event {
                Ok(MarketEvent::Snapshot(snapshot)) => ev.catch_up(&snapshot).await?,
                Ok(MarketEvent::Step { at, quotes, bars }) => ev.on_step(at, &quotes, &bars).await?,
                Err(RecvError::Lagged(n)) => return Err(fell_behind(n)),
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
        }
        ctx.heartbeat();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn a_single_day_setup_expires_at_the_first_close_after_it_was_armed() {
        // Friday after Thanksgiving 2026 closes at 13:00 ET (18:00 UTC).
        assert_eq!(
            first_close_after(utc(2026, 11, 27, 15, 0, 0)),
            utc(2026, 11, 27, 18, 0, 0)
        );
        // Armed after that close: the next session, Monday 16:00 ET.
        assert_eq!(
            first_close_after(utc(2026, 11, 27, 18, 0, 0)),
            utc(2026, 11, 30, 21, 0, 0)
        );
        // Armed on Thanksgiving itself (no session): Friday's early close.
        assert_eq!(
            first_close_after(utc(2026, 11, 26, 15, 0, 0)),
            utc(2026, 11, 27, 18, 0, 0)
        );
        // Across the DST change: Friday 2026-03-06 closes 21:00 UTC, Monday 03-09 20:00 UTC.
        assert_eq!(
            first_close_after(utc(2026, 3, 6, 22, 0, 0)),
            utc(2026, 3, 9, 20, 0, 0)
        );
    }

    #[test]
    fn tracking_late_is_judged_on_the_snapshots_regular_session_prices_since_the_detection() {
        use crate::domain::{Direction, SetupKind};
        use crate::provider::SymbolSnapshot;
        // 2026-11-24 (EST): 14:30 UTC is the 09:30 open.
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let session = calendar::session(date).unwrap();
        let spy = Symbol::parse("SPY").unwrap();
        let bar = |h, m, high: f64, low: f64| Bar {
            start: utc(2026, 11, 24, h, m, 0),
            open: low,
            high,
            low,
            close: high,
            volume: 1000.0,
        };
        // Long SPY: stop 679.75, entry 681.25, target 684.25, detected 10:06 ET.
        let plan = Detection {
            symbol: spy.clone(),
            kind: SetupKind::OrbBreakout,
            direction: Direction::Long,
            confidence: 70,
            entry: 681.25,
            stop: 679.75,
            target: 684.25,
            detected_at: utc(2026, 11, 24, 15, 6, 0),
            bar_time: utc(2026, 11, 24, 15, 5, 0),
            market_date: date,
            dedup_key: "or15".into(),
            rationale: String::new(),
            gex: None,
        };
        let snapshot = |bars: Vec<Bar>, last: Option<(u32, f64)>| MarketSnapshot {
            provider: "test",
            delayed: false,
            session,
            now: utc(2026, 11, 24, 17, 0, 0),
            symbols: vec![SymbolSnapshot {
                symbol: spy.clone(),
                is_index: false,
                bars: bars.into(),
                previous_bars: Default::default(),
                earlier_bars: Default::default(),
                daily: Default::default(),
                prior_close: None,
                history_loading: false,
                last: last.map(|(m, price)| Quote {
                    symbol: spy.clone(),
                    price,
                    at: utc(2026, 11, 24, 16, m, 30),
                }),
            }],
        };
        // The 10:41 bar reaches the target: refused, named by its end, 10:42 ET.
        let traded = snapshot(
            vec![
                bar(15, 5, 684.5, 683.0),
                bar(15, 20, 682.0, 681.0),
                bar(15, 41, 684.4, 683.1),
            ],
            None,
        );
        assert_eq!(
            judge_track(&traded, &plan).refusal().as_deref(),
            Some("target already reached at 10:42 ET"),
            "the 10:05 bar ended at the detection and does not count"
        );
        // Only the last trade (11:10:30 ET) is above the entry: tracked, with the warning.
        let passed = snapshot(vec![bar(15, 20, 681.0, 680.5)], Some((10, 682.0)));
        assert_eq!(
            judge_track(&passed, &plan).warning().as_deref(),
            Some("entry already passed at 11:10 ET; fills at the next price")
        );
        // After-hours prints are not prices the evaluator judges by.
        let after_hours = snapshot(vec![bar(21, 5, 690.0, 689.0)], None);
        assert_eq!(judge_track(&after_hours, &plan), LateTrack::Fresh);
        // A symbol the feed does not follow cannot be judged.
        let mut other = plan.clone();
        other.symbol = Symbol::parse("QQQ").unwrap();
        assert_eq!(judge_track(&traded, &other), LateTrack::Fresh);
    }

    #[test]
    fn the_trading_alert_of_a_gap_through_the_stop_says_the_fill_and_the_honest_r() {
        use crate::domain::{Direction, SetupKind};
        use crate::setups::{PriceUpdate, step};
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let plan = Detection {
            symbol: Symbol::parse("SPY").unwrap(),
            kind: SetupKind::OrbBreakout,
            direction: Direction::Long,
            confidence: 70,
            entry: 681.25,
            stop: 679.75,
            target: 684.25,
            detected_at: utc(2026, 11, 24, 15, 6, 0),
            bar_time: utc(2026, 11, 24, 15, 5, 0),
            market_date: date,
            dedup_key: "or15".into(),
            rationale: String::new(),
            gex: None,
        };
        let mut s = TrackedSetup::track(3, Some(9), &plan, false, plan.detected_at).unwrap();
        let fill = step(
            &mut s,
            &PriceUpdate::trade(utc(2026, 11, 24, 15, 9, 0), 681.40),
        );
        assert_eq!(
            transition_text(&s, &fill.unwrap()),
            "SPY orb_breakout long: active → triggered (open) (entry_crossed) at 681.40"
        );
        // The next trade prints 678.85, through the stop 679.75: (678.85 − 681.40) / 1.50.
        let out = step(
            &mut s,
            &PriceUpdate::trade(utc(2026, 11, 24, 15, 30, 0), 678.85),
        );
        assert_eq!(
            transition_text(&s, &out.unwrap()),
            "SPY orb_breakout long: triggered → triggered (stopped_out) (stopped_out) at 678.85, \
             filled at 681.40, -1.70 R"
        );
    }

    #[test]
    fn a_resync_loads_what_another_process_tracked_or_moved_and_drops_what_left() {
        // The book: 3 at version 1, 4 at version 2, 5 removed here, 6 at version 1.
        let known = HashMap::from([(3, 1), (4, 2), (5, i64::MAX), (6, 1)]);
        // The store: 3 unchanged, 4 triggered elsewhere (version 3), 6 archived elsewhere
        // (no longer live), 7 tracked elsewhere, 5 never live again.
        let live = [(3, 1), (4, 3), (7, 1)];
        assert_eq!(
            SetupResync::between(&known, &live),
            SetupResync {
                load: vec![4, 7],
                drop: vec![6],
            }
        );
        // A book ahead of a read that raced its own write keeps its copy.
        let ahead = HashMap::from([(4, 5)]);
        assert_eq!(
            SetupResync::between(&ahead, &[(4, 4)]),
            SetupResync::default()
        );
        // Nothing live, nothing known: nothing to do.
        assert_eq!(
            SetupResync::between(&HashMap::new(), &[]),
            SetupResync::default()
        );
    }

    #[test]
    fn a_departed_setup_is_remembered_through_one_close_and_forgotten_at_the_next() {
        let trader = UserId(1);
        // 1 and 2 live; 3 resolved today (its last version 4); 5 deleted today.
        let mut versions = HashMap::from([(1, 1), (2, 3), (3, 4), (5, i64::MAX)]);
        let mut owners: HashMap<i64, UserId> =
            [1, 2, 3, 5].into_iter().map(|id| (id, trader)).collect();
        let mut departed = Vec::new();
        let mut live = vec![1, 2];
        let mut sweep =
            |versions: &mut HashMap<i64, i64>, owners: &mut HashMap<i64, UserId>, live: &[i64]| {
                forget_departed(versions, owners, &mut departed, |id| live.contains(&id));
            };
        // Today's close: 3 and 5 left today, so a change queued before still meets them.
        sweep(&mut versions, &mut owners, &live);
        assert_eq!(versions.get(&3), Some(&4));
        assert_eq!(versions.get(&5), Some(&i64::MAX));
        // 2 resolves tomorrow; at tomorrow's close 3 and 5 are forgotten, 2 is kept.
        live.retain(|id| *id != 2);
        sweep(&mut versions, &mut owners, &live);
        let mut kept: Vec<i64> = versions.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 2]);
        let mut owned: Vec<i64> = owners.keys().copied().collect();
        owned.sort_unstable();
        assert_eq!(owned, [1, 2], "owners go with versions");
        // A month of closes with one setup resolved a day keeps one day of them.
        for day in 10..40 {
            versions.insert(day, 2);
            owners.insert(day, trader);
            sweep(&mut versions, &mut owners, &live);
        }
        assert_eq!(
            versions.len(),
            2,
            "the live setup and today's departure: {versions:?}"
        );
        assert!(versions.contains_key(&1) && versions.contains_key(&39));
    }

    #[test]
    fn only_regular_session_prices_count() {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()).unwrap();
        let bar = |h, m| Bar {
            start: utc(2026, 11, 27, h, m, 0),
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 0.0,
        };
        assert!(
            !is_regular_bar(&session, &bar(14, 29)),
            "09:29 ET is pre-market"
        );
        assert!(is_regular_bar(&session, &bar(14, 30)), "the 09:30 bar");
        assert!(
            is_regular_bar(&session, &bar(17, 59)),
            "12:59 ET, the last bar of the early close"
        );
        assert!(
            !is_regular_bar(&session, &bar(18, 0)),
            "13:00 ET is after the early close"
        );
        assert!(
            !is_regular_quote(&session, utc(2026, 11, 27, 14, 30, 0)),
            "the 09:29 minute's last price"
        );
        assert!(is_regular_quote(&session, utc(2026, 11, 27, 14, 30, 15)));
        assert!(
            is_regular_quote(&session, utc(2026, 11, 27, 18, 0, 0)),
            "the last price before 13:00"
        );
        assert!(!is_regular_quote(&session, utc(2026, 11, 27, 18, 0, 15)));
    }
}
