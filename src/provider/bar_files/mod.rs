//! The one reader of bar files (SPEC 10.2, 19): minute and daily OHLCV bars as vendors
//! ship them, for replay, the brief, doctor and the dashboard's `--bars`.
//!
//! - [`layout`]: the header (names in any case and their aliases, the delimiter);
//! - [`timestamp`]: the time column, parsed by hand once its shape is known, New York
//!   wall times turned into instants with a per-date offset cache;
//! - [`reader`]: one file (plain or gzip) as an iterator of checked rows, in order per
//!   symbol, so a caller can stream a file without holding it;
//! - [`names`]: what a file name says (symbol, minute or daily) and which files of a
//!   directory are bar files;
//! - [`stream`]: the minute bars of many files merged into feeding order while they are
//!   read, for replay and the backtest (memory flat in the number of bars);
//! - [`load`]: files and directories into bars by symbol, skipping (and naming) the
//!   files of a directory that cannot be read.

pub mod layout;
pub mod load;
pub mod names;
pub mod reader;
pub mod stream;
pub mod timestamp;

pub use load::{FileSummary, ReplayInput, load_files};
pub use names::{BarFileKind, bar_file_kind, discover, symbol_from_file_name};
pub use reader::{BarFile, BarRecord, BarRow, SymbolRule};

/// What is wrong with a bar file, with the file, line (1-based) and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BarFileError {
    #[error("{file}: no such file or directory")]
    NoSuchFile { file: String },
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
        "{file}: cannot tell the symbol from the file name (expected SYMBOL_...csv, or a \
         ticker or symbol column); pass --symbol"
    )]
    NoSymbol { file: String },
    #[error("{file}: {problem}")]
    Symbol { file: String, problem: String },
    #[error(
        "{0}: no <SYMBOL>_1min*.csv or <SYMBOL>_1day*.csv files (nor other .csv, .tsv, .txt \
         or .csv.gz bar files) in this directory"
    )]
    EmptyDirectory(String),
    #[error("{dir}: none of its {files} bar file(s) could be read (each one is named above)")]
    NothingLoaded { dir: String, files: usize },
    #[error("{first_file} and {second_file} both hold the bar of {at} for {symbol}")]
    Overlap {
        symbol: String,
        at: String,
        first_file: String,
        second_file: String,
    },
}
