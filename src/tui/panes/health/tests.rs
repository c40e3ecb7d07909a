//! The health pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{empty_app, full_app, pane_screen};

#[test]
fn health_at_80_by_24_lists_each_worker_and_counts_the_failed_one_in_the_title() {
    let mut app = full_app();
    app.update(Action::FocusHealth);
    let screen = pane_screen(&app, PaneId::Health, 80, 24);
    assert!(screen.contains("▶ 5 Health · 1 failing"), "{screen}");
    for needle in [
        "feed",
        "detect",
        "running",
        "FAILED",
        "42s chain request timed out",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn health_at_120_by_40_moves_its_selection_with_down() {
    let mut app = full_app();
    app.update(Action::FocusHealth);
    app.update(Action::Down);
    assert_eq!(app.selected(PaneId::Health), 1);
    let screen = pane_screen(&app, PaneId::Health, 120, 40);
    insta::assert_snapshot!(screen);
}

#[test]
fn health_without_workers_says_so() {
    let screen = pane_screen(&empty_app(), PaneId::Health, 80, 24);
    assert!(screen.contains("no workers running"), "{screen}");
}
