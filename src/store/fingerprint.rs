//! A cheap fingerprint of a trader's setups and alerts (issue 22 item 5): a running
//! dashboard on SQLite, which has no change notifications, compares it every second and
//! reads the lists back when another process (a second dashboard, `coach alerts add`,
//! `coach ask --yes`) changed them.

use super::{Store, StoreError, UserId, on_pool, query_error};

/// Counts and sums that change with every write to the user's setups or alerts: a row
/// added or removed, a transition (its `version`), an alert armed, fired or removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeFingerprint {
    pub setups: (i64, i64, i64),
    pub alerts: (i64, i64, i64, i64),
}

impl Store {
    /// The user's [`ChangeFingerprint`], in one round trip over two indexed scans.
    pub async fn change_fingerprint(&self, user: UserId) -> Result<ChangeFingerprint, StoreError> {
        const SQL: &str = "SELECT \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM tracked_setups WHERE user_id = $1), \
             (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM tracked_setups WHERE user_id = $1), \
             (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM tracked_setups WHERE user_id = $1), \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM alerts WHERE user_id = $1), \
             (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM alerts WHERE user_id = $1), \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM alerts WHERE user_id = $1 AND status = 'armed'), \
             (SELECT CAST(COUNT(fired_at) AS BIGINT) FROM alerts WHERE user_id = $1)";
        let row: (i64, i64, i64, i64, i64, i64, i64) = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(user.0)
            .fetch_one(pool)
            .await
            .map_err(query_error("reading the change fingerprint"))?);
        Ok(ChangeFingerprint {
            setups: (row.0, row.1, row.2),
            alerts: (row.3, row.4, row.5, row.6),
        })
    }
}

impl Store {
    /// Count, sum of versions and largest id of every user's tracked setups: moves with
    /// every setup tracked, transitioned, noted, archived or deleted by any process, for
    /// a server's evaluator on SQLite (which evaluates every user's setups).
    pub async fn setups_fingerprint(&self) -> Result<(i64, i64, i64), StoreError> {
        const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(version), 0) AS BIGINT), \
             CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM tracked_setups";
        let row: (i64, i64, i64) = on_pool!(self, |pool| sqlx::query_as(SQL)
            .fetch_one(pool)
            .await
            .map_err(query_error("reading the setups fingerprint"))?);
        Ok(row)
    }
}
