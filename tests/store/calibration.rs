//! Issue 20 items 2b and 5 on both databases: a detection's GEX context survives the
//! store, and calibration maps are stored as numbered versions, the newest applied.

use crate::support;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, GammaLevels, SetupKind, Symbol};
use coach::gex::{GexContext, Regime, WallSide};
use coach::stats::calibrate::{CalibrationMap, FittedMap};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2013, 10, d).unwrap()
}

fn detection(key: &str, gex: Option<GexContext>) -> Detection {
    let bar_time = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    Detection {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: SetupKind::GammaSqueeze,
        direction: Direction::Long,
        confidence: 64,
        entry: 681.25,
        stop: 679.80,
        target: 683.50,
        detected_at: bar_time + chrono::Duration::minutes(1),
        bar_time,
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: key.into(),
        rationale: "close 681.10 above the largest call-GEX strike 680".into(),
        gex,
    }
}

#[tokio::test]
async fn a_detections_gex_context_is_read_back_as_it_was_stored() {
    let levels = GammaLevels {
        symbol: Symbol::parse("SPY").unwrap(),
        spot: 680.0,
        as_of: Utc.with_ymd_and_hms(2026, 11, 24, 14, 55, 0).unwrap(),
        total_gex: -1.5e9,
        zero_gamma: Some(684.0),
        call_wall: Some(690.0),
        put_wall: Some(675.0),
        max_call_gex_strike: Some(680.0),
        max_put_gex_strike: Some(670.0),
    };
    // price 681: zero gamma 3 above (+0.4405 %), put wall 6 below is nearer than the call wall 9 above
    let context = GexContext::at(&levels, 681.0).unwrap();
    for t in support::stores().await {
        let (with, _) = t
            .store
            .insert_detection(&detection("with", Some(context.clone())))
            .await
            .unwrap();
        let (without, _) = t
            .store
            .insert_detection(&detection("without", None))
            .await
            .unwrap();
        let back = t.store.detection(with).await.unwrap().unwrap().detection;
        let gex = back
            .gex
            .unwrap_or_else(|| panic!("{}: context lost", t.name));
        assert_eq!(gex, context, "{}", t.name);
        assert_eq!(gex.regime, Regime::Negative);
        assert_eq!(gex.zero_gamma.unwrap().points, 3.0);
        let wall = gex.nearest_wall.unwrap();
        assert_eq!((wall.side, wall.distance.points), (WallSide::Put, -6.0));
        let back = t.store.detection(without).await.unwrap().unwrap().detection;
        assert_eq!(back.gex, None, "{}", t.name);
        let listed = t.store.detections_on(back.market_date).await.unwrap();
        assert_eq!(listed.len(), 2, "{}", t.name);
        assert!(listed.iter().any(|d| d.detection.gex.is_some()));
    }
}

fn fitted(kind: SetupKind, samples: &[(u8, bool)], to: u32) -> FittedMap {
    FittedMap {
        kind,
        map: CalibrationMap::fit(samples).unwrap(),
        fitted_from: day(1),
        fitted_to: day(to),
        trades: samples.len() as u64,
    }
}

#[tokio::test]
async fn calibration_maps_are_versioned_per_kind_and_the_newest_applies() {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap();
    for t in support::stores().await {
        assert!(
            t.store.calibrations().await.unwrap().is_empty(),
            "{}",
            t.name
        );
        // gap_fill v1: 40 lost, 80 won -> 60 reads 50
        let v1 = fitted(SetupKind::GapFill, &[(40, false), (80, true)], 14);
        assert_eq!(
            t.store.insert_calibration(&v1, day(16), now).await.unwrap(),
            1
        );
        // gap_fill v2: 40 won, 80 lost pools to a flat 50 % everywhere
        let v2 = fitted(
            SetupKind::GapFill,
            &[(40, true), (80, false), (60, false), (60, true)],
            15,
        );
        assert_eq!(
            t.store.insert_calibration(&v2, day(16), now).await.unwrap(),
            2
        );
        let orb = fitted(SetupKind::OrbBreakout, &[(70, true)], 15);
        assert_eq!(
            t.store
                .insert_calibration(&orb, day(16), now)
                .await
                .unwrap(),
            1
        );

        let latest = t.store.latest_calibrations().await.unwrap();
        let kinds: Vec<(SetupKind, i64)> = latest.iter().map(|c| (c.kind, c.version)).collect();
        assert_eq!(
            kinds,
            vec![(SetupKind::GapFill, 2), (SetupKind::OrbBreakout, 1)],
            "{}",
            t.name
        );
        let gap = &latest[0];
        assert_eq!(gap.map, v2.map, "{}", t.name);
        assert_eq!(
            (gap.fitted_from, gap.fitted_to, gap.trades, gap.split),
            (day(1), day(15), 4, day(16))
        );
        assert_eq!(gap.created_at, now);

        let history = t
            .store
            .calibration_versions(SetupKind::GapFill)
            .await
            .unwrap();
        assert_eq!(history.len(), 2, "{}", t.name);
        assert_eq!(
            history[0].map, v1.map,
            "{}: the older version is kept",
            t.name
        );

        let lookup = t.store.calibrations().await.unwrap();
        assert_eq!(lookup.score(SetupKind::GapFill, 80), 50, "{}", t.name);
        assert_eq!(lookup.score(SetupKind::OrbBreakout, 10), 100, "{}", t.name);
        assert_eq!(
            lookup.score(SetupKind::VolumeClimax, 37),
            37,
            "{}: no map, raw",
            t.name
        );
    }
}
