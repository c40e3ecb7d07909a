//! The coach pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{coach_app, full_app, pane_screen};

#[test]
fn the_coach_at_80_by_24_shows_the_question_the_tool_call_and_the_answer() {
    let screen = pane_screen(&coach_app(), PaneId::Coach, 80, 24);
    assert!(screen.contains("▶ 7 Coach"), "{screen}");
    for needle in [
        "where is the SPX flip?",
        "get_gamma_exposure",
        "The SPX flip is at 6857.82",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_coach_at_120_by_40() {
    insta::assert_snapshot!(pane_screen(&coach_app(), PaneId::Coach, 120, 40));
}

#[test]
fn the_coach_unconfigured_says_how_to_configure() {
    let screen = pane_screen(&full_app(), PaneId::Coach, 80, 24);
    assert!(
        screen.contains("The AI coach is not configured."),
        "{screen}"
    );
}
