//! Bars per second through the whole detector engine on one core (SPEC 15: ≥ 3 million).
//!
//! Input: the shared real SPY minute bars (6 sessions, pre-market to after-hours)
//! replayed onto consecutive NYSE sessions from 2014 until ≥ 1 million bars, or a
//! synthetic random walk of the same shape when ../shared is absent. Every bar is fed
//! (pre-market and after-hours bars are cheap), all eight detectors enabled, SPY
//! configured as an index so opening_drive runs too.
//!
//! Run: `cargo bench --bench detectors`

use std::hint::black_box;
use std::path::Path;

use chrono::{NaiveDate, TimeZone};
use coach::detect::{DetectorsConfig, Engine};
use coach::domain::{Bar, Detection, Symbol};
use coach::market::calendar::{self, NEW_YORK};
use coach::provider::replay::read_minute_file;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGET_BARS: usize = 1_000_000;

/// The shared SPY sessions, each session's bars moved onto the next trading day after
/// 2014-01-01 (keeping New York wall-clock times), repeated until `TARGET_BARS`.
fn spy_replayed(path: &Path) -> Option<Vec<Bar>> {
    let bars = read_minute_file(path).ok()?;
    let mut by_day: Vec<(NaiveDate, Vec<Bar>)> = Vec::new();
    for bar in bars {
        let date = calendar::ny_date(bar.start);
        match by_day.last_mut() {
            Some((d, v)) if *d == date => v.push(bar),
            _ => by_day.push((date, vec![bar])),
        }
    }
    let mut out = Vec::with_capacity(TARGET_BARS + 5_000);
    let mut date = NaiveDate::from_ymd_opt(2014, 1, 1)?;
    'outer: loop {
        for (original, day) in &by_day {
            date = calendar::next_session(date).date;
            for bar in day {
                let local = bar.start.with_timezone(&NEW_YORK).naive_local();
                let moved = date.and_time(local.time());
                let start = NEW_YORK.from_local_datetime(&moved).earliest()?.to_utc();
                debug_assert!(original <= &date);
                out.push(Bar { start, ..*bar });
            }
            if out.len() >= TARGET_BARS {
                break 'outer;
            }
        }
    }
    Some(out)
}

/// A random walk with U-shaped volume, 390 regular bars a session, for when the shared
/// data is absent.
fn synthetic() -> Vec<Bar> {
    let mut out = Vec::with_capacity(TARGET_BARS);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 400.0;
    let mut date = NaiveDate::from_ymd_opt(2014, 1, 1).unwrap();
    while out.len() < TARGET_BARS {
        let session = calendar::next_session(date);
        date = session.date;
        for minute in 0..390 {
            let open = price;
            let close = open * (1.0 + (next() - 0.5) * 0.002);
            let high = open.max(close) * (1.0 + next() * 0.0005);
            let low = open.min(close) * (1.0 - next() * 0.0005);
            let u = (f64::from(minute) - 195.0) / 195.0;
            out.push(Bar {
                start: session.open + chrono::Duration::minutes(i64::from(minute)),
                open,
                high,
                low,
                close,
                volume: (50_000.0 * (1.0 + 3.0 * u * u) * (0.5 + next())).round(),
            });
            price = close;
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let spy = Symbol::parse("SPY").unwrap();
    let path = Path::new("../shared/data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv");
    let (bars, source) = match spy_replayed(path) {
        Some(bars) => (bars, "shared SPY sessions replayed"),
        None => (synthetic(), "synthetic random walk (shared data absent)"),
    };
    let mut config = DetectorsConfig::default();
    config.index_symbols.push(spy.clone());
    // a warm run: how many detections, to show the engine is doing real work
    let mut engine = Engine::new(config.clone()).unwrap();
    let mut out: Vec<Detection> = Vec::new();
    for bar in &bars {
        engine.on_bar(&spy, bar, &mut out);
    }
    eprintln!(
        "{} bars ({source}), {} detections per pass",
        bars.len(),
        out.len()
    );
    cpu_time_report(&config, &spy, &bars);

    let mut group = c.benchmark_group("detectors");
    group.throughput(Throughput::Elements(bars.len() as u64));
    group.sample_size(10);
    group.bench_function("engine_all_detectors", |b| {
        b.iter(|| {
            let mut engine = Engine::new(config.clone()).unwrap();
            let mut out: Vec<Detection> = Vec::with_capacity(1024);
            for bar in &bars {
                engine.on_bar(&spy, black_box(bar), &mut out);
                if out.len() > 1000 {
                    out.clear();
                }
            }
            black_box(out.len())
        })
    });
    group.finish();
}

/// This thread's CPU time in nanoseconds (Linux `/proc/thread-self/schedstat`), or `None`.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Criterion measures wall time, which other processes on a shared machine inflate;
/// this reports bars per second of CPU time actually spent, over 5 passes.
fn cpu_time_report(config: &DetectorsConfig, spy: &Symbol, bars: &[Bar]) {
    let passes = 5;
    let (Some(before), wall) = (thread_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..passes {
        let mut engine = Engine::new(config.clone()).unwrap();
        let mut out: Vec<Detection> = Vec::with_capacity(1024);
        for bar in bars {
            engine.on_bar(spy, black_box(bar), &mut out);
            if out.len() > 1000 {
                out.clear();
            }
        }
        black_box(out.len());
    }
    let Some(after) = thread_cpu_ns() else { return };
    let total = (passes * bars.len()) as f64;
    let cpu = (after - before) as f64 / 1e9;
    let wall = wall.elapsed().as_secs_f64();
    eprintln!(
        "CPU time: {:.1} ns per bar = {:.2} million bars per CPU-second (wall: {:.2} million/s)",
        cpu * 1e9 / total,
        total / cpu / 1e6,
        total / wall / 1e6
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
