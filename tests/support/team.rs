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
