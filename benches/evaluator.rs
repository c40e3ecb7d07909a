//! Cost of the setup evaluator's rules per price update (SPEC 5, SPEC 15).
//!
//! 10,000 live setups over 500 symbols (20 per symbol: longs and shorts, half of them
//! already triggered), indexed by symbol in a `SetupBook`. Each price update (a trade or a
//! bar of one symbol) evaluates only its symbol's setups. The book is not mutated, so
//! every iteration does the same work. Two books:
//! - `busy`: levels within a fraction of a percent of price, so about 8 of a symbol's 20
//!   setups produce a transition on every update (an upper bound on the work);
//! - `quiet`: price moves inside every setup's levels, so no update crosses anything (the
//!   common case during a session).
//!
//! Run: `cargo bench --bench evaluator`

use std::hint::black_box;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::setups::{ManualAction, PriceUpdate, SetupBook, TrackedSetup, Transition, apply_manual};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SYMBOLS: usize = 500;
const SETUPS_PER_SYMBOL: usize = 20;
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

fn tracked_at() -> DateTime<Utc> {
    "2026-03-10T14:00:00Z".parse().expect("a valid instant")
}

fn base_price(symbol: usize) -> f64 {
    50.0 + symbol as f64
}

/// The (direction, entry, stop, target) of setup `j` of a symbol trading near `price`.
fn plan(rng: &mut Lcg, price: f64, j: usize, quiet: bool) -> (Direction, f64, f64, f64) {
    let long = j.is_multiple_of(2);
    if quiet {
        // Entry 1-2 % beyond price, stop 1-2 % on the other side: a ±0.5 % move crosses nothing.
        let entry_gap = price * (0.01 + 0.01 * rng.next_f64());
        let stop_gap = price * (0.01 + 0.01 * rng.next_f64());
        return if long {
            let (entry, stop) = (price + entry_gap, price - stop_gap);
            (Direction::Long, entry, stop, entry + 2.0 * (entry - stop))
        } else {
            let (entry, stop) = (price - entry_gap, price + stop_gap);
            (Direction::Short, entry, stop, entry - 2.0 * (stop - entry))
        };
    }
    let risk = price * (0.002 + 0.004 * rng.next_f64());
    let entry = price * (1.0 + 0.004 * (rng.next_f64() - 0.5));
    if long {
        (Direction::Long, entry, entry - risk, entry + 2.0 * risk)
    } else {
        (Direction::Short, entry, entry + risk, entry - 2.0 * risk)
    }
}

fn book(rng: &mut Lcg, quiet: bool) -> (SetupBook, Vec<Symbol>) {
    let symbols: Vec<Symbol> = (0..SYMBOLS)
        .map(|i| Symbol::parse(&format!("S{i:03}")).expect("a valid symbol"))
        .collect();
    let mut book = SetupBook::new();
    let mut id = 0;
    for (i, symbol) in symbols.iter().enumerate() {
        for j in 0..SETUPS_PER_SYMBOL {
            id += 1;
            let (direction, entry, stop, target) = plan(rng, base_price(i), j, quiet);
            let detection = Detection {
                symbol: symbol.clone(),
                kind: SetupKind::ALL[j % SetupKind::ALL.len()],
                direction,
                confidence: 60,
                entry,
                stop,
                target,
                detected_at: tracked_at(),
                bar_time: tracked_at() - Duration::minutes(1),
                market_date: NaiveDate::from_ymd_opt(2026, 3, 10).expect("a valid date"),
                dedup_key: String::new(),
                rationale: String::new(),
                gex: None,
            };
            let mut setup = TrackedSetup::track(id, Some(id), &detection, false, tracked_at())
                .expect("an ordered plan");
            if j % 4 < 2 {
                let t = apply_manual(&setup, ManualAction::Trigger, tracked_at()).expect("legal");
                setup.apply(&t).expect("fresh");
            }
            book.upsert(setup);
        }
    }
    (book, symbols)
}

fn updates(rng: &mut Lcg) -> Vec<(usize, PriceUpdate)> {
    (0..UPDATES)
        .map(|k| {
            let symbol = (rng.next_f64() * SYMBOLS as f64) as usize % SYMBOLS;
            let price = base_price(symbol) * (1.0 + 0.01 * (rng.next_f64() - 0.5));
            let at = tracked_at() + Duration::seconds(1 + k as i64);
            let update = if k % 2 == 0 {
                PriceUpdate::trade(at, price)
            } else {
                let half = price * 0.0005 * rng.next_f64();
                PriceUpdate {
                    at,
                    high: price + half,
                    low: price - half,
                    last: price,
                }
            };
            (symbol, update)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluator");
    group.throughput(Throughput::Elements(UPDATES as u64));
    for (name, quiet) in [("busy", false), ("quiet", true)] {
        let mut rng = Lcg(42);
        let (book, symbols) = book(&mut rng, quiet);
        assert_eq!(book.len(), SYMBOLS * SETUPS_PER_SYMBOL);
        let updates = updates(&mut rng);
        let mut out: Vec<Transition> = Vec::with_capacity(SETUPS_PER_SYMBOL);

        let mut crossing = 0;
        for (symbol, update) in &updates {
            out.clear();
            book.evaluate(&symbols[*symbol], update, &mut out);
            crossing += out.len();
        }
        println!(
            "{name}: {UPDATES} updates over {} setups, {:.2} transitions per update",
            book.len(),
            crossing as f64 / UPDATES as f64
        );

        group.bench_function(format!("{name}/10k_setups_500_symbols/4096_updates"), |b| {
            b.iter(|| {
                for (symbol, update) in &updates {
                    out.clear();
                    book.evaluate(black_box(&symbols[*symbol]), black_box(update), &mut out);
                    black_box(&out);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
