//! `coach backtest` run as a user would: the built binary over the shared SPY sessions.
//! Every number the statistics print is recomputed here from the per-trade file.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const SHARED: &str = "../shared/data/bars/lean_spy_2013-10";

/// A temporary directory with an empty configuration file, so the user's own config
/// (its `[backtest] slippage`) cannot change what the tests see.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn coach(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_coach"))
            .arg("--config")
            .arg(self.path("config.toml"))
            .args(args)
            .env_remove("COACH_BACKTEST_SLIPPAGE")
            .output()
            .expect("the coach binary runs")
    }

    /// `coach backtest --bars SHARED <extra> --trades FILE`: (stdout, trades).
    fn backtest(&self, extra: &[&str]) -> (String, Vec<Value>) {
        let trades = self.path("trades.jsonl");
        let trades_arg = trades.display().to_string();
        let mut args = vec!["backtest", "--bars", SHARED, "--trades", &trades_arg];
        args.extend_from_slice(extra);
        let out = self.coach(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let lines = std::fs::read_to_string(&trades).unwrap();
        let trades = lines
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        (text(&out.stdout), trades)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn shared() -> bool {
    crate::support::shared_present(SHARED)
}

fn count(trades: &[&Value], outcome: &str) -> u64 {
    trades.iter().filter(|t| t["outcome"] == outcome).count() as u64
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// Half the last printed decimal of an R or a rate (four decimals, `json_round`): how far
/// one printed value may be from the exact one.
const HALF_TICK: f64 = 0.5e-4;

/// `x` has at most `decimals` decimals (up to float noise): rounded as printed.
fn printed_at(x: f64, decimals: i32) -> bool {
    let scaled = x * 10f64.powi(decimals);
    (scaled - scaled.round()).abs() < 1e-6
}

/// Calls `f` with every number of `v` and the field that holds it.
fn every_number(v: &Value, f: &mut impl FnMut(&str, f64)) {
    fn walk(v: &Value, field: &str, f: &mut impl FnMut(&str, f64)) {
        match v {
            Value::Number(n) => f(field, n.as_f64().unwrap()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, field, f)),
            Value::Object(map) => map.iter().for_each(|(k, i)| walk(i, k, f)),
            _ => {}
        }
    }
    walk(v, "", f)
}

/// The fields of SPEC 18's group rows, in the counts a trader can recount by hand.
fn check_counts(group: &Value, trades: &[&Value]) {
    let n = |field: &str| group[field].as_u64().unwrap();
    assert_eq!(n("detections"), trades.len() as u64, "{group}");
    for outcome in [
        "target_hit",
        "stopped_out",
        "time_exit",
        "expired",
        "invalidated",
    ] {
        assert_eq!(n(outcome), count(trades, outcome), "{outcome} in {group}");
    }
    assert_eq!(
        n("triggered"),
        n("target_hit") + n("stopped_out") + n("time_exit")
    );
    let filled: Vec<f64> = trades
        .iter()
        .filter(|t| !t["r"].is_null())
        .map(|t| num(&t["r"]))
        .collect();
    assert_eq!(filled.len() as u64, n("triggered"));
    let wins = filled.iter().filter(|r| **r > 0.0).count() as u64;
    assert_eq!(n("wins"), wins);
    // Each printed R and the printed total are off the exact ones by half a tick at most.
    let total: f64 = filled.iter().sum();
    let slack = HALF_TICK * (filled.len() + 1) as f64 + 1e-9;
    assert!((num(&group["total_r"]) - total).abs() <= slack, "{group}");
    assert!(printed_at(num(&group["total_r"]), 4), "{group}");
    if filled.is_empty() {
        assert!(group["win_rate"].is_null() && group["avg_r"].is_null());
    } else {
        let rate = wins as f64 / filled.len() as f64;
        assert!((num(&group["win_rate"]) - rate).abs() <= HALF_TICK + 1e-12);
        let [lo, hi] = [0, 1].map(|i| num(&group["win_rate_ci95"][i]));
        assert!(
            0.0 <= lo && lo <= rate && rate <= hi && hi <= 1.0,
            "{group}"
        );
        let avg = total / filled.len() as f64;
        assert!((num(&group["avg_r"]) - avg).abs() <= 2.0 * HALF_TICK + 1e-9);
    }
    assert!(num(&group["max_drawdown_r"]) >= 0.0);
}

#[test]
fn json_round_trip_group_counts_add_up_to_the_per_trade_file() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let (stdout, trades) = sandbox.backtest(&["--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["from"], "2013-10-04");
    assert_eq!(report["to"], "2013-10-11");
    assert_eq!(report["symbols"], serde_json::json!(["SPY"]));
    assert_eq!(report["sessions"], 6);
    assert_eq!(report["bars"], 2340); // 6 sessions × 390 regular minutes
    assert_eq!(report["slippage"], 0.01); // the default of [backtest] slippage
    assert!(report["costs"].as_str().unwrap().contains("0.01 per side"));
    let groups = report["groups"].as_array().unwrap();
    let all = groups.last().unwrap();
    for key in ["kind", "symbol", "hour", "regime"] {
        assert!(
            all[key].is_null(),
            "the all-kinds row has {key} null: {all}"
        );
    }
    // No `-1.9499999999999886`: every number of the report at four decimals at most.
    every_number(&report, &mut |path, x| {
        assert!(printed_at(x, 4), "{path} = {x} has more than four decimals");
    });
    let everything: Vec<&Value> = trades.iter().collect();
    assert!(everything.len() >= 10, "{} trades", everything.len());
    check_counts(all, &everything);
    let mut per_kind = 0;
    for group in &groups[..groups.len() - 1] {
        let kind = group["kind"].as_str().expect("a kind row");
        let mine: Vec<&Value> = trades.iter().filter(|t| t["kind"] == kind).collect();
        check_counts(group, &mine);
        per_kind += mine.len();
    }
    assert_eq!(per_kind, trades.len());
    // every trade carries the SPEC 18 per-trade fields
    for t in &trades {
        for field in [
            "kind",
            "symbol",
            "detected_at",
            "outcome",
            "fill_price",
            "fill_time",
            "exit_price",
            "exit_time",
            "r",
            "mfe_r",
            "mae_r",
            "bars_held",
            "hour",
            "regime",
        ] {
            assert!(t.get(field).is_some(), "{field} missing in {t}");
        }
        for (field, decimals) in [("fill_price", 2), ("exit_price", 2), ("r", 4), ("mfe_r", 4)] {
            if !t[field].is_null() {
                assert!(printed_at(num(&t[field]), decimals), "{field} in {t}");
            }
        }
        if !t["r"].is_null() {
            // MFE and MAE bound the realised R from both sides (rounding keeps the order)
            assert!(num(&t["mfe_r"]) >= num(&t["r"]).max(0.0) - 1e-9, "{t}");
            assert!(num(&t["mae_r"]) >= (-num(&t["r"])).max(0.0) - 1e-9, "{t}");
        }
    }
}

#[test]
fn the_table_shows_per_kind_statistics_a_trader_recomputes_from_the_trades_file() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let (table, trades) = sandbox.backtest(&["--format", "table"]);
    assert!(
        table.starts_with("coach backtest · SPY · 2013-10-04 → 2013-10-11 · 6 symbol-session(s)"),
        "{table}"
    );
    // Recompute the vwap_reclaim row by hand from the trades.
    let mine: Vec<&Value> = trades
        .iter()
        .filter(|t| t["kind"] == "vwap_reclaim")
        .collect();
    assert!(!mine.is_empty(), "the SPY week has vwap_reclaim detections");
    let rs: Vec<f64> = mine
        .iter()
        .filter(|t| !t["r"].is_null())
        .map(|t| num(&t["r"]))
        .collect();
    let wins = rs.iter().filter(|r| **r > 0.0).count();
    let total: f64 = rs.iter().sum();
    let row = table
        .lines()
        .find(|l| l.starts_with("vwap_reclaim "))
        .unwrap_or_else(|| panic!("no vwap_reclaim row in\n{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], mine.len().to_string(), "n: {row}");
    assert_eq!(cells[2], rs.len().to_string(), "filled: {row}");
    assert_eq!(cells[3], count(&mine, "target_hit").to_string(), "{row}");
    assert_eq!(cells[4], count(&mine, "stopped_out").to_string(), "{row}");
    let rate = format!(
        "{:.1}% of {}",
        100.0 * wins as f64 / rs.len() as f64,
        rs.len()
    );
    assert!(row.contains(&rate), "win rate with its n {rate:?}: {row}");
    let avg = format!("{:+.2} n {}", total / rs.len() as f64, rs.len());
    assert!(row.contains(&avg), "average R with its n {avg:?}: {row}");
    assert!(row.contains(&format!("{total:+.2}")), "total R: {row}");
    // and the all-kinds row counts every trade
    let all = table.lines().find(|l| l.starts_with("all ")).unwrap();
    assert_eq!(
        all.split_whitespace().nth(1),
        Some(trades.len().to_string().as_str())
    );
}

#[test]
fn backtest_and_replay_see_the_same_detections_on_the_same_input() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let replay = sandbox.coach(&["replay", "--bars", SHARED]);
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stderr));
    let replayed: Vec<Value> = text(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (_, trades) = sandbox.backtest(&["--format", "json"]);
    let detection_fields = |v: &Value| -> Value {
        let fields = [
            "symbol",
            "kind",
            "direction",
            "confidence",
            "entry",
            "stop",
            "target",
            "detected_at",
            "bar_time",
            "market_date",
            "dedup_key",
            "rationale",
        ];
        Value::Object(
            fields
                .iter()
                .map(|f| (f.to_string(), v[*f].clone()))
                .collect(),
        )
    };
    let key = |v: &Value| (v["detected_at"].to_string(), v["kind"].to_string());
    let mut a: Vec<Value> = replayed.iter().map(detection_fields).collect();
    let mut b: Vec<Value> = trades.iter().map(detection_fields).collect();
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a.len(), b.len());
    assert_eq!(a, b);
}

#[test]
fn a_half_cent_slippage_is_reported_as_half_a_cent_not_rounded_to_a_cent() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let (stdout, _) = sandbox.backtest(&["--format", "json", "--slippage", "0.005"]);
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(
        report["slippage"], 0.005,
        "a cost per share keeps its sub-cent value"
    );
    assert!(report["costs"].as_str().unwrap().contains("0.005 per side"));
}

#[test]
fn slippage_costs_each_filled_trade_two_slips_over_its_risk() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let (_, free) = sandbox.backtest(&["--format", "json", "--slippage", "0"]);
    let (_, costly) = sandbox.backtest(&["--format", "json", "--slippage", "0.02"]);
    assert_eq!(free.len(), costly.len());
    for (a, b) in free.iter().zip(&costly) {
        assert_eq!(
            a["outcome"], b["outcome"],
            "slippage never changes an outcome"
        );
        if a["r"].is_null() {
            continue;
        }
        let risk = (num(&a["entry"]) - num(&a["stop"])).abs();
        // 0.02 in, 0.02 out: R falls by 0.04 / risk (each printed R within half a tick)
        let cost = num(&a["r"]) - num(&b["r"]);
        assert!(
            (cost - 0.04 / risk).abs() <= 2.0 * HALF_TICK + 1e-9,
            "{a}\n{b}"
        );
    }
}

#[test]
fn filters_and_splits_narrow_what_is_backtested() {
    if !shared() {
        return;
    }
    let sandbox = Sandbox::new();
    let (stdout, trades) = sandbox.backtest(&[
        "--format",
        "json",
        "--from",
        "2013-10-07",
        "--to",
        "2013-10-08",
        "--kinds",
        "vwap_reclaim,level_test",
        "--by",
        "hour",
    ]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["sessions"], 2);
    assert_eq!(report["bars"], 780);
    assert_eq!(report["from"], "2013-10-07");
    for t in &trades {
        let date = t["market_date"].as_str().unwrap();
        assert!(("2013-10-07"..="2013-10-08").contains(&date), "{t}");
        assert!(
            t["kind"] == "vwap_reclaim" || t["kind"] == "level_test",
            "{t}"
        );
    }
    let groups = report["groups"].as_array().unwrap();
    for g in &groups[..groups.len() - 1] {
        assert!(g["kind"].is_null() && g["hour"].is_string(), "{g}");
        let mine: Vec<&Value> = trades.iter().filter(|t| t["hour"] == g["hour"]).collect();
        check_counts(g, &mine);
    }
    // CSV: the header and one line per group
    let out = sandbox.coach(&["backtest", "--bars", SHARED, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let csv = text(&out.stdout);
    assert!(csv.starts_with("kind,symbol,hour,regime,confidence,detections,triggered,"));
    assert!(
        csv.lines().any(|l| l.starts_with(",,,,,")),
        "the total row: {csv}"
    );
    // The statistics at four decimals at most, as in the JSON.
    for line in csv.lines().skip(1) {
        for cell in line.split(',').skip(5).filter(|c| !c.is_empty()) {
            let x: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("{cell:?} in {line}"));
            assert!(printed_at(x, 4), "{cell} in {line}");
        }
    }
}

#[test]
fn bad_flags_exit_2_with_a_message_naming_the_flag() {
    let sandbox = Sandbox::new();
    for (args, says) in [
        (vec!["--slippage", "-0.5"], "--slippage"),
        (vec!["--slippage", "NaN"], "--slippage"),
        (
            vec!["--kinds", "gap_fil"],
            "--kinds: unknown setup kind \"gap_fil\"",
        ),
        (vec!["--symbols", "SP Y"], "--symbols"),
        (
            vec!["--from", "2013-10-09", "--to", "2013-10-07"],
            "--from 2013-10-09 is after --to 2013-10-07",
        ),
        (vec!["--by", "weekday"], "weekday"),
        (vec!["--from", "2013-13-01"], "--from"),
    ] {
        let mut all = vec!["backtest", "--bars", SHARED];
        all.extend(args.iter().copied());
        let out = sandbox.coach(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let trades = sandbox.path("no/such/dir/trades.jsonl");
    let out = sandbox.coach(&[
        "backtest",
        "--bars",
        SHARED,
        "--trades",
        trades.to_str().unwrap(),
    ]);
    if shared() {
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("--trades"),
            "{}",
            text(&out.stderr)
        );
    }
}
