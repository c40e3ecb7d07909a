//! The scanner pane alone, at the two sizes a trader uses (80×24 and 120×40).

use crate::tui::action::Action;
use crate::tui::app::PaneId;
use crate::tui::panes::test_support::{full_app, market_time, pane_screen, symbol};

#[test]
fn the_scanner_at_80_by_24_lists_the_watchlist_then_the_best_detection_first() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    assert!(
        screen.contains("▶ 2 Scanner · 4 watched · 2 plans · 0 ○ heads-up"),
        "{screen}"
    );
    let spy = screen.find("ORB").expect("the SPY detection is listed");
    let qqq = screen
        .find("vwap-rcl")
        .expect("the QQQ detection is listed");
    assert!(spy < qqq, "score 72 before score 64:\n{screen}");
    insta::assert_snapshot!(screen);
}

/// Stored backtest statistics: ORB with 25 trades on SPY (its own line) and 193 over all
/// symbols; vwap_reclaim over all symbols only, `vwap_avg_r` per trade over 120 trades with
/// the given 95 % interval.
fn backtest_stats(vwap_avg_r: f64, vwap_ci: [f64; 2]) -> crate::runtime::AppEvent {
    use crate::stats::{GroupKey, GroupRow, GroupStats};
    use crate::store::{BacktestRun, SOURCE_SCHEDULED, StoredBacktest};
    let row =
        |kind: &str, symbol: Option<&str>, n: u64, win: f64, avg: f64, ci: [f64; 2]| GroupRow {
            key: GroupKey {
                kind: Some(kind.into()),
                symbol: symbol.map(str::to_string),
                ..GroupKey::default()
            },
            stats: GroupStats {
                detections: n + 10,
                triggered: n,
                win_rate: Some(win),
                avg_r: Some(avg),
                avg_r_ci95: Some(ci),
                ..GroupStats::default()
            },
        };
    crate::runtime::AppEvent::BacktestStats(std::sync::Arc::new(StoredBacktest {
        id: 1,
        run: BacktestRun {
            ran_at: market_time(),
            from: None,
            to: None,
            symbols: vec!["SPY".into(), "QQQ".into()],
            bars: 0,
            sessions: 0,
            slippage: 0.01,
            version: "test".into(),
            source: SOURCE_SCHEDULED.into(),
        },
        rows: vec![
            row("orb_breakout", None, 193, 0.42, 0.06, [-0.1, 0.22]),
            row("orb_breakout", Some("SPY"), 25, 0.52, 0.31, [-0.1, 0.7]),
            row("vwap_reclaim", None, 120, 0.38, vwap_avg_r, vwap_ci),
            row("vwap_reclaim", Some("QQQ"), 19, 0.3, -0.2, [-0.9, 0.5]),
        ],
    }))
}

#[test]
fn the_edge_column_shows_the_symbols_history_or_the_kinds_marked_all() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    let before = pane_screen(&app, PaneId::Scanner, 80, 24);
    assert!(before.contains("Edge (win · avg R · n)"), "{before}");
    assert!(app.on_event(backtest_stats(0.04, [-0.15, 0.23])));
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    // SPY has 25 ORB trades of its own; QQQ's 19 vwap trades are too few: the kind's
    let spy = screen.lines().find(|l| l.contains("ORB")).unwrap();
    assert!(
        spy.contains("52 % · +0.31 R · n 25") && !spy.contains("all"),
        "{spy}"
    );
    let qqq = screen.lines().find(|l| l.contains("vwap-rcl")).unwrap();
    assert!(qqq.contains("38 % · +0.04 R · n 120 all"), "{qqq}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_kind_whose_mean_r_interval_is_below_zero_over_100_trades_reads_negative_edge() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    app.on_event(backtest_stats(-0.5, [-0.71, -0.29]));
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    let qqq = screen.lines().find(|l| l.contains("vwap-rcl")).unwrap();
    assert!(qqq.contains("negative edge −0.50 R n 120"), "{qqq}");
    // an interval that reaches zero is not evidence of a losing setup
    app.on_event(backtest_stats(-0.5, [-1.1, 0.1]));
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    let qqq = screen.lines().find(|l| l.contains("vwap-rcl")).unwrap();
    assert!(qqq.contains("38 % · −0.50 R · n 120 all"), "{qqq}");
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

/// The detection ids the Scanner lists as plans, in order.
fn plans(app: &crate::tui::app::App) -> Vec<i64> {
    app.opportunity_rows()
        .iter()
        .filter_map(|o| match o {
            crate::tui::app::Opportunity::Detection(d) => Some(d.id),
            crate::tui::app::Opportunity::Signal(_) => None,
        })
        .collect()
}

/// One final SPY minute bar at `minute` past the market time, trading `low`..`high`.
fn spy_bar(app: &mut crate::tui::app::App, minute: i64, low: f64, high: f64) {
    use crate::domain::Bar;
    use crate::provider::MarketEvent;
    let start = market_time() + chrono::Duration::minutes(minute);
    app.on_market(&MarketEvent::Step {
        at: start + chrono::Duration::minutes(1),
        quotes: vec![],
        bars: vec![(
            symbol("SPY"),
            Bar {
                start,
                open: high,
                high,
                low,
                close: low,
                volume: 1000.0,
            },
        )],
    });
}

#[test]
fn a_plan_whose_stop_trades_leaves_the_scanner_and_the_other_stays() {
    let mut app = full_app();
    assert_eq!(plans(&app), [41, 42], "SPY ORB, then QQQ vwap-rcl");
    let spy = app.panes().scanner.opportunities()[0].detection.clone();
    assert_eq!(spy.symbol.as_str(), "SPY");
    // a bar just above the stop keeps it; one through the stop ends it
    spy_bar(&mut app, 0, spy.stop + 0.01, spy.entry);
    assert_eq!(plans(&app), [41, 42]);
    spy_bar(&mut app, 1, spy.stop - 0.05, spy.entry);
    assert_eq!(plans(&app), [42], "the SPY plan is dead: its stop traded");
    assert_eq!(
        app.panes().scanner.opportunities().len(),
        2,
        "it is still known (the history keeps it), only no longer listed"
    );
}

/// Issue 22 item 1: when the highlighted plan leaves the list, the selection moves to
/// its neighbour (the row it was on), not to the top, and the status line says so.
#[test]
fn when_the_selected_plan_dies_its_neighbour_is_selected_and_the_status_line_says_so() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    for _ in 0..4 {
        app.update(Action::Down);
    }
    let watchlist = app.market().watchlist.len();
    assert_eq!(app.selected(PaneId::Scanner), watchlist, "the SPY ORB plan");
    let spy = app.panes().scanner.opportunities()[0].detection.clone();
    spy_bar(&mut app, 0, spy.stop - 0.05, spy.entry);
    assert_eq!(plans(&app), [42], "the SPY plan is dead: its stop traded");
    assert_eq!(
        app.selected(PaneId::Scanner),
        watchlist,
        "its neighbour took its row, not the first one"
    );
    assert_eq!(
        app.selected_symbol(PaneId::Scanner).map(|s| s.to_string()),
        Some("QQQ".to_string())
    );
    let said = app.status().map(|s| s.text.clone()).unwrap_or_default();
    assert_eq!(said, "SPY ORB left the Scanner; selected: QQQ vwap-rcl");
    // Another step with the selection still there says nothing new.
    app.say("quiet");
    spy_bar(&mut app, 1, spy.stop - 0.05, spy.entry);
    assert_eq!(app.status().unwrap().text, "quiet");
}

#[test]
fn a_plan_whose_target_trades_leaves_too() {
    let mut app = full_app();
    let spy = app.panes().scanner.opportunities()[0].detection.clone();
    spy_bar(&mut app, 0, spy.entry, spy.target + 0.02);
    assert_eq!(plans(&app), [42]);
}

#[test]
fn a_plan_older_than_its_life_leaves_and_the_close_clears_them_all() {
    let mut app = full_app();
    // both were detected 2 minutes before the market time; a later step ages them
    let step = |app: &mut crate::tui::app::App, minutes: i64| {
        app.on_market(&crate::provider::MarketEvent::Step {
            at: market_time() + chrono::Duration::minutes(minutes),
            quotes: vec![],
            bars: vec![],
        });
    };
    step(&mut app, 58);
    assert_eq!(plans(&app), [41, 42], "60 minutes old: still listed");
    step(&mut app, 59);
    assert!(plans(&app).is_empty(), "past an hour: gone");
    let mut young = full_app();
    let close = young.market().session.expect("a session").close;
    young.on_event(crate::runtime::AppEvent::Detection(
        crate::store::StoredDetection {
            id: 50,
            detection: crate::domain::Detection {
                detected_at: close - chrono::Duration::minutes(10),
                bar_time: close - chrono::Duration::minutes(11),
                dedup_key: "young".into(),
                ..young.panes().scanner.opportunities()[1].detection.clone()
            },
        },
    ));
    let minutes_to_close = (close - market_time()).num_minutes();
    step(&mut young, minutes_to_close - 1);
    assert!(!young.opportunity_rows().is_empty());
    step(&mut young, minutes_to_close);
    assert!(
        young.opportunity_rows().is_empty(),
        "after the close the session's opportunities are cleared"
    );
}

#[test]
fn heads_up_rows_follow_the_plans_with_their_marker_and_the_title_counts_both() {
    let mut app = full_app();
    app.update(Action::FocusScanner);
    // SPY's last close sits 0.10 under its prior day's high: a heads-up
    let close = *app.market().watchlist[2].closes.last().expect("SPY closes");
    app.on_event(crate::runtime::AppEvent::Levels {
        symbol: symbol("SPY"),
        levels: vec![("PDH", close + 0.10)],
    });
    let rows = app.opportunity_rows();
    assert!(
        matches!(rows.last(), Some(crate::tui::app::Opportunity::Signal(_))),
        "the PDH heads-up is listed"
    );
    let first_signal = rows
        .iter()
        .position(|o| matches!(o, crate::tui::app::Opportunity::Signal(_)));
    if let Some(i) = first_signal {
        assert!(
            rows[i..]
                .iter()
                .all(|o| matches!(o, crate::tui::app::Opportunity::Signal(_))),
            "no plan below a heads-up"
        );
    }
    let heads_up = rows.len() - plans(&app).len();
    let screen = pane_screen(&app, PaneId::Scanner, 120, 40);
    assert!(
        screen.contains(&format!("2 plans · {heads_up} ○ heads-up")),
        "{screen}"
    );
    assert_eq!(screen.matches('○').count(), heads_up + 1, "{screen}");
}

/// A flat map: every raw score of `kind` reads as `percent` % (fitted on one score whose
/// trades won `percent` of the time).
fn flat(
    kind: crate::domain::SetupKind,
    percent: usize,
) -> (crate::domain::SetupKind, crate::stats::CalibrationMap) {
    let samples: Vec<(u8, bool)> = (0..100).map(|i| (50, i < percent)).collect();
    (kind, crate::stats::CalibrationMap::fit(&samples).unwrap())
}

#[test]
fn with_a_stored_calibration_the_scanner_shows_and_ranks_the_calibrated_score() {
    use crate::domain::SetupKind;
    use crate::tui::panes::test_support::{full_app_with, startup};
    // raw: SPY orb_breakout 72 above QQQ vwap_reclaim 64; calibrated: 30 below 55
    let mut start = startup();
    start.calibrations = crate::stats::Calibrations::new([
        flat(SetupKind::OrbBreakout, 30),
        flat(SetupKind::VwapReclaim, 55),
    ]);
    let mut app = full_app_with(start);
    app.update(Action::FocusScanner);
    let screen = pane_screen(&app, PaneId::Scanner, 80, 24);
    let spy = screen.find("ORB").expect("the SPY detection is listed");
    let qqq = screen
        .find("vwap-rcl")
        .expect("the QQQ detection is listed");
    assert!(qqq < spy, "calibrated 55 before 30:\n{screen}");
    let line = |what: &str| {
        screen
            .lines()
            .find(|l| l.contains(what))
            .unwrap()
            .to_string()
    };
    assert!(line("ORB").contains(" 30 "), "{screen}");
    assert!(line("vwap-rcl").contains(" 55 "), "{screen}");
    assert!(
        !screen.contains(" 72 "),
        "the raw score is not the one shown:\n{screen}"
    );
    // the raw score stays in the detection
    let raw: Vec<u8> = app
        .panes()
        .scanner
        .opportunities()
        .iter()
        .map(|o| o.detection.confidence)
        .collect();
    assert!(raw.contains(&72) && raw.contains(&64), "{raw:?}");
}

#[test]
fn without_a_stored_calibration_nothing_changes() {
    let app = full_app();
    let scanner = &app.panes().scanner;
    for o in scanner.opportunities() {
        assert_eq!(scanner.score(&o.detection), o.detection.confidence);
        assert!(!scanner.is_calibrated(o.detection.kind));
    }
}

/// Issue 22 item 8: a watched symbol the recording holds no bars of is flagged where the
/// trader looks — its Scanner row reads "no data" and the status line says from whom.
#[test]
fn a_watched_symbol_without_bars_reads_no_data_and_the_status_line_names_the_provider() {
    use crate::tui::panes::test_support::{full_app_with, startup};
    let mut start = startup();
    start.watchlist.push(symbol("ZZZZ"));
    let mut app = full_app_with(start);
    app.on_event(crate::runtime::AppEvent::Notice(
        "no data from replay for ZZZZ (the bar files hold none)".into(),
    ));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| {
            crate::tui::view::draw(
                f,
                &app,
                &crate::tui::theme::Theme::ansi16(),
                market_time() + chrono::Duration::seconds(2),
            )
        })
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("no data from replay for ZZZZ (the bar files hold none)"),
        "{screen}"
    );
    let row = screen
        .lines()
        .find(|l| l.contains("ZZZZ") && !l.contains("no data from"))
        .unwrap_or_default();
    assert!(row.contains("no data"), "the ZZZZ row: {row}\n{screen}");
    insta::assert_snapshot!(screen);
}
