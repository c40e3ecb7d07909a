//! Detections stored per second (issue 25 item 3): one `INSERT` per detection (the
//! detector before batching, `Store::insert_detection`) against one transaction per
//! minute of detections (`Store::insert_detections`), on a SQLite file in WAL mode and,
//! when `COACH_TEST_POSTGRES_URL` is set, on PostgreSQL (a schema of its own, dropped
//! first). Each iteration stores 2,000 new detections (a minute of a 2,000-symbol
//! market firing on every symbol, the priming case); keys never repeat, so every row is
//! a real insert.
//!
//! Run: `cargo bench --bench detection_writes` (with
//! `COACH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` for PostgreSQL too).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::store::Store;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PER_MINUTE: usize = 2_000;

static ROUND: AtomicU64 = AtomicU64::new(0);

/// A fresh minute of detections: symbol `S0`…`S1999`, keys unique to this round.
fn minute() -> Vec<Detection> {
    let round = ROUND.fetch_add(1, Ordering::Relaxed);
    let bar_time = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    (0..PER_MINUTE)
        .map(|n| Detection {
            symbol: Symbol::parse(&format!("S{n}")).unwrap(),
            kind: SetupKind::VwapReclaim,
            direction: Direction::Long,
            confidence: 64,
            entry: 100.0 + n as f64 * 0.01,
            stop: 99.2,
            target: 101.6,
            detected_at: bar_time + chrono::Duration::minutes(1),
            bar_time,
            market_date: bar_time.date_naive(),
            dedup_key: format!("VWAP round {round}"),
            rationale: "After 12 closes above VWAP, the bar's low reached VWAP and it closed in \
                        the upper half of its range; relative volume 1.4x (20-bar average)."
                .into(),
            gex: None,
        })
        .collect()
}

async fn stores() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut out = vec![("sqlite", Store::open(&url).await.unwrap(), Some(dir))];
    if let Ok(url) = std::env::var("COACH_TEST_POSTGRES_URL") {
        let admin = Store::open_postgres(url.parse().unwrap()).await.unwrap();
        if let Store::Postgres(pool) = &admin {
            sqlx::raw_sql(
                "DROP SCHEMA IF EXISTS bench_detection_writes CASCADE; \
                 CREATE SCHEMA bench_detection_writes;",
            )
            .execute(pool)
            .await
            .unwrap();
        }
        admin.close().await;
        let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
        let options = options.options([("search_path", "bench_detection_writes")]);
        let store = Store::open_postgres(options).await.unwrap();
        store.migrate().await.unwrap();
        out.push(("postgres", store, None));
    }
    out
}

fn writes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stores = rt.block_on(stores());
    let mut group = c.benchmark_group("detection_writes");
    group.throughput(Throughput::Elements(PER_MINUTE as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, store, _dir) in &stores {
        group.bench_function(format!("{name}/one_insert_each"), |b| {
            b.iter_batched(
                minute,
                |batch| {
                    rt.block_on(async {
                        for d in &batch {
                            store.insert_detection(d).await.unwrap();
                        }
                    })
                },
                criterion::BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("{name}/one_transaction_per_minute"), |b| {
            b.iter_batched(
                minute,
                |batch| rt.block_on(store.insert_detections(&batch)).unwrap(),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, writes);
criterion_main!(benches);
