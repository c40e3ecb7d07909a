//! `coach serve` with `COACH_BACKTEST_BARS` (SPEC 18): the real binary backtests the bar
//! history after the latest close (none stored since) and keeps the statistics in its
//! database, as the `backtest` worker.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coach::store::{SOURCE_SCHEDULED, Store, StoredBacktest};

const SHARED: &str = "../shared/data/bars/lean_spy_2013-10";

fn stored(url: &str) -> Option<StoredBacktest> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open(url).await.ok()?;
        let latest = store.latest_backtest_stats().await.ok().flatten();
        store.close().await;
        latest
    })
}

#[test]
fn serve_backtests_the_configured_bars_and_stores_the_statistics() {
    let Ok(bars) = std::path::Path::new(SHARED).canonicalize() else {
        assert!(
            std::env::var("COACH_REQUIRE_SHARED").as_deref() != Ok("1"),
            "COACH_REQUIRE_SHARED=1 but {SHARED} is missing"
        );
        eprintln!("skipping: {SHARED} is missing");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let db = format!("sqlite://{}", dir.path().join("coach.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("--config")
        .arg(&config)
        .args(["--db", &db, "serve"])
        .env_remove("COACH_CONFIG")
        .env("COACH_BACKTEST_BARS", &bars)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let found = loop {
        if let Some(s) = stored(&db) {
            break Some(s);
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break None;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let _killed = child.kill();
    let _ = child.wait();
    let stats = found.expect("coach serve stored the backtest within 90 s");
    assert_eq!(stats.run.source, SOURCE_SCHEDULED);
    assert_eq!(stats.run.symbols, vec!["SPY".to_string()]);
    assert!(
        stats.rows.iter().any(|r| r.key.kind.is_some()),
        "{:?}",
        stats.rows
    );
}
