//! What the CLI says when something is wrong or done (issue 22 item 9): the real binary
//! with a fresh database and an empty config, its exit code, stdout and stderr.

use crate::isolated::{coach, db, err, out};
use crate::support;

#[test]
fn a_speed_of_0_says_what_a_speed_is_and_names_the_flag_or_the_key_in_use() {
    let db = db();
    let o = coach(&db, &["serve", "--speed", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(e.contains("--speed: 0 is not a speed"), "{e}");
    assert!(e.contains("above 0 and at most 3600"), "{e}");
    assert!(!e.contains("between 0 and 3600"), "{e}");
    assert!(!e.contains("replay.speed"), "sim mode: {e}");

    let config = db.dir.path().join("slow.toml");
    std::fs::write(&config, "[sim]\nspeed = 0\n").unwrap();
    let o = coach(
        &db,
        &["--config", config.to_str().unwrap(), "setups", "list"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("sim.speed: 0 is not a speed"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_toml_error_names_its_line_and_says_what_is_wrong_in_words() {
    let db = db();
    let config = db.dir.path().join("typed.toml");
    std::fs::write(&config, "[sim]\nseed = 7\nspeed = \"fast\"\n").unwrap();
    let o = coach(
        &db,
        &["--config", config.to_str().unwrap(), "setups", "list"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("line 3 (speed = \"fast\"): found the text \"fast\" where a number is expected"),
        "{e}"
    );
    assert!(!e.contains("f64") && !e.contains("TOML parse error"), "{e}");
}

#[test]
fn doctor_prints_a_config_error_once() {
    let db = db();
    let config = db.dir.path().join("typed.toml");
    std::fs::write(&config, "[ui]\nmax_fps = true\n").unwrap();
    let o = coach(&db, &["--config", config.to_str().unwrap(), "doctor"]);
    assert_eq!(o.status.code(), Some(2));
    let all = format!("{}{}", out(&o), err(&o));
    assert_eq!(all.matches("max_fps = true").count(), 1, "{all}");
    assert!(out(&o).starts_with("FAIL config: "), "{all}");
}

#[test]
fn an_unreachable_postgres_names_the_cause_host_and_port() {
    let db = db();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args([
            "setups",
            "list",
            "--db",
            "postgres://postgres@127.0.0.1:9/coach",
        ])
        .env("COACH_CONFIG", db.dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("connection refused"), "{e}");
    assert!(e.contains("host 127.0.0.1 port 9"), "{e}");
    assert!(!e.contains("pool timed out"), "{e}");
}

#[test]
fn alerts_list_has_its_header_moves_their_base_and_remove_says_what_went() {
    let db = db();
    assert!(
        coach(&db, &["alerts", "add", "NDX", "below", "25123.45"])
            .status
            .success()
    );
    let o = coach(
        &db,
        &["alerts", "add", "SPY", "move", "2%", "--from", "680.12"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = coach(&db, &["alerts", "list"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "id\tsymbol\tcondition\tstate\tfired\tnote",
        "{text}"
    );
    assert_eq!(
        lines[1], "2\tSPY\tmoves ±2 % from 680.12\tarmed\t-\t",
        "{text}"
    );
    assert_eq!(
        lines[2], "1\tNDX\tcrosses below 25123.45\tarmed\t-\t",
        "{text}"
    );

    let o = coach(&db, &["alerts", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v[1]["level"], 25123.45);
    assert_eq!(v[0]["reference"], 680.12);

    let o = coach(&db, &["alerts", "remove", "1"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "removed alert 1: NDX crosses below 25123.45\n");
}

#[test]
fn a_brief_past_the_recorded_bars_exits_2_and_says_where_they_end() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let bars = shared.join("data/bars/lean_spy_2013-10");
    let db = db();
    let o = coach(
        &db,
        &[
            "brief",
            "--date",
            "2013-12-02",
            "--bars",
            bars.to_str().unwrap(),
            "--watchlist",
            "SPY",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let e = err(&o);
    assert!(
        e.contains("--date 2013-12-02 is past the recorded bars: they end on 2013-10-11"),
        "{e}"
    );
    assert!(e.contains("for 2013-10-14"), "{e}");
    assert!(out(&o).is_empty());
}
