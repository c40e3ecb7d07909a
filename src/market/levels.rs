//! Key price levels of a session: prior day high/low/close, floor pivots, pre-market
//! high/low, daily ATR(14), round numbers, and the fixed set of levels the level
//! detectors watch.
//!
//! Daily ATR is **Wilder's** ATR(14): the first value is the simple mean of the first 14
//! true ranges, then `ATR = (13·ATR + TR) / 14`. Prices are in the instrument's units.

use chrono::NaiveDate;

use crate::domain::DailyBar;

/// Why a daily bar was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DailyBarProblem {
    /// A price is NaN, infinite, zero or negative.
    NotPositive,
    /// high < low, or open/close outside [low, high].
    Inconsistent,
    /// The low is below half the close: a known bad-data pattern of daily feeds.
    LowBelowHalfClose,
}

/// Checks a daily bar before it may become a prior day or feed ATR.
pub fn check_daily_bar(bar: &DailyBar) -> Result<(), DailyBarProblem> {
    let prices = [bar.open, bar.high, bar.low, bar.close];
    if prices.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(DailyBarProblem::NotPositive);
    }
    if bar.high < bar.low || bar.close > bar.high || bar.close < bar.low {
        return Err(DailyBarProblem::Inconsistent);
    }
    if bar.open > bar.high || bar.open < bar.low {
        return Err(DailyBarProblem::Inconsistent);
    }
    if bar.low < bar.close / 2.0 {
        return Err(DailyBarProblem::LowBelowHalfClose);
    }
    Ok(())
}

/// Where the prior day's numbers came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorDaySource {
    /// Aggregated from that session's regular-hours 1-minute bars.
    MinuteBars,
    /// The daily bar of that session.
    DailyBar,
}

impl PriorDaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriorDaySource::MinuteBars => "minute bars",
            PriorDaySource::DailyBar => "daily bar",
        }
    }
}

/// The previous regular session's high, low and close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriorDay {
    pub date: NaiveDate,
    pub high: f64,
    pub low: f64,
    /// The official close (SPEC 3): the valid daily bar's close when one exists for the
    /// date, else the last regular-session minute's close.
    pub close: f64,
    /// Where the high and low came from.
    pub source: PriorDaySource,
    /// Where the close came from: `DailyBar` (the official close, the 16:00 auction) or
    /// `MinuteBars` (the last regular-session minute's close).
    pub close_source: PriorDaySource,
}

/// Floor-trader pivots from a prior day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pivots {
    pub p: f64,
    pub r1: f64,
    pub r2: f64,
    pub s1: f64,
    pub s2: f64,
}

impl Pivots {
    /// P = (H+L+C)/3, R1 = 2P−L, S1 = 2P−H, R2 = P+(H−L), S2 = P−(H−L).
    pub fn floor(high: f64, low: f64, close: f64) -> Pivots {
        let p = (high + low + close) / 3.0;
        Pivots {
            p,
            r1: 2.0 * p - low,
            s1: 2.0 * p - high,
            r2: p + (high - low),
            s2: p - (high - low),
        }
    }
}

/// Validated daily bars in date order with Wilder ATR(14) after each bar.
#[derive(Clone, Debug, Default)]
pub struct DailyHistory {
    bars: Vec<DailyBar>,
    /// ATR(14) through the bar at the same index; `NaN` before 15 bars exist.
    atr: Vec<f64>,
}

/// ATR period of daily bars.
pub const DAILY_ATR_PERIOD: usize = 14;

impl DailyHistory {
    /// Merges bars into the history (a bar for an existing date replaces it) and returns
    /// how many were rejected by [`check_daily_bar`]. Rebuilds the ATR series: O(n).
    pub fn merge(&mut self, bars: &[DailyBar]) -> usize {
        let mut rejected = 0;
        for bar in bars {
            if check_daily_bar(bar).is_err() {
                rejected += 1;
                continue;
            }
            match self.bars.binary_search_by_key(&bar.date, |b| b.date) {
                Ok(i) => self.bars[i] = *bar,
                Err(i) => self.bars.insert(i, *bar),
            }
        }
        self.rebuild_atr();
        // held per symbol for the whole run: no growth slack (issue 25 item 1)
        self.bars.shrink_to_fit();
        self.atr.shrink_to_fit();
        rejected
    }

    /// Appends a bar after the last one (O(1)); an earlier or invalid bar goes through
    /// [`DailyHistory::merge`]. Returns false when the bar was rejected.
    pub fn push(&mut self, bar: DailyBar) -> bool {
        if check_daily_bar(&bar).is_err() {
            return false;
        }
        match self.bars.last() {
            Some(last) if last.date >= bar.date => {
                self.merge(&[bar]);
            }
            _ => {
                let atr = self.next_atr(self.bars.len(), &bar);
                // one bar a session: grow by one, not by doubling
                self.bars.reserve_exact(1);
                self.atr.reserve_exact(1);
                self.bars.push(bar);
                self.atr.push(atr);
            }
        }
        true
    }

    fn next_atr(&self, index: usize, bar: &DailyBar) -> f64 {
        let Some(previous) = index.checked_sub(1).map(|i| self.bars[i]) else {
            return f64::NAN;
        };
        let tr = bar.high.max(previous.close) - bar.low.min(previous.close);
        // index i has i true ranges (bars 1..=i)
        if index < DAILY_ATR_PERIOD {
            return f64::NAN;
        }
        if index == DAILY_ATR_PERIOD {
            let first: f64 = (1..DAILY_ATR_PERIOD)
                .map(|j| {
                    let (b, p) = (self.bars[j], self.bars[j - 1]);
                    b.high.max(p.close) - b.low.min(p.close)
                })
                .sum();
            return (first + tr) / DAILY_ATR_PERIOD as f64;
        }
        let n = DAILY_ATR_PERIOD as f64;
        (self.atr[index - 1] * (n - 1.0) + tr) / n
    }

    fn rebuild_atr(&mut self) {
        self.atr.clear();
        for i in 0..self.bars.len() {
            let atr = self.next_atr(i, &self.bars[i]);
            self.atr.push(atr);
        }
    }

    pub fn len(&self) -> usize {
        self.bars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// The bar of exactly `date`.
    pub fn bar_on(&self, date: NaiveDate) -> Option<&DailyBar> {
        self.bars
            .binary_search_by_key(&date, |b| b.date)
            .ok()
            .map(|i| &self.bars[i])
    }

    /// ATR(14) through the last bar strictly before `date` (so today's partial bar,
    /// if a provider sends one, never leaks in).
    pub fn atr_before(&self, date: NaiveDate) -> Option<f64> {
        let end = self.bars.partition_point(|b| b.date < date);
        let atr = *self.atr.get(end.checked_sub(1)?)?;
        (atr.is_finite() && atr > 0.0).then_some(atr)
    }

    pub fn last_date(&self) -> Option<NaiveDate> {
        self.bars.last().map(|b| b.date)
    }

    /// How many bars lie strictly before `date` (what the ATR before `date` can use).
    pub fn count_before(&self, date: NaiveDate) -> usize {
        self.bars.partition_point(|b| b.date < date)
    }
}

/// Running high/low of one session's pre-market (04:00–09:30 New York).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HighLow {
    pub high: f64,
    pub low: f64,
    pub seen: bool,
}

impl HighLow {
    pub fn update(&mut self, high: f64, low: f64) {
        if !self.seen {
            self.high = high;
            self.low = low;
            self.seen = true;
        } else {
            self.high = self.high.max(high);
            self.low = self.low.min(low);
        }
    }

    pub fn get(&self) -> Option<(f64, f64)> {
        self.seen.then_some((self.high, self.low))
    }
}

/// The round-number step for a price: the 1/2.5/5 × 10ᵏ step nearest to 0.5 % of
/// price (SPY at 500 → 2.5, SPX at 6000 → 25, NDX at 21000 → 100, a $40 stock → 0.25).
pub fn round_number_step(price: f64) -> Option<f64> {
    if !(price.is_finite() && price > 0.0) {
        return None;
    }
    let want = price * 0.005;
    let exponent = want.log10().floor() as i32;
    // m·10ᵉ with a division for negative e keeps 0.25 exact (2.5 / 10).
    let scale = |m: f64| {
        if exponent >= 0 {
            m * 10f64.powi(exponent)
        } else {
            m / 10f64.powi(-exponent)
        }
    };
    [1.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|&m| scale(m))
        .min_by(|a, b| {
            let da = (a.ln() - want.ln()).abs();
            let db = (b.ln() - want.ln()).abs();
            da.total_cmp(&db)
        })
}

/// The watched levels, one slot each, so per-level state can live in fixed arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LevelId {
    PriorHigh,
    PriorLow,
    PriorClose,
    PreMarketHigh,
    PreMarketLow,
    RangeHigh,
    RangeLow,
    Pivot,
    R1,
    R2,
    S1,
    S2,
    /// Round numbers n·step with n even / odd: the two nearest to price always differ in
    /// parity, so each keeps its slot while price moves between them.
    RoundEven,
    RoundOdd,
    CallWall,
    PutWall,
}

impl LevelId {
    pub const COUNT: usize = 16;
    pub const ALL: [LevelId; LevelId::COUNT] = [
        LevelId::PriorHigh,
        LevelId::PriorLow,
        LevelId::PriorClose,
        LevelId::PreMarketHigh,
        LevelId::PreMarketLow,
        LevelId::RangeHigh,
        LevelId::RangeLow,
        LevelId::Pivot,
        LevelId::R1,
        LevelId::R2,
        LevelId::S1,
        LevelId::S2,
        LevelId::RoundEven,
        LevelId::RoundOdd,
        LevelId::CallWall,
        LevelId::PutWall,
    ];

    /// Short label as traders write it.
    pub fn label(self) -> &'static str {
        match self {
            LevelId::PriorHigh => "PDH",
            LevelId::PriorLow => "PDL",
            LevelId::PriorClose => "PDC",
            LevelId::PreMarketHigh => "PMH",
            LevelId::PreMarketLow => "PML",
            LevelId::RangeHigh => "ORH",
            LevelId::RangeLow => "ORL",
            LevelId::Pivot => "P",
            LevelId::R1 => "R1",
            LevelId::R2 => "R2",
            LevelId::S1 => "S1",
            LevelId::S2 => "S2",
            LevelId::RoundEven | LevelId::RoundOdd => "round",
            LevelId::CallWall => "call wall",
            LevelId::PutWall => "put wall",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The current price of every watched level (`NaN` = not known this session).
#[derive(Clone, Copy, Debug)]
pub struct LevelSet {
    prices: [f64; LevelId::COUNT],
    /// The round-number step, chosen from the first price it is asked for (once per
    /// session: a new `LevelSet` is made each day), so the hot path does no logarithms.
    round_step: f64,
    /// The multiple of `round_step` at or below the last price (to skip unchanged work).
    round_index: f64,
}

impl Default for LevelSet {
    fn default() -> Self {
        LevelSet {
            prices: [f64::NAN; LevelId::COUNT],
            round_step: f64::NAN,
            round_index: f64::NAN,
        }
    }
}

impl LevelSet {
    pub fn set(&mut self, id: LevelId, price: Option<f64>) {
        self.prices[id.index()] = price
            .filter(|p| p.is_finite() && *p > 0.0)
            .unwrap_or(f64::NAN);
    }

    pub fn get(&self, id: LevelId) -> Option<f64> {
        let p = self.prices[id.index()];
        (!p.is_nan()).then_some(p)
    }

    /// Sets the two round numbers nearest to `price` (below-or-at and above).
    pub fn set_round_numbers(&mut self, price: f64) {
        if self.round_step.is_nan() {
            self.round_step = round_number_step(price).unwrap_or(f64::NAN);
        }
        let step = self.round_step;
        if step.is_nan() || !(price.is_finite() && price > 0.0) {
            self.set(LevelId::RoundEven, None);
            self.set(LevelId::RoundOdd, None);
            self.round_index = f64::NAN;
            return;
        }
        let n = (price / step).floor();
        if n == self.round_index {
            return;
        }
        self.round_index = n;
        for k in [n, n + 1.0] {
            // parity by integer: the two nearest multiples always differ
            let slot = if (k as i64) & 1 == 0 {
                LevelId::RoundEven
            } else {
                LevelId::RoundOdd
            };
            // rounding to 1e-6 keeps 2.5-steps free of binary noise (167.5, not 167.50000001)
            let level = ((k * step) * 1e6).round() / 1e6;
            self.set(slot, Some(level));
        }
    }

    /// Whether a level of an earlier slot (prior day before pre-market before opening
    /// range before pivots before round numbers before walls) lies within `tolerance` of
    /// `price`: bunched levels (PDC 167.42 next to S1 167.40) are one level, named by
    /// the earlier slot. O(slots); call it only when something happens at a level.
    pub fn is_shadowed(&self, id: LevelId, price: f64, tolerance: f64) -> bool {
        self.prices[..id.index()]
            .iter()
            .any(|p| (p - price).abs() <= tolerance)
    }

    /// Known levels in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (LevelId, f64)> + '_ {
        LevelId::ALL
            .iter()
            .zip(self.prices.iter())
            .filter(|(_, p)| !p.is_nan())
            .map(|(&id, &p)| (id, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32, high: f64, low: f64, close: f64) -> DailyBar {
        DailyBar {
            date: NaiveDate::from_ymd_opt(2024, 1, d).unwrap(),
            open: (high + low) / 2.0,
            high,
            low,
            close,
            volume: 1e6,
        }
    }

    #[test]
    fn floor_pivots_follow_the_textbook_formulas() {
        let p = Pivots::floor(110.0, 100.0, 105.0);
        assert_eq!(p.p, 105.0);
        assert_eq!(p.r1, 110.0);
        assert_eq!(p.s1, 100.0);
        assert_eq!(p.r2, 115.0);
        assert_eq!(p.s2, 95.0);
    }

    #[test]
    fn a_daily_bar_whose_low_is_below_half_its_close_is_bad_data() {
        let bad = day(2, 101.0, 40.0, 100.0);
        assert_eq!(
            check_daily_bar(&bad),
            Err(DailyBarProblem::LowBelowHalfClose)
        );
        let mut h = DailyHistory::default();
        assert_eq!(h.merge(&[bad, day(3, 101.0, 99.0, 100.0)]), 1);
        assert!(h.bar_on(bad.date).is_none());
        assert_eq!(h.len(), 1);
        let nan = DailyBar {
            close: f64::NAN,
            ..day(4, 1.0, 1.0, 1.0)
        };
        assert_eq!(check_daily_bar(&nan), Err(DailyBarProblem::NotPositive));
        let inverted = day(5, 99.0, 101.0, 100.0);
        assert_eq!(
            check_daily_bar(&inverted),
            Err(DailyBarProblem::Inconsistent)
        );
    }

    #[test]
    fn wilder_atr_seeds_with_the_mean_of_14_true_ranges_then_smooths() {
        let mut h = DailyHistory::default();
        // bar 1: range 2, bars 2..=15 range 2 with closes at the middle: TR = 2
        for d in 1..=15 {
            h.push(day(d, 101.0, 99.0, 100.0));
        }
        let after = NaiveDate::from_ymd_opt(2024, 1, 16).unwrap();
        assert_eq!(
            h.atr_before(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()),
            None
        );
        assert!((h.atr_before(after).unwrap() - 2.0).abs() < 1e-12);
        // a 16th bar with TR 16 (gap up to 115/108 from close 100): ATR = (13·2 + 16)/14 = 3
        h.push(day(16, 116.0, 108.0, 110.0));
        let next = NaiveDate::from_ymd_opt(2024, 1, 17).unwrap();
        assert!((h.atr_before(next).unwrap() - 3.0).abs() < 1e-12);
        // the 16th bar itself is not used for the 16th session
        assert!(
            (h.atr_before(NaiveDate::from_ymd_opt(2024, 1, 16).unwrap())
                .unwrap()
                - 2.0)
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn merging_out_of_order_bars_gives_the_same_atr_as_pushing_in_order() {
        let bars: Vec<DailyBar> = (1..=20)
            .map(|d| day(d, 100.0 + f64::from(d % 3), 98.0 - f64::from(d % 2), 99.0))
            .collect();
        let mut pushed = DailyHistory::default();
        for b in &bars {
            pushed.push(*b);
        }
        let mut merged = DailyHistory::default();
        let mut reversed = bars.clone();
        reversed.reverse();
        merged.merge(&reversed);
        let date = NaiveDate::from_ymd_opt(2024, 1, 25).unwrap();
        assert_eq!(pushed.atr_before(date), merged.atr_before(date));
        assert!(pushed.atr_before(date).is_some());
    }

    #[test]
    fn round_number_steps_match_what_traders_watch() {
        assert_eq!(round_number_step(168.0), Some(1.0));
        assert_eq!(round_number_step(500.0), Some(2.5));
        assert_eq!(round_number_step(6000.0), Some(25.0));
        assert_eq!(round_number_step(21000.0), Some(100.0));
        assert_eq!(round_number_step(40.0), Some(0.25));
        assert_eq!(round_number_step(f64::NAN), None);
        assert_eq!(round_number_step(0.0), None);
    }

    #[test]
    fn round_number_slots_keep_their_level_as_price_moves_between_them() {
        let mut set = LevelSet::default();
        set.set_round_numbers(167.4);
        assert_eq!(set.get(LevelId::RoundOdd), Some(167.0));
        assert_eq!(set.get(LevelId::RoundEven), Some(168.0));
        set.set_round_numbers(168.2);
        assert_eq!(
            set.get(LevelId::RoundEven),
            Some(168.0),
            "168 stays in its slot"
        );
        assert_eq!(set.get(LevelId::RoundOdd), Some(169.0));
    }

    #[test]
    fn a_level_next_to_an_earlier_one_is_shadowed_by_it() {
        let mut set = LevelSet::default();
        set.set(LevelId::PriorClose, Some(167.42));
        set.set(LevelId::S1, Some(167.40));
        assert!(set.is_shadowed(LevelId::S1, 167.40, 0.05));
        assert!(!set.is_shadowed(LevelId::S1, 167.40, 0.01));
        assert!(
            !set.is_shadowed(LevelId::PriorClose, 167.42, 0.05),
            "the earlier slot names it"
        );
    }

    #[test]
    fn unknown_levels_are_absent_not_zero() {
        let mut set = LevelSet::default();
        set.set(LevelId::PriorHigh, Some(f64::NAN));
        set.set(LevelId::PriorLow, Some(0.0));
        set.set(LevelId::PriorClose, Some(101.5));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![(LevelId::PriorClose, 101.5)]
        );
    }
}
