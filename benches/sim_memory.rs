//! Heap bytes the simulated market holds at N symbols (issue 25 item 5), measured with a
//! counting allocator, and the time of its 15-second steps: no criterion, nothing
//! asserted.
//!
//! `cargo bench --bench sim_memory -- 500 8000`
//!
//! For each N (symbols `S0001 …`, seed 42, the session of 2026-12-04) it builds the
//! market, plays it to 09:25 New York (where the demo's feed starts), has six consumers
//! take a snapshot and hold it (as the workers do at start), then plays 30 market minutes
//! of 15-second steps (120 steps, each every symbol's price, the minute's final bars at
//! its end) and takes one more snapshot. Printed: live heap after each part and the peak,
//! in MB (10^6 bytes) and KB per symbol; the mean wall time of a step.

use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use coach::domain::Symbol;
use coach::provider::Playable;
use coach::provider::sim::SimMarket;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

fn report(what: &str, n: usize, base: usize) {
    let live = LIVE.load(Ordering::Relaxed).saturating_sub(base);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!(
        "  {what:<44} live {:>8.1} MB ({:>6.1} KB/symbol), peak so far {:>8.1} MB",
        live as f64 / 1e6,
        live as f64 / 1e3 / n as f64,
        peak as f64 / 1e6,
    );
}

fn run(n: usize) {
    let symbols: Vec<Symbol> = (1..=n)
        .filter_map(|i| Symbol::parse(&format!("S{i:04}")).ok())
        .collect();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let Some(date) = NaiveDate::from_ymd_opt(2026, 12, 4) else {
        return;
    };
    let market = SimMarket::new(42, &symbols, date);
    report("built", n, base);
    let start = market.today.session.open - Duration::minutes(5);
    let held: Vec<_> = (0..6).map(|_| market.snapshot(start)).collect();
    report("six snapshots held at 09:25", n, base);
    let mut at = market.next_step(start);
    let end = start + Duration::minutes(30);
    let (mut steps, began) = (0u32, Instant::now());
    while at <= end {
        std::hint::black_box(market.step_event(at));
        steps += 1;
        at = market.next_step(at);
    }
    let per_step = began.elapsed() / steps.max(1);
    report("30 minutes of steps later", n, base);
    let later = market.snapshot(end);
    report("one more snapshot", n, base);
    println!("  a 15-second step of {n} prices: {per_step:?} on average over {steps} steps");
    drop((held, later, market));
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![500, 8_000]
    } else {
        sizes
    };
    for n in sizes {
        println!("{n} symbols");
        run(n);
    }
}
