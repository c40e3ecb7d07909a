//! A symbol's minute bars in a snapshot: held by the feed and shared, or made again when a
//! consumer reads them (issue 25 items 1 and 5).
//!
//! A live feed holds what it received ([`BarList::Held`], shared, never copied per
//! snapshot). A market known in advance (the simulation) need not hold any: each list is a
//! recipe ([`BarList::Made`]) that regenerates the bars, bit for bit, when read. So a
//! snapshot of 8,000 symbols costs a pointer per list, and a consumer that reads the bars
//! of one symbol at a time ([`BarList::load`], used and dropped) holds one symbol's bars
//! at a time, not the market's.

use std::fmt;
use std::sync::Arc;

use super::shared_vec::SharedVec;
use crate::domain::Bar;

/// Makes one symbol's bars again: pure and deterministic (the same bars every call).
pub trait MakeBars: Send + Sync {
    /// The bars, oldest first.
    fn make(&self) -> Vec<Bar>;
    /// How many bars [`MakeBars::make`] gives, without making them.
    fn count(&self) -> usize;
}

#[derive(Clone)]
pub enum BarList {
    Held(SharedVec<Bar>),
    Made(Arc<dyn MakeBars>),
}

impl BarList {
    /// The bars: the held ones (a pointer, not a copy), else made now. Read, use, drop: a
    /// consumer that keeps every symbol's loaded bars holds the market again.
    pub fn load(&self) -> SharedVec<Bar> {
        match self {
            BarList::Held(bars) => bars.clone(),
            BarList::Made(recipe) => recipe.make().into(),
        }
    }

    /// How many bars there are (made ones are counted, not made).
    pub fn len(&self) -> usize {
        match self {
            BarList::Held(bars) => bars.len(),
            BarList::Made(recipe) => recipe.count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the bars are held (reading them costs nothing).
    pub fn is_held(&self) -> bool {
        matches!(self, BarList::Held(_))
    }
}

impl Default for BarList {
    fn default() -> Self {
        BarList::Held(SharedVec::default())
    }
}

impl From<SharedVec<Bar>> for BarList {
    fn from(bars: SharedVec<Bar>) -> Self {
        BarList::Held(bars)
    }
}

impl From<Vec<Bar>> for BarList {
    fn from(bars: Vec<Bar>) -> Self {
        BarList::Held(bars.into())
    }
}

/// Equal when the bars are (made ones are made to compare).
impl PartialEq for BarList {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (BarList::Held(a), BarList::Held(b)) => a == b,
            _ => self.load()[..] == other.load()[..],
        }
    }
}

impl PartialEq<Vec<Bar>> for BarList {
    fn eq(&self, other: &Vec<Bar>) -> bool {
        self.load()[..] == other[..]
    }
}

impl fmt::Debug for BarList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarList::Held(bars) => bars.fmt(f),
            BarList::Made(_) => f.write_str("BarList::Made(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    struct Ramp(u32);

    impl MakeBars for Ramp {
        fn make(&self) -> Vec<Bar> {
            (0..self.0)
                .map(|m| {
                    let price = 100.0 + f64::from(m);
                    Bar {
                        start: Utc.with_ymd_and_hms(2026, 12, 4, 14, 30 + m, 0).unwrap(),
                        open: price,
                        high: price + 0.5,
                        low: price - 0.5,
                        close: price + 0.25,
                        volume: 1_000.0,
                    }
                })
                .collect()
        }
        fn count(&self) -> usize {
            self.0 as usize
        }
    }

    #[test]
    fn held_bars_are_shared_and_made_bars_equal_the_same_bars_held() {
        let held: BarList = Ramp(3).make().into();
        let first = held.load();
        assert!(
            first.shares_with(&held.load()),
            "loading held bars copies none"
        );
        let made = BarList::Made(Arc::new(Ramp(3)));
        assert!(!made.is_held());
        assert_eq!(made, held);
        assert_eq!((made.len(), made.load().len()), (3, 3));
        assert_eq!(made.load()[2].close, 102.25);
        assert_ne!(BarList::Made(Arc::new(Ramp(2))), held);
        assert!(BarList::default().load().is_empty());
    }
}
