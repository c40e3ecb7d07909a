//! Open positions (SPEC 2, 8.4), per user. Closing keeps the row (`closed_at` set).

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, UserId, on_pool, query_error, returned_row};
use crate::brief::position::{NewPosition, Position, PositionKind};
use crate::domain::Symbol;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    symbol: String,
    kind: String,
    strike: Option<f64>,
    expiry: Option<NaiveDate>,
    quantity: f64,
    avg_price: f64,
    iv: Option<f64>,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_position(self) -> Result<Position, StoreError> {
        let bad = |m: String| StoreError::Corrupt(format!("position {}: {m}", self.id));
        Ok(Position {
            id: self.id,
            spec: NewPosition {
                symbol: Symbol::parse(&self.symbol).map_err(|e| bad(e.to_string()))?,
                kind: PositionKind::parse(&self.kind).map_err(bad)?,
                strike: self.strike,
                expiry: self.expiry,
                quantity: self.quantity,
                avg_price: self.avg_price,
                iv: self.iv,
            },
            opened_at: self.opened_at,
            closed_at: self.closed_at,
        })
    }
}

macro_rules! columns {
    () => {
        "id, symbol, kind, strike, expiry, quantity, avg_price, iv, opened_at, closed_at"
    };
}

impl Store {
    /// Adds positions in one transaction after checking every one: all or none.
    pub async fn add_positions(
        &self,
        user: UserId,
        positions: &[NewPosition],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        for (i, p) in positions.iter().enumerate() {
            p.validate()
                .map_err(|m| StoreError::Invalid(format!("position {}: {m}", i + 1)))?;
        }
        const SQL: &str = "INSERT INTO positions (user_id, symbol, kind, strike, expiry, quantity, \
             avg_price, iv, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(query_error("starting to add positions"))?;
            let mut ids = Vec::with_capacity(positions.len());
            for p in positions {
                let id: i64 = sqlx::query_scalar(SQL)
                    .bind(user.0)
                    .bind(p.symbol.as_str())
                    .bind(p.kind.as_str())
                    .bind(p.strike)
                    .bind(p.expiry)
                    .bind(p.quantity)
                    .bind(p.avg_price)
                    .bind(p.iv)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_error("adding a position"))?;
                ids.push(id);
            }
            tx.commit()
                .await
                .map_err(query_error("saving the positions"))?;
            Ok(ids)
        })
    }

    /// The user's positions, oldest first; closed ones only when asked.
    pub async fn positions(
        &self,
        user: UserId,
        include_closed: bool,
    ) -> Result<Vec<Position>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM positions WHERE user_id = $1 AND ($2 OR closed_at IS NULL) ORDER BY opened_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .bind(include_closed)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading positions"))?);
        rows.into_iter().map(Row::into_position).collect()
    }

    /// Closes one of the user's open positions.
    pub async fn close_position(
        &self,
        user: UserId,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<Position, StoreError> {
        const SQL: &str = concat!(
            "UPDATE positions SET closed_at = $1 WHERE id = $2 AND user_id = $3 \
             AND closed_at IS NULL RETURNING ",
            columns!()
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(at)
            .bind(id)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("closing a position"))?);
        if let Some(row) = returned_row(rows) {
            return row.into_position();
        }
        let open = self.positions(user, true).await?;
        Err(match open.iter().find(|p| p.id == id) {
            Some(p) => StoreError::Conflict(format!(
                "position {id} was already closed at {}",
                p.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default()
            )),
            None => StoreError::NotFound(format!("no position {id}")),
        })
    }
}
