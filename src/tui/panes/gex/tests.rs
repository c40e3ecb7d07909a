//! The gex pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, pane_screen, startup};

#[test]
fn the_gex_pane_at_80_by_24_shows_the_focused_symbols_profile() {
    let mut app = full_app();
    app.update(Action::FocusGex);
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    assert!(screen.contains("▶ 4 GEX · SPX all ·"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_gex_pane_at_120_by_40_follows_s_to_the_next_symbol() {
    let mut app = full_app();
    app.update(Action::FocusGex);
    app.update(Action::GexSymbol);
    let screen = pane_screen(&app, PaneId::Gex, 120, 40);
    assert!(screen.contains("NDX all"), "{screen}");
    assert!(
        screen.contains("Computing the NDX profile (all)"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn the_gex_pane_without_chains_says_none_is_invented() {
    let mut start = startup();
    start.settings.has_chains = false;
    let app = crate::tui::app::App::new(start);
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    assert!(
        screen.contains("No options chain from this provider, so no GEX profile"),
        "{screen}"
    );
}
