//! The detector's rationale of a tracked setup, read back from the detection it was
//! tracked from (issue 22 item 5): the Setups details show it after a restart too, when
//! the detection is no longer on the Scanner.

use super::{Store, StoreError, UserId, on_pool, query_error};

impl Store {
    /// The rationale of the detection setup `id` was tracked from; `None` for a setup
    /// tracked by hand (no detection), another user's setup, or an unknown id.
    pub async fn setup_rationale(
        &self,
        user: UserId,
        id: i64,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT d.rationale FROM tracked_setups s \
             JOIN detections d ON d.id = s.source_id WHERE s.id = $1 AND s.user_id = $2";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(id)
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading a setup's rationale"))?))
    }
}
