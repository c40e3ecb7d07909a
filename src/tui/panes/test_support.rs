//! A screen with something in every pane, for the panes' own snapshot tests: the
//! simulated market (seed 42) at 10:30 ET on Tuesday 2026-11-24, SPX's and SPY's GEX
//! profiles, two workers (one failed), two tracked setups, two detections, an armed
//! alert, and a coach conversation. Everything arrives as the workers would send it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::alerts::{AlertStatus, Condition, PriceAlert};
use crate::coach::CoachEvent;
use crate::domain::{Detection, Direction, SetupKind, Symbol};
use crate::gex::{ExpiryFilter, GexParams, compute_profile};
use crate::provider::MarketEvent;
use crate::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use crate::provider::sim_chain::synthetic_chain;
use crate::runtime::AppEvent;
use crate::runtime::feed::Playable;
use crate::runtime::health::{WorkerRecord, WorkerState};
use crate::setups::TrackedSetup;
use crate::store::{SetupRow, StoredDetection};
use crate::tui::action::Action;
use crate::tui::app::{App, PaneId, Source, Startup};
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;

/// 10:30 ET on Tuesday 2026-11-24 (EST, so 15:30 UTC).
pub fn market_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
}

pub fn symbol(name: &str) -> Symbol {
    Symbol::parse(name).unwrap()
}

fn market() -> SimMarket {
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS.iter().map(|s| symbol(s)).collect();
    SimMarket::new(42, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
}

/// An app on the watchlist SPX NDX SPY QQQ with no data yet.
pub fn empty_app() -> App {
    App::new(startup())
}

/// What `empty_app` starts from.
pub fn startup() -> Startup {
    let watchlist: Vec<Symbol> = ["SPX", "NDX", "SPY", "QQQ"]
        .iter()
        .map(|s| symbol(s))
        .collect();
    Startup::new(
        Keymap::default(),
        Source {
            provider: "sim ×60".into(),
            database: "postgres".into(),
            user: "ann".into(),
        },
        &watchlist,
    )
}

pub fn worker(name: &str, state: WorkerState, error: Option<&str>) -> WorkerRecord {
    let t = market_time();
    WorkerRecord {
        name: name.into(),
        state,
        expected_interval: std::time::Duration::from_secs(5),
        stale_after: std::time::Duration::from_secs(15),
        started_at: Some(t - chrono::Duration::minutes(60)),
        last_cycle_start: Some(t),
        last_cycle_end: Some(t),
        last_success: error.is_none().then_some(t),
        last_error_at: error.map(|_| t - chrono::Duration::seconds(40)),
        last_error: error.map(str::to_string),
        cycles: if error.is_none() { 240 } else { 0 },
        errors: u64::from(error.is_some()),
        consecutive_failures: u32::from(error.is_some()),
        restarts: 0,
        note: None,
    }
}

fn detection(
    name: &str,
    kind: SetupKind,
    direction: Direction,
    score: u8,
    entry: f64,
) -> Detection {
    let sign = if direction == Direction::Long {
        1.0
    } else {
        -1.0
    };
    Detection {
        symbol: symbol(name),
        kind,
        direction,
        confidence: score,
        entry,
        stop: entry - sign * entry * 0.002,
        target: entry + sign * entry * 0.005,
        // fresh: a plan detected 12 minutes ago has seen its stop trade in the sim
        detected_at: market_time() - chrono::Duration::minutes(2),
        bar_time: market_time() - chrono::Duration::minutes(3),
        market_date: market_time().date_naive(),
        dedup_key: format!("{name}-{kind:?}"),
        rationale: "test".into(),
        gex: None,
    }
}

/// The screen at 10:30 with every pane's data in.
pub fn full_app() -> App {
    full_app_with(startup())
}

/// `full_app` from another start (the coach configured, no chains…).
pub fn full_app_with(startup: Startup) -> App {
    let market = market();
    let mut app = App::new(startup);
    app.on_market(&MarketEvent::Snapshot(Arc::new(
        market.snapshot(market_time()),
    )));
    let mut board = HashMap::new();
    for name in ["SPX", "SPY"] {
        let s = symbol(name);
        let spot = market.last_price(&s, market_time()).unwrap();
        let chain = synthetic_chain(&s, spot, market_time(), 42);
        let profile = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).unwrap();
        board.insert((s, ExpiryFilter::All), Arc::new(profile));
    }
    app.on_gex(Arc::new(board));
    app.on_health(vec![
        worker("feed", WorkerState::Running, None),
        worker("detect", WorkerState::Running, None),
        worker("gex", WorkerState::Failed, Some("chain request timed out")),
    ]);
    let spy = market.last_price(&symbol("SPY"), market_time()).unwrap();
    let qqq = market.last_price(&symbol("QQQ"), market_time()).unwrap();
    for (id, d) in [
        (
            41,
            detection(
                "SPY",
                SetupKind::OrbBreakout,
                Direction::Long,
                72,
                spy + 0.6,
            ),
        ),
        (
            42,
            detection(
                "QQQ",
                SetupKind::VwapReclaim,
                Direction::Short,
                64,
                qqq - 0.4,
            ),
        ),
    ] {
        app.on_event(AppEvent::Detection(StoredDetection { id, detection: d }));
    }
    let rows = [(12, "SPY", spy), (13, "QQQ", qqq)]
        .into_iter()
        .map(|(id, name, price)| {
            let d = detection(
                name,
                SetupKind::OrbBreakout,
                Direction::Long,
                70,
                price + 0.5,
            );
            SetupRow {
                setup: TrackedSetup::track(id, Some(1), &d, false, market_time()).unwrap(),
                notes: String::new(),
            }
        })
        .collect();
    app.on_event(AppEvent::SetupsLoaded(rows));
    app.on_event(AppEvent::AlertsSaved {
        alerts: vec![PriceAlert {
            id: 3,
            symbol: symbol("SPY"),
            condition: Condition::CrossesBelow((spy - 1.5).round()),
            note: "below the range".into(),
            status: AlertStatus::Armed,
            repeat: false,
            reference: Some(spy),
            created_at: market_time(),
            fired_at: None,
            fired_price: None,
        }],
        message: "alert saved".into(),
    });
    app
}

/// `full_app` with the coach configured and one question answered.
pub fn coach_app() -> App {
    let mut app = full_app_with(Startup {
        coach_configured: true,
        ..startup()
    });
    app.update(Action::FocusCoach);
    for c in "where is the SPX flip?".chars() {
        app.on_key(&crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        ));
    }
    app.on_key(&crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    ));
    for event in [
        CoachEvent::ToolCall {
            name: "get_gamma_exposure".into(),
            arguments: "{\"symbol\":\"SPX\"}".into(),
        },
        CoachEvent::ToolResult {
            name: "get_gamma_exposure".into(),
            summary: "SPX (all) spot 6832.54 · flip 6857.82 · negative $1.25B".into(),
            is_error: false,
        },
        CoachEvent::Text("The SPX flip is at 6857.82, above spot: negative gamma.".into()),
        CoachEvent::Answer(String::new()),
    ] {
        app.on_event(AppEvent::Coach(event));
    }
    app
}

/// `pane` alone, focused, over the whole `width`×`height` area (no header, footer or
/// other panes), as text. The wall clock is the market's plus two seconds.
pub fn pane_screen(app: &App, pane: PaneId, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            super::draw(
                f,
                f.area(),
                pane,
                app,
                &Theme::ansi16(),
                market_time() + chrono::Duration::seconds(2),
            )
        })
        .unwrap();
    terminal.backend().to_string()
}
