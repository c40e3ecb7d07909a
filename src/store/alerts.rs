//! Price alerts (SPEC 2 `alerts`, SPEC 17): per user; firing is guarded so each crossing
//! is recorded, and so announced, exactly once even with two evaluators running.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, UserId, on_pool, query_error, returned_row};
use crate::alerts::{AlertStatus, Condition, Firing, PriceAlert};
use crate::domain::Symbol;

/// Longest note an alert may carry, characters.
pub const MAX_ALERT_NOTE_CHARS: usize = 200;

/// An alert the trader asks for; validated by [`Store::add_alert`].
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    pub symbol: Symbol,
    pub condition: Condition,
    pub note: String,
    pub repeat: bool,
    /// The price when it was set: required for a move alert.
    pub reference: Option<f64>,
}

/// The columns every alert query reads, as a literal for `concat!` (sqlx takes static SQL).
macro_rules! columns {
    () => {
        "id, user_id, symbol, condition, level, note, status, repeat, reference, \
         created_at, fired_at, fired_price"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i64,
    symbol: String,
    condition: String,
    level: f64,
    note: String,
    status: String,
    repeat: bool,
    reference: Option<f64>,
    created_at: DateTime<Utc>,
    fired_at: Option<DateTime<Utc>>,
    fired_price: Option<f64>,
}

impl Row {
    fn into_alert(self) -> Result<(UserId, PriceAlert), StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("alert {}: {what}", self.id));
        let symbol = Symbol::parse(&self.symbol).map_err(|e| corrupt(e.to_string()))?;
        let condition = Condition::from_stored(&self.condition, self.level)
            .map_err(|e| corrupt(e.to_string()))?;
        let status = AlertStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("unknown status {:?}", self.status)))?;
        Ok((
            UserId(self.user_id),
            PriceAlert {
                id: self.id,
                symbol,
                condition,
                note: self.note,
                status,
                repeat: self.repeat,
                reference: self.reference.filter(|r| r.is_finite() && *r > 0.0),
                created_at: self.created_at,
                fired_at: self.fired_at,
                fired_price: self.fired_price,
            },
        ))
    }
}

impl Store {
    /// Stores an armed alert. A move alert needs a reference price above 0; the note is
    /// at most [`MAX_ALERT_NOTE_CHARS`]. Nothing is stored on a refusal.
    pub async fn add_alert(
        &self,
        user: UserId,
        alert: &NewAlert,
        now: DateTime<Utc>,
    ) -> Result<PriceAlert, StoreError> {
        let condition = alert
            .condition
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let reference = alert.reference.filter(|r| r.is_finite() && *r > 0.0);
        if matches!(condition, Condition::MovesPercent(_)) && reference.is_none() {
            return Err(StoreError::Invalid(
                crate::alerts::ConditionError::NoReference.to_string(),
            ));
        }
        let note = crate::text::printable(alert.note.trim());
        if note.chars().count() > MAX_ALERT_NOTE_CHARS {
            return Err(StoreError::Invalid(format!(
                "an alert note is at most {MAX_ALERT_NOTE_CHARS} characters, got {}",
                note.chars().count()
            )));
        }
        const SQL: &str = concat!(
            "INSERT INTO alerts (user_id, symbol, condition, level, note, status, repeat, ",
            "reference, created_at) VALUES ($1, $2, $3, $4, $5, 'armed', $6, $7, $8) RETURNING ",
            columns!()
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .bind(alert.symbol.as_str())
            .bind(condition.kind())
            .bind(condition.value())
            .bind(&note)
            .bind(alert.repeat)
            .bind(reference)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(query_error("storing the alert"))?);
        let row = returned_row(rows)
            .ok_or_else(|| StoreError::Corrupt("the alert was not stored".into()))?;
        Ok(row.into_alert()?.1)
    }

    /// The user's alerts, newest first. A row that cannot be read is reported, not hidden.
    pub async fn alerts(&self, user: UserId) -> Result<Vec<PriceAlert>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM alerts WHERE user_id = $1 ORDER BY id DESC"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the alerts"))?);
        rows.into_iter()
            .map(|r| r.into_alert().map(|(_, a)| a))
            .collect()
    }

    /// One of the user's alerts.
    pub async fn alert(&self, user: UserId, id: i64) -> Result<Option<PriceAlert>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM alerts WHERE id = $1 AND user_id = $2"
        );
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading an alert"))?);
        row.map(|r| r.into_alert().map(|(_, a)| a)).transpose()
    }

    /// Every user's armed alerts, for the evaluator. Unreadable rows are logged and left
    /// out, so one bad row does not stop every other alert.
    pub async fn armed_alerts(&self) -> Result<Vec<(UserId, PriceAlert)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM alerts WHERE status = 'armed' ORDER BY id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the armed alerts"))?);
        Ok(rows
            .into_iter()
            .filter_map(|r| match r.into_alert() {
                Ok(pair) => Some(pair),
                Err(e) => {
                    tracing::warn!("{e}; it is not evaluated");
                    None
                }
            })
            .collect())
    }

    /// Deletes one of the user's alerts.
    pub async fn remove_alert(&self, user: UserId, id: i64) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM alerts WHERE id = $1 AND user_id = $2";
        let deleted = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(id)
            .bind(user.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("deleting an alert"))?);
        if deleted == 0 {
            return Err(StoreError::NotFound(format!("alert {id} not found")));
        }
        Ok(())
    }

    /// Records a firing, once: only an armed alert that has not fired at or after
    /// `firing.at` is changed. `Some(alert)` as written when this call recorded it;
    /// `None` when it was already recorded (by another process) or is no longer armed.
    pub async fn fire_alert(
        &self,
        user: UserId,
        firing: &Firing,
    ) -> Result<Option<PriceAlert>, StoreError> {
        let status = if firing.rearmed { "armed" } else { "fired" };
        const SQL: &str = concat!(
            "UPDATE alerts SET status = $1, fired_at = $2, fired_price = $3, reference = $4 ",
            "WHERE id = $5 AND user_id = $6 AND status = 'armed' ",
            "AND (fired_at IS NULL OR fired_at < $2) RETURNING ",
            columns!()
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(status)
            .bind(firing.at)
            .bind(firing.price)
            .bind(firing.reference)
            .bind(firing.id)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("recording an alert firing"))?);
        returned_row(rows)
            .map(|r| r.into_alert().map(|(_, a)| a))
            .transpose()
    }

    /// The symbols of the user's armed alerts: the feed quotes them too.
    pub async fn alert_symbols(&self, user: UserId) -> Result<Vec<Symbol>, StoreError> {
        let mut symbols: Vec<Symbol> = self
            .alerts(user)
            .await?
            .into_iter()
            .filter(|a| a.status == AlertStatus::Armed)
            .map(|a| a.symbol)
            .collect();
        symbols.sort();
        symbols.dedup();
        Ok(symbols)
    }
}
