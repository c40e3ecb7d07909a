//! A panic inside a background worker is recorded in Health and the worker restarts; the
//! UI thread (this test's thread) is unaffected.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use coach::runtime::health::{Health, WorkerState};
use coach::runtime::supervisor;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_worker_is_shown_failed_then_restarted() {
    coach::tui::terminal::install_hooks().unwrap();
    let health = Health::default();
    let cancel = CancellationToken::new();
    let runs = Arc::new(AtomicU32::new(0));
    let counter = runs.clone();
    supervisor::spawn(
        "flaky",
        Duration::from_secs(1),
        health.clone(),
        cancel.clone(),
        move |ctx| {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if run == 0 {
                    panic!("boom in the first run");
                }
                ctx.heartbeat();
                ctx.cancel.cancelled().await;
                Ok(())
            }
        },
    );
    let mut changed = health.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let records = health.snapshot();
        let flaky = &records[0];
        if flaky.restarts == 1 && flaky.cycles >= 1 {
            assert_eq!(flaky.state, WorkerState::Running);
            assert_eq!(flaky.errors, 1);
            assert_eq!(
                flaky.consecutive_failures, 0,
                "a good cycle clears the failure streak"
            );
            let error = flaky.last_error.as_deref().unwrap_or_default();
            assert_eq!(error, "panicked: boom in the first run");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker never recovered: {records:?}"
        );
        tokio::time::timeout(Duration::from_secs(2), changed.changed())
            .await
            .ok();
    }
    cancel.cancel();
}

#[tokio::test]
async fn a_worker_returning_an_error_is_recorded_and_retried_with_backoff() {
    let health = Health::default();
    let cancel = CancellationToken::new();
    supervisor::spawn(
        "broken",
        Duration::from_secs(1),
        health.clone(),
        cancel.clone(),
        |_ctx| async { Err::<(), String>("provider said \u{1b}[31mno\u{1b}[0m".to_string()) },
    );
    let mut changed = health.subscribe();
    loop {
        let r = &health.snapshot()[0];
        if r.state == WorkerState::Failed {
            assert_eq!(
                r.last_error.as_deref(),
                Some("provider said no"),
                "escape codes stripped"
            );
            assert_eq!(r.consecutive_failures, 1);
            assert_eq!(r.restarts, 0, "the first retry waits one second");
            break;
        }
        changed.changed().await.unwrap();
    }
    cancel.cancel();
}
