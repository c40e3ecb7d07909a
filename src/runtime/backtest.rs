//! The scheduled backtest (SPEC 18, "In the product"), worker `backtest`: after each
//! session's close it backtests the bar history of `[backtest] bars` (read through the one
//! bar-file reader, the same code as `coach backtest`: `cli::backtest::stored_statistics`),
//! stores the statistics per kind and per (kind, symbol) (replacing the earlier run) and
//! hands them to the screen (`AppEvent::BacktestStats`) and the auto-tracker (the
//! [`EdgeChannel`]).
//!
//! - Due: when the newest stored run (by either path, `coach backtest --store` included)
//!   was made before the latest session close (early closes included; weekends and
//!   holidays have none), on the wall clock. So a dashboard started in the evening with
//!   no run since the close runs at once, and one left open overnight runs once at 16:00.
//! - The backtest runs on a blocking thread (`spawn_blocking`): the screen never waits.
//! - A failure (a missing directory, a bad file) is recorded in Health and retried after
//!   [`RETRY_AFTER`], not every minute; until a run succeeds the worker sends no
//!   heartbeat, so Health keeps it failed (and stale after 3 minutes, which the
//!   operational alerts report with the error).
//! - With `[backtest] bars` empty no worker runs; [`load_stored`] still hands the stored
//!   statistics (from `coach backtest --store`) to the screen and the auto-tracker once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::AppEvent;
use super::supervisor::WorkerCtx;
use crate::market::calendar::{self, Session};
use crate::store::{SOURCE_SCHEDULED, Store, StoredBacktest};

pub const WORKER: &str = "backtest";
/// How often the worker looks at the clock (and heartbeats).
pub const INTERVAL: Duration = Duration::from_secs(60);
/// After a failed run, the next attempt waits this long.
pub const RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// The latest stored statistics, for whoever needs them live (the auto-tracker).
pub type EdgeStats = Option<Arc<StoredBacktest>>;

/// Publishes the latest stored statistics; clones share the channel.
#[derive(Clone, Debug)]
pub struct EdgeChannel {
    tx: Arc<watch::Sender<EdgeStats>>,
}

impl Default for EdgeChannel {
    fn default() -> Self {
        EdgeChannel {
            tx: Arc::new(watch::channel(None).0),
        }
    }
}

impl EdgeChannel {
    pub fn subscribe(&self) -> watch::Receiver<EdgeStats> {
        self.tx.subscribe()
    }

    pub fn publish(&self, stats: Arc<StoredBacktest>) {
        self.tx.send_replace(Some(stats));
    }
}

/// The latest regular-session close at or before `now`. Pure.
pub fn latest_close(now: DateTime<Utc>) -> Session {
    let today = calendar::ny_date(now);
    match calendar::session(today) {
        Some(s) if s.close <= now => s,
        _ => calendar::previous_session(today),
    }
}

/// Whether a run is due at `now` given when the newest stored run was made. Pure.
pub fn is_due(now: DateTime<Utc>, last_run: Option<DateTime<Utc>>) -> bool {
    last_run.is_none_or(|ran| ran < latest_close(now).close)
}

/// Reads the newest stored statistics and hands them to the screen and `edge`; nothing
/// is sent when none are stored. Errors are logged (the screen simply shows no edge).
pub async fn load_stored(
    store: &Store,
    edge: &EdgeChannel,
    screen: &mpsc::Sender<AppEvent>,
) -> Option<Arc<StoredBacktest>> {
    match store.latest_backtest_stats().await {
        Ok(Some(stats)) => {
            let stats = Arc::new(stats);
            edge.publish(stats.clone());
            let _ = screen.send(AppEvent::BacktestStats(stats.clone())).await;
            Some(stats)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("the stored backtest statistics cannot be read: {e}");
            None
        }
    }
}

/// One scheduled run: backtests `bars` on a blocking thread, stores the result and reads
/// it back. Returns what was stored.
pub async fn run_once(
    store: &Store,
    bars: PathBuf,
    slippage: f64,
) -> Result<StoredBacktest, String> {
    let shown = bars.display().to_string();
    if !bars.exists() {
        return Err(format!(
            "[backtest] bars {shown:?} does not exist (a directory of bar files)"
        ));
    }
    let (run, rows) = tokio::task::spawn_blocking(move || {
        crate::cli::backtest::stored_statistics(&[bars], slippage, SOURCE_SCHEDULED)
    })
    .await
    .map_err(|e| format!("the backtest of {shown} stopped: {e}"))??;
    store
        .save_backtest_stats(&run, &rows)
        .await
        .map_err(|e| e.to_string())?;
    store
        .latest_backtest_stats()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the stored backtest vanished while it was being stored".to_string())
}

/// The worker: loads the stored statistics, then runs whenever [`is_due`].
pub async fn run_scheduled_backtest(
    ctx: WorkerCtx,
    store: Store,
    bars: PathBuf,
    slippage: f64,
    edge: EdgeChannel,
    screen: mpsc::Sender<AppEvent>,
) -> Result<(), String> {
    let mut last_run = load_stored(&store, &edge, &screen)
        .await
        .map(|s| s.run.ran_at);
    // A failed attempt waits until this instant before the next one.
    let mut retry_at: Option<DateTime<Utc>> = None;
    let mut tick = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        let now = Utc::now();
        if !is_due(now, last_run) {
            ctx.heartbeat();
            continue;
        }
        if retry_at.is_some_and(|at| now < at) {
            // no heartbeat: Health keeps showing the failure until a run succeeds
            continue;
        }
        tracing::info!(
            "backtest: the session of {} closed; backtesting {}",
            latest_close(now).date,
            bars.display()
        );
        match run_once(&store, bars.clone(), slippage).await {
            Ok(stored) => {
                tracing::info!(
                    "backtest: stored {} group(s) over {} symbol-session(s), {} bars",
                    stored.rows.len(),
                    stored.run.sessions,
                    stored.run.bars
                );
                last_run = Some(stored.run.ran_at);
                retry_at = None;
                let stored = Arc::new(stored);
                edge.publish(stored.clone());
                let _ = screen.send(AppEvent::BacktestStats(stored)).await;
                ctx.heartbeat();
            }
            Err(e) => {
                tracing::warn!("backtest: {e}");
                ctx.cycle_failed(&e);
                retry_at = Some(now + RETRY_AFTER);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        calendar::ny_instant(
            NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            NaiveTime::from_hms_opt(h, min, 0).unwrap(),
        )
    }

    #[test]
    fn the_latest_close_is_todays_after_16_00_else_the_previous_sessions() {
        // Wednesday 2026-11-25 at 15:59 ET: Tuesday's close
        assert_eq!(
            latest_close(ny(2026, 11, 25, 15, 59)).close,
            ny(2026, 11, 24, 16, 0)
        );
        assert_eq!(
            latest_close(ny(2026, 11, 25, 16, 0)).close,
            ny(2026, 11, 25, 16, 0)
        );
        // Thanksgiving (Thursday 26th) has no session: Wednesday's close still
        assert_eq!(
            latest_close(ny(2026, 11, 26, 20, 0)).close,
            ny(2026, 11, 25, 16, 0)
        );
        // the day after closes early at 13:00 ET
        assert_eq!(
            latest_close(ny(2026, 11, 27, 13, 5)).close,
            ny(2026, 11, 27, 13, 0)
        );
        // Sunday: Friday's early close
        assert_eq!(
            latest_close(ny(2026, 11, 29, 12, 0)).close,
            ny(2026, 11, 27, 13, 0)
        );
    }

    #[test]
    fn a_run_is_due_once_per_close_whoever_stored_the_last_one() {
        let evening = ny(2026, 11, 25, 18, 0);
        assert!(is_due(evening, None), "nothing stored yet");
        assert!(
            is_due(evening, Some(ny(2026, 11, 25, 15, 0))),
            "stored before the close"
        );
        assert!(
            !is_due(evening, Some(ny(2026, 11, 25, 16, 1))),
            "already run after it"
        );
        // the next morning nothing new closed; at Thursday's close (holiday) nothing either
        assert!(!is_due(
            ny(2026, 11, 26, 17, 0),
            Some(ny(2026, 11, 25, 16, 1))
        ));
        // Friday's early close makes it due at 13:00 ET
        assert!(is_due(
            ny(2026, 11, 27, 13, 0),
            Some(ny(2026, 11, 25, 16, 1))
        ));
    }
}
