//! The table of NYSE special days (`assets/special_closures.csv`): unscheduled closures and
//! one-off early closes that no rule produces. Embedded at compile time, parsed at first use.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveTime};

/// Where the table comes from, for error messages.
pub const SOURCE_NAME: &str = "assets/special_closures.csv";

const SOURCE: &str = include_str!("../../../assets/special_closures.csv");

const HEADER: &str = "date,status,close_et,reason";

/// One row of the table. Times are New York wall-clock times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecialDay {
    /// The exchange did not open.
    Closed { reason: &'static str },
    /// The regular session ended early, at `close` New York time.
    EarlyClose {
        close: NaiveTime,
        reason: &'static str,
    },
}

/// A row of the table that could not be read; names the line (1-based) and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{SOURCE_NAME} line {line}, field {field}: {problem}")]
pub struct SpecialDayError {
    pub line: usize,
    pub field: &'static str,
    pub problem: String,
}

/// The parsed table, keyed by New York date.
pub type SpecialDays = BTreeMap<NaiveDate, SpecialDay>;

static TABLE: LazyLock<SpecialDays> = LazyLock::new(|| match parse(SOURCE) {
    Ok(table) => table,
    // The table is compiled into the binary and `the_shipped_table_parses` proves it
    // parses, so this is a build defect, never a runtime input error.
    Err(e) => panic!("the embedded special-closure table is invalid: {e}"),
});

/// The shipped table.
pub fn table() -> &'static SpecialDays {
    &TABLE
}

/// Parses the table format: `#` comment lines and blank lines are skipped, the first
/// other line must be the header `date,status,close_et,reason`; the reason is the rest of
/// the line and may contain commas. A date may appear only once.
pub fn parse(text: &'static str) -> Result<SpecialDays, SpecialDayError> {
    let mut table = SpecialDays::new();
    let mut seen_header = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        if !seen_header {
            if row != HEADER {
                return Err(SpecialDayError {
                    line,
                    field: "header",
                    problem: format!("expected {HEADER:?}, found {:?}", printable(row)),
                });
            }
            seen_header = true;
            continue;
        }
        let mut fields = row.splitn(4, ',').map(str::trim);
        let (date, status, close, reason) = (
            fields.next().unwrap_or(""),
            fields.next().unwrap_or(""),
            fields.next(),
            fields.next(),
        );
        let (Some(close), Some(reason)) = (close, reason) else {
            return Err(SpecialDayError {
                line,
                field: "row",
                problem: "expected 4 comma-separated fields: date,status,close_et,reason".into(),
            });
        };
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| SpecialDayError {
            line,
            field: "date",
            problem: format!("{:?} is not a date YYYY-MM-DD", printable(date)),
        })?;
        if reason.is_empty() {
            return Err(SpecialDayError {
                line,
                field: "reason",
                problem: "is empty; say why the exchange closed".into(),
            });
        }
        let day = match status {
            "closed" if close.is_empty() => SpecialDay::Closed { reason },
            "closed" => {
                return Err(SpecialDayError {
                    line,
                    field: "close_et",
                    problem: format!("must be empty for a closed day, found {close:?}"),
                });
            }
            "early_close" => SpecialDay::EarlyClose {
                close: parse_early_close(close, line)?,
                reason,
            },
            other => {
                return Err(SpecialDayError {
                    line,
                    field: "status",
                    problem: format!("{:?} is not closed or early_close", printable(other)),
                });
            }
        };
        if table.insert(date, day).is_some() {
            return Err(SpecialDayError {
                line,
                field: "date",
                problem: format!("{date} appears twice"),
            });
        }
    }
    if !seen_header {
        return Err(SpecialDayError {
            line: 1,
            field: "header",
            problem: format!("missing header {HEADER:?}"),
        });
    }
    Ok(table)
}

/// An early close is a New York time strictly between the regular open and close.
fn parse_early_close(text: &str, line: usize) -> Result<NaiveTime, SpecialDayError> {
    let time = NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| SpecialDayError {
        line,
        field: "close_et",
        problem: format!("{:?} is not a time HH:MM", printable(text)),
    })?;
    if time <= super::REGULAR_OPEN || time >= super::REGULAR_CLOSE {
        return Err(SpecialDayError {
            line,
            field: "close_et",
            problem: format!("{text} is not between the 09:30 open and the 16:00 close"),
        });
    }
    Ok(time)
}

fn printable(text: &str) -> String {
    crate::text::printable(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_shipped_table_parses() {
        let table = parse(SOURCE).unwrap();
        assert_eq!(
            table.get(&d("2025-01-09")),
            Some(&SpecialDay::Closed {
                reason: "National day of mourning for President Carter"
            })
        );
        assert_eq!(
            table.get(&d("2003-12-26")),
            Some(&SpecialDay::EarlyClose {
                close: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
                reason: "Day after Christmas"
            })
        );
        assert_eq!(table.len(), 14);
        assert_eq!(table, *super::table());
    }

    #[test]
    fn a_reason_may_contain_commas() {
        let table = parse("date,status,close_et,reason\n2030-01-02,closed,,Storm, flooding\n");
        assert_eq!(
            table.unwrap()[&d("2030-01-02")],
            SpecialDay::Closed {
                reason: "Storm, flooding"
            }
        );
    }

    #[test]
    fn bad_rows_are_refused_with_their_line_and_field() {
        let cases: [(&'static str, usize, &str); 9] = [
            ("", 1, "header"),
            ("# only a comment\n", 1, "header"),
            ("date,status\n", 1, "header"),
            (
                "date,status,close_et,reason\n\n2030-02-30,closed,,x\n",
                3,
                "date",
            ),
            (
                "date,status,close_et,reason\n2030-01-02,shut,,x\n",
                2,
                "status",
            ),
            (
                "date,status,close_et,reason\n2030-01-02,closed,13:00,x\n",
                2,
                "close_et",
            ),
            (
                "date,status,close_et,reason\n2030-01-02,early_close,17:00,x\n",
                2,
                "close_et",
            ),
            (
                "date,status,close_et,reason\n2030-01-02,closed,,\n",
                2,
                "reason",
            ),
            ("date,status,close_et,reason\n2030-01-02,closed\n", 2, "row"),
        ];
        for (text, line, field) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!((err.line, err.field), (line, field), "{text:?}: {err}");
        }
        let dup = "date,status,close_et,reason\n2030-01-02,closed,,a\n2030-01-02,closed,,b\n";
        let err = parse(dup).unwrap_err();
        assert_eq!(
            err.to_string(),
            "assets/special_closures.csv line 3, field date: 2030-01-02 appears twice"
        );
    }
}
