//! The scanner pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, pane_screen};

#[test]
fn the_scanner_at_80_by_24_lists_the_watchlist_then_the_best_detection_first() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    assert!(screen.contains("▶ 2 Scanner · watchlist (4)"), "{screen}");
    let spy = screen.find("ORB").expect("the SPY detection is listed");
    let qqq = screen
        .find("vwap-rcl")
        .expect("the QQQ detection is listed");
    assert!(spy < qqq, "score 72 before score 64:\n{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_scanner_at_120_by_40_highlights_the_selected_detection() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    for _ in 0..4 {
        app.update(Action::Down);
    }
    assert_eq!(
        app.selected(PaneId::Scanner),
        4,
        "past the four watchlist rows"
    );
    let screen = pane_screen(&app, PaneId::Scanner, 120, 40);
    insta::assert_snapshot!(screen);
}

#[test]
fn the_selection_stays_on_its_detection_when_a_better_one_arrives_above_it() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    for _ in 0..5 {
        app.update(Action::Down);
    }
    let watchlist = app.market().watchlist.len();
    assert_eq!(
        app.selected(PaneId::Scanner),
        watchlist + 1,
        "the QQQ detection"
    );
    let mut better = app.panes().scanner.opportunities()[0].clone();
    better.id = 77;
    better.detection.confidence = 95;
    better.detection.dedup_key = "better".into();
    assert!(app.on_event(crate::runtime::AppEvent::Detection(better)));
    assert_eq!(
        app.selected(PaneId::Scanner),
        watchlist + 2,
        "a row moved in above it: the selection moved down with its detection"
    );
    assert_eq!(
        app.selected_symbol(PaneId::Scanner).map(|s| s.to_string()),
        Some("QQQ".to_string())
    );
}
