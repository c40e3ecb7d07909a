//! Shared test helpers: stores on every backend, the shared data folder.
#![allow(dead_code)]

pub mod chat_server;
pub mod pty;
pub mod small_disk;
pub mod team;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use coach::store::Store;
use sqlx::postgres::PgConnectOptions;

/// A store under test and what it is, for assertion messages.
pub struct TestStore {
    pub name: String,
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    reopen: Reopen,
}

/// How to connect again to the same database (a restart).
enum Reopen {
    Url(String),
    /// The options, and the URL of the same schema for a child process.
    Postgres(Box<PgConnectOptions>, String),
}

impl TestStore {
    /// A new connection pool on the same database, as a restarted process would open.
    pub async fn reopen(&self) -> Store {
        match &self.reopen {
            Reopen::Url(url) => Store::open(url).await.expect("reopen sqlite"),
            Reopen::Postgres(options, _) => {
                let store = Store::open_postgres((**options).clone())
                    .await
                    .expect("reconnect to the schema");
                store.migrate().await.expect("migrate postgres");
                store
            }
        }
    }

    /// A new pool on the same PostgreSQL schema whose sessions start with these run-time
    /// settings (e.g. `default_transaction_read_only = on`: the server refuses writes).
    pub async fn reopen_with(&self, settings: &[(&str, &str)]) -> Store {
        let Reopen::Postgres(options, _) = &self.reopen else {
            panic!("reopen_with is for PostgreSQL stores");
        };
        let mut options = (**options).clone();
        for (key, value) in settings {
            options = options.options([(*key, *value)]);
        }
        Store::open_postgres(options)
            .await
            .expect("reconnect to the schema")
    }

    /// The database URL a CLI run can be pointed at (SQLite stores only).
    pub fn url(&self) -> Option<&str> {
        match &self.reopen {
            Reopen::Url(url) => Some(url),
            Reopen::Postgres(..) => None,
        }
    }

    /// The database URL of this store on either backend (PostgreSQL: this test's schema,
    /// through `options[search_path]`), for child processes.
    pub fn database_url(&self) -> &str {
        match &self.reopen {
            Reopen::Url(url) | Reopen::Postgres(_, url) => url,
        }
    }
}

/// A fresh SQLite file store, and a fresh PostgreSQL schema when
/// `COACH_TEST_POSTGRES_URL` is set (a set but unreachable URL fails the test).
pub async fn stores() -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    }
    out
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("coach.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    TestStore {
        name: "sqlite".into(),
        store,
        _dir: Some(dir),
        reopen: Reopen::Url(url),
    }
}

/// A PostgreSQL store in a schema of its own, or `None` (with a printed reason) when
/// `COACH_TEST_POSTGRES_URL` is not set.
pub async fn postgres() -> Option<TestStore> {
    let Ok(url) = std::env::var("COACH_TEST_POSTGRES_URL") else {
        eprintln!("skipping PostgreSQL: COACH_TEST_POSTGRES_URL is not set");
        return None;
    };
    Some(postgres_at(&url).await)
}

/// A PostgreSQL store in a schema of its own on the server at `url`.
pub async fn postgres_at(url: &str) -> TestStore {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "coach_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let base = PgConnectOptions::from_str(url).expect("the PostgreSQL URL parses");
    let admin = Store::open_postgres(base.clone())
        .await
        .expect("a PostgreSQL URL is set but PostgreSQL is unreachable");
    if let Store::Postgres(pool) = &admin {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(pool)
            .await
            .expect("create test schema");
    }
    admin.close().await;
    let options = base.options([("search_path", schema.as_str())]);
    let store = Store::open_postgres(options.clone())
        .await
        .expect("connect to schema");
    store.migrate().await.expect("migrate postgres");
    TestStore {
        name: format!("postgres ({schema})"),
        store,
        _dir: None,
        reopen: Reopen::Postgres(Box::new(options), schema_url(url, &schema)),
    }
}

/// `url` with its search path set to `schema`.
fn schema_url(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[search_path]={schema}")
}

/// Whether `path` (under `../shared`) is there; a printed reason when not, and with
/// `COACH_REQUIRE_SHARED=1` a failure instead.
pub fn shared_present(path: &str) -> bool {
    if std::path::Path::new(path).exists() {
        return true;
    }
    if std::env::var("COACH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{path} is missing and COACH_REQUIRE_SHARED=1");
    }
    eprintln!("skipping: {path} is not there (shared data absent)");
    false
}

/// `../shared` beside the repository, or `None` with a printed reason; with
/// `COACH_REQUIRE_SHARED=1` a missing folder fails the test instead.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("COACH_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("COACH_REQUIRE_SHARED=1 but {} is missing", dir.display());
    }
    eprintln!("skipping: {} is missing", dir.display());
    None
}
