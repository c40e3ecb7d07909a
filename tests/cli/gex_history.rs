//! `coach gex history --symbol S [--date D] [--json]`: the stored refreshes of one New
//! York date in time order, the latest date by default, and clear refusals.

use chrono::{TimeZone, Utc};
use coach::domain::Symbol;
use coach::gex::history::GexPoint;
use coach::store::Store;

use crate::isolated::{coach, db, err, out};

fn point(h: u32, mi: u32, spot: f64, zero: Option<f64>) -> GexPoint {
    GexPoint {
        at: Utc.with_ymd_and_hms(2026, 11, 24, h, mi, 0).unwrap(),
        spot,
        total_gex: -4.28e9,
        zero_gamma: zero,
        call_wall: Some(680.0),
        put_wall: Some(660.0),
        abs_gamma_strike: Some(675.0),
        zero_dte_share: 0.25,
    }
}

async fn record(url: &str, symbol: &str, points: &[GexPoint]) {
    let store = Store::open(url).await.unwrap();
    for p in points {
        store
            .record_gex(&Symbol::parse(symbol).unwrap(), p)
            .await
            .unwrap();
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_days_refreshes_print_in_time_order_as_json_and_text() {
    let db = db();
    let mut older = point(15, 0, 600.0, None);
    older.at -= chrono::Duration::days(1);
    record(
        &db.url,
        "SPY",
        &[
            point(14, 40, 674.35, Some(671.9)),
            point(14, 35, 674.1, Some(671.35)),
            older,
        ],
    )
    .await;
    let o = coach(&db, &["gex", "history", "--symbol", "spy", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    assert_eq!(rows[0]["at"], "2026-11-24T14:35:00Z");
    assert_eq!(rows[0]["spot"], 674.1);
    assert_eq!(rows[0]["zero_gamma"], 671.35);
    assert_eq!(rows[1]["zero_gamma"], 671.9);
    for key in [
        "total_gex",
        "call_wall",
        "put_wall",
        "abs_gamma_strike",
        "zero_dte_share",
    ] {
        assert!(rows[0].get(key).is_some(), "{key} in {json}");
    }
    let o = coach(&db, &["gex", "history", "--symbol", "SPY"]);
    let text = out(&o);
    assert!(text.contains("2026-11-24"), "{text}");
    assert!(text.contains("09:35 ET  spot 674.10"), "{text}");
    assert!(text.contains("flip 671.35"), "{text}");
    // --date picks another day; a day without history says so.
    let o = coach(
        &db,
        &[
            "gex",
            "history",
            "--symbol",
            "SPY",
            "--date",
            "2026-11-23",
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    let o = coach(
        &db,
        &["gex", "history", "--symbol", "SPY", "--date", "2026-11-20"],
    );
    assert!(o.status.success());
    assert!(
        out(&o).contains("no GEX history of SPY on 2026-11-20"),
        "{}",
        out(&o)
    );
    let o = coach(&db, &["gex", "history", "--symbol", "QQQ", "--json"]);
    assert_eq!(out(&o).trim(), "[]");
}

#[test]
fn bad_input_is_refused_with_what_and_where() {
    let db = db();
    let o = coach(
        &db,
        &["gex", "history", "--symbol", "SPY", "--date", "24/11/2026"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("--date") && err(&o).contains("24/11/2026"),
        "{}",
        err(&o)
    );
    let o = coach(&db, &["gex", "history", "--symbol", "not a symbol"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--symbol"), "{}", err(&o));
    let o = coach(&db, &["gex", "history"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--symbol"), "{}", err(&o));
}
