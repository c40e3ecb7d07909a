//! Heap bytes of the live feed's session and of its snapshots at N symbols (issue 25
//! items 1 and 2), measured with a counting allocator: no timing, no criterion.
//!
//! `cargo bench --bench snapshot_memory -- 500 2000 8000`
//!
//! For each N it builds the session a live feed holds at noon New York time (per symbol
//! the previous session's 960 minutes 04:00–20:00, today's 480 minutes 04:00–12:00, 30
//! daily bars), then does what the workers do: six consumers take a snapshot and hold it
//! (detector, evaluator, GEX, brief, auto-track, status), the detector primes an engine
//! from one (and, for comparison, the way it primed before issue 25: every bar of the
//! market in one sorted Vec), and one more minute bar per symbol arrives while they hold
//! them. Printed:
//! live heap bytes after each step and the peak, in MB (10^6 bytes) and KB per symbol.

use std::sync::atomic::Ordering;

use chrono::{Duration, NaiveDate};
use coach::detect::config::DetectorsConfig;
use coach::domain::{Bar, DailyBar, Symbol};
use coach::market::calendar;
use coach::provider::live_session::{LiveSession, SymbolHistory};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Prices in whole cents, as a feed's JSON gives them (parsed decimals, so they pack).
fn bar(start: chrono::DateTime<chrono::Utc>, i: usize) -> Bar {
    let cents = 10_000 + (i % 97) as i64;
    let dollars = |c: i64| c as f64 / 100.0;
    Bar {
        start,
        open: dollars(cents - 2),
        high: dollars(cents + 5),
        low: dollars(cents - 5),
        close: dollars(cents),
        volume: 1_000.0 + (i % 13) as f64 * 100.0,
    }
}

fn histories(n: usize, session: calendar::Session) -> Vec<(Symbol, SymbolHistory)> {
    let previous = calendar::previous_session(session.date);
    (0..n)
        .map(|k| {
            let symbol = Symbol::parse(&format!("S{k:04}")).expect("symbol");
            let previous_bars: Vec<Bar> = (0..960)
                .map(|i| bar(previous.pre_market_open() + Duration::minutes(i as i64), i))
                .collect();
            let bars: Vec<Bar> = (0..480)
                .map(|i| bar(session.pre_market_open() + Duration::minutes(i as i64), i))
                .collect();
            let daily: Vec<DailyBar> = (0..30)
                .map(|i| DailyBar {
                    date: previous.date - Duration::days(30 - i),
                    open: 100.0,
                    high: 101.0,
                    low: 99.0,
                    close: 100.0 + i as f64 * 0.1,
                    volume: 1e6,
                })
                .collect();
            (
                symbol,
                SymbolHistory {
                    is_index: false,
                    bars,
                    previous_bars,
                    daily,
                },
            )
        })
        .collect()
}

fn run(n: usize) {
    let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"))
        .expect("a trading day");
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let step = |what: &str| {
        let live = LIVE.load(Ordering::Relaxed) - base;
        println!(
            "  {what:<44} {:>9.1} MB  {:>7.1} KB/symbol",
            mb(live),
            live as f64 / n as f64 / 1e3
        );
    };
    let mut live = LiveSession::new(session, false, histories(n, session));
    step("session held by the feed");
    let now = session.open + Duration::hours(2);
    let consumers: Vec<_> = (0..6)
        .map(|_| std::sync::Arc::new(live.snapshot(now)))
        .collect();
    step("+ six consumers hold a snapshot");
    let before_priming = LIVE.load(Ordering::Relaxed);
    let peak_so_far = PEAK.swap(before_priming, Ordering::Relaxed);
    let primed =
        coach::runtime::detect::prime(&DetectorsConfig::default(), &consumers[0]).expect("primed");
    let priming_extra = PEAK.load(Ordering::Relaxed) - before_priming;
    PEAK.fetch_max(peak_so_far, Ordering::Relaxed);
    step("+ the detector's primed engine");
    println!(
        "  {:<44} {:>9.1} MB",
        "  (most held at once while priming, engine incl.)",
        mb(priming_extra)
    );
    let next = session.pre_market_open() + Duration::minutes(480);
    for symbol in live.symbols().to_vec() {
        live.accept_bar(&symbol, bar(next, 480));
    }
    step("+ one more bar per symbol while they hold them");
    drop(consumers);
    drop(primed);
    step("consumers and engine dropped");
    let peak = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "  {:<44} {:>9.1} MB  {:>7.1} KB/symbol",
        "peak",
        mb(peak),
        peak as f64 / n as f64 / 1e3
    );
    drop(live);
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![500, 2_000]
    } else {
        sizes
    };
    for n in sizes {
        println!("{n} symbols");
        run(n);
    }
}
