//! The running market picture of one symbol, updated bar by bar: session VWAP and bands,
//! opening ranges, prior day, pivots, pre-market range, daily ATR, ATR1m, relative volume
//! and the watched levels. O(1) per bar; O(session) once per session for the history.
//!
//! Bars must be final 1-minute bars in ascending start order; a bar that does not start
//! after the previous one is refused (replays and backfills may overlap harmlessly).

use chrono::NaiveDate;

use super::bars::{
    MinuteAtr, OpeningRange, Range, RelativeVolume, RelativeVolumeTracker, RollingMean,
    SessionVwap, VwapBands,
};
use super::calendar;
use super::levels::{
    DailyHistory, HighLow, LevelId, LevelSet, Pivots, PriorDay, PriorDaySource, check_daily_bar,
};
use super::session_clock::{BarPlace, SessionClock, TradingDay};
use crate::domain::{Bar, DailyBar};

/// What happened to a bar given to [`MarketState::begin_bar`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarFate {
    /// A regular-session bar, `minute` minutes after the open.
    Regular { minute: u32 },
    /// A pre-market bar: updated the pre-market high/low only.
    PreMarket,
    /// After hours, or a day without a session: not used.
    OutsideSession,
    /// Not after the previous bar (a duplicate or out of order): ignored.
    NotAfterPrevious,
    /// NaN, non-positive or inconsistent prices, or an instant outside 1900–2200: ignored.
    Invalid,
}

/// The figures of one regular-session bar, taken before it (baselines) or after it
/// (VWAP, which includes the bar as a chart shows it).
#[derive(Clone, Copy, Debug)]
pub struct BarStats {
    pub day: TradingDay,
    pub minute: u32,
    /// Regular bars of this session before this one.
    pub index: u32,
    pub previous: Option<Bar>,
    /// ATR1m of the 20 regular bars before this one.
    pub atr1m: Option<f64>,
    /// Mean high − low of the 20 regular bars before this one.
    pub average_range: Option<f64>,
    /// This bar's own volume against its baseline (`None` without volume history).
    pub relative_volume: Option<RelativeVolume>,
    /// Session high and low before this bar (`None` on the first bar).
    pub high_before: Option<f64>,
    pub low_before: Option<f64>,
    /// Open of the session's first regular bar.
    pub session_open: f64,
    /// VWAP including this bar (`None` while no weight was added).
    pub vwap: Option<VwapBands>,
}

/// High/low/close of the regular-session bars seen for one date, with their coverage.
#[derive(Clone, Copy, Debug)]
struct SessionAggregate {
    date: NaiveDate,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    bars: u32,
    first_minute: u32,
    last_minute: u32,
    session_minutes: u32,
}

impl SessionAggregate {
    /// Whether the bars cover the session well enough to stand for its daily bar: from
    /// the first five minutes to the last five, and at least half of its minutes.
    fn is_complete(&self) -> bool {
        self.bars > 0
            && self.first_minute < 5
            && self.last_minute + 5 >= self.session_minutes
            && self.bars * 2 >= self.session_minutes
    }

    fn daily_bar(&self) -> DailyBar {
        DailyBar {
            date: self.date,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        }
    }
}

/// Opening ranges kept for every symbol, by clock minutes from 09:30.
pub const OPENING_RANGE_MINUTES: [u32; 3] = [5, 15, 30];

/// The running market picture of one symbol.
#[derive(Clone, Debug)]
pub struct MarketState {
    clock: SessionClock,
    daily: DailyHistory,
    relative_volume: RelativeVolumeTracker,
    atr1m: MinuteAtr,
    average_range: RollingMean<20>,
    /// Start of the last accepted bar, seconds since the epoch (`i64::MIN` before any).
    last_start: i64,
    day: Option<TradingDay>,
    pre_market: HighLow,
    regular: Option<SessionAggregate>,
    finished: Option<SessionAggregate>,
    vwap: SessionVwap,
    ranges: [OpeningRange; 3],
    level_range: usize,
    prior_day: Option<PriorDay>,
    /// The date of the daily bar `roll_day` made from a session's minutes (not an
    /// official close), until a provider's daily bar for that date replaces it.
    derived_daily: Option<NaiveDate>,
    pivots: Option<Pivots>,
    daily_atr: Option<f64>,
    previous: Option<Bar>,
    levels: LevelSet,
}

impl MarketState {
    /// `level_range_minutes` (5, 15 or 30) picks the opening range that enters the level
    /// set as ORH/ORL; `volume_sessions`/`volume_min_sessions` configure relative volume.
    pub fn new(
        level_range_minutes: u32,
        volume_sessions: usize,
        volume_min_sessions: usize,
    ) -> Self {
        MarketState {
            clock: SessionClock::default(),
            daily: DailyHistory::default(),
            relative_volume: RelativeVolumeTracker::new(volume_sessions, volume_min_sessions),
            atr1m: MinuteAtr::default(),
            average_range: RollingMean::new(5),
            last_start: i64::MIN,
            day: None,
            pre_market: HighLow::default(),
            regular: None,
            finished: None,
            vwap: SessionVwap::default(),
            ranges: OPENING_RANGE_MINUTES.map(OpeningRange::new),
            level_range: OPENING_RANGE_MINUTES
                .iter()
                .position(|m| *m == level_range_minutes)
                .unwrap_or(1),
            prior_day: None,
            derived_daily: None,
            pivots: None,
            daily_atr: None,
            previous: None,
            levels: LevelSet::default(),
        }
    }

    /// Adds daily bars (any order; a date already held is replaced). Bars failing
    /// [`super::levels::check_daily_bar`] are skipped; returns how many. The current
    /// session's prior day and ATR are recomputed.
    pub fn add_daily_bars(&mut self, bars: &[DailyBar]) -> usize {
        if bars
            .iter()
            .any(|b| Some(b.date) == self.derived_daily && check_daily_bar(b).is_ok())
        {
            self.derived_daily = None;
        }
        let rejected = self.daily.merge(bars);
        if let Some(day) = self.day {
            self.set_up_day_levels(day);
        }
        rejected
    }

    pub fn daily_history(&self) -> &DailyHistory {
        &self.daily
    }

    /// Places a bar and does everything a non-regular bar needs (day roll, pre-market
    /// high/low). For `BarFate::Regular` the caller then calls [`MarketState::apply_regular`].
    pub fn begin_bar(&mut self, bar: &Bar) -> BarFate {
        if !bar_is_sane(bar) {
            return BarFate::Invalid;
        }
        let t = bar.start.timestamp();
        if t <= self.last_start {
            return BarFate::NotAfterPrevious;
        }
        let Some((day, place)) = self.clock.place(bar.start) else {
            return BarFate::Invalid;
        };
        self.last_start = t;
        if self.day.map(|d| d.date) != Some(day.date) {
            self.roll_day(day);
        }
        match place {
            BarPlace::Regular { minute } => BarFate::Regular { minute },
            BarPlace::PreMarket => {
                self.pre_market.update(bar.high, bar.low);
                self.levels
                    .set(LevelId::PreMarketHigh, Some(self.pre_market.high));
                self.levels
                    .set(LevelId::PreMarketLow, Some(self.pre_market.low));
                BarFate::PreMarket
            }
            BarPlace::Closed | BarPlace::AfterHours => BarFate::OutsideSession,
        }
    }

    /// Updates everything with a regular-session bar that [`MarketState::begin_bar`]
    /// placed at `minute`. `vwap_weight` is the bar's volume, or for an index its
    /// proxy's volume (see the engine). Returns the bar's figures.
    pub fn apply_regular(&mut self, bar: &Bar, minute: u32, vwap_weight: f64) -> BarStats {
        // begin_bar always sets the day before it reports a regular bar
        let day = self
            .day
            .unwrap_or_else(|| TradingDay::of(calendar::ny_date(bar.start)));
        let aggregate = self.regular.get_or_insert(SessionAggregate {
            date: day.date,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: 0.0,
            bars: 0,
            first_minute: minute,
            last_minute: minute,
            session_minutes: day.session_minutes(),
        });
        let index = aggregate.bars;
        let (high_before, low_before) = if index == 0 {
            (None, None)
        } else {
            (Some(aggregate.high), Some(aggregate.low))
        };
        let session_open = aggregate.open;
        aggregate.high = aggregate.high.max(bar.high);
        aggregate.low = aggregate.low.min(bar.low);
        aggregate.close = bar.close;
        aggregate.volume += bar.volume;
        aggregate.bars += 1;
        aggregate.last_minute = minute;

        let stats_before = (
            self.atr1m.value(),
            self.average_range.mean(),
            self.relative_volume.ratio(minute, bar.volume),
        );
        self.atr1m.push(bar);
        self.average_range.push(bar.range());
        self.relative_volume.record(minute, bar.volume);
        self.vwap.add(bar.typical(), vwap_weight);
        for range in &mut self.ranges {
            range.update(minute, bar);
        }
        if let Some(r) = self.ranges[self.level_range].range() {
            self.levels.set(LevelId::RangeHigh, Some(r.high));
            self.levels.set(LevelId::RangeLow, Some(r.low));
        }
        self.levels.set_round_numbers(bar.close);
        let previous = self.previous.replace(*bar);
        BarStats {
            day,
            minute,
            index,
            previous,
            atr1m: stats_before.0,
            average_range: stats_before.1,
            relative_volume: stats_before.2,
            high_before,
            low_before,
            session_open,
            vwap: self.vwap.bands(),
        }
    }

    fn roll_day(&mut self, day: TradingDay) {
        if let Some(done) = self.regular.take() {
            if done.is_complete() && self.daily.bar_on(done.date).is_none() {
                self.daily.push(done.daily_bar());
                self.derived_daily = Some(done.date);
            }
            self.finished = Some(done);
        }
        self.day = Some(day);
        self.pre_market = HighLow::default();
        self.vwap.reset();
        for range in &mut self.ranges {
            range.reset();
        }
        self.previous = None;
        let round_even = self.levels.get(LevelId::RoundEven);
        let round_odd = self.levels.get(LevelId::RoundOdd);
        let walls = (
            self.levels.get(LevelId::CallWall),
            self.levels.get(LevelId::PutWall),
        );
        self.levels = LevelSet::default();
        self.levels.set(LevelId::RoundEven, round_even);
        self.levels.set(LevelId::RoundOdd, round_odd);
        self.levels.set(LevelId::CallWall, walls.0);
        self.levels.set(LevelId::PutWall, walls.1);
        if day.session.is_some() {
            self.relative_volume.start_session();
            self.atr1m.start_session();
        }
        self.set_up_day_levels(day);
    }

    /// Prior day, pivots and daily ATR for `day`: the prior day's high and low from the
    /// previous session's minute bars when they cover it, else from its (checked) daily
    /// bar; its close is the official close, the daily bar's, whenever a valid one exists
    /// (the 16:00 auction often differs from the 15:59 bar by cents), else the last
    /// regular-session minute's.
    fn set_up_day_levels(&mut self, day: TradingDay) {
        let previous_date = calendar::previous_session(day.date).date;
        // The history holds only checked bars; one made from minutes is no official close.
        let official = self
            .daily
            .bar_on(previous_date)
            .filter(|_| self.derived_daily != Some(previous_date))
            .map(|b| b.close);
        self.prior_day = match self.finished {
            Some(agg) if agg.date == previous_date && agg.is_complete() => Some(PriorDay {
                date: agg.date,
                high: agg.high,
                low: agg.low,
                close: official.unwrap_or(agg.close),
                source: PriorDaySource::MinuteBars,
                close_source: if official.is_some() {
                    PriorDaySource::DailyBar
                } else {
                    PriorDaySource::MinuteBars
                },
            }),
            _ => self.daily.bar_on(previous_date).map(|b| PriorDay {
                date: b.date,
                high: b.high,
                low: b.low,
                close: b.close,
                source: PriorDaySource::DailyBar,
                close_source: PriorDaySource::DailyBar,
            }),
        };
        self.pivots = self
            .prior_day
            .map(|p| Pivots::floor(p.high, p.low, p.close));
        self.daily_atr = self.daily.atr_before(day.date);
        let pd = self.prior_day;
        let pv = self.pivots;
        self.levels.set(LevelId::PriorHigh, pd.map(|p| p.high));
        self.levels.set(LevelId::PriorLow, pd.map(|p| p.low));
        self.levels.set(LevelId::PriorClose, pd.map(|p| p.close));
        self.levels.set(LevelId::Pivot, pv.map(|p| p.p));
        self.levels.set(LevelId::R1, pv.map(|p| p.r1));
        self.levels.set(LevelId::R2, pv.map(|p| p.r2));
        self.levels.set(LevelId::S1, pv.map(|p| p.s1));
        self.levels.set(LevelId::S2, pv.map(|p| p.s2));
    }

    /// Moves to `date` before any of its bars arrived (a morning brief before the first
    /// pre-market bar), so the prior day, pivots and ATR are that date's. A date not after
    /// the current day changes nothing.
    pub fn begin_day(&mut self, date: NaiveDate) {
        if self.day.is_none_or(|d| d.date < date) {
            self.roll_day(TradingDay::of(date));
        }
    }

    /// Sets the GEX walls that join the watched levels (`None` clears them).
    pub fn set_gamma_walls(&mut self, call_wall: Option<f64>, put_wall: Option<f64>) {
        self.levels.set(LevelId::CallWall, call_wall);
        self.levels.set(LevelId::PutWall, put_wall);
    }

    /// The current New York day (the day of the last bar).
    pub fn day(&self) -> Option<TradingDay> {
        self.day
    }

    pub fn prior_day(&self) -> Option<PriorDay> {
        self.prior_day
    }

    pub fn pivots(&self) -> Option<Pivots> {
        self.pivots
    }

    /// ATR(14) of daily bars before the current session.
    pub fn daily_atr(&self) -> Option<f64> {
        self.daily_atr
    }

    /// Pre-market (high, low) of the current day.
    pub fn pre_market(&self) -> Option<(f64, f64)> {
        self.pre_market.get()
    }

    /// The opening range of 5, 15 or 30 minutes once complete.
    pub fn opening_range(&self, minutes: u32) -> Option<Range> {
        let i = OPENING_RANGE_MINUTES.iter().position(|m| *m == minutes)?;
        self.ranges[i].range()
    }

    pub fn vwap(&self) -> Option<VwapBands> {
        self.vwap.bands()
    }

    /// ATR1m including the last bar.
    pub fn atr1m(&self) -> Option<f64> {
        self.atr1m.value()
    }

    /// Session (high, low) of the regular bars so far.
    pub fn session_high_low(&self) -> Option<(f64, f64)> {
        self.regular.map(|a| (a.high, a.low))
    }

    pub fn levels(&self) -> &LevelSet {
        &self.levels
    }

    /// Average of the last 20 regular-session volumes.
    pub fn average_volume(&self) -> Option<f64> {
        self.relative_volume.average_volume()
    }

    pub fn last_bar(&self) -> Option<Bar> {
        self.previous
    }
}

fn bar_is_sane(bar: &Bar) -> bool {
    let prices = [bar.open, bar.high, bar.low, bar.close];
    prices.iter().all(|p| p.is_finite() && *p > 0.0)
        && bar.low <= bar.high
        && bar.open <= bar.high
        && bar.open >= bar.low
        && bar.close <= bar.high
        && bar.close >= bar.low
        && bar.volume.is_finite()
        && bar.volume >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveTime, TimeZone, Utc};

    fn et(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        calendar::ny_instant(date, NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    fn bar(start: DateTime<Utc>, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
        Bar {
            start,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn feed(state: &mut MarketState, b: &Bar) -> Option<BarStats> {
        match state.begin_bar(b) {
            BarFate::Regular { minute } => Some(state.apply_regular(b, minute, b.volume)),
            _ => None,
        }
    }

    /// A full session of flat bars at `price` with a given high and low somewhere.
    fn full_session(state: &mut MarketState, date: NaiveDate, price: f64, high: f64, low: f64) {
        for minute in 0..390u32 {
            let start = et(date, 9, 30) + chrono::Duration::minutes(i64::from(minute));
            let (h, l) = match minute {
                100 => (high, price),
                200 => (price, low),
                _ => (price + 0.01, price - 0.01),
            };
            feed(state, &bar(start, price, h, l, price, 1000.0));
        }
    }

    #[test]
    fn prior_day_comes_from_minute_bars_when_they_cover_the_session() {
        let mut s = MarketState::new(15, 10, 3);
        s.add_daily_bars(&[DailyBar {
            date: d(2024, 3, 4),
            open: 1.0,
            high: 9.0,
            low: 1.0,
            close: 5.0,
            volume: 0.0,
        }]);
        full_session(&mut s, d(2024, 3, 4), 100.0, 101.5, 98.5);
        feed(
            &mut s,
            &bar(et(d(2024, 3, 5), 9, 30), 100.0, 100.2, 99.9, 100.1, 1.0),
        );
        let pd = s.prior_day().unwrap();
        assert_eq!(pd.source, PriorDaySource::MinuteBars);
        assert_eq!((pd.high, pd.low, pd.close), (101.5, 98.5, 100.0));
        let p = s.pivots().unwrap();
        assert!((p.p - 100.0).abs() < 1e-12);
        assert!((p.r1 - 101.5).abs() < 1e-12);
    }

    #[test]
    fn prior_day_falls_back_to_the_daily_bar_of_the_previous_session() {
        let mut s = MarketState::new(15, 10, 3);
        // Friday 2024-03-01 daily bar; Monday's first bar
        s.add_daily_bars(&[
            DailyBar {
                date: d(2024, 2, 29),
                open: 50.0,
                high: 51.0,
                low: 49.0,
                close: 50.0,
                volume: 0.0,
            },
            DailyBar {
                date: d(2024, 3, 1),
                open: 100.0,
                high: 102.0,
                low: 99.0,
                close: 101.0,
                volume: 0.0,
            },
            // today's partial bar must not be taken as the prior day
            DailyBar {
                date: d(2024, 3, 4),
                open: 101.0,
                high: 101.0,
                low: 100.0,
                close: 100.5,
                volume: 0.0,
            },
        ]);
        feed(
            &mut s,
            &bar(et(d(2024, 3, 4), 9, 30), 101.0, 101.0, 100.0, 100.5, 1.0),
        );
        let pd = s.prior_day().unwrap();
        assert_eq!(pd.source, PriorDaySource::DailyBar);
        assert_eq!(pd.date, d(2024, 3, 1));
        assert_eq!(pd.close, 101.0);
    }

    #[test]
    fn a_bad_daily_bar_leaves_the_first_session_without_a_prior_day() {
        let mut s = MarketState::new(15, 10, 3);
        let rejected = s.add_daily_bars(&[DailyBar {
            date: d(2024, 3, 1),
            open: 100.0,
            high: 102.0,
            low: 40.0,
            close: 101.0,
            volume: 0.0,
        }]);
        assert_eq!(rejected, 1);
        feed(
            &mut s,
            &bar(et(d(2024, 3, 4), 9, 30), 101.0, 101.0, 100.0, 100.5, 1.0),
        );
        assert_eq!(s.prior_day(), None);
        assert_eq!(s.pivots(), None);
        assert_eq!(s.levels().get(LevelId::PriorClose), None);
    }

    #[test]
    fn partial_minute_coverage_does_not_make_a_prior_day() {
        let mut s = MarketState::new(15, 10, 3);
        // only the afternoon of 2024-03-04
        for minute in 200..390 {
            let start = et(d(2024, 3, 4), 9, 30) + chrono::Duration::minutes(minute);
            feed(&mut s, &bar(start, 100.0, 100.0, 100.0, 100.0, 1.0));
        }
        feed(
            &mut s,
            &bar(et(d(2024, 3, 5), 9, 30), 100.0, 100.0, 100.0, 100.0, 1.0),
        );
        assert_eq!(s.prior_day(), None);
    }

    #[test]
    fn pre_market_bars_set_the_pre_market_range_and_nothing_else() {
        let mut s = MarketState::new(15, 10, 3);
        let date = d(2024, 3, 4);
        assert_eq!(
            s.begin_bar(&bar(et(date, 4, 5), 100.0, 100.5, 99.5, 100.0, 10.0)),
            BarFate::PreMarket
        );
        assert_eq!(
            s.begin_bar(&bar(et(date, 9, 29), 100.0, 101.0, 99.8, 100.0, 10.0)),
            BarFate::PreMarket
        );
        assert_eq!(
            s.begin_bar(&bar(
                et(date, 3, 59) + chrono::Duration::days(1),
                1.0,
                1.0,
                1.0,
                1.0,
                1.0
            )),
            BarFate::OutsideSession
        );
        let mut s = MarketState::new(15, 10, 3);
        s.begin_bar(&bar(et(date, 4, 5), 100.0, 100.5, 99.5, 100.0, 10.0));
        s.begin_bar(&bar(et(date, 9, 29), 100.0, 101.0, 99.8, 100.0, 10.0));
        assert_eq!(s.pre_market(), Some((101.0, 99.5)));
        assert_eq!(s.vwap(), None);
        let stats = feed(
            &mut s,
            &bar(et(date, 9, 30), 100.0, 100.0, 100.0, 100.0, 5.0),
        )
        .unwrap();
        assert_eq!(stats.minute, 0);
        assert_eq!(stats.high_before, None);
        assert_eq!(s.levels().get(LevelId::PreMarketHigh), Some(101.0));
    }

    #[test]
    fn duplicates_out_of_order_and_broken_bars_are_refused() {
        let mut s = MarketState::new(15, 10, 3);
        let t = et(d(2024, 3, 4), 9, 31);
        assert!(matches!(
            s.begin_bar(&bar(t, 1.0, 1.0, 1.0, 1.0, 1.0)),
            BarFate::Regular { minute: 1 }
        ));
        assert_eq!(
            s.begin_bar(&bar(t, 1.0, 1.0, 1.0, 1.0, 1.0)),
            BarFate::NotAfterPrevious
        );
        assert_eq!(
            s.begin_bar(&bar(
                t - chrono::Duration::minutes(1),
                1.0,
                1.0,
                1.0,
                1.0,
                1.0
            )),
            BarFate::NotAfterPrevious
        );
        let later = t + chrono::Duration::minutes(1);
        assert_eq!(
            s.begin_bar(&bar(later, f64::NAN, 1.0, 1.0, 1.0, 1.0)),
            BarFate::Invalid
        );
        assert_eq!(
            s.begin_bar(&bar(later, 1.0, 1.0, 2.0, 1.0, 1.0)),
            BarFate::Invalid
        );
        assert_eq!(
            s.begin_bar(&bar(later, 1.0, 1.0, 1.0, 1.0, -1.0)),
            BarFate::Invalid
        );
        let far = Utc.with_ymd_and_hms(2999, 1, 1, 15, 0, 0).unwrap();
        assert_eq!(
            s.begin_bar(&bar(far, 1.0, 1.0, 1.0, 1.0, 1.0)),
            BarFate::Invalid
        );
    }

    #[test]
    fn session_figures_reset_at_the_open_and_baselines_exclude_the_current_bar() {
        let mut s = MarketState::new(15, 10, 3);
        let date = d(2024, 3, 4);
        for minute in 0..10 {
            let start = et(date, 9, 30) + chrono::Duration::minutes(minute);
            feed(&mut s, &bar(start, 100.0, 100.1, 99.9, 100.0, 100.0));
        }
        let start = et(date, 9, 40);
        let stats = feed(&mut s, &bar(start, 100.0, 101.0, 99.0, 100.9, 500.0)).unwrap();
        assert!(
            (stats.atr1m.unwrap() - 0.2).abs() < 1e-9,
            "ATR1m before the big bar"
        );
        assert!((stats.average_range.unwrap() - 0.2).abs() < 1e-9);
        assert!((stats.relative_volume.unwrap().ratio - 5.0).abs() < 1e-9);
        assert_eq!(stats.high_before, Some(100.1));
        assert_eq!(stats.index, 10);
        assert_eq!(
            s.opening_range(15),
            None,
            "15-minute range not complete at 09:40"
        );
        assert!(s.opening_range(5).is_some());
        // next day: VWAP starts over
        let next = et(d(2024, 3, 5), 9, 30);
        let stats = feed(&mut s, &bar(next, 50.0, 50.0, 50.0, 50.0, 10.0)).unwrap();
        assert_eq!(stats.vwap.unwrap().vwap, 50.0);
        assert_eq!(stats.previous, None);
    }
}
