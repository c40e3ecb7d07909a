//! Readers for options-chain files (pure: text in, [`RawChain`] out).
//!
//! - [`cboe_csv`]: CBOE's "Download CSV" `quotedata.csv`.
//! - [`cboe_json`]: CBOE's delayed-quotes JSON (`/api/global/delayed_quotes/options/…`).
//! - [`massive`]: the Massive (Polygon) options chain snapshot `/v3/snapshot/options/…`.
//!
//! Every error names the file, the line (when the format has meaningful lines) and the
//! field, and says what is wrong.

pub mod cboe_csv;
pub mod cboe_json;
pub mod massive;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::chain::{Chain, Contract, underlying_of_root};
use crate::domain::Symbol;

/// A chain as read from a file; the snapshot time may be absent (then `--at` supplies it).
#[derive(Clone, Debug, PartialEq)]
pub struct RawChain {
    pub symbol: Symbol,
    pub spot: f64,
    pub as_of: Option<DateTime<Utc>>,
    pub contracts: Vec<Contract>,
}

impl RawChain {
    /// The chain at `at` when given, else at the file's own snapshot time.
    pub fn into_chain(
        self,
        at: Option<DateTime<Utc>>,
        file: &str,
    ) -> Result<Chain, ChainReadError> {
        let as_of = at.or(self.as_of).ok_or_else(|| {
            ChainReadError::new(
                file,
                None,
                "snapshot time",
                "the file has no snapshot time; pass --at RFC3339",
            )
        })?;
        Ok(Chain {
            symbol: self.symbol,
            spot: self.spot,
            as_of,
            contracts: self.contracts,
        })
    }
}

/// A chain file that cannot be read, located as precisely as the format allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ChainReadError {
    /// The file (or source) name as given by the caller.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known (JSON syntax and type errors).
    pub column: Option<usize>,
    /// The field: a CSV column name or a JSON path such as `data.options[12].option`.
    pub field: String,
    pub problem: String,
}

impl ChainReadError {
    pub fn new(
        file: &str,
        line: Option<usize>,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ChainReadError {
            file: crate::text::printable(file),
            line,
            column: None,
            field: crate::text::printable(&field.into()),
            problem: crate::text::printable(&problem.into()),
        }
    }
}

impl fmt::Display for ChainReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}: {}", self.field, self.problem)
    }
}

/// The file formats `coach gex` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainFormat {
    CboeCsv,
    CboeJson,
    Massive,
}

impl ChainFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainFormat::CboeCsv => "cboe-csv",
            ChainFormat::CboeJson => "cboe-json",
            ChainFormat::Massive => "massive",
        }
    }

    /// Guesses the format from the content: JSON with `"results"` is a Massive snapshot,
    /// JSON with `"options"` a CBOE delayed-quotes document, anything else CBOE CSV.
    pub fn guess(text: &str) -> ChainFormat {
        let head = text.trim_start_matches('\u{feff}').trim_start();
        if !head.starts_with('{') {
            return ChainFormat::CboeCsv;
        }
        match (text.find("\"results\""), text.find("\"options\"")) {
            (Some(_), None) => ChainFormat::Massive,
            (None, Some(_)) => ChainFormat::CboeJson,
            (Some(r), Some(o)) if r < o => ChainFormat::Massive,
            (Some(_), Some(_)) => ChainFormat::CboeJson,
            (None, None) => ChainFormat::Massive,
        }
    }
}

impl fmt::Display for ChainFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChainFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cboe-csv" => Ok(ChainFormat::CboeCsv),
            "cboe-json" => Ok(ChainFormat::CboeJson),
            "massive" => Ok(ChainFormat::Massive),
            other => Err(format!(
                "chain format {:?} is not cboe-csv, cboe-json or massive",
                crate::text::printable(other)
            )),
        }
    }
}

/// Reads `text` (the content of `file`) in `format`.
pub fn parse_chain(
    format: ChainFormat,
    text: &str,
    file: &str,
) -> Result<RawChain, ChainReadError> {
    match format {
        ChainFormat::CboeCsv => cboe_csv::parse(text, file),
        ChainFormat::CboeJson => cboe_json::parse(text, file),
        ChainFormat::Massive => massive::parse(text, file),
    }
}

/// The underlying symbol most contracts' roots point to (`SPXW` counts for `SPX`).
fn symbol_from_roots(contracts: &[Contract]) -> Option<Symbol> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for c in contracts {
        let u = underlying_of_root(c.root.as_str());
        match counts.iter_mut().find(|(name, _)| *name == u) {
            Some((_, n)) => *n += 1,
            None => counts.push((u, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .and_then(|(name, _)| Symbol::parse(name).ok())
}

/// A JSON decoding error from serde_path_to_error, located by line, column and path.
fn json_error(file: &str, err: serde_path_to_error::Error<serde_json::Error>) -> ChainReadError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let mut e = ChainReadError::new(
        file,
        Some(inner.line()),
        if path == "." {
            "document".to_string()
        } else {
            path
        },
        strip_location(&inner.to_string()),
    );
    e.column = Some(inner.column());
    e
}

/// serde_json appends " at line L column C"; the error already carries them.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_guessed_from_content() {
        assert_eq!(ChainFormat::guess("\nSPDR,Last: 1\n"), ChainFormat::CboeCsv);
        assert_eq!(
            ChainFormat::guess("{\"status\":\"OK\",\"results\":[]}"),
            ChainFormat::Massive
        );
        assert_eq!(
            ChainFormat::guess(" {\"timestamp\":\"x\",\"data\":{\"options\":[]}}"),
            ChainFormat::CboeJson
        );
    }

    #[test]
    fn format_names_parse_and_bad_ones_are_named() {
        assert_eq!(
            "cboe-csv".parse::<ChainFormat>().unwrap(),
            ChainFormat::CboeCsv
        );
        assert_eq!(
            "MASSIVE".parse::<ChainFormat>().unwrap(),
            ChainFormat::Massive
        );
        assert!(
            "xml"
                .parse::<ChainFormat>()
                .unwrap_err()
                .contains("\"xml\"")
        );
    }

    #[test]
    fn errors_print_file_line_column_field_and_problem() {
        let mut e = ChainReadError::new("a.json", Some(3), "results[0].open_interest", "bad");
        assert_eq!(e.to_string(), "a.json:3: results[0].open_interest: bad");
        e.column = Some(7);
        assert_eq!(e.to_string(), "a.json:3:7: results[0].open_interest: bad");
        let e = ChainReadError::new("x.csv", None, "Date", "missing");
        assert_eq!(e.to_string(), "x.csv: Date: missing");
    }

    #[test]
    fn a_missing_snapshot_time_asks_for_at() {
        let raw = RawChain {
            symbol: Symbol::parse("SPY").unwrap(),
            spot: 1.0,
            as_of: None,
            contracts: vec![],
        };
        let e = raw.clone().into_chain(None, "f").unwrap_err();
        assert!(e.problem.contains("--at"));
        let at = DateTime::parse_from_rfc3339("2025-01-02T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(raw.into_chain(Some(at), "f").unwrap().as_of, at);
    }
}
