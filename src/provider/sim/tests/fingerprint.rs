//! The simulation's whole output, fingerprinted: the demo, its snapshot tests and the
//! detectors' calibrations depend on every price staying bit-identical, so any change to
//! how the market is generated or held must leave these hashes as they are.

use chrono::NaiveDate;

use super::*;
use crate::provider::{MarketEvent, Playable};

/// FNV-1a over the bytes fed to it; f64s go in as their bits, so a change in the last
/// bit of any price changes the fingerprint.
struct Fingerprint(u64);

impl Fingerprint {
    fn new() -> Fingerprint {
        Fingerprint(0xcbf29ce484222325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }

    fn price(&mut self, x: f64) {
        self.bytes(&x.to_bits().to_le_bytes());
    }

    fn instant(&mut self, t: DateTime<Utc>) {
        self.bytes(&t.timestamp().to_le_bytes());
    }

    fn bar(&mut self, b: &Bar) {
        self.instant(b.start);
        for x in [b.open, b.high, b.low, b.close, b.volume] {
            self.price(x);
        }
    }

    fn daily(&mut self, b: &DailyBar) {
        self.bytes(b.date.to_string().as_bytes());
        for x in [b.open, b.high, b.low, b.close, b.volume] {
            self.price(x);
        }
    }
}

/// Every symbol's daily history, both sessions' bars and prior close, then every
/// 15-second step of the current session as the feed plays it (prices and final bars),
/// then the same again after rolling to the next session.
fn fingerprint(seed: u64, symbols: &[Symbol], date: NaiveDate) -> u64 {
    let mut f = Fingerprint::new();
    let mut market = SimMarket::new(seed, symbols, date);
    for _ in 0..2 {
        let (previous, today) = (market.previous.session, market.today.session);
        for symbol in symbols {
            f.bytes(symbol.as_str().as_bytes());
            for d in market.daily.get(symbol).into_iter().flatten() {
                f.daily(d);
            }
            for b in market
                .previous
                .bars_until(symbol, previous.after_hours_close())
            {
                f.bar(&b);
            }
            f.price(market.prior_close(symbol).unwrap_or(f64::NAN));
            f.price(
                market
                    .last_price(symbol, today.pre_market_open())
                    .unwrap_or(f64::NAN),
            );
        }
        let mut at = market.next_step(today.pre_market_open());
        while at <= today.after_hours_close() {
            if let Some(MarketEvent::Step { at, quotes, bars }) = market.step_event(at) {
                f.instant(at);
                for q in &quotes {
                    f.bytes(q.symbol.as_str().as_bytes());
                    f.price(q.price);
                }
                for (symbol, b) in &bars {
                    f.bytes(symbol.as_str().as_bytes());
                    f.bar(b);
                }
            }
            at = market.next_step(at);
        }
        for symbol in symbols {
            for b in market.today.bars_until(symbol, today.after_hours_close()) {
                f.bar(&b);
            }
        }
        market.roll();
    }
    f.0
}

fn generated_symbols(n: usize) -> Vec<Symbol> {
    (1..=n)
        .map(|i| Symbol::parse(&format!("S{i:04}")).unwrap())
        .collect()
}

#[test]
fn the_default_symbols_play_exactly_the_recorded_market() {
    let hash = fingerprint(
        7,
        &symbols(),
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    );
    assert_eq!(hash, 0x66c8d2f297396945, "{hash:#018x}");
}

#[test]
fn fifty_generated_symbols_play_exactly_the_recorded_market() {
    // The Friday after Thanksgiving is the previous session: an early close in the mix.
    let hash = fingerprint(
        42,
        &generated_symbols(50),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    );
    assert_eq!(hash, 0x1d5ac4ae318363b4, "{hash:#018x}");
}
