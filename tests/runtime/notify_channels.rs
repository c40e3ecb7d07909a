//! The alert channels (SPEC 20) against local servers standing in for ntfy, a JSON
//! webhook, Slack and Telegram, and the command channel with real programs: what each
//! receives, 429 waits as asked, 5xx retried, other 4xx not, and no URL or token in any
//! error or log line. Then the whole chain: dispatcher → channel workers → Health and
//! /metrics, kinds and quiet hours.

use crate::fake_channel;
use crate::fake_discord::Captured;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use coach::config::{AlertsConfig, Config, Secret};
use coach::domain::Symbol;
use coach::notify::channels::{self, Channel, ChannelError, Delivery};
use coach::notify::discord::RetryPolicy;
use coach::notify::{AlertKind, Outcome, TradingAlert};
use coach::runtime::AppEvent;
use coach::runtime::health::{Health, StaleFloors};
use coach::runtime::metrics::Metrics;
use coach::runtime::services::spawn_alerting;
use fake_channel::{FakeChannel, Reply, TOKEN};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(20),
        max_wait: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    }
}

fn delivery() -> Delivery {
    Delivery {
        kind: AlertKind::PriceAlert,
        symbol: Symbol::parse("SPY").unwrap(),
        title: "coach · SPY price alert".into(),
        body: "SPY crossed above 600.00 at 600.12 (call wall)".into(),
        at: Utc::now(),
    }
}

/// The one channel `alerts` configures.
fn only(alerts: &AlertsConfig) -> Channel {
    let (mut ok, failed) = channels::from_config(alerts, &fast());
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(ok.len(), 1);
    ok.remove(0).channel
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "a token leaked: {text}");
}

#[tokio::test(flavor = "current_thread")]
async fn ntfy_gets_the_body_with_title_and_priority_and_waits_out_429_then_retries_503() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeChannel::start().await;
    fake.script([
        Reply::status(429, "slow down").header("retry-after", "1"),
        Reply::status(503, "busy"),
    ]);
    let ntfy = only(&AlertsConfig {
        ntfy_url: Secret::new(fake.url(&format!("/{TOKEN}"))),
        ..AlertsConfig::default()
    });
    assert_eq!(ntfy.name(), "ntfy");
    ntfy.send(&delivery()).await.unwrap();
    let got = fake.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "429, 503, then delivered");
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(990),
        "Retry-After: 1 honoured"
    );
    let last = &got[2];
    assert_eq!(last.path, format!("/{TOKEN}"));
    assert_eq!(last.body, "SPY crossed above 600.00 at 600.12 (call wall)");
    // "coach · SPY price alert" is not ASCII: RFC 2047, which ntfy decodes.
    assert_eq!(
        last.headers["title"],
        "=?UTF-8?B?Y29hY2ggwrcgU1BZIHByaWNlIGFsZXJ0?="
    );
    assert_eq!(last.headers["priority"], "high");
    assert_eq!(last.headers["tags"], "coach,price_alert");
    assert!(!format!("{ntfy:?}").contains(TOKEN), "Debug shows no URL");
    assert_no_secret(&logs.text());
}

#[tokio::test(flavor = "current_thread")]
async fn the_json_webhook_gets_the_documented_payload_and_a_400_is_not_retried() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeChannel::start().await;
    fake.script([Reply::status(
        400,
        &format!("bad request for /hooks/{TOKEN} \x1b[31mred"),
    )]);
    let hook = only(&AlertsConfig {
        webhook_url: Secret::new(fake.url(&format!("/hooks/{TOKEN}"))),
        ..AlertsConfig::default()
    });
    let e = hook.send(&delivery()).await.unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, ChannelError::Rejected { status: 400, .. }),
        "{e:?}"
    );
    assert!(
        text.contains("bad request for ***"),
        "the echoed path is scrubbed: {text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no terminal escapes from a server: {text:?}"
    );
    assert_no_secret(&text);
    assert_eq!(
        fake.received().len(),
        1,
        "a 4xx other than 429 is not retried"
    );

    let d = delivery();
    hook.send(&d).await.unwrap();
    let got = fake.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got[1].headers["content-type"], "application/json");
    assert_eq!(
        got[1].json(),
        serde_json::json!({
            "source": "coach",
            "kind": "price_alert",
            "symbol": "SPY",
            "title": "coach · SPY price alert",
            "body": "SPY crossed above 600.00 at 600.12 (call wall)",
            "at": d.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    );
    assert_no_secret(&logs.text());
}

#[tokio::test(flavor = "current_thread")]
async fn slack_gets_escaped_text_and_gives_up_after_every_attempt_fails_with_500() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeChannel::start().await;
    fake.script((0..3).map(|_| Reply::status(500, "oops")));
    let slack = only(&AlertsConfig {
        slack_url: Secret::new(fake.url(&format!("/services/{TOKEN}"))),
        ..AlertsConfig::default()
    });
    let mut d = delivery();
    d.body = "<!channel> SPY & QQQ > 600".into();
    let e = slack.send(&d).await.unwrap_err();
    assert!(
        matches!(e, ChannelError::GaveUp { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(
        fake.received().len(),
        3,
        "5xx is retried up to the attempts"
    );
    slack.send(&d).await.unwrap();
    let got = fake.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(
        got[3].json()["text"],
        "*coach · SPY price alert*\n&lt;!channel&gt; SPY &amp; QQQ &gt; 600",
        "no mention or link can be formed"
    );
    assert_no_secret(&e.to_string());
    assert_no_secret(&logs.text());
}

#[tokio::test(flavor = "current_thread")]
async fn telegram_posts_send_message_with_the_chat_and_honours_its_retry_after_body() {
    let logs = Captured::default();
    let _guard = logs.install();
    let fake = FakeChannel::start().await;
    let token = format!("123456:{TOKEN}");
    fake.script([
        Reply::status(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
        ),
        Reply::status(403, &format!(r#"{{"ok":false,"description":"bot{token} was blocked by the user"}}"#)),
    ]);
    let telegram = only(&AlertsConfig {
        telegram_token: Secret::new(&token),
        telegram_chat: "-1001234567".into(),
        telegram_api_url: fake.url(""),
        ..AlertsConfig::default()
    });
    let e = telegram.send(&delivery()).await.unwrap_err();
    let got = fake.wait_for(2, Duration::from_secs(10)).await;
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(990),
        "retry_after: 1"
    );
    assert_eq!(got[0].path, format!("/bot{token}/sendMessage"));
    assert_eq!(
        got[0].json(),
        serde_json::json!({
            "chat_id": -1001234567i64,
            "text": "coach · SPY price alert\nSPY crossed above 600.00 at 600.12 (call wall)",
            "disable_web_page_preview": true,
        })
    );
    let text = e.to_string();
    assert!(
        text.contains("HTTP 403") && text.contains("*** was blocked"),
        "{text}"
    );
    assert_no_secret(&text);
    assert_no_secret(&format!("{telegram:?}"));
    assert_no_secret(&logs.text());
}

/// `[alerts] command` running `program args…`.
fn command(argv: &[&str], timeout_secs: f64) -> Channel {
    only(&AlertsConfig {
        command: argv.iter().map(|s| s.to_string()).collect(),
        command_timeout_secs: timeout_secs,
        ..AlertsConfig::default()
    })
}

#[tokio::test(flavor = "current_thread")]
async fn the_command_runs_without_a_shell_with_its_placeholders_filled() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().display().to_string();
    let touch = command(
        &[
            "touch",
            &format!("{base}/{{symbol}}-{{kind}}"),
            &format!("{base}/{{body}}"),
        ],
        5.0,
    );
    let mut d = delivery();
    // Shell syntax in an alert's text stays text: no shell ever sees it.
    d.body = "SPY > 600; $(touch pwned) `id` | cat".into();
    touch.send(&d).await.unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["SPY > 600; $(touch pwned) `id` | cat", "SPY-price_alert"]
    );
    assert!(!std::path::Path::new("pwned").exists());
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_a_missing_and_a_hung_command_each_say_so_briefly() {
    let failing = command(&["ls", "/no/such/dir-\u{1b}[2J"], 5.0);
    let e = failing.send(&delivery()).await.unwrap_err().to_string();
    assert!(e.starts_with("ls exited with exit status: 2: "), "{e}");
    assert!(
        e.contains("/no/such/dir-") && !e.contains('\u{1b}'),
        "{e:?}"
    );

    let missing = command(&["/no/such/program-coach"], 5.0);
    let e = missing.send(&delivery()).await.unwrap_err().to_string();
    assert!(e.contains("cannot run /no/such/program-coach"), "{e}");

    let hung = command(&["sleep", "30"], 0.3);
    let started = std::time::Instant::now();
    let e = hung.send(&delivery()).await.unwrap_err().to_string();
    assert!(e.contains("killed after its 0.3 s time-out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

struct Running {
    health: Health,
    cancel: CancellationToken,
    screen: mpsc::Receiver<AppEvent>,
    metrics: Arc<Metrics>,
    notifier: coach::notify::Notifier,
}

fn start_alerting(config: &Config) -> Running {
    config.validate().unwrap();
    let health = Health::with_floors(StaleFloors::from_config(&config.health));
    let cancel = CancellationToken::new();
    let (events, screen) = mpsc::channel(64);
    let metrics = Arc::new(Metrics::default());
    let notifier = spawn_alerting(
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
        notifier,
    }
}

fn price_alert(id: i64) -> TradingAlert {
    TradingAlert {
        kind: AlertKind::PriceAlert,
        symbol: Symbol::parse("QQQ").unwrap(),
        setup_id: id,
        text: "QQQ crossed below 500.00 at 499.80".into(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_channel_gets_its_kinds_and_a_refusing_one_shows_in_health_and_metrics() {
    let logs = Captured::default();
    let _guard = logs.install();
    let ntfy = FakeChannel::start().await;
    let hook = FakeChannel::start().await;
    // The webhook refuses everything: 401 is not retried, so each alert fails at once.
    hook.script((0..10).map(|_| Reply::status(401, "unauthorised")));
    let mut config = Config::default();
    config.alerts.ntfy_url = Secret::new(ntfy.url(&format!("/{TOKEN}")));
    config.alerts.ntfy_kinds = vec!["price_alert".into()];
    config.alerts.webhook_url = Secret::new(hook.url(&format!("/{TOKEN}")));
    config.alerts.desktop = true;
    let mut run = start_alerting(&config);

    let detected = TradingAlert {
        kind: AlertKind::Detected,
        ..price_alert(7)
    };
    assert_eq!(run.notifier.trading(detected), Outcome::Queued);
    assert_eq!(run.notifier.price_alert(price_alert(1)), Outcome::Queued);
    let got = ntfy.wait_for(1, Duration::from_secs(10)).await;
    hook.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(got.len(), 1, "ntfy takes price alerts only: {got:#?}");
    assert_eq!(got[0].body, "QQQ crossed below 500.00 at 499.80");

    let webhook = run
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "webhook")
        .expect("the webhook channel is a worker in Health");
    assert_eq!(webhook.consecutive_failures, 2);
    let error = webhook.last_error.unwrap();
    assert!(error.contains("HTTP 401"), "{error}");
    let healthy = run
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "ntfy")
        .unwrap();
    assert_eq!(healthy.consecutive_failures, 0);
    let m = run.metrics.snapshot();
    assert_eq!(m.deliveries[&("ntfy".into(), "sent".into())], 1);
    assert_eq!(m.deliveries[&("webhook".into(), "failed".into())], 2);
    let exposition = coach::serve::metrics::render(&run.health.snapshot(), &m, Utc::now());
    assert!(
        exposition
            .contains("coach_alert_deliveries_total{channel=\"webhook\",result=\"failed\"} 2")
    );

    let mut desktop = Vec::new();
    let mut notices = 0;
    while let Ok(event) = run.screen.try_recv() {
        match event {
            AppEvent::Desktop { title, body } => desktop.push((title, body)),
            AppEvent::Notice(_) => notices += 1,
            _ => {}
        }
    }
    assert_eq!(notices, 2);
    assert_eq!(
        desktop,
        [
            (
                "coach · QQQ detected".to_string(),
                "QQQ crossed below 500.00 at 499.80".to_string()
            ),
            (
                "coach · QQQ price alert".to_string(),
                "QQQ crossed below 500.00 at 499.80".to_string()
            ),
        ]
    );
    for text in [
        logs.text(),
        exposition,
        format!("{:?}", run.health.snapshot()),
        format!("{config:?}"),
    ] {
        assert_no_secret(&text);
    }
    run.cancel.cancel();
}

#[tokio::test(flavor = "current_thread")]
async fn during_quiet_hours_the_screen_shows_and_no_channel_or_desktop_hears() {
    let ntfy = FakeChannel::start().await;
    let mut config = Config::default();
    config.alerts.ntfy_url = Secret::new(ntfy.url("/quiet"));
    config.alerts.desktop = true;
    // The minute we are in (New York time), to the same minute tomorrow less one.
    let now = Utc::now().with_timezone(&chrono_tz::America::New_York);
    let start = now.time().format("%H:%M").to_string();
    let end = (now - chrono::Duration::minutes(1))
        .time()
        .format("%H:%M")
        .to_string();
    config.alerts.quiet_hours = format!("{start}-{end}");
    let mut run = start_alerting(&config);
    assert_eq!(run.notifier.price_alert(price_alert(3)), Outcome::Queued);
    let shown = tokio::time::timeout(Duration::from_secs(5), run.screen.recv())
        .await
        .unwrap();
    assert!(matches!(shown, Some(AppEvent::Notice(_))), "{shown:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ntfy.received().is_empty());
    while let Ok(event) = run.screen.try_recv() {
        assert!(
            !matches!(event, AppEvent::Desktop { .. }),
            "desktop during quiet hours"
        );
    }
    run.cancel.cancel();
}

#[tokio::test(flavor = "current_thread")]
async fn a_snoozed_alert_reaches_no_channel_while_another_still_does() {
    let ntfy = FakeChannel::start().await;
    let mut config = Config::default();
    config.alerts.ntfy_url = Secret::new(ntfy.url("/snooze"));
    config.alerts.desktop = true;
    let stored = crate::support::sqlite().await;
    let now = Utc::now();
    stored
        .store
        .snooze(
            coach::notify::snooze::SnoozeTarget::Alert(5),
            coach::notify::snooze::SnoozeFor::Minutes15.until(now),
        )
        .await
        .unwrap();
    // An hour-old snooze of alert 6 is over.
    stored
        .store
        .snooze(
            coach::notify::snooze::SnoozeTarget::Alert(6),
            now - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let health = Health::with_floors(StaleFloors::from_config(&config.health));
    let cancel = CancellationToken::new();
    let (events, mut screen) = mpsc::channel(64);
    let notifier = coach::runtime::services::spawn_alerting_with(
        &config,
        &health,
        &cancel,
        None,
        events,
        Arc::new(Metrics::default()),
        now,
        Some(stored.store.clone()),
    );
    assert_eq!(notifier.price_alert(price_alert(5)), Outcome::Queued);
    let six = TradingAlert {
        text: "alert 6 fired".into(),
        ..price_alert(6)
    };
    assert_eq!(notifier.price_alert(six), Outcome::Queued);
    let got = ntfy.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ntfy.received().len(), 1, "only alert 6: {got:#?}");
    assert_eq!(got[0].body, "alert 6 fired");
    let (mut notices, mut desktop) = (0, 0);
    while let Ok(event) = screen.try_recv() {
        match event {
            AppEvent::Notice(_) => notices += 1,
            AppEvent::Desktop { .. } => desktop += 1,
            _ => {}
        }
    }
    assert_eq!((notices, desktop), (2, 1), "both shown, one on the desktop");
    cancel.cancel();
}
