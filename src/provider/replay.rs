//! Recorded bars for replay (SPEC 10.2): CSV files of 1-minute and daily bars.
//!
//! Minute files: `timestamp,open,high,low,close[,volume]`, the timestamp being the bar
//! start either with an offset (`2024-03-08T09:30:00-05:00`, `...Z`) or naive US Eastern
//! (`2024-03-08 09:30:00`, resolved in America/New_York). Daily files: `date,open,high,
//! low,close[,volume]`. Header names are case-insensitive, unknown columns are ignored,
//! a missing volume column means 0 (indices). Rows must be in strictly ascending time.
//!
//! Parsing is pure (`parse_minute_bars`, `parse_daily_bars`: text in, bars out); the
//! file functions only read and name files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;

use crate::domain::{Bar, DailyBar, Symbol};

/// What is wrong with a bar file, with the file, line (1-based) and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BarFileError {
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}: the file is empty (expected a header line)")]
    Empty { file: String },
    #[error("{file}:{line}: the header has no {column:?} column (columns found: {found})")]
    MissingColumn {
        file: String,
        line: usize,
        column: &'static str,
        found: String,
    },
    #[error("{file}:{line}: the header names column {name:?} twice")]
    DuplicateColumn {
        file: String,
        line: usize,
        name: String,
    },
    #[error("{file}:{line}: column {column} ({name}): {problem}")]
    Field {
        file: String,
        line: usize,
        column: usize,
        name: &'static str,
        problem: String,
    },
    #[error(
        "{file}:{line}: {name} {this} is not after {previous} on line {previous_line} \
         (rows must be sorted by time, without duplicates)"
    )]
    NotAscending {
        file: String,
        line: usize,
        name: &'static str,
        this: String,
        previous: String,
        previous_line: usize,
    },
    #[error("{file}: no bars (only a header)")]
    NoRows { file: String },
    #[error(
        "{file}: cannot tell the symbol from the file name (expected SYMBOL_...csv); pass --symbol"
    )]
    NoSymbol { file: String },
    #[error("{file}: {problem}")]
    Symbol { file: String, problem: String },
    #[error("{0}: no <SYMBOL>_1min*.csv or <SYMBOL>_1day*.csv files in this directory")]
    EmptyDirectory(String),
    #[error("{first_file} and {second_file} both hold the bar of {at} for {symbol}")]
    Overlap {
        symbol: String,
        at: String,
        first_file: String,
        second_file: String,
    },
}

/// Minute or daily bars, as told by the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarFileKind {
    Minute,
    Daily,
}

/// The columns of a bar file, found in its header.
struct Columns {
    time: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: Option<usize>,
    names: [&'static str; 6],
}

fn find_columns(
    file: &str,
    line: usize,
    header: &str,
    time_names: &[&'static str],
) -> Result<Columns, BarFileError> {
    let fields: Vec<String> = header
        .split(',')
        .map(|f| unquote(f).to_ascii_lowercase())
        .collect();
    for (i, name) in fields.iter().enumerate() {
        if !name.is_empty() && fields[..i].contains(name) {
            return Err(BarFileError::DuplicateColumn {
                file: file.to_string(),
                line,
                name: crate::text::printable(name),
            });
        }
    }
    let found = || crate::text::printable(&fields.join(", "));
    let find = |wanted: &'static str| fields.iter().position(|f| f == wanted);
    let require = |wanted: &'static str| {
        find(wanted).ok_or_else(|| BarFileError::MissingColumn {
            file: file.to_string(),
            line,
            column: wanted,
            found: found(),
        })
    };
    let time =
        time_names
            .iter()
            .find_map(|n| find(n))
            .ok_or_else(|| BarFileError::MissingColumn {
                file: file.to_string(),
                line,
                column: time_names[0],
                found: found(),
            })?;
    Ok(Columns {
        time,
        open: require("open")?,
        high: require("high")?,
        low: require("low")?,
        close: require("close")?,
        volume: find("volume"),
        names: [time_names[0], "open", "high", "low", "close", "volume"],
    })
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(f)
        .trim()
}

/// The data lines of a text: (1-based line number, line), skipping blank lines and
/// `#` comments, without a byte-order mark or `\r`.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// One split row, with helpers that name the column on error.
struct Row<'a> {
    file: &'a str,
    line: usize,
    fields: Vec<&'a str>,
}

impl<'a> Row<'a> {
    fn field(&self, index: usize, name: &'static str) -> Result<&'a str, BarFileError> {
        self.fields.get(index).map(|f| unquote(f)).ok_or_else(|| {
            self.error(
                index,
                name,
                format!("missing (the row has {} fields)", self.fields.len()),
            )
        })
    }

    fn error(&self, index: usize, name: &'static str, problem: String) -> BarFileError {
        BarFileError::Field {
            file: self.file.to_string(),
            line: self.line,
            column: index + 1,
            name,
            problem,
        }
    }

    fn price(&self, index: usize, name: &'static str) -> Result<f64, BarFileError> {
        let text = self.field(index, name)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            Ok(_) => Err(self.error(
                index,
                name,
                format!("{:?} is not a positive price", crate::text::printable(text)),
            )),
            Err(_) => Err(self.error(
                index,
                name,
                format!("{:?} is not a number", crate::text::printable(text)),
            )),
        }
    }

    fn volume(&self, index: Option<usize>) -> Result<f64, BarFileError> {
        let Some(index) = index else { return Ok(0.0) };
        let text = self.field(index, "volume")?;
        if text.is_empty() {
            return Ok(0.0);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(self.error(
                index,
                "volume",
                format!(
                    "{:?} is not a volume (a number ≥ 0)",
                    crate::text::printable(text)
                ),
            )),
        }
    }

    /// open, high, low, close checked for consistency.
    fn ohlc(&self, c: &Columns) -> Result<[f64; 4], BarFileError> {
        let open = self.price(c.open, c.names[1])?;
        let high = self.price(c.high, c.names[2])?;
        let low = self.price(c.low, c.names[3])?;
        let close = self.price(c.close, c.names[4])?;
        if high < low {
            return Err(self.error(c.high, "high", format!("high {high} is below low {low}")));
        }
        for (value, index, name) in [(open, c.open, "open"), (close, c.close, "close")] {
            if value > high || value < low {
                return Err(self.error(
                    index,
                    name,
                    format!("{name} {value} is outside the bar's low {low} .. high {high}"),
                ));
            }
        }
        Ok([open, high, low, close])
    }
}

fn split<'a>(file: &'a str, line: usize, text: &'a str) -> Row<'a> {
    Row {
        file,
        line,
        fields: text.split(',').collect(),
    }
}

/// Parses a bar-start timestamp: with an offset, or naive US Eastern. `after` (the
/// previous row's instant) picks the second of two readings of a naive time that occurs
/// twice when clocks fall back.
pub fn parse_timestamp(text: &str, after: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    let with_t = t.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&with_t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(&with_t, format) {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    let naive = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&with_t, f).ok())
        .ok_or_else(|| {
            format!(
                "{:?} is not a timestamp (expected e.g. 2024-03-08 09:30:00 US Eastern, or RFC 3339 with an offset)",
                crate::text::printable(t)
            )
        })?;
    match New_York.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => {
            let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
            Ok(match after {
                Some(previous) if previous >= first => second,
                _ => first,
            })
        }
        LocalResult::None => Err(format!(
            "{naive} does not exist in New York (clocks jump forward that night); write the offset"
        )),
    }
}

/// Parses a daily date: `YYYY-MM-DD`, optionally followed by a midnight time.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let date_part = t.get(..10).unwrap_or(t);
    let rest = t.get(10..).unwrap_or("").trim_start_matches(['T', ' ']);
    let midnight = rest.is_empty() || rest.trim_start_matches(['0', ':']).is_empty();
    match NaiveDate::parse_from_str(date_part, "%Y-%m-%d") {
        Ok(d) if midnight => Ok(d),
        _ => Err(format!(
            "{:?} is not a date (expected YYYY-MM-DD)",
            crate::text::printable(t)
        )),
    }
}

/// Parses a minute-bar CSV text. `file` names the source in errors.
pub fn parse_minute_bars(file: &str, text: &str) -> Result<Vec<Bar>, BarFileError> {
    let mut lines = data_lines(text);
    let (header_line, header) = lines.next().ok_or_else(|| BarFileError::Empty {
        file: file.to_string(),
    })?;
    let columns = find_columns(
        file,
        header_line,
        header,
        &["timestamp", "time", "datetime"],
    )?;
    let mut bars = Vec::new();
    let mut previous: Option<(DateTime<Utc>, usize, String)> = None;
    for (line, text) in lines {
        let row = split(file, line, text);
        let time_text = row.field(columns.time, columns.names[0])?;
        let start = parse_timestamp(time_text, previous.as_ref().map(|p| p.0))
            .map_err(|problem| row.error(columns.time, columns.names[0], problem))?;
        if let Some((prev, prev_line, prev_text)) = &previous
            && start <= *prev
        {
            return Err(BarFileError::NotAscending {
                file: file.to_string(),
                line,
                name: "timestamp",
                this: crate::text::printable(time_text),
                previous: prev_text.clone(),
                previous_line: *prev_line,
            });
        }
        let [open, high, low, close] = row.ohlc(&columns)?;
        let volume = row.volume(columns.volume)?;
        bars.push(Bar {
            start,
            open,
            high,
            low,
            close,
            volume,
        });
        previous = Some((start, line, crate::text::printable(time_text)));
    }
    if bars.is_empty() {
        return Err(BarFileError::NoRows {
            file: file.to_string(),
        });
    }
    Ok(bars)
}

/// Parses a daily-bar CSV text. `file` names the source in errors.
pub fn parse_daily_bars(file: &str, text: &str) -> Result<Vec<DailyBar>, BarFileError> {
    let mut lines = data_lines(text);
    let (header_line, header) = lines.next().ok_or_else(|| BarFileError::Empty {
        file: file.to_string(),
    })?;
    let columns = find_columns(file, header_line, header, &["date"])?;
    let mut bars: Vec<DailyBar> = Vec::new();
    let mut previous_line = 0;
    for (line, text) in lines {
        let row = split(file, line, text);
        let date_text = row.field(columns.time, "date")?;
        let date = parse_date(date_text).map_err(|p| row.error(columns.time, "date", p))?;
        if let Some(last) = bars.last()
            && date <= last.date
        {
            return Err(BarFileError::NotAscending {
                file: file.to_string(),
                line,
                name: "date",
                this: date.to_string(),
                previous: last.date.to_string(),
                previous_line,
            });
        }
        let [open, high, low, close] = row.ohlc(&columns)?;
        let volume = row.volume(columns.volume)?;
        bars.push(DailyBar {
            date,
            open,
            high,
            low,
            close,
            volume,
        });
        previous_line = line;
    }
    if bars.is_empty() {
        return Err(BarFileError::NoRows {
            file: file.to_string(),
        });
    }
    Ok(bars)
}

/// The symbol of a bar file: its name's prefix before the first `_`
/// (`SPY_1min_2013-10.csv` → SPY).
pub fn symbol_from_file_name(path: &Path) -> Result<Symbol, BarFileError> {
    let file = path.display().to_string();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| BarFileError::NoSymbol { file: file.clone() })?;
    let (prefix, _) = name
        .split_once('_')
        .ok_or_else(|| BarFileError::NoSymbol { file: file.clone() })?;
    Symbol::parse(prefix).map_err(|e| BarFileError::Symbol {
        file,
        problem: e.to_string(),
    })
}

/// Classifies a file name: `<SYMBOL>_1min*.csv` or `<SYMBOL>_1day*.csv` (case-insensitive).
pub fn bar_file_kind(name: &str) -> Option<BarFileKind> {
    let lower = name.to_ascii_lowercase();
    if !lower.ends_with(".csv") {
        return None;
    }
    let (_, rest) = lower.split_once('_')?;
    if rest.starts_with("1min") {
        Some(BarFileKind::Minute)
    } else if rest.starts_with("1day") {
        Some(BarFileKind::Daily)
    } else {
        None
    }
}

/// The bar files of a directory, sorted by name.
pub fn discover(dir: &Path) -> Result<Vec<(PathBuf, BarFileKind)>, BarFileError> {
    let read_error = |e: std::io::Error| BarFileError::Read {
        file: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let kind = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(bar_file_kind);
        if let Some(kind) = kind
            && path.is_file()
        {
            found.push((path, kind));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn read_text(path: &Path) -> Result<String, BarFileError> {
    std::fs::read_to_string(path).map_err(|e| BarFileError::Read {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Reads and parses a minute-bar file.
pub fn read_minute_file(path: &Path) -> Result<Vec<Bar>, BarFileError> {
    parse_minute_bars(&path.display().to_string(), &read_text(path)?)
}

/// Reads and parses a daily-bar file.
pub fn read_daily_file(path: &Path) -> Result<Vec<DailyBar>, BarFileError> {
    parse_daily_bars(&path.display().to_string(), &read_text(path)?)
}

/// Joins the minute bars of several files of one symbol into one ascending series;
/// two files holding the same minute are an error naming both.
pub fn join_minute_files(
    symbol: &Symbol,
    parts: Vec<(String, Vec<Bar>)>,
) -> Result<Vec<Bar>, BarFileError> {
    let mut tagged: Vec<(Bar, usize)> = Vec::with_capacity(parts.iter().map(|p| p.1.len()).sum());
    for (i, (_, bars)) in parts.iter().enumerate() {
        tagged.extend(bars.iter().map(|b| (*b, i)));
    }
    tagged.sort_by_key(|(b, i)| (b.start, *i));
    for pair in tagged.windows(2) {
        if pair[0].0.start == pair[1].0.start {
            return Err(BarFileError::Overlap {
                symbol: symbol.to_string(),
                at: pair[0].0.start.to_rfc3339(),
                first_file: parts[pair[0].1].0.clone(),
                second_file: parts[pair[1].1].0.clone(),
            });
        }
    }
    Ok(tagged.into_iter().map(|(b, _)| b).collect())
}

/// The bars and daily bars of every symbol, read from files and directories.
pub struct ReplayInput {
    pub minute: BTreeMap<Symbol, Vec<Bar>>,
    pub daily: BTreeMap<Symbol, Vec<DailyBar>>,
    /// (file, symbol) of each daily file, for messages.
    pub daily_files: Vec<(String, Symbol)>,
}

/// Reads minute-bar files (or directories holding `<SYMBOL>_1min*.csv` and
/// `<SYMBOL>_1day*.csv`) and daily files; `forced` names the symbol of every file instead
/// of the file-name prefix.
pub fn load_files(
    bars: &[PathBuf],
    daily: &[PathBuf],
    forced: Option<&Symbol>,
) -> Result<ReplayInput, BarFileError> {
    let symbol_of = |path: &PathBuf| match forced {
        Some(s) => Ok(s.clone()),
        None => symbol_from_file_name(path),
    };
    let mut minute_files: Vec<PathBuf> = Vec::new();
    let mut daily_files: Vec<PathBuf> = daily.to_vec();
    for path in bars {
        if path.is_dir() {
            let found = discover(path)?;
            if found.is_empty() {
                return Err(BarFileError::EmptyDirectory(path.display().to_string()));
            }
            for (file, kind) in found {
                match kind {
                    BarFileKind::Minute => minute_files.push(file),
                    BarFileKind::Daily => daily_files.push(file),
                }
            }
        } else {
            minute_files.push(path.clone());
        }
    }
    let mut parts: BTreeMap<Symbol, Vec<(String, Vec<Bar>)>> = BTreeMap::new();
    for file in &minute_files {
        let symbol = symbol_of(file)?;
        let bars = read_minute_file(file)?;
        parts
            .entry(symbol)
            .or_default()
            .push((file.display().to_string(), bars));
    }
    let mut minute = BTreeMap::new();
    for (symbol, files) in parts {
        let bars = join_minute_files(&symbol, files)?;
        minute.insert(symbol, bars);
    }
    let mut by_symbol: BTreeMap<Symbol, Vec<DailyBar>> = BTreeMap::new();
    let mut named = Vec::new();
    for file in &daily_files {
        let symbol = symbol_of(file)?;
        let bars = read_daily_file(file)?;
        by_symbol.entry(symbol.clone()).or_default().extend(bars);
        named.push((file.display().to_string(), symbol));
    }
    Ok(ReplayInput {
        minute,
        daily: by_symbol,
        daily_files: named,
    })
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
    fn symbols_and_kinds_come_from_file_names() {
        let p = Path::new("/data/SPY_1min_2013-10-04_2013-10-11.csv");
        assert_eq!(symbol_from_file_name(p).unwrap().as_str(), "SPY");
        assert_eq!(
            bar_file_kind("SPY_1min_2013-10-04.csv"),
            Some(BarFileKind::Minute)
        );
        assert_eq!(bar_file_kind("spy_1day_lean.CSV"), Some(BarFileKind::Daily));
        assert_eq!(bar_file_kind("README.md"), None);
        assert_eq!(bar_file_kind("SPY_5min.csv"), None);
        assert!(matches!(
            symbol_from_file_name(Path::new("bars.csv")),
            Err(BarFileError::NoSymbol { .. })
        ));
        assert!(matches!(
            symbol_from_file_name(Path::new("TOO-LONG-SYMBOL-NAME_1min.csv")),
            Err(BarFileError::Symbol { .. })
        ));
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
