//! The Discord client and the incident rules against a local server standing in for
//! Discord: what the messages say, the start-up grace, one incident per cooldown, one
//! recovery, 429 `retry_after`, 5xx retries, and the webhook URL never in an error or log.

use crate::fake_discord;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use coach::config::Secret;
use coach::notify::discord::{Discord, DiscordError, RetryPolicy, WebhookMessage};
use coach::notify::incidents::{IncidentPolicy, Incidents, OpsNotice};
use coach::notify::message;
use coach::runtime::health::{WorkerRecord, WorkerState};
use fake_discord::{Captured, FakeDiscord, Reply, TOKEN};

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        backoff: Duration::from_millis(20),
        max_wait: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    }
}

fn client(url: &str, retry: RetryPolicy) -> Discord {
    Discord::new(&Secret::new(url), retry)
        .unwrap()
        .expect("a webhook is configured")
}

fn hello() -> WebhookMessage {
    WebhookMessage::embed(
        "coach",
        coach::notify::discord::Embed {
            title: "hello".into(),
            ..Default::default()
        },
    )
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 14, 25, 0).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    start() + chrono::Duration::seconds(secs)
}

/// The feed, last successful at `last_ok` seconds after start (stale 30 s later).
fn feed(last_ok: i64) -> WorkerRecord {
    WorkerRecord {
        name: "feed".into(),
        state: WorkerState::Running,
        expected_interval: Duration::from_secs(1),
        stale_after: Duration::from_secs(30),
        started_at: Some(start()),
        last_cycle_start: None,
        last_cycle_end: Some(at(last_ok)),
        last_success: Some(at(last_ok)),
        last_error_at: Some(at(last_ok - 5)),
        last_error: Some("provider closed the stream".into()),
        cycles: 600,
        errors: 1,
        consecutive_failures: 0,
        restarts: 1,
        note: None,
    }
}

/// Runs one monitor check at `now`: each notice is posted to the webhook for real.
async fn check(
    incidents: &mut Incidents,
    discord: &Discord,
    record: WorkerRecord,
    now: i64,
) -> Vec<OpsNotice> {
    let notices = incidents.evaluate(&[record], at(now));
    for n in &notices {
        let sent = discord
            .send(&WebhookMessage::embed("coach", message::ops_embed(n)))
            .await;
        incidents.delivered(n.worker(), sent.is_ok(), at(now));
    }
    notices
}

#[tokio::test]
async fn a_stale_worker_gives_one_incident_after_the_grace_one_per_cooldown_and_one_recovery() {
    let fake = FakeDiscord::start().await;
    let discord = client(&fake.url, fast());
    let policy = IncidentPolicy {
        startup_grace: Duration::from_secs(300),
        cooldown: Duration::from_secs(900),
        failures_in_a_row: 3,
        retry_delay: Duration::from_secs(60),
    };
    let mut incidents = Incidents::new(policy, start(), &["health"]);

    // The feed stops at 100 s: stale from 131 s, but the grace runs to 300 s.
    for now in (131..300).step_by(5) {
        check(&mut incidents, &discord, feed(100), now).await;
    }
    assert!(
        fake.received().is_empty(),
        "nothing during the start-up grace"
    );

    check(&mut incidents, &discord, feed(100), 300).await;
    let got = fake.received();
    assert_eq!(got.len(), 1, "one incident when the grace ends");
    let incident = &got[0];
    assert_eq!(incident.token, TOKEN, "posted to the configured webhook");
    assert_eq!(incident.body["username"], "coach");
    assert_eq!(incident.title(), "🚨 feed is stale");
    assert_eq!(
        incident.body["embeds"][0]["description"],
        "No completed cycle for 3m 20s (stale after 30s)."
    );
    assert_eq!(incident.field("Worker").as_deref(), Some("feed"));
    assert_eq!(incident.field("State").as_deref(), Some("running, stale"));
    assert_eq!(
        incident.field("Last success").as_deref(),
        Some("3m 20s ago")
    );
    assert_eq!(
        incident.field("Last error").as_deref(),
        Some("3m 25s ago: provider closed the stream")
    );
    assert_eq!(
        incident.body["embeds"][0]["timestamp"],
        "2026-11-24T14:30:00Z"
    );
    assert_eq!(
        incident.body["allowed_mentions"]["parse"],
        serde_json::json!([])
    );

    // Checked every 5 s for the next 15 minutes: silent until the cooldown has passed.
    for now in (305..1200).step_by(5) {
        check(&mut incidents, &discord, feed(100), now).await;
    }
    assert_eq!(fake.received().len(), 1, "nothing more within the cooldown");
    check(&mut incidents, &discord, feed(100), 1200).await;
    let got = fake.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].title(), "🚨 feed is still stale");

    // Data flows again.
    for now in (1205..1300).step_by(5) {
        check(&mut incidents, &discord, feed(now - 1), now).await;
    }
    let got = fake.received();
    assert_eq!(got.len(), 3, "exactly one recovery");
    assert_eq!(got[2].title(), "✅ feed recovered");
    assert_eq!(
        got[2].body["embeds"][0]["description"],
        "Healthy again after being stale for 17m 54s."
    );
}

#[tokio::test]
async fn a_rate_limited_message_waits_retry_after_from_the_body_then_arrives() {
    let fake = FakeDiscord::start().await;
    fake.script([Reply::status(
        429,
        r#"{"message": "You are being rate limited.", "retry_after": 0.4, "global": false}"#,
    )
    // The body wins over the header.
    .header("retry-after", "3")]);
    client(&fake.url, fast()).send(&hello()).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 2, "the same message again after the wait");
    assert_eq!(got[0].body, got[1].body);
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(400),
        "waited {:?}, Discord asked for 0.4 s",
        got[1].at - got[0].at
    );
}

#[tokio::test]
async fn without_a_json_body_the_retry_after_header_is_honoured() {
    let fake = FakeDiscord::start().await;
    fake.script([Reply::status(429, "slow down").header("retry-after", "1")]);
    client(&fake.url, fast()).send(&hello()).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 2);
    assert!(got[1].at - got[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_rate_limit_longer_than_allowed_gives_up_at_once() {
    let fake = FakeDiscord::start().await;
    fake.script([Reply::status(429, r#"{"retry_after": 120.0}"#)]);
    let err = client(&fake.url, fast()).send(&hello()).await.unwrap_err();
    assert!(
        matches!(err, DiscordError::RateLimitedTooLong { .. }),
        "{err}"
    );
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_one_succeeds() {
    let fake = FakeDiscord::start().await;
    fake.script([
        Reply::status(502, "bad gateway"),
        Reply::status(503, "unavailable"),
    ]);
    client(&fake.url, fast()).send(&hello()).await.unwrap();
    let got = fake.received();
    assert_eq!(got.len(), 3);
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(20),
        "first backoff"
    );
    assert!(
        got[2].at - got[1].at >= Duration::from_millis(40),
        "doubled"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn failures_never_show_the_webhook_url_in_errors_or_logs() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeDiscord::start().await;

    fake.script((0..4).map(|_| Reply::status(500, "oops")));
    let gave_up = client(&fake.url, fast()).send(&hello()).await.unwrap_err();
    assert_eq!(fake.received().len(), 4, "every attempt was made");
    assert!(
        gave_up.to_string().contains("after 4 attempts: HTTP 500"),
        "{gave_up}"
    );

    fake.script([Reply::status(
        404,
        r#"{"message": "Unknown Webhook", "code": 10015}"#,
    )]);
    let rejected = client(&fake.url, fast()).send(&hello()).await.unwrap_err();
    assert_eq!(fake.received().len(), 5, "a 4xx is not retried");
    assert_eq!(
        rejected.to_string(),
        "Discord refused the message: HTTP 404: Unknown Webhook"
    );

    // Nothing listens on this port: connection refused, with the URL in reqwest's error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!(
        "http://{}/api/webhooks/1/{TOKEN}",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let unreachable = client(&dead_url, fast()).send(&hello()).await.unwrap_err();
    let text = unreachable.to_string();
    assert!(text.contains("after 4 attempts"), "{text}");

    let debug = format!(
        "{:?} {:?}",
        client(&fake.url, fast()),
        Secret::new(&fake.url)
    );
    for shown in [
        gave_up.to_string(),
        rejected.to_string(),
        text,
        debug,
        logs.text(),
    ] {
        assert!(!shown.contains(TOKEN), "the webhook token leaked: {shown}");
    }
    assert!(
        logs.text().contains("retrying"),
        "the retries were logged: {}",
        logs.text()
    );
}

#[tokio::test]
async fn no_webhook_means_no_client_and_no_error() {
    assert!(
        Discord::new(&Secret::new(""), RetryPolicy::default())
            .unwrap()
            .is_none()
    );
}
