//! The replay provider in the running app: recorded SPY sessions played on the virtual
//! clock go through the same detector worker and give the same detections as
//! `coach replay` over the same files.

use crate::support;

use std::time::Duration;

use chrono::Utc;
use coach::config::Config;
use coach::domain::{Direction, SetupKind};
use coach::runtime::AppEvent;
use coach::runtime::services::{Feed, Services};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_spy_bars_played_live_give_the_replay_detections() {
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
    config.replay.speed = 3600.0;
    config.validate().unwrap();
    let feed = Feed::from_config(&config).unwrap();
    let mut services = Services::start(&config, &t.store, Utc::now(), feed);

    let first = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), services.events.recv())
            .await
            .expect("a detection within the first recorded session")
            .expect("events open");
        if let AppEvent::Detection(d) = event {
            break d.detection;
        }
    };
    services.shutdown();
    // The first line of `coach replay ... --format table` on the same files.
    assert_eq!(first.symbol.as_str(), "SPY");
    assert_eq!(first.kind, SetupKind::BreakRetest);
    assert_eq!(first.direction, Direction::Long);
    assert_eq!(first.market_date.to_string(), "2013-10-04");
    assert!(
        (first.entry - 168.18).abs() < 0.005,
        "entry {}",
        first.entry
    );
    assert!((first.stop - 167.90).abs() < 0.005, "stop {}", first.stop);
    assert!(
        (first.target - 168.60).abs() < 0.005,
        "target {}",
        first.target
    );
}

#[test]
fn a_replay_without_bar_files_is_refused_naming_the_key() {
    let mut config = Config::default();
    config.general.provider = "replay".into();
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("replay.bars"), "{err}");
}
