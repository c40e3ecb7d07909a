//! The keys a terminal user expects (issue 22, item 7): first/last and half-page moves in
//! every list and the brief, the brief stopping at its end, the help scrolling, `?` and
//! `q` on the "too small" screen, and the status line's fade.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::runtime::health::{WorkerRecord, WorkerState};
use crate::tui::panes::test_support::{full_app, pane_screen, worker};
use crate::tui::selection::HALF_PAGE;

fn press(a: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Effect> {
    a.on_key(&KeyEvent::new(code, modifiers))
}

fn char_key(a: &mut App, c: char) -> Vec<Effect> {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    press(a, KeyCode::Char(c), modifiers)
}

fn workers(n: usize) -> Vec<WorkerRecord> {
    (0..n)
        .map(|i| worker(&format!("worker{i:02}"), WorkerState::Running, None))
        .collect()
}

#[test]
fn big_g_goes_to_the_last_row_and_g_back_to_the_first_in_the_scanner() {
    let mut a = full_app();
    a.update(Action::FocusScanner);
    let rows = a.market().watchlist.len() + a.opportunity_rows().len();
    assert!(rows > 4, "watchlist and opportunities: {rows} rows");
    char_key(&mut a, 'G');
    assert_eq!(a.selected(PaneId::Scanner), rows - 1);
    char_key(&mut a, 'g');
    assert_eq!(a.selected(PaneId::Scanner), 0);
    press(&mut a, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(a.selected(PaneId::Scanner), rows - 1);
    press(&mut a, KeyCode::Home, KeyModifiers::NONE);
    assert_eq!(a.selected(PaneId::Scanner), 0);
}

#[test]
fn half_page_keys_move_half_a_page_in_health_and_stop_at_the_ends() {
    let mut a = full_app();
    a.on_health(workers(20));
    a.update(Action::FocusHealth);
    press(&mut a, KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(a.selected(PaneId::Health), HALF_PAGE);
    press(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
    assert_eq!(a.selected(PaneId::Health), 2 * HALF_PAGE);
    press(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
    assert_eq!(
        a.selected(PaneId::Health),
        19,
        "the last worker, no further"
    );
    press(&mut a, KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(a.selected(PaneId::Health), 19 - HALF_PAGE);
    press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
    press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
    assert_eq!(a.selected(PaneId::Health), 0);
    assert!(
        a.status().is_none_or(|s| !s.is_error),
        "no key was refused: {:?}",
        a.status()
    );
}

#[test]
fn first_and_last_work_in_setups_and_the_alerts_list() {
    let mut a = full_app();
    a.update(Action::FocusSetups);
    char_key(&mut a, 'G');
    assert_eq!(a.selected(PaneId::Setups), 1, "two tracked setups");
    char_key(&mut a, 'g');
    assert_eq!(a.selected(PaneId::Setups), 0);
    a.update(Action::AlertsView);
    assert_eq!(a.focus(), PaneId::Chart);
    let mut more = a.panes.chart.alerts[0].clone();
    more.id = 4;
    a.panes.chart.alerts.push(more);
    char_key(&mut a, 'G');
    assert_eq!(a.selected(PaneId::Chart), 1);
    char_key(&mut a, 'g');
    assert_eq!(a.selected(PaneId::Chart), 0);
}

#[test]
fn the_brief_stops_scrolling_when_its_end_is_at_the_bottom() {
    let mut a = full_app();
    let calendar = crate::brief::EconCalendar::shipped();
    let now = crate::tui::panes::test_support::market_time();
    let symbols: Vec<crate::brief::SymbolInput> = ["SPY", "QQQ", "AAPL"]
        .iter()
        .map(|s| crate::brief::SymbolInput::new(Symbol::parse(s).unwrap()))
        .collect();
    let brief = crate::brief::build(&crate::brief::BriefInputs {
        now,
        market_date: now.date_naive(),
        watchlist: "Tech".into(),
        symbols: &symbols,
        calendar: &calendar,
        positions: &[],
        setups: &[],
    })
    .unwrap();
    let lines = crate::brief::render::text_lines(&brief).len();
    a.on_event(AppEvent::Brief {
        brief: std::sync::Arc::new(brief),
        preview: false,
    });
    a.update(Action::FocusBrief);
    let before = pane_screen(&a, PaneId::Brief, 80, 24);
    assert!(
        lines > 22,
        "the brief is longer than the pane: {lines} lines"
    );
    char_key(&mut a, 'G');
    let end = a.selected(PaneId::Brief);
    assert!(
        end > 0 && end < lines - 1,
        "stops before its last line: {end}"
    );
    let at_end = pane_screen(&a, PaneId::Brief, 80, 24);
    assert_ne!(before, at_end);
    char_key(&mut a, 'j');
    assert_eq!(a.selected(PaneId::Brief), end, "no further than the end");
    assert_eq!(pane_screen(&a, PaneId::Brief, 80, 24), at_end);
    char_key(&mut a, 'k');
    assert_eq!(
        a.selected(PaneId::Brief),
        end - 1,
        "one k moves back at once"
    );
    char_key(&mut a, 'g');
    assert_eq!(a.selected(PaneId::Brief), 0);
}

fn screen(a: &App, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            crate::tui::view::draw(
                f,
                a,
                &crate::tui::theme::Theme::ansi16(),
                crate::tui::panes::test_support::market_time(),
            )
        })
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn help_and_quit_work_on_the_too_small_screen() {
    let mut a = full_app();
    let small = screen(&a, 60, 20);
    assert!(small.contains("terminal too small"), "{small}");
    assert!(small.contains("? help · q quits"), "{small}");
    char_key(&mut a, '?');
    let help = screen(&a, 60, 20);
    assert!(help.contains("Help"), "{help}");
    assert!(help.contains("move down"), "{help}");
    char_key(&mut a, 'q');
    assert_eq!(a.overlay(), None, "q closes the help");
    // setups are active: q asks, and the question shows on the small screen
    char_key(&mut a, 'q');
    assert_eq!(a.overlay(), Some(&Overlay::ConfirmQuit));
    assert!(
        screen(&a, 60, 20).contains("Quit"),
        "{}",
        screen(&a, 60, 20)
    );
    assert_eq!(char_key(&mut a, 'y'), vec![Effect::Quit]);
}

#[test]
fn the_help_scrolls_to_its_notes_when_it_does_not_fit() {
    let mut a = full_app();
    a.update(Action::Help);
    let top = screen(&a, 80, 24);
    assert!(top.contains("Help · lines 1-22"), "{top}");
    assert!(!top.contains("Scr is the score"), "{top}");
    char_key(&mut a, 'G');
    let end = screen(&a, 80, 24);
    assert!(end.contains("Scr is the score"), "{end}");
    assert!(end.contains("[keys] section"), "{end}");
    char_key(&mut a, 'g');
    assert_eq!(screen(&a, 80, 24), top);
    // at 120×40 it all fits: nothing to scroll
    assert!(
        screen(&a, 120, 40).contains(" Help "),
        "{}",
        screen(&a, 120, 40)
    );
}

#[test]
fn a_message_fades_at_its_deadline_but_an_error_waits_for_the_next_key() {
    let mut a = full_app();
    a.say("watchlist saved: 4 symbols");
    let shown = a.status_seq();
    assert!(a.fade_status(shown), "the message goes");
    assert_eq!(a.status(), None);
    a.say("first");
    let first = a.status_seq();
    a.say("second");
    assert!(
        !a.fade_status(first),
        "an older deadline leaves a newer message"
    );
    assert_eq!(a.status().map(|s| s.text.as_str()), Some("second"));
    a.say_error("not tracked: database is locked");
    assert!(!a.fade_status(a.status_seq()), "an error does not fade");
    assert!(a.status().is_some_and(|s| s.is_error));
    char_key(&mut a, 'j');
    assert_eq!(a.status(), None, "the next key clears the error");
}
