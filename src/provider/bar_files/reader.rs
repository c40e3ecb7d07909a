//! One bar file as an iterator of checked rows.
//!
//! Opening reads the header (after a byte-order mark, blank lines and `#` comments),
//! detects the layout and reads the first row, which fixes the timestamp's shape and,
//! when the name did not say, whether the file holds minute or daily bars: a date
//! without a time, or a first bar at midnight, is a daily file (stock minute bars start
//! at 04:00 New York at the earliest). Gzip is recognised by its magic bytes.
//!
//! Each row is checked: prices finite and positive, high ≥ low, open and close within
//! [low, high], volume ≥ 0 (an empty volume or no volume column is 0, an index), and
//! times strictly ascending per symbol. The first bad row ends the file with an error
//! naming file:line and column; a caller that streams has seen the rows before it.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::layout::{Layout, detect_delimiter};
use super::names::{BarFileKind, bar_file_kind, symbol_from_file_name};
use super::timestamp::{NewYorkClock, Stamp, TimeKind, parse_any, parse_as};
use super::{BarFileError, FileSummary};
use crate::domain::{Bar, DailyBar, Symbol};

/// How rows get their symbol.
#[derive(Clone, Debug)]
pub enum SymbolRule {
    /// From the file name (`Err` when it names none: then only a file with a `ticker` or
    /// `symbol` column can be read).
    FromName(Result<Symbol, BarFileError>),
    /// `--symbol`: every row of a one-symbol file; in a multi-symbol file, only that
    /// symbol's rows are kept.
    Forced(Symbol),
}

impl SymbolRule {
    /// The file name's symbol, or the forced one.
    pub fn for_path(path: &Path, forced: Option<&Symbol>) -> SymbolRule {
        match forced {
            Some(s) => SymbolRule::Forced(s.clone()),
            None => SymbolRule::FromName(symbol_from_file_name(path)),
        }
    }
}

/// Bytes of each buffer of an open file (read, gzip, csv) unless told otherwise.
pub const DEFAULT_BUFFER: usize = 64 * 1024;
/// The smallest buffer a file is given.
pub const MIN_BUFFER: usize = 4 * 1024;

/// How [`BarFile::open_with`] opens a file.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Bytes of each of the file's buffers (at least [`MIN_BUFFER`]).
    pub buffer: usize,
    /// Counts the bytes read from the file (as stored: compressed for gzip), for a
    /// progress line.
    pub meter: Option<Arc<AtomicU64>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            buffer: DEFAULT_BUFFER,
            meter: None,
        }
    }
}

/// A file that adds the bytes it reads to a shared meter.
struct Metered {
    inner: std::fs::File,
    meter: Arc<AtomicU64>,
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A checked bar of a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BarRecord {
    Minute(Bar),
    Daily(DailyBar),
}

/// One checked row: its line, its symbol (an index into [`BarFile::symbols`]) and bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarRow {
    pub line: usize,
    pub symbol: usize,
    pub bar: BarRecord,
}

/// The previous row of one symbol, for the order check.
#[derive(Clone, Debug, Default)]
struct Previous {
    /// Unix nanoseconds of a minute bar's start, or days since 0001-01-01 of a daily bar.
    key: Option<i64>,
    instant: Option<DateTime<Utc>>,
    line: usize,
    text: Vec<u8>,
}

/// An open bar file.
pub struct BarFile {
    file: String,
    layout: Layout,
    reader: csv::Reader<Box<dyn Read + Send>>,
    /// The row being read (always `Some` between calls; taken while it is parsed).
    record: Option<csv::ByteRecord>,
    /// Where the newlines of the rows are, for exact line numbers (the csv reader's own
    /// count skips blank lines).
    lines: Arc<Mutex<LineIndex>>,
    kind: Option<BarFileKind>,
    time_kind: Option<TimeKind>,
    rule: SymbolRule,
    symbols: Vec<Symbol>,
    ids: HashMap<Vec<u8>, usize>,
    /// The last symbol column text and its id (files are grouped by symbol, so most rows
    /// repeat it).
    last_symbol: Option<(Vec<u8>, usize)>,
    previous: Vec<Previous>,
    clock: NewYorkClock,
    pending: Option<BarRow>,
    /// The line of the row being read.
    line: usize,
    rows: usize,
    done: bool,
}

fn read_error(file: &str, e: impl std::fmt::Display) -> BarFileError {
    BarFileError::Read {
        file: file.to_string(),
        message: e.to_string(),
    }
}

impl BarFile {
    /// Opens a file (plain or gzip). A missing path says "no such file".
    /// `kind` defaults to what the name says, else the content decides.
    pub fn open(
        path: &Path,
        kind: Option<BarFileKind>,
        rule: SymbolRule,
    ) -> Result<BarFile, BarFileError> {
        BarFile::open_with(path, kind, rule, &OpenOptions::default())
    }

    /// [`BarFile::open`] with buffer sizes and a byte meter (streams of many files).
    pub fn open_with(
        path: &Path,
        kind: Option<BarFileKind>,
        rule: SymbolRule,
        options: &OpenOptions,
    ) -> Result<BarFile, BarFileError> {
        // The name as errors and `--verbose` show it: a file name can hold escapes.
        let file = crate::text::printable(&path.display().to_string());
        let handle = std::fs::File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                BarFileError::NoSuchFile { file: file.clone() }
            } else {
                read_error(&file, e)
            }
        })?;
        let kind = kind.or_else(|| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(bar_file_kind)
        });
        let reader: Box<dyn Read + Send> = match &options.meter {
            Some(meter) => Box::new(Metered {
                inner: handle,
                meter: meter.clone(),
            }),
            None => Box::new(handle),
        };
        BarFile::from_reader_with(&file, reader, kind, rule, options.buffer)
    }

    /// Reads bars from any reader (plain or gzip); `file` names it in errors.
    pub fn from_reader(
        file: &str,
        reader: Box<dyn Read + Send>,
        kind: Option<BarFileKind>,
        rule: SymbolRule,
    ) -> Result<BarFile, BarFileError> {
        BarFile::from_reader_with(file, reader, kind, rule, DEFAULT_BUFFER)
    }

    /// [`BarFile::from_reader`] with `buffer` bytes for each of its buffers (read, gzip,
    /// csv).
    fn from_reader_with(
        file: &str,
        reader: Box<dyn Read + Send>,
        kind: Option<BarFileKind>,
        rule: SymbolRule,
        buffer: usize,
    ) -> Result<BarFile, BarFileError> {
        let buffer = buffer.max(MIN_BUFFER);
        let mut buffered = BufReader::with_capacity(buffer, reader);
        let gzip = buffered
            .fill_buf()
            .map_err(|e| read_error(file, e))?
            .starts_with(&[0x1f, 0x8b]);
        let mut buffered: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                buffer,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        let (header_line, header) = read_header(file, &mut buffered)?;
        let delimiter = detect_delimiter(&header);
        let fields = split_header(file, &header, delimiter)?;
        let layout = Layout::from_header(file, header_line, delimiter, &fields)?;
        let mut symbols = Vec::new();
        match (&rule, layout.symbol) {
            (SymbolRule::Forced(s), _) => symbols.push(s.clone()),
            (SymbolRule::FromName(Ok(s)), None) => symbols.push(s.clone()),
            (SymbolRule::FromName(Err(e)), None) => return Err(e.clone()),
            (SymbolRule::FromName(_), Some(_)) => {}
        }
        let previous = vec![Previous::default(); symbols.len()];
        let lines = Arc::new(Mutex::new(LineIndex {
            header_line,
            ..LineIndex::default()
        }));
        let counting = Counting {
            inner: buffered,
            index: lines.clone(),
        };
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            // Fields are trimmed as they are read (`field`): the csv reader's own trim
            // builds a new record, three allocations a row.
            .buffer_capacity(buffer)
            .from_reader(Box::new(counting) as Box<dyn Read + Send>);
        let mut bar_file = BarFile {
            file: file.to_string(),
            layout,
            reader,
            record: Some(csv::ByteRecord::new()),
            lines,
            kind,
            time_kind: None,
            rule,
            symbols,
            ids: HashMap::new(),
            last_symbol: None,
            previous,
            clock: NewYorkClock::default(),
            pending: None,
            line: header_line,
            rows: 0,
            done: false,
        };
        match bar_file.read_row() {
            Some(Ok(row)) => bar_file.pending = Some(row),
            Some(Err(e)) => return Err(e),
            None => {
                return Err(BarFileError::NoRows {
                    file: file.to_string(),
                });
            }
        }
        Ok(bar_file)
    }

    pub fn name(&self) -> &str {
        &self.file
    }

    /// Minute or daily: known once the file is open.
    pub fn kind(&self) -> BarFileKind {
        self.kind.unwrap_or(BarFileKind::Minute)
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The symbols met so far (a multi-symbol file adds them as rows arrive).
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// What `--verbose` prints about the file: best read after its last row.
    pub fn summary(&self) -> FileSummary {
        FileSummary {
            file: self.file.clone(),
            kind: self.kind(),
            symbols: self.symbols.clone(),
            delimiter: self.layout.delimiter_name(),
            time_column: self
                .layout
                .names
                .get(self.layout.time)
                .cloned()
                .unwrap_or_default(),
            time_kind: self.time_kind,
            columns: self.layout.columns_used(),
            rows: self.rows,
        }
    }

    fn read_row(&mut self) -> Option<Result<BarRow, BarFileError>> {
        if self.done {
            return None;
        }
        let mut record = self.record.take().unwrap_or_default();
        loop {
            match self.reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(read_error(&self.file, e)));
                }
            }
            if record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            self.line = self.record_line();
            let parsed = self.parse_record(&record);
            self.record = Some(record);
            match parsed {
                Ok(Some(row)) => {
                    self.rows += 1;
                    return Some(Ok(row));
                }
                Ok(None) => record = self.record.take().unwrap_or_default(),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// The line a row ends on (the csv reader's record start may be a blank line before
    /// it, so the newline that ends the row is what counts).
    fn record_line(&self) -> usize {
        let byte = self.reader.position().byte().saturating_sub(1);
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .line_at(byte)
    }

    fn field_error(&self, index: usize, name: &'static str, problem: String) -> BarFileError {
        BarFileError::Field {
            file: self.file.clone(),
            line: self.line,
            column: index + 1,
            name,
            problem,
        }
    }

    fn field<'r>(
        &self,
        record: &'r csv::ByteRecord,
        index: usize,
        name: &'static str,
    ) -> Result<&'r [u8], BarFileError> {
        record.get(index).map(<[u8]>::trim_ascii).ok_or_else(|| {
            self.field_error(
                index,
                name,
                format!("missing (the row has {} fields)", record.len()),
            )
        })
    }

    fn time_name(&self) -> &'static str {
        match self.kind {
            Some(BarFileKind::Daily) => "date",
            _ => "timestamp",
        }
    }

    /// The symbol id of the row; `None` when `--symbol` leaves the row out.
    fn symbol_of_row(&mut self, record: &csv::ByteRecord) -> Result<Option<usize>, BarFileError> {
        let Some(column) = self.layout.symbol else {
            return Ok(Some(0));
        };
        let text = self.field(record, column, "symbol")?;
        if let Some((last, id)) = &self.last_symbol
            && last.as_slice() == text
        {
            return Ok(Some(*id));
        }
        let text = text.to_vec();
        let id = match self.ids.get(&text) {
            Some(&id) => Some(id),
            None => {
                let parsed = std::str::from_utf8(&text)
                    .map_err(|_| "is not text".to_string())
                    .and_then(|t| Symbol::parse(t).map_err(|e| e.to_string()))
                    .map_err(|problem| self.field_error(column, "symbol", problem))?;
                let id = match &self.rule {
                    SymbolRule::Forced(s) => (parsed == *s).then_some(0),
                    SymbolRule::FromName(_) => {
                        self.symbols.push(parsed);
                        self.previous.push(Previous::default());
                        Some(self.symbols.len() - 1)
                    }
                };
                if let Some(id) = id {
                    self.ids.insert(text.clone(), id);
                }
                id
            }
        };
        if let Some(id) = id {
            self.last_symbol = Some((text, id));
        }
        Ok(id)
    }

    fn parse_record(&mut self, record: &csv::ByteRecord) -> Result<Option<BarRow>, BarFileError> {
        let Some(symbol) = self.symbol_of_row(record)? else {
            return Ok(None);
        };
        let time_index = self.layout.time;
        let text = self.field(record, time_index, self.time_name())?;
        let stamp = match self.time_kind {
            Some(kind) => parse_as(kind, text),
            None => parse_any(text).map(|(stamp, kind)| {
                self.time_kind = Some(kind);
                stamp
            }),
        };
        let Some(stamp) = stamp else {
            let problem = format!(
                "{:?} is not a timestamp (expected e.g. 2024-03-08 09:30:00 New York time, \
                 RFC 3339 with an offset, epoch seconds/ms/ns, RFC 2822, or a date for \
                 daily bars)",
                printable(text)
            );
            return Err(self.field_error(time_index, self.time_name(), problem));
        };
        let kind = *self.kind.get_or_insert_with(|| kind_of_first(stamp));
        let previous = &self.previous[symbol];
        let (key, time) = match kind {
            BarFileKind::Daily => {
                let date = daily_date(stamp).ok_or_else(|| {
                    let problem = format!(
                        "{:?} is not a date (expected YYYY-MM-DD, or a time at midnight)",
                        printable(text)
                    );
                    self.field_error(time_index, "date", problem)
                })?;
                (i64::from(date.num_days_from_ce()), Time::Day(date))
            }
            BarFileKind::Minute => {
                let start = match stamp {
                    Stamp::Instant(s, n) => DateTime::from_timestamp(s, n)
                        .ok_or_else(|| format!("{:?} is out of range", printable(text))),
                    Stamp::Naive(day, seconds, nanos) => {
                        self.clock.instant(day, seconds, nanos, previous.instant)
                    }
                    Stamp::Date(_) => Err(format!(
                        "{:?} is a date without a time: minute bars need each bar's start \
                         (name a daily file SYMBOL_1day….csv)",
                        printable(text)
                    )),
                }
                .map_err(|problem| self.field_error(time_index, "timestamp", problem))?;
                let key = start.timestamp_nanos_opt().unwrap_or(i64::MAX);
                (key, Time::Minute(start))
            }
        };
        if let Some(previous_key) = previous.key
            && key <= previous_key
        {
            return Err(BarFileError::NotAscending {
                file: self.file.clone(),
                line: self.line,
                name: self.time_name(),
                this: printable(text),
                previous: printable(&previous.text),
                previous_line: previous.line,
            });
        }
        let [open, high, low, close] = self.ohlc(record)?;
        let volume = self.volume(record)?;
        let line = self.line;
        let previous = &mut self.previous[symbol];
        previous.key = Some(key);
        previous.line = line;
        previous.text.clear();
        previous.text.extend_from_slice(text);
        let bar = match time {
            Time::Minute(start) => {
                previous.instant = Some(start);
                BarRecord::Minute(Bar {
                    start,
                    open,
                    high,
                    low,
                    close,
                    volume,
                })
            }
            Time::Day(date) => BarRecord::Daily(DailyBar {
                date,
                open,
                high,
                low,
                close,
                volume,
            }),
        };
        Ok(Some(BarRow { line, symbol, bar }))
    }

    fn price(
        &self,
        record: &csv::ByteRecord,
        index: usize,
        name: &'static str,
    ) -> Result<f64, BarFileError> {
        let text = self.field(record, index, name)?;
        match number(text) {
            Some(v) if v.is_finite() && v > 0.0 => Ok(v),
            Some(_) => Err(self.field_error(
                index,
                name,
                format!("{:?} is not a positive price", printable(text)),
            )),
            None => Err(self.field_error(
                index,
                name,
                format!("{:?} is not a number", printable(text)),
            )),
        }
    }

    fn volume(&self, record: &csv::ByteRecord) -> Result<f64, BarFileError> {
        let Some(index) = self.layout.volume else {
            return Ok(0.0);
        };
        let text = self.field(record, index, "volume")?;
        if text.is_empty() {
            return Ok(0.0);
        }
        match number(text) {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(self.field_error(
                index,
                "volume",
                format!("{:?} is not a volume (a number ≥ 0)", printable(text)),
            )),
        }
    }

    /// open, high, low, close checked for consistency.
    fn ohlc(&self, record: &csv::ByteRecord) -> Result<[f64; 4], BarFileError> {
        let l = &self.layout;
        let open = self.price(record, l.open, "open")?;
        let high = self.price(record, l.high, "high")?;
        let low = self.price(record, l.low, "low")?;
        let close = self.price(record, l.close, "close")?;
        if high < low {
            return Err(self.field_error(
                l.high,
                "high",
                format!("high {high} is below low {low}"),
            ));
        }
        for (value, index, name) in [(open, l.open, "open"), (close, l.close, "close")] {
            if value > high || value < low {
                return Err(self.field_error(
                    index,
                    name,
                    format!("{name} {value} is outside the bar's low {low} .. high {high}"),
                ));
            }
        }
        Ok([open, high, low, close])
    }
}

// Streaming consumers may read a file on a worker thread.
const _: () = {
    const fn is_send<T: Send>() {}
    is_send::<BarFile>();
};

impl Iterator for BarFile {
    type Item = Result<BarRow, BarFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(row) = self.pending.take() {
            return Some(Ok(row));
        }
        self.read_row()
    }
}

enum Time {
    Minute(DateTime<Utc>),
    Day(NaiveDate),
}

/// A file whose first row is a date, or a time at midnight, holds daily bars.
fn kind_of_first(stamp: Stamp) -> BarFileKind {
    if daily_date(stamp).is_some() {
        BarFileKind::Daily
    } else {
        BarFileKind::Minute
    }
}

/// The session date of a daily bar's stamp: a date, a wall time at midnight, or an
/// instant at midnight UTC or New York (epoch-stamped daily files use either).
fn daily_date(stamp: Stamp) -> Option<NaiveDate> {
    match stamp {
        Stamp::Date(d) => Some(d),
        Stamp::Naive(d, 0, 0) => Some(d),
        Stamp::Naive(..) => None,
        Stamp::Instant(s, 0) if s.rem_euclid(86_400) == 0 => {
            DateTime::from_timestamp(s, 0).map(|t| t.date_naive())
        }
        Stamp::Instant(s, n) => {
            let t = DateTime::from_timestamp(s, n)?;
            let ny = t.with_timezone(&chrono_tz::America::New_York);
            (ny.time() == chrono::NaiveTime::MIN).then(|| ny.date_naive())
        }
    }
}

/// A decimal number. Plain decimals (`167.6500`, `4707`) of at most 19 significant
/// digits and 22 decimals are read by hand, exactly as `str::parse` reads them: the digits
/// as an integer below 2^53 divided by a power of ten, both exact in f64, is one correctly
/// rounded division (Clinger's fast path, which the standard parser also takes for them).
/// Anything else (exponents, signs, more digits) goes through `str::parse`.
pub(crate) fn number(text: &[u8]) -> Option<f64> {
    fast_decimal(text).or_else(|| std::str::from_utf8(text).ok()?.parse().ok())
}

/// Powers of ten exactly representable in f64.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `digits[.digits]` with an integer part, mantissa below 2^53, at most 22 decimals.
fn fast_decimal(text: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut decimals: Option<usize> = None;
    for &c in text {
        match c {
            b'0'..=b'9' => {
                if digits == 19 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(d) = &mut decimals {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() && digits > 0 => decimals = Some(0),
            _ => return None,
        }
    }
    let decimals = decimals.unwrap_or(0);
    if digits == 0 || mantissa >= 1 << 53 {
        return None;
    }
    let power = EXACT_POWERS_OF_TEN.get(decimals)?;
    Some(mantissa as f64 / power)
}

fn printable(text: &[u8]) -> String {
    crate::text::printable(&String::from_utf8_lossy(text))
}

/// The header line (1-based line number, bytes without a byte-order mark or line end),
/// skipping blank lines and `#` comments.
fn read_header(file: &str, reader: &mut dyn BufRead) -> Result<(usize, Vec<u8>), BarFileError> {
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| read_error(file, e))?;
        if n == 0 {
            return Err(BarFileError::Empty {
                file: file.to_string(),
            });
        }
        number += 1;
        let mut text: &[u8] = &line;
        if number == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        let text = text.trim_ascii();
        if text.is_empty() || text.starts_with(b"#") {
            continue;
        }
        return Ok((number, text.to_vec()));
    }
}

/// The header's fields, unquoted.
fn split_header(file: &str, header: &[u8], delimiter: u8) -> Result<Vec<String>, BarFileError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(header);
    let mut record = csv::ByteRecord::new();
    reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error(file, e))?;
    Ok(record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect())
}

/// The newlines read so far that no row has passed yet: enough to tell the line of each
/// row as rows arrive in order, in memory bounded by the csv reader's read-ahead.
#[derive(Debug, Default)]
struct LineIndex {
    header_line: usize,
    /// Byte offsets (from the first byte after the header) of newlines not yet passed.
    newlines: VecDeque<u64>,
    /// Newlines already passed.
    passed: usize,
    /// Bytes read so far.
    read: u64,
}

impl LineIndex {
    /// The 1-based line of the byte at `offset` (offsets asked in ascending order).
    fn line_at(&mut self, offset: u64) -> usize {
        while self.newlines.front().is_some_and(|&n| n < offset) {
            self.newlines.pop_front();
            self.passed += 1;
        }
        self.header_line + self.passed + 1
    }
}

/// A reader that notes where its newlines are.
struct Counting {
    inner: Box<dyn BufRead + Send>,
    index: Arc<Mutex<LineIndex>>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let base = index.read;
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            index.newlines.push_back(base + i as u64);
        }
        index.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-read decimals against the standard parser, bit for bit.
    #[test]
    fn prices_read_by_hand_equal_the_standard_parser() {
        let mut texts: Vec<String> = [
            "167.6500",
            "167.65",
            "0.0001",
            "4707",
            "3524.405",
            "5.",
            "0",
            "0.1",
            "0.3",
            "9007199254740991",
            "9007199254740993",
            "123456789.123456789",
            "1.0000000000000000000001",
            "0.0000000000000000000001",
            "1e3",
            ".5",
            "-1",
            "+2.5",
            "1.2.3",
            "",
            ".",
            "12a",
            "99999999999999999999",
            "1_000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Prices as vendors write them: cents to 1e-6, up to 10^7, and every 4-decimal
        // price of a pseudo-random walk.
        let mut state: u64 = 7;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let whole = (state >> 40) % 10_000_000;
            let decimals = (state >> 20) % 7;
            let fraction = (state >> 8) % 10u64.pow(decimals as u32);
            texts.push(if decimals == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{fraction:0width$}", width = decimals as usize)
            });
        }
        for text in &texts {
            let standard: Option<f64> = text.parse().ok();
            let ours = number(text.as_bytes());
            assert_eq!(
                ours.map(f64::to_bits),
                standard.map(f64::to_bits),
                "{text:?}"
            );
        }
    }

    #[test]
    fn fields_are_trimmed_and_blank_rows_skipped_without_the_csv_trim() {
        let text = "timestamp , open,high,low,close,volume\n\n  \n2024-03-08 09:30:00 , 10.5 ,11, 10 ,10.75, 100 \n\t\n2024-03-08 09:31:00,10.75,11,10.5,11,\n";
        let file = BarFile::from_reader(
            "t.csv",
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Some(BarFileKind::Minute),
            SymbolRule::Forced(Symbol::parse("SPY").unwrap()),
        )
        .unwrap();
        let rows: Vec<BarRow> = file.map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[1].line, 6);
        let BarRecord::Minute(bar) = rows[0].bar else {
            panic!("minute bars");
        };
        assert_eq!(
            (bar.open, bar.low, bar.close, bar.volume),
            (10.5, 10.0, 10.75, 100.0)
        );
    }
}
