//! The terminal is restored on every way out (SPEC 11): an external `kill -INT` leaves the
//! alternate screen, shows the cursor and exits 130; a pseudo-terminal closed under the
//! dashboard (an SSH drop) ends it with status 129, never a panic or an abort, its
//! database closed.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::support;

use support::pty::Tui;

const LEAVE_ALTERNATE_SCREEN: &str = "\x1b[?1049l";
const ENTER_ALTERNATE_SCREEN: &str = "\x1b[?1049h";
const SHOW_CURSOR: &str = "\x1b[?25h";
const HIDE_CURSOR: &str = "\x1b[?25l";

#[test]
fn an_external_sigint_restores_the_terminal_and_exits_130() {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let mut app = Tui::start_in(home, &["--db", &db], 120, 40);
    app.wait_for("6 Logs", Duration::from_secs(10));
    assert!(
        !app.raw().contains(LEAVE_ALTERNATE_SCREEN),
        "the dashboard is running full-screen before the signal"
    );

    let pid = app.child.process_id().expect("pid").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = app.wait_exit(Duration::from_secs(10));

    assert_eq!(status.signal(), None, "ended by a signal: {status:?}");
    assert_eq!(
        status.exit_code(),
        130,
        "128 + SIGINT, as a shell reports it"
    );
    let raw = app.raw();
    // Every frame hides the cursor; what counts is the last word on each mode.
    assert!(
        raw.rfind(LEAVE_ALTERNATE_SCREEN) > raw.rfind(ENTER_ALTERNATE_SCREEN),
        "the alternate screen is still on"
    );
    assert!(
        raw.rfind(SHOW_CURSOR) > raw.rfind(HIDE_CURSOR),
        "the cursor is still hidden"
    );
}

#[test]
fn a_closed_pseudo_terminal_ends_the_dashboard_with_129_and_its_database_closed() {
    let home = tempfile::tempdir().unwrap();
    let db_file = home.path().join("coach.db");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_coach"));
    cmd.args(["--db", &format!("sqlite://{}", db_file.display())]);
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env("XDG_DATA_HOME", home.path().join("data"));
    cmd.env_remove("COACH_CONFIG");
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);

    // The reader holds a copy of the master: the terminal hangs up only once it is
    // closed too, which the reader does after the first read that follows `hang_up`
    // (the dashboard redraws at least once a second).
    let mut reader = pair.master.try_clone_reader().unwrap();
    let hang_up = Arc::new(AtomicBool::new(false));
    let (drawn_tx, drawn) = mpsc::channel();
    let hung = hang_up.clone();
    std::thread::spawn(move || {
        let mut screen = vt100::Parser::new(40, 120, 0);
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || hung.load(Ordering::SeqCst) {
                break;
            }
            screen.process(&buf[..n]);
            if screen.screen().contents().contains("6 Logs") {
                let _sent = drawn_tx.send(());
            }
        }
    });
    drawn
        .recv_timeout(Duration::from_secs(10))
        .expect("the dashboard drew its panes");

    hang_up.store(true, Ordering::SeqCst);
    drop(pair.master);

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _killed = child.kill();
            panic!("coach still running 15 s after its terminal closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    assert_eq!(
        status.signal(),
        None,
        "a panic or an abort is not a way out: {status:?}"
    );
    assert_eq!(
        status.exit_code(),
        129,
        "128 + SIGHUP, as the hang-up reports it"
    );
    // SQLite folds its write-ahead log back and removes it on a clean close only.
    assert!(db_file.exists(), "the database was created");
    assert!(
        !home.path().join("coach.db-wal").exists(),
        "the database was not closed"
    );
}
