//! The focused symbol, the Chart's keys and `A`, driven by keys through `on_key`/`update`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::alerts::{AlertStatus, Condition, PriceAlert};
use crate::market::intraday::Timeframe;
use crate::provider::sim::SimMarket;

fn press(a: &mut App, c: char) -> Vec<Effect> {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    a.on_key(&KeyEvent::new(KeyCode::Char(c), modifiers))
}

fn key(a: &mut App, code: KeyCode) -> Vec<Effect> {
    a.on_key(&KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(a: &mut App, text: &str) {
    for c in text.chars() {
        a.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

/// 10:30 ET on Tuesday 2026-11-24.
fn market_time() -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 15, 30, 0).unwrap()
}

/// The app on the simulated market at 10:30 ET, with an SPX GEX profile.
fn live_app() -> App {
    let mut a = app();
    let symbols: Vec<Symbol> = crate::provider::sim::DEFAULT_SYMBOLS
        .iter()
        .map(|s| sym(s))
        .collect();
    let market = SimMarket::new(42, &symbols, market_time().date_naive());
    use crate::runtime::feed::Playable;
    a.on_market(&MarketEvent::Snapshot(Arc::new(
        market.snapshot(market_time()),
    )));
    let spx = sym("SPX");
    let spot = market.last_price(&spx, market_time()).unwrap();
    let chain = crate::provider::sim_chain::synthetic_chain(&spx, spot, market_time(), 42);
    let profile =
        crate::gex::compute_profile(&chain, &crate::gex::GexParams::default(), ExpiryFilter::All)
            .unwrap();
    a.on_gex(Arc::new(HashMap::from([(
        (spx, ExpiryFilter::All),
        Arc::new(profile),
    )])));
    a
}

fn header(a: &App) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| {
            crate::tui::view::draw(f, a, &crate::tui::theme::Theme::monochrome(), market_time())
        })
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..120)
        .map(|x| buffer[(x, 0)].symbol().to_string())
        .collect()
}

#[test]
fn the_focus_follows_the_selection_across_panes_and_gex_follows_it() {
    let mut a = app();
    assert_eq!(
        a.focus_symbol,
        Some(sym("SPX")),
        "the first watchlist symbol at start"
    );
    // Scanner: j selects NDX, which becomes the focus; GEX is asked for it.
    let effects = press(&mut a, 'j');
    assert_eq!(a.focus_symbol, Some(sym("NDX")));
    assert_eq!(
        effects,
        vec![Effect::Gex(GexRequest {
            symbol: sym("NDX"),
            filter: ExpiryFilter::All,
            force: false,
        })]
    );
    assert_eq!(
        a.focus,
        PaneId::Scanner,
        "following the focus does not move the trader"
    );
    assert!(header(&a).contains("◆ NDX"), "{}", header(&a));
    // Setups: selecting a QQQ setup focuses QQQ.
    let mut row = active_row(3);
    row.setup.symbol = sym("QQQ");
    a.panes.setups.rows = vec![active_row(4), row];
    press(&mut a, '3');
    press(&mut a, 'j');
    assert_eq!(a.focus_symbol, Some(sym("QQQ")));
    press(&mut a, 'k');
    assert_eq!(
        a.focus_symbol,
        Some(a.panes.setups.rows[0].setup.symbol.clone())
    );
    // `s` in GEX cycles the watchlist from the focused symbol (SPY, so QQQ next): the
    // GEX pane shows the one focused symbol.
    press(&mut a, '4');
    press(&mut a, 's');
    assert_eq!(a.focus_symbol, Some(sym("QQQ")));
    let title = crate::tui::pane::Pane::title(&a.panes.gex, &a);
    assert!(title.starts_with(" · QQQ all"), "{title}");
}

#[test]
fn slash_focuses_a_valid_symbol_and_refuses_a_bad_one() {
    let mut a = app();
    press(&mut a, '/');
    typed(&mut a, "q q");
    key(&mut a, KeyCode::Enter);
    match &a.overlay {
        Some(Overlay::Search { error: Some(e), .. }) => assert!(e.contains("\"q q\""), "{e}"),
        other => panic!("the search stays open with the reason: {other:?}"),
    }
    assert_eq!(a.focus_symbol, Some(sym("SPX")), "nothing changed");
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "nflx");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.overlay, None);
    assert_eq!(a.focus_symbol, Some(sym("NFLX")));
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("not in this session's feed")
    );
}

#[test]
fn the_chart_keys_change_timeframe_and_move_the_cursor() {
    let mut a = live_app();
    press(&mut a, '8');
    assert_eq!(a.focus, PaneId::Chart);
    let minutes = a.chart_bars().len();
    assert_eq!(minutes, 60, "09:30 to 10:30 in one-minute bars");
    press(&mut a, ']');
    assert_eq!(a.panes.chart.view.timeframe, Timeframe::M5);
    assert_eq!(a.chart_bars().len(), 12);
    press(&mut a, 'h');
    press(&mut a, 'h');
    assert_eq!(a.panes.chart.view.cursor, Some(9));
    press(&mut a, 'l');
    press(&mut a, 'l');
    assert_eq!(
        a.panes.chart.view.cursor, None,
        "past the newest bar the cursor follows it"
    );
    press(&mut a, '[');
    press(&mut a, '[');
    assert_eq!(
        a.panes.chart.view.timeframe,
        Timeframe::M1,
        "stops at one minute"
    );
}

#[test]
fn capital_a_on_the_gex_pane_prefills_the_call_wall_and_enter_saves_it() {
    let mut a = live_app();
    press(&mut a, '4');
    let wall = a.gex_profile().unwrap().call_wall.unwrap();
    press(&mut a, 'A');
    let Some(Overlay::NewAlert { input, symbol, .. }) = &a.overlay else {
        panic!("A opens the alert editor: {:?}", a.overlay);
    };
    assert_eq!(symbol, &sym("SPX"));
    assert!(input.text.contains(&format!("{wall:.2}")), "{}", input.text);
    assert!(input.text.contains("GEX call wall"), "{}", input.text);
    let last = a.market.intraday[&sym("SPX")].last.unwrap();
    let effects = key(&mut a, KeyCode::Enter);
    let expected = if wall >= last {
        Condition::CrossesAbove(wall)
    } else {
        Condition::CrossesBelow(wall)
    };
    match effects.as_slice() {
        [Effect::AddAlert(alert)] => {
            assert_eq!(alert.symbol, sym("SPX"));
            assert_eq!(
                alert.condition,
                Condition::parse(
                    if wall >= last { "above" } else { "below" },
                    &format!("{wall:.2}"),
                )
                .unwrap()
            );
            assert!(
                matches!(alert.condition, c if std::mem::discriminant(&c) == std::mem::discriminant(&expected))
            );
            assert_eq!(alert.reference, Some(last));
            assert_eq!(alert.note, "GEX call wall");
        }
        other => panic!("one alert to store: {other:?}"),
    }
}

#[test]
fn the_alert_editor_cycles_candidates_and_refuses_nonsense() {
    let mut a = live_app();
    press(&mut a, '8');
    press(&mut a, 'h');
    press(&mut a, 'A');
    let first = match &a.overlay {
        Some(Overlay::NewAlert { input, .. }) => input.text.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        first.contains("cursor bar close"),
        "the Chart offers the cursor first: {first}"
    );
    key(&mut a, KeyCode::Down);
    let second = match &a.overlay {
        Some(Overlay::NewAlert { input, .. }) => input.text.clone(),
        other => panic!("{other:?}"),
    };
    assert_ne!(first, second);
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "near 5");
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    match &a.overlay {
        Some(Overlay::NewAlert { error: Some(e), .. }) => assert!(e.contains("near"), "{e}"),
        other => panic!("{other:?}"),
    }
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "move 2% repeat big move");
    match key(&mut a, KeyCode::Enter).as_slice() {
        [Effect::AddAlert(alert)] => {
            assert_eq!(alert.condition, Condition::MovesPercent(2.0));
            assert!(alert.repeat);
            assert_eq!(alert.note, "big move");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_alert_editor_offers_and_takes_the_gamma_conditions() {
    let mut a = live_app();
    press(&mut a, '4');
    let offered: Vec<Condition> = a.alert_candidates().iter().map(|c| c.condition).collect();
    for c in [
        Condition::FlipCross,
        Condition::WallBreak(0.1),
        Condition::RegimeChange,
    ] {
        assert!(
            offered.contains(&c),
            "{c} offered on the GEX pane: {offered:?}"
        );
    }
    press(&mut a, 'A');
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "flip_cross repeat watch the flip");
    match key(&mut a, KeyCode::Enter).as_slice() {
        [Effect::AddAlert(alert)] => {
            assert_eq!(alert.condition, Condition::FlipCross);
            assert!(alert.repeat);
            assert_eq!(alert.note, "watch the flip");
        }
        other => panic!("{other:?}"),
    }
    press(&mut a, 'A');
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "wall_break 25");
    assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    match &a.overlay {
        Some(Overlay::NewAlert { error: Some(e), .. }) => {
            assert!(e.contains("from 0 to 10, got 25"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    a.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "wall_break 0.25% breakout");
    match key(&mut a, KeyCode::Enter).as_slice() {
        [Effect::AddAlert(alert)] => {
            assert_eq!(alert.condition, Condition::WallBreak(0.25));
            assert_eq!(alert.note, "breakout");
        }
        other => panic!("{other:?}"),
    }
}

fn stored_alert(id: i64, status: AlertStatus) -> PriceAlert {
    PriceAlert {
        id,
        symbol: sym("SPX"),
        condition: Condition::CrossesAbove(6000.0),
        note: "call wall".into(),
        status,
        repeat: false,
        reference: Some(5990.0),
        created_at: market_time(),
        fired_at: None,
        fired_price: None,
    }
}

#[test]
fn a_firing_reaches_the_status_line_and_the_bell_and_the_list_removes_alerts() {
    let mut a = app();
    a.settings.bell = true;
    a.on_event(AppEvent::AlertsSaved {
        alerts: vec![stored_alert(2, AlertStatus::Armed)],
        message: "alert 2 set".into(),
    });
    let mut fired = stored_alert(2, AlertStatus::Fired);
    fired.fired_at = Some(market_time());
    fired.fired_price = Some(6000.5);
    a.on_event(AppEvent::AlertFired {
        user: crate::store::UserId(1),
        alert: fired,
        text: "alert 2: SPX crosses above 6000.00 at 6000.50".into(),
    });
    assert!(a.ring_bell);
    // Another trader's alert on the same database never reaches this screen.
    a.settings.user = Some(crate::store::UserId(1));
    a.ring_bell = false;
    let mut theirs = stored_alert(9, AlertStatus::Fired);
    theirs.note = "bob's".into();
    a.on_event(AppEvent::AlertFired {
        user: crate::store::UserId(2),
        alert: theirs,
        text: "alert 9: SPX crosses above 6000.00".into(),
    });
    assert!(!a.ring_bell && a.panes.chart.alerts.iter().all(|x| x.id != 9));
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("SPX crosses above 6000.00")
    );
    assert_eq!(a.panes.chart.alerts[0].status, AlertStatus::Fired);
    press(&mut a, 'L');
    assert!(a.panes.chart.view.show_alerts && a.focus == PaneId::Chart);
    press(&mut a, 'd');
    assert_eq!(a.overlay, Some(Overlay::ConfirmRemoveAlert { id: 2 }));
    assert_eq!(press(&mut a, 'y'), vec![Effect::RemoveAlert { id: 2 }]);
}

#[test]
fn scrolling_the_brief_into_a_symbols_section_focuses_that_symbol() {
    let mut a = app();
    let calendar = crate::brief::EconCalendar::shipped();
    let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 13, 0, 0).unwrap();
    let brief = crate::brief::build(&crate::brief::BriefInputs {
        now,
        market_date: now.date_naive(),
        watchlist: "Tech".into(),
        symbols: &[
            crate::brief::SymbolInput::new(sym("AAPL")),
            crate::brief::SymbolInput::new(sym("MSFT")),
        ],
        calendar: &calendar,
        positions: &[],
        setups: &[],
    })
    .unwrap();
    let lines = crate::brief::render::text_lines(&brief);
    let msft = lines
        .iter()
        .position(|l| *l == crate::brief::render::TextLine::Heading("MSFT".into()))
        .expect("a MSFT section");
    a.on_event(AppEvent::Brief {
        brief: Arc::new(brief),
        preview: false,
    });
    a.update(Action::FocusBrief);
    for _ in 0..msft {
        press(&mut a, 'j');
    }
    assert_eq!(a.focus_symbol, Some(sym("MSFT")));
    press(&mut a, 'k');
    assert_eq!(
        a.focus_symbol,
        Some(sym("AAPL")),
        "the line above is in AAPL's section"
    );
}

#[test]
fn alerts_changed_elsewhere_replace_the_list_and_a_firing_new_to_the_screen_rings() {
    let mut a = app();
    a.settings.bell = true;
    a.settings.user = Some(crate::store::UserId(1));
    let ours = |alerts| AppEvent::AlertsChanged {
        user: crate::store::UserId(1),
        alerts,
    };
    a.on_event(ours(vec![
        stored_alert(3, AlertStatus::Armed),
        stored_alert(2, AlertStatus::Fired),
    ]));
    assert_eq!(
        a.panes
            .chart
            .alerts
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        [3, 2]
    );
    let said = |a: &App| a.status.as_ref().unwrap().text.clone();
    assert_eq!(said(&a), "alerts updated: 1 armed");
    assert!(!a.ring_bell, "nothing fired");

    // The server's evaluator fired alert 3 (an attached screen hears it this way).
    let mut fired = stored_alert(3, AlertStatus::Fired);
    (fired.fired_at, fired.fired_price) = (Some(market_time()), Some(6000.5));
    a.on_event(ours(vec![
        fired.clone(),
        stored_alert(2, AlertStatus::Fired),
    ]));
    assert!(a.ring_bell);
    assert_eq!(
        said(&a),
        "🔔 alert 3: SPX crosses above 6000.00 at 6000.50 — call wall"
    );
    // The same list again (a reload after a reconnection) says nothing new.
    a.ring_bell = false;
    a.say("quiet");
    a.on_event(ours(vec![fired, stored_alert(2, AlertStatus::Fired)]));
    assert!(!a.ring_bell);
    assert_eq!(said(&a), "quiet");

    // Another trader's list never replaces ours.
    a.on_event(AppEvent::AlertsChanged {
        user: crate::store::UserId(2),
        alerts: vec![],
    });
    assert_eq!(a.panes.chart.alerts.len(), 2, "bob's alerts are not ours");
}

/// Issue 22 item 1 in the alerts list: the selection is an alert, not a row, so an alert
/// added above it (newest first) leaves the same one selected.
#[test]
fn the_alerts_list_selection_stays_on_its_alert_when_a_new_one_arrives_above_it() {
    let mut a = app();
    a.settings.user = Some(crate::store::UserId(1));
    let ours = |alerts| AppEvent::AlertsChanged {
        user: crate::store::UserId(1),
        alerts,
    };
    a.on_event(ours(vec![
        stored_alert(3, AlertStatus::Armed),
        stored_alert(2, AlertStatus::Armed),
    ]));
    a.update(Action::FocusChart);
    a.update(Action::AlertsView);
    a.update(Action::Down);
    let selected = |a: &App| a.panes.chart.selected_alert().map(|x| x.id);
    assert_eq!(selected(&a), Some(2));
    a.on_event(ours(vec![
        stored_alert(4, AlertStatus::Armed),
        stored_alert(3, AlertStatus::Armed),
        stored_alert(2, AlertStatus::Armed),
    ]));
    assert_eq!(
        selected(&a),
        Some(2),
        "row 1 is now alert 3; the selection is 2"
    );
    assert_eq!(a.panes.chart.selected_row(), 2);
}

#[test]
fn z_on_a_listed_alert_offers_three_snoozes_and_a_number_picks_one() {
    use crate::notify::snooze::{SnoozeFor, SnoozeTarget};
    let mut a = app();
    a.panes.chart.alerts = vec![stored_alert(4, AlertStatus::Armed)];
    // Not on an alert or a setup: says where it works.
    a.focus = PaneId::Gex;
    assert!(press(&mut a, 'z').is_empty());
    assert!(a.status.as_ref().unwrap().text.contains("snooze works on"));
    assert_eq!(a.overlay, None);

    press(&mut a, 'L');
    assert!(press(&mut a, 'z').is_empty());
    assert_eq!(
        a.overlay,
        Some(Overlay::Snooze {
            target: SnoozeTarget::Alert(4)
        })
    );
    // Any other key cancels and changes nothing.
    assert!(press(&mut a, 'q').is_empty());
    assert_eq!(a.overlay, None);
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("alert 4 not snoozed")
    );

    press(&mut a, 'z');
    assert_eq!(
        press(&mut a, '2'),
        vec![Effect::Snooze {
            target: SnoozeTarget::Alert(4),
            choice: SnoozeFor::Hour
        }]
    );
    assert_eq!(a.overlay, None);
    assert_eq!(a.focus, PaneId::Chart, "the digit did not switch panes");
}

/// Issue 25: with a 500-symbol universe the screen held every symbol's minute bars; now
/// only the watchlist's and the focused symbol's are kept, the others their last price and
/// prior day, and a symbol focused later has its bars loaded from a snapshot.
#[test]
fn only_the_watched_and_the_focused_symbols_keep_their_minute_bars() {
    let mut a = live_app();
    let (aapl, spy) = (sym("AAPL"), sym("SPY"));
    // 09:30 to 10:30 ET: sixty final minute bars for a watched symbol.
    assert_eq!(a.market.intraday[&spy].bars.len(), 60);
    let off_list = &a.market.intraday[&aapl];
    assert!(
        off_list.bars.is_empty(),
        "{} bars kept",
        off_list.bars.len()
    );
    assert!(off_list.last.is_some() && off_list.prior.is_some());

    let effects = a.set_focus(aapl.clone());
    assert!(
        effects.contains(&Effect::LoadBars(aapl.clone())),
        "{effects:?}"
    );
    // The shell answers with the latest snapshot: the focused symbol's bars come with it.
    let symbols: Vec<Symbol> = crate::provider::sim::DEFAULT_SYMBOLS
        .iter()
        .map(|s| sym(s))
        .collect();
    let market = SimMarket::new(42, &symbols, market_time().date_naive());
    use crate::runtime::feed::Playable;
    a.on_market(&MarketEvent::Snapshot(Arc::new(
        market.snapshot(market_time()),
    )));
    assert_eq!(a.market.intraday[&aapl].bars.len(), 60);
    assert!(a.market.intraday[&sym("MSFT")].bars.is_empty());

    // The next minute's bars: appended for the focused and watched symbols only.
    let at = market_time() + chrono::Duration::minutes(1);
    let Some(MarketEvent::Step { bars, .. }) = market.step_event(at) else {
        panic!("the simulation has a step at 10:31 ET");
    };
    assert!(bars.iter().any(|(s, _)| s == &sym("MSFT")));
    a.on_market(&MarketEvent::Step {
        at,
        quotes: Vec::new(),
        bars,
    });
    assert_eq!(a.market.intraday[&aapl].bars.len(), 61);
    assert_eq!(a.market.intraday[&spy].bars.len(), 61);
    assert!(a.market.intraday[&sym("MSFT")].bars.is_empty());

    // Focus back on a watched symbol: AAPL's bars go, nothing is asked for SPY's.
    let effects = a.set_focus(spy.clone());
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::LoadBars(_))),
        "{effects:?}"
    );
    assert!(a.market.intraday[&aapl].bars.is_empty());
    assert_eq!(a.market.intraday[&spy].bars.len(), 61);
}
