//! `coach backtest --calibrate --split D` and `--by regime` (issue 20 items 5 and 2b) run
//! as a user would, over the shared SPY sessions (2013-10-04 to 2013-10-11) with a fresh
//! database: the maps fitted before the split are stored as versions, and the Brier score
//! printed for the raw scores is recomputed here from the per-trade file.

use serde_json::Value;

use crate::isolated::{self, Db, err, out};

const SHARED: &str = "../shared/data/bars/lean_spy_2013-10";
const SPLIT: &str = "2013-10-09";

fn shared() -> bool {
    crate::support::shared_present(SHARED)
}

/// `coach backtest --bars SHARED ARGS`, exit 0: (stdout, stderr).
fn backtest(db: &Db, args: &[&str]) -> (String, String) {
    let mut all = vec!["backtest", "--bars", SHARED];
    all.extend_from_slice(args);
    let o = isolated::coach(db, &all);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    (out(&o), err(&o))
}

fn calibrate_json(db: &Db, trades: &str) -> Value {
    let (stdout, _) = backtest(
        db,
        &[
            "--calibrate",
            "--split",
            SPLIT,
            "--min-fit",
            "1",
            "--format",
            "json",
            "--trades",
            trades,
        ],
    );
    serde_json::from_str(&stdout).expect("one JSON document")
}

fn finite(v: &Value) -> f64 {
    let x = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!(x.is_finite(), "{x}");
    x
}

#[test]
fn calibration_fits_before_the_split_judges_after_it_and_stores_a_new_version_each_run() {
    if !shared() {
        return;
    }
    let db = isolated::db();
    let trades_path = db.dir.path().join("trades.jsonl");
    let trades_arg = trades_path.display().to_string();
    let report = calibrate_json(&db, &trades_arg);
    let c = &report["calibration"];
    assert_eq!(c["split"], SPLIT);
    assert_eq!(c["min_fit"], 1);
    let maps = c["maps"].as_array().unwrap();
    assert!(!maps.is_empty(), "{c}");
    for m in maps {
        assert_eq!(m["version"], 1, "{m}");
        assert!(
            m["fitted_to"].as_str().unwrap() < SPLIT,
            "fitted before the split: {m}"
        );
        let points = m["map"]["points"].as_array().unwrap();
        let pairs: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (finite(&p["score"]), finite(&p["probability"])))
            .collect();
        assert!(
            pairs
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "a monotone map: {pairs:?}"
        );
    }

    let evaluations = c["evaluations"].as_array().unwrap();
    let all = evaluations.last().unwrap();
    assert!(all["kind"].is_null(), "all kinds come last: {all}");
    let brier_raw = finite(&all["brier_raw"]);
    let brier_cal = finite(&all["brier_calibrated"]);
    assert!((0.0..=1.0).contains(&brier_raw) && (0.0..=1.0).contains(&brier_cal));
    let bins = all["reliability_raw"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[6]["bin"], "60-70");
    let binned: u64 = bins.iter().map(|b| b["n"].as_u64().unwrap()).sum();
    assert_eq!(binned, all["eval_trades"].as_u64().unwrap());
    assert_eq!(all["reliability_calibrated"].as_array().unwrap().len(), 10);

    // Recount from the per-trade file: filled trades before the split are fitted on, the
    // others judged; the raw Brier is the mean of (confidence/100 − win)² over the latter.
    let lines = std::fs::read_to_string(&trades_path).unwrap();
    let filled: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|t| !t["r"].is_null())
        .collect();
    let (before, after): (Vec<&Value>, Vec<&Value>) = filled
        .iter()
        .partition(|t| t["market_date"].as_str().unwrap() < SPLIT);
    assert_eq!(all["fit_trades"].as_u64().unwrap(), before.len() as u64);
    assert_eq!(all["eval_trades"].as_u64().unwrap(), after.len() as u64);
    assert!(!after.is_empty());
    let by_hand: f64 = after
        .iter()
        .map(|t| {
            let p = finite(&t["confidence"]) / 100.0;
            let won = if finite(&t["r"]) > 0.0 { 1.0 } else { 0.0 };
            (p - won) * (p - won)
        })
        .sum::<f64>()
        / after.len() as f64;
    // Printed to four decimals (`json_round`): within half of the last one.
    assert!(
        (by_hand - brier_raw).abs() <= 0.5e-4 + 1e-12,
        "{by_hand} vs {brier_raw}"
    );
    // the ordinary statistics are still there
    assert!(report["groups"].as_array().unwrap().len() > 1);

    // a second run stores the next version of every kind
    let again = calibrate_json(&db, &trades_arg);
    for m in again["calibration"]["maps"].as_array().unwrap() {
        assert_eq!(m["version"], 2, "{m}");
    }
}

#[test]
fn the_calibration_table_shows_brier_scores_and_the_reliability_deciles_with_n() {
    if !shared() {
        return;
    }
    let db = isolated::db();
    let (table, _) = backtest(&db, &["--calibrate", "--split", SPLIT, "--min-fit", "1"]);
    assert!(
        table.contains("calibration · fitted on the sessions before 2013-10-09"),
        "{table}"
    );
    assert!(table.contains("Brier raw"), "{table}");
    assert!(table.contains("map break_retest v1"), "{table}");
    assert!(table.contains("90-100"), "{table}");
    // with the default --min-fit (30) these few trades fit no map, and nothing changes
    let (table, _) = backtest(&isolated::db(), &["--calibrate", "--split", SPLIT]);
    assert!(table.contains("no map fitted, nothing stored"), "{table}");
    // a split after the data: nothing to judge, said on stderr
    let (_, note) = backtest(
        &db,
        &["--calibrate", "--split", "2013-10-16", "--min-fit", "1"],
    );
    assert!(note.contains("nothing to judge"), "{note}");
}

#[test]
fn calibration_flags_that_do_not_fit_together_exit_2_naming_them() {
    let db = isolated::db();
    for (args, says) in [
        (vec!["--calibrate"], "--split"),
        (vec!["--split", SPLIT], "--calibrate"),
        (vec!["--min-fit", "3"], "--calibrate"),
        (
            vec!["--calibrate", "--split", SPLIT, "--min-fit", "0"],
            "--min-fit",
        ),
        (vec!["--calibrate", "--split", "2013-10-32"], "--split"),
        (
            vec!["--calibrate", "--split", SPLIT, "--format", "csv"],
            "--format",
        ),
    ] {
        let mut all = vec!["backtest", "--bars", SHARED];
        all.extend(args.iter().copied());
        let o = isolated::coach(&db, &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(says), "{args:?}: {}", err(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn by_regime_names_sessions_without_a_gex_profile_unknown() {
    if !shared() {
        return;
    }
    let db = isolated::db();
    let (stdout, _) = backtest(&db, &["--by", "regime", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["by"], serde_json::json!(["regime"]));
    let groups = report["groups"].as_array().unwrap();
    // no chain in the shared bars: every trade is "unknown", then the total
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(groups[0]["regime"], "unknown");
    assert!(groups[1]["regime"].is_null());
    assert_eq!(groups[0]["detections"], groups[1]["detections"]);
    let (table, _) = backtest(&db, &["--by", "regime"]);
    assert!(table.lines().any(|l| l.starts_with("unknown")), "{table}");
}
