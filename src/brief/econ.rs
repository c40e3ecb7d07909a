//! The economic calendar (SPEC 8.3): scheduled US releases from a TOML file, with the
//! range of dates the file covers. Pure: the caller reads the file.
//!
//! Times are New York wall-clock times (`HH:MM`); dates are New York calendar dates.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// The calendar shipped with coach (`assets/econ_calendar.toml`).
pub const SHIPPED: &str = include_str!("../../assets/econ_calendar.toml");
/// How the shipped calendar is named in messages and in the brief's sources.
pub const SHIPPED_NAME: &str = "assets/econ_calendar.toml (shipped)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    Low,
    Medium,
    High,
}

impl Importance {
    pub fn as_str(self) -> &'static str {
        match self {
            Importance::Low => "low",
            Importance::Medium => "medium",
            Importance::High => "high",
        }
    }
}

/// One scheduled release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EconEvent {
    pub date: NaiveDate,
    /// New York time.
    pub time: NaiveTime,
    pub name: String,
    pub importance: Importance,
    /// The agency that publishes it (`BLS`, `BEA`, `Federal Reserve`…).
    pub source: String,
}

/// A parsed calendar: events in date and time order, and the dates it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct EconCalendar {
    /// Where it came from (a path, or [`SHIPPED_NAME`]).
    pub origin: String,
    pub valid_from: NaiveDate,
    pub valid_through: NaiveDate,
    pub events: Vec<EconEvent>,
}

/// Why a calendar file was refused; the message names the file and the entry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EconError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: event {index} ({name:?}): {message}")]
    Event {
        file: String,
        index: usize,
        name: String,
        message: String,
    },
    #[error("{file}: valid_through {through} is before valid_from {from}")]
    Range {
        file: String,
        from: NaiveDate,
        through: NaiveDate,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    valid_from: String,
    valid_through: String,
    #[serde(default)]
    event: Vec<EventRepr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRepr {
    date: String,
    time: String,
    name: String,
    importance: String,
    #[serde(default)]
    source: String,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("date {text:?} is not YYYY-MM-DD"))
}

impl EconCalendar {
    /// The calendar shipped with coach; it is checked by a test, so this cannot fail.
    pub fn shipped() -> EconCalendar {
        match EconCalendar::parse(SHIPPED_NAME, SHIPPED) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the shipped economic calendar is unreadable: {e}");
                EconCalendar {
                    origin: SHIPPED_NAME.into(),
                    valid_from: NaiveDate::MIN,
                    valid_through: NaiveDate::MIN,
                    events: Vec::new(),
                }
            }
        }
    }

    /// Parses a calendar file. `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<EconCalendar, EconError> {
        let syntax = |message: String| EconError::Syntax {
            file: file.to_string(),
            message,
        };
        let repr: FileRepr = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        let valid_from =
            parse_date(&repr.valid_from).map_err(|m| syntax(format!("valid_from: {m}")))?;
        let valid_through =
            parse_date(&repr.valid_through).map_err(|m| syntax(format!("valid_through: {m}")))?;
        if valid_through < valid_from {
            return Err(EconError::Range {
                file: file.into(),
                from: valid_from,
                through: valid_through,
            });
        }
        let mut events = Vec::with_capacity(repr.event.len());
        for (i, e) in repr.event.into_iter().enumerate() {
            let bad = |message: String| EconError::Event {
                file: file.into(),
                index: i + 1,
                name: e.name.clone(),
                message,
            };
            let date = parse_date(&e.date).map_err(bad)?;
            let time = NaiveTime::parse_from_str(&e.time, "%H:%M")
                .map_err(|_| bad(format!("time {:?} is not HH:MM (New York)", e.time)))?;
            let importance = match e.importance.as_str() {
                "high" => Importance::High,
                "medium" => Importance::Medium,
                "low" => Importance::Low,
                other => {
                    return Err(bad(format!(
                        "importance {other:?} is not high, medium or low"
                    )));
                }
            };
            if e.name.trim().is_empty() {
                return Err(bad("the name is empty".into()));
            }
            if date < valid_from || date > valid_through {
                return Err(bad(format!(
                    "date {date} is outside valid_from {valid_from} … valid_through {valid_through}"
                )));
            }
            events.push(EconEvent {
                date,
                time,
                name: e.name.trim().to_string(),
                importance,
                source: e.source.trim().to_string(),
            });
        }
        events.sort_by_key(|e| (e.date, e.time));
        Ok(EconCalendar {
            origin: file.to_string(),
            valid_from,
            valid_through,
            events,
        })
    }

    /// Whether the file lists events for `date` at all (inside valid_from … valid_through).
    pub fn covers(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && date <= self.valid_through
    }

    /// Events on `date`, by time.
    pub fn on(&self, date: NaiveDate) -> impl Iterator<Item = &EconEvent> {
        self.events.iter().filter(move |e| e.date == date)
    }

    /// Events after `date` through the Friday of its week (Monday–Sunday weeks).
    pub fn rest_of_week(&self, date: NaiveDate) -> impl Iterator<Item = &EconEvent> {
        let days_to_friday = 4 - i64::from(date.weekday().num_days_from_monday()).min(4);
        let friday = date + Duration::days(days_to_friday);
        self.events
            .iter()
            .filter(move |e| e.date > date && e.date <= friday)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn the_shipped_calendar_parses_and_holds_the_2026_fomc_decisions() {
        let c = EconCalendar::parse(SHIPPED_NAME, SHIPPED).expect("shipped calendar");
        assert_eq!(c.valid_through, d("2026-12-31"));
        let fomc: Vec<NaiveDate> = c
            .events
            .iter()
            .filter(|e| e.name.starts_with("FOMC"))
            .map(|e| e.date)
            .collect();
        let expected = [
            "2026-01-28",
            "2026-03-18",
            "2026-04-29",
            "2026-06-17",
            "2026-07-29",
            "2026-09-16",
            "2026-10-28",
            "2026-12-09",
        ];
        assert_eq!(fomc, expected.map(d).to_vec());
        assert!(
            c.on(d("2026-12-09"))
                .all(|e| e.time == NaiveTime::from_hms_opt(14, 0, 0).unwrap())
        );
        // every event falls on a weekday
        assert!(
            c.events
                .iter()
                .all(|e| e.date.weekday().num_days_from_monday() < 5)
        );
    }

    #[test]
    fn the_week_runs_to_friday_and_excludes_the_day_itself() {
        let c = EconCalendar::shipped();
        // Mon 2026-12-07: FOMC Wed 9th, CPI Thu 10th, PPI Fri 11th; not retail sales Tue 15th
        let names: Vec<&str> = c
            .rest_of_week(d("2026-12-07"))
            .map(|e| e.name.as_str())
            .collect();
        assert!(names.contains(&"CPI (Nov)"), "{names:?}");
        assert!(names.contains(&"PPI (Nov)"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("Retail")), "{names:?}");
        assert_eq!(
            c.rest_of_week(d("2026-12-11")).count(),
            0,
            "Friday has no rest of week"
        );
    }

    #[test]
    fn bad_files_name_the_entry_and_the_problem() {
        let head = "valid_from = \"2026-01-01\"\nvalid_through = \"2026-12-31\"\n";
        let event = |date: &str, time: &str, imp: &str| {
            format!(
                "{head}[[event]]\ndate = \"{date}\"\ntime = \"{time}\"\nname = \"CPI\"\nimportance = \"{imp}\"\n"
            )
        };
        let e = EconCalendar::parse("cal.toml", &event("2026-02-30", "08:30", "high")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cal.toml: event 1 (\"CPI\"): date \"2026-02-30\" is not YYYY-MM-DD"
        );
        let e = EconCalendar::parse("cal.toml", &event("2026-02-10", "8.30", "high")).unwrap_err();
        assert!(e.to_string().contains("time \"8.30\" is not HH:MM"), "{e}");
        let e = EconCalendar::parse("cal.toml", &event("2026-02-10", "08:30", "huge")).unwrap_err();
        assert!(e.to_string().contains("importance \"huge\""), "{e}");
        let e = EconCalendar::parse("cal.toml", &event("2027-02-10", "08:30", "high")).unwrap_err();
        assert!(e.to_string().contains("outside valid_from"), "{e}");
        let e = EconCalendar::parse("cal.toml", "valid_from = 3").unwrap_err();
        assert!(e.to_string().starts_with("cal.toml: "), "{e}");
        let e = EconCalendar::parse(
            "cal.toml",
            "valid_from = \"2026-02-01\"\nvalid_through = \"2026-01-01\"\n",
        )
        .unwrap_err();
        assert!(matches!(e, EconError::Range { .. }));
    }
}
