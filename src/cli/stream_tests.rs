//! The streamed input (`provider::bar_files::stream`) against the whole-input load it
//! replaced (`load_files` then `replay::feeding_order`): the same bars in the same order,
//! hence the same `coach replay` output and the same `coach backtest` statistics, on the
//! shared SPY week, the shared six-symbol 2024 folder, and hand-made layouts (a symbol
//! split over files, an index and its volume proxy, a multi-symbol flat file, gzip).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::backtest::{GroupBy, Options, Scope, backtest, report};
use super::replay::{ReplayFormat, feeding_order, replay};
use super::replay_engine::{FeedOrder, open_input, primed_engine};
use crate::detect::Engine;
use crate::domain::{Bar, Symbol};
use crate::provider::bar_files::stream::MinuteStream;
use crate::provider::bar_files::{BarFileError, ReplayInput, load_files};

fn shared(dir: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/bars")
        .join(dir);
    if path.is_dir() {
        Some(path)
    } else {
        assert!(
            std::env::var_os("COACH_REQUIRE_SHARED").is_none(),
            "{} is missing",
            path.display()
        );
        None
    }
}

/// The whole-input path: every file loaded, then sorted into feeding order.
fn whole(bars: &[PathBuf]) -> (Engine, ReplayInput) {
    let data = load_files(bars, &[], None).unwrap();
    let engine = primed_engine(&[], &data.daily, &data.daily_files).unwrap();
    (engine, data)
}

fn streamed(bars: &[PathBuf]) -> (Engine, MinuteStream) {
    open_input(bars, &[], None, &[], &mut |_| {}).unwrap()
}

/// The (symbol, bar) sequence a stream feeds.
fn stream_order(bars: &[PathBuf]) -> Vec<(Symbol, Bar)> {
    let (_, mut stream) = streamed(bars);
    let mut all = Vec::new();
    stream
        .drive("test", |s, b| -> Result<(), ()> {
            all.push((s.clone(), *b));
            Ok(())
        })
        .unwrap();
    all
}

fn whole_order(bars: &[PathBuf]) -> Vec<(Symbol, Bar)> {
    let (engine, data) = whole(bars);
    feeding_order(engine.config(), &data.minute)
        .into_iter()
        .map(|(s, b)| (s.clone(), *b))
        .collect()
}

fn replay_output(bars: &[PathBuf], format: ReplayFormat, stream: bool) -> String {
    let mut out = Vec::new();
    if stream {
        let (mut engine, mut s) = streamed(bars);
        replay(
            &mut engine,
            &mut s,
            &mut Default::default(),
            format,
            &mut out,
        )
        .unwrap();
    } else {
        let (mut engine, data) = whole(bars);
        let order = feeding_order(engine.config(), &data.minute);
        replay(
            &mut engine,
            &mut order.as_slice(),
            &mut Default::default(),
            format,
            &mut out,
        )
        .unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn backtest_json(bars: &[PathBuf], by: &[GroupBy], stream: bool) -> String {
    let scope = Scope {
        from: None,
        to: None,
        symbols: BTreeSet::new(),
        kinds: BTreeSet::new(),
        slippage: 0.01,
    };
    let (result, _) = if stream {
        let (mut engine, mut s) = streamed(bars);
        backtest(
            &mut engine,
            &mut s,
            &mut Default::default(),
            &scope,
            None,
            Options::default(),
        )
        .unwrap()
    } else {
        let (mut engine, data) = whole(bars);
        let order = feeding_order(engine.config(), &data.minute);
        backtest(
            &mut engine,
            &mut order.as_slice(),
            &mut Default::default(),
            &scope,
            None,
            Options::default(),
        )
        .unwrap()
    };
    serde_json::to_string_pretty(&report(&result, &scope, by)).unwrap()
}

fn assert_same_everywhere(bars: &[PathBuf]) {
    let streamed = stream_order(bars);
    assert!(!streamed.is_empty());
    assert!(streamed == whole_order(bars), "feeding order differs");
    for format in [ReplayFormat::Jsonl, ReplayFormat::Csv, ReplayFormat::Table] {
        assert_eq!(
            replay_output(bars, format, true),
            replay_output(bars, format, false),
            "{format:?}"
        );
    }
    for by in [vec![], vec![GroupBy::Symbol, GroupBy::Hour]] {
        assert_eq!(
            backtest_json(bars, &by, true),
            backtest_json(bars, &by, false)
        );
    }
}

#[test]
fn the_shared_spy_week_replays_and_backtests_the_same_streamed() {
    let Some(dir) = shared("lean_spy_2013-10") else {
        return;
    };
    assert_same_everywhere(std::slice::from_ref(&dir));
    let replayed = replay_output(std::slice::from_ref(&dir), ReplayFormat::Jsonl, true);
    assert!(replayed.lines().count() > 10, "{replayed}");
    let json = backtest_json(&[dir], &[], true);
    assert!(json.contains("\"sessions\": 6"), "{json}");
}

#[test]
fn the_shared_six_symbol_folder_replays_and_backtests_the_same_streamed() {
    let Some(dir) = shared("market-data_2024") else {
        return;
    };
    assert_same_everywhere(&[dir]);
}

/// A minute file of `symbol` with `minutes` regular bars from 09:30 on each of `days`
/// (New York wall time), prices drifting with `seed`.
fn minute_text(days: &[&str], minutes: u32, seed: u64, with_volume: bool) -> String {
    let mut text = String::from(if with_volume {
        "timestamp,open,high,low,close,volume\n"
    } else {
        "timestamp,open,high,low,close\n"
    });
    let mut price = 100.0 + seed as f64;
    let mut state = seed;
    for day in days {
        for m in 0..minutes {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let step = ((state >> 33) as f64 / 2f64.powi(31) - 0.5) * 0.4;
            let (o, c) = (price, price + step);
            let (h, l) = (o.max(c) + 0.03, o.min(c) - 0.03);
            let t = 9 * 60 + 30 + m;
            text.push_str(&format!(
                "{day} {:02}:{:02}:00,{o:.2},{h:.2},{l:.2},{c:.2}",
                t / 60,
                t % 60
            ));
            if with_volume {
                text.push_str(&format!(",{}", 1000 + state % 5000));
            }
            text.push('\n');
            price = c;
        }
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const DAYS: [&str; 4] = ["2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12"];

#[test]
fn a_symbol_split_over_files_an_index_and_its_proxy_merge_into_feeding_order() {
    let dir = tempfile::tempdir().unwrap();
    // SPY over two files (the later one first by name); SPX without volume reads SPY's,
    // so both proxies (QQQ, SPY) go first within each minute although SPX sorts before SPY.
    write(
        dir.path(),
        "SPY_1min_b.csv",
        &minute_text(&DAYS[2..], 390, 1, true),
    );
    write(
        dir.path(),
        "SPY_1min_a.csv",
        &minute_text(&DAYS[..2], 390, 2, true),
    );
    write(
        dir.path(),
        "SPX_1min.csv",
        &minute_text(&DAYS, 390, 3, false),
    );
    write(
        dir.path(),
        "QQQ_1min.csv",
        &minute_text(&DAYS, 200, 4, true),
    );
    let bars = [dir.path().to_path_buf()];
    let order = stream_order(&bars);
    assert_eq!(order.len(), 390 * 4 * 2 + 200 * 4);
    let first_minute: Vec<&str> = order[..3].iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(first_minute, ["QQQ", "SPY", "SPX"]);
    assert_same_everywhere(&bars);
}

#[test]
fn a_multi_symbol_flat_file_merges_with_one_symbol_files() {
    let dir = tempfile::tempdir().unwrap();
    // A flat file grouped by symbol (not in time order across symbols) and a gzip file.
    let mut flat = String::from("ticker,window_start,open,high,low,close,volume\n");
    for (symbol, seed) in [("MSFT", 5), ("AAPL", 6)] {
        for line in minute_text(&DAYS[..3], 390, seed, true).lines().skip(1) {
            flat.push_str(&format!("{symbol},{line}\n"));
        }
    }
    write(dir.path(), "flat.csv", &flat);
    let gz = std::fs::File::create(dir.path().join("NVDA_1min.csv.gz")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    encoder
        .write_all(minute_text(&DAYS, 390, 7, true).as_bytes())
        .unwrap();
    encoder.finish().unwrap();
    let bars = [dir.path().to_path_buf()];
    assert_eq!(stream_order(&bars).len(), 390 * 3 * 2 + 390 * 4);
    assert_same_everywhere(&bars);
}

#[test]
fn two_files_with_the_same_minute_of_a_symbol_are_named_as_the_load_names_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "SPY_1min_a.csv",
        &minute_text(&DAYS[..2], 390, 1, true),
    );
    write(
        dir.path(),
        "SPY_1min_b.csv",
        &minute_text(&DAYS[1..], 390, 2, true),
    );
    let bars = [dir.path().to_path_buf()];
    let loaded = load_files(&bars, &[], None).unwrap_err();
    let (_, mut stream) = streamed(&bars);
    let mut fed = 0;
    let err = stream.drive("test", |_, _| -> Result<(), ()> {
        fed += 1;
        Ok(())
    });
    let Err(super::replay_engine::FeedError::Input(err)) = err else {
        panic!("expected an overlap");
    };
    assert!(matches!(err, BarFileError::Overlap { .. }), "{err}");
    assert_eq!(err, loaded);
    // The first day was fed before the second met its twin.
    assert_eq!(fed, 390);
}

#[test]
fn a_bad_row_cuts_a_directory_file_short_and_ends_a_named_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = minute_text(&DAYS[..2], 390, 1, true);
    bad.push_str("2024-03-08 16:00:00,10,9,11,10,100\n");
    let bad_path = write(dir.path(), "SPY_1min.csv", &bad);
    write(
        dir.path(),
        "QQQ_1min.csv",
        &minute_text(&DAYS[..2], 390, 2, true),
    );
    let (_, mut stream) = streamed(&[dir.path().to_path_buf()]);
    let n = stream
        .drive("test", |_, _| -> Result<(), ()> { Ok(()) })
        .unwrap();
    assert_eq!(n, 390 * 2 * 2);
    let cut = stream.cut_short();
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].1, 390 * 2);
    assert!(
        cut[0].0.to_string().contains(":782: column 3 (high)"),
        "{}",
        cut[0].0
    );

    let (_, mut stream) = streamed(&[bad_path]);
    let err = stream.drive("test", |_, _| -> Result<(), ()> { Ok(()) });
    assert!(matches!(
        err,
        Err(super::replay_engine::FeedError::Input(
            BarFileError::Field { line: 782, .. }
        ))
    ));
}

#[test]
fn hundreds_of_one_symbol_files_stream_together() {
    let dir = tempfile::tempdir().unwrap();
    let letters = b"ABCDEFGHIJKLMNOPQRST";
    for (i, a) in letters.iter().enumerate() {
        for (j, b) in letters.iter().enumerate().take(15) {
            let symbol = format!("X{}{}", *a as char, *b as char);
            let text = minute_text(&DAYS[..1], 5, (i * 20 + j) as u64, true);
            write(dir.path(), &format!("{symbol}_1min.csv"), &text);
        }
    }
    let bars = [dir.path().to_path_buf()];
    let order = stream_order(&bars);
    assert_eq!(order.len(), 300 * 5);
    assert!(order == whole_order(&bars));
}
