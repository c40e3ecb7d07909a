//! The whole alerting chain with real workers: supervisor → Health → health monitor →
//! alert dispatcher → a local server standing in for Discord (and the screen). Short
//! thresholds come from the configuration, as a trader would set them.

use crate::fake_discord;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use coach::config::{Config, Secret};
use coach::runtime::AppEvent;
use coach::runtime::health::{Health, StaleFloors, WorkerState};
use coach::runtime::metrics::Metrics;
use coach::runtime::services::spawn_alerting;
use coach::runtime::supervisor;
use fake_discord::{Captured, FakeDiscord, TOKEN};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// No grace, a check every 50 ms, a 60 s cooldown, 2 failures in a row, and the `stall`
/// worker stale after 0.6 s without a heartbeat.
fn config(webhook: &str) -> Config {
    let mut c = Config::default();
    c.discord.webhook_url = Secret::new(webhook);
    c.alerts.startup_grace_secs = 0.0;
    c.alerts.cooldown_secs = 60.0;
    c.alerts.failures_in_a_row = 2;
    c.health.check_secs = 0.05;
    c.health.floors.insert("stall".into(), 0.6);
    c.validate().unwrap();
    c
}

struct Running {
    health: Health,
    cancel: CancellationToken,
    screen: mpsc::Receiver<AppEvent>,
    metrics: Arc<Metrics>,
}

fn start_alerting(config: &Config) -> Running {
    let health = Health::with_floors(StaleFloors::from_config(&config.health));
    let cancel = CancellationToken::new();
    let (events, screen) = mpsc::channel(64);
    let metrics = Arc::new(Metrics::default());
    spawn_alerting(
        config,
        &health,
        &cancel,
        None,
        events,
        metrics.clone(),
        Utc::now(),
    );
    Running {
        health,
        cancel,
        screen,
        metrics,
    }
}

fn notices(screen: &mut mpsc::Receiver<AppEvent>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(event) = screen.try_recv() {
        if let AppEvent::Notice(text) = event {
            out.push(text);
        }
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn a_worker_whose_input_stops_gives_one_incident_then_one_recovery() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeDiscord::start().await;
    let config = config(&fake.url);
    let mut run = start_alerting(&config);

    // A streaming worker that heart-beats every 50 ms while its input flows.
    let flowing = Arc::new(AtomicBool::new(true));
    let input = flowing.clone();
    // Taken just before each heartbeat: staleness is measured from the last one, not from
    // when the test stopped the input (a loaded machine can delay the test in between).
    let last_beat = Arc::new(Mutex::new(Instant::now()));
    let beat = last_beat.clone();
    supervisor::spawn(
        "stall",
        Duration::from_millis(50),
        run.health.clone(),
        run.cancel.clone(),
        move |ctx| {
            let (input, beat) = (input.clone(), beat.clone());
            async move {
                loop {
                    tokio::select! {
                        _ = ctx.cancel.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                    if input.load(Ordering::SeqCst) {
                        *beat.lock().unwrap() = Instant::now();
                        ctx.heartbeat();
                    }
                }
            }
        },
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.received().is_empty(), "healthy: nothing to say");

    flowing.store(false, Ordering::SeqCst);
    let got = fake.wait_for(1, Duration::from_secs(10)).await;
    let stopped = *last_beat.lock().unwrap();
    assert!(
        got[0].at - stopped >= Duration::from_millis(600),
        "not before its threshold"
    );
    assert_eq!(got[0].title(), "🚨 stall is stale");
    assert_eq!(got[0].field("Worker").as_deref(), Some("stall"));
    assert_eq!(got[0].field("State").as_deref(), Some("running, stale"));
    assert!(
        got[0]
            .field("Last success")
            .is_some_and(|s| s.ends_with(" ago")),
        "{got:?}"
    );
    // Twenty more checks while still stale: the cooldown holds.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.received().len(), 1, "one incident, not one per check");

    flowing.store(true, Ordering::SeqCst);
    let got = fake.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].title(), "✅ stall recovered");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.received().len(), 2, "one recovery");

    let shown = notices(&mut run.screen);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].starts_with("stall is stale: No completed cycle for"),
        "{shown:?}"
    );
    assert!(shown[1].starts_with("stall recovered: Healthy again after being stale for"));
    let m = run.metrics.snapshot();
    assert_eq!(m.incidents.get("stale"), Some(&1));
    assert_eq!(m.discord.get("sent"), Some(&2));
    assert!(!logs.text().contains(TOKEN), "{}", logs.text());
    assert!(
        logs.text().contains("stall is stale"),
        "incidents are logged too"
    );
    run.cancel.cancel();
}

#[tokio::test(flavor = "current_thread")]
async fn a_worker_that_keeps_panicking_is_failing_then_recovers() {
    let fake = FakeDiscord::start().await;
    let config = config(&fake.url);
    let mut run = start_alerting(&config);

    let runs = Arc::new(AtomicU32::new(0));
    let counter = runs.clone();
    supervisor::spawn(
        "flaky",
        Duration::from_millis(50),
        run.health.clone(),
        run.cancel.clone(),
        move |ctx| {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 2 {
                    panic!("boom {run}");
                }
                loop {
                    ctx.heartbeat();
                    tokio::select! {
                        _ = ctx.cancel.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            }
        },
    );

    // Two panics in a row (restarts after 1 s, then 2 s): a failing incident.
    let got = fake.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].title(), "🚨 flaky is failing");
    assert_eq!(got[0].field("Failures in a row").as_deref(), Some("2"));
    assert_eq!(
        got[0].field("State").as_deref(),
        Some("failed, waiting to restart")
    );
    assert!(
        got[0]
            .field("Last error")
            .is_some_and(|e| e.ends_with("ago: panicked: boom 1")),
        "{got:?}"
    );
    let flaky = run
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "flaky")
        .unwrap();
    assert_eq!(flaky.state, WorkerState::Failed);

    // The third run works.
    let got = fake.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].title(), "✅ flaky recovered");
    assert_eq!(
        got[1].body["embeds"][0]["description"]
            .as_str()
            .map(|d| d.starts_with("Healthy again after being failing for")),
        Some(true)
    );
    let flaky = run
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "flaky")
        .unwrap();
    assert_eq!(flaky.state, WorkerState::Running);
    assert_eq!((flaky.errors, flaky.restarts), (2, 2));
    assert_eq!(notices(&mut run.screen).len(), 2);
    run.cancel.cancel();
}

#[tokio::test]
async fn with_no_webhook_incidents_are_shown_and_nothing_fails() {
    let mut config = config("");
    config.health.floors.insert("quiet".into(), 0.2);
    let mut run = start_alerting(&config);
    supervisor::spawn(
        "quiet",
        Duration::from_millis(50),
        run.health.clone(),
        run.cancel.clone(),
        |ctx| async move {
            ctx.cancel.cancelled().await;
            Ok(())
        },
    );
    let notice = tokio::time::timeout(Duration::from_secs(10), run.screen.recv())
        .await
        .expect("a notice in time")
        .expect("the channel is open");
    assert!(
        matches!(&notice, AppEvent::Notice(t) if t.starts_with("quiet is stale")),
        "{notice:?}"
    );
    assert!(
        run.metrics.snapshot().discord.is_empty(),
        "nothing was posted"
    );
    let alerts = run
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "alerts")
        .unwrap();
    assert_eq!(alerts.errors, 0);
    run.cancel.cancel();
}
