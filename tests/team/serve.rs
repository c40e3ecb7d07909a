//! Two real `coach serve` processes on one PostgreSQL schema (SPEC 14): they split the
//! symbols through advisory locks, no symbol is ever listed by both live instances, and
//! killing one (SIGKILL, no goodbye) hands all its symbols to the other within 10 s.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use coach::provider::sim::DEFAULT_SYMBOLS;
use coach::runtime::ownership::FRESH_SECS;
use coach::store::{OWNERSHIP_ROW, Store};

fn serve(url: &str, dir: &std::path::Path) -> Child {
    let config = dir.join("config.toml");
    std::fs::write(&config, "").unwrap();
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("--config")
        .arg(&config)
        .args(["--db", url, "serve"])
        .env_remove("COACH_CONFIG")
        .env_remove("DISCORD_WEBHOOK_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start coach serve")
}

/// Each live instance's symbols (heartbeat fresher than the instances' own limit).
async fn owners(store: &Store) -> BTreeMap<String, BTreeSet<String>> {
    let since = Utc::now() - chrono::Duration::milliseconds((FRESH_SECS * 1000.0) as i64);
    let rows = store
        .worker_statuses(since)
        .await
        .expect("read worker_status");
    rows.into_iter()
        .filter(|r| r.worker == OWNERSHIP_ROW)
        .map(|r| {
            let payload: serde_json::Value = serde_json::from_str(&r.payload_json).unwrap();
            let symbols = payload["symbols"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            (r.instance, symbols)
        })
        .collect()
}

/// Panics if a symbol is listed by two live instances.
fn assert_disjoint(owners: &BTreeMap<String, BTreeSet<String>>) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (instance, symbols) in owners {
        for s in symbols {
            if let Some(other) = seen.insert(s, instance) {
                panic!("{s} is owned by both {other} and {instance}: {owners:?}");
            }
        }
    }
}

/// Polls until `done` holds, checking exclusivity at every look; panics after `limit`.
async fn wait_until(
    store: &Store,
    limit: Duration,
    what: &str,
    done: impl Fn(&BTreeMap<String, BTreeSet<String>>) -> bool,
) -> BTreeMap<String, BTreeSet<String>> {
    let start = Instant::now();
    loop {
        let now = owners(store).await;
        assert_disjoint(&now);
        if done(&now) {
            return now;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {limit:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_split_the_symbols_and_a_survivor_takes_over_within_10_s() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let all: BTreeSet<String> = DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut first = serve(t.database_url(), dir.path());
    let alone = wait_until(
        &t.store,
        Duration::from_secs(60),
        "the first owns all",
        |o| o.len() == 1 && o.values().next() == Some(&all),
    )
    .await;
    let first_name = alone.keys().next().unwrap().clone();

    let mut second = serve(t.database_url(), dir.path());
    let split = wait_until(&t.store, Duration::from_secs(60), "both share", |o| {
        o.len() == 2
            && o.values().all(|s| s.len() == all.len() / 2)
            && o.values().flatten().cloned().collect::<BTreeSet<_>>() == all
    })
    .await;
    let second_name = split.keys().find(|k| **k != first_name).unwrap().clone();
    // Stable: a few more rounds, still split and never shared.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(3) {
        let now = owners(&t.store).await;
        assert_disjoint(&now);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    first.kill().expect("SIGKILL the first server");
    first.wait().unwrap();
    let killed = Instant::now();
    wait_until(
        &t.store,
        Duration::from_secs(10),
        "the survivor owns all",
        |o| o.get(&second_name) == Some(&all),
    )
    .await;
    eprintln!("takeover after SIGKILL: {:?}", killed.elapsed());

    second.kill().unwrap();
    second.wait().unwrap();
}
