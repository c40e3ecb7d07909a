//! Detections (SPEC 2, 4): stored once per `(symbol, kind, direction, market_date,
//! dedup_key)`; a repeat of the same signal is not an error, it is simply not new.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, on_pool, query_error};
use crate::domain::{Detection, Symbol};
use crate::gex::GexContext;

/// Rows per multi-row `INSERT` of a batch: 13 parameters each, 6,500 in all, under
/// SQLite's limit of 32,766 bound parameters and PostgreSQL's 65,535.
pub const BATCH_ROWS: usize = 500;

/// A detection's unique key: `(symbol, kind, direction, market_date, dedup_key)`.
type Key = (String, String, String, NaiveDate, String);

fn key(d: &Detection) -> Key {
    (
        d.symbol.as_str().to_string(),
        d.kind.as_str().to_string(),
        d.direction.as_str().to_string(),
        d.market_date,
        d.dedup_key.clone(),
    )
}

/// What a batch insert returns for each row it stored.
#[derive(sqlx::FromRow)]
struct ReturnedKey {
    id: i64,
    symbol: String,
    kind: String,
    direction: String,
    market_date: NaiveDate,
    dedup_key: String,
}

/// `INSERT … VALUES (…), (…) … ON CONFLICT DO NOTHING RETURNING` for `rows` rows, with
/// `$n` placeholders in column order.
fn batch_insert_sql(rows: usize) -> String {
    const COLUMNS: usize = 13;
    let mut sql = String::from(
        "INSERT INTO detections (symbol, kind, direction, confidence, entry, stop, target, \
         market_date, detected_at, bar_time, dedup_key, rationale, payload_json) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * COLUMNS + column + 1));
        }
        sql.push(')');
    }
    sql.push_str(
        " ON CONFLICT (symbol, kind, direction, market_date, dedup_key) DO NOTHING \
         RETURNING id, symbol, kind, direction, market_date, dedup_key",
    );
    sql
}

/// A detection as stored, with its id (the `source_id` of tracked setups).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDetection {
    pub id: i64,
    pub detection: Detection,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    symbol: String,
    kind: String,
    direction: String,
    confidence: i32,
    entry: f64,
    stop: f64,
    target: f64,
    market_date: NaiveDate,
    detected_at: DateTime<Utc>,
    bar_time: DateTime<Utc>,
    dedup_key: String,
    rationale: String,
    payload_json: String,
}

/// What a detection keeps in its `payload_json` column beyond the plan's columns: the GEX
/// context known when it fired (issue 20 item 2b). `{}` when there is nothing more.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gex: Option<GexContext>,
}

fn payload_json(d: &Detection) -> String {
    let payload = Payload { gex: d.gex.clone() };
    // A plain struct of numbers, strings and dates always serialises.
    serde_json::to_string(&payload).unwrap_or_else(|_| "{}".into())
}

impl Row {
    /// Rows written by another version or by hand may not parse; they are skipped with
    /// a log line rather than failing the whole list.
    fn into_stored(self) -> Option<StoredDetection> {
        // An unreadable payload loses only the extras, never the detection.
        let payload: Payload = serde_json::from_str(&self.payload_json).unwrap_or_else(|e| {
            tracing::warn!(
                "detection {} has an unreadable payload ({e}); its GEX context is dropped",
                self.id
            );
            Payload::default()
        });
        let parsed = (|| {
            Some(StoredDetection {
                id: self.id,
                detection: Detection {
                    symbol: Symbol::parse(&self.symbol).ok()?,
                    kind: self.kind.parse().ok()?,
                    direction: self.direction.parse().ok()?,
                    confidence: u8::try_from(self.confidence).ok()?.min(100),
                    entry: self.entry,
                    stop: self.stop,
                    target: self.target,
                    detected_at: self.detected_at,
                    bar_time: self.bar_time,
                    market_date: self.market_date,
                    dedup_key: self.dedup_key.clone(),
                    rationale: self.rationale.clone(),
                    gex: payload.gex,
                },
            })
        })();
        if parsed.is_none() {
            tracing::warn!("detection {} has unreadable fields; skipped", self.id);
        }
        parsed
    }
}

/// A query of whole stored detections: every column [`Row`] reads, then `$tail` (the
/// `WHERE` and `ORDER BY` clauses).
macro_rules! select_detections {
    ($tail:literal) => {
        concat!(
            "SELECT id, symbol, kind, direction, CAST(confidence AS INTEGER) AS confidence, \
             entry, stop, target, market_date, detected_at, bar_time, dedup_key, rationale, \
             payload_json FROM detections ",
            $tail
        )
    };
}

impl Store {
    /// Stores a detection once. Returns its id and whether it is new (`false` when the same
    /// signal was already stored for that session, e.g. by an earlier run).
    pub async fn insert_detection(&self, d: &Detection) -> Result<(i64, bool), StoreError> {
        let stored = self.insert_detections(std::slice::from_ref(d)).await?;
        stored.into_iter().next().ok_or(StoreError::Query {
            what: "storing a detection",
            source: sqlx::Error::RowNotFound,
        })
    }

    /// Stores a batch of detections in one transaction (issue 25 item 3): one multi-row
    /// `INSERT … ON CONFLICT DO NOTHING` per [`BATCH_ROWS`] rows, then the ids of those
    /// already stored. Returns, in the order given, each one's id and whether this call
    /// stored it (a repeat inside the batch is new once, at its first place).
    ///
    /// All or nothing: a process killed in the middle leaves none of the batch, and the
    /// restarted detector finds the same detections again (same key, so none twice).
    pub async fn insert_detections(
        &self,
        batch: &[Detection],
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut stored: HashMap<Key, i64> = HashMap::with_capacity(batch.len());
        let mut ids: Vec<Option<(i64, bool)>> = vec![None; batch.len()];
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(query_error("starting a batch of detections"))?;
            for chunk in batch.chunks(BATCH_ROWS) {
                let sql = batch_insert_sql(chunk.len());
                // Built from placeholders only; every value is bound. Not kept prepared:
                // each batch size is a statement of its own, and a connection's cache of
                // up to 100 of them held tens of MB (issue 25: 25 MB of SQLite's memory in
                // `coach serve` on 8,000 symbols was cached multi-row INSERTs).
                let mut query =
                    sqlx::query_as::<_, ReturnedKey>(sqlx::AssertSqlSafe(sql)).persistent(false);
                for d in chunk {
                    query = query
                        .bind(d.symbol.as_str())
                        .bind(d.kind.as_str())
                        .bind(d.direction.as_str())
                        .bind(i32::from(d.confidence))
                        .bind(d.entry)
                        .bind(d.stop)
                        .bind(d.target)
                        .bind(d.market_date)
                        .bind(d.detected_at)
                        .bind(d.bar_time)
                        .bind(&d.dedup_key)
                        .bind(&d.rationale)
                        .bind(payload_json(d));
                }
                let returned: Vec<ReturnedKey> = query
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_error("storing a batch of detections"))?;
                for r in returned {
                    stored.insert(
                        (r.symbol, r.kind, r.direction, r.market_date, r.dedup_key),
                        r.id,
                    );
                }
            }
            // New ones take their id at their first place; a twin later in the batch
            // and those stored before this batch are not new.
            for (slot, d) in ids.iter_mut().zip(batch) {
                if let Some(id) = stored.remove(&key(d)) {
                    *slot = Some((id, true));
                }
            }
            for (i, d) in batch.iter().enumerate() {
                if ids[i].is_some() {
                    continue;
                }
                const EXISTING: &str = "SELECT id FROM detections WHERE symbol = $1 AND \
                     kind = $2 AND direction = $3 AND market_date = $4 AND dedup_key = $5";
                let id: i64 = sqlx::query_scalar(EXISTING)
                    .bind(d.symbol.as_str())
                    .bind(d.kind.as_str())
                    .bind(d.direction.as_str())
                    .bind(d.market_date)
                    .bind(&d.dedup_key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_error("finding a stored detection"))?;
                ids[i] = Some((id, false));
            }
            tx.commit()
                .await
                .map_err(query_error("committing a batch of detections"))?;
        });
        // Every slot was filled above (inserted, or found, else the query failed).
        Ok(ids.into_iter().flatten().collect())
    }

    /// The detections of one session, oldest first.
    pub async fn detections_on(&self, date: NaiveDate) -> Result<Vec<StoredDetection>, StoreError> {
        const SQL: &str = select_detections!("WHERE market_date = $1 ORDER BY detected_at, id");
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(date)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading detections"))?);
        Ok(rows.into_iter().filter_map(Row::into_stored).collect())
    }

    /// The detections of a market date whose dedup key ends with `suffix` (the detector's
    /// live-only mark), in the order [`Store::detections_on`] gives.
    pub async fn detections_on_ending(
        &self,
        date: NaiveDate,
        suffix: &str,
    ) -> Result<Vec<StoredDetection>, StoreError> {
        const SQL: &str = select_detections!(
            "WHERE market_date = $1 AND dedup_key LIKE $2 ESCAPE '\\' ORDER BY detected_at, id"
        );
        let pattern = format!(
            "%{}",
            suffix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(date)
            .bind(&pattern)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading detections"))?);
        Ok(rows.into_iter().filter_map(Row::into_stored).collect())
    }

    /// One stored detection by id (detections are shared by every user).
    pub async fn detection(&self, id: i64) -> Result<Option<StoredDetection>, StoreError> {
        const SQL: &str = select_detections!("WHERE id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading a detection"))?);
        Ok(row.and_then(Row::into_stored))
    }

    /// The detections the user's setups were tracked from (the journal's statistics read
    /// their signal time and confidence), by id.
    pub async fn tracked_detections(
        &self,
        user: super::UserId,
    ) -> Result<Vec<StoredDetection>, StoreError> {
        const SQL: &str = select_detections!(
            "WHERE id IN \
             (SELECT source_id FROM tracked_setups WHERE user_id = $1 AND source_id IS NOT NULL) \
             ORDER BY id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the detections of tracked setups"))?);
        Ok(rows.into_iter().filter_map(Row::into_stored).collect())
    }
}
