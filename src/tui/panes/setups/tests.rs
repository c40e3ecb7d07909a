//! The setups pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{empty_app, full_app, pane_screen};

#[test]
fn setups_at_80_by_24_lists_both_tracked_setups_under_the_filter() {
    let mut app = full_app();
    app.update(Action::FocusSetups);
    let screen = pane_screen(&app, PaneId::Setups, 80, 24);
    assert!(screen.contains("▶ 3 Setups · all (2) · 2 live"), "{screen}");
    assert!(screen.contains("SPY") && screen.contains("QQQ"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn setups_at_120_by_40_shows_r_and_age_columns() {
    let mut app = full_app();
    app.update(Action::FocusSetups);
    app.update(Action::Down);
    let screen = pane_screen(&app, PaneId::Setups, 120, 40);
    assert!(screen.contains("active"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn setups_without_any_say_how_to_track_one() {
    let screen = pane_screen(&empty_app(), PaneId::Setups, 80, 24);
    assert!(screen.contains("No tracked setups yet"), "{screen}");
}

#[test]
fn the_selection_stays_on_its_setup_when_a_new_one_arrives_above_it() {
    let mut app = full_app();
    app.update(Action::FocusSetups);
    app.update(Action::Down);
    let chosen = app.selected_setup().unwrap().setup.id;
    let mut newer = app.panes().setups.rows()[0].clone();
    newer.setup.id = 99;
    newer.setup.version = 1;
    app.on_event(crate::runtime::AppEvent::SetupChanged {
        user: crate::store::UserId(1),
        row: newer,
        transition: None,
    });
    assert_eq!(
        app.panes().setups.rows()[0].setup.id,
        99,
        "the new one is listed first"
    );
    assert_eq!(app.selected_setup().unwrap().setup.id, chosen);
    assert_eq!(app.selected(PaneId::Setups), 2, "its row moved down by one");
}

/// Issue 22 item 5: after a restart the Scanner no longer lists the detection, so the
/// details show the rationale the store sent with the history.
#[test]
fn details_after_a_restart_show_the_rationale_read_from_the_store() {
    use crate::runtime::AppEvent;
    let mut app = full_app();
    app.update(Action::FocusSetups);
    let id = app.panes().setups.rows()[0].setup.id;
    app.update(Action::Details);
    app.on_event(AppEvent::History {
        id,
        events: vec![],
        rationale: Some("Closed 681.10 above the 15-minute range high 680.40".into()),
    });
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| {
            crate::tui::view::draw(
                f,
                &app,
                &crate::tui::theme::Theme::monochrome(),
                crate::tui::panes::test_support::market_time(),
            )
        })
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("Closed 681.10 above the 15-minute range high 680.40"),
        "{screen}"
    );
}
