//! Cost of one Chart frame at 200×60 (SPEC 17): the focused symbol's 1-minute candles of
//! a simulated session at 15:30 ET (360 bars, 186 visible), VWAP and bands, prior day,
//! opening range, the GEX walls and zero gamma, and a setup's entry/stop/target, drawn
//! into a fresh buffer without the pane's cache (the worst case: data or size changed).
//!
//! Run: `cargo bench --bench chart -- --quick`

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::gex::{ExpiryFilter, GexParams, compute_profile};
use coach::provider::MarketEvent;
use coach::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use coach::provider::sim_chain::synthetic_chain;
use coach::runtime::feed::Playable;
use coach::setups::TrackedSetup;
use coach::store::SetupRow;
use coach::tui::app::{App, Source, Startup};
use coach::tui::keymap::Keymap;
use coach::tui::panes::chart::render_chart;
use coach::tui::theme::Theme;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn app() -> App {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 20, 30, 0).unwrap();
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).expect("a valid symbol"))
        .collect();
    let market = SimMarket::new(42, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let spy = Symbol::parse("SPY").expect("a valid symbol");
    let mut app = App::new(Startup::new(
        Keymap::default(),
        Source {
            provider: "sim".into(),
            database: "sqlite".into(),
            user: "local".into(),
        },
        std::slice::from_ref(&spy),
    ));
    app.on_market(&MarketEvent::Snapshot(Arc::new(market.snapshot(now))));
    let spot = market.last_price(&spy, now).expect("SPY trades");
    let chain = synthetic_chain(&spy, spot, now, 42);
    let profile = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All)
        .expect("a profile of the synthetic chain");
    app.on_gex(Arc::new(HashMap::from([(
        (spy.clone(), ExpiryFilter::All),
        Arc::new(profile),
    )])));
    let detection = Detection {
        symbol: spy,
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 70,
        entry: spot + 0.6,
        stop: spot - 0.9,
        target: spot + 3.6,
        detected_at: now,
        bar_time: now,
        market_date: now.date_naive(),
        dedup_key: "bench".into(),
        rationale: String::new(),
        gex: None,
    };
    let setup = TrackedSetup::track(1, Some(1), &detection, false, now).expect("a valid plan");
    app.on_event(coach::runtime::AppEvent::SetupsLoaded(vec![SetupRow {
        setup,
        notes: String::new(),
    }]));
    app
}

fn bench(c: &mut Criterion) {
    let app = app();
    let theme = Theme::ansi16();
    let area = Rect::new(0, 0, 200, 60);
    c.bench_function("chart_frame_200x60", |b| {
        b.iter(|| {
            let mut buf = Buffer::empty(area);
            render_chart(&mut buf, area, black_box(&app), &theme);
            black_box(buf)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
