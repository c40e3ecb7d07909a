//! Test plans and prices shared by the setup tests.

use chrono::{DateTime, NaiveDate, Utc};

use super::evaluate::PriceUpdate;
use super::lifecycle::TrackedSetup;
use crate::domain::{Detection, Direction, SetupKind, Symbol};

/// An instant on 2026-03-10 (EDT: 14:00Z is 10:00 New York), from "HH:MM" or "HH:MM:SS".
pub fn at(time: &str) -> DateTime<Utc> {
    let time = if time.len() == 5 {
        format!("{time}:00")
    } else {
        time.to_string()
    };
    DateTime::parse_from_rfc3339(&format!("2026-03-10T{time}Z"))
        .unwrap()
        .with_timezone(&Utc)
}

pub fn detection(direction: Direction, entry: f64, stop: f64, target: f64) -> Detection {
    Detection {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: SetupKind::OrbBreakout,
        direction,
        confidence: 70,
        entry,
        stop,
        target,
        detected_at: at("14:00"),
        bar_time: at("13:59"),
        market_date: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        dedup_key: "or15".into(),
        rationale: "test".into(),
        gex: None,
    }
}

/// Long SPY: stop 100, entry 101, target 103 (2 R), tracked and armed at 14:00Z, id 12.
pub fn long_setup() -> TrackedSetup {
    TrackedSetup::track(
        12,
        Some(7),
        &detection(Direction::Long, 101.0, 100.0, 103.0),
        false,
        at("14:00"),
    )
    .unwrap()
}

/// Short SPY: stop 100, entry 99, target 97 (2 R), tracked and armed at 14:00Z, id 13.
pub fn short_setup() -> TrackedSetup {
    TrackedSetup::track(
        13,
        Some(8),
        &detection(Direction::Short, 99.0, 100.0, 97.0),
        false,
        at("14:00"),
    )
    .unwrap()
}

/// A bar-like update observed at `time` on the fixture day.
pub fn bar(time: &str, high: f64, low: f64) -> PriceUpdate {
    PriceUpdate {
        at: at(time),
        high,
        low,
        last: (high + low) / 2.0,
    }
}

pub fn trade(time: &str, price: f64) -> PriceUpdate {
    PriceUpdate::trade(at(time), price)
}
