//! The database restarted under a running `coach serve` and an attached screen (SPEC 14):
//! both notice (the screen's header says so; the server's `database` worker records the
//! failure), reconnect, LISTEN again, and the trader's action queued during the outage is
//! applied once the database is back.
//!
//! This stops and starts a PostgreSQL cluster, so it runs only when told which:
//! `COACH_TEST_PG_RESTART_CLUSTER="15 main"` (version and name, for `pg_ctlcluster`) and
//! `COACH_TEST_PG_RESTART_URL=postgres://postgres@127.0.0.1:5432/test`. CI runs it alone,
//! after the other tests (.ci/run); without both variables it is skipped with a reason.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use coach::provider::sim::DEFAULT_SYMBOLS;
use coach::runtime::health::WorkerRecord;
use coach::setups::SetupStatus;
use coach::store::{OWNERSHIP_ROW, Store};
use support::pty::Tui;
use support::team::{serve, track};

/// `pg_ctlcluster VERSION NAME ACTION`, waiting for it to finish.
fn cluster(which: &str, action: &str) {
    let mut args = vec!["--skip-systemctl-redirect"];
    args.extend(which.split_whitespace());
    args.push(action);
    if action == "stop" {
        args.extend(["-m", "fast"]);
    }
    let status = Command::new("pg_ctlcluster")
        .args(&args)
        .status()
        .expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {args:?} failed");
}

/// Starts the cluster again however the test ends.
struct Restart(String);

impl Drop for Restart {
    fn drop(&mut self) {
        let mut args = vec!["--skip-systemctl-redirect"];
        args.extend(self.0.split_whitespace());
        args.push("start");
        // Already running is fine (exit 2 from pg_ctlcluster); nothing else to do.
        let _status = Command::new("pg_ctlcluster")
            .args(&args)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Retries `check` (which may fail while the database comes back) until it holds.
async fn eventually<F, Fut>(limit: Duration, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The server's `database` and `listen` worker records and its owned symbols, as it
/// published them.
async fn server_view(
    store: &Store,
    instance_pid: &str,
) -> Option<(WorkerRecord, WorkerRecord, usize)> {
    let rows = store
        .worker_statuses(Utc::now() - chrono::Duration::seconds(5))
        .await
        .ok()?;
    let mine = |worker: &str| {
        rows.iter()
            .find(|r| r.worker == worker && r.instance.ends_with(instance_pid))
    };
    let database: WorkerRecord = serde_json::from_str(&mine("database")?.payload_json).ok()?;
    let listen: WorkerRecord = serde_json::from_str(&mine("listen")?.payload_json).ok()?;
    let owned: serde_json::Value = serde_json::from_str(&mine(OWNERSHIP_ROW)?.payload_json).ok()?;
    Some((database, listen, owned["symbols"].as_array()?.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_screen_survive_a_database_restart_without_losing_an_action() {
    let (Ok(which), Ok(url)) = (
        std::env::var("COACH_TEST_PG_RESTART_CLUSTER"),
        std::env::var("COACH_TEST_PG_RESTART_URL"),
    ) else {
        eprintln!(
            "skipping: set COACH_TEST_PG_RESTART_CLUSTER (e.g. \"15 main\") and \
             COACH_TEST_PG_RESTART_URL to let this test restart that cluster"
        );
        return;
    };
    let _restart = Restart(which.clone());
    let t = support::postgres_at(&url).await;
    let now = Utc::now();
    let ann = t.store.ensure_user("ann", now).await.unwrap();
    let (_, anna) = track(&t.store, ann, "ANNA").await;
    let setup = anna.setup;

    let db = t.database_url().to_string();
    let mut server = serve(&db);
    let pid = format!("-{}", server.id());
    let mut tui = Tui::start(&["--attach", "--db", &db, "--user", "ann"]);
    tui.wait_for("6 Logs", Duration::from_secs(20));
    tui.press("3");
    tui.wait_for("ANNA", Duration::from_secs(10));
    // Prices from the server give the screen its market clock (needed to act on setups).
    tui.wait_for("(server prices) live", Duration::from_secs(20));
    eventually(
        Duration::from_secs(20),
        "the server owns every symbol",
        || async {
            server_view(&t.store, &pid)
                .await
                .is_some_and(|(_, _, owned)| owned == DEFAULT_SYMBOLS.len())
        },
    )
    .await;

    cluster(&which, "stop");
    tui.wait_for("DEGRADED: database unreachable", Duration::from_secs(20));
    // Archive the setup while the database is away: the action waits in the queue.
    tui.press("a");
    tui.wait_for("your actions wait", Duration::from_secs(5));
    cluster(&which, "start");

    let store = t.reopen().await;
    eventually(
        Duration::from_secs(60),
        "the queued archive is applied",
        || async {
            store
                .setup(ann, setup.id)
                .await
                .ok()
                .flatten()
                .is_some_and(|row| row.setup.status == SetupStatus::Archived)
        },
    )
    .await;
    tui.wait_gone("DEGRADED", Duration::from_secs(30));
    // The server noticed (its database check and its listener failed), reconnected,
    // LISTENs again, and owns every symbol again (its locks died with the connections).
    eventually(Duration::from_secs(60), "the server recovers", || async {
        server_view(&store, &pid)
            .await
            .is_some_and(|(db, listen, owned)| {
                let now = Utc::now();
                db.errors >= 1
                    && db.is_healthy(now)
                    && listen.errors >= 1
                    && listen.is_healthy(now)
                    && owned == DEFAULT_SYMBOLS.len()
            })
    })
    .await;
    // And the screen LISTENs again: a setup tracked now reaches it.
    track(&store, ann, "ANNB").await;
    tui.wait_for("ANNB", Duration::from_secs(10));
    server.kill().unwrap();
    server.wait().unwrap();
}
