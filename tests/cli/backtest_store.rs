//! `coach backtest --store` (SPEC 18) run as a user would: the statistics it prints per
//! kind are the ones it keeps in the database, with their (kind, symbol) groups, and the
//! next stored run replaces them.

use serde_json::Value;

use crate::isolated::{coach, db, err, out};
use coach::store::{SOURCE_CLI, Store, StoredBacktest};

const SHARED: &str = "../shared/data/bars/lean_spy_2013-10";

fn shared() -> bool {
    crate::support::shared_present(SHARED)
}

fn stored(url: &str) -> Option<StoredBacktest> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open(url).await.unwrap();
        let latest = store.latest_backtest_stats().await.unwrap();
        store.close().await;
        latest
    })
}

/// The stored statistic `a` (full precision) is the printed `b` once rounded as the JSON
/// rounds it (four decimals, `json_round`).
fn close(a: Option<f64>, b: &Value) {
    use coach::json_round::{RATIO_DECIMALS, round_to};
    match (a, b.as_f64()) {
        (Some(a), Some(b)) => assert_eq!(round_to(a, RATIO_DECIMALS), b, "{a} printed as {b}"),
        (None, None) => {}
        (a, b) => panic!("{a:?} != {b:?}"),
    }
}

#[test]
fn stored_statistics_are_the_printed_ones_and_the_next_run_replaces_them() {
    if !shared() {
        return;
    }
    let db = db();
    assert!(stored(&db.url).is_none());
    let o = coach(
        &db,
        &["backtest", "--bars", SHARED, "--format", "json", "--store"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("stored"), "{}", err(&o));
    let report: Value = serde_json::from_str(&out(&o)).unwrap();
    let first = stored(&db.url).expect("a stored run");
    assert_eq!(first.run.source, SOURCE_CLI);
    assert_eq!(first.run.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(first.run.symbols, vec!["SPY".to_string()]);
    assert_eq!(Some(first.run.bars), report["bars"].as_u64());
    assert_eq!(Some(first.run.sessions), report["sessions"].as_u64());
    assert_eq!(
        first.run.from.map(|d| d.to_string()).as_deref(),
        report["from"].as_str()
    );
    assert_eq!(first.run.slippage, 0.01);
    let groups = report["groups"].as_array().unwrap();
    assert!(groups.len() > 1, "at least one kind and the total");
    for g in groups {
        let row = first
            .rows
            .iter()
            .find(|r| r.key.kind.as_deref() == g["kind"].as_str() && r.key.symbol.is_none())
            .unwrap_or_else(|| panic!("group {} is stored", g["kind"]));
        let s = &row.stats;
        assert_eq!(Some(s.detections), g["detections"].as_u64());
        assert_eq!(Some(s.triggered), g["triggered"].as_u64());
        assert_eq!(Some(s.wins), g["wins"].as_u64());
        close(s.win_rate, &g["win_rate"]);
        close(s.avg_r, &g["avg_r"]);
        close(s.avg_r_ci95.map(|c| c[1]), &g["avg_r_ci95"][1]);
        close(Some(s.total_r), &g["total_r"]);
        close(s.profit_factor, &g["profit_factor"]);
        // one symbol: each kind's SPY row holds the same numbers
        if let Some(kind) = g["kind"].as_str() {
            let spy = first
                .rows
                .iter()
                .find(|r| {
                    r.key.kind.as_deref() == Some(kind) && r.key.symbol.as_deref() == Some("SPY")
                })
                .expect("the (kind, SPY) group is stored");
            assert_eq!(spy.stats, row.stats);
        }
    }

    // a narrower run replaces it whole: one kind left
    let kind = first
        .rows
        .iter()
        .find_map(|r| r.key.kind.clone())
        .expect("a kind");
    let o = coach(
        &db,
        &[
            "backtest", "--bars", SHARED, "--kinds", &kind, "--format", "csv", "--store",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let second = stored(&db.url).unwrap();
    assert!(second.id > first.id);
    assert!(
        second
            .rows
            .iter()
            .all(|r| r.key.kind.is_none() || r.key.kind.as_deref() == Some(kind.as_str())),
        "only {kind} is left: {:?}",
        second.rows.iter().map(|r| &r.key).collect::<Vec<_>>()
    );
}

#[test]
fn without_store_nothing_is_kept() {
    if !shared() {
        return;
    }
    let db = db();
    let o = coach(&db, &["backtest", "--bars", SHARED, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(stored(&db.url).is_none());
}

#[test]
fn a_bad_database_for_store_is_bad_input_naming_db() {
    if !shared() {
        return;
    }
    let db = db();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args([
            "backtest",
            "--bars",
            SHARED,
            "--store",
            "--db",
            "mysql://nowhere/x",
        ])
        .env("COACH_CONFIG", db.dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--db"), "{}", err(&o));
}
