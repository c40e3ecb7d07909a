//! Morning briefs (SPEC 2, 8): one row per `(user_id, market_date)`. Creating one is
//! `INSERT … ON CONFLICT DO NOTHING`, so two schedulers racing on one database store one
//! brief and both read back the same; regenerating is a compare-and-set on
//! `generated_at`, so two regenerations never interleave.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError, UserId, on_pool, query_error};
use crate::brief::Brief;
use crate::brief::model::BRIEF_VERSION;

/// A stored brief and whether the trader has seen it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBrief {
    pub brief: Brief,
    pub viewed: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    generated_at: DateTime<Utc>,
    payload_json: String,
    viewed: bool,
}

fn payload(brief: &Brief) -> Result<String, StoreError> {
    serde_json::to_string(brief)
        .map_err(|e| StoreError::Invalid(format!("the brief cannot be written as JSON: {e}")))
}

impl Store {
    /// Stores the brief of its market date unless one exists. Returns whether this call
    /// stored it (`false`: another process was first; read it with [`Store::brief`]).
    pub async fn insert_brief(&self, user: UserId, brief: &Brief) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO briefs (user_id, market_date, generated_at, payload_json, viewed) \
             VALUES ($1, $2, $3, $4, FALSE) ON CONFLICT (user_id, market_date) DO NOTHING";
        let json = payload(brief)?;
        let done = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(user.0)
            .bind(brief.market_date)
            .bind(brief.generated_at)
            .bind(&json)
            .execute(pool)
            .await
            .map_err(query_error("storing the brief"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// Replaces the stored brief of its date if it is still the one generated at
    /// `previous` (compare-and-set). Returns whether it was replaced; `false` means
    /// someone regenerated it first (or it does not exist). `viewed` is reset.
    pub async fn replace_brief(
        &self,
        user: UserId,
        brief: &Brief,
        previous: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE briefs SET generated_at = $1, payload_json = $2, viewed = FALSE \
             WHERE user_id = $3 AND market_date = $4 AND generated_at = $5";
        let json = payload(brief)?;
        let done = on_pool!(self, |pool| sqlx::query(SQL)
            .bind(brief.generated_at)
            .bind(&json)
            .bind(user.0)
            .bind(brief.market_date)
            .bind(previous)
            .execute(pool)
            .await
            .map_err(query_error("replacing the brief"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// The user's brief of `date`. A payload this version cannot read is `Corrupt`.
    pub async fn brief(
        &self,
        user: UserId,
        date: NaiveDate,
    ) -> Result<Option<StoredBrief>, StoreError> {
        const SQL: &str = "SELECT generated_at, payload_json, viewed FROM briefs \
             WHERE user_id = $1 AND market_date = $2";
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .bind(date)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading the brief"))?);
        let Some(row) = row else {
            return Ok(None);
        };
        let mut brief: Brief = serde_json::from_str(&row.payload_json).map_err(|e| {
            StoreError::Corrupt(format!("the stored brief of {date} is unreadable: {e}"))
        })?;
        if brief.version != BRIEF_VERSION {
            return Err(StoreError::Corrupt(format!(
                "the stored brief of {date} is version {}, this coach writes {BRIEF_VERSION}",
                brief.version
            )));
        }
        // the column is the truth for the compare-and-set
        brief.generated_at = row.generated_at;
        Ok(Some(StoredBrief {
            brief,
            viewed: row.viewed,
        }))
    }

    /// Records that the trader has seen the brief of `date`.
    pub async fn mark_brief_viewed(&self, user: UserId, date: NaiveDate) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE briefs SET viewed = TRUE WHERE user_id = $1 AND market_date = $2";
        on_pool!(self, |pool| sqlx::query(SQL)
            .bind(user.0)
            .bind(date)
            .execute(pool)
            .await
            .map_err(query_error("marking the brief viewed"))?
            .rows_affected());
        Ok(())
    }
}
