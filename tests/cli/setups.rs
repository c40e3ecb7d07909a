//! `coach setups list` and `coach watchlist …` run as a user would: the built binary
//! against a temporary SQLite file and (with `COACH_TEST_POSTGRES_URL`) a PostgreSQL
//! schema of its own, its stdout, stderr and exit code.

use crate::support;

use std::process::{Command, Output};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::setups::{PriceUpdate, evaluate};
use coach::store::{Store, StoredDetection, TrackResult};

struct Db {
    dir: tempfile::TempDir,
    t: support::TestStore,
}

/// Every backend's database, each with an empty configuration file, so a trader's own
/// ~/.config/coach never leaks in.
async fn dbs() -> Vec<Db> {
    support::stores()
        .await
        .into_iter()
        .map(|t| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("config.toml"), "").unwrap();
            Db { dir, t }
        })
        .collect()
}

fn coach(db: &Db, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .args(["--db", db.t.database_url()])
        .env("COACH_CONFIG", db.dir.path().join("config.toml"))
        .output()
        .expect("the coach binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// 2026-11-24 (EST): 15:00 UTC is 10:00 New York.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn detection(symbol: &str, direction: Direction, levels: (f64, f64, f64), key: &str) -> Detection {
    Detection {
        symbol: Symbol::parse(symbol).unwrap(),
        kind: SetupKind::OrbBreakout,
        direction,
        confidence: 72,
        entry: levels.0,
        stop: levels.1,
        target: levels.2,
        detected_at: at(15, 6),
        bar_time: at(15, 5),
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: key.into(),
        rationale: "test".into(),
        gex: None,
    }
}

/// Local has a SPY long that triggered and hit its target, and an active QQQ short;
/// Bob has an active IWM long.
async fn seed(store: &Store) -> (i64, i64) {
    let local = store.ensure_user("local", at(14, 0)).await.unwrap();
    let bob = store.ensure_user("bob", at(14, 0)).await.unwrap();
    let track = async |user, d: Detection, when| {
        let (id, _) = store.insert_detection(&d).await.unwrap();
        match store
            .track(user, &StoredDetection { id, detection: d }, false, when)
            .await
            .unwrap()
        {
            TrackResult::Tracked(row) => row,
            other => panic!("{other:?}"),
        }
    };
    let spy = track(
        local,
        detection("SPY", Direction::Long, (681.25, 679.75, 684.25), "a"),
        at(15, 7),
    )
    .await;
    let qqq = track(
        local,
        detection("QQQ", Direction::Short, (610.5, 612.0, 607.5), "b"),
        at(15, 20),
    )
    .await;
    track(
        bob,
        detection("IWM", Direction::Long, (240.0, 239.0, 242.0), "c"),
        at(15, 8),
    )
    .await;
    let t1 = evaluate(&spy.setup, &PriceUpdate::trade(at(15, 9), 681.30)).unwrap();
    let triggered = store
        .apply_transition(local, &t1, "evaluator")
        .await
        .unwrap();
    let t2 = evaluate(&triggered.setup, &PriceUpdate::trade(at(15, 40), 684.30)).unwrap();
    store
        .apply_transition(local, &t2, "evaluator")
        .await
        .unwrap();
    store
        .set_notes(
            local,
            qqq.setup.id,
            "fade\u{1b}[31m the \u{202e}gap",
            at(15, 21),
        )
        .await
        .unwrap();
    (spy.setup.id, qqq.setup.id)
}

#[tokio::test]
async fn setups_list_json_is_the_documented_array_newest_first() {
    for db in dbs().await {
        setups_list_json_on(&db).await;
    }
}

async fn setups_list_json_on(db: &Db) {
    let (spy, qqq) = seed(&db.t.store).await;
    let out = coach(db, &["setups", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let list = json.as_array().expect("one array");
    assert_eq!(list.len(), 2, "Bob's setup is not listed");
    assert_eq!(list[0]["id"], qqq, "newest tracked first");
    assert_eq!(list[1]["id"], spy);
    let won = &list[1];
    assert_eq!(
        *won,
        serde_json::json!({
            "id": spy,
            "source_id": won["source_id"],
            "symbol": "SPY",
            "kind": "orb_breakout",
            "direction": "long",
            "entry": 681.25,
            "stop": 679.75,
            "target": 684.25,
            "status": "triggered",
            "outcome": "target_hit",
            // Honest fills: filled at the trade 681.30, out at the trade 684.30,
            // (684.30 − 681.30) / 1.50 = +2 R.
            "fill_price": 681.3,
            "exit_price": 684.3,
            "realised_r": 2.0,
            "multi_day": false,
            "market_date": "2026-11-24",
            "tracked_at": "2026-11-24T15:07:00Z",
            "armed_at": "2026-11-24T15:07:00Z",
            "triggered_at": "2026-11-24T15:09:00Z",
            "invalidated_at": null,
            "archived_at": null,
            "resolved_at": "2026-11-24T15:40:00Z",
            "updated_at": "2026-11-24T15:40:00Z",
            "version": 3,
            "notes": ""
        })
    );
    assert!(won["source_id"].is_i64());
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["outcome"], serde_json::Value::Null);
    assert_eq!(list[0]["realised_r"], serde_json::Value::Null);
    assert_eq!(list[0]["fill_price"], serde_json::Value::Null);
    assert_eq!(list[0]["exit_price"], serde_json::Value::Null);

    let active = coach(db, &["setups", "list", "--status", "active", "--json"]);
    let active: serde_json::Value = serde_json::from_str(&stdout(&active)).unwrap();
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["symbol"], "QQQ");
    let bobs = coach(db, &["setups", "list", "--json", "--user", "bob"]);
    let bobs: serde_json::Value = serde_json::from_str(&stdout(&bobs)).unwrap();
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["symbol"], "IWM");
}

#[tokio::test]
async fn setups_list_prints_a_readable_table_in_new_york_time() {
    for db in dbs().await {
        setups_table_on(&db).await;
    }
}

async fn setups_table_on(db: &Db) {
    seed(&db.t.store).await;
    let out = coach(db, &["setups", "list"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID  SYMBOL  KIND"), "{text}");
    assert!(lines[0].contains("TRACKED (ET)"));
    assert!(
        lines[0].contains("FILL") && lines[0].contains("EXIT"),
        "{text}"
    );
    let spy = lines[2];
    for cell in [
        "SPY",
        "orb_breakout",
        "long",
        "681.25",
        "679.75",
        "684.25",
        "triggered",
        "target_hit",
        "681.30",
        "684.30",
        "+2.00",
        "2026-11-24 10:07",
    ] {
        assert!(spy.contains(cell), "{cell:?} missing from {spy:?}");
    }
    assert!(
        lines[1].contains("fade the gap"),
        "escape sequences and the right-to-left override are stripped: {:?}",
        lines[1]
    );
    assert!(!text.contains('\u{1b}'));
    assert!(!text.contains('\u{202e}'));
    let none = coach(db, &["setups", "list", "--status", "invalidated"]);
    assert_eq!(stdout(&none), "no invalidated setups\n");
}

#[tokio::test]
async fn a_bad_status_or_database_url_exits_2() {
    let db = support::sqlite().await;
    let db = &Db {
        dir: tempfile::tempdir().unwrap(),
        t: db,
    };
    std::fs::write(db.dir.path().join("config.toml"), "").unwrap();
    let out = coach(db, &["setups", "list", "--status", "won"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("'won'"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["setups", "list", "--db", "mysql://root:hunter2@db/x"])
        .env("COACH_CONFIG", db.dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not sqlite"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("hunter2"));
}

/// Issue 22 item 8: the simulation quotes `[sim] symbols` only, so an alert outside them
/// gets no prices there, watched or not, and says how to simulate it.
#[tokio::test]
async fn an_alert_outside_the_simulated_symbols_says_the_simulation_has_no_data_for_it() {
    for db in dbs().await {
        assert!(coach(&db, &["watchlist", "add", "NFLX"]).status.success());
        for (symbol, note) in [
            (
                "ORCL",
                "no data from sim for ORCL (add it to [sim] symbols to simulate it)",
            ),
            (
                "NFLX",
                "no data from sim for NFLX (add it to [sim] symbols to simulate it)",
            ),
        ] {
            let off = coach(&db, &["alerts", "add", symbol, "above", "150"]);
            assert_eq!(off.status.code(), Some(0), "stderr: {}", stderr(&off));
            assert_eq!(
                stderr(&off),
                format!("note: {note}: this alert waits for a feed that quotes it\n")
            );
        }
        let on = coach(&db, &["alerts", "add", "SPY", "above", "700"]);
        assert_eq!((on.status.code(), stderr(&on)), (Some(0), String::new()));
    }
}

/// On a live feed (Massive here; nothing connects) the watchlist and armed alerts are
/// streamed too.
#[tokio::test]
async fn an_alert_on_a_symbol_no_feed_quotes_says_a_running_coach_judges_it_from_its_next_start() {
    for db in dbs().await {
        std::fs::write(
            db.dir.path().join("config.toml"),
            "[general]\nprovider = \"massive\"\n[massive]\napi_key = \"not-a-real-key\"\n",
        )
        .unwrap();
        let off = coach(&db, &["alerts", "add", "ORCL", "above", "150"]);
        assert_eq!(off.status.code(), Some(0), "stderr: {}", stderr(&off));
        assert_eq!(stdout(&off), "1\tORCL\tcrosses above 150.00\tarmed\t-\t\n");
        assert_eq!(
            stderr(&off),
            "note: ORCL is on no feed a coach starts with (configured symbols, default \
             watchlist, armed alerts): a dashboard or `coach serve` already running judges \
             this alert from its next start\n"
        );
        assert!(coach(&db, &["watchlist", "add", "NFLX"]).status.success());
        for quoted in [
            ["SPY", "above", "700"],
            ["NFLX", "below", "90"],
            ["ORCL", "below", "120"],
        ] {
            let on = coach(&db, &[&["alerts", "add"][..], &quoted[..]].concat());
            assert_eq!(on.status.code(), Some(0), "stderr: {}", stderr(&on));
            assert_eq!(
                stderr(&on),
                "",
                "{quoted:?}: configured, watchlist, armed alert"
            );
        }
    }
}

#[tokio::test]
async fn watchlist_show_set_add_remove_and_bad_symbols() {
    for db in dbs().await {
        watchlist_commands_on(&db);
    }
}

fn watchlist_commands_on(db: &Db) {
    let show = coach(db, &["watchlist", "show"]);
    assert_eq!(show.status.code(), Some(0), "stderr: {}", stderr(&show));
    assert_eq!(stdout(&show), "Default: SPX, NDX, SPY, QQQ\n");

    let added = coach(db, &["watchlist", "add", "nvda", " tsla", "SPY"]);
    assert_eq!(stdout(&added), "Default: SPX, NDX, SPY, QQQ, NVDA, TSLA\n");

    let bad = coach(db, &["watchlist", "add", "AAPL", "BRK B"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        stderr(&bad),
        "coach: watchlist entry 2: symbol \"BRK B\" may only contain A-Z, 0-9 and . : ^ -\n"
    );
    assert_eq!(stdout(&bad), "");

    let missing = coach(db, &["watchlist", "remove", "NVDA", "MSFT"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "coach: MSFT is not on the watchlist \"Default\"\n"
    );

    let json = coach(db, &["watchlist", "show", "--json"]);
    assert_eq!(
        stdout(&json),
        "{\"name\":\"Default\",\"symbols\":[\"SPX\",\"NDX\",\"SPY\",\"QQQ\",\"NVDA\",\"TSLA\"]}\n",
        "nothing was saved by the refused commands"
    );

    let removed = coach(db, &["watchlist", "remove", "spx", "NDX"]);
    assert_eq!(stdout(&removed), "Default: SPY, QQQ, NVDA, TSLA\n");
    let set = coach(db, &["watchlist", "set", "iwm", "spy", "IWM"]);
    assert_eq!(set.status.code(), Some(0));
    assert_eq!(stdout(&set), "Default: IWM, SPY\n");
    let too_long = coach(db, &["watchlist", "set", "ABCDEFGHIJKLM"]);
    assert_eq!(too_long.status.code(), Some(2));
    assert!(stderr(&too_long).contains("ABCDEFGHIJKLM"));
    let empty = coach(db, &["watchlist", "set"]);
    assert_eq!(
        empty.status.code(),
        Some(2),
        "at least one symbol is required"
    );
    // Another trader's list is separate.
    let bob = coach(db, &["watchlist", "show", "--user", "bob"]);
    assert_eq!(stdout(&bob), "Default: SPX, NDX, SPY, QQQ\n");
}
