//! Vendor bar files through the built binary, as a trader meets them (SPEC 19): the real
//! market-data_2024 folder (`;`, RFC 2822 and epoch milliseconds) in replay, brief and
//! doctor; a Massive-style multi-symbol gzip file giving the same detections as the
//! per-symbol files; a directory with one bad file; a missing path; the official close.

use crate::isolated::{coach, db, err, out};
use crate::support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use coach::provider::replay::read_minute_file;

fn market_data() -> Option<PathBuf> {
    Some(support::shared_dir()?.join("data/bars/market-data_2024"))
}

fn lean_spy_minutes() -> Option<PathBuf> {
    Some(
        support::shared_dir()?
            .join("data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv"),
    )
}

#[test]
fn the_market_data_folder_replays_as_shipped_and_verbose_names_each_layout() {
    let Some(dir) = market_data() else { return };
    let e = db();
    let o = coach(
        &e,
        &["replay", "--bars", dir.to_str().unwrap(), "--verbose"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let stderr = err(&o);
    assert!(
        stderr.contains("replayed 265433 bars of 6 symbol(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "SW_1min_2024.csv: minute bars of SW · delimiter ';' · time column \"timestamp\" \
             (epoch milliseconds) · columns timestamp,open,high,low,close,volume · 51124 rows"
        ),
        "{stderr}"
    );
    assert!(out(&o).lines().count() > 100, "detections on six symbols");
}

#[test]
fn the_brief_and_doctor_read_the_market_data_folder() {
    let Some(dir) = market_data() else { return };
    let e = db();
    let o = coach(
        &e,
        &["brief", "--bars", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let brief: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(brief["market_date"], "2024-12-31");
    let sw = brief["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["symbol"] == "SW")
        .unwrap();
    // SW's 15:59 ET bar of 2024-12-30 (20:59 GMT) closed at 53.62; no daily files here
    assert_eq!(sw["prior_day"]["close"], 53.62);
    assert_eq!(
        sw["sources"]["prior_close"],
        "the close of the last regular-session minute (the 15:59 ET bar of 2024-12-30): no \
         valid daily bar for that date"
    );
    let o = coach(&e, &["doctor", "--bars", dir.to_str().unwrap()]);
    let stdout = out(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", err(&o));
    assert!(
        stdout.contains("SW_1min_2024.csv: 51124 minute bars of SW"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok bars: SW: regular sessions 2024-07-08 … 2024-12-31"),
        "{stdout}"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_multi_symbol_gzip_flat_file_gives_the_same_detections_as_the_per_symbol_files() {
    let (Some(spy), Some(dir)) = (lean_spy_minutes(), market_data()) else {
        return;
    };
    let sw = dir.join("SW_1min_2024.csv");
    // Massive's flat-file layout: ticker first, OHLC in its order, window_start in ns
    let mut flat = String::from("ticker,volume,open,close,high,low,window_start,transactions\n");
    for (ticker, path) in [("SPY", &spy), ("SW", &sw)] {
        for b in read_minute_file(path).unwrap() {
            let ns = b.start.timestamp_nanos_opt().unwrap();
            writeln!(
                flat,
                "{ticker},{},{},{},{},{},{ns},1",
                b.volume, b.open, b.close, b.high, b.low
            )
            .unwrap();
        }
    }
    let e = db();
    let file = e.dir.path().join("2024-minute-aggs.csv.gz");
    std::fs::write(&file, gzip(flat.as_bytes())).unwrap();

    let per_symbol = coach(
        &e,
        &[
            "replay",
            "--bars",
            spy.to_str().unwrap(),
            sw.to_str().unwrap(),
        ],
    );
    assert_eq!(per_symbol.status.code(), Some(0), "{}", err(&per_symbol));
    let flat_run = coach(
        &e,
        &["replay", "--bars", file.to_str().unwrap(), "--verbose"],
    );
    assert_eq!(flat_run.status.code(), Some(0), "{}", err(&flat_run));
    assert!(out(&per_symbol).lines().count() > 50);
    assert_eq!(out(&flat_run), out(&per_symbol));
    assert!(
        err(&flat_run).contains("minute bars of SPY,SW · delimiter ',' · time column \"window_start\" (epoch nanoseconds)"),
        "{}",
        err(&flat_run)
    );
}

#[test]
fn a_directory_with_one_bad_file_replays_the_others_and_names_it() {
    let e = db();
    let dir = e.dir.path().join("bars");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("AAPL_1min.csv"),
        "timestamp,open,high,low,close,volume\n\
         2024-03-08 09:30:00,169.15,169.6,168.95,169.33,1250000\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("MSFT_1min.csv"),
        "timestamp,open,high,low,close,volume\n\
         2024-03-08 09:30:00,409.5,410.5,409.1,410.2,300100\n\
         2024-03-08 09:31:00,410.2,410.3,409.8,NaN,200200\n",
    )
    .unwrap();
    let o = coach(&e, &["replay", "--bars", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let stderr = err(&o);
    // The files are streamed: MSFT's first bar was fed before its bad row was read, so
    // the rest of the file is skipped and the note says how much of it was fed.
    assert!(
        stderr.contains("coach: skipped the rest of a file after 1 bar(s): ")
            && stderr
                .contains("MSFT_1min.csv:3: column 5 (close): \"NaN\" is not a positive price"),
        "{stderr}"
    );
    assert!(
        stderr.contains("replayed 2 bars of 2 symbol(s)"),
        "{stderr}"
    );
    // no file loads (MSFT's first row is bad too): exit 2
    std::fs::remove_file(dir.join("AAPL_1min.csv")).unwrap();
    std::fs::write(
        dir.join("MSFT_1min.csv"),
        "timestamp,open,high,low,close,volume\n\
         2024-03-08 09:31:00,410.2,410.3,409.8,NaN,200200\n",
    )
    .unwrap();
    let o = coach(&e, &["replay", "--bars", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("none of its 1 bar file(s) could be read"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_missing_path_says_no_such_file() {
    let e = db();
    for args in [
        vec!["replay", "--bars", "/nonexistent/AAPL_1min.csv"],
        vec!["brief", "--bars", "/nonexistent/bars.csv"],
    ] {
        let o = coach(&e, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err(&o).contains("no such file"), "{args:?}: {}", err(&o));
    }
}

/// A full regular session of 2024-03-07 walking from 168 to `last` (the 15:59 bar's
/// close), then three pre-market bars and the opening bar of 2024-03-08 (New York time).
fn aapl_minutes(dir: &Path, last: f64) {
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..390 {
        let p = 168.0 + (last - 168.0) * f64::from(i) / 389.0;
        let (h, m) = (9 + (30 + i) / 60, (30 + i) % 60);
        writeln!(
            text,
            "2024-03-07 {h:02}:{m:02}:00,{p},{},{},{p},1000",
            p + 0.05,
            p - 0.05
        )
        .unwrap();
    }
    for m in 0..3 {
        writeln!(text, "2024-03-08 08:0{m}:00,169.5,169.6,169.4,169.5,100").unwrap();
    }
    writeln!(text, "2024-03-08 09:30:00,169.5,169.6,169.4,169.5,100").unwrap();
    std::fs::write(dir.join("AAPL_1min_sample.csv"), text).unwrap();
}

#[test]
fn the_brief_takes_the_official_close_from_the_daily_file_and_says_so() {
    let e = db();
    let dir = e.dir.path().join("aapl");
    std::fs::create_dir(&dir).unwrap();
    aapl_minutes(&dir, 169.0);
    // FirstRateData's daily layout: the date in the `timestamp` column
    std::fs::write(
        dir.join("AAPL_1day_sample.csv"),
        "timestamp,open,high,low,close,volume\n\
         2024-03-06,167.0,168.5,166.9,168.0,50000000\n\
         2024-03-07,168.0,169.1,167.9,169.02,60000000\n",
    )
    .unwrap();
    let brief = |format| {
        coach(
            &e,
            &[
                "brief",
                "--bars",
                dir.to_str().unwrap(),
                "--date",
                "2024-03-08",
                "--format",
                format,
            ],
        )
    };
    let o = brief("json");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let aapl = &json["symbols"][0];
    // the 16:00 auction's 169.02, not the 15:59 bar's 169.00; high and low from minutes
    assert_eq!(aapl["prior_day"]["close"], 169.02);
    assert_eq!(aapl["prior_day"]["high"], 169.05);
    assert_eq!(
        aapl["sources"]["prior_close"],
        "the official close, from the daily bar of 2024-03-07"
    );
    let markdown = out(&brief("markdown"));
    assert!(markdown.contains("PDC 169.02"), "{markdown}");
    assert!(
        markdown.contains("PDC is the official close, from the daily bar of 2024-03-07"),
        "{markdown}"
    );

    // the replay table says where the prior day's close came from
    let o = coach(
        &e,
        &[
            "replay",
            "--bars",
            dir.to_str().unwrap(),
            "--format",
            "table",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains(
            "── AAPL 2024-03-08: prior day 2024-03-07 H 169.05 L 167.95 C 169.02 (minute bars) \
             · close from the daily bar"
        ),
        "{}",
        out(&o)
    );

    // without the daily file: the last regular-session minute, said in words
    std::fs::remove_file(dir.join("AAPL_1day_sample.csv")).unwrap();
    let o = brief("json");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["symbols"][0]["prior_day"]["close"], 169.0);
    assert!(
        json["symbols"][0]["sources"]["prior_close"]
            .as_str()
            .unwrap()
            .starts_with("the close of the last regular-session minute (the 15:59 ET bar"),
        "{json}"
    );
}

/// A file name is outside text like any other: one holding an OSC sequence (`ESC ]0;pwned
/// BEL` sets the terminal's title) is named in the error without its ESC and BEL bytes.
#[test]
fn a_bar_file_name_with_an_escape_sequence_is_named_without_it() {
    let e = db();
    let path = e.dir.path().join("SPY_1min_\u{1b}]0;pwned\u{7}x.csv");
    std::fs::write(&path, "this is not,a bar file\n1,2\n").unwrap();
    let o = coach(&e, &["replay", "--bars", path.to_str().unwrap()]);
    assert!(
        !o.status.success(),
        "a file that is not bars fails: {}",
        err(&o)
    );
    let stderr = err(&o);
    assert!(
        stderr.contains("SPY_1min_x.csv"),
        "the file is still named: {stderr:?}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(!stderr.contains('\u{7}'), "{stderr:?}");
    assert!(!stderr.contains("pwned"), "{stderr:?}");
}
