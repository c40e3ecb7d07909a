//! The tracked-setup state machine (SPEC 5): statuses, outcomes, transitions, the version
//! guard that makes applying a transition exactly-once, and the manual actions.
//!
//! States (status, outcome):
//!
//! | state | meaning |
//! |---|---|
//! | `active` | armed, waiting for price to cross the entry |
//! | `triggered` + `open` | entry traded through; waiting for target or stop |
//! | `triggered` + `target_hit` / `stopped_out` | resolved, with its exit price and realised R |
//! | `invalidated` | failed before entry (stop first, or expired), or marked so |
//! | `archived` | put away; keeps its outcome and R if it had one |
//!
//! Every transition, automatic or manual, is legal only from certain states; the table is
//! [`next_state`]. Manual actions ([`apply_manual`]):
//!
//! | action ↓ / from → | active | triggered, open | triggered, resolved | invalidated | archived |
//! |---|---|---|---|---|---|
//! | trigger | triggered, open | refused (already) | refused (already) | refused: reopen first | refused: reopen first |
//! | invalidate | invalidated | invalidated (trade abandoned, no R) | refused: archive instead | refused (already) | refused: reopen first |
//! | archive | archived | archived (outcome kept) | archived (outcome kept) | archived | refused (already) |
//! | reopen | refused (already) | active | active | active | active |
//!
//! Reopening starts a new attempt: it clears the outcome, the fill and exit prices, the R
//! and the triggered/invalidated/archived/resolved instants, and re-arms the setup at that
//! instant. The earlier attempt's result stays in the event journal (the store writes
//! every transition's price there, and each resolved attempt's R), which is the setup's
//! history.
//! Refusing a reopen because the same source already has another active setup is the
//! store's job (it needs the other rows).
//!
//! **Honest fills** (SPEC 5): the fill is the price of the transition that triggered the
//! setup, the exit the price of the one that resolved it (the level crossed, or the
//! update's price nearest to it when the update lay beyond it; see `evaluate`), and the
//! realised R is measured between those two prices, not at the plan's levels.
//!
//! Prices are in the instrument's quote currency; instants are UTC.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Detection, Direction, SetupKind, Symbol};

/// Where a tracked setup is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupStatus {
    Active,
    Triggered,
    Invalidated,
    Archived,
}

impl SetupStatus {
    pub const ALL: [SetupStatus; 4] = [
        SetupStatus::Active,
        SetupStatus::Triggered,
        SetupStatus::Invalidated,
        SetupStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SetupStatus::Active => "active",
            SetupStatus::Triggered => "triggered",
            SetupStatus::Invalidated => "invalidated",
            SetupStatus::Archived => "archived",
        }
    }
}

/// What happened after the entry: still open, target reached, or stopped out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Open,
    TargetHit,
    StoppedOut,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Open, Outcome::TargetHit, Outcome::StoppedOut];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::TargetHit => "target_hit",
            Outcome::StoppedOut => "stopped_out",
        }
    }

    /// Target hit or stopped out: nothing more can happen by price.
    pub fn is_final(self) -> bool {
        self != Outcome::Open
    }
}

/// Why a transition happened; stored in `setup_events.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionReason {
    /// Price traded through the entry of an active setup.
    EntryCrossed,
    /// Price reached the stop of an active setup before its entry.
    StopBeforeEntry,
    /// A triggered setup reached its target.
    TargetHit,
    /// A triggered setup reached its stop.
    StoppedOut,
    /// An active, single-day setup reached the session close.
    Expired,
    ManualTrigger,
    ManualInvalidate,
    ManualArchive,
    Reopen,
}

impl TransitionReason {
    pub const ALL: [TransitionReason; 9] = [
        TransitionReason::EntryCrossed,
        TransitionReason::StopBeforeEntry,
        TransitionReason::TargetHit,
        TransitionReason::StoppedOut,
        TransitionReason::Expired,
        TransitionReason::ManualTrigger,
        TransitionReason::ManualInvalidate,
        TransitionReason::ManualArchive,
        TransitionReason::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransitionReason::EntryCrossed => "entry_crossed",
            TransitionReason::StopBeforeEntry => "stop_before_entry",
            TransitionReason::TargetHit => "target_hit",
            TransitionReason::StoppedOut => "stopped_out",
            TransitionReason::Expired => "expired",
            TransitionReason::ManualTrigger => "manual_trigger",
            TransitionReason::ManualInvalidate => "manual_invalidate",
            TransitionReason::ManualArchive => "manual_archive",
            TransitionReason::Reopen => "reopen",
        }
    }

    /// True for the trader's actions, false for the evaluator's rules.
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            TransitionReason::ManualTrigger
                | TransitionReason::ManualInvalidate
                | TransitionReason::ManualArchive
                | TransitionReason::Reopen
        )
    }

    /// How a refusal names the action ("marked triggered", "reopened", ...).
    fn verb(self) -> &'static str {
        match self {
            TransitionReason::EntryCrossed => "triggered by price",
            TransitionReason::StopBeforeEntry => "invalidated by its stop",
            TransitionReason::TargetHit => "resolved at its target",
            TransitionReason::StoppedOut => "stopped out",
            TransitionReason::Expired => "expired",
            TransitionReason::ManualTrigger => "marked triggered",
            TransitionReason::ManualInvalidate => "invalidated",
            TransitionReason::ManualArchive => "archived",
            TransitionReason::Reopen => "reopened",
        }
    }
}

macro_rules! text_enum {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} {:?}", $what, crate::text::printable(s)))
            }
        }
    };
}

text_enum!(SetupStatus, "setup status");
text_enum!(Outcome, "setup outcome");
text_enum!(TransitionReason, "transition reason");

/// A trade plan the trader tracks, with where it is in its life.
///
/// Invariants kept by [`TrackedSetup::track`] and [`TrackedSetup::apply`]: the plan is
/// ordered (long `stop < entry < target`, short `target < entry < stop`, all finite and
/// positive); `outcome` and `fill_price` are `Some` exactly when the setup triggered and
/// was not reopened or invalidated since (they survive archiving); `exit_price` and
/// `realised_r` are `Some` exactly when the outcome is final.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackedSetup {
    pub id: i64,
    /// The detection this setup was tracked from, if any (manual setups have none).
    pub source_id: Option<i64>,
    pub symbol: Symbol,
    pub kind: SetupKind,
    pub direction: Direction,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
    pub status: SetupStatus,
    pub outcome: Option<Outcome>,
    /// The price the setup was filled at: the triggering transition's price (the entry, or
    /// the update's price nearest to it when price was already beyond it); the plan's entry
    /// for a manual trigger, which carries no price. `Some` exactly when `outcome` is.
    /// (`serde(default)`: values serialized before honest fills read as unknown.)
    #[serde(default)]
    pub fill_price: Option<f64>,
    /// The price the trade was closed at: the resolving transition's price (the target or
    /// stop, or the update's price nearest to it after a gap). `Some` exactly when the
    /// outcome is final.
    #[serde(default)]
    pub exit_price: Option<f64>,
    /// Realised result in R (multiples of the planned risk |entry − stop|) between the
    /// fill and exit prices: (exit − fill) / |entry − stop|, sign reversed for shorts
    /// ([`realised_r`]). A fill beyond the entry or a gap through the stop books what really
    /// happened, so a stopped-out trade books −1 R or worse.
    pub realised_r: Option<f64>,
    /// Set by the detector for plans that stay armed across sessions; others expire at
    /// the close.
    pub multi_day: bool,
    /// The New York session date the plan was made for.
    pub market_date: NaiveDate,
    /// Bumped by one on every applied transition; the store's optimistic guard.
    pub version: i64,
    pub tracked_at: DateTime<Utc>,
    /// When the setup last became active: `tracked_at`, or the last reopen. Price updates
    /// at or before this instant are not evaluated against an active setup.
    pub armed_at: DateTime<Utc>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub invalidated_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    /// When the outcome became final (target hit or stopped out).
    pub resolved_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Why a plan cannot be tracked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{field} {value} is not a finite positive price")]
    NotAPrice { field: &'static str, value: f64 },
    #[error("a {direction} plan needs {order}; got stop {stop}, entry {entry}, target {target}")]
    Misordered {
        direction: Direction,
        order: &'static str,
        entry: f64,
        stop: f64,
        target: f64,
    },
}

/// Checks that a plan's levels are prices and are ordered for its direction.
pub fn check_plan(
    direction: Direction,
    entry: f64,
    stop: f64,
    target: f64,
) -> Result<(), PlanError> {
    for (field, value) in [("entry", entry), ("stop", stop), ("target", target)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(PlanError::NotAPrice { field, value });
        }
    }
    let (ordered, order) = match direction {
        Direction::Long => (stop < entry && entry < target, "stop < entry < target"),
        Direction::Short => (target < entry && entry < stop, "target < entry < stop"),
    };
    if ordered {
        Ok(())
    } else {
        Err(PlanError::Misordered {
            direction,
            order,
            entry,
            stop,
            target,
        })
    }
}

impl TrackedSetup {
    /// A new active setup for a detection's plan, tracked (and armed) at `at`, version 1.
    pub fn track(
        id: i64,
        source_id: Option<i64>,
        detection: &Detection,
        multi_day: bool,
        at: DateTime<Utc>,
    ) -> Result<Self, PlanError> {
        check_plan(
            detection.direction,
            detection.entry,
            detection.stop,
            detection.target,
        )?;
        Ok(TrackedSetup {
            id,
            source_id,
            symbol: detection.symbol.clone(),
            kind: detection.kind,
            direction: detection.direction,
            entry: detection.entry,
            stop: detection.stop,
            target: detection.target,
            status: SetupStatus::Active,
            outcome: None,
            fill_price: None,
            exit_price: None,
            realised_r: None,
            multi_day,
            market_date: detection.market_date,
            version: 1,
            tracked_at: at,
            armed_at: at,
            triggered_at: None,
            invalidated_at: None,
            archived_at: None,
            resolved_at: None,
            updated_at: at,
        })
    }

    /// Checks this setup's plan (fields are public, e.g. loaded from a database).
    pub fn check_plan(&self) -> Result<(), PlanError> {
        check_plan(self.direction, self.entry, self.stop, self.target)
    }

    /// Whether price updates can still move this setup: active, or triggered with an
    /// open outcome.
    pub fn is_live(&self) -> bool {
        match self.status {
            SetupStatus::Active => true,
            SetupStatus::Triggered => self.outcome == Some(Outcome::Open),
            SetupStatus::Invalidated | SetupStatus::Archived => false,
        }
    }

    /// The plan's reward in R: |target − entry| / |entry − stop| (0 for a degenerate plan).
    pub fn target_r(&self) -> f64 {
        let risk = (self.entry - self.stop).abs();
        let r = (self.target - self.entry).abs() / risk;
        if r.is_finite() { r } else { 0.0 }
    }

    /// Applies a transition computed on this setup's current version: status, outcome,
    /// R, timestamps, `updated_at = transition.at` and `version + 1`.
    ///
    /// Refused — and the setup left unchanged — when the transition is for another
    /// setup, was computed on another version (so applying the same transition twice is
    /// refused), or does not follow the transition table.
    pub fn apply(&mut self, t: &Transition) -> Result<(), RefusedTransition> {
        if t.setup_id != self.id {
            return Err(RefusedTransition::WrongSetup {
                id: self.id,
                transition_for: t.setup_id,
            });
        }
        if t.from_version != self.version || t.from != self.status {
            return Err(RefusedTransition::Stale {
                id: self.id,
                expected: t.from_version,
                current: self.version,
            });
        }
        let (to, outcome) = next_state(self.id, self.status, self.outcome, t.reason)?;
        if (to, outcome) != (t.to, t.outcome) {
            return Err(RefusedTransition::NotAllowed {
                id: self.id,
                message: format!(
                    "setup {}: a {} transition leads to {}, not to {}",
                    self.id,
                    t.reason,
                    describe(to, outcome),
                    describe(t.to, t.outcome)
                ),
            });
        }
        let version = self
            .version
            .checked_add(1)
            .ok_or_else(|| RefusedTransition::NotAllowed {
                id: self.id,
                message: format!("setup {} has reached the last version number", self.id),
            })?;
        // A transition's price, when it is a usable price; else the plan's level.
        let price_or = |level: f64| {
            t.price
                .filter(|p| p.is_finite() && *p > 0.0)
                .unwrap_or(level)
        };
        match t.reason {
            TransitionReason::EntryCrossed | TransitionReason::ManualTrigger => {
                self.triggered_at = Some(t.at);
                self.fill_price = Some(price_or(self.entry));
                self.exit_price = None;
                self.realised_r = None;
            }
            TransitionReason::TargetHit | TransitionReason::StoppedOut => {
                let level = if t.reason == TransitionReason::TargetHit {
                    self.target
                } else {
                    self.stop
                };
                let exit = price_or(level);
                let fill = self.fill_price.unwrap_or(self.entry);
                self.resolved_at = Some(t.at);
                self.fill_price = Some(fill);
                self.exit_price = Some(exit);
                self.realised_r = Some(realised_r(
                    self.direction,
                    self.entry,
                    self.stop,
                    fill,
                    exit,
                ));
            }
            TransitionReason::StopBeforeEntry
            | TransitionReason::Expired
            | TransitionReason::ManualInvalidate => {
                self.invalidated_at = Some(t.at);
                self.fill_price = None;
                self.exit_price = None;
                self.realised_r = None;
            }
            TransitionReason::ManualArchive => self.archived_at = Some(t.at),
            TransitionReason::Reopen => {
                self.armed_at = t.at;
                self.triggered_at = None;
                self.invalidated_at = None;
                self.archived_at = None;
                self.resolved_at = None;
                self.fill_price = None;
                self.exit_price = None;
                self.realised_r = None;
            }
        }
        self.status = to;
        self.outcome = outcome;
        self.version = version;
        self.updated_at = t.at;
        Ok(())
    }
}

/// The result in R of a trade filled at `fill` and closed at `exit`, in multiples of the
/// plan's risk |entry − stop|: (exit − fill) / risk for a long, (fill − exit) / risk for a
/// short. 0 for a degenerate plan (no risk) or prices that are not finite.
pub fn realised_r(direction: Direction, entry: f64, stop: f64, fill: f64, exit: f64) -> f64 {
    let risk = (entry - stop).abs();
    let r = direction.sign() * (exit - fill) / risk;
    if r.is_finite() { r } else { 0.0 }
}

/// One change of a setup's state, computed on `from_version` and applied with
/// [`TrackedSetup::apply`]. `outcome` is the outcome after the transition. `price` is the
/// price the transition happened at (see `evaluate`): the fill of a trigger, the exit of a
/// resolution; `None` for manual ones (a manual trigger fills at the plan's entry) and
/// expiry.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub setup_id: i64,
    pub from_version: i64,
    pub from: SetupStatus,
    pub to: SetupStatus,
    pub outcome: Option<Outcome>,
    pub reason: TransitionReason,
    pub price: Option<f64>,
    pub at: DateTime<Utc>,
}

impl Transition {
    /// The transition `reason` would make on `setup` now, if the table allows it.
    pub fn compute(
        setup: &TrackedSetup,
        reason: TransitionReason,
        price: Option<f64>,
        at: DateTime<Utc>,
    ) -> Result<Transition, RefusedTransition> {
        let (to, outcome) = next_state(setup.id, setup.status, setup.outcome, reason)?;
        Ok(Transition {
            setup_id: setup.id,
            from_version: setup.version,
            from: setup.status,
            to,
            outcome,
            reason,
            price,
            at,
        })
    }
}

/// Why a transition was not made; the message is written for the trader.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefusedTransition {
    /// The action does not apply to the setup's state ("setup 12 is already archived").
    #[error("{message}")]
    NotAllowed { id: i64, message: String },
    /// The setup changed since the transition was computed (or it was already applied).
    #[error(
        "setup {id} changed since this change was prepared (it is at version {current}, \
         the change was for version {expected}); reload it and try again"
    )]
    Stale {
        id: i64,
        expected: i64,
        current: i64,
    },
    #[error("a change for setup {transition_for} cannot be applied to setup {id}")]
    WrongSetup { id: i64, transition_for: i64 },
    /// The evaluator holds no live setup with this id.
    #[error("setup {id} is not among the live setups")]
    UnknownSetup { id: i64 },
}

/// The trader's actions on a tracked setup (hotkeys `x`, `i`, `a`, `o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManualAction {
    Trigger,
    Invalidate,
    Archive,
    Reopen,
}

impl ManualAction {
    pub const ALL: [ManualAction; 4] = [
        ManualAction::Trigger,
        ManualAction::Invalidate,
        ManualAction::Archive,
        ManualAction::Reopen,
    ];

    pub fn reason(self) -> TransitionReason {
        match self {
            ManualAction::Trigger => TransitionReason::ManualTrigger,
            ManualAction::Invalidate => TransitionReason::ManualInvalidate,
            ManualAction::Archive => TransitionReason::ManualArchive,
            ManualAction::Reopen => TransitionReason::Reopen,
        }
    }
}

/// The transition a manual action makes at `at`, or why it is refused (see the table in
/// the module documentation).
pub fn apply_manual(
    setup: &TrackedSetup,
    action: ManualAction,
    at: DateTime<Utc>,
) -> Result<Transition, RefusedTransition> {
    Transition::compute(setup, action.reason(), None, at)
}

/// The transition table: the (status, outcome) that `reason` leads to from a state, or a
/// refusal naming the setup and its state.
pub fn next_state(
    id: i64,
    status: SetupStatus,
    outcome: Option<Outcome>,
    reason: TransitionReason,
) -> Result<(SetupStatus, Option<Outcome>), RefusedTransition> {
    use SetupStatus::{Active, Archived, Invalidated, Triggered};
    use TransitionReason as R;
    let open = outcome == Some(Outcome::Open);
    let next = match (reason, status) {
        (R::EntryCrossed | R::ManualTrigger, Active) => Some((Triggered, Some(Outcome::Open))),
        (R::StopBeforeEntry | R::Expired, Active) => Some((Invalidated, None)),
        (R::TargetHit, Triggered) if open => Some((Triggered, Some(Outcome::TargetHit))),
        (R::StoppedOut, Triggered) if open => Some((Triggered, Some(Outcome::StoppedOut))),
        (R::ManualInvalidate, Active) => Some((Invalidated, None)),
        (R::ManualInvalidate, Triggered) if open => Some((Invalidated, None)),
        (R::ManualArchive, Active | Triggered | Invalidated) => Some((Archived, outcome)),
        (R::Reopen, Triggered | Invalidated | Archived) => Some((Active, None)),
        _ => None,
    };
    next.ok_or_else(|| RefusedTransition::NotAllowed {
        id,
        message: refusal_message(id, status, outcome, reason),
    })
}

fn refusal_message(
    id: i64,
    status: SetupStatus,
    outcome: Option<Outcome>,
    reason: TransitionReason,
) -> String {
    use SetupStatus::{Active, Archived, Invalidated, Triggered};
    use TransitionReason as R;
    let state = describe(status, outcome);
    let already = matches!(
        (reason, status),
        (R::ManualTrigger | R::EntryCrossed, Triggered)
            | (R::ManualInvalidate, Invalidated)
            | (R::ManualArchive, Archived)
            | (R::Reopen, Active)
    );
    if already {
        return format!("setup {id} is already {state}");
    }
    let hint = match (reason, status) {
        (R::ManualTrigger | R::ManualInvalidate, Invalidated | Archived) => "; reopen it first",
        (R::ManualInvalidate, Triggered) => "; archive it instead",
        _ => "",
    };
    format!(
        "setup {id} cannot be {}: it is {state}{hint}",
        reason.verb()
    )
}

/// "active", "triggered (open)", "triggered (target hit)", "archived", ...
fn describe(status: SetupStatus, outcome: Option<Outcome>) -> String {
    match (status, outcome) {
        (SetupStatus::Triggered, Some(o)) => {
            format!("triggered ({})", o.as_str().replace('_', " "))
        }
        (SetupStatus::Archived, Some(o)) if o.is_final() => {
            format!("archived ({})", o.as_str().replace('_', " "))
        }
        (status, _) => status.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests;
