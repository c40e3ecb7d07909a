//! Calibration maps (SPEC 18, issue 20 item 5): per setup kind, versioned maps from the
//! raw confidence score to a filled trade's win probability, written by `coach backtest
//! --calibrate` and read by the screens (the newest version of each kind applies). A new
//! fit never replaces an old one: it is the next version.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, on_pool, query_error};
use crate::domain::SetupKind;
use crate::stats::calibrate::{CalibrationMap, Calibrations, FittedMap, MapPoint};

/// One stored version of a kind's map.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCalibration {
    pub kind: SetupKind,
    /// 1, 2, ... per kind.
    pub version: i64,
    pub map: CalibrationMap,
    /// First and last session of the trades fitted on (New York dates).
    pub fitted_from: NaiveDate,
    pub fitted_to: NaiveDate,
    /// Filled trades fitted on.
    pub trades: u64,
    /// Every fitting session is before this date.
    pub split: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    kind: String,
    version: i64,
    points_json: String,
    fitted_from: NaiveDate,
    fitted_to: NaiveDate,
    trades: i64,
    split: NaiveDate,
    created_at: DateTime<Utc>,
}

impl Row {
    /// A row another version or a hand edit made unreadable is skipped with a log line:
    /// that kind then shows its raw score.
    fn into_stored(self) -> Option<StoredCalibration> {
        let parsed = (|| -> Result<StoredCalibration, String> {
            let points: Vec<MapPoint> =
                serde_json::from_str(&self.points_json).map_err(|e| e.to_string())?;
            Ok(StoredCalibration {
                kind: self.kind.parse()?,
                version: self.version,
                map: CalibrationMap::from_points(points)?,
                fitted_from: self.fitted_from,
                fitted_to: self.fitted_to,
                trades: u64::try_from(self.trades).map_err(|e| e.to_string())?,
                split: self.split,
                created_at: self.created_at,
            })
        })();
        match parsed {
            Ok(stored) => Some(stored),
            Err(e) => {
                tracing::warn!(
                    "calibration map {} version {} is unreadable ({e}); skipped",
                    self.kind,
                    self.version
                );
                None
            }
        }
    }
}

impl Store {
    /// Stores `fitted` as the next version of its kind (1 for the first) and returns the
    /// version. Two writers racing on one kind: one gets [`StoreError::Conflict`].
    pub async fn insert_calibration(
        &self,
        fitted: &FittedMap,
        split: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO calibration_maps (kind, version, points_json, fitted_from, \
             fitted_to, trades, split, created_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7 \
             FROM calibration_maps WHERE kind = $1 RETURNING version";
        let points = serde_json::to_string(&fitted.map.points).map_err(|e| {
            StoreError::Invalid(format!("the calibration map cannot be written: {e}"))
        })?;
        let trades = i64::try_from(fitted.trades)
            .map_err(|_| StoreError::Invalid("too many trades to store".into()))?;
        let result = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(SQL)
            .bind(fitted.kind.as_str())
            .bind(&points)
            .bind(fitted.fitted_from)
            .bind(fitted.fitted_to)
            .bind(trades)
            .bind(split)
            .bind(now)
            .fetch_all(pool)
            .await);
        match result {
            // every row read: on SQLite the commit's failure (a full disk) is the last step's
            Ok(rows) => super::returned_row(rows).ok_or_else(|| {
                StoreError::Invalid("storing a calibration map returned no version".into())
            }),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                Err(StoreError::Conflict(format!(
                    "another calibration of {} was stored at the same time; run it again",
                    fitted.kind
                )))
            }
            Err(e) => Err(query_error("storing a calibration map")(e)),
        }
    }

    /// The newest version of every kind's map, by kind.
    pub async fn latest_calibrations(&self) -> Result<Vec<StoredCalibration>, StoreError> {
        const SQL: &str = "SELECT kind, version, points_json, fitted_from, fitted_to, trades, \
             split, created_at FROM calibration_maps c WHERE version = \
             (SELECT MAX(version) FROM calibration_maps WHERE kind = c.kind) ORDER BY kind";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading calibration maps"))?);
        Ok(rows.into_iter().filter_map(Row::into_stored).collect())
    }

    /// Every stored version of `kind`'s map, oldest first.
    pub async fn calibration_versions(
        &self,
        kind: SetupKind,
    ) -> Result<Vec<StoredCalibration>, StoreError> {
        const SQL: &str = "SELECT kind, version, points_json, fitted_from, fitted_to, trades, \
             split, created_at FROM calibration_maps WHERE kind = $1 ORDER BY version";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(kind.as_str())
            .fetch_all(pool)
            .await
            .map_err(query_error("reading calibration maps"))?);
        Ok(rows.into_iter().filter_map(Row::into_stored).collect())
    }

    /// The lookup the screens apply: the newest map of every kind that has one.
    pub async fn calibrations(&self) -> Result<Calibrations, StoreError> {
        Ok(Calibrations::new(
            self.latest_calibrations()
                .await?
                .into_iter()
                .map(|c| (c.kind, c.map)),
        ))
    }
}
