//! `--chain FILE…` on the replaying commands and `coach doctor` (SPEC 19, issue 21 item 3):
//! the built binary over the shared SPY sessions of October 2013, with small CBOE CSV
//! chains written here, the real SPY chain of 2025-09-25 (whose date is outside those
//! bars: it must be named, not silently ignored) and the recorded Massive AAPL snapshot.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::isolated::{Db, coach, db, err, out};

const BARS: &str = "../shared/data/bars/lean_spy_2013-10";
const REAL_CHAIN: &str = "../shared/data/gex/spy_quotedata_2025-09-25_2105EDT_partial.csv";
const MASSIVE_AAPL: &str = "../shared/fixtures/massive/rest/v3/snapshot/options/AAPL.json";

fn shared() -> bool {
    if Path::new(BARS).is_dir() && Path::new(REAL_CHAIN).is_file() {
        return true;
    }
    if std::env::var("COACH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{BARS} or {REAL_CHAIN} is missing and COACH_REQUIRE_SHARED=1");
    }
    eprintln!("skipping: the shared SPY bars or chain are not there");
    false
}

/// A CBOE "Download CSV" chain of SPY options expiring Friday 2013-10-11, one row per
/// strike (strike, call OI, put OI), IV 15 %; `stamp` as CBOE writes it ("October 10,
/// 2013 at 2:50 PM EDT"), or no date line at all when `None`.
fn cboe_chain(
    db: &Db,
    name: &str,
    stamp: Option<&str>,
    spot: f64,
    rows: &[(f64, u32, u32)],
) -> PathBuf {
    let mut text = format!("\nSPDR S&P 500 ETF Trust,Last: {spot:.2},Change:  0.10\n");
    if let Some(stamp) = stamp {
        text.push_str(&format!(
            "\"Date: {stamp}\",Bid: 1,Ask: 1,Size: 1*1,\"Volume: 1\"\n"
        ));
    }
    text.push_str("Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest\n");
    for &(strike, call_oi, put_oi) in rows {
        let occ = (strike * 1000.0).round() as u64;
        text.push_str(&format!(
            "Fri Oct 11 2013,SPY131011C{occ:08},0,0,1,1.1,0,0.15,0.5,0.1,{call_oi},{strike:.2},SPY131011P{occ:08},0,0,1,1.1,0,0.15,-0.5,0.1,{put_oi}\n"
        ));
    }
    let path = db.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn squeezes(detections: &[Value]) -> Vec<&Value> {
    detections
        .iter()
        .filter(|d| d["kind"] == "gamma_squeeze")
        .collect()
}

#[test]
fn gamma_squeeze_fires_from_a_chain_in_force_and_not_from_a_stale_one() {
    if !shared() {
        return;
    }
    let db = db();
    // 2013-10-10 15:03 New York: SPY closes 168.67 from 168.48 on 5.8× relative volume,
    // through 168.50, the only strike of a put-heavy (negative GEX) chain.
    let strike = [(168.5, 1_000, 50_000)];
    let fresh = cboe_chain(
        &db,
        "fresh.csv",
        Some("October 10, 2013 at 2:50 PM EDT"),
        168.45,
        &strike,
    );
    let stale = cboe_chain(
        &db,
        "stale.csv",
        Some("October 10, 2013 at 2:20 PM EDT"),
        168.45,
        &strike,
    );

    let without = coach(&db, &["replay", "--bars", BARS]);
    assert_eq!(without.status.code(), Some(0), "{}", err(&without));
    assert!(squeezes(&jsonl(&out(&without))).is_empty());

    let fresh_arg = fresh.display().to_string();
    let with = coach(&db, &["replay", "--bars", BARS, "--chain", &fresh_arg]);
    assert_eq!(with.status.code(), Some(0), "{}", err(&with));
    let detections = jsonl(&out(&with));
    let fired = squeezes(&detections);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["direction"], "long");
    assert_eq!(fired[0]["bar_time"], "2013-10-10T19:03:00Z");
    let why = fired[0]["rationale"].as_str().unwrap();
    assert!(why.contains("largest call-GEX strike 168.50"), "{why}");
    assert!(why.contains("is negative"), "{why}");
    // Every other detection is the same as without the chain.
    assert_eq!(detections.len(), jsonl(&out(&without)).len() + 1);

    // 43 minutes old at the crossing: older than gamma_squeeze.max_age_minutes (30).
    let stale_arg = stale.display().to_string();
    let old = coach(&db, &["replay", "--bars", BARS, "--chain", &stale_arg]);
    assert_eq!(old.status.code(), Some(0), "{}", err(&old));
    assert!(squeezes(&jsonl(&out(&old))).is_empty());
}

#[test]
fn backtest_trades_record_the_regime_of_the_chain_in_force_at_detection() {
    if !shared() {
        return;
    }
    let db = db();
    let rows = |calls: u32, puts: u32| {
        [
            (166.0, calls, puts),
            (168.0, calls, puts),
            (170.0, calls, puts),
        ]
    };
    // Monday 09:00 (before the open) with puts dominating; Tuesday 09:00 with calls.
    let monday = cboe_chain(
        &db,
        "mon.csv",
        Some("October 07, 2013 at 9:00 AM EDT"),
        168.5,
        &rows(1_000, 50_000),
    );
    let tuesday = cboe_chain(
        &db,
        "tue.csv",
        Some("October 08, 2013 at 9:00 AM EDT"),
        167.5,
        &rows(50_000, 1_000),
    );
    let trades = db.dir.path().join("trades.jsonl");
    let args = [
        "backtest",
        "--bars",
        BARS,
        "--chain",
        &monday.display().to_string(),
        &tuesday.display().to_string(),
        "--by",
        "regime",
        "--format",
        "json",
        "--trades",
        &trades.display().to_string(),
    ]
    .map(String::from);
    let run = coach(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.status.code(), Some(0), "{}", err(&run));
    let trades = jsonl(&std::fs::read_to_string(&trades).unwrap());
    let on = |date: &str| -> Vec<&Value> {
        trades.iter().filter(|t| t["market_date"] == date).collect()
    };
    assert!(!on("2013-10-07").is_empty() && !on("2013-10-08").is_empty());
    for t in on("2013-10-07") {
        assert_eq!(t["regime"], "negative", "{t}");
        // signed, level − the signal bar's close (the detection's GEX context)
        assert!(t["wall_distance"].as_f64().unwrap().is_finite(), "{t}");
    }
    for t in on("2013-10-08") {
        assert_eq!(t["regime"], "positive", "{t}");
    }
    // A chain is never carried into a later session.
    for t in trades
        .iter()
        .filter(|t| t["market_date"] != "2013-10-07" && t["market_date"] != "2013-10-08")
    {
        assert!(
            t["regime"].is_null() && t["zero_gamma_distance"].is_null(),
            "{t}"
        );
    }
    let report: Value = serde_json::from_str(&out(&run)).unwrap();
    let detections = |regime: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["regime"] == regime)
            .map(|g| g["detections"].as_u64().unwrap())
    };
    assert_eq!(detections("negative"), Some(on("2013-10-07").len() as u64));
    assert_eq!(detections("positive"), Some(on("2013-10-08").len() as u64));
    assert!(detections("unknown").is_some());
}

#[test]
fn a_chain_outside_the_bars_or_without_a_snapshot_time_is_named_and_changes_nothing() {
    if !shared() {
        return;
    }
    let db = db();
    // The real chain was saved on 2025-09-25 at 21:05 EDT: it applies to Friday's session,
    // years after the 2013 bars. The bars stream, so their range is known only at the end:
    // the run is the run without the chain, and the chain is named as not used.
    for command in ["replay", "backtest"] {
        let run = coach(&db, &[command, "--bars", BARS, "--chain", REAL_CHAIN]);
        assert_eq!(run.status.code(), Some(0), "{command}: {}", err(&run));
        let without = coach(&db, &[command, "--bars", BARS]);
        assert_eq!(out(&run), out(&without), "{command}");
        assert!(
            err(&run).contains(&format!(
                "{REAL_CHAIN}: the SPY chain's snapshot time 2025-09-25 21:05 EDT applies to the 2025-09-26 session, which had no SPY bar here: not used"
            )),
            "{command}: {}",
            err(&run)
        );
    }
    let undated = cboe_chain(&db, "undated.csv", None, 168.5, &[(168.0, 10, 10)]);
    let undated_arg = undated.display().to_string();
    let run = coach(&db, &["replay", "--bars", BARS, "--chain", &undated_arg]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        err(&run).contains(&format!(
            "{undated_arg}: the SPY chain has no snapshot time"
        )),
        "{}",
        err(&run)
    );
    let run = coach(
        &db,
        &["replay", "--bars", BARS, "--chain", "no-such-chain.csv"],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        err(&run).contains("no-such-chain.csv: no such file"),
        "{}",
        err(&run)
    );
}

#[test]
fn a_chain_of_a_symbol_without_bars_is_warned_and_not_used() {
    if !shared() || !Path::new(MASSIVE_AAPL).is_file() {
        return;
    }
    let db = db();
    let plain = coach(&db, &["replay", "--bars", BARS]);
    let with = coach(&db, &["replay", "--bars", BARS, "--chain", MASSIVE_AAPL]);
    assert_eq!(with.status.code(), Some(0), "{}", err(&with));
    assert!(
        err(&with).contains(&format!(
            "coach: warning: {MASSIVE_AAPL}: a chain of AAPL, but no minute bars of AAPL were given: not used"
        )),
        "{}",
        err(&with)
    );
    assert_eq!(out(&with), out(&plain));
}

#[test]
fn doctor_checks_each_chain_and_names_the_bad_ones() {
    if !shared() {
        return;
    }
    let db = db();
    let garbage = db.dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"results\": [{\"details\": 7}]}").unwrap();
    let garbage_arg = garbage.display().to_string();
    let run = coach(
        &db,
        &["doctor", "--chain", REAL_CHAIN, &garbage_arg, "missing.csv"],
    );
    assert_eq!(run.status.code(), Some(1), "{}", err(&run));
    let text = out(&run);
    assert!(
        text.contains(&format!(
            "ok chain: {REAL_CHAIN}: SPY (cboe-csv), 3716 contract(s), 11 expiration(s) 2025-10-01 to 2025-10-31, snapshot 2025-09-25 21:05 EDT, spot 658.05\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("FAIL chain: {garbage_arg}")),
        "{text}"
    );
    assert!(
        text.contains("FAIL chain: missing.csv: no such file"),
        "{text}"
    );

    // With the bars: where each chain falls among them.
    let fresh = cboe_chain(
        &db,
        "fresh.csv",
        Some("October 10, 2013 at 2:50 PM EDT"),
        168.45,
        &[(168.5, 1, 2)],
    );
    let fresh_arg = fresh.display().to_string();
    let run = coach(
        &db,
        &["doctor", "--bars", BARS, "--chain", &fresh_arg, REAL_CHAIN],
    );
    assert_eq!(run.status.code(), Some(1), "{}", err(&run));
    let text = out(&run);
    assert!(
        text.contains(&format!("ok chain: {fresh_arg}: SPY (cboe-csv), 2 contract(s), 1 expiration(s) 2013-10-11, snapshot 2013-10-10 14:50 EDT, spot 168.45; applies to the 2013-10-10 session of the bars\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("FAIL chain: {REAL_CHAIN}: the SPY chain's snapshot time 2025-09-25 21:05 EDT applies to the 2025-09-26 session")),
        "{text}"
    );
}

#[test]
fn the_brief_shows_the_chain_snapshotted_by_its_time_and_not_a_later_one() {
    if !shared() {
        return;
    }
    let db = db();
    let chain = cboe_chain(
        &db,
        "fresh.csv",
        Some("October 10, 2013 at 2:50 PM EDT"),
        168.45,
        &[(168.5, 1_000, 50_000)],
    );
    let chain_arg = chain.display().to_string();
    let brief = |at: &str| {
        let run = coach(
            &db,
            &[
                "brief",
                "--bars",
                BARS,
                "--date",
                "2013-10-10",
                "--at",
                at,
                "--chain",
                &chain_arg,
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{}", err(&run));
        out(&run)
    };
    let text = brief("15:00");
    assert!(
        text.contains("options chain as of 2013-10-10 14:50 ET, 2 contracts"),
        "{text}"
    );
    assert!(text.contains("put wall 168.50"), "{text}");
    assert!(text.contains("(negative)"), "{text}");
    // At 14:00 the chain was not saved yet.
    assert!(!brief("14:00").contains("options chain as of"));
}
