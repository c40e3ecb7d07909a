//! The chart pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, pane_screen, symbol};

fn spy_chart() -> crate::tui::app::App {
    let mut app = full_app();
    app.set_focus(symbol("SPY"));
    app.update(Action::FocusChart);
    app
}

#[test]
fn the_chart_at_80_by_24_draws_the_focused_symbols_candles_and_levels() {
    let screen = pane_screen(&spy_chart(), PaneId::Chart, 80, 24);
    for needle in ["▶ 8 Chart · SPY 1m", "VWAP", "A↓"] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_chart_at_120_by_40_on_five_minute_bars() {
    let mut app = spy_chart();
    app.update(Action::TimeframeUp);
    let screen = pane_screen(&app, PaneId::Chart, 120, 40);
    assert!(screen.contains("SPY 5m"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_ohlcv_readout_keeps_every_value_in_a_narrow_pane() {
    let mut app = spy_chart();
    app.update(Action::CursorLeft);
    // The Chart's share of a 120x40 screen, and narrower.
    for width in [58, 48] {
        let screen = pane_screen(&app, PaneId::Chart, width, 20);
        let readout = screen.lines().nth(1).unwrap();
        for needle in [" O", " H", " L", " C", " V"] {
            assert!(readout.contains(needle), "{width}: {needle:?} in {readout}");
        }
        let volume = readout.split(" V").nth(1).unwrap();
        let volume = volume.split_whitespace().next().unwrap_or("");
        assert!(
            volume.ends_with('k') || volume.ends_with('M'),
            "{width}: the volume is whole: {readout}"
        );
    }
}

#[test]
fn the_alerts_list_at_80_by_24() {
    let mut app = spy_chart();
    app.update(Action::AlertsView);
    let screen = pane_screen(&app, PaneId::Chart, 80, 24);
    assert!(screen.contains("alerts (1 armed)"), "{screen}");
    assert!(screen.contains("SPY    crosses below"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn keys_that_change_nothing_it_draws_keep_the_cached_chart() {
    let mut app = spy_chart();
    pane_screen(&app, PaneId::Chart, 80, 24);
    // Mark the cached drawing: a frame that copies the cache shows the mark.
    let mark = |app: &crate::tui::app::App| {
        let mut cache = app.panes().chart.cache.borrow_mut();
        let (_, buffer) = cache.as_mut().expect("the chart was drawn and cached");
        let at = (buffer.area.x, buffer.area.y);
        buffer[at].set_symbol("@");
    };
    mark(&app);
    for action in [
        Action::Help,
        Action::Back,
        Action::FocusGex,
        Action::FocusChart,
    ] {
        app.update(action);
    }
    assert!(
        pane_screen(&app, PaneId::Chart, 80, 24).contains('@'),
        "help, focus moves and back: the chart is copied"
    );
    app.update(Action::CursorLeft);
    assert!(
        !pane_screen(&app, PaneId::Chart, 80, 24).contains('@'),
        "the cursor moved: the chart is drawn again"
    );
}
