//! Positions on both databases: add, list, close, all-or-nothing import, per user.

use crate::support;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::brief::position::parse_csv;
use coach::brief::{NewPosition, PositionKind};
use coach::domain::Symbol;
use coach::store::StoreError;

fn call() -> NewPosition {
    NewPosition {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: PositionKind::Call,
        strike: Some(700.0),
        expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
        quantity: -2.0,
        avg_price: 4.1,
        iv: Some(0.18),
    }
}

#[tokio::test]
async fn positions_are_added_listed_closed_and_kept_per_user() {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    for t in support::stores().await {
        let ann = t.store.ensure_user("ann", at).await.unwrap();
        let bob = t.store.ensure_user("bob", at).await.unwrap();
        let ids = t.store.add_positions(ann, &[call()], at).await.unwrap();
        let open = t.store.positions(ann, false).await.unwrap();
        assert_eq!(open.len(), 1, "{}", t.name);
        assert_eq!(open[0].spec, call(), "{}: every field round-trips", t.name);
        assert_eq!(open[0].opened_at, at);
        assert!(t.store.positions(bob, true).await.unwrap().is_empty());

        // bob cannot close ann's position; ann can, once
        let err = t.store.close_position(bob, ids[0], at).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{}: {err}", t.name);
        let closed = t.store.close_position(ann, ids[0], at).await.unwrap();
        assert_eq!(closed.closed_at, Some(at));
        let again = t.store.close_position(ann, ids[0], at).await.unwrap_err();
        assert!(
            matches!(again, StoreError::Conflict(_)),
            "{}: {again}",
            t.name
        );
        assert!(t.store.positions(ann, false).await.unwrap().is_empty());
        assert_eq!(t.store.positions(ann, true).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_import_with_one_bad_position_saves_none() {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    for t in support::stores().await {
        let ann = t.store.ensure_user("ann", at).await.unwrap();
        let good = parse_csv(
            "p.csv",
            "symbol,kind,strike,expiry,quantity,avg_price\nQQQ,stock,,,10,600\nQQQ,put,590,2026-12-04,1,3.5\n",
            at.date_naive(),
        )
        .unwrap();
        assert_eq!(
            t.store.add_positions(ann, &good, at).await.unwrap().len(),
            2
        );
        let mut bad = good.clone();
        bad.push(NewPosition {
            quantity: f64::NAN,
            ..call()
        });
        let err = t.store.add_positions(ann, &bad, at).await.unwrap_err();
        assert!(
            err.to_string().starts_with("position 3: quantity NaN"),
            "{}: {err}",
            t.name
        );
        assert_eq!(
            t.store.positions(ann, false).await.unwrap().len(),
            2,
            "{}",
            t.name
        );
    }
}
