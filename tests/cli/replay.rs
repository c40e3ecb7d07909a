//! `coach replay` run as a user would: the built binary over real and hand-made CSV files.

use std::process::{Command, Output};

const SHARED: &str = "../shared/data/bars/lean_spy_2013-10";
const MINUTES: &str = "../shared/data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv";
const DAILY: &str = "../shared/data/bars/lean_spy_2013-10/SPY_1day_lean.csv";

fn coach(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .output()
        .expect("the coach binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn shared() -> bool {
    crate::support::shared_present(SHARED)
}

#[test]
fn the_spy_week_prints_a_table_with_each_sessions_levels() {
    if !shared() {
        return;
    }
    let out = coach(&[
        "replay", "--bars", MINUTES, "--daily", DAILY, "--format", "table",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("bar (ET)    symbol kind"), "{table}");
    // the daily file's 2013-10-03 bar is the first session's prior day
    assert!(
        table.contains(
            "── SPY 2013-10-04: prior day 2013-10-03 H 168.94 L 166.84 C 167.62 (daily bar)"
        ),
        "{table}"
    );
    // later sessions take it from the minute bars
    assert!(
        table.contains(
            "── SPY 2013-10-07: prior day 2013-10-04 H 169.06 L 167.53 C 168.89 (minute bars)"
        ),
        "{table}"
    );
    assert!(
        table.lines().filter(|l| l.starts_with("10-")).count() >= 10,
        "{table}"
    );
    assert!(
        text(&out.stderr).contains("replayed 4839 bars of 1 symbol(s) (2340 in regular sessions)")
    );
}

#[test]
fn jsonl_has_one_detection_per_line_with_the_spec_fields_in_bar_order() {
    if !shared() {
        return;
    }
    let out = coach(&["replay", "--bars", SHARED]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut last = String::new();
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
        for field in [
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
        ] {
            assert!(v.get(field).is_some(), "{field} missing in {line}");
        }
        let bar_time = v["bar_time"].as_str().unwrap().to_string();
        assert!(
            bar_time >= last,
            "not in bar order: {bar_time} after {last}"
        );
        last = bar_time;
    }
}

#[test]
fn csv_output_has_the_spec_header() {
    if !shared() {
        return;
    }
    let out = coach(&[
        "replay", "--bars", MINUTES, "--daily", DAILY, "--format", "csv",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let csv = text(&out.stdout);
    assert!(csv.starts_with(
        "symbol,kind,direction,confidence,entry,stop,target,detected_at,bar_time,market_date,dedup_key,rationale\nSPY,"
    ));
}

#[test]
fn without_daily_bars_the_first_session_has_no_prior_day_and_no_setup_needing_one() {
    if !shared() {
        return;
    }
    let out = coach(&["replay", "--bars", MINUTES, "--format", "table"]);
    assert_eq!(out.status.code(), Some(0));
    let table = text(&out.stdout);
    assert!(
        table.contains("── SPY 2013-10-04: prior day unknown"),
        "{table}"
    );
    assert!(table.contains("daily ATR(14) unknown"), "{table}");
    let first_day: Vec<&str> = table.lines().filter(|l| l.starts_with("10-04")).collect();
    for line in first_day {
        for needs_prior in ["gap_fill", "orb_breakout", "opening_drive"] {
            assert!(!line.contains(needs_prior), "{line}");
        }
        for level in ["PDH", "PDL", "PDC", " R1 ", " S1 "] {
            assert!(
                !line.contains(level),
                "a prior-day level was invented: {line}"
            );
        }
    }
}

#[test]
fn a_malformed_row_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("QQQ_1min_bad.csv");
    std::fs::write(
        &file,
        "timestamp,open,high,low,close,volume\n2024-03-05 09:30:00,1,2,0.5,1.5,100\n2024-03-05 09:31:00,1,two,0.5,1.5,100\n",
    )
    .unwrap();
    let out = coach(&["replay", "--bars", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("QQQ_1min_bad.csv:3: column 3 (high): \"two\" is not a number"),
        "{err}"
    );
}

#[test]
fn unsorted_bars_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("QQQ_1min.csv");
    std::fs::write(
        &file,
        "timestamp,open,high,low,close\n2024-03-05 09:31:00,1,1,1,1\n2024-03-05 09:30:00,1,1,1,1\n",
    )
    .unwrap();
    let out = coach(&["replay", "--bars", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not after"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_file_name_without_a_symbol_needs_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bars.csv");
    std::fs::write(
        &file,
        "timestamp,open,high,low,close\n2024-03-05 09:30:00,1,1,1,1\n",
    )
    .unwrap();
    let out = coach(&["replay", "--bars", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("pass --symbol"));
    let out = coach(&[
        "replay",
        "--bars",
        file.to_str().unwrap(),
        "--symbol",
        "spx",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("replayed 1 bars of 1 symbol(s)"));
}

#[test]
fn an_empty_directory_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = coach(&["replay", "--bars", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no <SYMBOL>_1min*.csv"));
}

#[test]
fn detectors_silenced_by_a_missing_input_say_so_in_the_summary() {
    if !shared() {
        return;
    }
    // without the daily file the first session has no daily bar at all, and each later
    // session only the finished minute sessions before it: never the 15 ATR(14) needs
    let out = coach(&["replay", "--bars", MINUTES, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "coach: orb_breakout on SPY 2013-10-04: no daily ATR (needs 15 daily bars before the session, has 0) (and 5 more sessions to 2013-10-11)\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "coach: gap_fill on SPY 2013-10-04: no prior day (no daily bar and no minute session before it)\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("coach: gamma_squeeze on SPY 2013-10-04: no GEX profile (and 5 more sessions to 2013-10-11)\n"),
        "{err}"
    );

    // with it, only the options chain is missing
    let out = coach(&[
        "replay", "--bars", MINUTES, "--daily", DAILY, "--format", "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(!err.contains("orb_breakout on"), "{err}");
    assert!(!err.contains("gap_fill on"), "{err}");
    assert!(
        err.contains("coach: gamma_squeeze on SPY 2013-10-04: no GEX profile"),
        "{err}"
    );
}
