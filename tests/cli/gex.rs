//! `coach gex` end to end: the real binary on chain files.

use std::path::Path;
use std::process::{Command, Output};

const SPY: &str = "../shared/data/gex/spy_quotedata_2025-09-25_2105EDT_partial.csv";
const MASSIVE: &str = "../shared/fixtures/massive/rest/v3/snapshot/options/AAPL.json";
const CBOE_JSON: &str = "tests/fixtures/cboe_spx_delayed.json";

fn coach(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .output()
        .expect("the coach binary runs")
}

fn shared(path: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    assert!(
        std::env::var("COACH_REQUIRE_SHARED").as_deref() != Ok("1"),
        "{path} is missing and COACH_REQUIRE_SHARED=1"
    );
    eprintln!("skipping: {path} not found (shared data absent)");
    false
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

fn temp_file(name: &str, content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn the_spy_csv_gives_the_documented_json_document() {
    if !shared(SPY) {
        return;
    }
    let doc = json(&coach(&["gex", "--chain", SPY, "--json"]));
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "symbol",
        "spot",
        "as_of",
        "total_gex",
        "total_vanna",
        "total_charm",
        "regime",
        "zero_gamma",
        "crossings",
        "call_wall",
        "put_wall",
        "max_gex_strike",
        "abs_gamma_strike",
        "zero_dte_share",
        "key_levels",
        "strikes",
        "expirations_used",
        "contracts_used",
    ];
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(doc["symbol"], "SPY");
    assert_eq!(doc["spot"], 658.05);
    assert_eq!(doc["as_of"], "2025-09-26T01:05:00Z");
    assert_eq!(doc["regime"], "negative");
    assert_eq!(doc["call_wall"], 670.0);
    assert_eq!(doc["put_wall"], 655.0);
    let flip = doc["zero_gamma"].as_f64().unwrap();
    assert!(flip > 658.05 && flip < 670.0, "{flip}");
    let level = &doc["key_levels"][0];
    assert_eq!(
        (level["strike"].as_f64(), level["label"].as_str()),
        (Some(670.0), Some("magnet"))
    );
    let strike = &doc["strikes"][0];
    for k in ["strike", "call_gex", "put_gex", "net_gex", "vanna", "charm"] {
        assert!(strike[k].is_number(), "{k}");
    }
    let strikes = doc["strikes"].as_array().unwrap();
    let sum = |k: &str| strikes.iter().map(|s| s[k].as_f64().unwrap()).sum::<f64>();
    for (total, k) in [("total_vanna", "vanna"), ("total_charm", "charm")] {
        let t = doc[total].as_f64().unwrap();
        assert!((t - sum(k)).abs() <= 1e-9 * t.abs().max(1.0), "{total} {t}");
    }
    assert!(doc["abs_gamma_strike"].as_f64().unwrap() > 0.0);
    // After the close on the 25th nothing expiring that day is live.
    assert_eq!(doc["zero_dte_share"], 0.0);
    assert_eq!(doc["expirations_used"][0], "2025-10-01");
}

#[test]
fn at_moves_the_evaluation_time_and_expiry_filters_apply() {
    if !shared(SPY) {
        return;
    }
    // Wednesday 2025-10-01 at 10:00 New York: the Oct 1 series is 0DTE.
    let doc = json(&coach(&[
        "gex",
        "--chain",
        SPY,
        "--json",
        "--at",
        "2025-10-01T14:00:00Z",
        "--expiry",
        "0dte",
    ]));
    assert_eq!(doc["as_of"], "2025-10-01T14:00:00Z");
    assert_eq!(doc["expirations_used"], serde_json::json!(["2025-10-01"]));
    let next2 = json(&coach(&[
        "gex", "--chain", SPY, "--json", "--expiry", "next:2", "--r", "0.04", "--q", "0.012",
    ]));
    assert_eq!(next2["expirations_used"].as_array().unwrap().len(), 2);
}

#[test]
fn the_table_names_regime_flip_and_walls() {
    if !shared(SPY) {
        return;
    }
    let out = coach(&["gex", "--chain", SPY]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("negative gamma regime"), "{text}");
    assert!(text.contains("call wall 670"));
    assert!(text.contains("put wall 655"));
    assert!(text.contains("zero gamma 668.14"));
}

#[test]
fn the_cboe_json_and_massive_formats_are_read_and_guessed() {
    let doc = json(&coach(&["gex", "--chain", CBOE_JSON, "--json"]));
    assert_eq!(doc["symbol"], "SPX");
    assert_eq!(doc["as_of"], "2025-09-26T20:15:02Z");
    let explicit = json(&coach(&[
        "gex",
        "--chain",
        CBOE_JSON,
        "--format",
        "cboe-json",
        "--json",
    ]));
    assert_eq!(doc, explicit);
    if shared(MASSIVE) {
        // The AAPL fixture's snapshot is from 2022-04-29; its one call expires 2023-06-16.
        let doc = json(&coach(&["gex", "--chain", MASSIVE, "--json"]));
        assert_eq!(doc["symbol"], "AAPL");
        assert_eq!(doc["contracts_used"], 1);
        assert_eq!(doc["call_wall"], 150.0);
    }
}

#[test]
fn bad_input_exits_2_naming_file_line_and_field() {
    let (_dir, path) = temp_file(
        "bad.csv",
        "\nX,Last: 100,Change: 0\n\"Date: September 25, 2025 at 9:05 PM EDT\",Bid: 1\n\
         Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest\n\
         Wed Oct 01 2025,SPY251001C00100000,1,0,1,1,1,0.2,0.5,0.01,10,100.00,SPY251001P00100000,1,0,1,1,1,0.2,-0.5,0.01,oops\n",
    );
    let out = coach(&["gex", "--chain", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{path}:5: Open Interest (puts)")),
        "{err}"
    );

    let out = coach(&["gex", "--chain", "/nonexistent/chain.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/chain.csv"));

    for (flag, value, needle) in [
        ("--expiry", "weekly", "expiry filter"),
        ("--at", "yesterday", "RFC 3339"),
        ("--format", "xml", "cboe-csv"),
        ("--r", "4.5", "decimal"),
    ] {
        let out = coach(&["gex", "--chain", CBOE_JSON, flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{flag}: {err}");
    }

    let (_dir, path) = temp_file(
        "bad.json",
        "{\"timestamp\":\"2025-09-26 20:15:02\",\n\"data\":{\"current_price\":1,\"options\":[{\"option\":\"SPY251001C00500000\",\n\"open_interest\":\"lots\"}]}}",
    );
    let out = coach(&["gex", "--chain", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(":3:") && err.contains("data.options[0].open_interest"),
        "{err}"
    );
}

#[test]
fn a_filter_that_leaves_nothing_says_why_and_exits_2() {
    let out = coach(&["gex", "--chain", CBOE_JSON, "--at", "2025-12-01T15:00:00Z"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no contract with open interest and IV"),
        "{err}"
    );
}
