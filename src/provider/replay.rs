//! Recorded bars for replay (SPEC 10.2): the CSV bar files of one symbol, read through
//! the one bar-file reader ([`crate::provider::bar_files`]), and written back in the
//! format `coach bars` downloads into.
//!
//! `parse_minute_bars` and `parse_daily_bars` read a text (pure: text in, bars out);
//! everything the reader accepts is accepted here (SPEC 19: header aliases, `,` `;` tab,
//! ISO with or without offset, epoch s/ms/ns, RFC 2822, gzip). Rows must be in strictly
//! ascending time.

use std::io::Cursor;
use std::path::Path;

use chrono_tz::America::New_York;

pub use super::bar_files::load::join_minute_files;
use super::bar_files::{BarFile, BarRecord, SymbolRule};
pub use super::bar_files::{
    BarFileError, BarFileKind, ReplayInput, bar_file_kind, discover, load_files,
    symbol_from_file_name,
};
use crate::domain::{Bar, DailyBar, Symbol};

/// Reads every row of one symbol's bars of `kind`.
fn collect(
    mut file: BarFile,
    kind: BarFileKind,
) -> Result<(Vec<Bar>, Vec<DailyBar>), BarFileError> {
    let (mut minute, mut daily) = (Vec::new(), Vec::new());
    for row in file.by_ref() {
        match row?.bar {
            BarRecord::Minute(bar) => minute.push(bar),
            BarRecord::Daily(bar) => daily.push(bar),
        }
    }
    if file.symbols().len() > 1 {
        return Err(BarFileError::Symbol {
            file: file.name().to_string(),
            problem: format!(
                "holds {} symbols; read it as a directory entry or with --symbol",
                file.symbols().len()
            ),
        });
    }
    debug_assert!(file.kind() == kind);
    Ok((minute, daily))
}

fn text_file(file: &str, text: &str, kind: BarFileKind) -> Result<BarFile, BarFileError> {
    // The name only labels errors: a text has no symbol of its own.
    let rule = SymbolRule::FromName(Symbol::parse("TEXT").map_err(|e| BarFileError::Symbol {
        file: file.to_string(),
        problem: e.to_string(),
    }));
    let bytes = Cursor::new(text.as_bytes().to_vec());
    BarFile::from_reader(file, Box::new(bytes), Some(kind), rule)
}

/// Parses a minute-bar CSV text. `file` names the source in errors.
pub fn parse_minute_bars(file: &str, text: &str) -> Result<Vec<Bar>, BarFileError> {
    let kind = BarFileKind::Minute;
    collect(text_file(file, text, kind)?, kind).map(|(minute, _)| minute)
}

/// Parses a daily-bar CSV text. `file` names the source in errors.
pub fn parse_daily_bars(file: &str, text: &str) -> Result<Vec<DailyBar>, BarFileError> {
    let kind = BarFileKind::Daily;
    collect(text_file(file, text, kind)?, kind).map(|(_, daily)| daily)
}

fn open(path: &Path, kind: BarFileKind) -> Result<BarFile, BarFileError> {
    BarFile::open(path, Some(kind), SymbolRule::for_path(path, None)).or_else(|e| match e {
        // One file read on its own needs no symbol.
        BarFileError::NoSymbol { .. } | BarFileError::Symbol { .. } => {
            let rule = SymbolRule::Forced(Symbol::parse("FILE").map_err(|_| e.clone())?);
            BarFile::open(path, Some(kind), rule)
        }
        other => Err(other),
    })
}

/// Reads and parses a minute-bar file (plain or gzip).
pub fn read_minute_file(path: &Path) -> Result<Vec<Bar>, BarFileError> {
    let kind = BarFileKind::Minute;
    collect(open(path, kind)?, kind).map(|(minute, _)| minute)
}

/// Reads and parses a daily-bar file (plain or gzip).
pub fn read_daily_file(path: &Path) -> Result<Vec<DailyBar>, BarFileError> {
    let kind = BarFileKind::Daily;
    collect(open(path, kind)?, kind).map(|(_, daily)| daily)
}

/// Writes minute bars in the format `parse_minute_bars` reads: a header, then one row per
/// bar with its start as RFC 3339 in New York time (`2024-03-08T09:30:00-05:00`, so DST
/// is never ambiguous) and prices as the shortest text that reads back to the same number.
/// The volume column is left out when every volume is 0 (an index).
pub fn write_minute_bars(bars: &[Bar]) -> String {
    write_rows(
        "timestamp",
        bars.iter().map(|b| {
            let start = b.start.with_timezone(&New_York).to_rfc3339();
            (start, [b.open, b.high, b.low, b.close], b.volume)
        }),
    )
}

/// Writes daily bars in the format `parse_daily_bars` reads (`date,open,high,low,close
/// [,volume]`, the date being the New York session date).
pub fn write_daily_bars(bars: &[DailyBar]) -> String {
    write_rows(
        "date",
        bars.iter().map(|b| {
            let date = b.date.format("%Y-%m-%d").to_string();
            (date, [b.open, b.high, b.low, b.close], b.volume)
        }),
    )
}

/// `key,open,high,low,close[,volume]` rows under their header; the volume column only
/// when some volume is not 0. Numbers print as the shortest text that reads back exactly.
fn write_rows(key: &str, rows: impl Iterator<Item = (String, [f64; 4], f64)>) -> String {
    use std::fmt::Write as _;
    let rows: Vec<_> = rows.collect();
    let with_volume = rows.iter().any(|(_, _, v)| *v != 0.0);
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(key);
    out.push_str(if with_volume {
        ",open,high,low,close,volume\n"
    } else {
        ",open,high,low,close\n"
    });
    for (key, [o, h, l, c], volume) in rows {
        // Writing to a String cannot fail.
        let _ = write!(out, "{key},{o},{h},{l},{c}");
        if with_volume {
            let _ = write!(out, ",{volume}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;

    const LEAN_STYLE: &str = "timestamp,open,high,low,close,volume\n\
        2013-10-04 09:30:00,167.6500,167.7000,167.5000,167.6000,20000\n\
        2013-10-04 09:31:00,167.6000,167.6200,167.5500,167.5700,300\n";

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn naive_eastern_timestamps_are_bar_starts_in_new_york_time() {
        let bars = parse_minute_bars("SPY.csv", LEAN_STYLE).unwrap();
        assert_eq!(bars.len(), 2);
        // October 2013 is EDT, UTC−4
        assert_eq!(bars[0].start, utc("2013-10-04T13:30:00Z"));
        assert_eq!(bars[0].high, 167.70);
        assert_eq!(bars[1].volume, 300.0);
    }

    #[test]
    fn winter_naive_timestamps_are_est() {
        let bars = parse_minute_bars(
            "x",
            "timestamp,open,high,low,close\n2024-01-05 09:30,1,1,1,1\n",
        )
        .unwrap();
        assert_eq!(bars[0].start, utc("2024-01-05T14:30:00Z"));
        assert_eq!(bars[0].volume, 0.0, "no volume column: an index");
    }

    #[test]
    fn timestamps_with_an_offset_are_taken_as_written() {
        let text = "Timestamp,OPEN,High,low,Close,Volume,vwap\n\
                    2024-03-08T09:30:00-05:00,1,2,0.5,1.5,10,1.2\n\
                    2024-03-08T14:31:00Z,1,2,0.5,1.5,,1.2\n";
        let bars = parse_minute_bars("x", text).unwrap();
        assert_eq!(bars[0].start, utc("2024-03-08T14:30:00Z"));
        assert_eq!(bars[1].start, utc("2024-03-08T14:31:00Z"));
        assert_eq!(bars[1].volume, 0.0, "an empty volume is 0");
    }

    #[test]
    fn a_bad_number_is_reported_with_file_line_and_column() {
        let text = "timestamp,open,high,low,close,volume\n\
                    2013-10-04 09:30:00,167.65,167.70,167.50,167.60,20000\n\
                    \n\
                    2013-10-04 09:31:00,167.60,abc,167.55,167.57,300\n";
        let err = parse_minute_bars("SPY_1min.csv", text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SPY_1min.csv:4: column 3 (high): \"abc\" is not a number"
        );
    }

    #[test]
    fn nan_prices_and_negative_volumes_are_refused() {
        let nan = "timestamp,open,high,low,close\n2024-01-05 09:30,NaN,1,1,1\n";
        assert!(matches!(
            parse_minute_bars("x", nan),
            Err(BarFileError::Field {
                column: 2,
                name: "open",
                ..
            })
        ));
        let neg = "timestamp,open,high,low,close,volume\n2024-01-05 09:30,1,1,1,1,-5\n";
        assert!(matches!(
            parse_minute_bars("x", neg),
            Err(BarFileError::Field {
                column: 6,
                name: "volume",
                ..
            })
        ));
    }

    #[test]
    fn a_bar_whose_high_is_below_its_low_is_refused() {
        let text = "timestamp,open,high,low,close\n2024-01-05 09:30,1,1,2,1\n";
        let err = parse_minute_bars("x", text).unwrap_err();
        assert!(
            err.to_string()
                .contains("x:2: column 3 (high): high 1 is below low 2"),
            "{err}"
        );
        let text = "timestamp,open,high,low,close\n2024-01-05 09:30,3,2,1,1.5\n";
        let err = parse_minute_bars("x", text).unwrap_err();
        assert!(err.to_string().contains("open 3 is outside"), "{err}");
    }

    #[test]
    fn a_short_row_names_the_missing_column() {
        let text = "timestamp,open,high,low,close,volume\n2024-01-05 09:30,1,1,1\n";
        let err = parse_minute_bars("x", text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x:2: column 5 (close): missing"),
            "{err}"
        );
    }

    #[test]
    fn unsorted_and_duplicate_timestamps_are_reported_with_both_lines() {
        let dup =
            "timestamp,open,high,low,close\n2024-01-05 09:30,1,1,1,1\n2024-01-05 09:30,1,1,1,1\n";
        let err = parse_minute_bars("f.csv", dup).unwrap_err();
        assert!(
            matches!(
                err,
                BarFileError::NotAscending {
                    line: 3,
                    previous_line: 2,
                    ..
                }
            ),
            "{err}"
        );
        let unsorted =
            "timestamp,open,high,low,close\n2024-01-05 09:31,1,1,1,1\n2024-01-05 09:30,1,1,1,1\n";
        let err = parse_minute_bars("f.csv", unsorted).unwrap_err();
        assert!(
            err.to_string().contains(
                "f.csv:3: timestamp 2024-01-05 09:30 is not after 2024-01-05 09:31 on line 2"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_header_without_close_is_reported() {
        let err = parse_minute_bars("f", "timestamp,open,high,low\n").unwrap_err();
        assert!(
            matches!(
                err,
                BarFileError::MissingColumn {
                    column: "close",
                    line: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            parse_minute_bars("f", ""),
            Err(BarFileError::Empty { .. })
        ));
        assert!(matches!(
            parse_minute_bars("f", "timestamp,open,high,low,close\n"),
            Err(BarFileError::NoRows { .. })
        ));
    }

    #[test]
    fn a_bad_timestamp_is_reported_with_its_column() {
        let text = "open,timestamp,high,low,close\n1,2024-13-05 09:30,1,1,1\n";
        let err = parse_minute_bars("f", text).unwrap_err();
        assert!(
            matches!(
                err,
                BarFileError::Field {
                    line: 2,
                    column: 2,
                    name: "timestamp",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn the_repeated_hour_of_the_fall_back_night_is_read_in_order() {
        let text = "timestamp,open,high,low,close\n\
                    2024-11-03 01:30,1,1,1,1\n\
                    2024-11-03 01:30,1,1,1,1\n";
        let bars = parse_minute_bars("f", text).unwrap();
        assert_eq!(
            bars[0].start,
            utc("2024-11-03T05:30:00Z"),
            "first 01:30 is EDT"
        );
        assert_eq!(
            bars[1].start,
            utc("2024-11-03T06:30:00Z"),
            "second 01:30 is EST"
        );
    }

    #[test]
    fn a_time_skipped_by_the_spring_forward_is_refused() {
        let text = "timestamp,open,high,low,close\n2024-03-10 02:30,1,1,1,1\n";
        let err = parse_minute_bars("f", text).unwrap_err();
        assert!(
            err.to_string().contains("does not exist in New York"),
            "{err}"
        );
    }

    #[test]
    fn daily_files_use_a_date_column() {
        let text = "\u{feff}date,open,high,low,close,volume\r\n1998-01-02,97.3100,97.5300,96.5300,97.3600,2150000\r\n1998-01-05 00:00:00,97.84,98.44,96.78,97.75,4030800\r\n";
        let bars = parse_daily_bars("SPY_1day.csv", text).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].date, NaiveDate::from_ymd_opt(1998, 1, 5).unwrap());
        assert_eq!(bars[0].close, 97.36);
        let err = parse_daily_bars("d", "date,open,high,low,close\n1998-01-02 15:00,1,1,1,1\n")
            .unwrap_err();
        assert!(
            matches!(
                err,
                BarFileError::Field {
                    column: 1,
                    name: "date",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn joining_files_of_one_symbol_refuses_overlapping_minutes() {
        let spy = Symbol::parse("SPY").unwrap();
        let a = parse_minute_bars("a", LEAN_STYLE).unwrap();
        let b = parse_minute_bars(
            "b",
            "timestamp,open,high,low,close\n2013-10-04 09:32,1,1,1,1\n",
        )
        .unwrap();
        let joined =
            join_minute_files(&spy, vec![("b".into(), b), ("a".into(), a.clone())]).unwrap();
        assert_eq!(joined.len(), 3);
        assert!(joined.windows(2).all(|w| w[0].start < w[1].start));
        let err =
            join_minute_files(&spy, vec![("a".into(), a.clone()), ("a2".into(), a)]).unwrap_err();
        assert!(
            err.to_string()
                .contains("a and a2 both hold the bar of 2013-10-04T13:30:00+00:00"),
            "{err}"
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "",
            ",,,,",
            "timestamp\n\u{1b}[31m",
            "date,open,high,low,close\n,,,,\n",
            "\u{feff}",
        ] {
            let _ = parse_minute_bars("f", text);
            let _ = parse_daily_bars("f", text);
        }
    }

    #[test]
    fn written_bars_read_back_identical_across_a_dst_change() {
        let bars = vec![
            Bar {
                start: utc("2024-03-08T14:30:00Z"),
                open: 510.12,
                high: 510.5,
                low: 509.8765,
                close: 510.0,
                volume: 112_117_471.0,
            },
            Bar {
                start: utc("2024-03-11T13:30:00Z"),
                open: 0.1 + 0.2,
                high: 1.0,
                low: 0.1,
                close: 0.5,
                volume: 0.0,
            },
        ];
        let text = write_minute_bars(&bars);
        assert!(
            text.starts_with("timestamp,open,high,low,close,volume\n2024-03-08T09:30:00-05:00,"),
            "{text}"
        );
        assert!(
            text.contains("2024-03-11T09:30:00-04:00,0.30000000000000004,"),
            "{text}"
        );
        assert_eq!(parse_minute_bars("w", &text).unwrap(), bars);
        let index: Vec<Bar> = bars.iter().map(|b| Bar { volume: 0.0, ..*b }).collect();
        let text = write_minute_bars(&index);
        assert!(
            text.starts_with("timestamp,open,high,low,close\n"),
            "no volume column for an index"
        );
        assert_eq!(parse_minute_bars("w", &text).unwrap(), index);
        let daily = vec![DailyBar {
            date: NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
            open: 130.28,
            high: 130.9,
            low: 124.17,
            close: 125.07,
            volume: 112_117_471.0,
        }];
        let text = write_daily_bars(&daily);
        assert_eq!(
            text,
            "date,open,high,low,close,volume\n2023-01-03,130.28,130.9,124.17,125.07,112117471\n"
        );
        assert_eq!(parse_daily_bars("d", &text).unwrap(), daily);
    }
}
