//! Which expirations enter a GEX profile (SPEC 7): `all`, `0dte`, `next:N`, `max-dte:N`.
//!
//! Days to expiry are New York calendar days from the snapshot's New York date.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An expiration filter; `Display` and `FromStr` round-trip through the CLI spelling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ExpiryFilter {
    /// Every live expiration.
    #[default]
    All,
    /// Only contracts expiring on the snapshot's New York date.
    ZeroDte,
    /// The nearest N live expiration dates (N ≥ 1).
    Next(u32),
    /// Expirations at most N calendar days after the snapshot's New York date.
    MaxDte(u32),
}

/// Why a text is not an expiry filter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expiry filter {input:?}: {problem} (expected all, 0dte, next:N or max-dte:N)")]
pub struct FilterError {
    pub input: String,
    pub problem: String,
}

impl ExpiryFilter {
    /// The expirations this filter keeps from `live` (sorted ascending, unique), given the
    /// snapshot's New York date.
    pub fn select(&self, live: &[NaiveDate], today: NaiveDate) -> Vec<NaiveDate> {
        match *self {
            ExpiryFilter::Next(n) => live.iter().copied().take(n as usize).collect(),
            _ => live
                .iter()
                .copied()
                .filter(|&d| self.keeps(d, today) == Some(true))
                .collect(),
        }
    }

    /// Whether this filter keeps a live expiration on `date` by the date alone; `None` for
    /// `next:N`, which needs every live date to rank them.
    pub fn keeps(&self, date: NaiveDate, today: NaiveDate) -> Option<bool> {
        match *self {
            ExpiryFilter::All => Some(true),
            ExpiryFilter::ZeroDte => Some(date == today),
            ExpiryFilter::Next(_) => None,
            ExpiryFilter::MaxDte(n) => Some((date - today).num_days() <= i64::from(n)),
        }
    }
}

impl fmt::Display for ExpiryFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpiryFilter::All => f.write_str("all"),
            ExpiryFilter::ZeroDte => f.write_str("0dte"),
            ExpiryFilter::Next(n) => write!(f, "next:{n}"),
            ExpiryFilter::MaxDte(n) => write!(f, "max-dte:{n}"),
        }
    }
}

impl FromStr for ExpiryFilter {
    type Err = FilterError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |problem: &str| FilterError {
            input: crate::text::printable(input),
            problem: problem.to_string(),
        };
        let text = input.trim().to_ascii_lowercase();
        if text == "all" {
            return Ok(ExpiryFilter::All);
        }
        if text == "0dte" {
            return Ok(ExpiryFilter::ZeroDte);
        }
        let (name, count) = text
            .split_once(':')
            .ok_or_else(|| fail("is not a known filter"))?;
        let count = count.trim();
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("N must be a whole number of days or expirations"));
        }
        let n: u32 = count.parse().map_err(|_| fail("N is too large"))?;
        match name.trim() {
            "next" if n == 0 => Err(fail("next:N needs N of at least 1")),
            "next" => Ok(ExpiryFilter::Next(n)),
            "max-dte" => Ok(ExpiryFilter::MaxDte(n)),
            _ => Err(fail("is not a known filter")),
        }
    }
}

impl TryFrom<String> for ExpiryFilter {
    type Error = FilterError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ExpiryFilter> for String {
    fn from(f: ExpiryFilter) -> String {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_four_spellings_parse_and_round_trip() {
        for (text, filter) in [
            ("all", ExpiryFilter::All),
            ("0dte", ExpiryFilter::ZeroDte),
            ("next:3", ExpiryFilter::Next(3)),
            ("max-dte:7", ExpiryFilter::MaxDte(7)),
            ("max-dte:0", ExpiryFilter::MaxDte(0)),
        ] {
            assert_eq!(text.parse::<ExpiryFilter>().unwrap(), filter);
            assert_eq!(filter.to_string(), text);
        }
        assert_eq!(
            " NEXT:2 ".parse::<ExpiryFilter>().unwrap(),
            ExpiryFilter::Next(2)
        );
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        for (text, problem) in [
            ("", "is not a known filter"),
            ("weekly", "is not a known filter"),
            ("next:", "N must be a whole number"),
            ("next:-1", "N must be a whole number"),
            ("next:1.5", "N must be a whole number"),
            ("next:0", "at least 1"),
            ("max-dte:99999999999", "too large"),
            ("prev:2", "is not a known filter"),
        ] {
            let e = text.parse::<ExpiryFilter>().unwrap_err();
            assert!(e.problem.contains(problem), "{text}: {e}");
            assert!(
                e.to_string()
                    .contains("expected all, 0dte, next:N or max-dte:N")
            );
        }
    }

    #[test]
    fn selection_by_date_count_and_days() {
        let today = date(2025, 9, 26);
        let live = [
            date(2025, 9, 26),
            date(2025, 9, 29),
            date(2025, 10, 1),
            date(2025, 10, 17),
        ];
        assert_eq!(ExpiryFilter::All.select(&live, today), live.to_vec());
        assert_eq!(ExpiryFilter::ZeroDte.select(&live, today), vec![live[0]]);
        assert_eq!(
            ExpiryFilter::Next(2).select(&live, today),
            live[..2].to_vec()
        );
        assert_eq!(ExpiryFilter::Next(9).select(&live, today), live.to_vec());
        assert_eq!(
            ExpiryFilter::MaxDte(5).select(&live, today),
            live[..3].to_vec()
        );
        assert_eq!(ExpiryFilter::MaxDte(0).select(&live, today), vec![live[0]]);
        // After the close the 0DTE expiry is gone from the live list: nothing is selected.
        assert!(ExpiryFilter::ZeroDte.select(&live[1..], today).is_empty());
        // Every filter but next:N decides a date on its own.
        assert_eq!(ExpiryFilter::MaxDte(5).keeps(live[3], today), Some(false));
        assert_eq!(ExpiryFilter::ZeroDte.keeps(live[0], today), Some(true));
        assert_eq!(ExpiryFilter::Next(1).keeps(live[0], today), None);
    }
}
