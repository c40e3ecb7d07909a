//! The real binary in a pseudo-terminal: it draws the panes, answers keys, and on `q`
//! exits 0 within 2 s, leaving the alternate screen.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support;

use support::pty::Tui;

/// The real binary at 120×40 with a fresh home and database.
fn start() -> Tui {
    start_in(tempfile::tempdir().unwrap(), &[])
}

/// The real binary at 120×40 with `home` (its database at home/coach.db).
pub(super) fn start_in(home: tempfile::TempDir, extra: &[&str]) -> Tui {
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let args: Vec<&str> = ["--db", db.as_str()]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    Tui::start_in(home, &args, 120, 40)
}

#[test]
fn the_dashboard_starts_answers_keys_and_quits_cleanly() {
    let mut app = start();
    let first = app.wait_for("6 Logs", Duration::from_secs(10));
    for title in ["1 Brief", "2 Scanner", "3 Setups", "4 GEX", "5 Health"] {
        assert!(first.contains(title), "{title} missing:\n{first}");
    }
    app.wait_for("SPY", Duration::from_secs(15));

    app.press("4");
    app.wait_for("▶ 4 GEX", Duration::from_secs(10));
    app.press("2");
    app.wait_for("▶ 2 Scanner", Duration::from_secs(10));
    app.press("?");
    app.wait_for("redraw the screen", Duration::from_secs(10));
    app.press("\x1b");
    app.wait_gone("redraw the screen", Duration::from_secs(10));

    app.send("q");
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    assert!(app.left_alternate_screen());
    assert!(
        app.raw().contains("\x1b[?2026h"),
        "frames are drawn inside synchronized updates"
    );
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_exit_promptly() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let mut app = start();
        app.wait_for("6 Logs", Duration::from_secs(10));
        let pid = app.child.process_id().expect("pid").to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = app.wait_exit(Duration::from_secs(10));
        assert_eq!(status.exit_code(), code, "{signal}");
        assert!(
            app.left_alternate_screen(),
            "{signal}: terminal not restored"
        );
    }
}

/// The Setups pane's first row as the screen shows it (symbol to status): the row two
/// lines under the pane's title, from the pane's left border to its right one.
pub(super) fn setup_row(screen: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let (title_row, line) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.iter().collect::<String>().contains("3 Setups"))
        .expect("the Setups pane");
    let text: String = line.iter().collect();
    let title_col = text[..text.find("3 Setups").unwrap()].chars().count();
    let left = line[..title_col]
        .iter()
        .rposition(|c| *c == '┌')
        .expect("its border");
    lines
        .get(title_row + 2)
        .map(|row| {
            row[left + 1..]
                .iter()
                .take_while(|c| **c != '│')
                .collect::<String>()
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

#[test]
fn a_tracked_setup_survives_invalidate_archive_reopen_and_a_restart() {
    let mut app = start_in(tempfile::tempdir().unwrap(), &["--speed", "30"]);
    app.wait_for("Scr Sym", Duration::from_secs(40));
    // Wait for a detection (signals like "at PDH" rank alongside but cannot be tracked).
    let kinds = [
        "ORB", "brk-rtst", "vwap-", "gap-fill", "vol-clmx", "lvl-test", "gamma-sq", "open-drv",
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    while !kinds.iter().any(|k| app.text().contains(k)) {
        assert!(
            Instant::now() < deadline,
            "no detection appeared:\n{}",
            app.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Before the open the Brief has focus; rows 0-3 of the Scanner are the watchlist:
    // walk down the opportunities until one is tracked.
    app.press("2");
    app.press("jjjj");
    for _ in 0..12 {
        app.press("t");
        if app.text().contains("all (1)") {
            break;
        }
        app.press("j");
    }
    app.wait_for("all (1)", Duration::from_secs(15));
    app.press("3");
    // The evaluator may invalidate it first (its stop already traded); either way it ends
    // invalidated, then the trader archives and reopens it.
    app.press("i");
    app.wait_for("invalid", Duration::from_secs(15));
    app.press("a");
    app.wait_for("archived", Duration::from_secs(15));
    app.press("o");
    app.wait_for("(reopen)", Duration::from_secs(15));
    let before = setup_row(&app.text());
    assert!(
        before.ends_with("active"),
        "the reopened setup's row: {before:?}"
    );
    let home = app.quit();

    let mut again = start_in(home, &["--speed", "30"]);
    again.wait_for("6 Logs", Duration::from_secs(10));
    // The setup keys need the market clock: wait for the feed's first snapshot (the
    // header says "waiting for market data" until then).
    again.wait_gone("waiting for market data", Duration::from_secs(20));
    again.press("3");
    let screen = again.wait_for("all (1)", Duration::from_secs(15));
    let after = setup_row(&screen);
    // The age column moves with the restarted market clock; the rest must match.
    let plan = |row: &str| {
        row.rsplit_once(' ')
            .map(|(p, _)| p.trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(plan(&after), plan(&before), "the setup after the restart");
    // The setups are read before the market's first snapshot; details need its clock.
    again.wait_gone("waiting for market data", Duration::from_secs(10));
    again.press("\r");
    // "reopen" is also a footer hint of the Setups pane: wait for a journal-only word
    let details = again.wait_for("manual_archive", Duration::from_secs(15));
    for step in ["tracked", "→ invalidated", "manual_archive", "reopen"] {
        assert!(
            details.contains(step),
            "{step} missing from the journal:\n{details}"
        );
    }
    again.press("\x1b");
    again.quit();
}

/// The Coach pane on a local OpenAI-compatible server: `c` on a tracked setup asks the
/// follow-up with that setup's facts, the model reads the setups through a tool call, and
/// the flip question is answered with the numbers of the live GEX profile.
#[test]
fn the_coach_answers_a_follow_up_on_a_tracked_setup_and_the_flip_question() {
    use coach::domain::{Detection, Direction, SetupKind, Symbol};
    use support::chat_server::{Reply, Script, last_tool_result, serve, text_answer, tool_call};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let home = tempfile::tempdir().unwrap();
    // A setup the trader tracked earlier today.
    let setup_id = runtime.block_on(async {
        let url = format!("sqlite://{}/coach.db", home.path().display());
        let store = coach::store::Store::open(&url).await.unwrap();
        let now = chrono::Utc::now();
        let user = store.ensure_user("local", now).await.unwrap();
        let detection = Detection {
            symbol: Symbol::parse("SPY").unwrap(),
            kind: SetupKind::BreakRetest,
            direction: Direction::Long,
            confidence: 83,
            entry: 700.24,
            stop: 698.24,
            target: 703.24,
            detected_at: now,
            bar_time: now,
            market_date: coach::market::calendar::ny_date(now),
            dedup_key: "e2e-coach".into(),
            rationale: "Broke above 700 and held the retest.".into(),
            gex: None,
        };
        let (id, _) = store.insert_detection(&detection).await.unwrap();
        let stored = coach::store::StoredDetection { id, detection };
        let tracked = store.track(user, &stored, false, now).await.unwrap();
        store.close().await;
        tracked.row().setup.id
    });
    let script = Arc::new(Script::default());
    let url = runtime.block_on(serve(script.clone()));
    let flip_answer = Arc::new(Mutex::new(String::new()));
    script.then(move |request| {
        let question = request["messages"].as_array().unwrap().last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            question.contains(&format!(
                "Tracked setup id {setup_id}: SPY break_retest long"
            )),
            "{question}"
        );
        Reply::Sse(tool_call(
            "c1",
            "list_tracked_setups",
            &["{\"status\":\"all\"}"],
        ))
    });
    script.then(|request| {
        let setups = last_tool_result(request);
        let s = &setups["setups"][0];
        let text = format!(
            "Setup {} is {}, entry {}.",
            s["id"],
            s["status"].as_str().unwrap(),
            s["entry"]
        );
        Reply::Sse(text_answer(&[&text]))
    });
    script.then(|_| {
        Reply::Sse(tool_call(
            "c2",
            "get_gamma_exposure",
            &["{\"symbol\":", "\"SPX\"}"],
        ))
    });
    let composed = flip_answer.clone();
    script.then(move |request| {
        let r = last_tool_result(request);
        let text = format!(
            "SPX flip {:.2}, spot {:.2}, {:+.2} points from it.",
            r["zero_gamma_flip"]["price"].as_f64().unwrap(),
            r["spot"].as_f64().unwrap(),
            r["zero_gamma_flip"]["spot_minus_flip"].as_f64().unwrap(),
        );
        *composed.lock().unwrap() = text.clone();
        Reply::Sse(text_answer(&[&text]))
    });
    let config_dir = home.path().join("config").join("coach");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!("[llm]\nbase_url = \"{url}\"\nmodel = \"test-model\"\n"),
    )
    .unwrap();

    let mut app = start_in(home, &["--speed", "30"]);
    app.wait_for("6 Logs", Duration::from_secs(10));
    app.press("3");
    app.wait_for("all (1)", Duration::from_secs(15));
    app.press("c");
    app.wait_for("▶ 7 Coach", Duration::from_secs(10));
    app.wait_for("what would you watch now?", Duration::from_secs(10));
    app.press("\r");
    app.wait_for("⚙ list_tracked_setups", Duration::from_secs(10));
    app.wait_for(&format!("Setup {setup_id} is "), Duration::from_secs(10));

    app.press("where is the SPX flip and how far is price from it?\r");
    app.wait_for("⚙ get_gamma_exposure", Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(20);
    while flip_answer.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the flip question never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let answer = flip_answer.lock().unwrap().clone();
    // The answer wraps in the pane; its numbers fit on the first line.
    let numbers = &answer[..answer.find(" points").unwrap()];
    app.wait_for(numbers, Duration::from_secs(10));
    assert_eq!(script.requests().len(), 4);
    app.press("\x1b");
    app.quit();
}

#[test]
fn a_tracked_setup_shows_on_the_chart_and_capital_a_stores_an_alert_at_its_entry() {
    let mut app = start_in(tempfile::tempdir().unwrap(), &["--speed", "30"]);
    app.wait_for("Scr Sym", Duration::from_secs(40));
    let kinds = [
        "ORB", "brk-rtst", "vwap-", "gap-fill", "vol-clmx", "lvl-test", "gamma-sq", "open-drv",
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    while !kinds.iter().any(|k| app.text().contains(k)) {
        assert!(
            Instant::now() < deadline,
            "no detection appeared:\n{}",
            app.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Before the open the Brief has focus; rows 0-3 of the Scanner are the watchlist.
    app.press("2");
    app.press("jjjj");
    for _ in 0..12 {
        app.press("t");
        if app.text().contains("all (1)") {
            break;
        }
        app.press("j");
    }
    app.wait_for("all (1)", Duration::from_secs(15));
    // Selecting the setup focuses its symbol; the Chart draws its plan.
    app.press("3");
    app.press("k");
    app.press("8");
    app.wait_for("E/S/T setup #1", Duration::from_secs(10));
    app.press("A");
    let editor = app.wait_for("Price alert on", Duration::from_secs(15));
    assert!(
        editor.contains("setup #1 entry"),
        "prefilled with the entry:\n{editor}"
    );
    app.press("\r");
    // "alert 1 set", or already its firing when the ×30 market crosses the entry at once.
    app.wait_for("alert 1", Duration::from_secs(15));
    app.press("L");
    app.wait_for("alerts (", Duration::from_secs(15));
    let home = app.quit();

    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args([
            "--db",
            &format!("sqlite://{}/coach.db", home.path().display()),
            "alerts",
            "list",
        ])
        .env("HOME", home.path())
        .env_remove("COACH_CONFIG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{listed:?}");
    assert!(
        text.lines().nth(1).is_some_and(|l| l.starts_with("1\t"))
            && text.contains("setup #1 entry"),
        "the alert is stored:\n{text}"
    );
}

#[test]
fn before_the_simulated_open_the_brief_pane_comes_first_with_a_complete_brief() {
    let mut app = start();
    // the demo starts five simulated minutes before the open
    let first = app.wait_for("Morning brief", Duration::from_secs(15));
    assert!(
        first.contains("▶ 1 Brief"),
        "the Brief pane has focus:\n{first}"
    );
    assert!(first.contains("opens in"), "{first}");
    assert!(!first.contains("not available: last price"), "{first}");
    // j scrolls down to the first symbol's levels
    let mut presses = 0;
    while !app.text().contains("pivots R2") {
        presses += 1;
        assert!(presses < 40, "no pivots after scrolling:\n{}", app.text());
        app.press("j");
    }
    let scrolled = app.text();
    assert!(scrolled.contains("PDC"), "{scrolled}");
    assert!(
        !scrolled.contains("Morning brief"),
        "scrolled past the heading:\n{scrolled}"
    );
    // r regenerates: generated_at moves with the simulated clock (a minute a second)
    let at = first
        .find("generated ")
        .expect("the generation time is shown");
    let stamp = first[at..]
        .lines()
        .next()
        .unwrap()
        .trim_end_matches([' ', '│'])
        .to_string();
    std::thread::sleep(Duration::from_millis(1200));
    app.press("r");
    app.press("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    app.wait_for("generated ", Duration::from_secs(15));
    app.wait_gone(&stamp, Duration::from_secs(15));
    app.quit();
}

#[test]
fn list_keys_reach_both_ends_and_a_message_fades_at_80_by_24() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let mut app = Tui::start_in(home, &["--db", db.as_str()], 80, 24);
    // the first snapshot (a price in the header) picks the first pane: then the Scanner
    app.wait_for("◆ SPX 6", Duration::from_secs(15));
    app.press("2");
    app.wait_for("▶ 2 Scanner", Duration::from_secs(15));
    app.press("j");
    app.wait_for("◆ NDX", Duration::from_secs(10));
    app.press("g");
    app.wait_for("◆ SPX", Duration::from_secs(10));
    // The help does not fit 80×24: End and G reach its notes, Home and g its top.
    app.press("?");
    app.wait_for("Help · lines 1-22", Duration::from_secs(10));
    app.press("\x1b[F");
    app.wait_for("[keys] section", Duration::from_secs(10));
    app.press("\x1b[H");
    app.wait_gone("[keys] section", Duration::from_secs(10));
    app.press("G");
    app.wait_for("[keys] section", Duration::from_secs(10));
    app.press("g");
    app.wait_gone("[keys] section", Duration::from_secs(10));
    app.press("\x1b");
    // A message fades by itself, with no key pressed.
    app.press("w");
    app.press("\x1b");
    app.wait_for("✓ watchlist unchanged", Duration::from_secs(10));
    app.wait_gone("✓ watchlist unchanged", Duration::from_secs(15));
    app.send("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn help_and_quit_work_on_the_too_small_screen() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let mut app = Tui::start_in(home, &["--db", db.as_str()], 60, 20);
    app.wait_for("? help · q quits", Duration::from_secs(15));
    app.press("?");
    app.wait_for("move down", Duration::from_secs(10));
    app.press("q");
    app.wait_gone("move down", Duration::from_secs(10));
    app.send("q");
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    assert!(app.left_alternate_screen());
}

#[test]
fn after_the_close_the_scanner_lists_no_opportunities_and_says_why() {
    // the whole simulated session passes in about seven seconds
    let mut app = start_in(tempfile::tempdir().unwrap(), &["--speed", "3600"]);
    app.wait_for("6 Logs", Duration::from_secs(40));
    app.press("2");
    let closed = app.wait_for("The session is closed", Duration::from_secs(60));
    assert!(closed.contains("0 plans · 0 ○ heads-up"), "{closed}");
    app.send("q");
    app.wait_exit(Duration::from_secs(10));
}

/// `home/bars` with two small minute files of Friday 2024-03-08's open, AAA and BBB.
fn two_bar_files(home: &std::path::Path) -> String {
    let dir = home.join("bars");
    std::fs::create_dir_all(&dir).unwrap();
    for (symbol, base) in [("AAA", 41.0), ("BBB", 87.0)] {
        let mut text = String::from("timestamp,open,high,low,close,volume\n");
        for minute in 0..30 {
            let open = base + f64::from(minute) * 0.05;
            text.push_str(&format!(
                "2024-03-08 09:{:02}:00,{open:.2},{:.2},{:.2},{:.2},{}\n",
                30 + minute,
                open + 0.10,
                open - 0.05,
                open + 0.05,
                1000 + minute * 10
            ));
        }
        std::fs::write(dir.join(format!("{symbol}_1min.csv")), text).unwrap();
    }
    dir.display().to_string()
}

/// Whether a Scanner row starts with `symbol` (the Scanner box follows the Brief's).
fn scanner_row(screen: &str, symbol: &str) -> bool {
    screen
        .lines()
        .filter_map(|line| line.split("││").nth(1))
        .any(|cell| cell.starts_with(&format!("{symbol} ")))
}

/// `coach --db DB ARGS` (a headless command) in `home`; its standard output.
pub(super) fn coach_in(home: &std::path::Path, args: &[&str]) -> String {
    let db = format!("sqlite://{}/coach.db", home.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["--db", db.as_str()])
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("COACH_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "coach {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bars_alone_watch_the_files_symbols_and_a_watchlist_the_trader_set_wins() {
    let home = tempfile::tempdir().unwrap();
    let bars = two_bar_files(home.path());

    // A new trader has only the built-in default: the files' symbols are watched, the
    // focus is on the first of them, and the header names the replay.
    let mut app = start_in(home, &["--bars", bars.as_str()]);
    app.wait_for("◆ AAA", Duration::from_secs(15));
    app.press("2");
    let screen = app.wait_for("▶ 2 Scanner", Duration::from_secs(10));
    assert!(
        screen.contains("replay ×"),
        "the header says replay:\n{screen}"
    );
    // The Scanner's title counts the watched symbols; its rows name them (the Brief
    // beside it is built for the stored watchlist, so SPX may show there).
    assert!(
        screen.contains("2 Scanner · 2 watched")
            && scanner_row(&screen, "AAA")
            && scanner_row(&screen, "BBB"),
        "the Scanner watches AAA and BBB only:\n{screen}"
    );
    let home = app.quit();
    // What the screen watched was not saved over the trader's watchlist.
    let stored = coach_in(home.path(), &["watchlist", "show", "--json"]);
    assert!(
        stored.contains("SPX") && !stored.contains("AAA"),
        "the stored watchlist is untouched: {stored}"
    );

    // The trader's own watchlist wins; the focus starts on its first symbol with bars.
    coach_in(home.path(), &["watchlist", "set", "QQQ", "BBB"]);
    let mut app = start_in(home, &["--bars", bars.as_str()]);
    app.wait_for("◆ BBB", Duration::from_secs(15));
    app.press("2");
    let screen = app.wait_for("▶ 2 Scanner", Duration::from_secs(10));
    assert!(
        screen.contains("2 Scanner · 2 watched")
            && scanner_row(&screen, "QQQ")
            && scanner_row(&screen, "BBB")
            && !scanner_row(&screen, "AAA"),
        "the trader's QQQ BBB is watched, not the files' AAA:\n{screen}"
    );
    // QQQ has no bars in the files: its row says so (issue 22 item 8).
    assert!(
        screen
            .lines()
            .filter_map(|line| line.split("││").nth(1))
            .any(|cell| cell.starts_with("QQQ ") && cell.contains("no data")),
        "QQQ reads no data:\n{screen}"
    );
    app.quit();
}

/// `9` opens Stats; `]` shows the Journal the dashboard read from the store at start: a
/// SPY ORB long 100 / 99 / 102 filled at 100 and out at 102 (+2 R), and one stopped at
/// 98.80 (−1.2 R).
#[test]
fn nine_opens_stats_whose_journal_tab_shows_the_stored_journal() {
    let home = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/coach.db", home.path().display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use coach::domain::{Detection, Direction, SetupKind, Symbol};
        use coach::setups::{PriceUpdate, evaluate};
        use coach::store::{Store, StoredDetection};
        let store = Store::open(&url).await.unwrap();
        let at = |m: i64| chrono::Utc::now() - chrono::Duration::minutes(60 - m);
        let user = store.ensure_user("local", at(0)).await.unwrap();
        for (n, exit) in [(0, 102.0), (1, 98.8)] {
            let d = Detection {
                gex: None,
                symbol: Symbol::parse("SPY").unwrap(),
                kind: SetupKind::OrbBreakout,
                direction: Direction::Long,
                confidence: 72,
                entry: 100.0,
                stop: 99.0,
                target: 102.0,
                detected_at: at(n * 10),
                bar_time: at(n * 10),
                market_date: coach::market::calendar::ny_date(at(n * 10)),
                dedup_key: format!("pty-{n}"),
                rationale: "test".into(),
            };
            let (id, _) = store.insert_detection(&d).await.unwrap();
            let mut row = store
                .track(
                    user,
                    &StoredDetection { id, detection: d },
                    false,
                    at(n * 10 + 1),
                )
                .await
                .unwrap()
                .into_row();
            for (m, price) in [(2, 100.0), (3, exit)] {
                let step = evaluate(&row.setup, &PriceUpdate::trade(at(n * 10 + m), price));
                row = store
                    .apply_transition(user, &step.unwrap(), "evaluator")
                    .await
                    .unwrap();
            }
        }
        store.close().await;
    });
    let mut app = start_in(home, &[]);
    app.wait_for("6 Logs", Duration::from_secs(10));
    app.press("9");
    app.wait_for("▶ 9 Stats · Backtest", Duration::from_secs(10));
    app.wait_for("run coach backtest --store", Duration::from_secs(10));
    app.press("]");
    let screen = app.wait_for("win 50% of 2", Duration::from_secs(15));
    assert!(screen.contains("orb_breakout"), "{screen}");
    assert!(
        screen.contains("avg R +0.40 over 2"),
        "(2 − 1.2) / 2:\n{screen}"
    );
    app.quit();
}
