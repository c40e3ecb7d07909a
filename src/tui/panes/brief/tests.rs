//! The brief pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, pane_screen};

#[test]
fn the_brief_pane_without_a_brief_at_80_by_24_says_when_one_is_built() {
    let mut app = full_app();
    app.update(Action::FocusBrief);
    let screen = pane_screen(&app, PaneId::Brief, 80, 24);
    assert!(screen.contains("▶ 1 Brief"), "{screen}");
    assert!(
        screen.contains("Session Tue 2026-11-24 · 09:30–16:00 ET"),
        "{screen}"
    );
    assert!(screen.contains("No brief yet"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_brief_pane_without_a_brief_at_120_by_40_runs_the_session_line_live() {
    let screen = pane_screen(&full_app(), PaneId::Brief, 120, 40);
    assert!(
        screen.contains("Tue 24 Nov 10:30 ET · OPEN · closes 16:00 in 5h30m"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}
