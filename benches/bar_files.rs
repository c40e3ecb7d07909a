//! Rows per second through the bar-file reader on one core (issue 25: the timestamp
//! parser was 42 % of replay's time): the shared SPY minute file (naive New York
//! timestamps, the LEAN layout) and one market-data_2024 file (';', epoch milliseconds),
//! each parsed from memory, so only the reader is measured. Skipped when ../shared is
//! absent. The whole `coach replay` process is measured by `benches/bar_reader.sh`.
//!
//! Run: `cargo bench --bench bar_files`

use std::hint::black_box;
use std::path::Path;

use coach::provider::replay::parse_minute_bars;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FILES: [(&str, &str); 2] = [
    (
        "spy_lean_naive_iso",
        "../shared/data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv",
    ),
    (
        "market_data_epoch_ms",
        "../shared/data/bars/market-data_2024/SW_1min_2024.csv",
    ),
];

fn reader(c: &mut Criterion) {
    let mut group = c.benchmark_group("bar_files");
    for (name, path) in FILES {
        let Ok(text) = std::fs::read_to_string(Path::new(path)) else {
            eprintln!("skipping {name}: {path} is not there");
            continue;
        };
        let rows = parse_minute_bars(path, &text).map(|b| b.len()).unwrap_or(0);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_minute_bars(path, black_box(&text)).map(|bars| bars.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
