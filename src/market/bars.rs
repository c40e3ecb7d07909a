//! Incremental statistics over 1-minute bars: session VWAP with bands, opening ranges,
//! rolling averages (ATR1m, average range, average volume) and relative volume.
//!
//! Every type here does O(1) work per bar (the relative-volume table does O(minutes of a
//! session) work once per session) and allocates nothing per bar. Prices are in the
//! instrument's units, volumes in shares; "minute" means minutes after 09:30 New York.

use super::minute_volumes::MinuteVolumes;
use crate::domain::Bar;

/// Number of 1-minute slots in a full regular session (09:30–16:00).
pub const SESSION_MINUTES: usize = 390;

/// Session VWAP: Σ(typical price × weight) / Σ weight, reset at 09:30, with the
/// volume-weighted standard deviation of typical price around it for the ±1σ/±2σ bands.
///
/// Sums are kept relative to the session's first price so the variance does not lose
/// precision to cancellation on large prices (an index at 20,000 points).
#[derive(Clone, Debug, Default)]
pub struct SessionVwap {
    reference: f64,
    weight: f64,
    weighted_offset: f64,
    weighted_offset_sq: f64,
}

/// VWAP and its bands at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VwapBands {
    pub vwap: f64,
    /// Volume-weighted standard deviation of typical price around VWAP (price units).
    pub sigma: f64,
}

impl VwapBands {
    /// `vwap + k·σ` (k = ±1, ±2 gives the usual bands).
    pub fn band(&self, k: f64) -> f64 {
        self.vwap + k * self.sigma
    }
}

impl SessionVwap {
    pub fn reset(&mut self) {
        *self = SessionVwap::default();
    }

    /// Adds one bar's typical price with its weight (its volume, or a proxy's). A weight
    /// that is not a finite positive number is ignored.
    pub fn add(&mut self, price: f64, weight: f64) {
        if !(weight.is_finite() && weight > 0.0 && price.is_finite()) {
            return;
        }
        if self.weight == 0.0 {
            self.reference = price;
        }
        let offset = price - self.reference;
        self.weight += weight;
        self.weighted_offset += offset * weight;
        self.weighted_offset_sq += offset * offset * weight;
    }

    /// `None` until some weight has been added this session.
    pub fn bands(&self) -> Option<VwapBands> {
        if self.weight <= 0.0 {
            return None;
        }
        let mean_offset = self.weighted_offset / self.weight;
        let variance = (self.weighted_offset_sq / self.weight - mean_offset * mean_offset).max(0.0);
        Some(VwapBands {
            vwap: self.reference + mean_offset,
            sigma: variance.sqrt(),
        })
    }
}

/// High and low of the bars that start in the first `minutes` minutes after 09:30,
/// by clock time: a missing bar shortens nothing and a late bar never extends the range.
#[derive(Clone, Copy, Debug)]
pub struct OpeningRange {
    minutes: u32,
    high: f64,
    low: f64,
    open: f64,
    seen_any: bool,
    complete: bool,
}

/// A finished opening range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub high: f64,
    pub low: f64,
}

impl Range {
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
    pub fn mid(&self) -> f64 {
        (self.high + self.low) / 2.0
    }
}

impl OpeningRange {
    pub fn new(minutes: u32) -> Self {
        OpeningRange {
            minutes,
            high: f64::NEG_INFINITY,
            low: f64::INFINITY,
            open: f64::NAN,
            seen_any: false,
            complete: false,
        }
    }

    pub fn minutes(&self) -> u32 {
        self.minutes
    }

    pub fn reset(&mut self) {
        *self = OpeningRange::new(self.minutes);
    }

    /// Feeds a regular-session bar starting `minute` minutes after 09:30.
    pub fn update(&mut self, minute: u32, bar: &Bar) {
        if minute < self.minutes {
            if !self.seen_any {
                self.open = bar.open;
            }
            self.seen_any = true;
            self.high = self.high.max(bar.high);
            self.low = self.low.min(bar.low);
        }
        // The bar of minute N−1 ends exactly at 09:30 + N; a later bar proves the time passed.
        if minute + 1 >= self.minutes {
            self.complete = true;
        }
    }

    /// The range once its time has passed and it holds at least one bar.
    pub fn range(&self) -> Option<Range> {
        (self.complete && self.seen_any).then_some(Range {
            high: self.high,
            low: self.low,
        })
    }

    /// The open of the first bar inside the range window.
    pub fn first_open(&self) -> Option<f64> {
        self.seen_any.then_some(self.open)
    }
}

/// Mean of the last `N` values pushed; defined once `min_count` values exist.
///
/// The running sum is recomputed from the window every `N` pushes so rounding error
/// cannot accumulate over millions of bars.
#[derive(Clone, Debug)]
pub struct RollingMean<const N: usize> {
    values: [f64; N],
    next: usize,
    count: usize,
    sum: f64,
    min_count: usize,
}

impl<const N: usize> RollingMean<N> {
    pub fn new(min_count: usize) -> Self {
        RollingMean {
            values: [0.0; N],
            next: 0,
            count: 0,
            sum: 0.0,
            min_count: min_count.clamp(1, N),
        }
    }

    pub fn push(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        if self.count == N {
            self.sum -= self.values[self.next];
        } else {
            self.count += 1;
        }
        self.values[self.next] = value;
        self.sum += value;
        self.next += 1;
        if self.next == N {
            self.next = 0;
            self.sum = self.values[..self.count].iter().sum();
        }
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count >= self.min_count).then(|| self.sum / self.count as f64)
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

/// ATR1m: the average true range of the last 20 regular-session 1-minute bars, the
/// intraday distance unit. The first bar of a session uses its high − low (an overnight
/// gap is not intraday volatility). Defined once 5 bars exist.
#[derive(Clone, Debug)]
pub struct MinuteAtr {
    true_ranges: RollingMean<20>,
    previous_close: Option<f64>,
}

impl Default for MinuteAtr {
    fn default() -> Self {
        MinuteAtr {
            true_ranges: RollingMean::new(5),
            previous_close: None,
        }
    }
}

impl MinuteAtr {
    /// Forgets the previous close so the next bar's true range is its own range.
    pub fn start_session(&mut self) {
        self.previous_close = None;
    }

    pub fn push(&mut self, bar: &Bar) {
        let tr = match self.previous_close {
            Some(pc) => bar.high.max(pc) - bar.low.min(pc),
            None => bar.range(),
        };
        self.true_ranges.push(tr);
        self.previous_close = Some(bar.close);
    }

    /// ATR1m over the bars pushed so far (not including a bar not yet pushed).
    pub fn value(&self) -> Option<f64> {
        self.true_ranges.mean().filter(|v| *v > 0.0)
    }
}

/// Where a relative-volume figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeBaseline {
    /// The same minute of day averaged over this many previous sessions.
    SameMinute { sessions: u8 },
    /// The average of the last 20 regular-session bars.
    Last20Bars,
}

/// A minute's volume against its baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelativeVolume {
    pub ratio: f64,
    pub baseline: VolumeBaseline,
}

/// Relative volume: a minute's volume against the same minute's average over the last
/// `sessions` sessions when at least `min_sessions` of them have that minute, else against
/// the average of the last 20 regular-session bars (defined once 5 exist).
///
/// Memory: one [`MinuteVolumes`] row per session seen (780 bytes while a session's
/// volumes are whole and below 65,535 shares, else 1,560), up to `sessions + 1` rows; two
/// after priming on the previous session and today. Rows come one at a time from the
/// first bar with volume. The same-minute average is summed from the rows when asked (at
/// most `sessions` additions per bar) rather than kept as 390 running sums: whole share
/// counts (every feed's and the simulator's are) stored as f32 add up exactly in f64 in
/// any order, so the sum equals a running one bit for bit (fractional volumes could
/// differ in the last bit, only when one minute's volumes span more than 2^21).
#[derive(Clone, Debug)]
pub struct RelativeVolumeTracker {
    sessions: usize,
    min_sessions: usize,
    /// Row `session_index % (sessions + 1)` is the current session.
    history: Vec<MinuteVolumes>,
    session_index: usize,
    started: bool,
    last20: RollingMean<20>,
}

impl RelativeVolumeTracker {
    pub fn new(sessions: usize, min_sessions: usize) -> Self {
        let sessions = sessions.clamp(1, 200);
        RelativeVolumeTracker {
            sessions,
            min_sessions: min_sessions.clamp(1, sessions),
            history: Vec::new(),
            session_index: 0,
            started: false,
            last20: RollingMean::new(5),
        }
    }

    /// Rows kept once full: the current session and `sessions` before it.
    fn rows(&self) -> usize {
        self.sessions + 1
    }

    /// Starts a new session: it takes a fresh row while fewer than `sessions + 1` are
    /// held, else the row of the session `sessions + 1` back (O(390), once per session).
    pub fn start_session(&mut self) {
        if self.history.is_empty() {
            return;
        }
        if self.started {
            self.session_index += 1;
        }
        self.started = true;
        let row = self.session_index % self.rows();
        if row == self.history.len() {
            // exactly one row more, not a doubling: the table's size is the point
            self.history.reserve_exact(1);
            self.history.push(MinuteVolumes::default());
        } else {
            self.history[row] = MinuteVolumes::default();
        }
    }

    /// Sum and count of the volumes recorded at minute `m` over the rows held.
    fn same_minute(&self, m: usize) -> (f64, usize) {
        self.history
            .iter()
            .filter_map(|row| row.get(m))
            .fold((0.0, 0), |(sum, n), v| (sum + f64::from(v), n + 1))
    }

    /// Relative volume of `volume` at `minute` (before it is recorded); `None` while no
    /// baseline exists or the baseline is zero.
    pub fn ratio(&self, minute: u32, volume: f64) -> Option<RelativeVolume> {
        let m = minute as usize;
        if m < SESSION_MINUTES && !self.history.is_empty() {
            let (sum, n) = self.same_minute(m);
            if n >= self.min_sessions {
                let mean = sum / n as f64;
                if mean > 0.0 {
                    return Some(RelativeVolume {
                        ratio: volume / mean,
                        baseline: VolumeBaseline::SameMinute {
                            sessions: u8::try_from(n).unwrap_or(u8::MAX),
                        },
                    });
                }
            }
        }
        let mean = self.last20.mean()?;
        (mean > 0.0).then(|| RelativeVolume {
            ratio: volume / mean,
            baseline: VolumeBaseline::Last20Bars,
        })
    }

    /// Average of the last 20 regular-session volumes (before the current bar).
    pub fn average_volume(&self) -> Option<f64> {
        self.last20.mean()
    }

    /// Same-minute volume history held, in sessions (rows of 390 minutes).
    pub fn sessions_held(&self) -> usize {
        self.history.len()
    }

    /// Records the volume of the bar at `minute`.
    pub fn record(&mut self, minute: u32, volume: f64) {
        if !(volume.is_finite() && volume >= 0.0) {
            return;
        }
        self.last20.push(volume);
        let m = minute as usize;
        if m >= SESSION_MINUTES {
            return;
        }
        if self.history.is_empty() {
            if volume <= 0.0 {
                return;
            }
            self.history = vec![MinuteVolumes::default()];
            self.session_index = 0;
            self.started = true;
        }
        let row = self.session_index % self.rows();
        self.history[row].set(m, volume);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn bar(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Bar {
        Bar {
            start: Utc.with_ymd_and_hms(2024, 3, 4, 14, 30, 0).unwrap(),
            open,
            high,
            low,
            close,
            volume,
        }
    }

    #[test]
    fn vwap_weights_typical_price_by_volume_and_its_bands_use_weighted_variance() {
        let mut vwap = SessionVwap::default();
        vwap.add(100.0, 1000.0);
        vwap.add(102.0, 3000.0);
        let b = vwap.bands().unwrap();
        assert!((b.vwap - 101.5).abs() < 1e-12);
        // variance = (1000·1.5² + 3000·0.5²)/4000 = 0.75
        assert!((b.sigma - 0.75f64.sqrt()).abs() < 1e-12);
        assert!((b.band(2.0) - (101.5 + 2.0 * 0.75f64.sqrt())).abs() < 1e-12);
        vwap.reset();
        assert!(vwap.bands().is_none());
    }

    #[test]
    fn vwap_ignores_zero_and_nan_weights() {
        let mut vwap = SessionVwap::default();
        vwap.add(100.0, 0.0);
        vwap.add(100.0, f64::NAN);
        assert!(vwap.bands().is_none());
        vwap.add(5000.25, 10.0);
        assert_eq!(vwap.bands().unwrap().sigma, 0.0);
    }

    #[test]
    fn vwap_bands_keep_precision_on_large_index_prices() {
        let mut vwap = SessionVwap::default();
        for i in 0..1000 {
            vwap.add(20_000.0 + f64::from(i % 2) * 0.5, 1.0);
        }
        let b = vwap.bands().unwrap();
        assert!((b.vwap - 20_000.25).abs() < 1e-9);
        assert!((b.sigma - 0.25).abs() < 1e-9);
    }

    #[test]
    fn opening_range_is_by_clock_time_not_bar_count() {
        let mut or = OpeningRange::new(5);
        or.update(0, &bar(10.0, 10.5, 9.8, 10.2, 1.0));
        // minutes 1..3 missing; minute 4 closes the window
        assert!(or.range().is_none());
        or.update(4, &bar(10.2, 10.9, 10.1, 10.8, 1.0));
        assert_eq!(
            or.range(),
            Some(Range {
                high: 10.9,
                low: 9.8
            })
        );
        // a later bar never extends it
        or.update(5, &bar(10.8, 12.0, 10.7, 11.9, 1.0));
        assert_eq!(or.range().unwrap().high, 10.9);
        assert_eq!(or.first_open(), Some(10.0));
    }

    #[test]
    fn opening_range_completes_when_a_later_bar_proves_the_window_passed() {
        let mut or = OpeningRange::new(15);
        or.update(3, &bar(10.0, 10.5, 9.8, 10.2, 1.0));
        assert!(or.range().is_none());
        or.update(20, &bar(10.2, 11.0, 10.1, 10.8, 1.0));
        assert_eq!(
            or.range(),
            Some(Range {
                high: 10.5,
                low: 9.8
            })
        );
    }

    #[test]
    fn rolling_mean_is_defined_from_its_minimum_and_forgets_old_values() {
        let mut m = RollingMean::<3>::new(2);
        m.push(1.0);
        assert_eq!(m.mean(), None);
        m.push(2.0);
        assert_eq!(m.mean(), Some(1.5));
        m.push(3.0);
        m.push(10.0);
        assert_eq!(m.mean(), Some(5.0));
        m.push(f64::NAN);
        assert_eq!(m.mean(), Some(5.0));
    }

    #[test]
    fn atr1m_uses_true_range_within_a_session_and_range_at_its_start() {
        let mut atr = MinuteAtr::default();
        atr.start_session();
        atr.push(&bar(10.0, 10.2, 10.0, 10.1, 1.0)); // 0.2
        atr.push(&bar(10.5, 10.6, 10.4, 10.5, 1.0)); // gap up: max(10.6,10.1)-min(10.4,10.1)=0.5
        atr.push(&bar(10.5, 10.6, 10.5, 10.6, 1.0)); // 0.1
        atr.push(&bar(10.6, 10.7, 10.6, 10.7, 1.0)); // 0.1
        assert_eq!(atr.value(), None, "needs 5 bars");
        atr.push(&bar(10.7, 10.8, 10.7, 10.8, 1.0)); // 0.1
        assert!((atr.value().unwrap() - 1.0 / 5.0).abs() < 1e-12);
        atr.start_session();
        atr.push(&bar(20.0, 20.1, 20.0, 20.05, 1.0)); // gap ignored: 0.1
        assert!((atr.value().unwrap() - 1.1 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn relative_volume_uses_the_last_20_bars_until_same_minute_history_exists() {
        let mut rv = RelativeVolumeTracker::new(10, 2);
        rv.start_session();
        for minute in 0..20 {
            rv.record(minute, 100.0);
        }
        let r = rv.ratio(20, 300.0).unwrap();
        assert_eq!(r.baseline, VolumeBaseline::Last20Bars);
        assert!((r.ratio - 3.0).abs() < 1e-12);
        // second session: minute 0 has one session of history (< 2), still 20-bar
        rv.start_session();
        assert_eq!(
            rv.ratio(0, 100.0).unwrap().baseline,
            VolumeBaseline::Last20Bars
        );
        rv.record(0, 300.0);
        rv.start_session();
        // third session: minute 0 seen in two sessions, average (100 + 300)/2
        let r = rv.ratio(0, 400.0).unwrap();
        assert_eq!(r.baseline, VolumeBaseline::SameMinute { sessions: 2 });
        assert!((r.ratio - 2.0).abs() < 1e-12);
    }

    #[test]
    fn relative_volume_history_keeps_only_the_configured_sessions() {
        let mut rv = RelativeVolumeTracker::new(2, 1);
        for v in [100.0, 200.0, 300.0, 400.0] {
            rv.start_session();
            rv.record(7, v);
        }
        rv.start_session();
        // the last two sessions: (300 + 400)/2
        let r = rv.ratio(7, 700.0).unwrap();
        assert_eq!(r.baseline, VolumeBaseline::SameMinute { sessions: 2 });
        assert!((r.ratio - 2.0).abs() < 1e-9);
    }

    #[test]
    fn relative_volume_history_grows_a_session_at_a_time_up_to_its_window() {
        let mut rv = RelativeVolumeTracker::new(3, 1);
        rv.start_session();
        assert_eq!(
            rv.sessions_held(),
            0,
            "nothing before the first bar with volume"
        );
        rv.record(0, 0.0);
        assert_eq!(rv.sessions_held(), 0, "nor for a bar without volume");
        // one session at 100 shares a minute, then a wide one (a minute of 70,000), ...
        for (session, volume) in [100.0, 70_000.0, 300.0, 400.0, 500.0, 600.0]
            .into_iter()
            .enumerate()
        {
            if session > 0 {
                rv.start_session();
            }
            for minute in 0..390 {
                rv.record(minute, volume);
            }
            assert_eq!(
                rv.sessions_held(),
                (session + 1).min(4),
                "session {session}"
            );
        }
        rv.start_session();
        // the window is the last three: (400 + 500 + 600) / 3 = 500
        let r = rv.ratio(389, 1_000.0).unwrap();
        assert_eq!(r.baseline, VolumeBaseline::SameMinute { sessions: 3 });
        assert_eq!(r.ratio, 2.0);
    }

    #[test]
    fn a_symbol_without_volume_has_no_relative_volume() {
        let mut rv = RelativeVolumeTracker::new(10, 3);
        rv.start_session();
        for minute in 0..30 {
            rv.record(minute, 0.0);
        }
        assert_eq!(rv.ratio(30, 0.0), None);
    }
}
