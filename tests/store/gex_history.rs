//! `gex_history` on SQLite and PostgreSQL: one row per refresh instant, read back by New
//! York date in time order, the latest date found, 30-day pruning.

use crate::support;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::Symbol;
use coach::gex::history::{GexPoint, keep_from};

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
}

fn point(t: DateTime<Utc>, spot: f64, zero: Option<f64>) -> GexPoint {
    GexPoint {
        at: t,
        spot,
        total_gex: -4.28e9,
        zero_gamma: zero,
        call_wall: Some(680.0),
        put_wall: Some(660.0),
        abs_gamma_strike: Some(675.0),
        zero_dte_share: 0.37,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn each_refresh_is_stored_once_and_read_back_by_new_york_date_in_time_order() {
    let spy = Symbol::parse("SPY").unwrap();
    let qqq = Symbol::parse("QQQ").unwrap();
    for t in support::stores().await {
        let s = &t.store;
        // Tuesday 2026-11-24: 14:35 and 14:40 UTC (09:35, 09:40 ET), stored out of order;
        // 02:00 UTC on the 25th is still the 24th in New York (21:00 ET).
        let late = point(at(2026, 11, 25, 2, 0), 674.5, None);
        let second = point(at(2026, 11, 24, 14, 40), 674.35, Some(671.9));
        let first = point(at(2026, 11, 24, 14, 35), 674.10, Some(671.35));
        for p in [&late, &second, &first] {
            assert!(s.record_gex(&spy, p).await.unwrap(), "{}", t.name);
        }
        assert!(
            !s.record_gex(&spy, &first).await.unwrap(),
            "{}: the same instant again is not a second row",
            t.name
        );
        s.record_gex(&qqq, &point(at(2026, 11, 24, 14, 35), 610.0, None))
            .await
            .unwrap();
        let day = s.gex_history(&spy, date(2026, 11, 24)).await.unwrap();
        assert_eq!(day, vec![first.clone(), second, late], "{}", t.name);
        assert_eq!(
            s.latest_gex_date(&spy).await.unwrap(),
            Some(date(2026, 11, 24)),
            "{}",
            t.name
        );
        assert_eq!(
            s.latest_gex_date(&Symbol::parse("IWM").unwrap())
                .await
                .unwrap(),
            None
        );
        assert!(
            s.gex_history(&spy, date(2026, 11, 23))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_point_with_a_bad_number_is_refused_and_nothing_is_stored() {
    let spy = Symbol::parse("SPY").unwrap();
    for t in support::stores().await {
        let s = &t.store;
        let t0 = at(2026, 11, 24, 15, 0);
        for bad in [
            GexPoint {
                spot: f64::NAN,
                ..point(t0, 1.0, None)
            },
            GexPoint {
                total_gex: f64::INFINITY,
                ..point(t0, 674.1, None)
            },
            GexPoint {
                zero_dte_share: 1.5,
                ..point(t0, 674.1, None)
            },
        ] {
            let e = s.record_gex(&spy, &bad).await.unwrap_err().to_string();
            assert!(e.contains("SPY"), "{}: {e}", t.name);
        }
        // A flip that is not a number is stored as none.
        s.record_gex(&spy, &point(t0, 674.1, Some(f64::NAN)))
            .await
            .unwrap();
        let day = s.gex_history(&spy, date(2026, 11, 24)).await.unwrap();
        assert_eq!(day.len(), 1, "{}", t.name);
        assert_eq!(day[0].zero_gamma, None, "{}", t.name);
    }
}

#[tokio::test]
async fn pruning_keeps_thirty_new_york_days() {
    let spy = Symbol::parse("SPY").unwrap();
    for t in support::stores().await {
        let s = &t.store;
        let today = date(2026, 3, 9);
        let cutoff = keep_from(today); // 2026-02-07
        assert_eq!(cutoff, date(2026, 2, 7));
        // 2026-02-07 01:00 UTC is still 02-06 in New York: pruned. 02-07 15:00 UTC: kept.
        let old = point(at(2026, 2, 7, 1, 0), 600.0, None);
        let kept = point(at(2026, 2, 7, 15, 0), 601.0, None);
        let recent = point(at(2026, 3, 9, 15, 0), 640.0, None);
        for p in [&old, &kept, &recent] {
            s.record_gex(&spy, p).await.unwrap();
        }
        assert_eq!(s.prune_gex_history(cutoff).await.unwrap(), 1, "{}", t.name);
        assert_eq!(s.prune_gex_history(cutoff).await.unwrap(), 0, "{}", t.name);
        assert!(
            s.gex_history(&spy, date(2026, 2, 6))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.gex_history(&spy, date(2026, 2, 7)).await.unwrap(),
            vec![kept]
        );
        assert_eq!(
            s.gex_history(&spy, date(2026, 3, 9)).await.unwrap(),
            vec![recent]
        );
    }
}
