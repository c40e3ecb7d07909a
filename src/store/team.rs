//! Team mode's database side (SPEC 14): `worker_status` rows (each server's workers, for
//! attached screens), change notifications (LISTEN on `coach_<schema>`, see migration
//! 0005), and per-symbol advisory locks that split the work between servers.

use chrono::{DateTime, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};

use super::{Store, StoreError, on_pool, query_error};
use crate::domain::Symbol;
use crate::team::change::Change;

/// One row of `worker_status`: a worker of one server instance as it last reported.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerStatus {
    pub worker: String,
    pub instance: String,
    pub state: String,
    pub last_heartbeat: DateTime<Utc>,
    /// JSON written by the server (a worker record, the owned symbols, last prices).
    pub payload_json: String,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    worker: String,
    instance: String,
    state: String,
    last_heartbeat: DateTime<Utc>,
    payload_json: String,
}

/// The `worker` of the row each instance's lock holder writes: payload
/// `{"symbols": [...]}`, the symbols it owns; heartbeat from the database clock.
pub const OWNERSHIP_ROW: &str = "symbols";

impl Store {
    /// A round trip to the database: `Ok` when it answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(query_error("reaching the database")))
    }

    /// Writes (or replaces) worker status rows.
    pub async fn put_worker_status(&self, rows: &[WorkerStatus]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO worker_status (worker, instance, state, last_heartbeat, \
             payload_json) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (worker, instance) DO UPDATE \
             SET state = excluded.state, last_heartbeat = excluded.last_heartbeat, \
             payload_json = excluded.payload_json";
        for r in rows {
            on_pool!(self, |pool| sqlx::query(SQL)
                .bind(&r.worker)
                .bind(&r.instance)
                .bind(&r.state)
                .bind(r.last_heartbeat)
                .bind(&r.payload_json)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(query_error("writing the worker status"))?);
        }
        Ok(())
    }

    /// Worker status rows with a heartbeat at or after `since`, by instance then worker.
    pub async fn worker_statuses(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<WorkerStatus>, StoreError> {
        const SQL: &str = "SELECT worker, instance, state, last_heartbeat, payload_json \
             FROM worker_status WHERE last_heartbeat >= $1 ORDER BY instance, worker";
        let rows: Vec<StatusRow> = on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .fetch_all(pool)
            .await
            .map_err(query_error("reading the worker status"))?);
        Ok(rows
            .into_iter()
            .map(|r| WorkerStatus {
                worker: r.worker,
                instance: r.instance,
                state: r.state,
                last_heartbeat: r.last_heartbeat,
                payload_json: r.payload_json,
            })
            .collect())
    }

    /// Listens for change notifications; `None` on SQLite (no notifications there).
    pub async fn change_listener(&self) -> Result<Option<ChangeListener>, StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool)
            .await
            .map_err(query_error("connecting the change listener"))?;
        // A lost connection is reported (`Ok(None)` from `next`), not silently redialled:
        // the caller reloads what it may have missed.
        listener.eager_reconnect(false);
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await
            .map_err(query_error("reading the schema for the change channel"))?;
        listener
            .listen(&format!("coach_{schema}"))
            .await
            .map_err(query_error("listening for changes"))?;
        Ok(Some(ChangeListener { listener }))
    }

    /// A connection of its own for this instance's symbol locks; `None` on SQLite (one
    /// instance owns everything there). The locks die with the connection.
    pub async fn symbol_locks(&self) -> Result<Option<SymbolLocks>, StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let conn = pool
            .acquire()
            .await
            .map_err(query_error("opening the symbol lock connection"))?
            .detach();
        Ok(Some(SymbolLocks { conn }))
    }
}

/// Change notifications of this database schema.
pub struct ChangeListener {
    listener: PgListener,
}

impl ChangeListener {
    /// The next change; `Ok(None)` when the connection was lost (notifications sent
    /// meanwhile are gone: reload). An unreadable payload is skipped with a warning.
    pub async fn next(&mut self) -> Result<Option<Change>, StoreError> {
        loop {
            let Some(note) = self
                .listener
                .try_recv()
                .await
                .map_err(query_error("receiving a change notification"))?
            else {
                return Ok(None);
            };
            match Change::parse(note.payload()) {
                Ok(change) => return Ok(Some(change)),
                Err(e) => tracing::warn!("{e}"),
            }
        }
    }
}

/// Session-level advisory locks, one per symbol, keyed by (schema, symbol) so schemas
/// sharing a database never contend.
pub struct SymbolLocks {
    conn: PgConnection,
}

impl SymbolLocks {
    /// Takes `symbol`'s lock if no other instance holds it.
    pub async fn try_lock(&mut self, symbol: &Symbol) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext(current_schema()), hashtext($1))")
            .bind(symbol.as_str())
            .fetch_one(&mut self.conn)
            .await
            .map_err(query_error("locking a symbol"))
    }

    /// Gives `symbol`'s lock back.
    pub async fn unlock(&mut self, symbol: &Symbol) -> Result<(), StoreError> {
        let _held: bool = sqlx::query_scalar(
            "SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext($1))",
        )
        .bind(symbol.as_str())
        .fetch_one(&mut self.conn)
        .await
        .map_err(query_error("unlocking a symbol"))?;
        Ok(())
    }

    /// Records what `instance` owns now (heartbeat on the database clock) and returns how
    /// many instances have a heartbeat within `fresh_secs`, this one included.
    pub async fn heartbeat(
        &mut self,
        instance: &str,
        owned: &[&Symbol],
        fresh_secs: f64,
    ) -> Result<usize, StoreError> {
        let payload = serde_json::json!({ "symbols": owned }).to_string();
        sqlx::query(
            "INSERT INTO worker_status (worker, instance, state, last_heartbeat, payload_json) \
             VALUES ($1, $2, 'running', now(), $3) ON CONFLICT (worker, instance) DO UPDATE \
             SET state = excluded.state, last_heartbeat = excluded.last_heartbeat, \
             payload_json = excluded.payload_json",
        )
        .bind(OWNERSHIP_ROW)
        .bind(instance)
        .bind(payload)
        .execute(&mut self.conn)
        .await
        .map_err(query_error("writing the ownership heartbeat"))?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT instance) FROM worker_status WHERE worker = $1 \
             AND last_heartbeat > now() - make_interval(secs => $2)",
        )
        .bind(OWNERSHIP_ROW)
        .bind(fresh_secs)
        .fetch_one(&mut self.conn)
        .await
        .map_err(query_error("counting live instances"))?;
        Ok(usize::try_from(live).unwrap_or(1).max(1))
    }

    pub async fn close(self) {
        if let Err(e) = self.conn.close().await {
            tracing::debug!("closing the symbol lock connection: {e}");
        }
    }
}
