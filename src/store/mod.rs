//! The store: the source of truth for users, watchlists, detections, setups and briefs.
//!
//! One `Store` over SQLite (single user, the default) or PostgreSQL (team mode), with the
//! same SQL text on both wherever the dialects agree (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`), and separate migration folders where they do not (DDL).

mod alerts;
mod backtest;
mod briefs;
mod calibrations;
mod coach;
mod detections;
mod fingerprint;
mod gex_history;
mod positions;
mod rationale;
mod setups;
mod snoozes;
mod team;
mod unreachable;
mod watchlists;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use alerts::{MAX_ALERT_NOTE_CHARS, NewAlert};
pub use backtest::{BacktestRun, SOURCE_CLI, SOURCE_SCHEDULED, StoredBacktest};
pub use briefs::StoredBrief;
pub use calibrations::StoredCalibration;
pub use detections::{BATCH_ROWS, StoredDetection};
pub use fingerprint::ChangeFingerprint;
pub use setups::{
    MAX_NOTES_CHARS, SetupEvent, SetupRow, TRACKED_REASON, TRADER_ACTOR, TrackResult,
};
pub use team::{ChangeListener, OWNERSHIP_ROW, SymbolLocks, WorkerStatus};
pub use watchlists::{DEFAULT_WATCHLIST, MAX_SYMBOLS, Watchlist, WatchlistError, parse_symbols};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A user's id in the `users` table. Every user-scoped query takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub i64);

/// A store failure, with the operation that failed. Never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite://… or postgres://…")]
    BadUrl(String),
    #[error("cannot open the database {target}: {reason}")]
    Open { target: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("{what}: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Watchlist(#[from] WatchlistError),
    /// The row changed (or a twin exists) since the caller looked; nothing was applied.
    /// The message is written for the trader.
    #[error("{0}")]
    Conflict(String),
    /// No such row for this user (another user's rows are reported the same way).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong (a plan out of order, notes too long, an action the
    /// setup's state does not allow); the message is written for the trader.
    #[error("{0}")]
    Invalid(String),
    /// A stored row cannot be read back (written by another version or by hand).
    #[error("{0}")]
    Corrupt(String),
}

/// The pool, by backend.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement-building closure on whichever pool the store has.
/// The closure's text is written once; each arm is compiled for its own database type.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl StoreError {
    /// Whether the database could not be reached (connection refused or lost, pool
    /// timed out): worth retrying later, unlike a refused or invalid request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Query { source, .. } => {
                matches!(
                    source,
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::Protocol(_)
                ) || source
                    .as_database_error()
                    .and_then(|d| d.code())
                    // 57P01..57P03: admin shutdown, crash shutdown, cannot connect now;
                    // 08xxx: connection exceptions.
                    .is_some_and(|code| code.starts_with("57P") || code.starts_with("08"))
            }
            StoreError::Open { .. } => true,
            _ => false,
        }
    }
}

/// The row a write with `RETURNING` gave back, from `fetch_all` (never `fetch_one` or
/// `fetch_optional` on a write outside a transaction).
///
/// Why: on SQLite those two stop stepping the statement after its first row, and a
/// statement outside a transaction commits on the step that finishes it. Stopped early,
/// the commit's failure (a full disk: `SQLITE_FULL`) is lost in a statement reset sqlx
/// does not report, and the caller gets a row that was never saved (issue 26 item 1).
/// `fetch_all` steps to the end, so the commit's error is the statement's error.
pub(crate) fn returned_row<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

pub(crate) fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`.
    /// An empty URL means `coach.db` in the XDG data dir.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = if url.is_empty() {
            let path = default_sqlite_path().ok_or_else(|| StoreError::Open {
                target: "the data directory".into(),
                reason: "no home directory to put coach.db in; pass --db".into(),
            })?;
            Store::open_sqlite(&path).await?
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            if path == ":memory:" {
                Store::open_sqlite_options(
                    SqliteConnectOptions::from_str("sqlite::memory:")
                        .map_err(|e| open_error(url, e))?,
                    url,
                )
                .await?
            } else {
                Store::open_sqlite(Path::new(path)).await?
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| open_error(url, e))?;
            Store::open_postgres(options).await?
        } else {
            return Err(StoreError::BadUrl(redact_url(url)));
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                target: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Store::open_sqlite_options(options, &path.display().to_string()).await
    }

    async fn open_sqlite_options(
        options: SqliteConnectOptions,
        target: &str,
    ) -> Result<Store, StoreError> {
        // A new file's first connection switches it to WAL, which SQLite refuses at once
        // (SQLITE_BUSY, no busy wait) while another process does the same: try again.
        const ATTEMPTS: u32 = 5;
        let mut attempt = 1;
        loop {
            let opened = SqlitePoolOptions::new()
                .max_connections(4)
                .after_release(|conn, _| Box::pin(async move { clean_after_release(conn).await }))
                .connect_with(options.clone())
                .await;
            match opened {
                Ok(pool) => return Ok(Store::Sqlite(pool)),
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some("5") && attempt < ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(e) => return Err(open_error(target, e)),
            }
        }
    }

    /// Connects to PostgreSQL with explicit options (tests use this to pick a schema).
    pub async fn open_postgres(options: PgConnectOptions) -> Result<Store, StoreError> {
        let target = format!(
            "postgres://{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("")
        );
        let pool = match PgPoolOptions::new()
            .max_connections(8)
            .after_release(|conn, _| Box::pin(async move { clean_after_release(conn).await }))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            Err(e @ sqlx::Error::PoolTimedOut) => {
                let reason = unreachable::postgres_reason(&options, &e).await;
                return Err(open_error(&target, reason));
            }
            Err(e) => return Err(open_error(&target, e)),
        };
        Ok(Store::Postgres(pool))
    }

    /// Applies the backend's migrations; running it twice is harmless.
    ///
    /// Two processes opening a new SQLite database at once (a `coach serve` and a CLI
    /// command, two terminals) can both find a migration unapplied; the second's then
    /// fails on what the first just created and rolls back. PostgreSQL serialises them
    /// with an advisory lock; on SQLite the loser tries again, when it finds the
    /// migration applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        const SQLITE_ATTEMPTS: u32 = 5;
        let mut attempt = 1;
        loop {
            let result = match self {
                Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
                Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(
                    sqlx::migrate::MigrateError::Execute(_)
                    | sqlx::migrate::MigrateError::ExecuteMigration(..),
                ) if matches!(self, Store::Sqlite(_)) && attempt < SQLITE_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(e) => return Err(StoreError::Migrate(e.to_string())),
            }
        }
    }

    /// How a read-modify-write transaction starts, and what locks the row it reads:
    /// SQLite takes the write lock up front (`BEGIN IMMEDIATE`, so two writers never both
    /// read first and then deadlock upgrading); PostgreSQL locks the row (`FOR UPDATE`).
    pub(crate) fn write_transaction(&self) -> (&'static str, bool) {
        match self {
            Store::Sqlite(_) => ("BEGIN IMMEDIATE", false),
            Store::Postgres(_) => ("BEGIN", true),
        }
    }

    /// `sqlite` or `postgres`, for the header.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The user's id, creating the user on first use. Names are trimmed and compared
    /// without regard to ASCII case.
    pub async fn ensure_user(&self, name: &str, now: DateTime<Utc>) -> Result<UserId, StoreError> {
        // One trader whatever the spacing and case (`ann `, `ANN` and `ann` are one
        // user; the first spelling is kept). Looked up first, so a command that only
        // reads never writes (and works on a full disk); inserted only on first use.
        let name = name.trim();
        const FIND: &str = "SELECT id FROM users WHERE lower(name) = lower($1) ORDER BY id LIMIT 1";
        let found: Option<i64> = on_pool!(self, |pool| sqlx::query_scalar(FIND)
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(query_error("looking up the user"))?);
        if let Some(id) = found {
            return Ok(UserId(id));
        }
        const SQL: &str = "INSERT INTO users (name, created_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
        let ids: Vec<i64> = on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .bind(name)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(query_error("creating the user"))?);
        returned_row(ids).map(UserId).ok_or_else(|| {
            StoreError::Corrupt(format!("the user {name:?} was neither found nor created"))
        })
    }

    /// Tries a write in a transaction it rolls back, so nothing changes: `coach doctor`'s
    /// proof that the database takes writes (a read-only file, directory or filesystem
    /// opens and reads fine, then refuses the first write; so does a PostgreSQL session
    /// in read-only transactions).
    pub async fn check_writable(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO users (name, created_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET name = excluded.name";
        on_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(query_error("starting a trial write"))?;
            sqlx::query(SQL)
                .bind("coach doctor trial write")
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(query_error("a trial write"))?;
            tx.rollback()
                .await
                .map_err(query_error("rolling back a trial write"))?;
        });
        Ok(())
    }

    /// Every trader's name, by name (team mode: one `coach serve` works for all of them).
    pub async fn user_names(&self) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "SELECT name FROM users ORDER BY name";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(SQL)
            .fetch_all(pool)
            .await
            .map_err(query_error("listing the users"))?))
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// Whether a connection handed back to the pool may be used again: not while it still
/// counts an open transaction. That happens when a transaction failed half-way (a full
/// disk: SQLite rolls the whole transaction back itself, so the `ROLLBACK` sqlx sends when
/// the `Transaction` drops fails and its depth stays 1); reused, every later
/// `begin_with("BEGIN IMMEDIATE")` on it fails with "attempted to call begin_with at
/// non-zero transaction depth" (issue 26 item 2). Such a connection is closed and the
/// pool opens a fresh one. The ping first lets the connection finish the rollback a
/// dropped `Transaction` queued, so a cleanly rolled-back connection is kept.
async fn clean_after_release<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a database connection was left inside a failed transaction; it is closed");
    }
    Ok(clean)
}

/// `~/.local/share/coach/coach.db` (the XDG data dir).
pub fn default_sqlite_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "coach").map(|d| d.data_dir().join("coach.db"))
}

fn open_error(target: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        target: redact_url(target),
        reason: redact_url(&e.to_string()),
    }
}

/// Hides the password of a `scheme://user:password@host` URL anywhere in a text.
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '?', '#']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://ann:s3cret@db:5432/coach"),
            "postgres://ann:***@db:5432/coach"
        );
        assert_eq!(
            redact_url("error connecting to postgres://u:p@h/x: refused"),
            "error connecting to postgres://u:***@h/x: refused"
        );
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
