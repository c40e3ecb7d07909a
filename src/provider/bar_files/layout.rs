//! A bar file's layout, detected once from its header line: the delimiter, and which
//! column holds the time, the prices, the volume and (in multi-symbol files) the symbol.
//!
//! Header names are matched in any case, trimmed, with `<…>` brackets removed (`<OPEN>`):
//! time `timestamp`, `datetime`, `window_start`, `date`, `time` (the first found in that
//! order); `open`/`o`, `high`/`h`, `low`/`l`, `close`/`c`, `volume`/`v`; symbol `ticker`
//! or `symbol`. Other columns are ignored; `Adj Close` never stands for the close.

use super::BarFileError;

/// The time column's accepted names, in order of preference.
pub const TIME_NAMES: [&str; 5] = ["timestamp", "datetime", "window_start", "date", "time"];
const SYMBOL_NAMES: [&str; 2] = ["ticker", "symbol"];

/// Where the fields of a row are (0-based column indices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub delimiter: u8,
    pub time: usize,
    pub open: usize,
    pub high: usize,
    pub low: usize,
    pub close: usize,
    /// Absent for indices: every volume is 0.
    pub volume: Option<usize>,
    /// Multi-symbol files (Massive flat files) name each row's symbol.
    pub symbol: Option<usize>,
    /// The header's names as written (printable), for messages and `--verbose`.
    pub names: Vec<String>,
}

/// The separator of a header line: the most frequent of `,` `;` and tab outside quotes
/// (`,` when none occurs: a one-column header then lacks its columns, said as such).
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &c in header {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// A header name as matched: trimmed, without `<…>`, lower case.
fn normalise(name: &str) -> String {
    let t = name.trim();
    let t = t
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(t);
    t.trim().to_ascii_lowercase()
}

impl Layout {
    /// Finds the columns in a header's fields (already split and unquoted).
    /// `line` is the header's 1-based line number.
    pub fn from_header(
        file: &str,
        line: usize,
        delimiter: u8,
        fields: &[String],
    ) -> Result<Layout, BarFileError> {
        let normal: Vec<String> = fields.iter().map(|f| normalise(f)).collect();
        for (i, name) in normal.iter().enumerate() {
            if !name.is_empty() && normal[..i].contains(name) {
                return Err(BarFileError::DuplicateColumn {
                    file: file.to_string(),
                    line,
                    name: crate::text::printable(name),
                });
            }
        }
        let found = || {
            crate::text::printable(
                &fields
                    .iter()
                    .map(|f| f.trim())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| normal.iter().position(|f| f == n))
        };
        let require = |names: &[&str], column: &'static str| {
            find(names).ok_or_else(|| BarFileError::MissingColumn {
                file: file.to_string(),
                line,
                column,
                found: found(),
            })
        };
        Ok(Layout {
            delimiter,
            time: require(&TIME_NAMES, "timestamp")?,
            open: require(&["open", "o"], "open")?,
            high: require(&["high", "h"], "high")?,
            low: require(&["low", "l"], "low")?,
            close: require(&["close", "c"], "close")?,
            volume: find(&["volume", "v", "vol"]),
            symbol: find(&SYMBOL_NAMES),
            names: fields
                .iter()
                .map(|f| crate::text::printable(f.trim()))
                .collect(),
        })
    }

    /// The columns read, by their names in the file (`timestamp,open,high,low,close`).
    pub fn columns_used(&self) -> String {
        let mut used = vec![self.time];
        if let Some(s) = self.symbol {
            used.insert(0, s);
        }
        used.extend([self.open, self.high, self.low, self.close]);
        used.extend(self.volume);
        used.iter()
            .map(|&i| self.names.get(i).map_or("?", String::as_str))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The delimiter in words, for `--verbose`.
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b';' => "';'",
            b'\t' => "tab",
            _ => "','",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(header: &str) -> Result<Layout, BarFileError> {
        let d = detect_delimiter(header.as_bytes());
        let fields: Vec<String> = header.split(d as char).map(String::from).collect();
        Layout::from_header("f", 1, d, &fields)
    }

    #[test]
    fn delimiters_come_from_the_header() {
        assert_eq!(detect_delimiter(b"timestamp,open,high,low,close"), b',');
        assert_eq!(
            detect_delimiter(b"date;timestamp;close;high;low;open;price;volume"),
            b';'
        );
        assert_eq!(detect_delimiter(b"Date\tOpen\tHigh\tLow\tClose"), b'\t');
        assert_eq!(
            detect_delimiter(b"\"a;b\",c,d"),
            b',',
            "quoted ; do not count"
        );
    }

    #[test]
    fn vendor_headers_map_to_the_same_columns() {
        let yahoo = layout("Date,Open,High,Low,Close,Adj Close,Volume").unwrap();
        assert_eq!(
            (yahoo.time, yahoo.close, yahoo.volume),
            (0, 4, Some(6)),
            "Adj Close is never the close"
        );
        let massive =
            layout("ticker,volume,open,close,high,low,window_start,transactions").unwrap();
        assert_eq!(massive.symbol, Some(0));
        assert_eq!(massive.time, 6);
        assert_eq!(
            massive.columns_used(),
            "ticker,window_start,open,high,low,close,volume"
        );
        let short = layout("t,o,h,l,c,v,datetime").unwrap();
        assert_eq!((short.time, short.open, short.volume), (6, 1, Some(5)));
        let market_data = layout("date;timestamp;close;high;low;open;price;volume").unwrap();
        assert_eq!(market_data.time, 1, "timestamp is preferred to date");
        assert_eq!(market_data.delimiter_name(), "';'");
        let stooq = layout("<DATE>;<OPEN>;<HIGH>;<LOW>;<CLOSE>").unwrap();
        assert_eq!((stooq.time, stooq.volume), (0, None));
    }

    #[test]
    fn missing_and_duplicate_columns_are_named() {
        let err = layout("timestamp,open,high,low").unwrap_err();
        assert!(
            matches!(
                err,
                BarFileError::MissingColumn {
                    column: "close",
                    ..
                }
            ),
            "{err}"
        );
        let err = layout("open,high,low,close").unwrap_err();
        assert!(err.to_string().contains("no \"timestamp\" column"), "{err}");
        let err = layout("Close,open,high,low,close,date").unwrap_err();
        assert!(
            err.to_string().contains("names column \"close\" twice"),
            "{err}"
        );
    }
}
