//! `coach econ fetch` against a FRED stand-in served on 127.0.0.1 by a real HTTP server,
//! and `coach econ check`: the file written parses, keeps FOMC, takes FRED's dates, and
//! the API key never shows in output or errors.

use std::collections::HashMap;
use std::process::{Command, Output};

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use coach::brief::EconCalendar;

const KEY: &str = "fredkey-0123456789abcdef";

/// Serves `/fred/release/dates`: CPI (10) has two dates in January 2027, every other
/// release none; a wrong key gets FRED's 400.
fn fred(runtime: &tokio::runtime::Runtime) -> String {
    async fn dates(uri: Uri) -> (StatusCode, String) {
        let q: HashMap<String, String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if q.get("api_key").map(String::as_str) != Some(KEY) {
            return (
                StatusCode::BAD_REQUEST,
                r#"{"error_code":400,"error_message":"Bad Request.  The value for variable api_key is not registered."}"#.into(),
            );
        }
        let body = match q.get("release_id").map(String::as_str) {
            Some("10") => {
                r#"{"release_dates":[{"release_id":10,"date":"2027-01-13"},{"release_id":10,"date":"2027-02-10"}]}"#
            }
            _ => r#"{"release_dates":[]}"#,
        };
        (StatusCode::OK, body.into())
    }
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route("/fred/release/dates", get(dates));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    })
}

fn coach(dir: &tempfile::TempDir, url: &str, key: &str, args: &[&str]) -> Output {
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .env("COACH_CONFIG", dir.path().join("config.toml"))
        .env("COACH_BRIEF_FRED_URL", url)
        .env("FRED_API_KEY", key)
        .output()
        .expect("the coach binary runs")
}

#[test]
fn fetched_release_dates_extend_the_calendar_and_the_key_stays_secret() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = fred(&runtime);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("econ.toml");
    let args = [
        "econ",
        "fetch",
        "--from",
        "2026-12-01",
        "--to",
        "2027-03-31",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = coach(&dir, &url, KEY, &args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("2 FRED release dates"), "{stdout}");
    assert!(
        stderr.contains("FOMC and ISM dates after 2026-12-31 are not on FRED"),
        "{stderr}"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));

    let written = std::fs::read_to_string(&out).unwrap();
    let c = EconCalendar::parse("econ.toml", &written).unwrap();
    assert_eq!(c.valid_through.to_string(), "2027-03-31");
    let cpi: Vec<String> = c
        .events
        .iter()
        .filter(|e| e.name.starts_with("CPI") && *e.date.to_string() >= *"2026-12-01")
        .map(|e| e.date.to_string())
        .collect();
    // FRED's answer replaces December's CPI in the range (it listed none for 2026-12)
    assert_eq!(cpi, ["2027-01-13", "2027-02-10"]);
    assert!(
        c.events
            .iter()
            .any(|e| e.name.starts_with("FOMC") && e.date.to_string() == "2026-12-09")
    );

    let check = Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["econ", "check", out.to_str().unwrap()])
        .env("COACH_CONFIG", dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&check.stdout).contains("valid 2026-01-01 … 2027-03-31"));

    // a wrong key: FRED's error is reported, the key is not
    let wrong = "wrongkey-0123456789";
    let o = coach(&dir, &url, wrong, &["econ", "fetch", "--out", "/dev/null"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HTTP 400 Bad Request"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
}

#[test]
fn without_a_key_fetch_exits_2_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = coach(
        &dir,
        "http://127.0.0.1:9",
        "",
        &["econ", "fetch", "--out", "/dev/null"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no FRED API key: set FRED_API_KEY"));
}
