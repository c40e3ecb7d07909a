//! Stored setup statistics (SPEC 18, "In the product"): the latest backtest run and its
//! groups per kind, per (kind, symbol), per symbol and in total.
//!
//! - Shared by every user (no `user_id`), like detections: the statistics are measured on
//!   market history, not on a trader's actions, and team mode's `coach serve` computes
//!   them once for everybody.
//! - A new run replaces every earlier one: saving inserts the run and its groups, then
//!   deletes the runs with a smaller id (their groups go with them), in one transaction.
//!   Two runs saved at the same moment both survive until the next save; the reader takes
//!   the newest (highest id).
//! - Only groups split by kind and/or symbol are stored (hour, regime and confidence
//!   splits are `coach backtest --by` reports, not stored).

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, on_pool, query_error};
use crate::stats::{GroupKey, GroupRow, GroupStats};

/// Where a stored run came from.
pub const SOURCE_CLI: &str = "cli";
pub const SOURCE_SCHEDULED: &str = "scheduled";

/// What was backtested, and when and by what.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestRun {
    pub ran_at: DateTime<Utc>,
    /// First and last session backtested (New York dates); `None` when no session was.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub symbols: Vec<String>,
    /// Regular-session minute bars backtested.
    pub bars: u64,
    /// Symbol-sessions backtested.
    pub sessions: u64,
    /// Price units per side, applied to every fill and exit.
    pub slippage: f64,
    /// The coach version that ran it (`CARGO_PKG_VERSION`).
    pub version: String,
    /// [`SOURCE_CLI`] or [`SOURCE_SCHEDULED`].
    pub source: String,
}

/// A stored run with its groups, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBacktest {
    pub id: i64,
    pub run: BacktestRun,
    pub rows: Vec<GroupRow>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    ran_at: DateTime<Utc>,
    from_date: Option<NaiveDate>,
    to_date: Option<NaiveDate>,
    symbols: String,
    bars: i64,
    sessions: i64,
    slippage: f64,
    version: String,
    source: String,
}

#[derive(sqlx::FromRow)]
struct GroupDbRow {
    kind: Option<String>,
    symbol: Option<String>,
    detections: i64,
    triggered: i64,
    target_hit: i64,
    stopped_out: i64,
    time_exit: i64,
    expired: i64,
    invalidated: i64,
    wins: i64,
    win_rate: Option<f64>,
    win_rate_lo: Option<f64>,
    win_rate_hi: Option<f64>,
    avg_r: Option<f64>,
    avg_r_lo: Option<f64>,
    avg_r_hi: Option<f64>,
    total_r: f64,
    profit_factor: Option<f64>,
    max_drawdown_r: f64,
    avg_mfe_r: Option<f64>,
    avg_mae_r: Option<f64>,
}

fn count(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored backtest {what} is {v}")))
}

fn stored_count(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("backtest {what} {v} is too large")))
}

fn interval(lo: Option<f64>, hi: Option<f64>) -> Option<[f64; 2]> {
    lo.zip(hi).map(|(lo, hi)| [lo, hi])
}

impl GroupDbRow {
    fn into_row(self) -> Result<GroupRow, StoreError> {
        Ok(GroupRow {
            key: GroupKey {
                kind: self.kind,
                symbol: self.symbol,
                ..GroupKey::default()
            },
            stats: GroupStats {
                detections: count(self.detections, "detections")?,
                triggered: count(self.triggered, "triggered")?,
                target_hit: count(self.target_hit, "target_hit")?,
                stopped_out: count(self.stopped_out, "stopped_out")?,
                time_exit: count(self.time_exit, "time_exit")?,
                expired: count(self.expired, "expired")?,
                invalidated: count(self.invalidated, "invalidated")?,
                wins: count(self.wins, "wins")?,
                win_rate: self.win_rate,
                win_rate_ci95: interval(self.win_rate_lo, self.win_rate_hi),
                avg_r: self.avg_r,
                avg_r_ci95: interval(self.avg_r_lo, self.avg_r_hi),
                total_r: self.total_r,
                profit_factor: self.profit_factor,
                max_drawdown_r: self.max_drawdown_r,
                avg_mfe_r: self.avg_mfe_r,
                avg_mae_r: self.avg_mae_r,
            },
        })
    }
}

/// The groups that are stored: split by nothing but kind and/or symbol.
fn storable(row: &GroupRow) -> bool {
    row.key.hour.is_none() && row.key.regime.is_none() && row.key.confidence.is_none()
}

impl Store {
    /// Stores a backtest run and its kind / (kind, symbol) / symbol / total groups, and
    /// removes every earlier run. Rows split by hour, regime or confidence are refused.
    /// Returns the run's id.
    pub async fn save_backtest_stats(
        &self,
        run: &BacktestRun,
        rows: &[GroupRow],
    ) -> Result<i64, StoreError> {
        if let Some(bad) = rows.iter().find(|r| !storable(r)) {
            return Err(StoreError::Invalid(format!(
                "only groups by kind and symbol are stored; got one split by {:?}",
                bad.key
            )));
        }
        const RUN: &str = "INSERT INTO backtest_runs (ran_at, from_date, to_date, symbols, bars, \
             sessions, slippage, version, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id";
        const GROUP: &str = "INSERT INTO backtest_groups (run_id, kind, symbol, detections, \
             triggered, target_hit, stopped_out, time_exit, expired, invalidated, wins, win_rate, \
             win_rate_lo, win_rate_hi, avg_r, avg_r_lo, avg_r_hi, total_r, profit_factor, \
             max_drawdown_r, avg_mfe_r, avg_mae_r) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";
        const EARLIER: &str = "DELETE FROM backtest_runs WHERE id < $1";
        let (bars, sessions) = (
            stored_count(run.bars, "bars")?,
            stored_count(run.sessions, "sessions")?,
        );
        let mut counts = Vec::with_capacity(rows.len());
        for r in rows {
            let s = &r.stats;
            counts.push([
                stored_count(s.detections, "detections")?,
                stored_count(s.triggered, "triggered")?,
                stored_count(s.target_hit, "target_hit")?,
                stored_count(s.stopped_out, "stopped_out")?,
                stored_count(s.time_exit, "time_exit")?,
                stored_count(s.expired, "expired")?,
                stored_count(s.invalidated, "invalidated")?,
                stored_count(s.wins, "wins")?,
            ]);
        }
        let symbols = run.symbols.join(",");
        let id = on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(query_error("starting to store backtest statistics"))?;
            let id: i64 = sqlx::query_scalar(RUN)
                .bind(run.ran_at)
                .bind(run.from)
                .bind(run.to)
                .bind(&symbols)
                .bind(bars)
                .bind(sessions)
                .bind(run.slippage)
                .bind(&run.version)
                .bind(&run.source)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_error("storing a backtest run"))?;
            for (r, c) in rows.iter().zip(&counts) {
                let s = &r.stats;
                let lo = |v: Option<[f64; 2]>| v.map(|i| i[0]);
                let hi = |v: Option<[f64; 2]>| v.map(|i| i[1]);
                sqlx::query(GROUP)
                    .bind(id)
                    .bind(&r.key.kind)
                    .bind(&r.key.symbol)
                    .bind(c[0])
                    .bind(c[1])
                    .bind(c[2])
                    .bind(c[3])
                    .bind(c[4])
                    .bind(c[5])
                    .bind(c[6])
                    .bind(c[7])
                    .bind(s.win_rate)
                    .bind(lo(s.win_rate_ci95))
                    .bind(hi(s.win_rate_ci95))
                    .bind(s.avg_r)
                    .bind(lo(s.avg_r_ci95))
                    .bind(hi(s.avg_r_ci95))
                    .bind(s.total_r)
                    .bind(s.profit_factor)
                    .bind(s.max_drawdown_r)
                    .bind(s.avg_mfe_r)
                    .bind(s.avg_mae_r)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("storing a backtest group"))?;
            }
            sqlx::query(EARLIER)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(query_error("removing earlier backtest runs"))?;
            tx.commit()
                .await
                .map_err(query_error("storing backtest statistics"))?;
            id
        });
        Ok(id)
    }

    /// The newest stored backtest run and its groups (kind then symbol, the all-kinds and
    /// all-symbols rows first); `None` when nothing was stored.
    pub async fn latest_backtest_stats(&self) -> Result<Option<StoredBacktest>, StoreError> {
        const RUN: &str = "SELECT id, ran_at, from_date, to_date, symbols, bars, sessions, \
             slippage, version, source FROM backtest_runs ORDER BY id DESC LIMIT 1";
        const GROUPS: &str = "SELECT kind, symbol, detections, triggered, target_hit, \
             stopped_out, time_exit, expired, invalidated, wins, win_rate, win_rate_lo, \
             win_rate_hi, avg_r, avg_r_lo, avg_r_hi, total_r, profit_factor, max_drawdown_r, \
             avg_mfe_r, avg_mae_r FROM backtest_groups WHERE run_id = $1";
        let run: Option<RunRow> = on_pool!(self, |pool| sqlx::query_as(RUN)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading the latest backtest run"))?);
        let Some(run) = run else {
            return Ok(None);
        };
        let groups: Vec<GroupDbRow> = on_pool!(self, |pool| sqlx::query_as(GROUPS)
            .bind(run.id)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading backtest groups"))?);
        let mut rows = groups
            .into_iter()
            .map(GroupDbRow::into_row)
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Some(StoredBacktest {
            id: run.id,
            run: BacktestRun {
                ran_at: run.ran_at,
                from: run.from_date,
                to: run.to_date,
                symbols: run
                    .symbols
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                bars: count(run.bars, "bars")?,
                sessions: count(run.sessions, "sessions")?,
                slippage: run.slippage,
                version: run.version,
                source: run.source,
            },
            rows,
        }))
    }
}
