//! Heap bytes of the detector engine per symbol after priming, and the most priming
//! holds at once (issue 25 item 1: a symbol off screen keeps its incremental state in
//! kilobytes), measured with a counting allocator: no timing, no criterion.
//!
//! `cargo bench --bench engine_memory -- 500 8000`
//!
//! Per symbol the bench holds what a live feed primes from at 10:00 New York: the
//! previous session's 960 minutes (04:00–20:00), today's 360 minutes (04:00–10:00: the
//! pre-market and the first 30 regular minutes) and 45 daily bars. Those inputs are built
//! first and not counted; then `prime_per_symbol` runs. Printed per N: the engine's live
//! heap after priming, the most held at once while priming (engine included), in MB
//! (10^6 bytes) and KB per symbol; then the bytes of one primed symbol's parts.

use std::sync::atomic::Ordering;

use chrono::{Duration, NaiveDate};
use coach::detect::config::DetectorsConfig;
use coach::detect::priming;
use coach::domain::{Bar, DailyBar, Symbol};
use coach::market::calendar;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

/// A minute bar around 100 with volume 1,000–2,200 shares, varied by `i`.
fn bar(start: chrono::DateTime<chrono::Utc>, i: usize) -> Bar {
    let close = 100.0 + (i % 97) as f64 * 0.01;
    Bar {
        start,
        open: close - 0.02,
        high: close + 0.05,
        low: close - 0.05,
        close,
        volume: 1_000.0 + (i % 13) as f64 * 100.0,
    }
}

struct Input {
    symbol: Symbol,
    daily: Vec<DailyBar>,
    /// The previous session's minutes then today's, in start order.
    minutes: Vec<Bar>,
}

fn inputs(n: usize, session: calendar::Session) -> Vec<Input> {
    let previous = calendar::previous_session(session.date);
    (0..n)
        .map(|k| {
            let symbol = Symbol::parse(&format!("S{k:04}")).expect("symbol");
            let minutes = (0..960)
                .map(|i| bar(previous.pre_market_open() + Duration::minutes(i as i64), i))
                .chain(
                    (0..360)
                        .map(|i| bar(session.pre_market_open() + Duration::minutes(i as i64), i)),
                )
                .collect();
            let daily = (0..45)
                .map(|i| DailyBar {
                    date: previous.date - Duration::days(45 - i),
                    open: 100.0,
                    high: 101.0,
                    low: 99.0,
                    close: 100.0 + (i % 10) as f64 * 0.1,
                    volume: 1e6,
                })
                .collect();
            Input {
                symbol,
                daily,
                minutes,
            }
        })
        .collect()
}

fn run(n: usize) {
    let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"))
        .expect("a trading day");
    let inputs = inputs(n, session);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut found = Vec::new();
    let primed = priming::prime_per_symbol(
        DetectorsConfig::default(),
        inputs.iter().map(|s| (&s.symbol, &s.daily[..])),
        inputs.iter().map(|s| (&s.symbol, s.minutes.iter())),
        &mut found,
    )
    .expect("primed");
    let found_bytes = found.capacity() * std::mem::size_of::<coach::domain::Detection>();
    drop(found);
    let engine = LIVE.load(Ordering::Relaxed) - base;
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let per = |bytes: usize| bytes as f64 / n as f64 / 1e3;
    println!(
        "  {:<46} {:>8.1} MB  {:>6.2} KB/symbol",
        "engine after priming",
        engine as f64 / 1e6,
        per(engine)
    );
    println!(
        "  {:<46} {:>8.1} MB  {:>6.2} KB/symbol",
        "most held at once while priming (engine incl.)",
        peak as f64 / 1e6,
        per(peak)
    );
    println!(
        "  {:<46} {:>8.1} MB  (the detections' Vec)",
        "  of which detections found",
        found_bytes as f64 / 1e6
    );
    drop(primed);
}

/// Heap bytes `make` leaves allocated.
fn heap_of<T>(make: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let made = make();
    (made, LIVE.load(Ordering::Relaxed) - before)
}

/// One primed symbol's parts: the market picture (and its daily history and relative
/// volume table alone), the detectors, inline and on the heap.
fn parts() {
    use coach::market::bars::RelativeVolumeTracker;
    use coach::market::levels::DailyHistory;
    use coach::market::state::{BarFate, MarketState};
    let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"))
        .expect("a trading day");
    let input = inputs(1, session).remove(0);
    let config = DetectorsConfig::default();
    let (market, market_heap) = heap_of(|| {
        let mut m = MarketState::new(
            config.orb_breakout.range_minutes,
            config.relative_volume_sessions,
            config.relative_volume_min_sessions,
        );
        m.add_daily_bars(&input.daily);
        for b in &input.minutes {
            if let BarFate::Regular { minute } = m.begin_bar(b) {
                m.apply_regular(b, minute, b.volume);
            }
        }
        m
    });
    let (daily, daily_heap) = heap_of(|| {
        let mut d = DailyHistory::default();
        d.merge(&input.daily);
        d
    });
    let (volume, volume_heap) = heap_of(|| {
        let mut v = RelativeVolumeTracker::new(
            config.relative_volume_sessions,
            config.relative_volume_min_sessions,
        );
        for session in 0..2 {
            v.start_session();
            for minute in 0..if session == 0 { 390 } else { 30 } {
                v.record(minute, 1_000.0);
            }
        }
        v
    });
    println!("one symbol's parts (bytes)");
    println!(
        "  MarketState inline {:>6}  heap {:>6}",
        std::mem::size_of::<MarketState>(),
        market_heap
    );
    println!("    DailyHistory (45 bars)   heap {daily_heap:>6}");
    println!("    relative volume (2 sessions) heap {volume_heap:>6}");
    println!(
        "  Detectors inline {:>6}",
        std::mem::size_of::<coach::detect::Detectors>()
    );
    drop((market, daily, volume));
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![500] } else { sizes };
    for n in sizes {
        println!("{n} symbols");
        run(n);
    }
    parts();
}
