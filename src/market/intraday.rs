//! What an intraday chart of one symbol shows, computed from its regular-session minute
//! bars (pure): bars aggregated to 1/5/15 minutes, session VWAP with ±1σ/±2σ bands, the
//! opening range and the prior day's high, low and close. Prices in the instrument's
//! units; minute bars start on the minute (UTC instants, sessions from the calendar).

use chrono::{DateTime, Timelike, Utc};

use super::bars::{OpeningRange, Range, SessionVwap, VwapBands};
use crate::domain::Bar;

/// Minutes in the opening range the chart draws.
pub const CHART_OPENING_RANGE_MINUTES: u32 = 15;

/// A chart timeframe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Timeframe {
    #[default]
    M1,
    M5,
    M15,
}

impl Timeframe {
    pub const ALL: [Timeframe; 3] = [Timeframe::M1, Timeframe::M5, Timeframe::M15];

    pub fn minutes(self) -> i64 {
        match self {
            Timeframe::M1 => 1,
            Timeframe::M5 => 5,
            Timeframe::M15 => 15,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
        }
    }

    /// The next (`by` = 1) or previous (`by` = −1) timeframe, stopping at the ends.
    pub fn step(self, by: isize) -> Timeframe {
        let i = Timeframe::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Timeframe::ALL[(i + by).clamp(0, Timeframe::ALL.len() as isize - 1) as usize]
    }
}

/// The instant `t` falls in, rounded down to `minutes` counted from `open` (so 5-minute
/// bars are 09:30, 09:35, … whatever the open's minute).
fn bucket(t: DateTime<Utc>, open: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    let since = (t - open).num_minutes().max(0);
    open + chrono::Duration::minutes(since - since % minutes)
}

/// Minute bars (time order) grouped into `timeframe` bars counted from `open`: first
/// open, highest high, lowest low, last close, summed volume. Bars with a non-finite
/// price are skipped.
pub fn aggregate(bars: &[Bar], open: DateTime<Utc>, timeframe: Timeframe) -> Vec<Bar> {
    let minutes = timeframe.minutes();
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len() / minutes as usize + 1);
    for bar in bars.iter().filter(|b| is_finite(b)) {
        let start = if minutes == 1 {
            bar.start.with_second(0).unwrap_or(bar.start)
        } else {
            bucket(bar.start, open, minutes)
        };
        match out.last_mut() {
            Some(last) if last.start == start => {
                last.high = last.high.max(bar.high);
                last.low = last.low.min(bar.low);
                last.close = bar.close;
                last.volume += bar.volume;
            }
            _ => out.push(Bar { start, ..*bar }),
        }
    }
    out
}

fn is_finite(b: &Bar) -> bool {
    [b.open, b.high, b.low, b.close]
        .iter()
        .all(|p| p.is_finite())
}

/// Session VWAP and bands after `bars` (volume-weighted typical price; an index, which
/// has no volume, weighs each bar equally).
pub fn session_vwap(bars: &[Bar]) -> Option<VwapBands> {
    let mut vwap = SessionVwap::default();
    let no_volume = bars.iter().all(|b| b.volume <= 0.0);
    for bar in bars.iter().filter(|b| is_finite(b)) {
        vwap.add(bar.typical(), if no_volume { 1.0 } else { bar.volume });
    }
    vwap.bands()
}

/// The opening range of the first `minutes` minutes after `open`, once that time passed.
pub fn opening_range(bars: &[Bar], open: DateTime<Utc>, minutes: u32) -> Option<Range> {
    let mut range = OpeningRange::new(minutes);
    for bar in bars.iter().filter(|b| is_finite(b)) {
        let minute = (bar.start - open).num_minutes();
        if let Ok(minute) = u32::try_from(minute) {
            range.update(minute, bar);
        }
    }
    range.range()
}

/// The prior day's high, low and close from its regular-session minute bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriorHlc {
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

pub fn prior_hlc(bars: &[Bar]) -> Option<PriorHlc> {
    let mut finite = bars.iter().filter(|b| is_finite(b));
    let first = finite.next()?;
    let mut hlc = PriorHlc {
        high: first.high,
        low: first.low,
        close: first.close,
    };
    for b in finite {
        hlc.high = hlc.high.max(b.high);
        hlc.low = hlc.low.min(b.low);
        hlc.close = b.close;
    }
    Some(hlc)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn bar(minute: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Bar {
        Bar {
            start: open_at() + chrono::Duration::minutes(minute),
            open,
            high,
            low,
            close,
            volume,
        }
    }

    fn open_at() -> DateTime<Utc> {
        // 2026-11-24 09:30 ET.
        Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
    }

    #[test]
    fn five_minute_bars_start_at_the_open_and_keep_the_extremes() {
        let bars: Vec<Bar> = (0..7)
            .map(|m| {
                bar(
                    m,
                    100.0 + m as f64,
                    101.0 + m as f64,
                    99.0 + m as f64,
                    100.5 + m as f64,
                    10.0,
                )
            })
            .collect();
        let five = aggregate(&bars, open_at(), Timeframe::M5);
        assert_eq!(five.len(), 2);
        assert_eq!(five[0].start, open_at());
        assert_eq!(
            (five[0].open, five[0].high, five[0].low, five[0].close),
            (100.0, 105.0, 99.0, 104.5)
        );
        assert_eq!(five[0].volume, 50.0);
        assert_eq!(five[1].start, open_at() + chrono::Duration::minutes(5));
        assert_eq!(five[1].close, 106.5);
    }

    #[test]
    fn the_opening_range_waits_for_its_time_and_the_prior_day_is_its_extremes() {
        let bars: Vec<Bar> = (0..10)
            .map(|m| bar(m, 100.0, 100.0 + m as f64, 99.0, 100.0, 1.0))
            .collect();
        assert_eq!(
            opening_range(&bars, open_at(), 15),
            None,
            "09:40: not yet complete"
        );
        let bars: Vec<Bar> = (0..20)
            .map(|m| bar(m, 100.0, 100.0 + m as f64, 99.0, 100.0, 1.0))
            .collect();
        let range = opening_range(&bars, open_at(), 15).unwrap();
        assert_eq!((range.high, range.low), (114.0, 99.0));
        let hlc = prior_hlc(&bars).unwrap();
        assert_eq!((hlc.high, hlc.low, hlc.close), (119.0, 99.0, 100.0));
        assert_eq!(prior_hlc(&[]), None);
    }

    #[test]
    fn an_index_without_volume_still_has_a_vwap_and_a_flat_day_has_zero_sigma() {
        let flat: Vec<Bar> = (0..30)
            .map(|m| bar(m, 50.0, 50.0, 50.0, 50.0, 0.0))
            .collect();
        let bands = session_vwap(&flat).unwrap();
        assert_eq!((bands.vwap, bands.sigma), (50.0, 0.0));
        assert_eq!(Timeframe::M1.step(-1), Timeframe::M1);
        assert_eq!(Timeframe::M5.step(1), Timeframe::M15);
    }
}
