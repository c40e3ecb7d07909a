//! Cost of the price-alert rules per price update (SPEC 17): 10,000 armed alerts over 500
//! symbols (20 per symbol: crosses above and below, moves ± X %), indexed by symbol in an
//! `AlertBook`. Every alert repeats, so the book keeps its size while prices oscillate
//! across the levels and some alerts fire on most updates (a busy upper bound). One
//! iteration = one quote of one symbol, symbols taken in a shuffled order.
//!
//! Run: `cargo bench --bench alerts -- --quick`

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use coach::alerts::{AlertBook, AlertStatus, Condition, Firing, PriceAlert};
use coach::domain::Symbol;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SYMBOLS: usize = 500;
const ALERTS_PER_SYMBOL: usize = 20;
const UPDATES: usize = 4096;

/// A small deterministic generator (no extra crate needed for a benchmark's inputs).
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn start() -> DateTime<Utc> {
    "2026-03-10T14:30:00Z".parse().expect("a valid instant")
}

fn book(symbols: &[Symbol], rng: &mut Lcg) -> AlertBook {
    let mut book = AlertBook::new();
    let mut id = 0;
    for symbol in symbols {
        for i in 0..ALERTS_PER_SYMBOL {
            id += 1;
            // Levels within ±1 % of 100, so the oscillating prices cross them often.
            let level = 99.0 + 2.0 * rng.next_f64();
            let condition = match i % 4 {
                0 | 1 => Condition::CrossesAbove(level),
                2 => Condition::CrossesBelow(level),
                _ => Condition::MovesPercent(0.5),
            };
            book.upsert(PriceAlert {
                id,
                symbol: symbol.clone(),
                condition,
                note: String::new(),
                status: AlertStatus::Armed,
                repeat: true,
                reference: Some(100.0),
                created_at: start(),
                fired_at: None,
                fired_price: None,
            });
        }
    }
    book
}

fn bench(c: &mut Criterion) {
    let mut rng = Lcg(42);
    let symbols: Vec<Symbol> = (0..SYMBOLS)
        .map(|i| Symbol::parse(&format!("S{i:03}")).expect("a valid symbol"))
        .collect();
    let mut book = book(&symbols, &mut rng);
    let updates: Vec<(usize, f64, DateTime<Utc>)> = (0..UPDATES)
        .map(|i| {
            (
                (rng.next_f64() * SYMBOLS as f64) as usize % SYMBOLS,
                99.0 + 2.0 * rng.next_f64(),
                start() + Duration::seconds(i as i64),
            )
        })
        .collect();
    let mut out: Vec<Firing> = Vec::with_capacity(64);
    let mut i = 0;
    let mut group = c.benchmark_group("alerts");
    group.throughput(Throughput::Elements(1));
    group.bench_function("10k_alerts_500_symbols_per_quote", |b| {
        b.iter(|| {
            let (s, price, at) = updates[i % UPDATES];
            i += 1;
            out.clear();
            book.on_price(black_box(&symbols[s]), black_box(price), at, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
