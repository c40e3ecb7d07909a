//! `coach serve` playing a recording and `coach replay` over the same files store the
//! same detections: the app's detector is primed with what the recording holds before
//! each session, and nothing replay's engine would not derive itself (a prior day from a
//! session with minutes for a third of the day, for example).
//!
//! Input: the two sessions of `serve_kill`'s recording (2024-01-02 and 03 of the shared
//! `market-data_2024` folder). LII trades in 142 of the 390 minutes of January 2nd, from
//! the open to the close: too sparse to stand for a daily bar, so January 3rd has no prior
//! day in either path (no gap_fill, no pivots).

use std::collections::BTreeMap;
use std::process::Command;

use super::serve_kill::{Keys, played_out, recording, serve, shared};

/// `coach replay --format jsonl` over `bars`: the detections by the same key as
/// `serve_kill::stored` (symbol, kind, direction, market date, dedup key) → count.
fn replayed(bars: &std::path::Path) -> Keys {
    let out = Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["replay", "--format", "jsonl", "--bars"])
        .arg(bars)
        .output()
        .expect("the coach binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut keys = BTreeMap::new();
    for line in String::from_utf8(out.stdout).expect("UTF-8").lines() {
        let d: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        let field = |name: &str| d[name].as_str().unwrap_or_default().to_string();
        let key = ["symbol", "kind", "direction", "market_date", "dedup_key"].map(field);
        *keys.entry(key.join(" ")).or_default() += 1;
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_replay_of_one_recording_store_the_same_detections() {
    if !shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = recording(dir.path());
    let replay = replayed(&dir.path().join("bars"));
    let total: usize = replay.values().sum();
    assert!(total >= 20, "the recording has detections: {replay:?}");

    let db = format!("sqlite://{}", dir.path().join("serve.db").display());
    let served = {
        let server = serve(&config, &db);
        played_out(&server, &db).await
    };
    assert_eq!(served, replay, "serve stores what replay prints");
    let lii_gap = |k: &&String| k.starts_with("LII gap_fill") && k.contains("2024-01-03");
    assert_eq!(
        served.keys().filter(lii_gap).count(),
        0,
        "LII's sparse January 2nd makes no prior day, so no gap to fill on the 3rd"
    );
}
