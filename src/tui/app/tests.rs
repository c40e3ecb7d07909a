use super::*;
use crate::gex::ExpiryFilter;
use crate::runtime::gex::GexRequest;
use crate::setups::ManualAction;
use crate::store::{SetupRow, StoredDetection, TrackResult};
use crate::tui::action::Action;
use crate::tui::app::Opportunity;

fn app() -> App {
    let watchlist: Vec<Symbol> = ["SPX", "NDX", "SPY", "QQQ"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    App::new(Startup::new(
        Keymap::default(),
        Source {
            provider: "sim".into(),
            database: "sqlite".into(),
            user: "local".into(),
        },
        &watchlist,
    ))
}

#[test]
fn number_keys_jump_to_their_pane_and_tab_cycles() {
    let mut a = app();
    assert_eq!(a.focus, PaneId::Scanner, "the scanner has focus at start");
    a.update(Action::FocusGex);
    assert_eq!(a.focus, PaneId::Gex);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, PaneId::Health);
    a.update(Action::FocusNext);
    a.update(Action::FocusNext);
    assert_eq!(a.focus, PaneId::Coach);
    a.update(Action::FocusNext);
    assert_eq!(
        a.focus,
        PaneId::Chart,
        "the Chart (8) follows the Coach (7)"
    );
    a.update(Action::FocusNext);
    assert_eq!(a.focus, PaneId::Stats, "Stats (9) follows the Chart (8)");
    a.update(Action::FocusNext);
    assert_eq!(a.focus, PaneId::Brief, "focus wraps from Stats to Brief");
    a.update(Action::FocusPrev);
    assert_eq!(a.focus, PaneId::Stats);
    a.update(Action::FocusBrief);
    a.update(Action::FocusChart);
    assert_eq!((a.focus, a.focus.number()), (PaneId::Chart, 8));
}

#[test]
fn help_opens_over_everything_and_closes_with_escape() {
    let mut a = app();
    a.update(Action::Help);
    assert_eq!(a.overlay, Some(Overlay::Help));
    a.update(Action::FocusGex);
    assert_eq!(
        a.focus,
        PaneId::Scanner,
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
    a.panes.setups.rows = vec![active_row(1), active_row(2)];
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
    a.panes.setups.rows = vec![active_row(1)];
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
    assert_eq!(a.selected(PaneId::Scanner), 2);
    for _ in 0..10 {
        a.update(Action::Down);
    }
    assert_eq!(a.selected(PaneId::Scanner), 3, "stops at the last row");
    a.update(Action::Up);
    assert_eq!(a.selected(PaneId::Scanner), 2);
}

#[test]
fn a_quote_updates_last_price_and_change_against_the_prior_close() {
    use crate::provider::Quote;
    let mut a = app();
    a.market.watchlist[2].prior_close = Some(680.0);
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 15, 0, 15).unwrap();
    let redraw = a.on_market(&MarketEvent::Step {
        at,
        quotes: vec![Quote {
            symbol: Symbol::parse("SPY").unwrap(),
            price: 683.4,
            at,
        }],
        bars: vec![],
    });
    assert!(redraw, "a new price redraws");
    let (points, pct) = a.market.watchlist[2].change().unwrap();
    assert!((points - 3.4).abs() < 1e-9);
    assert!((pct - 0.5).abs() < 1e-9);
    assert_eq!(a.market.watchlist[0].change(), None, "SPX has no quote yet");
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
    assert_eq!(a.focus, PaneId::Scanner);
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
    assert_eq!(a.market.watchlist.len(), 4);
}

#[test]
fn a_saved_watchlist_keeps_known_rows_and_adds_new_ones() {
    let mut a = app();
    a.market.watchlist[2].last = Some(683.0);
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
    assert_eq!(a.market.watchlist.len(), 2);
    assert_eq!(
        a.market.watchlist[0].last,
        Some(683.0),
        "SPY keeps its price"
    );
    assert_eq!(a.market.watchlist[1].last, None);
    assert_eq!(
        a.status.as_ref().unwrap().text,
        "watchlist saved: 2 symbols"
    );
}

#[test]
fn s_cycles_the_gex_symbol_through_the_watchlist_and_asks_for_its_profile() {
    let mut a = app();
    assert_eq!(a.focus_symbol.as_ref().map(Symbol::as_str), Some("SPX"));
    let effects = a.update(Action::GexSymbol);
    assert_eq!(a.focus, PaneId::Gex);
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
        a.focus_symbol.as_ref().map(Symbol::as_str),
        Some("SPX"),
        "wraps around"
    );
}

#[test]
fn e_cycles_the_expiry_filter_and_r_forces_a_recompute() {
    let mut a = app();
    a.update(Action::GexExpiry);
    assert_eq!(a.panes.gex.filter(), ExpiryFilter::ZeroDte);
    a.update(Action::GexExpiry);
    assert_eq!(a.panes.gex.filter(), ExpiryFilter::Next(1));
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
    a.settings.has_chains = false;
    assert!(a.update(Action::GexSymbol).is_empty());
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("no options chains")
    );
}

fn at_market() -> chrono::DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 15, 30, 0).unwrap()
}

fn detection(id: i64) -> StoredDetection {
    use crate::domain::{Detection, Direction, SetupKind};
    StoredDetection {
        id,
        detection: Detection {
            symbol: Symbol::parse("SPY").unwrap(),
            kind: SetupKind::OrbBreakout,
            direction: Direction::Long,
            confidence: 80,
            entry: 681.25,
            stop: 679.80,
            target: 683.50,
            detected_at: at_market(),
            bar_time: at_market() - chrono::Duration::minutes(1),
            market_date: at_market().date_naive(),
            dedup_key: format!("k{id}"),
            rationale: "close above the range".into(),
            gex: None,
        },
    }
}

fn active_row(id: i64) -> SetupRow {
    let setup = crate::setups::TrackedSetup::track(
        id,
        Some(id),
        &detection(id).detection,
        false,
        at_market(),
    )
    .unwrap();
    SetupRow {
        setup,
        notes: String::new(),
    }
}

fn with_opportunity() -> App {
    let mut a = app();
    a.market.now = Some(at_market());
    a.on_event(AppEvent::Detection(detection(7)));
    a
}

#[test]
fn t_on_an_opportunity_tracks_it_at_market_time_and_shows_saving_then_saved() {
    let mut a = with_opportunity();
    for _ in 0..4 {
        a.update(Action::Down);
    }
    let effects = a.update(Action::Track);
    assert_eq!(
        effects,
        vec![Effect::Track {
            detection: detection(7),
            at: at_market()
        }]
    );
    assert_eq!(
        a.panes.scanner.track_states.get(&7),
        Some(&TrackState::Saving)
    );
    assert!(
        a.update(Action::Track).is_empty(),
        "no second write while saving"
    );
    a.on_event(AppEvent::Tracked {
        detection_id: 7,
        result: Ok(TrackResult::Tracked(active_row(1))),
    });
    assert_eq!(
        a.panes.scanner.track_states.get(&7),
        Some(&TrackState::Saved)
    );
    assert_eq!(a.panes.setups.rows.len(), 1);
    assert_eq!(a.active_setups(), 1);
}

#[test]
fn tracking_twice_says_already_tracked_and_shows_duplicate() {
    let mut a = with_opportunity();
    a.on_event(AppEvent::Tracked {
        detection_id: 7,
        result: Ok(TrackResult::AlreadyTracked(active_row(1))),
    });
    assert_eq!(
        a.panes.scanner.track_states.get(&7),
        Some(&TrackState::Duplicate)
    );
    let status = a.status.clone().unwrap();
    assert!(
        status.text.contains("already tracked as setup 1 (active)"),
        "{}",
        status.text
    );
    a.on_event(AppEvent::Tracked {
        detection_id: 8,
        result: Err("database is locked".into()),
    });
    assert!(matches!(
        a.panes.scanner.track_states.get(&8),
        Some(TrackState::Error(_))
    ));
}

#[test]
fn t_on_a_watchlist_row_or_another_pane_explains_what_to_select() {
    let mut a = with_opportunity();
    assert!(
        a.update(Action::Track).is_empty(),
        "row 0 is a watchlist symbol"
    );
    assert!(
        a.status
            .as_ref()
            .unwrap()
            .text
            .contains("select an opportunity")
    );
}

#[test]
fn lifecycle_keys_act_on_the_selected_setup_in_the_setups_pane() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(2), active_row(1)];
    a.update(Action::FocusSetups);
    a.update(Action::Down);
    let manual = |action| {
        vec![Effect::Manual {
            id: 1,
            action,
            at: at_market(),
        }]
    };
    assert_eq!(a.update(Action::Trigger), manual(ManualAction::Trigger));
    assert_eq!(
        a.update(Action::Invalidate),
        manual(ManualAction::Invalidate)
    );
    assert_eq!(a.update(Action::Archive), manual(ManualAction::Archive));
    assert_eq!(a.update(Action::Reopen), manual(ManualAction::Reopen));
    a.update(Action::FocusScanner);
    assert!(a.update(Action::Archive).is_empty());
    assert!(a.status.as_ref().unwrap().text.contains("focus Setups"));
}

#[test]
fn delete_asks_first_and_only_y_deletes() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(3)];
    a.update(Action::FocusSetups);
    assert!(a.update(Action::Delete).is_empty());
    assert_eq!(a.overlay, Some(Overlay::ConfirmDelete { id: 3 }));
    assert!(press(&mut a, crossterm::event::KeyCode::Char('n')).is_empty());
    assert_eq!(a.overlay, None);
    a.update(Action::Delete);
    assert_eq!(
        press(&mut a, crossterm::event::KeyCode::Char('y')),
        vec![Effect::Delete { id: 3 }]
    );
    a.on_event(AppEvent::SetupDeleted(3));
    assert!(a.panes.setups.rows.is_empty());
}

#[test]
fn n_edits_the_note_and_enter_saves_it() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(4)];
    a.update(Action::FocusSetups);
    a.update(Action::Note);
    type_text(&mut a, "wait for vwap");
    let effects = press(&mut a, crossterm::event::KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::SaveNote {
            id: 4,
            text: "wait for vwap".into(),
            at: at_market()
        }]
    );
}

#[test]
fn f_cycles_the_status_filter() {
    let mut a = with_opportunity();
    let mut archived = active_row(5);
    archived.setup.status = crate::setups::SetupStatus::Archived;
    a.panes.setups.rows = vec![active_row(6), archived];
    a.update(Action::FocusSetups);
    assert_eq!(a.visible_setups().len(), 2, "all by default");
    a.update(Action::Filter);
    assert_eq!(a.panes.setups.filter, StatusFilter::Active);
    assert_eq!(a.visible_setups().len(), 1);
    for _ in 0..3 {
        a.update(Action::Filter);
    }
    assert_eq!(a.panes.setups.filter, StatusFilter::Archived);
    assert_eq!(a.visible_setups()[0].setup.id, 5);
}

#[test]
fn enter_opens_the_details_and_loads_the_history() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(9)];
    a.update(Action::FocusSetups);
    assert_eq!(
        a.update(Action::Details),
        vec![Effect::LoadHistory { id: 9 }]
    );
    a.on_event(AppEvent::History {
        id: 9,
        events: vec![],
        rationale: None,
    });
    assert_eq!(
        a.overlay,
        Some(Overlay::Details {
            id: 9,
            history: Some(vec![])
        })
    );
    a.update(Action::Back);
    assert_eq!(a.overlay, None);
}

fn details_screen(a: &App) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| crate::tui::view::draw(f, a, &crate::tui::theme::Theme::ansi16(), at_market()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn a_setups_details_show_the_calibrated_confidence_beside_the_raw_score() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(7)];
    a.update(Action::FocusSetups);
    a.update(Action::Details);
    a.on_event(AppEvent::History {
        id: 7,
        events: vec![],
        rationale: None,
    });
    let raw = details_screen(&a);
    assert!(raw.contains("confidence 80"), "{raw}");
    assert!(
        !raw.contains("calibrated"),
        "no map, nothing calibrated:\n{raw}"
    );
    // a map for orb_breakout that reads every score as 35 %
    let samples: Vec<(u8, bool)> = (0..20).map(|i| (80, i < 7)).collect();
    a.panes.scanner.calibrations = crate::stats::Calibrations::new([(
        crate::domain::SetupKind::OrbBreakout,
        crate::stats::CalibrationMap::fit(&samples).unwrap(),
    )]);
    let calibrated = details_screen(&a);
    assert!(
        calibrated.contains("confidence 35 (calibrated win chance; raw score 80)"),
        "{calibrated}"
    );
}

#[test]
fn the_history_redraws_the_details_popup_at_once_and_only_its_own() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(9)];
    a.update(Action::FocusSetups);
    a.update(Action::Details);
    let event = crate::store::SetupEvent {
        id: 1,
        setup_id: 9,
        from_status: None,
        to_status: crate::setups::SetupStatus::Active,
        reason: "tracked".into(),
        price: None,
        realised_r: None,
        actor: "ann".into(),
        at: at_market(),
    };
    assert!(
        !a.on_event(AppEvent::History {
            id: 8,
            events: vec![event.clone()],
            rationale: None,
        }),
        "another setup's history changes nothing on screen"
    );
    assert_eq!(
        a.overlay,
        Some(Overlay::Details {
            id: 9,
            history: None
        })
    );
    assert!(
        a.on_event(AppEvent::History {
            id: 9,
            events: vec![event.clone()],
            rationale: None,
        }),
        "the popup's own history is drawn with the next frame, not at the next tick"
    );
    assert_eq!(
        a.overlay,
        Some(Overlay::Details {
            id: 9,
            history: Some(vec![event.clone()])
        })
    );
    a.update(Action::Back);
    assert!(
        !a.on_event(AppEvent::History {
            id: 9,
            events: vec![event],
            rationale: None,
        }),
        "a history after the popup closed is dropped"
    );
}

#[test]
fn worker_events_say_whether_the_screen_must_redraw() {
    let mut a = with_opportunity();
    assert!(a.on_event(AppEvent::Notice("hello".into())));
    let same = a.panes.chart.alerts.clone();
    assert!(
        !a.on_event(AppEvent::AlertsChanged {
            user: crate::store::UserId(1),
            alerts: same,
        }),
        "the same alerts again change nothing"
    );
    let known = a.panes.scanner.opportunities[0].clone();
    assert!(
        !a.on_event(AppEvent::Detection(known)),
        "a detection already listed changes nothing"
    );
    let workers = a.workers().to_vec();
    assert!(
        !a.on_health(workers),
        "the same workers again change nothing"
    );
}

#[test]
fn an_older_version_of_a_setup_never_replaces_a_newer_one() {
    let mut a = with_opportunity();
    let mut newer = active_row(1);
    newer.setup.version = 3;
    newer.setup.status = crate::setups::SetupStatus::Triggered;
    a.panes.setups.rows = vec![newer];
    a.on_event(AppEvent::SetupChanged {
        user: crate::store::UserId(1),
        row: active_row(1),
        transition: None,
    });
    assert_eq!(a.panes.setups.rows[0].setup.version, 3);
}

#[test]
fn relative_volume_is_the_last_minute_against_the_twenty_before() {
    let mut row = app().market.watchlist[2].clone();
    row.volumes = vec![1000.0; 20];
    row.volumes.push(3000.0);
    assert_eq!(row.relative_volume(), Some(3.0));
    row.volumes = vec![0.0; 30];
    assert_eq!(row.relative_volume(), None, "an index has no volume");
    row.volumes = vec![1000.0, 2000.0];
    assert_eq!(row.relative_volume(), None, "too little history");
}

#[test]
fn the_scanner_lists_plans_before_heads_up_signals_and_t_explains_a_signal() {
    let mut a = with_opportunity();
    a.market.watchlist[2].closes = vec![682.0, 683.0];
    a.on_event(AppEvent::Levels {
        symbol: Symbol::parse("SPY").unwrap(),
        levels: vec![("PDH", 683.10), ("PDL", 670.0)],
    });
    let rows = a.opportunity_rows();
    assert_eq!(rows.len(), 2, "the detection and the PDH signal");
    assert!(
        matches!(rows[0], Opportunity::Detection(_)),
        "the plan first, although at PDH scores 88 above its 80: heads-ups are their own section"
    );
    assert!(matches!(rows[1], Opportunity::Signal(_)));
    drop(rows);
    for _ in 0..4 {
        a.update(Action::Down);
    }
    assert_eq!(
        a.update(Action::Track),
        vec![Effect::Track {
            detection: detection(7),
            at: at_market()
        }]
    );
    a.update(Action::Down);
    assert!(a.update(Action::Track).is_empty());
    let text = a.status.clone().unwrap().text;
    assert!(
        text.contains("SPY at PDH 683.10") && text.contains("without a plan"),
        "{text}"
    );
}

#[test]
fn a_quote_older_than_two_market_minutes_is_stale() {
    let mut row = app().market.watchlist[2].clone();
    let session = crate::market::calendar::session(at_market().date_naive());
    row.last_at = Some(at_market());
    assert!(!row.is_stale(Some(at_market() + chrono::Duration::minutes(2)), session));
    assert!(row.is_stale(Some(at_market() + chrono::Duration::seconds(121)), session));
    assert!(
        !row.is_stale(None, session),
        "no market clock yet: nothing to judge"
    );
    let close = session.unwrap().close;
    row.last_at = Some(close - chrono::Duration::minutes(1));
    assert!(
        !row.is_stale(Some(close + chrono::Duration::hours(1)), session),
        "after the close an index that stopped trading is not stale"
    );
}

fn coach_app() -> App {
    let mut a = with_opportunity();
    a.panes.coach.configured = true;
    a
}

#[test]
fn seven_opens_the_coach_prompt_and_typed_keys_are_the_question() {
    use crossterm::event::KeyCode;
    let mut a = coach_app();
    a.update(Action::FocusCoach);
    assert_eq!(a.focus, PaneId::Coach);
    assert!(a.panes.coach.editing);
    // Keys bound elsewhere (q, 1, t) are text while the prompt is open.
    type_text(&mut a, "q1t flip?");
    assert_eq!(a.panes.coach.input.text, "q1t flip?");
    let effects = press(&mut a, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::CoachAsk {
            question: "q1t flip?".into(),
            context: None
        }]
    );
    assert!(a.panes.coach.running && !a.panes.coach.editing);
    assert_eq!(
        a.panes.coach.transcript,
        vec![CoachLine::Question("q1t flip?".into())]
    );
    // Esc while it answers cancels the question.
    assert_eq!(press(&mut a, KeyCode::Esc), vec![Effect::CoachCancel]);
}

#[test]
fn streamed_text_tool_lines_and_the_answer_build_the_transcript() {
    use crate::coach::CoachEvent;
    let mut a = coach_app();
    a.update(Action::FocusCoach);
    type_text(&mut a, "flip?");
    press(&mut a, crossterm::event::KeyCode::Enter);
    for event in [
        CoachEvent::ToolCall {
            name: "get_gamma_exposure".into(),
            arguments: "{\"symbol\":\"SPX\"}".into(),
        },
        CoachEvent::ToolResult {
            name: "get_gamma_exposure".into(),
            summary: "SPX (all) spot 6994.05 · flip 6973.15".into(),
            is_error: false,
        },
        CoachEvent::Text("The flip is ".into()),
        CoachEvent::Text("6973.15.".into()),
        CoachEvent::Answer("The flip is 6973.15.".into()),
    ] {
        a.on_event(AppEvent::Coach(event));
    }
    assert_eq!(
        a.panes.coach.transcript.last(),
        Some(&CoachLine::Answer("The flip is 6973.15.".into()))
    );
    assert_eq!(a.panes.coach.transcript.len(), 4);
    assert!(!a.panes.coach.running);
    assert!(a.panes.coach.editing, "the prompt is open for a follow-up");
    // A failure is shown in the pane and on the status line.
    a.on_event(AppEvent::Coach(CoachEvent::Failed("timed out".into())));
    assert_eq!(
        a.panes.coach.transcript.last(),
        Some(&CoachLine::Error("timed out".into()))
    );
    assert!(a.status.as_ref().is_some_and(|s| s.is_error));
}

#[test]
fn c_on_a_scanner_detection_asks_about_it_with_its_facts() {
    let mut a = coach_app();
    // Past the watchlist rows onto the first opportunity.
    a.update(Action::FocusScanner);
    for _ in 0..a.market.watchlist.len() {
        a.update(Action::Down);
    }
    a.update(Action::AskCoach);
    assert_eq!(a.focus, PaneId::Coach);
    assert!(a.panes.coach.editing);
    assert_eq!(
        a.panes.coach.input.text,
        "Is this SPY orb_breakout long worth taking here?"
    );
    let effects = press(&mut a, crossterm::event::KeyCode::Enter);
    let [
        Effect::CoachAsk {
            context: Some(facts),
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert!(facts.starts_with("Scanner detection id 7: SPY orb_breakout long (score 80), entry 681.25, stop 679.80, target 683.50"), "{facts}");
    assert_eq!(
        a.panes.coach.context, None,
        "the facts go with one question"
    );
}

#[test]
fn c_on_a_tracked_setup_is_the_follow_up_and_c_elsewhere_says_where_it_works() {
    let mut a = coach_app();
    a.panes.setups.rows = vec![active_row(12)];
    a.update(Action::FocusSetups);
    a.update(Action::AskCoach);
    assert_eq!(a.focus, PaneId::Coach);
    let (label, facts) = a.panes.coach.context.clone().unwrap();
    assert_eq!(label, "SPY ORB long setup #12");
    assert!(
        facts.starts_with("Tracked setup id 12: SPY orb_breakout long, entry 681.25"),
        "{facts}"
    );
    assert!(
        a.panes
            .coach
            .input
            .text
            .starts_with("How is my SPY orb_breakout long setup doing")
    );

    let mut b = coach_app();
    b.update(Action::FocusGex);
    b.update(Action::AskCoach);
    assert_eq!(b.focus, PaneId::Gex);
    assert!(
        b.status
            .as_ref()
            .is_some_and(|s| s.is_error && s.text.contains("Scanner or Setups"))
    );
}

#[test]
fn the_coachs_track_question_needs_y_and_anything_else_declines() {
    use crate::coach::{CoachEvent, ConfirmReply};
    for (key, expected) in [('y', true), ('n', false)] {
        let mut a = coach_app();
        let (reply, mut answer) = ConfirmReply::new();
        a.on_event(AppEvent::Coach(CoachEvent::Confirm {
            question: "Track SPY?".into(),
            reply,
        }));
        assert!(matches!(a.overlay, Some(Overlay::ConfirmCoach { .. })));
        assert_eq!(
            answer.try_recv(),
            Err(tokio::sync::oneshot::error::TryRecvError::Empty),
            "nothing before a key"
        );
        press(&mut a, crossterm::event::KeyCode::Char(key));
        assert_eq!(a.overlay, None);
        assert_eq!(answer.try_recv(), Ok(expected));
    }
}

#[test]
fn an_unconfigured_coach_opens_without_a_prompt() {
    let mut a = with_opportunity();
    a.update(Action::FocusCoach);
    assert_eq!(a.focus, PaneId::Coach);
    assert!(!a.panes.coach.editing);
    assert_eq!(
        press(&mut a, crossterm::event::KeyCode::Char('q')),
        vec![Effect::Quit]
    );
}

#[test]
fn k_and_j_scroll_the_coach_transcript_with_the_prompt_closed() {
    let mut a = coach_app();
    a.update(Action::FocusCoach);
    press(&mut a, crossterm::event::KeyCode::Esc);
    assert!(!a.panes.coach.editing);
    a.update(Action::Up);
    a.update(Action::Up);
    assert_eq!(a.panes.coach.scroll, 2);
    a.update(Action::Down);
    a.update(Action::Down);
    a.update(Action::Down);
    assert_eq!(a.panes.coach.scroll, 0, "never below the newest line");
}

#[test]
fn an_attached_screen_lists_its_own_workers_then_the_servers() {
    let mut a = app();
    let record = |name: &str| {
        let health = crate::runtime::health::Health::default();
        health.register(name, std::time::Duration::from_secs(1));
        health.snapshot().remove(0)
    };
    a.on_health(vec![record("database")]);
    a.on_event(AppEvent::RemoteWorkers(vec![record("box-1 feed")]));
    let names: Vec<&str> = a.workers().iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["database", "box-1 feed"]);
    // A local update keeps the servers' records.
    a.on_health(vec![record("database"), record("listen")]);
    assert_eq!(a.workers().len(), 3);
}

#[test]
fn a_watchlist_loaded_from_the_store_replaces_the_rows_quietly() {
    let mut a = app();
    let list = crate::store::Watchlist {
        id: 1,
        name: "Default".into(),
        symbols: vec![Symbol::parse("TSLA").unwrap()],
        is_default: true,
        updated_at: chrono::Utc::now(),
    };
    a.on_event(AppEvent::WatchlistLoaded(list));
    let symbols: Vec<&str> = a
        .market
        .watchlist
        .iter()
        .map(|r| r.symbol.as_str())
        .collect();
    assert_eq!(symbols, ["TSLA"]);
    assert!(a.status.is_none(), "not announced as the trader's own save");
}

#[test]
fn a_status_change_read_back_from_the_store_is_announced() {
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(1)];
    let mut triggered = active_row(1);
    triggered.setup.version += 1;
    triggered.setup.status = crate::setups::SetupStatus::Triggered;
    a.on_event(AppEvent::SetupChanged {
        user: crate::store::UserId(1),
        row: triggered,
        transition: None,
    });
    let status = a.status.clone().expect("announced");
    assert!(
        status.text.contains("active → triggered"),
        "{}",
        status.text
    );
    // A note written elsewhere changes no status: nothing to announce.
    a.status = None;
    let mut noted = a.panes.setups.rows[0].clone();
    noted.setup.version += 1;
    noted.notes = "scale out at VWAP".into();
    a.on_event(AppEvent::SetupChanged {
        user: crate::store::UserId(1),
        row: noted,
        transition: None,
    });
    assert!(a.status.is_none());
}

mod focus;
mod navigation;
mod brief {
    use super::*;
    use crate::runtime::brief::BriefRequest;
    use chrono::TimeZone;

    fn ny(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
        crate::market::calendar::ny_instant(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap(),
        )
    }

    #[test]
    fn the_brief_is_the_first_pane_before_the_open_only() {
        assert_eq!(initial_pane(ny(9, 29)), PaneId::Brief);
        assert_eq!(initial_pane(ny(7, 0)), PaneId::Brief);
        assert_eq!(initial_pane(ny(9, 30)), PaneId::Scanner);
        assert_eq!(initial_pane(ny(17, 0)), PaneId::Scanner);
        // Saturday: no open today, the current behaviour stays
        let saturday = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 13, 0, 0)
            .unwrap();
        assert_eq!(initial_pane(saturday), PaneId::Scanner);
    }

    #[test]
    fn opening_the_pane_asks_for_freshness_r_regenerates_and_v_previews() {
        let mut a = app();
        assert_eq!(
            a.update(Action::FocusBrief),
            vec![Effect::Brief(BriefRequest::Opened)]
        );
        assert!(a.update(Action::FocusBrief).is_empty(), "already open");
        assert_eq!(
            a.update(Action::Refresh),
            vec![Effect::Brief(BriefRequest::Regenerate)]
        );
        assert_eq!(a.status.as_ref().unwrap().text, "regenerating the brief…");
        a.update(Action::FocusGex);
        assert_eq!(
            a.update(Action::BriefPreview),
            vec![Effect::Brief(BriefRequest::PreviewNext { after: None })]
        );
        assert_eq!(a.focus, PaneId::Brief);
    }

    #[test]
    fn a_preview_is_marked_and_scrolling_stays_within_the_brief() {
        let mut a = app();
        let calendar = crate::brief::EconCalendar::shipped();
        let brief = crate::brief::build(&crate::brief::BriefInputs {
            now: ny(8, 0),
            market_date: ny(8, 0).date_naive(),
            watchlist: "Tech".into(),
            symbols: &[crate::brief::SymbolInput::new(
                Symbol::parse("AAPL").unwrap(),
            )],
            calendar: &calendar,
            positions: &[],
            setups: &[],
        })
        .unwrap();
        let lines = crate::brief::render::text_lines(&brief).len();
        a.on_event(AppEvent::Brief {
            brief: std::sync::Arc::new(brief),
            preview: true,
        });
        assert!(
            a.status
                .as_ref()
                .unwrap()
                .text
                .contains("Tech (not stored)")
        );
        a.update(Action::FocusBrief);
        for _ in 0..lines + 10 {
            a.update(Action::Down);
        }
        assert_eq!(a.selected(PaneId::Brief), lines - 1);
        assert_eq!(
            a.update(Action::BriefPreview),
            vec![Effect::Brief(BriefRequest::PreviewNext {
                after: Some("Tech".into())
            })]
        );
    }

    #[test]
    fn the_first_snapshot_picks_the_brief_unless_the_trader_picked_a_pane() {
        use crate::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
        use crate::runtime::feed::Playable;
        let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
            .iter()
            .map(|s| Symbol::parse(s).unwrap())
            .collect();
        let market = SimMarket::new(42, &symbols, ny(8, 0).date_naive());
        let snapshot = std::sync::Arc::new(market.snapshot(ny(9, 25)));
        let mut a = app();
        a.on_market(&MarketEvent::Snapshot(snapshot.clone()));
        assert_eq!(a.focus, PaneId::Brief);
        let mut b = app();
        b.update(Action::FocusGex);
        b.on_market(&MarketEvent::Snapshot(snapshot));
        assert_eq!(b.focus, PaneId::Gex, "the trader's choice stands");
    }
}

#[test]
fn z_on_a_tracked_setup_snoozes_it_for_the_rest_of_the_session_with_3() {
    use crate::notify::snooze::{SnoozeFor, SnoozeTarget};
    let mut a = with_opportunity();
    a.panes.setups.rows = vec![active_row(2), active_row(1)];
    a.update(Action::FocusSetups);
    a.update(Action::Down);
    assert!(a.update(Action::Snooze).is_empty());
    assert_eq!(
        a.overlay,
        Some(Overlay::Snooze {
            target: SnoozeTarget::Setup(1)
        })
    );
    assert_eq!(
        press(&mut a, crossterm::event::KeyCode::Char('3')),
        vec![Effect::Snooze {
            target: SnoozeTarget::Setup(1),
            choice: SnoozeFor::RestOfSession
        }]
    );
    a.panes.setups.rows.clear();
    a.update(Action::Snooze);
    assert_eq!(a.overlay, None);
    assert!(a.status.as_ref().unwrap().text.contains("nothing selected"));
}

#[test]
fn a_new_session_forgets_yesterdays_tracking_marks_but_not_a_save_on_its_way() {
    use crate::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
    use crate::runtime::feed::Playable;
    let mut a = with_opportunity();
    a.on_event(AppEvent::Tracked {
        detection_id: 7,
        result: Ok(TrackResult::Tracked(active_row(1))),
    });
    a.panes.scanner.track_states.insert(8, TrackState::Saving);
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    for day in [24, 25] {
        let open = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, day, 14, 30, 0).unwrap();
        let market = SimMarket::new(42, &symbols, open.date_naive());
        a.on_market(&MarketEvent::Snapshot(std::sync::Arc::new(
            market.snapshot(open),
        )));
        assert_eq!(a.market().session.map(|s| s.date), Some(open.date_naive()));
    }
    assert_eq!(
        a.panes.scanner.track_states.get(&7),
        None,
        "Monday's saved mark is gone on Tuesday"
    );
    assert_eq!(
        a.panes.scanner.track_states.get(&8),
        Some(&TrackState::Saving),
        "a save still on its way keeps its mark until its answer"
    );
}
