use super::*;

fn app() -> App {
    let watchlist: Vec<Symbol> = ["SPX", "NDX", "SPY", "QQQ"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    App::new(
        Keymap::default(),
        Source {
            provider: "sim".into(),
            database: "sqlite".into(),
            user: "local".into(),
        },
        &watchlist,
        true,
    )
}

#[test]
fn number_keys_jump_to_their_pane_and_tab_cycles() {
    let mut a = app();
    assert_eq!(a.focus, Pane::Scanner, "the scanner has focus at start");
    a.update(Action::FocusGex);
    assert_eq!(a.focus, Pane::Gex);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, Pane::Health);
    a.update(Action::FocusNext);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, Pane::Brief, "focus wraps from Logs to Brief");
    a.update(Action::FocusPrev);
    assert_eq!(a.focus, Pane::Logs);
}

#[test]
fn help_opens_over_everything_and_closes_with_escape() {
    let mut a = app();
    a.update(Action::Help);
    assert_eq!(a.overlay, Some(Overlay::Help));
    a.update(Action::FocusGex);
    assert_eq!(
        a.focus,
        Pane::Scanner,
        "keys do not reach the panes behind help"
    );
    a.update(Action::Back);
    assert_eq!(a.overlay, None);
}

#[test]
fn quit_leaves_at_once_when_no_setup_is_active() {
    let mut a = app();
    assert_eq!(a.update(Action::Quit), vec![Effect::Quit]);
}

#[test]
fn quit_asks_while_setups_are_active_and_only_y_confirms() {
    let mut a = app();
    a.active_setups = 2;
    assert!(a.update(Action::Quit).is_empty());
    assert_eq!(a.overlay, Some(Overlay::ConfirmQuit));
    assert!(a.unbound_key('n').is_empty());
    assert_eq!(a.overlay, None);
    assert_eq!(a.status.as_ref().unwrap().text, "quit cancelled");
    a.update(Action::Quit);
    assert_eq!(a.unbound_key('y'), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_quits_even_with_active_setups_and_help_open() {
    let mut a = app();
    a.active_setups = 1;
    a.update(Action::Help);
    assert_eq!(a.update(Action::ForceQuit), vec![Effect::Quit]);
}

#[test]
fn ctrl_l_asks_for_a_full_redraw() {
    assert_eq!(app().update(Action::Redraw), vec![Effect::FullRedraw]);
}

#[test]
fn an_unbound_key_says_so_on_the_status_line() {
    let mut a = app();
    a.unbound_key('z');
    let status = a.status.unwrap();
    assert!(status.is_error);
    assert!(
        status.text.contains("'z'") && status.text.contains('?'),
        "{}",
        status.text
    );
}

#[test]
fn selection_moves_within_the_watchlist() {
    let mut a = app();
    a.update(Action::Down);
    a.update(Action::Down);
    assert_eq!(a.selected(Pane::Scanner), 2);
    for _ in 0..10 {
        a.update(Action::Down);
    }
    assert_eq!(a.selected(Pane::Scanner), 3, "stops at the last row");
    a.update(Action::Up);
    assert_eq!(a.selected(Pane::Scanner), 2);
}

#[test]
fn a_quote_updates_last_price_and_change_against_the_prior_close() {
    use crate::provider::Quote;
    let mut a = app();
    a.watchlist[2].prior_close = Some(680.0);
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 15, 0, 15).unwrap();
    a.dirty = false;
    a.on_market(&MarketEvent::Step {
        at,
        quotes: vec![Quote {
            symbol: Symbol::parse("SPY").unwrap(),
            price: 683.4,
            at,
        }],
        bars: vec![],
    });
    assert!(a.dirty);
    let (points, pct) = a.watchlist[2].change().unwrap();
    assert!((points - 3.4).abs() < 1e-9);
    assert!((pct - 0.5).abs() < 1e-9);
    assert_eq!(a.watchlist[0].change(), None, "SPX has no quote yet");
}
