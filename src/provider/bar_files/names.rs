//! What a bar file's name says: its symbol (the prefix before the first `_`), whether it
//! holds minute or daily bars (`<SYMBOL>_1min*`, `<SYMBOL>_1day*`), and which files of a
//! directory are bar files at all (`.csv`, `.tsv`, `.txt`, each optionally `.gz`).

use std::path::{Path, PathBuf};

use super::BarFileError;
use crate::domain::Symbol;

/// Minute or daily bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarFileKind {
    Minute,
    Daily,
}

impl BarFileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BarFileKind::Minute => "minute",
            BarFileKind::Daily => "daily",
        }
    }
}

/// The symbol of a bar file: its name's prefix before the first `_`
/// (`SPY_1min_2013-10.csv` → SPY).
pub fn symbol_from_file_name(path: &Path) -> Result<Symbol, BarFileError> {
    let file = crate::text::printable(&path.display().to_string());
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

/// The extensions of bar files, lower case, longest first.
const EXTENSIONS: [&str; 6] = [".csv.gz", ".tsv.gz", ".txt.gz", ".csv", ".tsv", ".txt"];

/// Whether a file name looks like a bar file (by its extension, in any case).
pub fn is_bar_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// The kind a file name announces: `<SYMBOL>_1min*` or `<SYMBOL>_1day*` (any case, any
/// bar-file extension); `None` when the name does not say (the content decides).
pub fn bar_file_kind(name: &str) -> Option<BarFileKind> {
    if !is_bar_file_name(name) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let (_, rest) = lower.split_once('_')?;
    if rest.starts_with("1min") {
        Some(BarFileKind::Minute)
    } else if rest.starts_with("1day") {
        Some(BarFileKind::Daily)
    } else {
        None
    }
}

/// The bar files of a directory, sorted by name, with the kind their name announces.
pub fn discover(dir: &Path) -> Result<Vec<(PathBuf, Option<BarFileKind>)>, BarFileError> {
    let read_error = |e: std::io::Error| BarFileError::Read {
        file: crate::text::printable(&dir.display().to_string()),
        message: e.to_string(),
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if is_bar_file_name(name) && path.is_file() {
            let kind = bar_file_kind(name);
            found.push((path, kind));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_kinds_come_from_file_names() {
        let p = Path::new("/data/SPY_1min_2013-10-04_2013-10-11.csv");
        assert_eq!(symbol_from_file_name(p).unwrap().as_str(), "SPY");
        assert_eq!(
            bar_file_kind("SPY_1min_2013-10-04.csv"),
            Some(BarFileKind::Minute)
        );
        assert_eq!(bar_file_kind("spy_1day_lean.CSV"), Some(BarFileKind::Daily));
        assert_eq!(
            bar_file_kind("AAPL_1min_sample.csv.gz"),
            Some(BarFileKind::Minute)
        );
        assert_eq!(bar_file_kind("README.md"), None);
        assert_eq!(bar_file_kind("SPY_5min.csv"), None);
        assert!(is_bar_file_name("2024-03-08.csv.gz"));
        assert!(is_bar_file_name("aapl.us.txt"));
        assert!(!is_bar_file_name("LICENSE"));
        assert!(matches!(
            symbol_from_file_name(Path::new("bars.csv")),
            Err(BarFileError::NoSymbol { .. })
        ));
        assert!(matches!(
            symbol_from_file_name(Path::new("TOO-LONG-SYMBOL-NAME_1min.csv")),
            Err(BarFileError::Symbol { .. })
        ));
    }
}
