//! With `--features sentry` and a DSN, an operational incident becomes a Sentry event
//! (sent to a local server standing in for Sentry); without a DSN nothing is set up.
#![cfg(feature = "sentry")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::Utc;
use coach::config::{Secret, SentryConfig};
use coach::notify::incidents::{Incident, IncidentKind, OpsNotice, Recovery};
use coach::notify::sentry;
use coach::runtime::health::WorkerState;

type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

async fn envelope(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> &'static str {
    let auth = headers
        .get("x-sentry-auth")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    seen.lock()
        .unwrap()
        .push((auth, String::from_utf8_lossy(&body).into_owned()));
    "{}"
}

// Several threads: Sentry's transport posts from its own thread to the server here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_becomes_a_sentry_event_tagged_with_worker_and_kind() {
    assert!(
        !sentry::init(&SentryConfig::default()).is_active(),
        "no DSN: off"
    );

    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/api/42/envelope/", post(envelope))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let guard = sentry::init(&SentryConfig {
        dsn: Secret::new(format!("http://publickey@{addr}/42")),
    });
    assert!(guard.is_active());
    let now = Utc::now();
    let notice = OpsNotice::Incident(Incident {
        worker: "detect".into(),
        kind: IncidentKind::Failing,
        state: WorkerState::Failed,
        started_at: Some(now),
        last_success: None,
        last_error: Some("panicked: index out of range".into()),
        last_error_at: Some(now),
        consecutive_failures: 3,
        restarts: 2,
        stale_after: Duration::from_secs(60),
        since: now,
        at: now,
        repeat: false,
    });
    sentry::ops_event(&notice, "detect is failing: its last 3 runs failed");
    let recovered = OpsNotice::Recovered(Recovery {
        worker: "detect".into(),
        from: IncidentKind::Failing,
        since: now,
        at: now,
    });
    sentry::ops_event(&recovered, "detect recovered");
    // Dropping the guard flushes, blocking until sent: off the runtime's threads.
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (incident, recovery) = loop {
        if let [(auth, incident), (_, recovery)] = &seen.lock().unwrap()[..] {
            assert!(
                auth.clone()
                    .unwrap_or_default()
                    .contains("sentry_key=publickey")
            );
            break (incident.clone(), recovery.clone());
        }
        assert!(tokio::time::Instant::now() < deadline, "no event arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let body = &incident;
    assert!(
        body.contains("detect is failing: its last 3 runs failed"),
        "{body}"
    );
    assert!(body.contains("\"worker\":\"detect\""), "{body}");
    assert!(body.contains("\"incident\":\"failing\""), "{body}");
    // Error is Sentry's default level, so it is left out of the event.
    assert!(!body.contains("\"level\""), "{body}");
    assert!(recovery.contains("\"level\":\"info\""), "{recovery}");
    assert!(
        recovery.contains("\"incident\":\"recovered\""),
        "{recovery}"
    );
}
