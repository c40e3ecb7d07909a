//! The bar-file reader on files as vendors ship them (SPEC 19): one small file per vendor
//! style, written here, read through `load_files` (what replay, brief, doctor and the
//! dashboard use), each giving the same two bars of Friday 2024-03-08 (EST, UTC−5).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use coach::domain::{Bar, DailyBar, Symbol};
use coach::provider::bar_files::timestamp::TimeKind;
use coach::provider::bar_files::{BarFileError, BarFileKind, ReplayInput, load_files};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

/// The two minute bars every minute-file style below holds: 09:30 and 09:31 New York.
fn expected_minutes() -> Vec<Bar> {
    vec![
        Bar {
            start: utc("2024-03-08T14:30:00Z"),
            open: 169.15,
            high: 169.6,
            low: 168.95,
            close: 169.33,
            volume: 1_250_000.0,
        },
        Bar {
            start: utc("2024-03-08T14:31:00Z"),
            open: 169.33,
            high: 169.4,
            low: 169.01,
            close: 169.12,
            volume: 410_500.0,
        },
    ]
}

fn expected_days() -> Vec<DailyBar> {
    vec![
        DailyBar {
            date: NaiveDate::from_ymd_opt(2024, 3, 7).unwrap(),
            open: 169.15,
            high: 170.73,
            low: 168.49,
            close: 169.0,
            volume: 71_765_100.0,
        },
        DailyBar {
            date: NaiveDate::from_ymd_opt(2024, 3, 8).unwrap(),
            open: 169.0,
            high: 173.7,
            low: 168.94,
            close: 170.73,
            volume: 76_114_600.0,
        },
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn load(path: &Path, forced: Option<&str>) -> ReplayInput {
    let forced = forced.map(sym);
    load_files(&[path.to_path_buf()], &[], forced.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads one minute file and checks it gives the expected bars for `symbol`.
fn assert_minutes(path: &Path, forced: Option<&str>, symbol: &str) -> ReplayInput {
    let input = load(path, forced);
    assert_eq!(
        input.files[0].kind,
        BarFileKind::Minute,
        "{}",
        input.files[0]
    );
    assert_eq!(
        input.minute.get(&sym(symbol)),
        Some(&expected_minutes()),
        "{}",
        input.files[0]
    );
    input
}

fn assert_days(path: &Path, forced: Option<&str>, symbol: &str) -> ReplayInput {
    let input = load(path, forced);
    assert_eq!(
        input.files[0].kind,
        BarFileKind::Daily,
        "{}",
        input.files[0]
    );
    assert_eq!(input.daily.get(&sym(symbol)), Some(&expected_days()));
    assert!(input.minute.is_empty());
    input
}

#[test]
fn firstratedata_minute_and_daily_files_with_a_timestamp_column() {
    let dir = tempfile::tempdir().unwrap();
    let minute = write(
        dir.path(),
        "AAPL_1min_sample.csv",
        b"timestamp,open,high,low,close,volume\n\
          2024-03-08 09:30:00,169.15,169.6,168.95,169.33,1250000\n\
          2024-03-08 09:31:00,169.33,169.4,169.01,169.12,410500\n",
    );
    let input = assert_minutes(&minute, None, "AAPL");
    assert_eq!(input.files[0].time_kind, Some(TimeKind::IsoNaive));
    // the daily file's date is in the `timestamp` column too: it still is a daily file
    let daily = write(
        dir.path(),
        "AAPL_1day_sample.csv",
        b"timestamp,open,high,low,close,volume\n\
          2024-03-07,169.15,170.73,168.49,169.0,71765100\n\
          2024-03-08,169.0,173.7,168.94,170.73,76114600\n",
    );
    assert_days(&daily, None, "AAPL");
    // a daily file at midnight without `1day` in its name is still told by its content
    let midnight = write(
        dir.path(),
        "AAPL_history.csv",
        b"timestamp,open,high,low,close,volume\n\
          2024-03-07 00:00:00,169.15,170.73,168.49,169.0,71765100\n\
          2024-03-08 00:00:00,169.0,173.7,168.94,170.73,76114600\n",
    );
    assert_days(&midnight, None, "AAPL");
}

#[test]
fn yahoo_daily_files_use_date_and_never_the_adjusted_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "AAPL.csv",
        b"Date,Open,High,Low,Close,Adj Close,Volume\n\
          2024-03-07,169.15,170.73,168.49,169.0,168.2,71765100\n\
          2024-03-08,169.0,173.7,168.94,170.73,169.9,76114600\n",
    );
    let input = assert_days(&path, Some("AAPL"), "AAPL");
    assert_eq!(
        input.files[0].columns, "Date,Open,High,Low,Close,Volume",
        "Adj Close is not read"
    );
    // without --symbol, a name without SYMBOL_ says what to do
    let err = load_files(&[path], &[], None).unwrap_err();
    assert!(err.to_string().contains("pass --symbol"), "{err}");
}

#[test]
fn stooq_semicolon_and_tab_separated_files() {
    let dir = tempfile::tempdir().unwrap();
    let stooq = write(
        dir.path(),
        "aapl_d.csv",
        b"Date;Open;High;Low;Close;Volume\r\n\
          2024-03-07;169.15;170.73;168.49;169.0;71765100\r\n\
          2024-03-08;169.0;173.7;168.94;170.73;76114600\r\n",
    );
    let input = assert_days(&stooq, None, "AAPL");
    assert_eq!(input.files[0].delimiter, "';'");
    let tab = write(
        dir.path(),
        "AAPL_1min.tsv",
        b"datetime\to\th\tl\tc\tv\n\
          2024-03-08T09:30:00-05:00\t169.15\t169.6\t168.95\t169.33\t1250000\n\
          2024-03-08T14:31:00Z\t169.33\t169.4\t169.01\t169.12\t410500\n",
    );
    let input = assert_minutes(&tab, None, "AAPL");
    assert_eq!(input.files[0].delimiter, "tab");
    assert_eq!(input.files[0].time_kind, Some(TimeKind::IsoOffset));
}

#[test]
fn epoch_seconds_milliseconds_and_nanoseconds_are_told_apart_by_magnitude() {
    let dir = tempfile::tempdir().unwrap();
    for (unit, first, second, kind) in [
        ("s", "1709908200", "1709908260", TimeKind::EpochSeconds),
        (
            "ms",
            "1709908200000",
            "1709908260000",
            TimeKind::EpochMillis,
        ),
        (
            "ns",
            "1709908200000000000",
            "1709908260000000000",
            TimeKind::EpochNanos,
        ),
    ] {
        let text = format!(
            "time,open,high,low,close,volume\n\
             {first},169.15,169.6,168.95,169.33,1250000\n\
             {second},169.33,169.4,169.01,169.12,410500\n"
        );
        let path = write(
            dir.path(),
            &format!("AAPL_1min_{unit}.csv"),
            text.as_bytes(),
        );
        let input = assert_minutes(&path, None, "AAPL");
        assert_eq!(input.files[0].time_kind, Some(kind));
    }
}

#[test]
fn rfc_2822_dates_a_byte_order_mark_and_quoted_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "AAPL_1min_rfc.csv",
        "\u{feff}\"Date\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\",\"Note\"\n\
         \"Fri, 08 Mar 2024 14:30:00 GMT\",\"169.15\",169.6,168.95,169.33,1250000,\"open, busy\"\n\
         \n\
         # a comment\n\
         Fri, 08 Mar 2024 09:31:00 -0500,169.33,169.4,169.01,169.12,410500,\n"
            .replace(
                "Fri, 08 Mar 2024 09:31:00 -0500",
                "\"Fri, 08 Mar 2024 09:31:00 -0500\"",
            )
            .as_bytes(),
    );
    let input = assert_minutes(&path, None, "AAPL");
    assert_eq!(input.files[0].time_kind, Some(TimeKind::Rfc2822));
}

/// A Massive flat file (minute aggregates of several tickers, nanoseconds), gzipped.
fn massive_flat_file() -> Vec<u8> {
    gzip(
        b"ticker,volume,open,close,high,low,window_start,transactions\n\
          AAPL,1250000,169.15,169.33,169.6,168.95,1709908200000000000,9120\n\
          AAPL,410500,169.33,169.12,169.4,169.01,1709908260000000000,4001\n\
          MSFT,300100,409.5,410.2,410.5,409.1,1709908200000000000,3000\n\
          MSFT,200200,410.2,409.9,410.3,409.8,1709908260000000000,2100\n",
    )
}

#[test]
fn a_massive_flat_file_is_read_gzipped_and_split_by_ticker() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "2024-03-08.csv.gz", &massive_flat_file());
    let input = assert_minutes(&path, None, "AAPL");
    let msft = &input.minute[&sym("MSFT")];
    assert_eq!(msft.len(), 2);
    assert_eq!(msft[1].close, 409.9);
    assert_eq!(msft[1].start, utc("2024-03-08T14:31:00Z"));
    let file = &input.files[0];
    assert_eq!(file.symbols, vec![sym("AAPL"), sym("MSFT")]);
    assert_eq!(file.time_kind, Some(TimeKind::EpochNanos));
    assert_eq!(file.rows, 4);
    assert_eq!(
        file.columns,
        "ticker,window_start,open,high,low,close,volume"
    );
    // --symbol keeps one ticker of a multi-symbol file
    let only = load(&path, Some("MSFT"));
    assert_eq!(only.minute.keys().collect::<Vec<_>>(), vec![&sym("MSFT")]);
}

#[test]
fn bad_rows_are_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 4] = [
        (
            "NaN",
            "AAPL_1min.csv:3: column 2 (open): \"NaN\" is not a positive price",
        ),
        (
            "-1",
            "AAPL_1min.csv:3: column 2 (open): \"-1\" is not a positive price",
        ),
        (
            "high<low",
            "AAPL_1min.csv:3: column 3 (high): high 169 is below low 170",
        ),
        (
            "descending",
            "AAPL_1min.csv:3: timestamp 2024-03-08 09:29:00 is not after",
        ),
    ];
    for (case, message) in cases {
        let second = match case {
            "NaN" => "2024-03-08 09:31:00,NaN,169.4,169.01,169.12,1",
            "-1" => "2024-03-08 09:31:00,-1,169.4,169.01,169.12,1",
            "high<low" => "2024-03-08 09:31:00,169.5,169,170,169.5,1",
            _ => "2024-03-08 09:29:00,169.33,169.4,169.01,169.12,1",
        };
        let text = format!(
            "timestamp,open,high,low,close,volume\n\
             2024-03-08 09:30:00,169.15,169.6,168.95,169.33,1250000\n{second}\n"
        );
        let path = write(dir.path(), "AAPL_1min.csv", text.as_bytes());
        let err = load_files(&[path], &[], None).unwrap_err().to_string();
        assert!(
            err.ends_with(message) || err.contains(message),
            "{case}: {err}"
        );
    }
}

#[test]
fn a_directory_loads_every_good_file_and_names_the_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "AAPL_1min.csv",
        b"timestamp,open,high,low,close,volume\n\
          2024-03-08 09:30:00,169.15,169.6,168.95,169.33,1250000\n\
          2024-03-08 09:31:00,169.33,169.4,169.01,169.12,410500\n",
    );
    write(
        dir.path(),
        "MSFT_1min.csv",
        b"timestamp,open,high,low,close,volume\n\
          2024-03-08 09:30:00,409.5,410.5,409.1,410.2,300100\n\
          2024-03-08 09:31:00,410.2,410.3,409.8,oops,200200\n",
    );
    write(dir.path(), "README.md", b"not a bar file");
    let input = load(dir.path(), None);
    assert_eq!(input.minute.get(&sym("AAPL")), Some(&expected_minutes()));
    assert!(!input.minute.contains_key(&sym("MSFT")));
    assert_eq!(input.skipped.len(), 1);
    assert!(
        input.skipped[0]
            .to_string()
            .ends_with("MSFT_1min.csv:3: column 5 (close): \"oops\" is not a number"),
        "{}",
        input.skipped[0]
    );
    // nothing loads: the directory is an error
    std::fs::remove_file(dir.path().join("AAPL_1min.csv")).unwrap();
    let err = load_files(&[dir.path().to_path_buf()], &[], None).unwrap_err();
    assert!(
        matches!(err, BarFileError::NothingLoaded { files: 1, .. }),
        "{err}"
    );
}

#[test]
fn a_missing_path_says_no_such_file() {
    let err = load_files(&[PathBuf::from("/nonexistent/AAPL_1min.csv")], &[], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/AAPL_1min.csv: no such file or directory"
    );
    let err = load_files(&[PathBuf::from("/nonexistent/bars.csv")], &[], None).unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");
}

#[test]
fn a_dst_change_weekend_in_naive_new_york_time() {
    // Friday EST (UTC−5), Monday EDT (UTC−4): the same 09:30 is an hour apart in UTC
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "SPY_1min.csv",
        b"timestamp,open,high,low,close\n\
          2024-03-08 15:59,1,1,1,1\n\
          2024-03-10 01:59,1,1,1,1\n\
          2024-03-10 03:00,1,1,1,1\n\
          2024-03-11 09:30,1,1,1,1\n",
    );
    let input = load(&path, None);
    let starts: Vec<_> = input.minute[&sym("SPY")].iter().map(|b| b.start).collect();
    assert_eq!(
        starts,
        [
            utc("2024-03-08T20:59:00Z"),
            utc("2024-03-10T06:59:00Z"),
            utc("2024-03-10T07:00:00Z"),
            utc("2024-03-11T13:30:00Z"),
        ]
    );
}
