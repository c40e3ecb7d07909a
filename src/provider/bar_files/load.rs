//! Files and directories of bars into bars by symbol (replay, brief, doctor, dashboard).
//!
//! A file named on the command line must read: its error is the command's. A directory
//! loads every bar file it can; each one that cannot be read is kept in
//! [`ReplayInput::skipped`] (file:line and what is wrong) for the caller to show, and the
//! directory is an error only when none of its files loads.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::BarFileError;
use super::names::{BarFileKind, discover};
use super::reader::{BarFile, BarRecord, SymbolRule};
use super::timestamp::TimeKind;
use crate::domain::{Bar, DailyBar, Symbol};

/// What was detected in one file, for `--verbose` and `coach doctor`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileSummary {
    pub file: String,
    pub kind: BarFileKind,
    pub symbols: Vec<Symbol>,
    /// `','`, `';'` or `tab`.
    pub delimiter: &'static str,
    /// The time column's name as written in the header.
    pub time_column: String,
    pub time_kind: Option<TimeKind>,
    /// The columns read, by their names in the file.
    pub columns: String,
    pub rows: usize,
}

impl fmt::Display for FileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbols: Vec<&str> = self.symbols.iter().map(Symbol::as_str).collect();
        let symbols = if symbols.len() > 8 {
            format!("{} symbols ({} …)", symbols.len(), symbols[..8].join(","))
        } else {
            symbols.join(",")
        };
        write!(
            f,
            "{}: {} bars of {symbols} · delimiter {} · time column {:?} ({}) · columns {} · {} rows",
            self.file,
            self.kind.as_str(),
            self.delimiter,
            self.time_column,
            self.time_kind
                .map_or_else(|| "unknown".to_string(), |k| k.to_string()),
            self.columns,
            self.rows
        )
    }
}

/// The bars and daily bars of every symbol, read from files and directories.
#[derive(Debug, Default)]
pub struct ReplayInput {
    pub minute: BTreeMap<Symbol, Vec<Bar>>,
    pub daily: BTreeMap<Symbol, Vec<DailyBar>>,
    /// (file, symbol) of each daily file, for messages.
    pub daily_files: Vec<(String, Symbol)>,
    /// What each loaded file held, in reading order.
    pub files: Vec<FileSummary>,
    /// The files of a directory that could not be read, with why.
    pub skipped: Vec<BarFileError>,
}

/// The bars of one file, split by symbol.
struct FileBars {
    summary: FileSummary,
    minute: Vec<(Symbol, Vec<Bar>)>,
    daily: Vec<(Symbol, Vec<DailyBar>)>,
}

/// Reads a whole file (the collecting use of the streaming [`BarFile`]).
fn read_file(
    path: &Path,
    kind: Option<BarFileKind>,
    forced: Option<&Symbol>,
) -> Result<FileBars, BarFileError> {
    let mut file = BarFile::open(path, kind, SymbolRule::for_path(path, forced))?;
    let mut minute: Vec<Vec<Bar>> = Vec::new();
    let mut daily: Vec<Vec<DailyBar>> = Vec::new();
    for row in file.by_ref() {
        let row = row?;
        match row.bar {
            BarRecord::Minute(bar) => {
                if minute.len() <= row.symbol {
                    minute.resize_with(row.symbol + 1, Vec::new);
                }
                minute[row.symbol].push(bar);
            }
            BarRecord::Daily(bar) => {
                if daily.len() <= row.symbol {
                    daily.resize_with(row.symbol + 1, Vec::new);
                }
                daily[row.symbol].push(bar);
            }
        }
    }
    let symbols = file.symbols();
    Ok(FileBars {
        minute: tag(symbols, minute),
        daily: tag(symbols, daily),
        summary: file.summary(),
    })
}

/// Each symbol's non-empty list, with its symbol.
fn tag<T>(symbols: &[Symbol], lists: Vec<Vec<T>>) -> Vec<(Symbol, Vec<T>)> {
    lists
        .into_iter()
        .zip(symbols)
        .filter(|(bars, _)| !bars.is_empty())
        .map(|(bars, symbol)| (symbol.clone(), bars))
        .collect()
}

/// Reads minute-bar files (or directories of bar files) and daily files; `forced` names
/// the symbol of every one-symbol file (and keeps only that symbol of multi-symbol files)
/// instead of the file-name prefix. A file given by `--daily` is daily; any other file is
/// what its name (`_1min`, `_1day`) or, failing that, its first row says.
pub fn load_files(
    bars: &[PathBuf],
    daily: &[PathBuf],
    forced: Option<&Symbol>,
) -> Result<ReplayInput, BarFileError> {
    let mut input = ReplayInput::default();
    let mut minute_parts: BTreeMap<Symbol, Vec<(String, Vec<Bar>)>> = BTreeMap::new();
    let mut take = |input: &mut ReplayInput, read: FileBars| {
        for (symbol, bars) in read.minute {
            minute_parts
                .entry(symbol)
                .or_default()
                .push((read.summary.file.clone(), bars));
        }
        for (symbol, bars) in read.daily {
            input.daily.entry(symbol.clone()).or_default().extend(bars);
            input.daily_files.push((read.summary.file.clone(), symbol));
        }
        input.files.push(read.summary);
    };
    for path in bars {
        if path.is_dir() {
            let found = discover(path)?;
            if found.is_empty() {
                return Err(BarFileError::EmptyDirectory(crate::text::printable(
                    &path.display().to_string(),
                )));
            }
            let mut loaded = 0;
            for (file, kind) in &found {
                match read_file(file, *kind, forced) {
                    Ok(read) => {
                        loaded += 1;
                        take(&mut input, read);
                    }
                    Err(e) => input.skipped.push(e),
                }
            }
            if loaded == 0 {
                return Err(BarFileError::NothingLoaded {
                    dir: crate::text::printable(&path.display().to_string()),
                    files: found.len(),
                });
            }
        } else {
            take(&mut input, read_file(path, None, forced)?);
        }
    }
    for path in daily {
        take(
            &mut input,
            read_file(path, Some(BarFileKind::Daily), forced)?,
        );
    }
    for (symbol, files) in minute_parts {
        let bars = join_minute_files(&symbol, files)?;
        input.minute.insert(symbol, bars);
    }
    for bars in input.daily.values_mut() {
        // Several daily files of a symbol: in date order (the core merges duplicates).
        bars.sort_by_key(|b| b.date);
    }
    Ok(input)
}

/// Joins the minute bars of several files of one symbol into one ascending series;
/// two files holding the same minute are an error naming both.
pub fn join_minute_files(
    symbol: &Symbol,
    mut parts: Vec<(String, Vec<Bar>)>,
) -> Result<Vec<Bar>, BarFileError> {
    if parts.len() == 1 {
        // One file's rows are already checked to be strictly ascending.
        return Ok(parts.pop().map(|(_, bars)| bars).unwrap_or_default());
    }
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
