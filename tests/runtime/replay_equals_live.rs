//! Replay equals live (issue 26 item 4, SPEC 4 and 9): `coach replay` over the shared SPY
//! sessions and the detector worker fed the same bars by the recorded feed store the same
//! detections, detection by detection, whatever the feed's speed. Before the shared
//! priming, live engines were primed with one previous session at each session roll while
//! relative volume needs three, and live stored 43 where replay printed 50.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use coach::config::Config;
use coach::runtime::services::{Feed, Services};
use coach::worker_health::WorkerState;

/// What a detection is, for comparing: symbol, kind, direction, the bar end it was
/// detected at (RFC 3339, UTC), entry, stop and target (to the cent).
type Finding = (String, String, String, String, String, String, String);

fn finding(
    symbol: &str,
    kind: &str,
    direction: &str,
    at: chrono::DateTime<chrono::Utc>,
    levels: [f64; 3],
) -> Finding {
    let cents = |p: f64| format!("{p:.2}");
    (
        symbol.to_string(),
        kind.to_string(),
        direction.to_string(),
        at.to_rfc3339(),
        cents(levels[0]),
        cents(levels[1]),
        cents(levels[2]),
    )
}

/// `coach replay --bars DIR` (the real binary), as findings in its output order.
fn replayed(bars: &Path) -> Vec<Finding> {
    let out = Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("replay")
        .arg("--bars")
        .arg(bars)
        .output()
        .expect("run coach replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| {
            let d: coach::domain::Detection = serde_json::from_str(line).expect("a detection");
            finding(
                d.symbol.as_str(),
                d.kind.as_str(),
                &d.direction.to_string(),
                d.detected_at,
                [d.entry, d.stop, d.target],
            )
        })
        .collect()
}

/// The detector worker behind the recorded feed at `speed` (recorded seconds per real
/// second), on a fresh database: every detection it stored once the recording ended and
/// the worker caught up, in detection order.
async fn live(bars: &Path, speed: f64) -> Vec<Finding> {
    let t = support::sqlite().await;
    let mut config = Config::default();
    config.general.provider = "replay".into();
    config.replay.bars = vec![bars.display().to_string()];
    config.replay.speed = speed;
    let feed = Feed::from_config(&config).expect("the shared bars load");
    let sessions = match &feed {
        Feed::Recorded(market, _) => market.sessions().to_vec(),
        _ => unreachable!("a replay config plays recorded bars"),
    };
    let mut services = Services::start(&config, &t.store, chrono::Utc::now(), feed);
    let deadline = Instant::now() + Duration::from_secs(120);
    let feed_done = |services: &Services| {
        services
            .health
            .snapshot()
            .iter()
            .any(|r| r.name == "feed" && r.state == WorkerState::Stopped)
    };
    // The screen's events are read as a dashboard would (the detector waits for room).
    while !feed_done(&services) {
        assert!(
            Instant::now() < deadline,
            "the recording did not end in 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        while services.events.try_recv().is_ok() {}
    }
    // The detector drains the bus after the feed ends: read until two reads agree.
    let mut stored = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        while services.events.try_recv().is_ok() {}
        let mut now = Vec::new();
        for s in &sessions {
            now.extend(
                t.store
                    .detections_on(s.date)
                    .await
                    .expect("read detections"),
            );
        }
        if now.len() == stored.len() {
            break;
        }
        stored = now;
    }
    let detect = services
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "detect")
        .expect("a detect worker");
    services.shutdown();
    assert_eq!(
        detect.errors, 0,
        "at speed {speed} the detector failed: {:?}",
        detect.last_error
    );
    stored.sort_by_key(|s| s.id);
    stored
        .iter()
        .map(|s| {
            let d = &s.detection;
            finding(
                d.symbol.as_str(),
                d.kind.as_str(),
                &d.direction.to_string(),
                d.detected_at,
                [d.entry, d.stop, d.target],
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_detector_stores_what_replay_prints_at_every_speed() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let bars = shared.join("data/bars/lean_spy_2013-10");
    let replay = replayed(&bars);
    assert_eq!(
        replay.len(),
        50,
        "coach replay's count on the shared sessions"
    );
    // Ten and a hundred recorded hours per real hour: the six sessions (09:25-20:00 each)
    // play in about 6 s, and in under 1 s with many minutes published per step.
    for speed in [36_000.0, 360_000.0] {
        let live = live(&bars, speed).await;
        let only_replay: Vec<&Finding> = replay.iter().filter(|f| !live.contains(f)).collect();
        let only_live: Vec<&Finding> = live.iter().filter(|f| !replay.contains(f)).collect();
        assert!(
            only_replay.is_empty() && only_live.is_empty(),
            "at speed {speed}: {} live vs {} replayed; only in replay {only_replay:#?}, only live {only_live:#?}",
            live.len(),
            replay.len()
        );
        assert_eq!(
            live, replay,
            "at speed {speed}: the same detections in the same order"
        );
    }
}

/// Issue 26 item 10: once a recording ends, the workers that need a feed stop (Health:
/// stopped) after saying "recording finished" once, instead of failing every few seconds
/// with "no market feed is running". The brief scheduler asks for the market every 20 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_recording_stops_the_workers_that_need_a_feed_without_failures() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let t = support::sqlite().await;
    let mut config = Config::default();
    config.general.provider = "replay".into();
    config.replay.bars = vec![
        shared
            .join("data/bars/lean_spy_2013-10")
            .display()
            .to_string(),
    ];
    config.replay.speed = 360_000.0;
    let feed = Feed::from_config(&config).expect("the shared bars load");
    let mut services = Services::start(&config, &t.store, chrono::Utc::now(), feed);
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = |services: &Services, name: &str| {
        services
            .health
            .snapshot()
            .into_iter()
            .find(|r| r.name == name)
            .map(|r| r.state)
    };
    while state(&services, "brief") != Some(WorkerState::Stopped) {
        assert!(
            Instant::now() < deadline,
            "the brief scheduler did not stop within a minute of the recording's end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        while services.events.try_recv().is_ok() {}
    }
    let records = services.health.snapshot();
    services.shutdown();
    assert_eq!(state_of(&records, "feed"), Some(WorkerState::Stopped));
    let brief = records.iter().find(|r| r.name == "brief");
    assert_eq!(
        brief.and_then(|r| r.note.as_deref()),
        Some("recording finished"),
        "Health says why the brief scheduler stopped: {brief:?}"
    );
    let failed: Vec<(String, Option<String>)> = records
        .iter()
        .filter(|r| r.errors > 0)
        .map(|r| (r.name.clone(), r.last_error.clone()))
        .collect();
    assert!(
        failed.is_empty(),
        "workers failed after the end: {failed:?}"
    );
}

fn state_of(records: &[coach::worker_health::WorkerRecord], name: &str) -> Option<WorkerState> {
    records.iter().find(|r| r.name == name).map(|r| r.state)
}
