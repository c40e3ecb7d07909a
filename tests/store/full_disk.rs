//! The store on a full disk (issue 26 items 1 and 2): a SQLite database on a small tmpfs,
//! filled up while the store (and a second pool, as `coach serve` beside a CLI) hold it
//! open. Each test runs again in a private mount namespace of its own
//! ([`rerun_in_namespace`]), where it mounts the tmpfs and opens the database in-process.
//!
//! - Every write reports the full disk, and none is there once the disk has room again
//!   (SQLite's commit is what fails: the write-ahead log cannot grow).
//! - A transaction whose commit failed leaves no connection of the pool behind still
//!   counting it ("attempted to call begin_with at non-zero transaction depth"): the
//!   first writes after the disk has room all succeed.
//!
//! PostgreSQL refusing writes (`default_transaction_read_only`) is in the last test.

use crate::support;
use crate::support::small_disk::{HereDisk, rerun_in_namespace};

use chrono::{TimeZone, Utc};
use coach::alerts::{Condition, Firing};
use coach::brief::{NewPosition, PositionKind};
use coach::domain::Symbol;
use coach::store::{NewAlert, Store, StoreError, StoredDetection, TrackResult, UserId};

/// The SQLite pool's size (`Store::open`).
const POOL_SIZE: usize = 4;

fn full(what: &str, result: Result<impl std::fmt::Debug, StoreError>) {
    match result {
        Err(e) => assert!(
            e.to_string().contains("full") || e.to_string().contains("read-only"),
            "{what}: {e}"
        ),
        Ok(v) => panic!("{what} reported success on a full disk: {v:?}"),
    }
}

fn alert(level: f64, note: &str) -> NewAlert {
    NewAlert {
        symbol: Symbol::parse("SPY").unwrap(),
        condition: Condition::parse("above", &level.to_string()).unwrap(),
        note: note.into(),
        repeat: false,
        reference: None,
    }
}

fn firing(id: i64) -> Firing {
    Firing {
        id,
        symbol: Symbol::parse("SPY").unwrap(),
        condition: Condition::parse("above", "1").unwrap(),
        price: 1.5,
        rel_volume: None,
        at: Utc.with_ymd_and_hms(2026, 12, 4, 15, 0, 0).unwrap(),
        rearmed: false,
        reference: None,
    }
}

/// What the writes below need: a user, an armed alert, an open position, a tracked
/// setup. Returns (user, alert id, position id, setup id).
async fn prepare(store: &Store) -> (UserId, i64, i64, i64) {
    let user = store.ensure_user("local", Utc::now()).await.unwrap();
    let armed = store
        .add_alert(user, &alert(1.0, "kept"), Utc::now())
        .await
        .unwrap();
    let position = NewPosition {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: PositionKind::Stock,
        strike: None,
        expiry: None,
        quantity: 10.0,
        avg_price: 500.0,
        iv: None,
    };
    let ids = store
        .add_positions(user, &[position], Utc::now())
        .await
        .unwrap();
    let (_, setup) = support::team::track(store, user, "QQQ").await;
    (user, armed.id, ids[0], setup.setup.id)
}

/// Every single write (the ones outside a transaction, whose commit is the statement's
/// end) refuses on a full disk, and nothing of them is there afterwards.
async fn writes_refuse_and_leave_nothing(store: &Store, fill: impl Fn(), free: impl Fn()) {
    let (user, alert_id, position_id, setup_id) = prepare(store).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    fill();
    full(
        "adding an alert",
        store.add_alert(user, &alert(2.0, "lost"), Utc::now()).await,
    );
    full(
        "firing an alert",
        store.fire_alert(user, &firing(alert_id)).await,
    );
    full(
        "closing a position",
        store.close_position(user, position_id, Utc::now()).await,
    );
    full(
        "saving a note",
        store
            .set_notes(user, setup_id, "lost note", Utc::now())
            .await,
    );
    full(
        "creating a user",
        store.ensure_user("newcomer", Utc::now()).await,
    );
    full(
        "counting LLM tokens",
        store.add_llm_tokens(user, day, 1234).await,
    );
    full(
        "storing a detection",
        store
            .insert_detection(&support::team::detection("IWM"))
            .await,
    );
    free();

    let alerts = store.alerts(user).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].note, "kept");
    assert!(alerts[0].fired_at.is_none(), "the firing was not recorded");
    let open = store.positions(user, false).await.unwrap();
    assert_eq!(open.len(), 1, "the position is still open: {open:?}");
    let setup = store.setup(user, setup_id).await.unwrap().unwrap();
    assert_eq!(setup.notes, "", "the note was not saved");
    assert_eq!(store.user_names().await.unwrap(), ["local"]);
    assert_eq!(store.llm_tokens_on(user, day).await.unwrap(), 0);
    let today = support::team::detection("IWM").market_date;
    let detections = store.detections_on(today).await.unwrap();
    assert!(
        detections
            .iter()
            .all(|d| d.detection.symbol.as_str() != "IWM"),
        "{detections:?}"
    );
}

#[tokio::test]
async fn on_a_full_disk_every_write_is_refused_and_none_is_there_afterwards() {
    let Some(disk) = HereDisk::mount(3) else {
        rerun_in_namespace(
            "full_disk::on_a_full_disk_every_write_is_refused_and_none_is_there_afterwards",
        );
        return;
    };
    let url = disk.sqlite_url("coach.db");
    let store = Store::open(&url).await.unwrap();
    let _beside = Store::open(&url).await.unwrap();
    writes_refuse_and_leave_nothing(&store, || disk.fill(), || disk.free()).await;
}

#[tokio::test]
async fn setups_are_tracked_again_as_soon_as_the_disk_has_room() {
    let Some(disk) = HereDisk::mount(3) else {
        rerun_in_namespace("full_disk::setups_are_tracked_again_as_soon_as_the_disk_has_room");
        return;
    };
    let url = disk.sqlite_url("coach.db");
    let store = Store::open(&url).await.unwrap();
    let _beside = Store::open(&url).await.unwrap();
    let user = store.ensure_user("local", Utc::now()).await.unwrap();
    let mut detections = Vec::new();
    for i in 0..(6 * POOL_SIZE) {
        let d = support::team::detection(&format!("S{i}"));
        let (id, _) = store.insert_detection(&d).await.unwrap();
        detections.push(StoredDetection { id, detection: d });
    }
    let (refused, after) = detections.split_at(2 * POOL_SIZE);

    // Tracking writes two rows in one `BEGIN IMMEDIATE` transaction; its commit fails.
    disk.fill();
    for d in refused {
        full(
            "tracking a setup",
            store.track(user, d, false, Utc::now()).await,
        );
    }
    disk.free();

    for d in after {
        match store.track(user, d, false, Utc::now()).await {
            Ok(TrackResult::Tracked(_)) => {}
            other => panic!("tracking {} once the disk has room: {other:?}", d.id),
        }
    }
    for symbol in ["NVDA", "AAPL", "MSFT", "TSLA", "AMD"] {
        store
            .add_symbols(user, &[symbol], Utc::now())
            .await
            .unwrap_or_else(|e| panic!("adding {symbol} once the disk has room: {e}"));
    }
}

/// PostgreSQL refusing writes (a session default of read-only transactions, as a
/// read-only replica or `ALTER DATABASE … SET default_transaction_read_only` gives):
/// every write is an error, and nothing of them is there afterwards.
#[tokio::test]
async fn postgres_refusing_writes_reports_every_write() {
    let Some(pg) = support::postgres().await else {
        return;
    };
    let read_only = pg
        .reopen_with(&[("default_transaction_read_only", "on")])
        .await;
    let (user, alert_id, position_id, setup_id) = prepare(&pg.store).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    full(
        "adding an alert",
        read_only
            .add_alert(user, &alert(2.0, "lost"), Utc::now())
            .await,
    );
    full(
        "firing an alert",
        read_only.fire_alert(user, &firing(alert_id)).await,
    );
    full(
        "closing a position",
        read_only
            .close_position(user, position_id, Utc::now())
            .await,
    );
    full(
        "saving a note",
        read_only
            .set_notes(user, setup_id, "lost note", Utc::now())
            .await,
    );
    full(
        "creating a user",
        read_only.ensure_user("newcomer", Utc::now()).await,
    );
    full(
        "counting LLM tokens",
        read_only.add_llm_tokens(user, day, 1234).await,
    );
    full(
        "tracking a setup",
        async {
            let d = support::team::detection("DIA");
            let (id, _) = pg.store.insert_detection(&d).await?;
            read_only
                .track(
                    user,
                    &StoredDetection { id, detection: d },
                    false,
                    Utc::now(),
                )
                .await
        }
        .await,
    );
    let alerts = pg.store.alerts(user).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].fired_at.is_none());
    assert_eq!(pg.store.positions(user, false).await.unwrap().len(), 1);
    assert_eq!(pg.store.user_names().await.unwrap(), ["local"]);
}
