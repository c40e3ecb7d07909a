//! The real binary in a pseudo-terminal: it draws the panes, answers keys, and on `q`
//! exits 0 within 2 s, leaving the alternate screen.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if text.contains(what) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{what:?} never appeared; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_until_gone(&self, what: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.text().contains(what) {
            assert!(
                Instant::now() < deadline,
                "{what:?} is still on screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

struct Running {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    screen: Screen,
    keys: Box<dyn Write + Send>,
    /// Kept open: the child sees a hang-up when the master closes.
    _master: Box<dyn portable_pty::MasterPty + Send>,
    _home: tempfile::TempDir,
}

/// Starts the real binary at 120×40 with a fresh home and database.
fn start() -> Running {
    start_in(tempfile::tempdir().unwrap(), &[])
}

/// Starts the real binary at 120×40 with `home` (its database at home/coach.db).
fn start_in(home: tempfile::TempDir, extra: &[&str]) -> Running {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_coach"));
    cmd.args([
        "--db",
        &format!("sqlite://{}/coach.db", home.path().display()),
    ]);
    cmd.args(extra);
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env("XDG_DATA_HOME", home.path().join("data"));
    cmd.env_remove("COACH_CONFIG");
    cmd.env("TERM", "xterm-256color");
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);

    let screen = Screen {
        parser: Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0))),
        raw: Arc::new(Mutex::new(Vec::new())),
    };
    let mut reader = pair.master.try_clone_reader().unwrap();
    let (parser, raw) = (screen.parser.clone(), screen.raw.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            parser.lock().unwrap().process(&buf[..n]);
            raw.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let keys = pair.master.take_writer().unwrap();
    Running {
        child,
        screen,
        keys,
        _master: pair.master,
        _home: home,
    }
}

impl Running {
    fn wait_exit(&mut self, within: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("coach did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn left_alternate_screen(&self) -> bool {
        let raw = self.screen.raw.lock().unwrap();
        let text = String::from_utf8_lossy(&raw);
        match (text.find("\x1b[?1049h"), text.rfind("\x1b[?1049l")) {
            (Some(entered), Some(left)) => left > entered,
            _ => false,
        }
    }
}

#[test]
fn the_dashboard_starts_answers_keys_and_quits_cleanly() {
    let mut app = start();
    let (screen, keys) = (&app.screen, &mut app.keys);
    let first = screen.wait_for("6 Logs", Duration::from_secs(10));
    for title in ["1 Brief", "2 Scanner", "3 Setups", "4 GEX", "5 Health"] {
        assert!(first.contains(title), "{title} missing:\n{first}");
    }
    screen.wait_for("SPY", Duration::from_secs(5));

    keys.write_all(b"4").unwrap();
    screen.wait_for("▶ 4 GEX", Duration::from_secs(2));
    keys.write_all(b"2").unwrap();
    screen.wait_for("▶ 2 Scanner", Duration::from_secs(2));
    keys.write_all(b"?").unwrap();
    screen.wait_for("redraw the screen", Duration::from_secs(2));
    keys.write_all(b"\x1b").unwrap();
    screen.wait_until_gone("redraw the screen", Duration::from_secs(2));

    keys.write_all(b"q").unwrap();
    let status = app.wait_exit(Duration::from_secs(2));
    assert!(status.success(), "exit status {status:?}");
    assert!(app.left_alternate_screen());
    let raw = app.screen.raw.lock().unwrap();
    assert!(
        String::from_utf8_lossy(&raw).contains("\x1b[?2026h"),
        "frames are drawn inside synchronized updates"
    );
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_exit_promptly() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let mut app = start();
        app.screen.wait_for("6 Logs", Duration::from_secs(10));
        let pid = app.child.process_id().expect("pid").to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = app.wait_exit(Duration::from_secs(2));
        assert_eq!(status.exit_code(), code, "{signal}");
        assert!(
            app.left_alternate_screen(),
            "{signal}: terminal not restored"
        );
    }
}

impl Running {
    fn press(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// `q`, answering `y` when coach asks because setups are active.
    fn quit(mut self) -> tempfile::TempDir {
        self.press("q");
        std::thread::sleep(Duration::from_millis(200));
        if self.screen.text().contains("still active") {
            self.press("y");
        }
        let status = self.wait_exit(Duration::from_secs(3));
        assert!(status.success(), "{status:?}");
        self._home
    }
}

/// The Setups pane's first row as the screen shows it (symbol to status): the row two
/// lines under the pane's title, from the pane's left border to its right one.
fn setup_row(screen: &str) -> String {
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
    app.screen.wait_for("Scr Sym", Duration::from_secs(40));
    // Wait for a detection (signals like "at PDH" rank alongside but cannot be tracked).
    let kinds = [
        "ORB", "brk-rtst", "vwap-", "gap-fill", "vol-clmx", "lvl-test", "gamma-sq", "open-drv",
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    while !kinds.iter().any(|k| app.screen.text().contains(k)) {
        assert!(
            Instant::now() < deadline,
            "no detection appeared:\n{}",
            app.screen.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Before the open the Brief has focus; rows 0-3 of the Scanner are the watchlist:
    // walk down the opportunities until one is tracked.
    app.press("2");
    app.press("jjjj");
    for _ in 0..12 {
        app.press("t");
        if app.screen.text().contains("all (1)") {
            break;
        }
        app.press("j");
    }
    app.screen.wait_for("all (1)", Duration::from_secs(5));
    app.press("3");
    // The evaluator may invalidate it first (its stop already traded); either way it ends
    // invalidated, then the trader archives and reopens it.
    app.press("i");
    app.screen.wait_for("invalid", Duration::from_secs(5));
    app.press("a");
    app.screen.wait_for("archived", Duration::from_secs(5));
    app.press("o");
    app.screen.wait_for("(reopen)", Duration::from_secs(5));
    let before = setup_row(&app.screen.text());
    assert!(
        before.ends_with("active"),
        "the reopened setup's row: {before:?}"
    );
    let home = app.quit();

    let mut again = start_in(home, &["--speed", "30"]);
    again.screen.wait_for("6 Logs", Duration::from_secs(10));
    // The setup keys need the market clock: wait for the feed's first snapshot (the
    // header says "waiting for market data" until then).
    again
        .screen
        .wait_until_gone("waiting for market data", Duration::from_secs(20));
    again.press("3");
    let screen = again.screen.wait_for("all (1)", Duration::from_secs(5));
    let after = setup_row(&screen);
    // The age column moves with the restarted market clock; the rest must match.
    let plan = |row: &str| {
        row.rsplit_once(' ')
            .map(|(p, _)| p.trim().to_string())
            .unwrap_or_default()
    };
    assert_eq!(plan(&after), plan(&before), "the setup after the restart");
    again.press("\r");
    // "reopen" is also a footer hint of the Setups pane: wait for a journal-only word
    let details = again
        .screen
        .wait_for("manual_archive", Duration::from_secs(5));
    for step in ["tracked", "→ invalidated", "manual_archive", "reopen"] {
        assert!(
            details.contains(step),
            "{step} missing from the journal:\n{details}"
        );
    }
    again.press("\x1b");
    again.quit();
}

#[test]
fn a_tracked_setup_shows_on_the_chart_and_capital_a_stores_an_alert_at_its_entry() {
    let mut app = start_in(tempfile::tempdir().unwrap(), &["--speed", "30"]);
    app.screen.wait_for("Scr Sym", Duration::from_secs(40));
    let kinds = [
        "ORB", "brk-rtst", "vwap-", "gap-fill", "vol-clmx", "lvl-test", "gamma-sq", "open-drv",
    ];
    let deadline = Instant::now() + Duration::from_secs(40);
    while !kinds.iter().any(|k| app.screen.text().contains(k)) {
        assert!(
            Instant::now() < deadline,
            "no detection appeared:\n{}",
            app.screen.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Before the open the Brief has focus; rows 0-3 of the Scanner are the watchlist.
    app.press("2");
    app.press("jjjj");
    for _ in 0..12 {
        app.press("t");
        if app.screen.text().contains("all (1)") {
            break;
        }
        app.press("j");
    }
    app.screen.wait_for("all (1)", Duration::from_secs(5));
    // Selecting the setup focuses its symbol; the Chart draws its plan.
    app.press("3");
    app.press("k");
    app.press("8");
    app.screen
        .wait_for("E/S/T setup #1", Duration::from_secs(10));
    app.press("A");
    let editor = app
        .screen
        .wait_for("Price alert on", Duration::from_secs(5));
    assert!(
        editor.contains("setup #1 entry"),
        "prefilled with the entry:\n{editor}"
    );
    app.press("\r");
    // "alert 1 set", or already its firing when the ×30 market crosses the entry at once.
    app.screen.wait_for("alert 1", Duration::from_secs(5));
    app.press("L");
    app.screen.wait_for("alerts (", Duration::from_secs(5));
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
        text.starts_with("1\t") && text.contains("setup #1 entry"),
        "the alert is stored:\n{text}"
    );
}

#[test]
fn before_the_simulated_open_the_brief_pane_comes_first_with_a_complete_brief() {
    let mut app = start();
    // the demo starts five simulated minutes before the open
    let first = app
        .screen
        .wait_for("Morning brief", Duration::from_secs(15));
    assert!(
        first.contains("▶ 1 Brief"),
        "the Brief pane has focus:\n{first}"
    );
    assert!(first.contains("opens in"), "{first}");
    assert!(!first.contains("not available: last price"), "{first}");
    // j scrolls down to the first symbol's levels
    let mut presses = 0;
    while !app.screen.text().contains("pivots R2") {
        presses += 1;
        assert!(
            presses < 40,
            "no pivots after scrolling:\n{}",
            app.screen.text()
        );
        app.press("j");
    }
    let scrolled = app.screen.text();
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
    app.screen.wait_for("generated ", Duration::from_secs(5));
    app.screen.wait_until_gone(&stamp, Duration::from_secs(5));
    app.quit();
}
