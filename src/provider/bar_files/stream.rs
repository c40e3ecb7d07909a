//! Minute bars of many files in the detector engine's feeding order, read while they are
//! fed (SPEC 18 speed, issue 25 item 2c): memory holds one row per file, not the input.
//!
//! The feeding order is the one `coach replay` always had: by bar start, a volume proxy
//! before the index that reads it within a minute, then by symbol. A one-symbol file is
//! already in time order (the reader checks it), so the order is a k-way merge of the
//! files' rows, and several files of one symbol (a year per file) merge the same way; two
//! files holding the same minute of a symbol are an error naming both, when the merge
//! meets it. A multi-symbol file (a `ticker` column: flat files, one day of the whole
//! market) is read whole when it is opened and sorted into that order, so its size, not
//! the input's, bounds the memory. Daily files are read whole (they prime the engine).
//!
//! A file named on the command line that turns out bad after its first row ends the
//! stream with its error; a file found in a directory is then cut short and named in
//! [`MinuteStream::cut_short`] (its earlier rows were fed), the others go on.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::BarFileError;
use super::load::FileSummary;
use super::names::{BarFileKind, discover};
use super::reader::{BarFile, BarRecord, DEFAULT_BUFFER, OpenOptions, SymbolRule};
use crate::domain::{Bar, DailyBar, Symbol};

/// Buffer bytes shared by all files of a stream: each of a file's three buffers gets
/// a third of this divided by the number of files, at most 64 KiB and at least 4 KiB
/// (8,000 one-symbol files: 4 KiB each, about 100 MB).
const BUFFER_BUDGET: usize = 48 * 1024 * 1024;

/// What a run reads before its first bar: the daily bars (whole), the minute files
/// opened, and the files that could not be.
pub struct OpenedInput {
    pub daily: BTreeMap<Symbol, Vec<DailyBar>>,
    /// (file, symbol) of each daily file, for messages.
    pub daily_files: Vec<(String, Symbol)>,
    /// The files of a directory that could not be opened, with why (none of their rows
    /// is fed).
    pub skipped: Vec<BarFileError>,
    /// The minute files, to be fed with [`MinuteFiles::feed`].
    pub minute: MinuteFiles,
}

/// Where a file's minute rows come from.
enum Source {
    /// A one-symbol file read as it is fed.
    Streamed(Box<BarFile>),
    /// A multi-symbol file read whole: (the file's own symbol index, bar), in file order.
    Loaded {
        symbols: Vec<Symbol>,
        rows: Vec<(usize, Bar)>,
    },
}

struct MinuteFile {
    name: String,
    /// Found in a directory (cut short, not fatal, when a later row is bad).
    from_directory: bool,
    source: Source,
    /// Its place among all files read (daily ones too), for `--verbose`.
    order: usize,
}

/// The minute files of a run, opened (each has read its first row) but not yet fed.
pub struct MinuteFiles {
    files: Vec<MinuteFile>,
    /// What each file held, by reading order; streamed files fill theirs when exhausted.
    summaries: Vec<Option<FileSummary>>,
    meter: Arc<AtomicU64>,
    /// Bytes of all bar files on disk (as stored), for the progress line.
    input_bytes: u64,
}

/// Opens the minute files and reads the daily ones of `bars` (files and directories) and
/// `daily` (daily files), as [`super::load_files`] reads them: a file given by `--daily`
/// is daily, any other is what its name or first row says; `forced` names the symbol of
/// every one-symbol file (and keeps only that symbol of multi-symbol files).
pub fn open_files(
    bars: &[PathBuf],
    daily: &[PathBuf],
    forced: Option<&Symbol>,
) -> Result<OpenedInput, BarFileError> {
    // Every file to open, with its kind as far as known and whether a directory held it.
    let mut paths: Vec<(PathBuf, Option<BarFileKind>, bool)> = Vec::new();
    let mut directories: Vec<(PathBuf, usize, usize)> = Vec::new();
    for path in bars {
        if path.is_dir() {
            let found = discover(path)?;
            if found.is_empty() {
                return Err(BarFileError::EmptyDirectory(crate::text::printable(
                    &path.display().to_string(),
                )));
            }
            directories.push((path.clone(), paths.len(), found.len()));
            paths.extend(found.into_iter().map(|(file, kind)| (file, kind, true)));
        } else {
            paths.push((path.clone(), None, false));
        }
    }
    paths.extend(
        daily
            .iter()
            .map(|p| (p.clone(), Some(BarFileKind::Daily), false)),
    );
    raise_open_file_limit(paths.len());
    let options = OpenOptions {
        buffer: (BUFFER_BUDGET / 3 / paths.len().max(1)).min(DEFAULT_BUFFER),
        meter: Some(Arc::new(AtomicU64::new(0))),
    };
    let mut input = OpenedInput {
        daily: BTreeMap::new(),
        daily_files: Vec::new(),
        skipped: Vec::new(),
        minute: MinuteFiles {
            files: Vec::new(),
            summaries: Vec::new(),
            meter: options.meter.clone().unwrap_or_default(),
            input_bytes: 0,
        },
    };
    let mut opened = vec![false; paths.len()];
    for (i, (path, kind, from_directory)) in paths.iter().enumerate() {
        match open_one(path, *kind, forced, &options, *from_directory, &mut input) {
            Ok(()) => opened[i] = true,
            Err(e) if *from_directory => input.skipped.push(e),
            Err(e) => return Err(e),
        }
        input.minute.input_bytes += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    for (dir, first, count) in directories {
        if !opened[first..first + count].contains(&true) {
            return Err(BarFileError::NothingLoaded {
                dir: crate::text::printable(&dir.display().to_string()),
                files: count,
            });
        }
    }
    for bars in input.daily.values_mut() {
        // Several daily files of a symbol: in date order (the core merges duplicates).
        bars.sort_by_key(|b| b.date);
    }
    Ok(input)
}

/// Opens one file: a daily or multi-symbol one is read whole, a one-symbol minute file
/// is kept open to be streamed.
fn open_one(
    path: &Path,
    kind: Option<BarFileKind>,
    forced: Option<&Symbol>,
    options: &OpenOptions,
    from_directory: bool,
    input: &mut OpenedInput,
) -> Result<(), BarFileError> {
    let mut file = BarFile::open_with(path, kind, SymbolRule::for_path(path, forced), options)?;
    let order = input.minute.summaries.len();
    let one_symbol = file.layout().symbol.is_none() || forced.is_some();
    if file.kind() == BarFileKind::Minute && one_symbol {
        input.minute.summaries.push(None);
        input.minute.files.push(MinuteFile {
            name: file.name().to_string(),
            from_directory,
            source: Source::Streamed(Box::new(file)),
            order,
        });
        return Ok(());
    }
    let mut minute: Vec<(usize, Bar)> = Vec::new();
    let mut daily: Vec<Vec<DailyBar>> = Vec::new();
    for row in file.by_ref() {
        let row = row?;
        match row.bar {
            BarRecord::Minute(bar) => minute.push((row.symbol, bar)),
            BarRecord::Daily(bar) => {
                if daily.len() <= row.symbol {
                    daily.resize_with(row.symbol + 1, Vec::new);
                }
                daily[row.symbol].push(bar);
            }
        }
    }
    let name = file.name().to_string();
    for (bars, symbol) in daily.into_iter().zip(file.symbols()) {
        if !bars.is_empty() {
            input.daily.entry(symbol.clone()).or_default().extend(bars);
            input.daily_files.push((name.clone(), symbol.clone()));
        }
    }
    input.minute.summaries.push(Some(file.summary()));
    if !minute.is_empty() {
        input.minute.files.push(MinuteFile {
            name,
            from_directory,
            source: Source::Loaded {
                symbols: file.symbols().to_vec(),
                rows: minute,
            },
            order,
        });
    }
    Ok(())
}

/// Lifts the soft limit of open files to the hard one when a stream needs many files
/// open at once (a directory of thousands of one-symbol files). Best effort: opening
/// then fails with the system's "too many open files" naming the file.
fn raise_open_file_limit(files: usize) {
    if files < 256 {
        return;
    }
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The ordering key of a file's next bar: start (Unix ns), 0 for a volume proxy else 1,
/// the symbol's rank, the file's index (ties between files of one symbol are overlaps).
type Key = (i64, u8, u32, u32);

/// A symbol's index in [`MinuteStream::symbol`] (its rank in symbol order).
pub type SymbolId = u32;

enum Rows {
    Streamed {
        file: Box<BarFile>,
        symbol: SymbolId,
    },
    Loaded(std::vec::IntoIter<(SymbolId, Bar)>),
}

struct Cursor {
    name: String,
    from_directory: bool,
    rows: Rows,
    /// The next bar, already read.
    head: Option<(SymbolId, Bar)>,
    order: usize,
    /// Bars fed from this file.
    fed: u64,
}

impl Cursor {
    fn advance(&mut self) -> Result<(), BarFileError> {
        self.head = match &mut self.rows {
            Rows::Loaded(rows) => rows.next(),
            Rows::Streamed { file, symbol } => match file.next() {
                Some(Ok(row)) => match row.bar {
                    BarRecord::Minute(bar) => Some((*symbol, bar)),
                    // The kind is fixed by the file's first row.
                    BarRecord::Daily(_) => None,
                },
                Some(Err(e)) => {
                    self.head = None;
                    return Err(e);
                }
                None => None,
            },
        };
        Ok(())
    }
}

/// The minute bars of all files in feeding order.
pub struct MinuteStream {
    symbols: Vec<Symbol>,
    cursors: Vec<Cursor>,
    heap: BinaryHeap<Reverse<Key>>,
    proxy: Vec<bool>,
    /// Symbols that had a bar fed.
    fed_symbols: Vec<bool>,
    summaries: Vec<Option<FileSummary>>,
    cut_short: Vec<(BarFileError, u64)>,
    meter: Arc<AtomicU64>,
    input_bytes: u64,
}

fn start_key(bar: &Bar) -> i64 {
    bar.start.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

impl MinuteFiles {
    /// Starts feeding: `is_proxy` says which symbols are volume proxies (fed before the
    /// others of the same minute, as an index reads its proxy's bar of that minute).
    pub fn feed(self, is_proxy: impl Fn(&Symbol) -> bool) -> Result<MinuteStream, BarFileError> {
        let mut symbols: Vec<Symbol> = Vec::new();
        for file in &self.files {
            match &file.source {
                Source::Streamed(f) => symbols.extend(f.symbols().iter().cloned()),
                Source::Loaded { symbols: s, .. } => symbols.extend(s.iter().cloned()),
            }
        }
        symbols.sort();
        symbols.dedup();
        let id = |s: &Symbol| -> SymbolId {
            symbols
                .binary_search(s)
                .map_or(SymbolId::MAX, |i| i as SymbolId)
        };
        let proxy: Vec<bool> = symbols.iter().map(&is_proxy).collect();
        let mut cursors = Vec::with_capacity(self.files.len());
        for file in self.files {
            let rows = match file.source {
                Source::Streamed(f) => {
                    let symbol = f.symbols().first().map_or(SymbolId::MAX, id);
                    Rows::Streamed { file: f, symbol }
                }
                Source::Loaded { symbols: s, rows } => {
                    let ids: Vec<SymbolId> = s.iter().map(id).collect();
                    let mut rows: Vec<(SymbolId, Bar)> = rows
                        .into_iter()
                        .map(|(local, bar)| (ids[local], bar))
                        .collect();
                    rows.sort_by_key(|(s, bar)| {
                        (start_key(bar), u8::from(!proxy[*s as usize]), *s)
                    });
                    Rows::Loaded(rows.into_iter())
                }
            };
            cursors.push(Cursor {
                name: file.name,
                from_directory: file.from_directory,
                rows,
                head: None,
                order: file.order,
                fed: 0,
            });
        }
        let mut stream = MinuteStream {
            fed_symbols: vec![false; symbols.len()],
            symbols,
            heap: BinaryHeap::with_capacity(cursors.len()),
            cursors,
            proxy,
            summaries: self.summaries,
            cut_short: Vec::new(),
            meter: self.meter,
            input_bytes: self.input_bytes,
        };
        for c in 0..stream.cursors.len() {
            // The first rows were read when the files were opened.
            stream.advance(c)?;
        }
        Ok(stream)
    }
}

impl MinuteStream {
    /// The symbol of an id given by [`MinuteStream::next_bar`].
    pub fn symbol(&self, id: SymbolId) -> &Symbol {
        &self.symbols[id as usize]
    }

    /// Every symbol the files hold, fed or not.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Symbols whose bars were fed so far.
    pub fn symbols_fed(&self) -> usize {
        self.fed_symbols.iter().filter(|f| **f).count()
    }

    /// Files of a directory that turned bad after their first row, with the error and
    /// how many of their bars had been fed.
    pub fn cut_short(&self) -> &[(BarFileError, u64)] {
        &self.cut_short
    }

    /// What each file held (in reading order): complete once the stream is exhausted.
    pub fn summaries(&self) -> impl Iterator<Item = &FileSummary> {
        self.summaries.iter().flatten()
    }

    /// (bytes of the input read so far, bytes of the input), as stored on disk.
    pub fn bytes(&self) -> (u64, u64) {
        (self.meter.load(Ordering::Relaxed), self.input_bytes)
    }

    /// Reads cursor `c`'s next bar and puts it in the heap; a bad row of a directory's
    /// file cuts it short, any other is the stream's error.
    fn advance(&mut self, c: usize) -> Result<(), BarFileError> {
        let cursor = &mut self.cursors[c];
        if let Err(e) = cursor.advance() {
            if cursor.from_directory {
                self.cut_short.push((e, cursor.fed));
            } else {
                return Err(e);
            }
        }
        match cursor.head {
            Some((symbol, bar)) => {
                let proxy = self.proxy.get(symbol as usize).copied().unwrap_or(false);
                self.heap.push(Reverse((
                    start_key(&bar),
                    u8::from(!proxy),
                    symbol,
                    c as u32,
                )));
            }
            None => {
                if let Rows::Streamed { file, .. } = &cursor.rows
                    && let Some(slot) = self.summaries.get_mut(cursor.order)
                {
                    *slot = Some(file.summary());
                }
            }
        }
        Ok(())
    }

    /// The next bar in feeding order, `None` after the last one.
    pub fn next_bar(&mut self) -> Option<Result<(SymbolId, Bar), BarFileError>> {
        let Reverse(key) = self.heap.pop()?;
        let c = key.3 as usize;
        let cursor = &mut self.cursors[c];
        let (symbol, bar) = cursor.head.take()?;
        cursor.fed += 1;
        if let Err(e) = self.advance(c) {
            return Some(Err(e));
        }
        if let Some(Reverse(next)) = self.heap.peek()
            && next.0 == key.0
            && next.2 == key.2
        {
            return Some(Err(BarFileError::Overlap {
                symbol: self.symbols[symbol as usize].to_string(),
                at: bar.start.to_rfc3339(),
                first_file: self.cursors[c].name.clone(),
                second_file: self.cursors[next.3 as usize].name.clone(),
            }));
        }
        if let Some(fed) = self.fed_symbols.get_mut(symbol as usize) {
            *fed = true;
        }
        Some(Ok((symbol, bar)))
    }
}
