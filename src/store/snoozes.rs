//! Snoozed notifications (SPEC 20): when each price alert's or setup's deliveries may
//! resume. Kept in the database so a restart, or `coach serve` beside the dashboard,
//! honours a snooze set on the screen.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, on_pool, query_error};
use crate::notify::snooze::SnoozeTarget;

impl Store {
    /// Snoozes `target` until `until`, replacing any earlier snooze of it.
    pub async fn snooze(
        &self,
        target: SnoozeTarget,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO snoozes (target, target_id, until) VALUES ($1, $2, $3) \
                           ON CONFLICT (target, target_id) DO UPDATE SET until = excluded.until";
        on_pool!(self, |pool| sqlx::query(SQL)
            .bind(target.kind())
            .bind(target.id())
            .bind(until)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(query_error("storing a snooze"))?);
        Ok(())
    }

    /// When `target`'s snooze ends, if it has one (possibly already over).
    pub async fn snoozed_until(
        &self,
        target: SnoozeTarget,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        const SQL: &str = "SELECT until FROM snoozes WHERE target = $1 AND target_id = $2";
        let until: Option<(DateTime<Utc>,)> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(target.kind())
            .bind(target.id())
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading a snooze"))?);
        Ok(until.map(|(u,)| u))
    }

    /// Forgets snoozes that ended before `now`; how many.
    pub async fn prune_snoozes(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM snoozes WHERE until <= $1";
        Ok(on_pool!(self, |pool| sqlx::query(SQL)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("pruning snoozes"))?))
    }
}
