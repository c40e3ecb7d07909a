//! Tracked setups and their journal (SPEC 2, 5): per user, duplicate-safe tracking, every
//! transition applied exactly once behind an optimistic version guard and appended to
//! `setup_events` in the same database transaction.
//!
//! What the store adds to the pure lifecycle (`crate::setups`):
//! - **Ownership.** Every query takes the user; another user's setup is "not found".
//! - **Duplicate-safe tracking.** Tracking a detection the user already tracks (in any
//!   status but archived) returns the existing setup; the partial unique index
//!   `(user_id, source_id) WHERE status = 'active'` is the backstop under concurrency.
//! - **The version guard.** A transition computed on version `v` is written with
//!   `WHERE version = v AND status = from`, inside a transaction that first locks the row
//!   (SQLite `BEGIN IMMEDIATE`, PostgreSQL `SELECT … FOR UPDATE`): of two writers racing
//!   on one setup exactly one wins; the other gets [`StoreError::Conflict`] and nothing of
//!   it is written (no status change, no event).
//! - **Reopen.** Refused with a clear message while another active setup of the user
//!   tracks the same detection.
//! - **The journal.** Tracking writes an event `NULL → active` (reason `tracked`); every
//!   transition writes `from → to` with its reason, price and actor (`evaluator`,
//!   `trader`, `auto_track`, or whatever the caller names), and the one that resolves an
//!   attempt (`target_hit`, `stopped_out`) its realised R. The journal is the history: a
//!   reopen clears the setup row for a new attempt, the earlier result stays there.
//!
//! Instants are UTC; prices in the instrument's quote currency.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, StoredDetection, UserId, on_pool, query_error, returned_row};
use crate::domain::Symbol;
use crate::setups::{LateTrack, Outcome, SetupStatus, TrackedSetup, Transition, TransitionReason};

/// Longest note a setup keeps, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

/// A tracked setup as stored: the lifecycle value and the trader's notes.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupRow {
    pub setup: TrackedSetup,
    pub notes: String,
}

/// One line of a setup's journal. `from_status` is `None` for the event that created the
/// setup (reason `tracked`). `reason` is a [`TransitionReason`] name or `tracked`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupEvent {
    pub id: i64,
    pub setup_id: i64,
    pub from_status: Option<SetupStatus>,
    pub to_status: SetupStatus,
    pub reason: String,
    /// The price the transition happened at: the fill of a trigger, the exit of a target
    /// hit or stop-out (SPEC 5, honest fills); `None` for manual ones and expiry.
    pub price: Option<f64>,
    /// The attempt's result in R on the event that resolved it (`target_hit`,
    /// `stopped_out`), `None` on the others. It stays in the journal when the setup is
    /// reopened for a new attempt.
    pub realised_r: Option<f64>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What tracking a detection did.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackResult {
    /// A new active setup.
    Tracked(SetupRow),
    /// The user already tracks this detection (in any status but archived): that setup.
    AlreadyTracked(SetupRow),
}

impl TrackResult {
    pub fn row(&self) -> &SetupRow {
        match self {
            TrackResult::Tracked(row) | TrackResult::AlreadyTracked(row) => row,
        }
    }

    pub fn into_row(self) -> SetupRow {
        match self {
            TrackResult::Tracked(row) | TrackResult::AlreadyTracked(row) => row,
        }
    }
}

/// The reason written on the event that creates a setup.
pub const TRACKED_REASON: &str = "tracked";
/// The actor of the trader's own actions (tracking with `t`, the manual hotkeys).
pub const TRADER_ACTOR: &str = "trader";

macro_rules! columns {
    () => {
        "id, user_id, source_id, symbol, kind, direction, entry, stop, target, status, \
         outcome, realised_r, multi_day, market_date, notes, tracked_at, armed_at, \
         triggered_at, invalidated_at, archived_at, resolved_at, updated_at, version, \
         fill_price, exit_price"
    };
}

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM tracked_setups WHERE id = $1 AND user_id = $2"
);
const SELECT_ONE_LOCKED: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM tracked_setups WHERE id = $1 AND user_id = $2 FOR UPDATE"
);
/// The user's setup of a detection that blocks tracking it again: the active one first,
/// else the newest that is not archived.
const SELECT_BY_SOURCE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM tracked_setups WHERE user_id = $1 AND source_id = $2 AND status <> 'archived' \
     ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, id DESC LIMIT 1"
);
const INSERT: &str = concat!(
    "INSERT INTO tracked_setups (user_id, source_id, symbol, kind, direction, entry, stop, \
     target, status, multi_day, market_date, notes, tracked_at, armed_at, updated_at, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, '', $11, $11, $11, 1) \
     ON CONFLICT DO NOTHING RETURNING ",
    columns!()
);
const UPDATE_GUARDED: &str = concat!(
    "UPDATE tracked_setups SET status = $1, outcome = $2, realised_r = $3, armed_at = $4, \
     triggered_at = $5, invalidated_at = $6, archived_at = $7, resolved_at = $8, \
     updated_at = $9, version = $10, fill_price = $15, exit_price = $16 \
     WHERE id = $11 AND user_id = $12 AND version = $13 AND status = $14 RETURNING ",
    columns!()
);
const INSERT_EVENT: &str = "INSERT INTO setup_events \
     (setup_id, user_id, from_status, to_status, reason, price, actor, at, realised_r) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i64,
    source_id: Option<i64>,
    symbol: String,
    kind: String,
    direction: String,
    entry: f64,
    stop: f64,
    target: f64,
    status: String,
    outcome: Option<String>,
    realised_r: Option<f64>,
    multi_day: bool,
    market_date: NaiveDate,
    notes: String,
    tracked_at: DateTime<Utc>,
    armed_at: Option<DateTime<Utc>>,
    triggered_at: Option<DateTime<Utc>>,
    invalidated_at: Option<DateTime<Utc>>,
    archived_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    version: i64,
    fill_price: Option<f64>,
    exit_price: Option<f64>,
}

impl Row {
    fn into_row(self) -> Result<(UserId, SetupRow), StoreError> {
        let id = self.id;
        let bad = |field: &str, e: String| {
            StoreError::Corrupt(format!("tracked setup {id}: field {field}: {e}"))
        };
        let setup = TrackedSetup {
            id,
            source_id: self.source_id,
            symbol: Symbol::parse(&self.symbol).map_err(|e| bad("symbol", e.to_string()))?,
            kind: self.kind.parse().map_err(|e: String| bad("kind", e))?,
            direction: self
                .direction
                .parse()
                .map_err(|e: String| bad("direction", e))?,
            entry: self.entry,
            stop: self.stop,
            target: self.target,
            status: self.status.parse().map_err(|e: String| bad("status", e))?,
            outcome: self
                .outcome
                .as_deref()
                .map(str::parse::<Outcome>)
                .transpose()
                .map_err(|e| bad("outcome", e))?,
            fill_price: self.fill_price.filter(|p| p.is_finite()),
            exit_price: self.exit_price.filter(|p| p.is_finite()),
            realised_r: self.realised_r.filter(|r| r.is_finite()),
            multi_day: self.multi_day,
            market_date: self.market_date,
            version: self.version,
            tracked_at: self.tracked_at,
            armed_at: self.armed_at.unwrap_or(self.tracked_at),
            triggered_at: self.triggered_at,
            invalidated_at: self.invalidated_at,
            archived_at: self.archived_at,
            resolved_at: self.resolved_at,
            updated_at: self.updated_at,
        };
        Ok((
            UserId(self.user_id),
            SetupRow {
                setup,
                notes: self.notes,
            },
        ))
    }
}

/// Reads a list of rows; an unreadable row is skipped with a log line rather than hiding
/// every other setup.
fn readable(rows: Vec<Row>) -> Vec<(UserId, SetupRow)> {
    rows.into_iter()
        .filter_map(|row| match row.into_row() {
            Ok(pair) => Some(pair),
            Err(e) => {
                tracing::warn!("{e}; skipped");
                None
            }
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    setup_id: i64,
    from_status: Option<String>,
    to_status: String,
    reason: String,
    price: Option<f64>,
    realised_r: Option<f64>,
    actor: String,
    at: DateTime<Utc>,
}

impl EventRow {
    fn into_event(self) -> Result<SetupEvent, StoreError> {
        let id = self.id;
        let bad = |e: String| StoreError::Corrupt(format!("setup event {id}: {e}"));
        Ok(SetupEvent {
            id,
            setup_id: self.setup_id,
            from_status: self
                .from_status
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            to_status: self.to_status.parse().map_err(bad)?,
            reason: self.reason,
            price: self.price.filter(|p| p.is_finite()),
            realised_r: self.realised_r.filter(|r| r.is_finite()),
            actor: self.actor,
            at: self.at,
        })
    }
}

/// "active", "triggered (target hit)", …: the state named in conflict messages.
fn state_text(setup: &TrackedSetup) -> String {
    match (setup.status, setup.outcome) {
        (SetupStatus::Triggered, Some(o)) => {
            format!("triggered ({})", o.as_str().replace('_', " "))
        }
        (status, _) => status.as_str().to_string(),
    }
}

fn changed_meanwhile(current: &TrackedSetup) -> StoreError {
    StoreError::Conflict(format!(
        "setup {} changed meanwhile (now {}); nothing was applied",
        current.id,
        state_text(current)
    ))
}

fn reopen_refused(id: i64, twin: Option<i64>) -> StoreError {
    let twin = twin.map_or_else(|| "another setup".to_string(), |t| format!("setup {t}"));
    StoreError::Conflict(format!(
        "setup {id} cannot be reopened: {twin} already tracks the same detection and is \
         active; archive or invalidate it first"
    ))
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("setup {id} not found"))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_foreign_key_violation())
}

impl Store {
    /// Tracks a stored detection for the user, armed at `at`. The same detection tracked
    /// twice returns the existing setup (any status but archived) as `AlreadyTracked` —
    /// atomic under concurrency (the partial unique index on `(user_id, source_id) WHERE
    /// status = 'active'` is the backstop). The journal gets a `tracked` event by `trader`.
    pub async fn track(
        &self,
        user: UserId,
        detection: &StoredDetection,
        multi_day: bool,
        at: DateTime<Utc>,
    ) -> Result<TrackResult, StoreError> {
        self.track_as(user, detection, multi_day, at, TRADER_ACTOR)
            .await
    }

    /// [`Store::track`] with the actor written on the `tracked` event (`auto_track` for
    /// the auto-tracker).
    pub async fn track_as(
        &self,
        user: UserId,
        detection: &StoredDetection,
        multi_day: bool,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<TrackResult, StoreError> {
        self.track_judged(user, detection, multi_day, at, actor, &LateTrack::Fresh)
            .await
    }

    /// [`Store::track_as`] for a plan judged against the prices since its detection
    /// ([`crate::setups::judge_late_track`], SPEC 5): a verdict that refuses (its target
    /// or stop already traded) → [`StoreError::Invalid`] with the reason ("SPY
    /// orb_breakout: target already reached at 10:42 ET") and nothing written, unless the user already tracks the
    /// detection, which is answered first (`AlreadyTracked`, as always). A plan whose
    /// entry already passed is tracked; the caller tells the trader it fills at the next
    /// price.
    pub async fn track_judged(
        &self,
        user: UserId,
        detection: &StoredDetection,
        multi_day: bool,
        at: DateTime<Utc>,
        actor: &str,
        verdict: &LateTrack,
    ) -> Result<TrackResult, StoreError> {
        let source = detection.id;
        let plan = TrackedSetup::track(0, Some(source), &detection.detection, multi_day, at)
            .map_err(|e| {
                StoreError::Invalid(format!("detection {source} cannot be tracked: {e}"))
            })?;
        let (begin, _) = self.write_transaction();
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin_with(begin)
                .await
                .map_err(query_error("starting to track a setup"))?;
            let existing: Option<Row> = sqlx::query_as(SELECT_BY_SOURCE)
                .bind(user.0)
                .bind(source)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error("looking for the setup of a detection"))?;
            if let Some(row) = existing {
                return Ok(TrackResult::AlreadyTracked(row.into_row()?.1));
            }
            if let Some(reason) = verdict.refusal() {
                return Err(StoreError::Invalid(format!(
                    "{} {}: {reason}",
                    plan.symbol, plan.kind
                )));
            }
            let inserted: Option<Row> = sqlx::query_as(INSERT)
                .bind(user.0)
                .bind(source)
                .bind(plan.symbol.as_str())
                .bind(plan.kind.as_str())
                .bind(plan.direction.as_str())
                .bind(plan.entry)
                .bind(plan.stop)
                .bind(plan.target)
                .bind(plan.multi_day)
                .bind(plan.market_date)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| {
                    if is_foreign_key_violation(&e) {
                        StoreError::Invalid(format!(
                            "detection {source} is not stored; it cannot be tracked"
                        ))
                    } else {
                        StoreError::Query {
                            what: "tracking a setup",
                            source: e,
                        }
                    }
                })?;
            let Some(row) = inserted else {
                // Another writer tracked it between our look and our insert (PostgreSQL
                // READ COMMITTED): the index refused ours; theirs is visible now.
                let twin: Option<Row> = sqlx::query_as(SELECT_BY_SOURCE)
                    .bind(user.0)
                    .bind(source)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error("looking for the setup of a detection"))?;
                return match twin {
                    Some(row) => Ok(TrackResult::AlreadyTracked(row.into_row()?.1)),
                    None => Err(StoreError::Conflict(format!(
                        "detection {source} was being tracked at the same time; try again"
                    ))),
                };
            };
            let (_, row) = row.into_row()?;
            sqlx::query(INSERT_EVENT)
                .bind(row.setup.id)
                .bind(user.0)
                .bind(None::<&str>)
                .bind(SetupStatus::Active.as_str())
                .bind(TRACKED_REASON)
                .bind(None::<f64>)
                .bind(actor)
                .bind(at)
                .bind(None::<f64>)
                .execute(&mut *tx)
                .await
                .map_err(query_error("journaling a tracked setup"))?;
            tx.commit()
                .await
                .map_err(query_error("saving a tracked setup"))?;
            Ok(TrackResult::Tracked(row))
        })
    }

    /// The user's setups, newest tracked first; all statuses when `status` is `None`.
    pub async fn setups(
        &self,
        user: UserId,
        status: Option<SetupStatus>,
    ) -> Result<Vec<SetupRow>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM tracked_setups WHERE user_id = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY tracked_at DESC, id DESC"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .bind(status.map(SetupStatus::as_str))
            .fetch_all(pool)
            .await
            .map_err(query_error("reading tracked setups"))?);
        Ok(readable(rows).into_iter().map(|(_, row)| row).collect())
    }

    /// One of the user's setups; `None` if it does not exist or is another user's.
    pub async fn setup(&self, user: UserId, id: i64) -> Result<Option<SetupRow>, StoreError> {
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(SELECT_ONE)
            .bind(id)
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading a tracked setup"))?);
        row.map(|r| r.into_row().map(|(_, row)| row)).transpose()
    }

    /// Applies a transition computed on version `transition.from_version`, in one database
    /// transaction with its `setup_events` row (actor `actor`). A setup changed meanwhile
    /// (version or status mismatch) → [`StoreError::Conflict`] "setup 12 changed meanwhile
    /// (now triggered); nothing was applied"; a reopen while another active setup of the
    /// user tracks the same detection → `Conflict` naming that setup; a transition the
    /// setup's state does not allow → [`StoreError::Invalid`]; another user's or a missing
    /// setup → [`StoreError::NotFound`]. Returns the setup as written.
    pub async fn apply_transition(
        &self,
        user: UserId,
        transition: &Transition,
        actor: &str,
    ) -> Result<SetupRow, StoreError> {
        let t = transition;
        let id = t.setup_id;
        let (begin, lock) = self.write_transaction();
        let select = if lock { SELECT_ONE_LOCKED } else { SELECT_ONE };
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin_with(begin)
                .await
                .map_err(query_error("starting a setup transition"))?;
            let current: Option<Row> = sqlx::query_as(select)
                .bind(id)
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error("reading a tracked setup"))?;
            let (_, current) = current.ok_or_else(|| not_found(id))?.into_row()?;
            let current = current.setup;
            if current.version != t.from_version || current.status != t.from {
                return Err(changed_meanwhile(&current));
            }
            let mut next = current.clone();
            next.apply(t)
                .map_err(|refused| StoreError::Invalid(refused.to_string()))?;
            if t.reason == TransitionReason::Reopen
                && let Some(source) = next.source_id
            {
                const TWIN: &str = "SELECT id FROM tracked_setups WHERE user_id = $1 \
                     AND source_id = $2 AND status = 'active' AND id <> $3 LIMIT 1";
                let twin: Option<i64> = sqlx::query_scalar(TWIN)
                    .bind(user.0)
                    .bind(source)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error("looking for an active twin"))?;
                if twin.is_some() {
                    return Err(reopen_refused(id, twin));
                }
            }
            let updated: Option<Row> = sqlx::query_as(UPDATE_GUARDED)
                .bind(next.status.as_str())
                .bind(next.outcome.map(Outcome::as_str))
                .bind(next.realised_r)
                .bind(next.armed_at)
                .bind(next.triggered_at)
                .bind(next.invalidated_at)
                .bind(next.archived_at)
                .bind(next.resolved_at)
                .bind(next.updated_at)
                .bind(next.version)
                .bind(id)
                .bind(user.0)
                .bind(t.from_version)
                .bind(t.from.as_str())
                .bind(next.fill_price)
                .bind(next.exit_price)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        reopen_refused(id, None)
                    } else {
                        StoreError::Query {
                            what: "writing a setup transition",
                            source: e,
                        }
                    }
                })?;
            // The row is locked, so the guard cannot miss here; if it ever does, the
            // transition is refused rather than written blind.
            let Some(updated) = updated else {
                return Err(changed_meanwhile(&current));
            };
            let (_, row) = updated.into_row()?;
            // The attempt's result goes on the event that resolved it, so the journal keeps
            // it after a reopen clears the setup row for the next attempt.
            let resolved_r = match t.reason {
                TransitionReason::TargetHit | TransitionReason::StoppedOut => row.setup.realised_r,
                _ => None,
            };
            sqlx::query(INSERT_EVENT)
                .bind(id)
                .bind(user.0)
                .bind(Some(t.from.as_str()))
                .bind(t.to.as_str())
                .bind(t.reason.as_str())
                .bind(t.price.filter(|p| p.is_finite()))
                .bind(actor)
                .bind(t.at)
                .bind(resolved_r)
                .execute(&mut *tx)
                .await
                .map_err(query_error("journaling a setup transition"))?;
            tx.commit()
                .await
                .map_err(query_error("saving a setup transition"))?;
            Ok(row)
        })
    }

    /// Replaces the notes of one of the user's setups (at most [`MAX_NOTES_CHARS`]
    /// characters). Notes are not a transition: the version does not move, so an edit
    /// never makes the evaluator's next transition conflict.
    pub async fn set_notes(
        &self,
        user: UserId,
        id: i64,
        notes: &str,
        at: DateTime<Utc>,
    ) -> Result<SetupRow, StoreError> {
        let chars = notes.chars().count();
        if chars > MAX_NOTES_CHARS {
            return Err(StoreError::Invalid(format!(
                "notes of setup {id} are {chars} characters long; at most {MAX_NOTES_CHARS} fit"
            )));
        }
        const SQL: &str = concat!(
            "UPDATE tracked_setups SET notes = $1, updated_at = $2 \
             WHERE id = $3 AND user_id = $4 RETURNING ",
            columns!()
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(notes)
            .bind(at)
            .bind(id)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("saving the notes of a setup"))?);
        Ok(returned_row(rows)
            .ok_or_else(|| not_found(id))?
            .into_row()?
            .1)
    }

    /// Deletes one of the user's setups and its journal.
    pub async fn delete_setup(&self, user: UserId, id: i64) -> Result<(), StoreError> {
        const EVENTS: &str = "DELETE FROM setup_events WHERE setup_id = $1 AND user_id = $2";
        const SETUP: &str = "DELETE FROM tracked_setups WHERE id = $1 AND user_id = $2";
        let deleted = on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(query_error("starting to delete a setup"))?;
            sqlx::query(EVENTS)
                .bind(id)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(query_error("deleting a setup's journal"))?;
            let deleted = sqlx::query(SETUP)
                .bind(id)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(query_error("deleting a setup"))?
                .rows_affected();
            tx.commit().await.map_err(query_error("deleting a setup"))?;
            deleted
        });
        if deleted == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// The journal of one of the user's setups, oldest first (empty for another user's).
    pub async fn setup_events(&self, user: UserId, id: i64) -> Result<Vec<SetupEvent>, StoreError> {
        const SQL: &str = "SELECT id, setup_id, from_status, to_status, reason, price, \
             realised_r, actor, at FROM setup_events WHERE setup_id = $1 AND user_id = $2 \
             ORDER BY id";
        let rows: Vec<EventRow> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading a setup's journal"))?);
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// The journal of every setup of the user, by setup then oldest first (the journal's
    /// statistics, SPEC 18).
    pub async fn user_setup_events(&self, user: UserId) -> Result<Vec<SetupEvent>, StoreError> {
        const SQL: &str = "SELECT id, setup_id, from_status, to_status, reason, price, \
             realised_r, actor, at FROM setup_events WHERE user_id = $1 ORDER BY setup_id, id";
        let rows: Vec<EventRow> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the setups' journal"))?);
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// Every user's live setups (active, or triggered with an open outcome), for the
    /// evaluator.
    pub async fn live_setups(&self) -> Result<Vec<(UserId, SetupRow)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM tracked_setups WHERE status = 'active' \
             OR (status = 'triggered' AND outcome = 'open') ORDER BY id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the live setups"))?);
        Ok(readable(rows))
    }

    /// Whether the user ever tracked this detection (any status, archived included).
    pub async fn has_tracked_detection(
        &self,
        user: UserId,
        source_id: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "SELECT COUNT(*) FROM tracked_setups WHERE user_id = $1 AND source_id = $2";
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(user.0)
            .bind(source_id)
            .fetch_one(pool)
            .await
            .map_err(query_error("looking for the setups of a detection"))?);
        Ok(n > 0)
    }

    /// How many of the user's setups on `symbol` were tracked strictly between `from`
    /// and `to`.
    pub async fn setups_tracked_between(
        &self,
        user: UserId,
        symbol: &Symbol,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM tracked_setups WHERE user_id = $1 \
             AND symbol = $2 AND tracked_at > $3 AND tracked_at < $4";
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(user.0)
            .bind(symbol.as_str())
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await
            .map_err(query_error("counting recent setups"))?);
        Ok(n)
    }
}
