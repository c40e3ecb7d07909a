//! The whole screen, drawn from a fixed simulated market at a fixed instant, at the sizes
//! a trader uses: the full grid at 120×40, one pane with tabs at 80×24, the too-small
//! notice below that, and the help overlay.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::Symbol;
use coach::gex::{ExpiryFilter, GexParams, compute_profile};
use coach::provider::MarketEvent;
use coach::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use coach::provider::sim_chain::synthetic_chain;
use coach::runtime::feed::Playable;
use coach::runtime::health::{WorkerRecord, WorkerState};
use coach::tui::action::Action;
use coach::tui::app::{App, Source, Startup};
use coach::tui::keymap::Keymap;
use coach::tui::theme::Theme;
use coach::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 10:30 ET on Tuesday 2026-11-24 (EST, so 15:30 UTC).
fn market_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
}

fn app() -> App {
    app_with_coach(false)
}

/// `app()`, with the AI coach configured or not.
fn app_with_coach(coach_configured: bool) -> App {
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let market = SimMarket::new(42, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let watchlist: Vec<Symbol> = ["SPX", "NDX", "SPY", "QQQ"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let mut app = App::new(Startup {
        coach_configured,
        ..Startup::new(
            Keymap::default(),
            Source {
                provider: "sim ×60".into(),
                database: "sqlite".into(),
                user: "local".into(),
            },
            &watchlist,
        )
    });
    app.on_market(&MarketEvent::Snapshot(std::sync::Arc::new(
        market.snapshot(market_time()),
    )));
    let spx = Symbol::parse("SPX").unwrap();
    let spot = market.last_price(&spx, market_time()).unwrap();
    let chain = synthetic_chain(&spx, spot, market_time(), 42);
    let profile = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).unwrap();
    app.on_gex(std::sync::Arc::new(std::collections::HashMap::from([(
        (spx, ExpiryFilter::All),
        std::sync::Arc::new(profile),
    )])));
    app.on_health(vec![
        WorkerRecord {
            name: "feed".into(),
            state: WorkerState::Running,
            expected_interval: std::time::Duration::from_secs(1),
            stale_after: std::time::Duration::from_secs(3),
            started_at: Some(market_time()),
            last_cycle_start: Some(market_time()),
            last_cycle_end: Some(market_time()),
            last_success: Some(market_time()),
            last_error_at: None,
            last_error: None,
            cycles: 240,
            errors: 0,
            consecutive_failures: 0,
            restarts: 0,
            note: None,
        },
        WorkerRecord {
            name: "replay".into(),
            state: WorkerState::Failed,
            expected_interval: std::time::Duration::from_secs(5),
            stale_after: std::time::Duration::from_secs(15),
            started_at: Some(market_time()),
            last_cycle_start: None,
            last_cycle_end: None,
            last_success: None,
            last_error_at: Some(market_time()),
            last_error: Some("panicked: boom".into()),
            cycles: 0,
            errors: 1,
            consecutive_failures: 1,
            restarts: 0,
            note: None,
        },
    ]);
    app
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            view::draw(
                f,
                app,
                &Theme::ansi16(),
                market_time() + chrono::Duration::seconds(2),
            )
        })
        .unwrap();
    terminal
}

fn render(app: &App, width: u16, height: u16) -> String {
    draw(app, width, height).backend().to_string()
}

#[test]
fn the_full_grid_at_120_by_40() {
    let screen = render(&app(), 120, 40);
    for title in [
        "1 Brief",
        "2 Scanner",
        "3 Setups",
        "4 GEX",
        "5 Health",
        "6 Logs",
    ] {
        assert!(screen.contains(title), "{title} missing");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn one_pane_with_tabs_at_80_by_24() {
    let mut app = app();
    app.update(Action::FocusHealth);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("[5 Health]"));
    assert!(
        !screen.contains("2 Scanner ·"),
        "only the focused pane is drawn"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn help_overlay_lists_the_live_keymap() {
    let mut app = app();
    app.update(Action::Help);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Ctrl-L  redraw the screen"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_terminal_below_80_by_24_gets_the_too_small_notice() {
    let screen = render(&app(), 79, 24);
    assert!(screen.contains("terminal too small (need 80×24)"));
    assert!(screen.contains("now 79×24; ? help · q quits"));
}

#[test]
fn drawing_never_panics_at_any_size() {
    let app = app();
    for width in [0, 1, 2, 10, 79, 80, 81, 119, 120, 200] {
        for height in [0, 1, 3, 23, 24, 39, 40, 60] {
            draw(&app, width, height);
        }
    }
}

#[test]
fn the_gex_pane_at_80_by_24_marks_spot_flip_and_walls() {
    let mut app = app();
    app.update(Action::FocusGex);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("▶ 4 GEX · SPX all · "), "{screen}");
    for mark in ["▶ spot", "C call wall", "P put wall"] {
        assert!(screen.contains(mark), "{mark} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn help_at_80_by_24_shows_every_action_in_two_columns() {
    let mut app = app();
    app.update(Action::Help);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("In Scanner: j/Down/k/Up move · t track"),
        "the focused pane's keys come first:\n{screen}"
    );
    // What does not fit the first page is a few half-pages away.
    let mut pages = screen.clone();
    for _ in 0..10 {
        app.update(Action::HalfPageDown);
        pages.push_str(&render(&app, 80, 24));
    }
    for action in Action::ALL {
        let label = app.keymap().label(action);
        assert!(pages.contains(&label), "{label} missing:\n{pages}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_coach_without_configuration_says_how_to_configure() {
    let mut app = app();
    app.update(Action::FocusCoach);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("[7 Coach]"));
    assert!(
        screen.contains("The AI coach is not configured."),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn the_coach_in_the_grid_shows_tool_calls_and_the_sanitized_answer() {
    use coach::coach::CoachEvent;
    use coach::runtime::AppEvent;
    let mut app = app_with_coach(true);
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
        CoachEvent::Text(
            "The SPX flip is at 6857.82;\u{1b}[2J spot 6832.54 is 25.28 points below it, ".into(),
        ),
        CoachEvent::Text("in negative gamma.\nWatch the put wall.".into()),
        CoachEvent::Answer(String::new()),
    ] {
        app.on_event(AppEvent::Coach(event));
    }
    let screen = render(&app, 120, 40);
    assert!(screen.contains("▶ 7 Coach"), "{screen}");
    assert!(
        screen.contains("⚙ get_gamma_exposure {\"symbol\":\"SPX\"}"),
        "{screen}"
    );
    assert!(
        screen.contains("The SPX flip is at 6857.82; spot 6832.54"),
        "{screen}"
    );
    assert!(
        screen.contains("4 GEX"),
        "GEX stays in view beside the Coach"
    );
    insta::assert_snapshot!(screen);
}

/// The brief of 2026-11-24 built at 09:00 ET from the same simulated market, with one
/// open stock position.
fn brief_at_nine() -> coach::brief::Brief {
    use coach::brief::model::PriceAt;
    use coach::brief::{
        BriefInputs, EconCalendar, NewPosition, Position, PositionKind, SymbolInput,
    };
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let market = SimMarket::new(42, &symbols, date);
    let nine = Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap();
    let snapshot = market.snapshot(nine);
    let inputs: Vec<SymbolInput> = ["SPY", "QQQ"]
        .iter()
        .map(|name| {
            let s = snapshot
                .symbols
                .iter()
                .find(|s| s.symbol.as_str() == *name)
                .unwrap();
            SymbolInput {
                daily: s.daily.to_vec(),
                previous_bars: s.previous_bars.load().to_vec(),
                bars: s.bars.load().to_vec(),
                last: s.last.as_ref().map(|q| PriceAt {
                    price: q.price,
                    at: q.at,
                }),
                ..SymbolInput::new(s.symbol.clone())
            }
        })
        .collect();
    let position = Position {
        id: 1,
        spec: NewPosition {
            symbol: Symbol::parse("SPY").unwrap(),
            kind: PositionKind::Stock,
            strike: None,
            expiry: None,
            quantity: 100.0,
            avg_price: 690.0,
            iv: None,
        },
        opened_at: nine,
        closed_at: None,
    };
    coach::brief::build(&BriefInputs {
        now: nine,
        market_date: date,
        watchlist: "Default".into(),
        symbols: &inputs,
        calendar: &EconCalendar::shipped(),
        positions: &[position],
        setups: &[],
    })
    .unwrap()
}

#[test]
fn the_brief_pane_at_80_by_24_reads_in_sections_and_scrolls() {
    let mut app = app();
    app.on_event(coach::runtime::AppEvent::Brief {
        brief: std::sync::Arc::new(brief_at_nine()),
        preview: false,
    });
    app.update(Action::FocusBrief);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("[1 Brief]"), "{screen}");
    assert!(
        screen.contains("Morning brief · 2026-11-24 · Default"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    for _ in 0..30 {
        app.update(Action::Down);
    }
    let lower = render(&app, 80, 24);
    assert!(lower.contains("Open positions"), "{lower}");
    assert!(lower.contains("SPY ×100 @ 690.00"), "{lower}");
    assert!(
        !lower.contains("Morning brief ·"),
        "scrolled past the top:\n{lower}"
    );
}

#[test]
fn stats_on_9_shows_its_tab_in_the_tab_bar_at_80_by_24_and_takes_the_grids_top_at_120_by_40() {
    let mut app = app();
    app.update(Action::FocusStats);
    let narrow = render(&app, 80, 24);
    assert!(narrow.contains("[9 Stats]"), "{narrow}");
    assert!(narrow.contains("▶ 9 Stats · Backtest"), "{narrow}");
    assert!(
        narrow.contains("[/] tab"),
        "the footer names the tab keys: {narrow}"
    );
    assert!(narrow.contains("s sort"), "{narrow}");
    assert!(narrow.contains("run coach backtest --store"), "{narrow}");
    let grid = render(&app, 120, 40);
    assert!(grid.contains("▶ 9 Stats · Backtest"), "{grid}");
    assert!(grid.contains("5 Health"), "Health stays in view: {grid}");
    assert!(!grid.contains("2 Scanner"), "Stats covers the top: {grid}");
    insta::assert_snapshot!(grid);
}
