//! The gex pane alone, at the two sizes a trader uses (80×24 and 120×40).

use std::sync::Arc;

use crate::gex::{ExpiryFilter, GexParams, compute_profile};
use crate::provider::sim_chain::synthetic_chain;
use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::panes::test_support::{full_app, market_time, pane_screen, startup, symbol};

/// `full_app` with SPX's 0DTE profile beside its all-expirations one, as the refresher
/// publishes them when the chain has an expiry today.
fn app_with_zero_dte() -> App {
    let mut app = full_app();
    let mut board = (**app.panes().gex.board()).clone();
    let all = board[&(symbol("SPX"), ExpiryFilter::All)].clone();
    let chain = synthetic_chain(&symbol("SPX"), all.spot, market_time(), 42);
    let today = compute_profile(&chain, &GexParams::default(), ExpiryFilter::ZeroDte).unwrap();
    board.insert((symbol("SPX"), ExpiryFilter::ZeroDte), Arc::new(today));
    app.on_gex(Arc::new(board));
    app.update(Action::FocusGex);
    app
}

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

#[test]
fn vanna_charm_and_the_walls_roles_are_lines_above_the_bars_with_two_decimal_prices() {
    let mut app = full_app();
    app.update(Action::FocusGex);
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    let p = app.gex_profile().unwrap().clone();
    assert!(
        screen.contains("vanna ") && screen.contains("/vol pt"),
        "{screen}"
    );
    assert!(
        screen.contains("charm ") && screen.contains("/day"),
        "{screen}"
    );
    // The call wall above spot with positive net gamma is a resistance/pin.
    let call = p.call_wall.unwrap();
    assert!(call > p.spot);
    assert!(
        screen.contains(&format!("C {call:.2} resistance/pin")),
        "{screen}"
    );
    assert!(screen.contains(&format!("spot {:.2}", p.spot)), "{screen}");
    // Strike labels too: `6900.00`, never `6900`.
    assert!(screen.contains(&format!("{call:.2} C")), "{screen}");
}

#[test]
fn zero_dte_stands_beside_all_expirations_at_120_columns() {
    let app = app_with_zero_dte();
    let screen = pane_screen(&app, PaneId::Gex, 120, 40);
    assert!(screen.contains("all expirations"), "{screen}");
    assert!(screen.contains("0DTE ("), "{screen}");
    // Two charts: two legends on the same line.
    let legend = screen.lines().find(|l| l.contains('◆')).unwrap();
    assert_eq!(legend.matches('▶').count(), 2, "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_narrow_pane_says_how_to_see_zero_dte() {
    let app = app_with_zero_dte();
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    assert!(!screen.contains("all expirations"), "{screen}");
    assert!(
        screen.contains("e shows it alone (side by side from 100 columns)"),
        "{screen}"
    );
    // Without a 0DTE profile there is nothing to say.
    let mut plain = full_app();
    plain.update(Action::FocusGex);
    let screen = pane_screen(&plain, PaneId::Gex, 80, 24);
    assert!(!screen.contains("side by side"), "{screen}");
}

#[test]
fn the_spot_says_how_old_the_profile_is_when_it_lags_the_last_price() {
    let mut app = full_app();
    app.update(Action::FocusGex);
    let mut board = (**app.panes().gex.board()).clone();
    let key = (symbol("SPX"), ExpiryFilter::All);
    let mut old = (*board[&key]).clone();
    old.as_of = market_time() - chrono::Duration::minutes(4);
    old.spot -= 3.2;
    let last = old.spot + 3.2;
    board.insert(key, Arc::new(old));
    app.on_gex(Arc::new(board));
    let screen = pane_screen(&app, PaneId::Gex, 120, 40);
    assert!(
        screen.contains(&format!("(4m old, last {last:.2})")),
        "{screen}"
    );
    // A fresh profile at the last price says nothing of its age beside spot.
    let mut fresh = full_app();
    fresh.update(Action::FocusGex);
    let screen = pane_screen(&fresh, PaneId::Gex, 120, 40);
    assert!(!screen.contains(" old, last "), "{screen}");
}

#[test]
fn sparklines_show_total_gex_and_spots_distance_to_the_flip_through_the_day() {
    use crate::gex::history::GexPoint;
    use std::collections::HashMap;
    let mut app = full_app();
    app.update(Action::FocusGex);
    let p = app.gex_profile().unwrap().clone();
    let points: Vec<GexPoint> = (0..12)
        .map(|i| GexPoint {
            at: market_time() - chrono::Duration::minutes(5 * (11 - i)),
            total_gex: -8.0e9 + 0.5e9 * i as f64,
            spot: 6800.0 + 3.0 * i as f64,
            ..GexPoint::of(&p)
        })
        .collect();
    let last = points.last().unwrap().clone();
    app.on_gex_history(Arc::new(HashMap::from([(symbol("SPX"), Arc::new(points))])));
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    let total = screen
        .lines()
        .find(|l| l.contains("total GEX "))
        .expect(&screen);
    assert!(total.contains("▁") && total.contains("█"), "{screen}");
    assert!(total.contains("-$2.5B"), "{screen}");
    let distance = format!("{:+.2}%", last.flip_distance_pct().unwrap());
    let flip = screen
        .lines()
        .find(|l| l.contains("spot−flip "))
        .expect(&screen);
    assert!(flip.contains(&distance), "{screen}");
    insta::assert_snapshot!(screen);
    // Another filter's pane shows no all-expirations history.
    app.update(Action::GexExpiry);
    let screen = pane_screen(&app, PaneId::Gex, 80, 24);
    assert!(!screen.contains("total GEX "), "{screen}");
}
