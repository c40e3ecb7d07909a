//! Carries out the store writes a key asked for, one at a time in the order pressed, and
//! reports each result back to the screen as an `AppEvent`. Nothing a trader does is
//! dropped: the queue is bounded, and a full queue makes the key wait, never discards it.
//!
//! While the database is unreachable (SPEC 14) the action at the head of the queue is
//! retried with backoff and the ones behind it wait, so they are applied in order once it
//! is back; the trader is told once. After the context's `patience` ([`GIVE_UP`] on the
//! screen) of continuous outage, each queued action is tried once more and reported as
//! failed if the database is still away.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::app::Effect;
use super::coach_runner::CoachRunner;
use crate::runtime::AppEvent;
use crate::runtime::alert_changes::{AlertChange, AlertChanges};
use crate::runtime::bus::MarketBus;
use crate::runtime::evaluate::judge_track;
use crate::runtime::gex::GexRequest;
use crate::runtime::setup_changes::{SetupChange, SetupChanges};
use crate::setups::{LateTrack, ManualAction, apply_manual};
use crate::store::{Store, StoreError, TRADER_ACTOR, TrackResult, UserId};

/// How long actions wait for a lost database before they are reported as failed.
pub const GIVE_UP: Duration = Duration::from_secs(120);
/// Retry delays: from the first to the longest.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct ActionRunner {
    queue: mpsc::Sender<Effect>,
}

/// What the runner needs to act for the trader.
pub struct ActionContext {
    pub store: Store,
    pub user: UserId,
    pub bus: MarketBus,
    pub events: mpsc::Sender<AppEvent>,
    /// Requests to the GEX worker.
    pub gex: mpsc::Sender<GexRequest>,
    /// Every setup the trader changes is published here, so the evaluator follows.
    pub changes: SetupChanges,
    /// The AI coach, when `[llm]` is configured.
    pub coach: Option<CoachRunner>,
    /// How long actions wait for a lost database before they are reported as failed
    /// ([`GIVE_UP`] on the screen).
    pub patience: Duration,
    /// Every alert the trader adds or removes is published here, likewise.
    pub alert_changes: AlertChanges,
    /// Requests to the brief scheduler.
    pub brief: mpsc::Sender<crate::runtime::brief::BriefRequest>,
}

impl ActionRunner {
    pub fn spawn(ctx: ActionContext) -> ActionRunner {
        let (queue, mut rx) = mpsc::channel::<Effect>(256);
        tokio::spawn(async move {
            let mut outage: Option<Instant> = None;
            while let Some(effect) = rx.recv().await {
                let event = perform_when_reachable(&ctx, effect, &mut outage).await;
                if let Some(event) = event
                    && ctx.events.send(event).await.is_err()
                {
                    return;
                }
            }
        });
        ActionRunner { queue }
    }

    /// Queues a store write; waits while 256 are already queued.
    pub async fn submit(&self, effect: Effect) {
        if self.queue.send(effect).await.is_err() {
            tracing::error!("the action runner stopped; an action was not carried out");
        }
    }
}

/// Performs `effect`, retrying while the database is unreachable (`outage` is when it was
/// first found unreachable; cleared by any success).
async fn perform_when_reachable(
    ctx: &ActionContext,
    effect: Effect,
    outage: &mut Option<Instant>,
) -> Option<AppEvent> {
    let mut delay = FIRST_RETRY;
    let mut told = false;
    loop {
        match perform(ctx, effect.clone()).await {
            Ok(event) => {
                if outage.take().is_some() || told {
                    tracing::info!("the database is back; queued actions are being applied");
                }
                return event;
            }
            Err(e) => {
                let since = *outage.get_or_insert_with(Instant::now);
                if since.elapsed() >= ctx.patience {
                    return Some(AppEvent::ActionFailed(format!(
                        "not done: the database has been unreachable for over {} s ({e})",
                        ctx.patience.as_secs()
                    )));
                }
                if !told {
                    told = true;
                    let notice = AppEvent::ActionFailed(
                        "database unreachable: your actions wait and will be applied in order"
                            .into(),
                    );
                    if ctx.events.send(notice).await.is_err() {
                        return None;
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(LONGEST_RETRY);
            }
        }
    }
}

/// Hands an unreachable-database error up (the action is retried); keeps the others,
/// which are the action's answer.
fn answer(e: StoreError) -> Result<StoreError, StoreError> {
    if e.is_unavailable() { Err(e) } else { Ok(e) }
}

/// The action's result for the screen; `Err` only when the database is unreachable.
async fn perform(ctx: &ActionContext, effect: Effect) -> Result<Option<AppEvent>, StoreError> {
    Ok(match effect {
        Effect::SaveWatchlist(symbols) => {
            match ctx
                .store
                .set_default_symbols(ctx.user, &symbols, Utc::now())
                .await
            {
                Ok(watchlist) => Some(AppEvent::WatchlistSaved {
                    watchlist,
                    market: ctx.bus.snapshot().await,
                }),
                Err(e) => Some(AppEvent::ActionFailed(format!(
                    "watchlist not saved: {}",
                    answer(e)?
                ))),
            }
        }
        Effect::LoadBars(_) => ctx.bus.snapshot().await.map(AppEvent::Market),
        Effect::Gex(request) => match ctx.gex.try_send(request) {
            Ok(()) => None,
            Err(_) => Some(AppEvent::ActionFailed(
                "the GEX worker is busy or not running; see Health".into(),
            )),
        },
        Effect::Brief(request) => match ctx.brief.try_send(request) {
            Ok(()) => None,
            Err(_) => Some(AppEvent::ActionFailed(
                "the brief scheduler is busy or not running; see Health".into(),
            )),
        },
        Effect::Track { detection, at } => {
            // SPEC 5: refused when the target or stop already traded since the detection,
            // a warning on the status line when the entry already passed.
            let verdict = match ctx.bus.snapshot().await {
                Some(snapshot) => judge_track(&snapshot, &detection.detection),
                None => LateTrack::Fresh,
            };
            let tracking =
                ctx.store
                    .track_judged(ctx.user, &detection, false, at, TRADER_ACTOR, &verdict);
            let result = match tracking.await {
                Err(e) => Err(answer(e)?),
                ok => ok,
            };
            if let Ok(tracked) = &result {
                ctx.changes
                    .publish(SetupChange::written(ctx.user, tracked.row().clone()));
            }
            let warning = match (&result, verdict.warning()) {
                (Ok(TrackResult::Tracked(row)), Some(w)) => Some(format!(
                    "tracked {} {}: {w}",
                    row.setup.symbol, row.setup.kind
                )),
                _ => None,
            };
            let tracked = AppEvent::Tracked {
                detection_id: detection.id,
                result: result.map_err(|e| e.to_string()),
            };
            match warning {
                // The warning follows the result on the status line.
                Some(w) => {
                    if ctx.events.send(tracked).await.is_err() {
                        return Ok(None);
                    }
                    Some(AppEvent::Notice(w))
                }
                None => Some(tracked),
            }
        }
        Effect::Manual { id, action, at } => Some(manual(ctx, id, action, at).await?),
        Effect::SaveNote { id, text, at } => {
            match ctx.store.set_notes(ctx.user, id, &text, at).await {
                Ok(row) => {
                    ctx.changes
                        .publish(SetupChange::written(ctx.user, row.clone()));
                    let changed = AppEvent::SetupChanged {
                        user: ctx.user,
                        row,
                        transition: None,
                    };
                    if ctx.events.send(changed).await.is_err() {
                        return Ok(None);
                    }
                    // Replaces "saving note…" on the status line: the note is stored.
                    Some(AppEvent::Notice(format!("note saved on setup {id}")))
                }
                Err(e) => Some(AppEvent::ActionFailed(format!(
                    "note not saved: {}",
                    answer(e)?
                ))),
            }
        }
        Effect::Delete { id } => match ctx.store.delete_setup(ctx.user, id).await {
            Ok(()) => {
                ctx.changes.publish(SetupChange::deleted(ctx.user, id));
                Some(AppEvent::SetupDeleted(id))
            }
            Err(e) => Some(AppEvent::ActionFailed(format!(
                "setup {id} not deleted: {}",
                answer(e)?
            ))),
        },
        Effect::LoadHistory { id } => match ctx.store.setup_events(ctx.user, id).await {
            Ok(events) => {
                // A rationale that cannot be read leaves the details without it.
                let rationale = ctx
                    .store
                    .setup_rationale(ctx.user, id)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!("rationale of setup {id}: {e}");
                        None
                    });
                Some(AppEvent::History {
                    id,
                    events,
                    rationale,
                })
            }
            Err(e) => Some(AppEvent::ActionFailed(format!(
                "history of setup {id}: {}",
                answer(e)?
            ))),
        },
        Effect::CoachAsk { question, context } => match &ctx.coach {
            Some(coach) => {
                coach.ask(question, context);
                None
            }
            None => Some(AppEvent::Coach(crate::coach::CoachEvent::Failed(
                crate::config::HOW_TO_CONFIGURE.into(),
            ))),
        },
        Effect::CoachCancel => {
            if let Some(coach) = &ctx.coach {
                coach.cancel();
            }
            None
        }
        Effect::AddAlert(alert) => Some(add_alert(ctx, alert).await),
        Effect::RemoveAlert { id } => Some(match ctx.store.remove_alert(ctx.user, id).await {
            Ok(()) => {
                ctx.alert_changes.publish(AlertChange {
                    user: ctx.user,
                    id,
                    alert: None,
                });
                alerts_saved(ctx, format!("alert {id} removed")).await
            }
            Err(e) => AppEvent::ActionFailed(format!("alert {id} not removed: {e}")),
        }),
        Effect::Snooze { target, choice } => Some(snooze(ctx, target, choice).await),
        Effect::Quit | Effect::FullRedraw => None,
    })
}

/// Stores a snooze counted from now (wall clock: the alert dispatcher compares with it),
/// forgetting the ones already over.
async fn snooze(
    ctx: &ActionContext,
    target: crate::notify::snooze::SnoozeTarget,
    choice: crate::notify::snooze::SnoozeFor,
) -> AppEvent {
    let now = chrono::Utc::now();
    let until = choice.until(now);
    if let Err(e) = ctx.store.prune_snoozes(now).await {
        tracing::debug!("old snoozes not pruned: {e}");
    }
    match ctx.store.snooze(target, until).await {
        Ok(()) => AppEvent::Notice(format!(
            "{target} snoozed until {} ET: no channel or desktop notification before then",
            until
                .with_timezone(&chrono_tz::America::New_York)
                .format("%a %H:%M")
        )),
        Err(e) => AppEvent::ActionFailed(format!("{target} not snoozed: {e}")),
    }
}

/// How many times a manual action is computed again because the evaluator moved the
/// setup between the read and the write.
const RACES: usize = 3;

/// A manual transition computed on the setup as the store has it now, written with the
/// version guard. If the evaluator moved the setup meanwhile (price triggered it as the
/// trader pressed `i`), the action is computed again on the new state, so the trader's
/// action is applied whenever the new state allows it; otherwise the trader is told why
/// not, and nothing else changes.
async fn manual(
    ctx: &ActionContext,
    id: i64,
    action: ManualAction,
    at: DateTime<Utc>,
) -> Result<AppEvent, StoreError> {
    // The version the last refused write was computed on, and why it was refused.
    let mut conflict: Option<(i64, StoreError)> = None;
    let mut races = 0;
    loop {
        let row = match ctx.store.setup(ctx.user, id).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                return Ok(AppEvent::ActionFailed(format!(
                    "setup {id} no longer exists"
                )));
            }
            Err(e) => return Ok(AppEvent::ActionFailed(answer(e)?.to_string())),
        };
        if let Some((version, refused)) = conflict.take()
            && version == row.setup.version
        {
            // Not a race: the setup is as it was (e.g. a twin blocks a reopen).
            return Ok(AppEvent::ActionFailed(refused.to_string()));
        }
        // Never before the setup's last change: the journal stays in time order when the
        // evaluator's write (at a later market instant) came first.
        let at = at.max(row.setup.updated_at);
        let transition = match apply_manual(&row.setup, action, at) {
            Ok(t) => t,
            Err(refused) => return Ok(AppEvent::ActionFailed(refused.to_string())),
        };
        match ctx
            .store
            .apply_transition(ctx.user, &transition, TRADER_ACTOR)
            .await
        {
            Ok(row) => {
                ctx.changes
                    .publish(SetupChange::written(ctx.user, row.clone()));
                return Ok(AppEvent::SetupChanged {
                    user: ctx.user,
                    row,
                    transition: Some(transition),
                });
            }
            Err(e @ StoreError::Conflict(_)) if races < RACES => {
                races += 1;
                conflict = Some((transition.from_version, e));
            }
            Err(e) => return Ok(AppEvent::ActionFailed(answer(e)?.to_string())),
        }
    }
}

/// Stores an alert, hands it to the evaluator, and says whether the feed quotes its
/// symbol now (a symbol off the feed is quoted from the next start).
async fn add_alert(ctx: &ActionContext, alert: crate::store::NewAlert) -> AppEvent {
    let stored = match ctx.store.add_alert(ctx.user, &alert, Utc::now()).await {
        Ok(stored) => stored,
        Err(e) => return AppEvent::ActionFailed(format!("alert not set: {e}")),
    };
    ctx.alert_changes.publish(AlertChange {
        user: ctx.user,
        id: stored.id,
        alert: Some(stored.clone()),
    });
    let fed = ctx
        .bus
        .snapshot()
        .await
        .is_some_and(|m| m.symbols.iter().any(|s| s.symbol == stored.symbol));
    let mut message = format!(
        "alert {} set: {} {}{}",
        stored.id,
        stored.symbol,
        stored.condition,
        if stored.repeat { " (repeats)" } else { "" }
    );
    if !fed {
        message.push_str(&format!(
            "; {} is not in this session's feed, it is quoted from the next start",
            stored.symbol
        ));
    }
    alerts_saved(ctx, message).await
}

async fn alerts_saved(ctx: &ActionContext, message: String) -> AppEvent {
    match ctx.store.alerts(ctx.user).await {
        Ok(alerts) => AppEvent::AlertsSaved { alerts, message },
        Err(e) => AppEvent::ActionFailed(format!("{message}, but the alerts list: {e}")),
    }
}
