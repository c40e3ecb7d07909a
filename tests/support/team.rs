//! Team-mode test helpers: a plan to track, and `coach serve` as a child process.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};

use chrono::Utc;
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::store::{SetupRow, Store, StoredDetection, TrackResult, UserId};

/// A long opening-range breakout on `symbol` detected now (dedup key: the symbol).
pub fn detection(symbol: &str) -> Detection {
    let now = Utc::now();
    Detection {
        symbol: Symbol::parse(symbol).unwrap(),
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 70,
        entry: 101.25,
        stop: 99.75,
        target: 104.25,
        detected_at: now,
        bar_time: now - chrono::Duration::minutes(1),
        market_date: coach::market::calendar::ny_date(now),
        dedup_key: symbol.into(),
        rationale: "close above the opening range high on 2.1x volume".into(),
        gex: None,
    }
}

/// Stores [`detection`]`(symbol)` and tracks it for `user`, as another process would.
pub async fn track(store: &Store, user: UserId, symbol: &str) -> (StoredDetection, SetupRow) {
    let d = detection(symbol);
    let (id, _) = store.insert_detection(&d).await.unwrap();
    let stored = StoredDetection { id, detection: d };
    match store.track(user, &stored, false, Utc::now()).await.unwrap() {
        TrackResult::Tracked(row) => (stored, row),
        TrackResult::AlreadyTracked(row) => panic!("already tracked: {row:?}"),
    }
}

/// `coach --db URL serve` with no configuration file, webhook or output.
pub fn serve(url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["--db", url, "serve"])
        .env_remove("COACH_CONFIG")
        .env_remove("DISCORD_WEBHOOK_URL")
        .env("HOME", std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start coach serve")
}

/// A login role of its own for a test's workers, allowed into the test's schema only, so
/// the test can take the database away from them (and give it back) without touching
/// anybody else's sessions.
pub struct WorkerRole {
    pub role: String,
    schema: String,
}

/// Runs `sql` as the administrator of the test database (`COACH_TEST_POSTGRES_URL`).
pub async fn admin(sql: &str) {
    let url = std::env::var("COACH_TEST_POSTGRES_URL").unwrap();
    let admin = Store::open_postgres(url.parse().unwrap()).await.unwrap();
    if let Store::Postgres(pool) = &admin {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    admin.close().await;
}

impl WorkerRole {
    /// Creates `<schema>_worker` with every right on the schema of `t` (PostgreSQL).
    pub async fn create(t: &super::TestStore) -> WorkerRole {
        let schema = t
            .name
            .trim_start_matches("postgres (")
            .trim_end_matches(')')
            .to_string();
        let role = format!("{schema}_worker");
        admin(&format!(
            "CREATE ROLE {role} LOGIN; GRANT ALL ON SCHEMA {schema} TO {role}; \
             GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}; \
             GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role};"
        ))
        .await;
        WorkerRole { role, schema }
    }

    /// A store that logs in as this role.
    pub async fn store(&self) -> Store {
        let url = std::env::var("COACH_TEST_POSTGRES_URL").unwrap();
        let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
        let options = options
            .username(&self.role)
            .options([("search_path", self.schema.as_str())]);
        Store::open_postgres(options).await.unwrap()
    }

    /// The outage: no new session (too many connections, a retryable refusal), and the
    /// open ones are cut.
    pub async fn cut(&self) {
        let role = &self.role;
        admin(&format!(
            "ALTER ROLE {role} CONNECTION LIMIT 0; SELECT pg_terminate_backend(pid) \
             FROM pg_stat_activity WHERE usename = '{role}';"
        ))
        .await;
    }

    /// The end of the outage.
    pub async fn restore(&self) {
        admin(&format!("ALTER ROLE {} CONNECTION LIMIT -1;", self.role)).await;
    }

    pub async fn drop_role(self) {
        let role = &self.role;
        admin(&format!("DROP OWNED BY {role}; DROP ROLE {role};")).await;
    }
}
