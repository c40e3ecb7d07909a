//! `coach brief` and `coach positions` run as a trader would: the built binary on the
//! recorded SPY bars of October 2013 (../shared), a temporary database, stdout, stderr
//! and exit codes.

use crate::isolated::{Db, coach, db, err, out};
use crate::support;

use std::path::PathBuf;
use std::process::Output;

fn spy_bars() -> Option<PathBuf> {
    Some(support::shared_dir()?.join("data/bars/lean_spy_2013-10"))
}

fn brief(db: &Db, bars: &std::path::Path, date: &str, format: &str) -> Output {
    coach(
        db,
        &[
            "brief",
            "--date",
            date,
            "--provider",
            "replay",
            "--bars",
            bars.to_str().unwrap(),
            "--watchlist",
            "SPY",
            "--format",
            format,
        ],
    )
}

#[test]
fn the_markdown_brief_of_2013_10_08_shows_levels_verifiable_against_the_bars() {
    let Some(bars) = spy_bars() else { return };
    let db = db();
    let o = brief(&db, &bars, "2013-10-08", "markdown");
    assert!(o.status.success(), "{}", err(&o));
    insta::assert_snapshot!("brief_spy_2013_10_08", out(&o));
}

#[test]
fn the_json_brief_carries_every_number_with_its_source() {
    let Some(bars) = spy_bars() else { return };
    let db = db();
    let o = brief(&db, &bars, "2013-10-08", "json");
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let spy = &v["symbols"][0];
    // the regular-hours minute bars of Mon 2013-10-07: high 168.45, low 167.25, close 167.42
    assert_eq!(spy["prior_day"]["date"], "2013-10-07");
    assert_eq!(spy["prior_day"]["high"], 168.45);
    assert_eq!(spy["prior_day"]["low"], 167.25);
    assert_eq!(spy["prior_day"]["close"], 167.42);
    assert_eq!(
        spy["sources"]["prior_day"],
        "regular-hours 1-minute bars of 2013-10-07 (390 bars, 09:30–16:00 ET)"
    );
    // the 09:24 bar's close, and the pre-market range 04:00–09:24
    assert_eq!(spy["last"]["price"], 167.39);
    assert_eq!(spy["pre_market"], serde_json::json!([167.64, 167.13]));
    assert!(
        spy["sources"]["atr"]
            .as_str()
            .unwrap()
            .contains("through 2013-10-07")
    );
    assert_eq!(v["events"]["out_of_date"], true);
    assert_eq!(v["generated_at"], "2013-10-08T13:25:00Z");
}

#[test]
fn the_first_recorded_session_has_no_prior_day_and_says_so() {
    let Some(bars) = spy_bars() else { return };
    let db = db();
    // the minute file alone: nothing before 2013-10-04
    let minute = bars.join("SPY_1min_2013-10-04_2013-10-11.csv");
    let o = brief(&db, &minute, "2013-10-04", "json");
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let spy = &v["symbols"][0];
    assert!(spy["prior_day"].is_null() && spy["pivots"].is_null() && spy["atr14"].is_null());
    assert!(spy["change"].is_null());
    let missing = spy["missing"].to_string();
    assert!(
        missing
            .contains("prior day 2013-10-03: no minute bars covering the session and no daily bar"),
        "{missing}"
    );
}

#[test]
fn bad_dates_and_calendars_exit_2_and_name_the_problem() {
    let Some(bars) = spy_bars() else { return };
    let db = db();
    let o = brief(&db, &bars, "2013-10-05", "markdown");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("2013-10-05 is not a trading day"),
        "{}",
        err(&o)
    );
    let o = brief(&db, &bars, "10/08/2013", "markdown");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--date: \"10/08/2013\" is not YYYY-MM-DD"),
        "{}",
        err(&o)
    );

    let cal = db.dir.path().join("cal.toml");
    std::fs::write(
        &cal,
        "valid_from = \"2026-01-01\"\nvalid_through = \"2026-12-31\"\n[[event]]\ndate = \"2026-01-09\"\ntime = \"8:30am\"\nname = \"Jobs\"\nimportance = \"high\"\n",
    )
    .unwrap();
    let o = coach(&db, &["brief", "--calendar", cal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("cal.toml: event 1 (\"Jobs\"): time \"8:30am\" is not HH:MM"),
        "{}",
        err(&o)
    );
}

#[test]
fn positions_are_added_imported_listed_closed_and_reach_the_brief() {
    let Some(bars) = spy_bars() else { return };
    let db = db();
    let o = coach(
        &db,
        &[
            "positions",
            "add",
            "SPY",
            "stock",
            "--qty",
            "100",
            "--price",
            "167",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "added position 1: SPY ×100\n");
    let o = coach(
        &db,
        &[
            "positions",
            "add",
            "SPY",
            "put",
            "--strike",
            "165",
            "--expiry",
            "2013-10-11",
            "--qty",
            "-3",
            "--price",
            "0.50",
            "--iv",
            "0.15",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));

    // a CSV with a bad row on line 3 saves nothing
    let csv = db.dir.path().join("p.csv");
    std::fs::write(
        &csv,
        "symbol,kind,strike,expiry,quantity,avg_price\nSPY,stock,,,5,160\nSPY,call,170,,1,1\n",
    )
    .unwrap();
    let o = coach(&db, &["positions", "import", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("line 3: a call needs a strike and an expiry"),
        "{}",
        err(&o)
    );
    let list = out(&coach(&db, &["positions", "list", "--json"]));
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{list}");

    let o = brief(&db, &bars, "2013-10-08", "json");
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let stock = &v["positions"]["rows"][0];
    // (167.39 − 167) × 100
    assert!(
        (stock["pnl"].as_f64().unwrap() - 39.0).abs() < 1e-6,
        "{stock}"
    );
    assert_eq!(stock["dollar_delta"].as_f64().unwrap().round(), 16739.0);
    let put = &v["positions"]["rows"][1];
    assert_eq!(put["dte"], 3);
    assert!(put["flags"].to_string().contains("expires ≤7d"), "{put}");
    assert!(
        put["dollar_gamma"].as_f64().unwrap() < 0.0,
        "short options are short gamma: {put}"
    );
    assert_eq!(v["positions"]["totals"]["positions"], 2);

    let o = coach(&db, &["positions", "close", "2"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = coach(&db, &["positions", "close", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("position 2 was already closed"),
        "{}",
        err(&o)
    );
    let o = coach(&db, &["positions", "close", "99"]);
    assert_eq!(o.status.code(), Some(2));
    let table = out(&coach(&db, &["positions", "list"]));
    assert_eq!(
        table.lines().count(),
        2,
        "header and one open position:\n{table}"
    );
}

#[test]
fn an_import_with_an_expired_option_or_an_absurd_quantity_saves_nothing() {
    let db = db();
    let csv = db.dir.path().join("p.csv");
    for (rows, reason) in [
        (
            "QQQ,stock,,,10,600\nSPY,call,700,2020-01-17,2,4.10\n",
            "line 3: expiry 2020-01-17 has passed",
        ),
        (
            "QQQ,stock,,,10,600\nSPY,stock,,,5e9,600\n",
            "line 3: quantity 5000000000 is beyond",
        ),
    ] {
        std::fs::write(
            &csv,
            format!("symbol,kind,strike,expiry,quantity,avg_price\n{rows}"),
        )
        .unwrap();
        let o = coach(&db, &["positions", "import", csv.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        assert!(err(&o).contains(reason), "{}", err(&o));
        let list = out(&coach(&db, &["positions", "list", "--json"]));
        assert!(!list.contains("QQQ"), "nothing saved: {list}");
    }
}
