//! `[alerts] desktop = true`: a price alert that fires in the simulated market makes the
//! real dashboard write its OSC 777 and OSC 9 notifications to the terminal, wrapped for
//! tmux passthrough when `$TMUX` is set, without disturbing the frame (SPEC 20).

use std::time::{Duration, Instant};

use crate::support::pty::Tui;

/// The dashboard with a move alert on SPY that fires at the first price (1 % from 1.00),
/// desktop notifications on, and `TMUX` as given (empty: unset).
fn dashboard_with_a_firing_alert(tmux: &str) -> Tui {
    dashboard_sized(tmux, 120, 40)
}

/// `dashboard_with_a_firing_alert` at `cols`×`rows`.
fn dashboard_sized(tmux: &str, cols: u16, rows: u16) -> Tui {
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args([
            "--db", &db, "alerts", "add", "SPY", "move", "1", "--from", "1",
        ])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("COACH_CONFIG")
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    Tui::start_with_env(
        home,
        &["--db", &db],
        cols,
        rows,
        &[("COACH_ALERTS_DESKTOP", "true"), ("TMUX", tmux)],
    )
}

/// Waits until the bytes the terminal received contain `what`.
fn wait_for_bytes(app: &Tui, what: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let raw = app.raw();
        if raw.contains(what) {
            return raw;
        }
        assert!(
            Instant::now() < deadline,
            "{what:?} never written; the screen:\n{}",
            app.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const TITLE: &str = "coach · SPY price alert";

#[test]
fn a_firing_alert_writes_osc_777_and_osc_9_to_the_terminal() {
    let mut app = dashboard_with_a_firing_alert("");
    let start = format!("\x1b]777;notify;{TITLE};alert 1: SPY moves ±1 % at ");
    let raw = wait_for_bytes(&app, &start, Duration::from_secs(40));
    let at = raw.find(&start).unwrap();
    let osc777 = &raw[at..at + raw[at..].find('\x07').unwrap() + 1];
    assert!(osc777.ends_with("\x07"), "{osc777:?}");
    let osc9 = format!("\x1b]9;{TITLE}: alert 1: SPY moves ±1 % at ");
    assert!(
        raw[at..].contains(&osc9),
        "OSC 9 follows OSC 777: {:?}",
        &raw[at..(at + 300).min(raw.len())]
    );
    assert!(!raw.contains("\x1bPtmux;"), "no tmux wrapping outside tmux");
    // The frame is intact: the panes are drawn and no notification text shows on it.
    app.press("2");
    let screen = app.wait_for("▶ 2 Scanner", Duration::from_secs(10));
    assert!(screen.contains("6 Logs"), "{screen}");
    assert!(
        !screen.contains("notify;") && !screen.contains(&format!("{TITLE}:")),
        "{screen}"
    );
    app.send("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn inside_tmux_each_notification_is_wrapped_for_passthrough() {
    let mut app = dashboard_with_a_firing_alert("/tmp/tmux-1000/default,4242,0");
    let start = format!("\x1bPtmux;\x1b\x1b]777;notify;{TITLE};alert 1: SPY moves ±1 % at ");
    let raw = wait_for_bytes(&app, &start, Duration::from_secs(40));
    let at = raw.find(&start).unwrap();
    let wrapped = &raw[at..at + raw[at..].find("\x07\x1b\\").unwrap() + 3];
    assert_eq!(
        wrapped.matches('\x1b').count(),
        4,
        "DCS start, the doubled ESC of the OSC, and ST: {wrapped:?}"
    );
    let osc9 = format!("\x1bPtmux;\x1b\x1b]9;{TITLE}: alert 1: SPY moves ±1 % at ");
    assert!(
        raw[at..].contains(&osc9),
        "{:?}",
        &raw[at..(at + 400).min(raw.len())]
    );
    for (i, _) in raw.match_indices("\x1b]777;notify;") {
        assert!(
            i > 0 && raw.as_bytes()[i - 1] == 0x1b,
            "never sent unwrapped in tmux"
        );
    }
    let screen = app.text();
    assert!(
        screen.contains("6 Logs") && !screen.contains("tmux;"),
        "{screen}"
    );
    app.send("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}

/// `z` on the alert in the Chart's alerts list, then `2`: the snooze is stored for an
/// hour, where the alert dispatcher (of this process, a restart, or `coach serve`)
/// reads it.
#[test]
fn z_then_2_on_a_listed_alert_stores_an_hour_long_snooze() {
    let mut app = dashboard_with_a_firing_alert("");
    app.wait_for("6 Logs", Duration::from_secs(20));
    app.press("8");
    app.press("L");
    app.wait_for("alerts (", Duration::from_secs(15));
    let asked = std::time::SystemTime::now();
    app.press("z");
    app.wait_for(
        "Silence alert 1 on every channel for",
        Duration::from_secs(10),
    );
    app.press("2");
    // The store is the proof (the status line may already show the next alert's words).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("sqlite://{}/coach.db", app.home_path().display());
    let until = runtime.block_on(async {
        let store = coach::store::Store::open(&url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let target = coach::notify::snooze::SnoozeTarget::Alert(1);
            if let Some(until) = store.snoozed_until(target).await.unwrap() {
                return until;
            }
            assert!(
                Instant::now() < deadline,
                "no snooze stored:\n{}",
                app.text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    app.quit();
    let asked: chrono::DateTime<chrono::Utc> = asked.into();
    let hour = until - asked;
    assert!(
        hour > chrono::Duration::minutes(59) && hour < chrono::Duration::minutes(61),
        "{hour}"
    );
}

/// SPEC 20: terminal notifications are written whatever the screen shows, the "too
/// small" screen included.
#[test]
fn the_too_small_screen_still_writes_the_notification() {
    let mut app = dashboard_sized("", 40, 10);
    app.wait_for("too small", Duration::from_secs(20));
    let start = format!("\x1b]777;notify;{TITLE};alert 1: SPY moves ±1 % at ");
    wait_for_bytes(&app, &start, Duration::from_secs(40));
    app.send("q");
    let _ = app.wait_exit(Duration::from_secs(10));
}
