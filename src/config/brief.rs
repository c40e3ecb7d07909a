//! `[brief]`: when the morning brief is generated, how long it stays fresh, and which
//! economic calendar file it reads.

use serde::{Deserialize, Serialize};

use super::Secret;
use crate::brief::{EconCalendar, Schedule};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BriefConfig {
    /// New York time ("HH:MM") from which each trading day's brief is generated.
    pub at: String,
    /// Minutes a stored brief is shown as is before opening the pane rebuilds it.
    pub fresh_minutes: u32,
    /// An economic calendar file replacing the shipped one; empty = the shipped file.
    pub econ_calendar: String,
    /// FRED API key for `coach econ fetch` (release dates). A secret: `FRED_API_KEY` in
    /// the environment wins; never logged.
    pub fred_api_key: Secret,
    /// FRED API base URL.
    pub fred_url: String,
}

impl Default for BriefConfig {
    fn default() -> Self {
        BriefConfig {
            at: "07:00".into(),
            fresh_minutes: 30,
            econ_calendar: String::new(),
            fred_api_key: Secret::default(),
            fred_url: "https://api.stlouisfed.org".into(),
        }
    }
}

impl BriefConfig {
    /// The checks of `Config::validate`: (key, reason) of the first problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        chrono::NaiveTime::parse_from_str(&self.at, "%H:%M").map_err(|_| {
            (
                "brief.at",
                format!("{:?} is not a New York time HH:MM", self.at),
            )
        })?;
        if !(1..=1440).contains(&self.fresh_minutes) {
            return Err((
                "brief.fresh_minutes",
                format!("{} is not between 1 and 1440", self.fresh_minutes),
            ));
        }
        self.calendar()
            .map(|_| ())
            .map_err(|e| ("brief.econ_calendar", e))
    }

    pub fn schedule(&self) -> Schedule {
        let default = Schedule::default();
        Schedule {
            at: chrono::NaiveTime::parse_from_str(&self.at, "%H:%M").unwrap_or(default.at),
            fresh_for: chrono::Duration::minutes(i64::from(self.fresh_minutes)),
        }
    }

    /// The configured calendar file, or the shipped one.
    pub fn calendar(&self) -> Result<EconCalendar, String> {
        load_calendar(&self.econ_calendar)
    }
}

/// Reads and parses an economic calendar file (`""` = the shipped calendar).
pub fn load_calendar(path: &str) -> Result<EconCalendar, String> {
    if path.is_empty() {
        return Ok(EconCalendar::shipped());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    EconCalendar::parse(path, &text).map_err(|e| e.to_string())
}
