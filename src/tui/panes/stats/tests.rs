//! The Stats pane alone at 80×24 and 120×40: both tabs, their empty states, sorting,
//! selection by group and the R histogram. The journal rows are computed by the code the
//! dashboard runs (`runtime::journal_stats::pane_rows`) from a hand-written journal.

use chrono::{DateTime, TimeZone, Utc};

use super::{SortKey, Tab};
use crate::domain::{Detection, Direction, SetupKind, Symbol};
use crate::runtime::AppEvent;
use crate::runtime::journal_stats::pane_rows;
use crate::setups::TrackedSetup;
use crate::stats::{GroupKey, JournalEvent, JournalSetup};
use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::panes::test_support::{empty_app, full_app, pane_screen};

/// 2026-11-24, minutes after 15:00 UTC (10:00 New York).
fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

/// One setup per R: tracked, filled at 100, out at 100 + R (risk 1); `None` is a plan
/// whose stop traded before its entry.
fn journal() -> Vec<JournalSetup> {
    let plan: [(&str, SetupKind, &[Option<f64>]); 4] = [
        (
            "SPY",
            SetupKind::OrbBreakout,
            &[
                Some(2.0),
                Some(-1.0),
                Some(1.5),
                Some(-1.0),
                Some(2.0),
                Some(-1.2),
            ],
        ),
        (
            "QQQ",
            SetupKind::OrbBreakout,
            &[Some(-1.0), Some(-1.0), Some(0.4)],
        ),
        (
            "SPY",
            SetupKind::VwapReclaim,
            &[Some(1.0), Some(1.0), Some(-1.0), Some(0.0)],
        ),
        ("IWM", SetupKind::GapFill, &[Some(-1.0), None]),
    ];
    let mut setups = Vec::new();
    let mut id = 0;
    for (symbol, kind, results) in plan {
        for r in results {
            id += 1;
            let t = id * 3;
            let d = Detection {
                gex: None,
                symbol: Symbol::parse(symbol).unwrap(),
                kind,
                direction: Direction::Long,
                confidence: 65,
                entry: 100.0,
                stop: 99.0,
                target: 102.0,
                detected_at: at(t),
                bar_time: at(t - 1),
                market_date: at(0).date_naive(),
                dedup_key: id.to_string(),
                rationale: String::new(),
            };
            let e =
                |reason: &str, price: Option<f64>, realised: Option<f64>, m: i64| JournalEvent {
                    reason: reason.into(),
                    price,
                    realised_r: realised,
                    at: at(m),
                };
            let mut events = vec![e("tracked", None, None, t)];
            match r {
                Some(r) => {
                    events.push(e("entry_crossed", Some(100.0), None, t + 1));
                    let reason = if *r > 0.0 {
                        "target_hit"
                    } else {
                        "stopped_out"
                    };
                    events.push(e(reason, Some(100.0 + r), Some(*r), t + 2));
                }
                None => events.push(e("stop_before_entry", Some(99.0), None, t + 1)),
            }
            setups.push(JournalSetup {
                setup: TrackedSetup::track(id, Some(id), &d, false, at(t)).unwrap(),
                detection: Some(d),
                events,
            });
        }
    }
    setups
}

fn journal_app() -> App {
    let mut app = full_app();
    app.on_event(AppEvent::JournalStats(pane_rows(&journal())));
    app.update(Action::FocusStats);
    app.update(Action::TimeframeUp);
    assert_eq!(app.panes().stats.tab(), Tab::Journal);
    app
}

#[test]
fn the_journal_tab_at_80_by_24_lists_groups_with_n_and_the_selected_groups_histogram() {
    let app = journal_app();
    let screen = pane_screen(&app, PaneId::Stats, 80, 24);
    for needle in [
        "▶ 9 Stats · Journal",
        "[Journal]",
        "sorted by kind ▼",
        "gap_fill",
        "orb_breakout",
        "vwap_reclaim",
        "all kinds",
        // the first group: gap_fill, one −1 R stop and one invalidated plan
        "gap_fill: 2 detected · 1 filled (1 stop) · 1 invalidated",
        "win 0% of 1 · avg R -1.00 over 1",
        "R histogram",
        "<-1.5",
        "≥+3",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_journal_tab_at_120_by_40_sorted_by_avg_r_keeps_the_selected_group() {
    let mut app = journal_app();
    // down to orb_breakout's own row (after gap_fill and gap_fill IWM)
    app.update(Action::Down);
    app.update(Action::Down);
    let orb = GroupKey {
        kind: Some("orb_breakout".into()),
        ..GroupKey::default()
    };
    assert_eq!(
        app.panes().stats.shown().selected().map(|r| &r.row.key),
        Some(&orb)
    );
    for _ in 0..3 {
        app.update(Action::GexSymbol);
    }
    assert_eq!(
        app.focus(),
        PaneId::Stats,
        "s sorts here, it does not open GEX"
    );
    assert_eq!(app.panes().stats.shown().sort(), SortKey::AvgR);
    assert_eq!(
        app.panes().stats.shown().selected().map(|r| &r.row.key),
        Some(&orb),
        "the same group stays selected in the new order"
    );
    let order: Vec<(Option<&str>, Option<&str>)> = app
        .panes()
        .stats
        .shown()
        .sorted()
        .iter()
        .map(|r| (r.row.key.kind.as_deref(), r.row.key.symbol.as_deref()))
        .collect();
    // avg R: orb SPY 2.3 / 6 = +0.383, vwap and vwap SPY 1 / 4 = +0.25, orb 0.7 / 9 =
    // +0.078, all kinds 0.7 / 14 = +0.05, orb QQQ −1.6 / 3 = −0.533, gap_fill and IWM −1
    assert_eq!(order.first(), Some(&(Some("orb_breakout"), Some("SPY"))));
    assert_eq!(order.last(), Some(&(Some("gap_fill"), Some("IWM"))));
    let screen = pane_screen(&app, PaneId::Stats, 120, 40);
    assert!(screen.contains("avg R▼"), "{screen}");
    assert!(screen.contains("sorted by avg R ▼"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_backtest_tab_without_stored_statistics_says_how_to_fill_it() {
    let mut app = empty_app();
    app.update(Action::FocusStats);
    let screen = pane_screen(&app, PaneId::Stats, 80, 24);
    assert!(screen.contains("[Backtest]"), "{screen}");
    assert!(screen.contains("run coach backtest --store"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_journal_tab_of_a_trader_with_no_closed_setup_says_so() {
    let mut app = empty_app();
    app.on_event(AppEvent::JournalStats(pane_rows(&[])));
    app.update(Action::FocusStats);
    app.update(Action::TimeframeDown);
    let screen = pane_screen(&app, PaneId::Stats, 80, 24);
    assert!(screen.contains("no closed setups yet"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn stored_backtest_rows_show_in_the_backtest_tab_and_say_their_histogram_is_not_stored() {
    let mut app = empty_app();
    let rows = pane_rows(&journal())
        .into_iter()
        .map(|(row, _)| row)
        .collect();
    let run = crate::store::BacktestRun {
        ran_at: chrono::DateTime::UNIX_EPOCH,
        from: None,
        to: None,
        symbols: vec!["SPY".into()],
        bars: 0,
        sessions: 0,
        slippage: 0.01,
        version: "test".into(),
        source: crate::store::SOURCE_CLI.into(),
    };
    let stored = crate::store::StoredBacktest { id: 1, run, rows };
    app.on_event(AppEvent::BacktestStats(std::sync::Arc::new(stored)));
    app.update(Action::FocusStats);
    let screen = pane_screen(&app, PaneId::Stats, 80, 24);
    assert!(screen.contains("[Backtest]"), "{screen}");
    assert!(screen.contains("orb_breakout"), "{screen}");
    assert!(
        screen.contains("not stored with these statistics"),
        "{screen}"
    );
}

#[test]
fn the_tab_keys_switch_tabs_only_while_stats_has_the_focus() {
    let mut app = journal_app();
    app.update(Action::TimeframeDown);
    assert_eq!(app.panes().stats.tab(), Tab::Backtest);
    app.update(Action::FocusChart);
    app.update(Action::TimeframeDown);
    assert_eq!(app.panes().stats.tab(), Tab::Backtest, "the Chart took it");
    app.update(Action::FocusStats);
    assert_eq!(app.focus(), PaneId::Stats);
    assert_eq!(app.focus().number(), 9);
}
