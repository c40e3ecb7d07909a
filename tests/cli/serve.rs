//! `coach serve --http 127.0.0.1:0`, the real binary: the documented health and metrics
//! documents, 404 elsewhere, exit 0 within 5 s of SIGTERM or SIGHUP, and no secret in its
//! logs.

use crate::{fake_channel, fake_discord};

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_channel::{FakeChannel, TOKEN as CHANNEL_TOKEN};
use fake_discord::{FakeDiscord, TOKEN};

const API_KEY: &str = "massive-KEY-never-log-me";

pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// Starts `coach serve` with a webhook and an API key in its environment, and waits
/// for the address it logs.
fn start(webhook: &str) -> Server {
    start_with(webhook, &[], |_| {})
}

/// [`start`] listening on `http` (`IP:0` picks a free port).
pub(crate) fn start_on(http: &str, webhook: &str) -> Server {
    launch(http, webhook, &[], |_| {})
}

/// `start` with more variables in the environment, after `prepare` ran with the
/// database URL.
fn start_with(webhook: &str, vars: &[(&str, String)], prepare: impl FnOnce(&str)) -> Server {
    launch("127.0.0.1:0", webhook, vars, prepare)
}

fn launch(
    http: &str,
    webhook: &str,
    vars: &[(&str, String)],
    prepare: impl FnOnce(&str),
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[health]\ncheck_secs = 0.5\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("coach.db").display());
    prepare(&db);
    let mut command = Command::new(env!("CARGO_BIN_EXE_coach"));
    if webhook.is_empty() {
        command.env_remove("DISCORD_WEBHOOK_URL");
    } else {
        command.env("DISCORD_WEBHOOK_URL", webhook);
    }
    let mut child = command
        .args(["--config"])
        .arg(&config)
        .args(["--db", &db, "serve", "--http", http])
        .env_remove("COACH_CONFIG")
        .env("MASSIVE_API_KEY", API_KEY)
        .env("COACH_LOG", "debug")
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let lines = stderr.clone();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let rest = &line[i + "listening on http://".len()..];
                let addr = rest.split_whitespace().next().unwrap_or_default();
                // A wildcard address is reached on loopback.
                let addr = addr.replace("0.0.0.0:", "127.0.0.1:");
                let _sent = tx.send(addr);
            }
            lines.lock().unwrap().push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no address logged: {:?}", stderr.lock().unwrap()));
    Server {
        child,
        addr,
        stderr,
        _dir: dir,
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// SIGTERM, then the exit status (panics if it takes more than 5 s).
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.stop_with("-TERM")
    }

    /// `kill SIGNAL` (as `kill` spells it: `-TERM`, `-HUP`), then the exit status (panics
    /// if it takes more than 5 s).
    fn stop_with(&mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("still running 5 s after {signal}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _killed = self.child.kill();
        }
    }
}

/// Every sample line is `name{labels} value` with a number; every family has HELP and TYPE.
fn check_exposition(text: &str) {
    let mut families = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            families.insert(parts.next().unwrap().to_string());
            assert!(matches!(parts.next(), Some("counter" | "gauge")), "{line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        assert!(families.contains(name), "{name} sampled before its TYPE");
        assert!(value.parse::<f64>().is_ok_and(f64::is_finite), "{line}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn serve_answers_health_and_metrics_then_stops_cleanly_on_sigterm() {
    let fake = FakeDiscord::start().await;
    let mut server = start(&fake.url);
    let http = reqwest::Client::new();

    // Workers are healthy from their start; wait until each has completed a cycle.
    let deadline = Instant::now() + Duration::from_secs(15);
    let doc = loop {
        let response = http
            .get(server.url("/health/workers"))
            .send()
            .await
            .unwrap();
        let code = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(content_type, "application/json");
        assert_ne!(doc["status"], "down", "{doc:#}");
        let all_cycled = doc["workers"]
            .as_array()
            .is_some_and(|w| w.iter().all(|w| w["last_success"].is_string()));
        if doc["status"] == "ok" && all_cycled {
            assert_eq!(code, 200);
            break doc;
        }
        assert!(Instant::now() < deadline, "never ok: {doc:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        chrono::DateTime::parse_from_rfc3339(doc["checked_at"].as_str().unwrap()).is_ok(),
        "{doc}"
    );
    let workers = doc["workers"].as_array().unwrap();
    let names: Vec<&str> = workers
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    for expected in ["alerts", "feed", "health"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for w in workers {
        let keys: Vec<&str> = w.as_object().unwrap().keys().map(String::as_str).collect();
        for key in [
            "name",
            "state",
            "healthy",
            "stale",
            "expected_interval_secs",
            "stale_after_secs",
            "started_at",
            "started_age_secs",
            "last_cycle_start",
            "last_cycle_end",
            "last_success",
            "last_success_age_secs",
            "last_error",
            "last_error_at",
            "last_error_age_secs",
            "cycles",
            "errors",
            "consecutive_failures",
            "restarts",
            "note",
        ] {
            assert!(keys.contains(&key), "{key} missing in {w}");
        }
        assert_eq!(w["state"], "running");
        assert_eq!(w["healthy"], true);
        let success = w["last_success"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(success).is_ok(), "{w}");
        assert!(w["last_success_age_secs"].as_f64().unwrap() >= 0.0);
        assert!(
            w["stale_after_secs"].as_f64().unwrap()
                >= 3.0 * w["expected_interval_secs"].as_f64().unwrap()
        );
    }
    let feed = workers.iter().find(|w| w["name"] == "feed").unwrap();
    assert_eq!(feed["stale_after_secs"], 30.0, "the default feed floor");

    let response = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    check_exposition(&text);
    for sample in [
        "coach_health_status{status=\"ok\"} 1",
        "coach_worker_up{worker=\"feed\"} 1",
        "coach_worker_stale{worker=\"feed\"} 0",
        "coach_worker_restarts_total{worker=\"feed\"} 0",
        "coach_worker_consecutive_failures{worker=\"feed\"} 0",
        "coach_worker_stale_threshold_seconds{worker=\"feed\"} 30.000",
    ] {
        assert!(text.contains(sample), "{sample} missing:\n{text}");
    }
    for family in [
        "coach_worker_cycles_total",
        "coach_worker_errors_total",
        "coach_worker_last_success_age_seconds",
        "coach_market_events_total",
        "coach_feed_last_event_age_seconds",
        "coach_detections_total",
        "coach_setup_transitions_total",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
    }

    let missing = http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains("SIGTERM: shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(log.contains("alerts go to the Discord webhook"), "{log}");
    assert!(!log.contains(TOKEN), "the webhook token leaked:\n{log}");
    assert!(!log.contains(API_KEY), "the API key leaked:\n{log}");
}

#[tokio::test]
async fn a_hang_up_is_a_clean_shutdown_like_sigterm() {
    let fake = FakeDiscord::start().await;
    let mut server = start(&fake.url);
    let status = server.stop_with("-HUP");
    let log = server.log();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGHUP is not an abrupt exit 129:\n{log}"
    );
    assert!(log.contains("SIGHUP: shutting down"), "{log}");
    let (shutting, stopped) = (
        log.find("SIGHUP: shutting down").unwrap_or_default(),
        log.rfind("stopped").unwrap_or_default(),
    );
    assert!(stopped > shutting, "the shutdown ran to its end:\n{log}");
}

/// `coach serve`, no terminal attached, posts a price alert that fires to ntfy (SPEC 20:
/// "`coach serve` posts it to ntfy"), counts it in /metrics, and logs no channel URL.
#[tokio::test]
async fn serve_posts_a_firing_price_alert_to_ntfy_with_no_terminal() {
    let fake = FakeDiscord::start().await;
    let ntfy = FakeChannel::start().await;
    let topic = ntfy.url(&format!("/{CHANNEL_TOKEN}"));
    let mut server = start_with(
        &fake.url,
        &[
            ("COACH_ALERTS_NTFY_URL", topic),
            ("COACH_ALERTS_NTFY_KINDS", "price_alert".into()),
        ],
        |db| {
            // 1% away from 1.00: the simulated SPY is there from its first price.
            let out = Command::new(env!("CARGO_BIN_EXE_coach"))
                .args([
                    "--db", db, "alerts", "add", "SPY", "move", "1", "--from", "1",
                ])
                .env_remove("COACH_CONFIG")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        },
    );
    let got = ntfy.wait_for(1, Duration::from_secs(60)).await;
    assert_eq!(got[0].path, format!("/{CHANNEL_TOKEN}"));
    assert!(got[0].body.contains("SPY moves ±1 %"), "{:?}", got[0].body);
    assert_eq!(got[0].headers["priority"], "high");
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("coach_alert_deliveries_total{channel=\"ntfy\",result=\"sent\"} 1"),
        "{metrics}"
    );
    let workers = reqwest::get(server.url("/health/workers"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        workers.contains("\"ntfy\""),
        "the channel is a worker: {workers}"
    );
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(log.contains("alerts go to ntfy too"), "{log}");
    for text in [&log, &metrics, &workers] {
        assert!(!text.contains(CHANNEL_TOKEN), "the topic leaked:\n{text}");
    }
}

/// `coach serve` on Alpaca against the local stand-ins (REST and the stream): the feed
/// goes live with one subscribe (bars of the streamable symbols, no index; trades of the
/// same, within 30) and never changes it (no screen, no focus), stops with exit 0, and
/// the debug log holds neither key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_streams_alpaca_without_a_screen_and_never_logs_the_keys() {
    use crate::alpaca_support::ws::{Script, ws_server};
    use crate::alpaca_support::{HttpServer, KEY_ID, SECRET_KEY, assert_no_keys, market};
    let ws = ws_server(vec![Script::default()]).await;
    let rest = HttpServer::start(None, Some(market(Default::default(), 150))).await;
    let vars = [
        ("COACH_GENERAL_PROVIDER", "alpaca".to_string()),
        ("COACH_ALPACA_DATA_URL", rest.base.clone()),
        ("COACH_ALPACA_TRADING_URL", rest.base.clone()),
        ("COACH_ALPACA_STREAM_URL", ws.base.clone()),
        ("APCA_API_KEY_ID", KEY_ID.to_string()),
        ("APCA_API_SECRET_KEY", SECRET_KEY.to_string()),
    ];
    let mut server = tokio::task::block_in_place(|| start_with("", &vars, |_| {}));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.log().contains("Alpaca iex stream live") {
        assert!(
            Instant::now() < deadline,
            "the stream never went live:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let workers = reqwest::get(server.url("/health/workers"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(workers.contains("\"feed\""), "{workers}");
    let status = tokio::task::block_in_place(|| server.terminate());
    assert_eq!(status.code(), Some(0), "{}", server.log());

    let messages = ws.received_on(1);
    assert_eq!(messages.len(), 2, "auth and one subscribe: {messages:?}");
    let subscribe = &messages[1];
    assert_eq!(subscribe["action"], "subscribe");
    let bars = subscribe["bars"].as_array().unwrap();
    assert!(bars.contains(&"SPY".into()), "{subscribe}");
    assert!(
        !bars.contains(&"SPX".into()),
        "no index on Alpaca: {subscribe}"
    );
    assert_eq!(
        subscribe["trades"], subscribe["bars"],
        "a short list: every trade"
    );
    assert_eq!(ws.connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_no_keys("the log", &server.log());
    assert_no_keys("/health/workers", &workers);
}

#[test]
fn a_bad_serve_address_in_the_config_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[serve]\nhttp = \"localhost\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env_remove("COACH_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("serve.http"), "{err}");
}
