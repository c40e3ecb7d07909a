//! The logs pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, pane_screen};

// tui-logger's buffer is global and the tests run in parallel: nothing is logged here, so
// the pane shows its frame over an empty log.

#[test]
fn the_logs_pane_alone_at_80_by_24_is_a_titled_frame_over_the_log() {
    let mut app = full_app();
    app.update(crate::tui::action::Action::FocusLogs);
    let screen = pane_screen(&app, PaneId::Logs, 80, 24);
    assert!(screen.contains("▶ 6 Logs"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_logs_pane_alone_at_120_by_40_unfocused_has_no_marker() {
    let screen = pane_screen(&full_app(), PaneId::Logs, 120, 40);
    assert!(screen.contains(" 6 Logs "), "{screen}");
    assert!(!screen.contains('▶'), "{screen}");
    insta::assert_snapshot!(screen);
}
