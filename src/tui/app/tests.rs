use super::*;
use crate::gex::ExpiryFilter;
use crate::runtime::gex::GexRequest;
use crate::tui::action::Action;

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

fn press(a: &mut App, code: crossterm::event::KeyCode) -> Vec<Effect> {
    a.on_key(&crossterm::event::KeyEvent::new(
        code,
        crossterm::event::KeyModifiers::NONE,
    ))
}

fn type_text(a: &mut App, text: &str) {
    for c in text.chars() {
        press(a, crossterm::event::KeyCode::Char(c));
    }
}

#[test]
fn w_opens_the_watchlist_editor_with_the_current_symbols() {
    let mut a = app();
    a.update(Action::FocusGex);
    press(&mut a, crossterm::event::KeyCode::Char('w'));
    assert_eq!(a.focus, Pane::Scanner);
    match &a.overlay {
        Some(Overlay::EditWatchlist { input, error }) => {
            assert_eq!(input.text, "SPX NDX SPY QQQ");
            assert!(error.is_none());
        }
        other => panic!("editor not open: {other:?}"),
    }
}

#[test]
fn a_bad_symbol_in_the_watchlist_editor_is_named_and_nothing_is_saved() {
    let mut a = app();
    press(&mut a, crossterm::event::KeyCode::Char('w'));
    type_text(&mut a, " nv$da");
    // `q` is typed into the field, not taken as quit.
    let effects = press(&mut a, crossterm::event::KeyCode::Enter);
    assert!(effects.is_empty());
    match &a.overlay {
        Some(Overlay::EditWatchlist { error: Some(e), .. }) => {
            assert!(e.contains("NV$DA") || e.contains("nv$da"), "{e}");
            assert!(e.contains("entry 5"), "{e}");
        }
        other => panic!("expected the error in the editor: {other:?}"),
    }
}

#[test]
fn a_valid_watchlist_is_saved_normalised_and_deduplicated() {
    let mut a = app();
    press(&mut a, crossterm::event::KeyCode::Char('w'));
    type_text(&mut a, ", nvda,spy q");
    let effects = press(&mut a, crossterm::event::KeyCode::Enter);
    let expected: Vec<Symbol> = ["SPX", "NDX", "SPY", "QQQ", "NVDA", "Q"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    assert_eq!(effects, vec![Effect::SaveWatchlist(expected)]);
    assert_eq!(a.overlay, None);
}

#[test]
fn escape_leaves_the_watchlist_unchanged() {
    let mut a = app();
    press(&mut a, crossterm::event::KeyCode::Char('w'));
    type_text(&mut a, "AAPL");
    assert!(press(&mut a, crossterm::event::KeyCode::Esc).is_empty());
    assert_eq!(a.overlay, None);
    assert_eq!(a.watchlist.len(), 4);
}

#[test]
fn a_saved_watchlist_keeps_known_rows_and_adds_new_ones() {
    let mut a = app();
    a.watchlist[2].last = Some(683.0);
    let symbols: Vec<Symbol> = ["SPY", "NVDA"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    a.on_event(AppEvent::WatchlistSaved {
        watchlist: crate::store::Watchlist {
            id: 1,
            name: "Default".into(),
            symbols,
            is_default: true,
            updated_at: Utc::now(),
        },
        market: None,
    });
    assert_eq!(a.watchlist.len(), 2);
    assert_eq!(a.watchlist[0].last, Some(683.0), "SPY keeps its price");
    assert_eq!(a.watchlist[1].last, None);
    assert_eq!(
        a.status.as_ref().unwrap().text,
        "watchlist saved: 2 symbols"
    );
}

#[test]
fn s_cycles_the_gex_symbol_through_the_watchlist_and_asks_for_its_profile() {
    let mut a = app();
    assert_eq!(a.gex_symbol.as_ref().map(Symbol::as_str), Some("SPX"));
    let effects = a.update(Action::GexSymbol);
    assert_eq!(a.focus, Pane::Gex);
    assert_eq!(
        effects,
        vec![Effect::Gex(GexRequest {
            symbol: Symbol::parse("NDX").unwrap(),
            filter: ExpiryFilter::All,
            force: false
        })]
    );
    for _ in 0..3 {
        a.update(Action::GexSymbol);
    }
    assert_eq!(
        a.gex_symbol.as_ref().map(Symbol::as_str),
        Some("SPX"),
        "wraps around"
    );
}

#[test]
fn e_cycles_the_expiry_filter_and_r_forces_a_recompute() {
    let mut a = app();
    a.update(Action::GexExpiry);
    assert_eq!(a.gex_filter, ExpiryFilter::ZeroDte);
    a.update(Action::GexExpiry);
    assert_eq!(a.gex_filter, ExpiryFilter::Next(1));
    let effects = a.update(Action::Refresh);
    assert_eq!(
        effects,
        vec![Effect::Gex(GexRequest {
            symbol: Symbol::parse("SPX").unwrap(),
            filter: ExpiryFilter::Next(1),
            force: true
        })]
    );
    a.update(Action::FocusHealth);
    assert!(a.update(Action::Refresh).is_empty());
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("nothing to refresh in Health")
    );
}

#[test]
fn a_provider_without_chains_says_so_instead_of_asking() {
    let mut a = app();
    a.has_chains = false;
    assert!(a.update(Action::GexSymbol).is_empty());
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("no options chains")
    );
}
