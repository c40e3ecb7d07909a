//! Builders for detector tests: a session day, a prior-day history, and bars fed minute
//! by minute through a real [`Engine`].

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{DetectorsConfig, Engine};
use crate::domain::{Bar, DailyBar, Detection, SetupKind, Symbol};
use crate::market::calendar;

/// A test session: Tuesday 2024-03-05 (EST), prior session Monday 2024-03-04.
pub fn session_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()
}

/// The UTC start of the bar `minute` minutes after 09:30 on `date`.
pub fn at(date: NaiveDate, minute: i64) -> DateTime<Utc> {
    calendar::session(date).expect("a trading day").open + Duration::minutes(minute)
}

pub fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

/// Feeds bars of one symbol on one session and keeps what was detected.
pub struct Scenario {
    pub engine: Engine,
    pub symbol: Symbol,
    pub date: NaiveDate,
    pub minute: i64,
    pub detections: Vec<Detection>,
}

impl Scenario {
    pub fn new(symbol: &str) -> Self {
        Scenario::with_config(symbol, DetectorsConfig::default())
    }

    pub fn with_config(symbol: &str, config: DetectorsConfig) -> Self {
        Scenario {
            engine: Engine::new(config).expect("valid config"),
            symbol: sym(symbol),
            date: session_date(),
            minute: 0,
            detections: Vec::new(),
        }
    }

    /// Twenty daily bars before the session, each `atr` wide around `close`, the last
    /// (the prior day) with the given high, low and close: daily ATR(14) = `atr` when
    /// the prior day is `atr` wide too.
    pub fn prior_day(mut self, high: f64, low: f64, close: f64, atr: f64) -> Self {
        let mut bars = Vec::new();
        let mut date = self.date;
        for i in 0..20 {
            date = calendar::previous_session(date).date;
            let bar = if i == 0 {
                DailyBar {
                    date,
                    open: close,
                    high,
                    low,
                    close,
                    volume: 1e6,
                }
            } else {
                DailyBar {
                    date,
                    open: close,
                    high: close + atr / 2.0,
                    low: close - atr / 2.0,
                    close,
                    volume: 1e6,
                }
            };
            bars.push(bar);
        }
        let symbol = self.symbol.clone();
        assert_eq!(self.engine.add_daily_bars(&symbol, &bars), 0);
        self
    }

    /// Feeds one bar at the current minute and moves on; returns its detections.
    pub fn bar(
        &mut self,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Vec<Detection> {
        let bar = Bar {
            start: at(self.date, self.minute),
            open,
            high,
            low,
            close,
            volume,
        };
        self.minute += 1;
        let mut out = Vec::new();
        self.engine.on_bar(&self.symbol.clone(), &bar, &mut out);
        self.detections.extend(out.iter().cloned());
        out
    }

    /// `n` quiet bars: open = close = `price`, high/low ± `half_range`.
    pub fn quiet(&mut self, n: usize, price: f64, half_range: f64, volume: f64) {
        for _ in 0..n {
            self.bar(price, price + half_range, price - half_range, price, volume);
        }
    }

    pub fn of_kind(&self, kind: SetupKind) -> Vec<&Detection> {
        self.detections.iter().filter(|d| d.kind == kind).collect()
    }
}

/// Asserts the plan invariants every detection must meet.
pub fn assert_plan_is_sound(d: &Detection) {
    use crate::domain::Direction;
    assert!(
        d.entry.is_finite() && d.stop.is_finite() && d.target.is_finite(),
        "{d:?}"
    );
    match d.direction {
        Direction::Long => assert!(d.stop < d.entry && d.entry < d.target, "{d:?}"),
        Direction::Short => assert!(d.target < d.entry && d.entry < d.stop, "{d:?}"),
    }
    assert!(d.reward_risk() >= 1.5 - 1e-9, "{d:?}");
    assert!(d.confidence <= 100);
    assert!(!d.rationale.is_empty() && !d.dedup_key.is_empty());
}
