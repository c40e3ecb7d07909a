//! What the AI coach keeps: tokens used per user and New York day (the daily budget).

use chrono::NaiveDate;

use super::{Store, StoreError, UserId, on_pool, query_error, returned_row};

impl Store {
    /// Tokens the user's coach used on `day` (New York date); 0 when none.
    pub async fn llm_tokens_on(&self, user: UserId, day: NaiveDate) -> Result<u64, StoreError> {
        const SQL: &str = "SELECT tokens FROM llm_usage WHERE user_id = $1 AND day = $2";
        let tokens: Option<i64> = on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(user.0)
            .bind(day)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading the coach's token usage"))?);
        Ok(tokens.map_or(0, |t| t.max(0) as u64))
    }

    /// Adds `tokens` to the user's usage on `day`; returns the new total.
    pub async fn add_llm_tokens(
        &self,
        user: UserId,
        day: NaiveDate,
        tokens: u64,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "INSERT INTO llm_usage (user_id, day, tokens) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, day) DO UPDATE SET tokens = llm_usage.tokens + excluded.tokens \
             RETURNING tokens";
        let add = i64::try_from(tokens).unwrap_or(i64::MAX);
        let totals: Vec<i64> = on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(user.0)
            .bind(day)
            .bind(add)
            .fetch_all(pool)
            .await
            .map_err(query_error("saving the coach's token usage"))?);
        let total = returned_row(totals)
            .ok_or_else(|| StoreError::Corrupt("the coach's token usage was not saved".into()))?;
        Ok(total.max(0) as u64)
    }
}
