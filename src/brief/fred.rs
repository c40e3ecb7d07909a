//! Release dates from FRED (St. Louis Fed) for the economic calendar: which FRED releases
//! map to which calendar series, parsing `fred/release/dates` answers, and writing a
//! calendar file. Pure: the shell does the HTTP.
//!
//! FRED lists the dates agencies publish, not the time of day: the times here are the
//! agencies' standard release times (08:30 ET for all of these). FOMC decisions and ISM
//! are not FRED releases; they are kept from the calendar being updated.

use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use super::econ::{EconCalendar, EconEvent, Importance};

/// A FRED release the calendar follows.
#[derive(Clone, Copy, Debug)]
pub struct FredRelease {
    pub release_id: u32,
    /// The calendar's name for the series (events are named `name` or `name (…)`).
    pub name: &'static str,
    pub importance: Importance,
    pub source: &'static str,
    /// New York release time.
    pub hour: u32,
    pub minute: u32,
}

/// FRED release ids (fred/releases): CPI 10, PPI 46, Employment Situation 50, GDP 53,
/// Advance retail sales 9, Personal income and outlays 54.
pub const RELEASES: [FredRelease; 6] = [
    FredRelease {
        release_id: 50,
        name: "Employment Situation",
        importance: Importance::High,
        source: "BLS",
        hour: 8,
        minute: 30,
    },
    FredRelease {
        release_id: 10,
        name: "CPI",
        importance: Importance::High,
        source: "BLS",
        hour: 8,
        minute: 30,
    },
    FredRelease {
        release_id: 46,
        name: "PPI",
        importance: Importance::Medium,
        source: "BLS",
        hour: 8,
        minute: 30,
    },
    FredRelease {
        release_id: 53,
        name: "GDP",
        importance: Importance::High,
        source: "BEA",
        hour: 8,
        minute: 30,
    },
    FredRelease {
        release_id: 9,
        name: "Retail sales",
        importance: Importance::High,
        source: "Census",
        hour: 8,
        minute: 30,
    },
    FredRelease {
        release_id: 54,
        name: "Personal income & PCE",
        importance: Importance::Medium,
        source: "BEA",
        hour: 8,
        minute: 30,
    },
];

#[derive(Deserialize)]
struct DatesRepr {
    release_dates: Vec<DateRepr>,
}

#[derive(Deserialize)]
struct DateRepr {
    date: String,
}

/// The dates of a `fred/release/dates?file_type=json` answer; `what` names it in errors.
pub fn parse_release_dates(what: &str, json: &str) -> Result<Vec<NaiveDate>, String> {
    let repr: DatesRepr = serde_json::from_str(json)
        .map_err(|e| format!("{what}: not a FRED release-dates answer: {e}"))?;
    repr.release_dates
        .iter()
        .map(|d| {
            NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
                .map_err(|_| format!("{what}: date {:?} is not YYYY-MM-DD", d.date))
        })
        .collect()
}

fn belongs_to(event: &EconEvent, release: &FredRelease) -> bool {
    event.name == release.name || event.name.starts_with(&format!("{} (", release.name))
}

/// The calendar updated with FRED's dates for `from ..= to`: events of the FRED series in
/// that range are replaced by FRED's (weekend dates dropped), every other event is kept,
/// and the covered range grows to include `from ..= to`.
pub fn merge(
    base: &EconCalendar,
    fetched: &[(FredRelease, Vec<NaiveDate>)],
    from: NaiveDate,
    to: NaiveDate,
) -> EconCalendar {
    let mut events: Vec<EconEvent> = base
        .events
        .iter()
        .filter(|e| {
            !(e.date >= from && e.date <= to && fetched.iter().any(|(r, _)| belongs_to(e, r)))
        })
        .cloned()
        .collect();
    for (release, dates) in fetched {
        for date in dates.iter().filter(|d| **d >= from && **d <= to) {
            use chrono::Datelike;
            if date.weekday().num_days_from_monday() >= 5 {
                continue;
            }
            events.push(EconEvent {
                date: *date,
                time: NaiveTime::from_hms_opt(release.hour, release.minute, 0).unwrap_or_default(),
                name: release.name.to_string(),
                importance: release.importance,
                source: format!("{} via FRED", release.source),
            });
        }
    }
    events.sort_by_key(|e| (e.date, e.time));
    events.dedup_by(|a, b| a.date == b.date && a.name == b.name);
    EconCalendar {
        origin: base.origin.clone(),
        valid_from: base.valid_from.min(from),
        valid_through: base.valid_through.max(to),
        events,
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// The calendar as a file `EconCalendar::parse` reads back; `header` lines become comments.
pub fn to_toml(calendar: &EconCalendar, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!(
        "\nvalid_from = \"{}\"\nvalid_through = \"{}\"\n",
        calendar.valid_from, calendar.valid_through
    ));
    for e in &calendar.events {
        out.push_str(&format!(
            "\n[[event]]\ndate = \"{}\"\ntime = \"{}\"\nname = {}\nimportance = \"{}\"\nsource = {}\n",
            e.date,
            e.time.format("%H:%M"),
            quoted(&e.name),
            e.importance.as_str(),
            quoted(&e.source)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn fred_dates_replace_the_series_in_range_and_the_rest_is_kept() {
        let base = EconCalendar::shipped();
        let cpi = RELEASES[1];
        let json = r#"{"realtime_start":"2026-12-01","release_dates":[
            {"release_id":10,"date":"2026-12-10"},{"release_id":10,"date":"2027-01-13"},
            {"release_id":10,"date":"2027-01-16"}]}"#;
        let dates = parse_release_dates("CPI", json).unwrap();
        let merged = merge(&base, &[(cpi, dates)], d("2026-12-01"), d("2027-01-31"));
        assert_eq!(merged.valid_through, d("2027-01-31"));
        let cpis: Vec<NaiveDate> = merged
            .events
            .iter()
            .filter(|e| e.name.starts_with("CPI"))
            .map(|e| e.date)
            .filter(|d| *d >= self::d("2026-11-01"))
            .collect();
        // November's CPI is outside the range and kept; 2027-01-16 is a Saturday
        assert_eq!(
            cpis,
            vec![d("2026-11-10"), d("2026-12-10"), d("2027-01-13")]
        );
        assert!(
            merged
                .events
                .iter()
                .any(|e| e.name.starts_with("FOMC") && e.date == d("2026-12-09"))
        );
        let text = to_toml(&merged, &["test".into()]);
        let back = EconCalendar::parse("merged", &text).unwrap();
        assert_eq!(back.events, merged.events);
    }

    #[test]
    fn a_wrong_answer_is_refused_with_its_name() {
        let e = parse_release_dates("CPI", "{\"error_code\":400}").unwrap_err();
        assert!(e.starts_with("CPI: not a FRED release-dates answer"), "{e}");
        let e =
            parse_release_dates("CPI", r#"{"release_dates":[{"date":"13/01/2027"}]}"#).unwrap_err();
        assert!(e.contains("\"13/01/2027\" is not YYYY-MM-DD"), "{e}");
    }
}
