//! The store behaves the same on SQLite and PostgreSQL.

use crate::support;

use chrono::{TimeZone, Utc};
use coach::domain::Symbol;

fn at(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, 0, 0).unwrap()
}

fn names(symbols: &[Symbol]) -> Vec<&str> {
    symbols.iter().map(Symbol::as_str).collect()
}

#[tokio::test]
async fn migrations_run_twice_without_harm() {
    for t in support::stores().await {
        t.store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
}

#[tokio::test]
async fn a_user_is_created_once() {
    for t in support::stores().await {
        let a = t.store.ensure_user("local", at(12)).await.unwrap();
        let b = t.store.ensure_user("local", at(13)).await.unwrap();
        let c = t.store.ensure_user("ann", at(13)).await.unwrap();
        assert_eq!(a, b, "{}", t.name);
        assert_ne!(a, c, "{}", t.name);
        for spelling in ["ann ", " ANN", "Ann"] {
            let same = t.store.ensure_user(spelling, at(14)).await.unwrap();
            assert_eq!(same, c, "{}: {spelling:?} is ann", t.name);
        }
        assert_eq!(t.store.user_names().await.unwrap(), ["ann", "local"]);
    }
}

#[tokio::test]
async fn a_user_without_a_watchlist_gets_the_default_one() {
    for t in support::stores().await {
        let user = t.store.ensure_user("local", at(12)).await.unwrap();
        let list = t.store.default_watchlist(user, at(12)).await.unwrap();
        assert_eq!(list.name, "Default", "{}", t.name);
        assert!(list.is_default);
        assert_eq!(
            names(&list.symbols),
            ["SPX", "NDX", "SPY", "QQQ"],
            "{}",
            t.name
        );
        let again = t.store.default_watchlist(user, at(13)).await.unwrap();
        assert_eq!(again.id, list.id, "{}: recovery is idempotent", t.name);
        assert_eq!(t.store.watchlists(user).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn setting_symbols_validates_all_before_saving_anything() {
    for t in support::stores().await {
        let user = t.store.ensure_user("local", at(12)).await.unwrap();
        let saved = t
            .store
            .set_default_symbols(user, &["spy", "nvda", "SPY"], at(12))
            .await
            .unwrap();
        assert_eq!(names(&saved.symbols), ["SPY", "NVDA"], "{}", t.name);
        let err = t
            .store
            .set_default_symbols(user, &["AAPL", "not a symbol"], at(13))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("entry 2") && err.contains("not a symbol"),
            "{}: {err}",
            t.name
        );
        let unchanged = t.store.default_watchlist(user, at(14)).await.unwrap();
        assert_eq!(names(&unchanged.symbols), ["SPY", "NVDA"], "{}", t.name);
    }
}

#[tokio::test]
async fn watchlists_are_per_user() {
    for t in support::stores().await {
        let ann = t.store.ensure_user("ann", at(12)).await.unwrap();
        let bob = t.store.ensure_user("bob", at(12)).await.unwrap();
        t.store
            .set_default_symbols(ann, &["TSLA"], at(12))
            .await
            .unwrap();
        let bobs = t.store.default_watchlist(bob, at(12)).await.unwrap();
        assert_eq!(
            names(&bobs.symbols),
            ["SPX", "NDX", "SPY", "QQQ"],
            "{}",
            t.name
        );
        assert_eq!(t.store.watchlists(bob).await.unwrap().len(), 1);
    }
}

/// `coach serve` keeps GEX up to date for every user's default watchlist: each symbol
/// once, first appearance first, and a user's other lists left out.
#[tokio::test]
async fn the_default_watchlists_symbols_are_every_users_once() {
    for t in support::stores().await {
        let ann = t.store.ensure_user("ann", at(12)).await.unwrap();
        let bob = t.store.ensure_user("bob", at(12)).await.unwrap();
        assert!(
            t.store
                .default_watchlist_symbols()
                .await
                .unwrap()
                .is_empty()
        );
        t.store
            .set_default_symbols(ann, &["TSLA", "SPY"], at(12))
            .await
            .unwrap();
        t.store
            .set_default_symbols(bob, &["SPY", "NVDA"], at(12))
            .await
            .unwrap();
        let symbols = t.store.default_watchlist_symbols().await.unwrap();
        assert_eq!(names(&symbols), ["TSLA", "SPY", "NVDA"], "{}", t.name);
    }
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused_without_leaking_a_password() {
    let err = coach::store::Store::open("mysql://root:hunter2@db/x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not sqlite"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

fn detection(minute: u32, key: &str) -> coach::domain::Detection {
    use coach::domain::{Detection, Direction, SetupKind};
    let bar_time = Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, 0).unwrap();
    Detection {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 72,
        entry: 681.25,
        stop: 679.80,
        target: 683.50,
        detected_at: bar_time + chrono::Duration::minutes(1),
        bar_time,
        market_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: key.into(),
        rationale: "close 681.10 above the 15-minute range high 680.40 on 2.1x volume".into(),
        gex: None,
    }
}

/// A restarted detector reads back only the day's signals marked as found on live bars;
/// the suffix is matched literally (`_` and `%` are not wildcards).
#[tokio::test]
async fn the_detections_of_a_day_whose_key_ends_with_a_mark_are_read_alone() {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    for t in support::stores().await {
        let keys = [
            "VWAP (live bars only)",
            "VWAP",
            "ORH (live bars only) #2",
            "PDH_50%",
        ];
        for (minute, key) in keys.iter().enumerate() {
            t.store
                .insert_detection(&detection(minute as u32, key))
                .await
                .unwrap();
        }
        let read = |suffix: &'static str| {
            let store = t.store.clone();
            async move {
                let found = store.detections_on_ending(date, suffix).await.unwrap();
                found
                    .into_iter()
                    .map(|s| s.detection.dedup_key)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            read(" (live bars only)").await,
            ["VWAP (live bars only)"],
            "{}",
            t.name
        );
        assert_eq!(read("_50%").await, ["PDH_50%"], "{}", t.name);
        assert!(read("H%").await.is_empty(), "{}: % is literal", t.name);
        let next_day = date.succ_opt().unwrap();
        let other_day = t.store.detections_on_ending(next_day, "").await.unwrap();
        assert!(other_day.is_empty(), "{}", t.name);
    }
}

#[tokio::test]
async fn the_same_signal_is_stored_once_per_session() {
    for t in support::stores().await {
        let (first, new) = t
            .store
            .insert_detection(&detection(5, "orb15-high"))
            .await
            .unwrap();
        assert!(new, "{}", t.name);
        let again = t
            .store
            .insert_detection(&detection(9, "orb15-high"))
            .await
            .unwrap();
        assert_eq!(
            again,
            (first, false),
            "{}: a repeat is the stored one",
            t.name
        );
        let other = t
            .store
            .insert_detection(&detection(9, "orb15-high-2"))
            .await
            .unwrap();
        assert!(other.1 && other.0 != first, "{}", t.name);
        let day = t
            .store
            .detections_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
            .await
            .unwrap();
        assert_eq!(day.len(), 2, "{}", t.name);
        assert_eq!(day[0].id, first);
        assert_eq!(
            day[0].detection,
            detection(5, "orb15-high"),
            "{}: round trip",
            t.name
        );
    }
}

/// Two processes (a `coach serve` and a CLI command) opening one new SQLite database at
/// the same moment both find it migrated: the one that loses the race on a migration
/// tries again instead of failing with "duplicate column".
#[tokio::test]
async fn stores_opened_at_once_on_a_new_sqlite_file_all_migrate_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("coach.db").display());
    let opens = (0..2).map(|_| coach::store::Store::open(&url));
    for opened in futures::future::join_all(opens).await {
        let store = opened.expect("every open migrates or finds it migrated");
        store.close().await;
    }
}
