//! `coach calendar` run as a user would: the built binary, its stdout, stderr and exit code.

use std::process::{Command, Output};

fn coach(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .output()
        .expect("the coach binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

#[test]
fn thanksgiving_week_2026_as_csv() {
    let out = coach(&[
        "calendar",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-30",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "date,open_utc,close_utc,early_close\n\
         2026-11-23,2026-11-23T14:30:00Z,2026-11-23T21:00:00Z,0\n\
         2026-11-24,2026-11-24T14:30:00Z,2026-11-24T21:00:00Z,0\n\
         2026-11-25,2026-11-25T14:30:00Z,2026-11-25T21:00:00Z,0\n\
         2026-11-27,2026-11-27T14:30:00Z,2026-11-27T18:00:00Z,1\n\
         2026-11-30,2026-11-30T14:30:00Z,2026-11-30T21:00:00Z,0\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn csv_is_the_default_format_and_holidays_are_absent() {
    let out = coach(&["calendar", "--from", "2026-07-02", "--to", "2026-07-06"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "date,open_utc,close_utc,early_close\n\
         2026-07-02,2026-07-02T13:30:00Z,2026-07-02T20:00:00Z,0\n\
         2026-07-06,2026-07-06T13:30:00Z,2026-07-06T20:00:00Z,0\n"
    );
}

#[test]
fn json_has_the_same_fields_with_a_boolean_early_close() {
    let out = coach(&[
        "calendar",
        "--from",
        "2025-01-08",
        "--to",
        "2025-01-10",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(
        rows,
        serde_json::json!([
            {"date": "2025-01-08", "open_utc": "2025-01-08T14:30:00Z",
             "close_utc": "2025-01-08T21:00:00Z", "early_close": false},
            {"date": "2025-01-10", "open_utc": "2025-01-10T14:30:00Z",
             "close_utc": "2025-01-10T21:00:00Z", "early_close": false}
        ]),
        "2025-01-09 was closed for the national day of mourning"
    );
}

#[test]
fn a_range_without_sessions_prints_only_the_header_or_an_empty_array() {
    let csv = coach(&["calendar", "--from", "2026-12-25", "--to", "2026-12-27"]);
    assert_eq!(stdout(&csv), "date,open_utc,close_utc,early_close\n");
    let json = coach(&[
        "calendar",
        "--from",
        "2026-12-25",
        "--to",
        "2026-12-27",
        "--format",
        "json",
    ]);
    assert_eq!(stdout(&json).trim(), "[]");
}

#[test]
fn without_to_the_range_is_thirty_days() {
    let out = coach(&["calendar", "--from", "2026-02-01"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let last = text.lines().last().expect("at least one session");
    // 2026-02-01 + 30 days = 2026-03-03 (Tuesday); Presidents' Day 2026-02-16 is absent.
    assert!(last.starts_with("2026-03-03,"), "last row {last}");
    assert!(!text.contains("2026-02-16"));
    assert_eq!(text.lines().count(), 1 + 21);
}

#[test]
fn without_from_the_range_starts_today_in_new_york() {
    let out = coach(&["calendar", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).expect("JSON");
    // Any 31-day window holds at least 18 sessions (the most holiday-dense month).
    assert!(rows.len() >= 18, "{} sessions", rows.len());
}

#[test]
fn a_bad_date_is_refused_with_exit_2_naming_the_flag() {
    let out = coach(&["calendar", "--from", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.contains("--from \"2026-13-01\" is not a date"), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");

    let out = coach(&["calendar", "--from", "2026-01-01", "--to", "next week"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--to \"next week\" is not a date"));
}

#[test]
fn from_after_to_is_refused_with_exit_2() {
    let out = coach(&["calendar", "--from", "2026-02-01", "--to", "2026-01-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("--from 2026-02-01 is after --to 2026-01-01"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let out = coach(&["calendar", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("xml"));
}

#[test]
fn years_outside_the_verified_range_work_with_a_note_on_stderr() {
    // 2040-01-02 is the observed New Year's Day (January 1 is a Sunday).
    let out = coach(&["calendar", "--from", "2040-01-02", "--to", "2040-01-03"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "date,open_utc,close_utc,early_close\n2040-01-03,2040-01-03T14:30:00Z,2040-01-03T21:00:00Z,0\n"
    );
    assert!(
        stderr(&out).contains("verified for 1993–2035"),
        "{}",
        stderr(&out)
    );
}
