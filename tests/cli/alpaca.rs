//! `coach bars --provider alpaca` as a trader runs it, against a local Alpaca stand-in:
//! real SPY minute bars downloaded page by page and read back exactly by the replay
//! reader and by `coach replay`; indices refused with their ETF named; rejected keys
//! fatal; neither key in any output.

use crate::alpaca_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use alpaca_support::{
    Canned, HttpServer, KEY_ID, SECRET_KEY, assert_no_keys, authenticated, market,
};
use chrono::NaiveDate;
use chrono_tz::America::New_York;
use coach::domain::Bar;
use coach::provider::replay::{parse_minute_bars, read_minute_file};

/// Runs the coach binary with a config file and Alpaca's environment, off the runtime.
async fn coach(dir: &Path, data_url: &str, args: &[&str]) -> Output {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\ndb = \"sqlite://{}\"\n",
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
        .env("COACH_ALPACA_DATA_URL", data_url)
        .env("COACH_ALPACA_TRADING_URL", data_url)
        .env("COACH_ALPACA_STREAM_URL", "ws://127.0.0.1:9")
        .env("APCA_API_KEY_ID", KEY_ID)
        .env("APCA_API_SECRET_KEY", SECRET_KEY)
        .env("NO_COLOR", "1");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn spy_2013_10_08() -> Option<Vec<Bar>> {
    let data = alpaca_support::http::data_dir()?;
    let all =
        read_minute_file(&data.join("bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv"))
            .unwrap();
    Some(
        all.into_iter()
            .filter(|b| {
                b.start.with_timezone(&New_York).date_naive()
                    == NaiveDate::from_ymd_opt(2013, 10, 8).unwrap()
            })
            .collect(),
    )
}

fn bars_args<'a>(symbol: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "bars",
        "--provider",
        "alpaca",
        "--symbol",
        symbol,
        "--from",
        "2013-10-08",
        "--to",
        "2013-10-08",
        "--out",
        out,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_minute_bars_are_read_back_exactly_by_replay() {
    let Some(day) = spy_2013_10_08() else {
        return;
    };
    // The day before and after are in the market too: the dates are New York dates.
    let mut bars = BTreeMap::new();
    bars.insert("SPY".to_string(), day.clone());
    let server = HttpServer::start(None, Some(market(bars, 300))).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPY_1min_2013-10-08.csv");
    let run = coach(
        dir.path(),
        &server.base,
        &bars_args("SPY", out.to_str().unwrap()),
    )
    .await;
    let stderr = text(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("wrote {} bars of SPY", day.len())),
        "{stderr}"
    );
    assert_no_keys("stderr", &stderr);
    assert_no_keys("stdout", &text(&run.stdout));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("timestamp,open,high,low,close,volume\n2013-10-08T"),
        "{}",
        &written[..80]
    );
    assert_eq!(
        parse_minute_bars("out", &written).unwrap(),
        day,
        "the round trip is exact"
    );
    let seen = server.seen();
    assert!(seen.len() >= 2, "paged: {}", seen.len());
    assert!(seen.iter().all(authenticated));

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_is_refused_with_its_etf_named_and_nothing_is_asked() {
    let server = HttpServer::start(None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPX.csv");
    let run = coach(
        dir.path(),
        &server.base,
        &bars_args("SPX", out.to_str().unwrap()),
    )
    .await;
    assert_eq!(run.status.code(), Some(2));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("SPX is an index and Alpaca has no index data; use its ETF SPY instead"),
        "{stderr}"
    );
    assert!(server.seen().is_empty());
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_keys_fail_the_download_and_are_never_printed() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        401,
        &format!(r#"{{"message":"unauthorized {KEY_ID}"}}"#),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPY.csv");
    let run = coach(
        dir.path(),
        &server.base,
        &bars_args("SPY", out.to_str().unwrap()),
    )
    .await;
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("Alpaca rejected the API keys"), "{stderr}");
    assert_no_keys("stderr", &stderr);
    assert!(!out.exists());
    assert_eq!(server.seen().len(), 1, "a rejected key is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bars_writes_nothing_and_says_alpaca_returned_none() {
    let server = HttpServer::start(None, Some(market(BTreeMap::new(), 100))).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("SPY.csv");
    let run = coach(
        dir.path(),
        &server.base,
        &bars_args("SPY", out.to_str().unwrap()),
    )
    .await;
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("Alpaca returned no minute bars of SPY"),
        "{}",
        text(&run.stderr)
    );
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_keys_are_a_configuration_error_naming_alpacas_variables() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_coach"))
            .arg("--config")
            .arg(&config)
            .args(bars_args("SPY", "/nonexistent/x.csv"))
            .env_remove("COACH_CONFIG")
            .env_remove("APCA_API_KEY_ID")
            .env_remove("APCA_API_SECRET_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("APCA_API_KEY_ID") && stderr.contains("APCA_API_SECRET_KEY"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_keys_with_one_call_and_never_prints_them() {
    let server = HttpServer::start(None, Some(market(BTreeMap::new(), 100))).await;
    let dir = tempfile::tempdir().unwrap();
    let good = coach(
        dir.path(),
        &server.base,
        &["doctor", "--provider", "alpaca"],
    )
    .await;
    let stdout = text(&good.stdout);
    assert!(good.status.success(), "{stdout}{}", text(&good.stderr));
    assert!(
        stdout.contains(&format!(
            "ok alpaca keys: {} accepts them; feed iex",
            server.base
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok alpaca symbols: left out of the live feed: SPX is an index"),
        "the default watchlist's indices are named: {stdout}"
    );
    assert_eq!(server.seen().len(), 1);
    assert!(authenticated(&server.seen()[0]));

    server.script([Canned::new(403, r#"{"message":"forbidden"}"#)]);
    let bad = coach(
        dir.path(),
        &server.base,
        &["doctor", "--provider", "alpaca"],
    )
    .await;
    let stdout = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL alpaca keys: Alpaca rejected the API keys (HTTP 403: forbidden)"),
        "{stdout}"
    );
    for output in [&good.stdout, &good.stderr, &bad.stdout, &bad.stderr] {
        assert_no_keys("doctor's output", &text(output));
    }
}
