//! Morning brief build time (SPEC 8, 15): 50 watchlist symbols from the simulated market
//! at 09:00 New York (previous session's 390 minute bars, 300 pre-market bars and ~40
//! daily bars per symbol, a GEX profile for each), 10 open positions (options with IV)
//! and the shipped economic calendar. Times the pure builder and the Markdown rendering;
//! the data is prepared outside the timed loop.
//!
//! Run: `cargo bench --bench brief`.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

use coach::brief::model::PriceAt;
use coach::brief::render::markdown;
use coach::brief::{
    BriefInputs, EconCalendar, NewPosition, Position, PositionKind, SymbolInput, build,
};
use coach::domain::Symbol;
use coach::gex::{ExpiryFilter, GexParams, compute_profile};
use coach::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use coach::provider::sim_chain::synthetic_chain;
use coach::runtime::feed::Playable;

fn inputs() -> (Vec<SymbolInput>, Vec<Position>) {
    let mut names: Vec<String> = DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect();
    names.extend((1..=40).map(|i| format!("STK{i:02}")));
    let symbols: Vec<Symbol> = names.iter().map(|s| Symbol::parse(s).unwrap()).collect();
    let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let nine = Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap();
    let market = SimMarket::new(42, &symbols, date);
    let snapshot = market.snapshot(nine);
    let inputs: Vec<SymbolInput> = snapshot
        .symbols
        .iter()
        .map(|s| {
            let last = s.last.as_ref().map(|q| PriceAt {
                price: q.price,
                at: q.at,
            });
            let gex = last.and_then(|l| {
                let chain = synthetic_chain(&s.symbol, l.price, nine, 42);
                compute_profile(&chain, &GexParams::default(), ExpiryFilter::All)
                    .ok()
                    .map(Arc::new)
            });
            SymbolInput {
                daily: s.daily.to_vec(),
                previous_bars: s.previous_bars.load().to_vec(),
                bars: s.bars.load().to_vec(),
                last,
                gex,
                ..SymbolInput::new(s.symbol.clone())
            }
        })
        .collect();
    let positions = (0..10)
        .map(|i| Position {
            id: i,
            spec: NewPosition {
                symbol: symbols[i as usize].clone(),
                kind: if i % 2 == 0 {
                    PositionKind::Call
                } else {
                    PositionKind::Put
                },
                strike: inputs[i as usize].last.map(|l| l.price.round()),
                expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
                quantity: 2.0,
                avg_price: 5.0,
                iv: Some(0.2),
            },
            opened_at: nine,
            closed_at: None,
        })
        .collect();
    (inputs, positions)
}

fn bench(c: &mut Criterion) {
    let (symbols, positions) = inputs();
    assert_eq!(symbols.len(), 50);
    let calendar = EconCalendar::shipped();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap();
    let inputs = BriefInputs {
        now,
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        watchlist: "Fifty".into(),
        symbols: &symbols,
        calendar: &calendar,
        positions: &positions,
        setups: &[],
    };
    c.bench_function("brief_build_50_symbols", |b| {
        b.iter(|| build(black_box(&inputs)).unwrap())
    });
    let brief = build(&inputs).unwrap();
    c.bench_function("brief_markdown_50_symbols", |b| {
        b.iter(|| markdown(black_box(&brief)))
    });
    c.bench_function("brief_json_50_symbols", |b| {
        b.iter(|| serde_json::to_string(black_box(&brief)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
