//! The Chart pane (SPEC 17) drawn from a fixed simulated market at 10:30 ET: candles in
//! half blocks with VWAP and bands, the prior day, the opening range, the GEX walls and
//! zero gamma, a tracked setup's entry/stop/target and an alert; at 80×24 (one pane), as
//! the chart alone at 120×40, with a cursor, in line mode, and on a flat day.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::alerts::{AlertStatus, Condition, PriceAlert};
use coach::domain::{Bar, Detection, Direction, SetupKind, Symbol};
use coach::gex::{ExpiryFilter, GexParams, compute_profile};
use coach::provider::MarketEvent;
use coach::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use coach::provider::sim_chain::synthetic_chain;
use coach::runtime::feed::Playable;
use coach::setups::TrackedSetup;
use coach::store::SetupRow;
use coach::tui::action::Action;
use coach::tui::app::{App, Source, Startup};
use coach::tui::keymap::Keymap;
use coach::tui::panes::chart::render_chart;
use coach::tui::theme::Theme;
use coach::tui::view;
use coach::tui::widgets::candles::{CandleChart, ChartLine, ChartMode, LineKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

/// 10:30 ET on Tuesday 2026-11-24 (EST, so 15:30 UTC).
fn market_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
}

fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

/// The market at 10:30 with SPY focused, its GEX profile, a tracked long and an alert.
fn app() -> App {
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let market = SimMarket::new(42, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let watchlist = [spy(), Symbol::parse("QQQ").unwrap()];
    let spot = market.last_price(&spy(), market_time()).unwrap();
    let detection = Detection {
        symbol: spy(),
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 70,
        entry: spot + 0.6,
        stop: spot - 0.9,
        target: spot + 3.6,
        detected_at: market_time(),
        bar_time: market_time() - chrono::Duration::minutes(1),
        market_date: market_time().date_naive(),
        dedup_key: "snap".into(),
        rationale: "test".into(),
        gex: None,
    };
    let setup = TrackedSetup::track(12, Some(1), &detection, false, market_time()).unwrap();
    let mut app = App::new(Startup {
        setups: vec![SetupRow {
            setup,
            notes: String::new(),
        }],
        alerts: vec![PriceAlert {
            id: 3,
            symbol: spy(),
            condition: Condition::CrossesBelow((spot - 1.5).round()),
            note: "below the range".into(),
            status: AlertStatus::Armed,
            repeat: false,
            reference: Some(spot),
            created_at: market_time(),
            fired_at: None,
            fired_price: None,
        }],
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
    app.on_market(&MarketEvent::Snapshot(Arc::new(
        market.snapshot(market_time()),
    )));
    let chain = synthetic_chain(&spy(), spot, market_time(), 42);
    let profile = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).unwrap();
    app.on_gex(Arc::new(HashMap::from([(
        (spy(), ExpiryFilter::All),
        Arc::new(profile),
    )])));
    app.update(Action::FocusChart);
    app
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| view::draw(f, app, &Theme::ansi16(), market_time()))
        .unwrap();
    terminal.backend().to_string()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (area.y..area.y + area.height)
        .map(|y| {
            let row: String = (area.x..area.x + area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            format!("{}\n", row.trim_end())
        })
        .collect()
}

#[test]
fn the_chart_pane_at_80_by_24_shows_candles_levels_the_setup_and_the_walls() {
    let app = app();
    let out = screen(&app, 80, 24);
    for needle in [
        "[8 Chart]",
        "◆ SPY",
        "SPY 1m",
        "VWAP",
        "E ",
        "S ",
        "T ",
        "A↓",
    ] {
        assert!(out.contains(needle), "{needle:?} missing:\n{out}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn the_chart_alone_at_120_by_40_with_a_cursor_on_five_minute_bars() {
    let mut app = app();
    app.update(Action::TimeframeUp);
    for _ in 0..3 {
        app.update(Action::CursorLeft);
    }
    let mut buf = Buffer::empty(Rect::new(0, 0, 120, 40));
    let area = buf.area;
    render_chart(&mut buf, area, &app, &Theme::monochrome());
    let out = text(&buf);
    assert!(out.contains("SPY 5m") && out.contains("(cursor)"), "{out}");
    assert!(out.contains('┊'), "the cursor column is drawn");
    insta::assert_snapshot!(out);
}

#[test]
fn a_narrow_chart_draws_a_line_of_closes() {
    let app = app();
    let mut buf = Buffer::empty(Rect::new(0, 0, 44, 12));
    let area = buf.area;
    render_chart(&mut buf, area, &app, &Theme::monochrome());
    let out = text(&buf);
    assert!(!out.contains('█'), "no candle bodies in line mode:\n{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_flat_day_draws_one_row_of_candles_and_its_levels_without_panicking() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap();
    let bars: Vec<Bar> = (0..50)
        .map(|i| Bar {
            start: t0 + chrono::Duration::minutes(i),
            open: 100.0,
            high: 100.0,
            low: 100.0,
            close: 100.0,
            volume: 0.0,
        })
        .collect();
    let lines = [
        ChartLine {
            label: "VWAP".into(),
            price: 100.0,
            kind: LineKind::Vwap,
        },
        ChartLine {
            label: "PDH".into(),
            price: 104.0,
            kind: LineKind::PriorDay,
        },
        ChartLine {
            label: "PDL".into(),
            price: 97.5,
            kind: LineKind::PriorDay,
        },
    ];
    let mut buf = Buffer::empty(Rect::new(0, 0, 80, 24));
    CandleChart::new(&bars, &lines).render(buf.area, &mut buf);
    let out = text(&buf);
    assert!(
        out.contains("↑PDH 104.00") && out.contains("↓PDL 97.50"),
        "{out}"
    );
    insta::assert_snapshot!(out);
    let mut line = Buffer::empty(Rect::new(0, 0, 120, 40));
    CandleChart::new(&bars, &lines)
        .mode(ChartMode::Line)
        .render(line.area, &mut line);
}

#[test]
fn the_chart_is_redrawn_only_when_its_data_or_size_changed() {
    let mut app = app();
    screen(&app, 80, 24);
    // Mark the cached drawing: a frame that copies the cache shows the mark.
    let mark = |app: &App| {
        let mut cache = app.panes().chart.cache.borrow_mut();
        let (_, buffer) = cache.as_mut().expect("the chart was drawn and cached");
        let at = (buffer.area.x, buffer.area.y);
        buffer[at].set_symbol("@");
    };
    mark(&app);
    // A quote of another symbol, and the 1 Hz tick: nothing the chart shows changed.
    app.on_market(&MarketEvent::Step {
        at: market_time(),
        quotes: vec![coach::provider::Quote {
            symbol: Symbol::parse("QQQ").unwrap(),
            price: 600.0,
            at: market_time(),
        }],
        bars: vec![],
    });
    assert!(screen(&app, 80, 24).contains('@'), "copied from the cache");
    // A new final bar of the focused symbol redraws it.
    let bar = Bar {
        start: market_time(),
        open: 681.0,
        high: 681.5,
        low: 680.9,
        close: 681.4,
        volume: 50_000.0,
    };
    app.on_market(&MarketEvent::Step {
        at: market_time() + chrono::Duration::minutes(1),
        quotes: vec![],
        bars: vec![(spy(), bar)],
    });
    assert!(
        !screen(&app, 80, 24).contains('@'),
        "redrawn for the new bar"
    );
    mark(&app);
    assert!(
        !screen(&app, 100, 30).contains('@'),
        "redrawn for a new size"
    );
}
