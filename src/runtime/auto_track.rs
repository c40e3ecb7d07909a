//! Auto-tracking (SPEC 5, `[setups] auto_track = true`): a small worker that sits between
//! the detector and the screen. Every detector event is forwarded to the screen first
//! (the screen never waits on tracking); each detection is then tracked for the
//! configured user when
//! - its symbol is on the user's default watchlist,
//! - the user never tracked that detection before (any status, archived included: a
//!   setup the trader put away is not brought back),
//! - no setup of the user on that symbol was tracked within 5 minutes of the detection
//!   (detection time, so a replay decides the same), and
//! - it is at most 15 minutes older than the market (the detector re-sends the session's
//!   stored detections when it starts; a restart must not track the morning's plans), and
//! - neither its target nor its stop traded since the detection (SPEC 5: judged on the
//!   feed's snapshot by [`judge_track`]; a plan whose entry already passed is tracked and
//!   fills at the next price, which the log says), and
//! - its kind has no negative edge in the stored backtest statistics (SPEC 18:
//!   `stats::edge::is_negative_edge`, the average-R 95 % interval below zero over ≥ 100
//!   trades); the log says so once per kind.
//!
//! Tracked setups are armed at the detection instant (the bar end that fired it), written
//! with actor `auto_track`, published on [`SetupChanges`] (the evaluator picks them up)
//! and sent to the screen as [`AppEvent::SetupChanged`] without a transition.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{Mutex, mpsc, watch};

use super::AppEvent;
use super::backtest::EdgeStats;
use super::bus::MarketBus;
use super::evaluate::judge_track;
use super::setup_changes::{SetupChange, SetupChanges};
use super::supervisor::WorkerCtx;
use crate::setups::LateTrack;
use crate::stats::EdgeBook;
use crate::store::{Store, StoreError, StoredDetection, TrackResult, UserId};

/// The actor written on the `tracked` event of an auto-tracked setup.
pub const AUTO_TRACK_ACTOR: &str = "auto_track";
/// At most one auto-tracked setup per symbol within this distance of detection time.
pub const SYMBOL_SPACING_MINUTES: i64 = 5;
/// Detections older than the market by more than this are not auto-tracked.
pub const MAX_AGE_MINUTES: i64 = 15;

/// The detector's events on their way to the screen; shared so a restarted auto-tracker
/// keeps reading the same channel.
#[derive(Clone, Debug)]
pub struct DetectionInbox(Arc<Mutex<mpsc::Receiver<AppEvent>>>);

impl DetectionInbox {
    pub fn new(rx: mpsc::Receiver<AppEvent>) -> DetectionInbox {
        DetectionInbox(Arc::new(Mutex::new(rx)))
    }
}

/// The market clock as far as the detections tell it: the later of the feed's instant at
/// start and the newest detection seen. Pure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    market_now: DateTime<Utc>,
}

impl Freshness {
    pub fn new(market_now: DateTime<Utc>) -> Freshness {
        Freshness { market_now }
    }

    /// Whether a detection made at `detected_at` is recent enough to auto-track.
    pub fn admit(&mut self, detected_at: DateTime<Utc>) -> bool {
        self.market_now = self.market_now.max(detected_at);
        detected_at + Duration::minutes(MAX_AGE_MINUTES) >= self.market_now
    }
}

/// Tracks `found` for `user` if the rules in the module documentation allow it. Returns
/// the new setup, if one was made.
pub async fn auto_track(
    store: &Store,
    user: UserId,
    found: &StoredDetection,
    verdict: &LateTrack,
) -> Result<Option<TrackResult>, StoreError> {
    let d = &found.detection;
    let watchlist = store.default_watchlist(user, d.detected_at).await?;
    if !watchlist.symbols.contains(&d.symbol) || store.has_tracked_detection(user, found.id).await?
    {
        return Ok(None);
    }
    let spacing = Duration::minutes(SYMBOL_SPACING_MINUTES);
    let recent = store
        .setups_tracked_between(
            user,
            &d.symbol,
            d.detected_at - spacing,
            d.detected_at + spacing,
        )
        .await?;
    if recent > 0 {
        tracing::debug!(
            "not auto-tracking detection {} on {}: a setup on it was tracked within {SYMBOL_SPACING_MINUTES} minutes",
            found.id,
            d.symbol
        );
        return Ok(None);
    }
    match store
        .track_judged(user, found, false, d.detected_at, AUTO_TRACK_ACTOR, verdict)
        .await
    {
        Ok(result) => Ok(Some(result)),
        Err(StoreError::Invalid(reason)) => {
            tracing::warn!("not auto-tracking: {reason}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The kinds the stored statistics say lose (negative edge), and which of them the log
/// already named.
#[derive(Debug, Default)]
struct EdgeFilter {
    book: EdgeBook,
    logged: BTreeSet<String>,
}

impl EdgeFilter {
    fn update(&mut self, stats: &EdgeStats) {
        self.book = stats
            .as_ref()
            .map(|s| EdgeBook::new(&s.rows))
            .unwrap_or_default();
        self.logged.clear();
    }

    /// Whether `kind` may be auto-tracked; the first refusal of a kind is logged with the
    /// numbers behind it.
    fn admits(&mut self, kind: &str) -> bool {
        if !self.book.is_negative(kind) {
            return true;
        }
        if self.logged.insert(kind.to_string())
            && let Some(s) = self.book.kind(kind)
        {
            let [lo, hi] = s.avg_r_ci95.unwrap_or([f64::NAN, f64::NAN]);
            tracing::info!(
                "not auto-tracking {kind}: negative edge in the stored backtest (avg R {:+.2}, \
                 95 % interval [{lo:+.2}, {hi:+.2}] over {} trades)",
                s.avg_r.unwrap_or(f64::NAN),
                s.triggered
            );
        }
        false
    }
}

/// Forwards the detector's events to the screen and auto-tracks the detections, for the
/// user named `user_name`, until cancelled or the detector side closes. `edge` carries
/// the stored backtest statistics as the scheduled run renews them; the worker also reads
/// the store's at start, so the first detections are judged by them.
#[allow(clippy::too_many_arguments)]
pub async fn run_auto_track(
    ctx: WorkerCtx,
    user_name: String,
    bus: MarketBus,
    store: Store,
    changes: SetupChanges,
    inbox: DetectionInbox,
    ui: mpsc::Sender<AppEvent>,
    mut edge: watch::Receiver<EdgeStats>,
) -> Result<(), String> {
    let user = store
        .ensure_user(&user_name, Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    let mut edges = EdgeFilter::default();
    match store.latest_backtest_stats().await {
        Ok(stored) => edges.update(&stored.map(Arc::new)),
        Err(e) => tracing::warn!("auto-tracking without the stored backtest statistics: {e}"),
    }
    let Some(snapshot) = bus.snapshot_or_end(&ctx).await? else {
        return Ok(());
    };
    let mut fresh = Freshness::new(snapshot.now);
    // Not held for the worker's life (issue 25: every symbol's two days of bars).
    drop(snapshot);
    let mut rx = inbox.0.lock().await;
    ctx.heartbeat();
    loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            _ = ctx.cancel.cancelled() => return Ok(()),
        };
        let Some(event) = event else {
            return Ok(());
        };
        let found = match &event {
            AppEvent::Detection(found) => Some(found.clone()),
            _ => None,
        };
        if ui.send(event).await.is_err() {
            tracing::debug!("the screen is gone; auto-tracking goes on");
        }
        let Some(found) = found.filter(|f| fresh.admit(f.detection.detected_at)) else {
            ctx.heartbeat();
            continue;
        };
        if edge.has_changed().unwrap_or(false) {
            let stats = edge.borrow_and_update().clone();
            edges.update(&stats);
        }
        if !edges.admits(found.detection.kind.as_str()) {
            ctx.heartbeat();
            continue;
        }
        let verdict = match bus.snapshot().await {
            Some(snapshot) => judge_track(&snapshot, &found.detection),
            None => LateTrack::Fresh,
        };
        if let Some(TrackResult::Tracked(row)) = auto_track(&store, user, &found, &verdict)
            .await
            .map_err(|e| format!("auto-tracking detection {}: {e}", found.id))?
        {
            let s = &row.setup;
            if let Some(warning) = verdict.warning() {
                tracing::info!("auto-tracked setup {}: {warning}", s.id);
            }
            tracing::info!(
                "auto-tracked setup {} {} {} {} (entry {:.2}, stop {:.2}, target {:.2})",
                s.id,
                s.symbol,
                s.kind,
                s.direction,
                s.entry,
                s.stop,
                s.target
            );
            changes.publish(SetupChange::written(user, row.clone()));
            let event = AppEvent::SetupChanged {
                user,
                row,
                transition: None,
            };
            if ui.send(event).await.is_err() {
                tracing::debug!("the screen is gone; the setup is stored");
            }
        }
        ctx.heartbeat();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn detections_older_than_the_market_by_fifteen_minutes_are_not_auto_tracked() {
        let t = |h, m| Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap();
        // The feed starts at 14:00 UTC; the detector first re-sends the morning's.
        let mut fresh = Freshness::new(t(14, 0));
        assert!(!fresh.admit(t(13, 44)), "16 minutes old");
        assert!(fresh.admit(t(13, 45)), "exactly 15 minutes old");
        assert!(fresh.admit(t(14, 1)), "a live one");
        // The clock moved to 14:01 with it; an out-of-order one from 13:50 is too old now.
        assert!(!fresh.admit(t(13, 45)));
        assert!(fresh.admit(t(13, 50)));
    }
}
