//! `coach bars` and `coach doctor` as a trader runs them, against local Massive stand-ins:
//! downloaded bars read back by the replay reader and by `coach replay`; the doctor's
//! lines and exit codes with a good and a refused key.

use crate::massive_support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use coach::domain::Bar;
use coach::provider::replay::{parse_daily_bars, parse_minute_bars, read_minute_file};
use futures::{SinkExt, StreamExt};
use massive_support::{Canned, Dynamic, HttpServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "CLIKEY_0123456789ab";

/// Runs the coach binary with a config file and the Massive environment, off the runtime.
async fn coach(dir: &Path, rest: &str, ws: &str, key: &str, args: &[&str]) -> Output {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\ndb = \"sqlite://{}\"\n[sim]\nsymbols = [\"SPY\", \"SPX\"]\n",
            dir.join("coach.db").display()
        ),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_coach"));
    command
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("COACH_CONFIG")
        .env("COACH_MASSIVE_REST_URL", rest)
        .env("COACH_MASSIVE_WS_URL", ws)
        .env("MASSIVE_API_KEY", key)
        .env("NO_COLOR", "1");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// SPY's minute bars of 2013-10-08, served as `/v2/aggs/ticker/SPY/range/1/minute/…` in
/// pages of 300 (the `next_url` naming the real host), and SPX daily bars without volume.
fn market(bars: Vec<Bar>) -> Dynamic {
    Arc::new(move |pq: &str| {
        let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
        if path.starts_with("/v2/aggs/ticker/I:SPX/range/1/day/") {
            let t = |d: u32| {
                New_York
                    .with_ymd_and_hms(2013, 10, d, 0, 0, 0)
                    .unwrap()
                    .timestamp_millis()
            };
            let body = json!({"ticker":"I:SPX","status":"OK","results":[
                {"o":1676.2,"h":1676.8,"l":1655.0,"c":1655.45,"t":t(7)},
                {"o":1655.7,"h":1656.2,"l":1655.4,"c":1655.9,"t":t(8)}]});
            return Some(Canned::new(200, &body.to_string()));
        }
        if !path.starts_with("/v2/aggs/ticker/SPY/range/1/minute/2013-10-08/2013-10-08") {
            return None;
        }
        let cursor: usize = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("cursor="))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let rows: Vec<Value> = bars
            .iter()
            .skip(cursor)
            .take(300)
            .map(|b| json!({"o":b.open,"h":b.high,"l":b.low,"c":b.close,"v":b.volume,"vw":b.close,"t":b.start.timestamp_millis(),"n":1}))
            .collect();
        let mut body = json!({"ticker":"SPY","status":"OK","results":rows});
        if cursor + 300 < bars.len() {
            body["next_url"] = Value::from(format!(
                "https://api.massive.com{path}?cursor={}",
                cursor + 300
            ));
        }
        Some(Canned::new(200, &body.to_string()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_minute_bars_are_read_back_exactly_by_replay() {
    let Some(data) = massive_support::data_dir() else {
        return;
    };
    let all =
        read_minute_file(&data.join("bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv"))
            .unwrap();
    let day: Vec<Bar> = all
        .into_iter()
        .filter(|b| {
            b.start.with_timezone(&New_York).date_naive()
                == NaiveDate::from_ymd_opt(2013, 10, 8).unwrap()
        })
        .collect();
    let server = HttpServer::start(None, Some(market(day.clone()))).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPY_1min_2013-10-08.csv");
    let run = coach(
        dir.path(),
        &server.base,
        "ws://127.0.0.1:9",
        KEY,
        &[
            "bars",
            "--provider",
            "massive",
            "--symbol",
            "SPY",
            "--from",
            "2013-10-08",
            "--to",
            "2013-10-08",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains(&format!("wrote {} bars of SPY", day.len())));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("timestamp,open,high,low,close,volume\n2013-10-08T04:"),
        "{}",
        &written[..80]
    );
    assert_eq!(
        parse_minute_bars("out", &written).unwrap(),
        day,
        "the round trip is exact"
    );
    assert!(server.seen().len() >= 3, "paged");

    let replay = tokio::task::spawn_blocking({
        let out = out.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_coach"))
                .args(["replay", "--bars"])
                .arg(&out)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        replay.status.success(),
        "coach replay reads it: {}",
        text(&replay.stderr)
    );

    // An index's daily bars: no volume column, and the daily reader takes them.
    let daily = dir.path().join("SPX_1day.csv");
    let run = coach(
        dir.path(),
        &server.base,
        "ws://127.0.0.1:9",
        KEY,
        &[
            "--provider",
            "massive",
            "bars",
            "--symbol",
            "spx",
            "--from",
            "2013-10-07",
            "--to",
            "2013-10-08",
            "--timespan",
            "day",
            "--out",
            daily.to_str().unwrap(),
        ],
    )
    .await;
    assert!(run.status.success(), "{}", text(&run.stderr));
    let written = std::fs::read_to_string(&daily).unwrap();
    assert_eq!(
        written,
        "date,open,high,low,close\n2013-10-07,1676.2,1676.8,1655,1655.45\n2013-10-08,1655.7,1656.2,1655.4,1655.9\n"
    );
    assert_eq!(parse_daily_bars("d", &written).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_refuses_bad_input_and_writes_nothing_when_no_bars_came_back() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        200,
        r#"{"ticker":"SPY","status":"OK","queryCount":0}"#,
    )]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPY_1min.csv");
    let o = out.to_str().unwrap();
    let base = server.base.as_str();
    let bad_date = coach(
        dir.path(),
        base,
        "ws://127.0.0.1:9",
        KEY,
        &[
            "--provider",
            "massive",
            "bars",
            "--symbol",
            "SPY",
            "--from",
            "2024-13-01",
            "--to",
            "2024-03-01",
            "--out",
            o,
        ],
    )
    .await;
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(text(&bad_date.stderr).contains("--from: \"2024-13-01\" is not a date"));
    let no_provider = coach(
        dir.path(),
        base,
        "ws://127.0.0.1:9",
        KEY,
        &[
            "bars",
            "--symbol",
            "SPY",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-01",
            "--out",
            o,
        ],
    )
    .await;
    assert_eq!(no_provider.status.code(), Some(2));
    assert!(text(&no_provider.stderr).contains("--provider massive"));
    let empty = coach(
        dir.path(),
        base,
        "ws://127.0.0.1:9",
        KEY,
        &[
            "--provider",
            "massive",
            "bars",
            "--symbol",
            "SPY",
            "--from",
            "2024-03-02",
            "--to",
            "2024-03-03",
            "--out",
            o,
        ],
    )
    .await;
    assert_eq!(empty.status.code(), Some(1));
    assert!(
        text(&empty.stderr).contains("no minute bars of SPY"),
        "{}",
        text(&empty.stderr)
    );
    assert!(!out.exists(), "nothing written");
}

/// A stream stand-in: handshake, then `success` for any subscription.
async fn stream_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let status = |s: &str, m: &str| {
                    Message::text(json!([{"ev":"status","status":s,"message":m}]).to_string())
                };
                let _ = ws.send(status("connected", "Connected Successfully")).await;
                while let Some(Ok(Message::Text(t))) = ws.next().await {
                    let v: Value = serde_json::from_str(&t).unwrap_or_default();
                    let params = v["params"].as_str().unwrap_or("").to_string();
                    let reply = match v["action"].as_str() {
                        Some("auth") if params == KEY => status("auth_success", "authenticated"),
                        Some("auth") => status("auth_failed", "authentication failed"),
                        _ => status("success", &format!("subscribed to: {params}")),
                    };
                    let _ = ws.send(reply).await;
                }
            });
        }
    });
    url
}

fn entitled() -> Dynamic {
    Arc::new(|pq: &str| {
        if pq.starts_with("/v2/aggs/ticker/SPY/range/1/minute/") {
            return Some(Canned::new(
                200,
                r#"{"ticker":"SPY","status":"OK","results":[{"o":1,"h":1,"l":1,"c":1,"v":10,"t":1700000000000}]}"#,
            ));
        }
        if pq.starts_with("/v2/aggs/ticker/I:SPX/prev") {
            return Some(Canned::new(
                200,
                r#"{"ticker":"I:SPX","status":"OK","results":[{"T":"I:SPX","o":6800,"h":6850,"l":6790,"c":6832.54,"t":1764046800000}]}"#,
            ));
        }
        if pq.starts_with("/v3/snapshot/options/SPY") {
            return Some(Canned::new(
                403,
                r#"{"status":"NOT_AUTHORIZED","request_id":"r","message":"You are not entitled to this data."}"#,
            ));
        }
        None
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_with_a_good_key_and_names_each_check() {
    let Some(fixtures) = massive_support::fixtures_dir() else {
        return;
    };
    let server = HttpServer::start(Some(fixtures), Some(entitled())).await;
    let ws = stream_server().await;
    let dir = tempfile::tempdir().unwrap();
    let run = coach(
        dir.path(),
        &server.base,
        &ws,
        KEY,
        &["--provider", "massive", "doctor"],
    )
    .await;
    let out = text(&run.stdout);
    assert!(run.status.success(), "{out}{}", text(&run.stderr));
    let lines: Vec<&str> = out.lines().collect();
    let names: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ok config",
            "ok database",
            "ok massive rest",
            "ok massive key",
            "ok massive indices",
            "ok massive options",
            "ok massive stream stocks",
            "ok massive stream indices"
        ],
        "{out}"
    );
    assert!(out.contains("market extended-hours"), "{out}");
    assert!(out.contains("I:SPX previous close 6832.54"), "{out}");
    assert!(
        out.contains("not entitled, GEX will need the CBOE chains"),
        "{out}"
    );
    assert!(out.contains("subscribed to: AM.SPY"), "{out}");
    assert!(!out.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_with_a_refused_key_and_never_prints_it() {
    let server = HttpServer::start(None, None).await;
    server.script((0..4).map(|_| {
        Canned::new(
            401,
            r#"{"status":"ERROR","request_id":"r","error":"Unknown API Key"}"#,
        )
    }));
    let ws = stream_server().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = "REFUSED_KEY_77777";
    let run = coach(
        dir.path(),
        &server.base,
        &ws,
        bad,
        &["--provider", "massive", "doctor"],
    )
    .await;
    let out = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL massive key: Massive refused the API key (HTTP 401: Unknown API Key)"),
        "{out}"
    );
    assert!(text(&run.stderr).contains("checks failed"));
    assert!(!out.contains(bad) && !text(&run.stderr).contains(bad));

    let no_key = coach(
        dir.path(),
        &server.base,
        &ws,
        "",
        &["--provider", "massive", "doctor"],
    )
    .await;
    assert_eq!(no_key.status.code(), Some(2));
    assert!(
        text(&no_key.stdout).starts_with("FAIL config: "),
        "{}",
        text(&no_key.stdout)
    );
}
