//! A live feed's minute bars held in 24 bytes each instead of 56 (issue 25 item 1: at
//! 8,000 symbols the bars a live session holds were most of `coach serve`'s memory).
//!
//! A [`PackedBar`] keeps the start as whole minutes since the Unix epoch, the four prices
//! as whole ten-thousandths of a dollar (index points for an index) and the volume as
//! whole shares. A bar is packed only when unpacking gives back exactly the same `f64`s
//! (a price with at most four decimals below $214,748, as every feed quotes them: the
//! division by 10,000 is correctly rounded, so `68317 / 100` is the very `f64` that
//! parsing "683.17" gives); a session with any other bar keeps its bars as they came
//! ([`DayBars::Plain`]). So packing never changes a price a detector sees.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::bar_list::{BarList, MakeBars};
use super::shared_vec::SharedVec;
use crate::domain::Bar;

/// Ten-thousandths of a dollar per dollar.
const PRICE_SCALE: f64 = 10_000.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PackedBar {
    /// Minutes since 1970-01-01 00:00 UTC.
    minute: u32,
    /// Open, high, low, close in ten-thousandths of a dollar.
    prices: [i32; 4],
    /// Shares.
    volume: u32,
}

impl PackedBar {
    /// The bar packed, when unpacking gives it back exactly.
    pub fn pack(bar: &Bar) -> Option<PackedBar> {
        let seconds = bar.start.timestamp();
        let minute = u32::try_from(seconds.checked_div(60)?).ok()?;
        let price = |p: f64| -> Option<i32> {
            let scaled = (p * PRICE_SCALE).round();
            (scaled.abs() <= f64::from(i32::MAX)).then_some(scaled as i32)
        };
        let volume = (bar.volume >= 0.0 && bar.volume <= f64::from(u32::MAX))
            .then_some(bar.volume as u32)?;
        let packed = PackedBar {
            minute,
            prices: [
                price(bar.open)?,
                price(bar.high)?,
                price(bar.low)?,
                price(bar.close)?,
            ],
            volume,
        };
        (packed.unpack() == *bar).then_some(packed)
    }

    pub fn unpack(&self) -> Bar {
        let price = |p: i32| f64::from(p) / PRICE_SCALE;
        Bar {
            start: DateTime::<Utc>::from_timestamp(i64::from(self.minute) * 60, 0)
                .unwrap_or_default(),
            open: price(self.prices[0]),
            high: price(self.prices[1]),
            low: price(self.prices[2]),
            close: price(self.prices[3]),
            volume: f64::from(self.volume),
        }
    }
}

/// One symbol's minute bars of a session: packed while every bar packs, else as they came.
/// Shared with snapshots as [`SharedVec`]s are (copy on write).
#[derive(Clone, Debug, PartialEq)]
pub enum DayBars {
    Packed(SharedVec<PackedBar>),
    Plain(SharedVec<Bar>),
}

impl Default for DayBars {
    fn default() -> Self {
        DayBars::Packed(SharedVec::default())
    }
}

impl DayBars {
    pub fn len(&self) -> usize {
        match self {
            DayBars::Packed(bars) => bars.len(),
            DayBars::Plain(bars) => bars.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn last(&self) -> Option<Bar> {
        match self {
            DayBars::Packed(bars) => bars.last().map(PackedBar::unpack),
            DayBars::Plain(bars) => bars.last().copied(),
        }
    }

    /// The bars as they came.
    pub fn to_vec(&self) -> Vec<Bar> {
        match self {
            DayBars::Packed(bars) => bars.iter().map(PackedBar::unpack).collect(),
            DayBars::Plain(bars) => bars.to_vec(),
        }
    }

    /// Whether a bar starts at `start` (the bars ascending by start).
    pub fn has_start(&self, start: DateTime<Utc>) -> bool {
        match self {
            DayBars::Packed(bars) => bars.binary_search_by_key(&start, |b| b.unpack().start),
            DayBars::Plain(bars) => bars.binary_search_by_key(&start, |b| b.start),
        }
        .is_ok()
    }

    /// Appends `bar`; the first bar that does not pack turns the list plain.
    pub fn push(&mut self, bar: Bar) {
        match (&mut *self, PackedBar::pack(&bar)) {
            (DayBars::Packed(bars), Some(packed)) => bars.push(packed),
            _ => self.plain_mut().push(bar),
        }
    }

    /// Replaces the newest bar with `bar`'s start by `bar` (a corrected bar); whether
    /// there was one.
    pub fn replace(&mut self, bar: Bar) -> bool {
        let at = match self {
            DayBars::Packed(bars) => bars.iter().rposition(|b| b.unpack().start == bar.start),
            DayBars::Plain(bars) => bars.iter().rposition(|b| b.start == bar.start),
        };
        let Some(at) = at else {
            return false;
        };
        match (&mut *self, PackedBar::pack(&bar)) {
            (DayBars::Packed(bars), Some(packed)) => bars.make_mut()[at] = packed,
            _ => self.plain_mut().make_mut()[at] = bar,
        }
        true
    }

    /// The bars as they came, unpacked first if they were packed.
    fn plain_mut(&mut self) -> &mut SharedVec<Bar> {
        if let DayBars::Packed(bars) = self {
            *self = DayBars::Plain(bars.iter().map(PackedBar::unpack).collect());
        }
        match self {
            DayBars::Plain(bars) => bars,
            DayBars::Packed(_) => unreachable!("made plain just above"),
        }
    }

    /// The bars as a snapshot hands them out: unpacked when read.
    pub fn to_list(&self) -> BarList {
        match self {
            DayBars::Packed(bars) => BarList::Made(Arc::new(Unpack(bars.clone()))),
            DayBars::Plain(bars) => BarList::Held(bars.clone()),
        }
    }
}

impl From<Vec<Bar>> for DayBars {
    fn from(bars: Vec<Bar>) -> Self {
        let packed: Option<Vec<PackedBar>> = bars.iter().map(PackedBar::pack).collect();
        match packed {
            Some(packed) => DayBars::Packed(packed.into()),
            None => DayBars::Plain(bars.into()),
        }
    }
}

/// Packed bars a snapshot shares with the session, unpacked when a consumer reads them.
struct Unpack(SharedVec<PackedBar>);

impl MakeBars for Unpack {
    fn make(&self) -> Vec<Bar> {
        self.0.iter().map(PackedBar::unpack).collect()
    }
    fn count(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn bar(minute: u32, close: f64, volume: f64) -> Bar {
        Bar {
            start: Utc
                .with_ymd_and_hms(2026, 12, 4, 14, 30 + minute, 0)
                .unwrap(),
            open: 683.17,
            high: 683.5,
            low: 682.9901,
            close,
            volume,
        }
    }

    #[test]
    fn a_bar_quoted_to_the_cent_or_the_basis_point_packs_in_24_bytes_and_unpacks_exactly() {
        assert_eq!(std::mem::size_of::<PackedBar>(), 24);
        for close in [683.17, 0.0001, 25_312.45, 6_850.0, 199_999.999_9, 12.345_6] {
            let b = bar(0, close, 1_234_567.0);
            let packed = PackedBar::pack(&b).unwrap_or_else(|| panic!("{close} packs"));
            assert_eq!(packed.unpack(), b, "{close}");
        }
        // parsed from text as a feed's JSON gives them
        let parsed: f64 = "683.17".parse().unwrap();
        assert_eq!(
            PackedBar::pack(&bar(0, parsed, 1.0))
                .unwrap()
                .unpack()
                .close,
            parsed
        );
    }

    #[test]
    fn a_bar_that_would_not_come_back_exactly_is_not_packed() {
        for (close, volume) in [
            (683.171_05, 1.0), // five decimals
            (250_000.0, 1.0),  // beyond $214,748
            (683.17, 0.5),     // fractional volume
            (683.17, 5e9),     // beyond four billion shares
            (f64::NAN, 1.0),
            (683.17, -1.0),
        ] {
            assert_eq!(
                PackedBar::pack(&bar(0, close, volume)),
                None,
                "{close} {volume}"
            );
        }
        let mut odd = bar(0, 683.17, 1.0);
        odd.start += chrono::Duration::seconds(30);
        assert_eq!(PackedBar::pack(&odd), None, "a start off the minute");
    }

    #[test]
    fn a_session_stays_packed_until_a_bar_does_not_pack_and_then_keeps_every_bar_as_it_was() {
        let mut day: DayBars = vec![bar(0, 683.2, 100.0), bar(1, 683.25, 200.0)].into();
        assert!(matches!(day, DayBars::Packed(_)));
        let snapshot = day.to_list();
        day.push(bar(2, 683.3, 300.0));
        assert!(matches!(day, DayBars::Packed(_)));
        day.push(bar(3, 683.300_01, 400.0));
        assert!(
            matches!(day, DayBars::Plain(_)),
            "five decimals turn it plain"
        );
        day.push(bar(4, 683.4, 500.0));
        let closes: Vec<f64> = day.to_list().load().iter().map(|b| b.close).collect();
        assert_eq!(closes, [683.2, 683.25, 683.3, 683.300_01, 683.4]);
        assert_eq!(day.len(), 5);
        assert_eq!(day.last().map(|b| b.volume), Some(500.0));
        assert_eq!(
            snapshot.load().len(),
            2,
            "a snapshot keeps the bars it was given"
        );
        assert!(DayBars::default().is_empty());
    }

    #[test]
    fn a_corrected_bar_replaces_the_one_with_its_start_packed_or_not() {
        let mut day: DayBars = vec![bar(0, 683.2, 100.0), bar(1, 683.25, 200.0)].into();
        assert!(day.replace(bar(1, 683.26, 250.0)));
        assert!(matches!(day, DayBars::Packed(_)));
        assert!(!day.replace(bar(7, 683.0, 1.0)), "no bar starts then");
        assert!(day.replace(bar(0, 683.200_01, 100.0)));
        assert!(matches!(day, DayBars::Plain(_)));
        let closes: Vec<f64> = day.to_list().load().iter().map(|b| b.close).collect();
        assert_eq!(closes, [683.200_01, 683.26]);
    }
}
