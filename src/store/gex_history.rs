//! `gex_history` (SPEC 20): one row per refresh of a symbol's all-expirations GEX profile,
//! written by the GEX refresher, read by the GEX pane, the Chart and `coach gex history`,
//! pruned to 30 New York days. Inserting is `ON CONFLICT DO NOTHING` on `(symbol, at)`:
//! the same profile refreshed twice (from the cache, or by two refreshers on one database)
//! is one row.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, on_pool, query_error};
use crate::domain::Symbol;
use crate::gex::history::GexPoint;
use crate::market::calendar;

#[derive(sqlx::FromRow)]
struct Row {
    at: DateTime<Utc>,
    spot: f64,
    total_gex: f64,
    zero_gamma: Option<f64>,
    call_wall: Option<f64>,
    put_wall: Option<f64>,
    abs_gamma_strike: Option<f64>,
    zero_dte_share: f64,
}

impl From<Row> for GexPoint {
    fn from(r: Row) -> GexPoint {
        GexPoint {
            at: r.at,
            spot: r.spot,
            total_gex: r.total_gex,
            zero_gamma: r.zero_gamma,
            call_wall: r.call_wall,
            put_wall: r.put_wall,
            abs_gamma_strike: r.abs_gamma_strike,
            zero_dte_share: r.zero_dte_share,
        }
    }
}

/// A level that is not a finite number is stored as "none" (SQLite would turn NaN into
/// NULL anyway; PostgreSQL would store it).
fn level(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

impl Store {
    /// Stores one refresh of `symbol`'s profile. Returns whether this call stored it
    /// (`false`: that instant was already stored). A spot, total or share that is not a
    /// finite number (or a share outside [0, 1]) is refused and nothing is stored.
    pub async fn record_gex(&self, symbol: &Symbol, point: &GexPoint) -> Result<bool, StoreError> {
        if !(point.spot.is_finite() && point.spot > 0.0 && point.total_gex.is_finite()) {
            return Err(StoreError::Invalid(format!(
                "GEX history of {symbol} at {}: spot {} and total {} must be finite (spot above 0)",
                point.at, point.spot, point.total_gex
            )));
        }
        if !(0.0..=1.0).contains(&point.zero_dte_share) {
            return Err(StoreError::Invalid(format!(
                "GEX history of {symbol} at {}: the 0DTE share {} is not in [0, 1]",
                point.at, point.zero_dte_share
            )));
        }
        const SQL: &str = "INSERT INTO gex_history (symbol, at, market_date, spot, total_gex, \
             zero_gamma, call_wall, put_wall, abs_gamma_strike, zero_dte_share) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (symbol, at) DO NOTHING";
        let done = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(symbol.as_str())
            .bind(point.at)
            .bind(calendar::ny_date(point.at))
            .bind(point.spot)
            .bind(point.total_gex)
            .bind(level(point.zero_gamma))
            .bind(level(point.call_wall))
            .bind(level(point.put_wall))
            .bind(level(point.abs_gamma_strike))
            .bind(point.zero_dte_share)
            .execute(pool)
            .await
            .map_err(query_error("storing the GEX history"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// `symbol`'s points of the New York date `date`, in time order.
    pub async fn gex_history(
        &self,
        symbol: &Symbol,
        date: NaiveDate,
    ) -> Result<Vec<GexPoint>, StoreError> {
        const SQL: &str = "SELECT at, spot, total_gex, zero_gamma, call_wall, put_wall, \
             abs_gamma_strike, zero_dte_share FROM gex_history \
             WHERE symbol = $1 AND market_date = $2 ORDER BY at";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(symbol.as_str())
            .bind(date)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the GEX history"))?);
        Ok(rows.into_iter().map(GexPoint::from).collect())
    }

    /// The latest New York date with history of `symbol`, if any.
    pub async fn latest_gex_date(&self, symbol: &Symbol) -> Result<Option<NaiveDate>, StoreError> {
        const SQL: &str = "SELECT MAX(market_date) FROM gex_history WHERE symbol = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(symbol.as_str())
            .fetch_one(pool)
            .await
            .map_err(query_error(
                "finding the latest GEX history date"
            ))?))
    }

    /// Deletes every symbol's points dated before `before` (New York dates); returns how
    /// many went.
    pub async fn prune_gex_history(&self, before: NaiveDate) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM gex_history WHERE market_date < $1";
        Ok(on_pool!(self, |pool| sqlx::query(SQL)
            .bind(before)
            .execute(pool)
            .await
            .map_err(query_error("pruning the GEX history"))?
            .rows_affected()))
    }
}
