//! Tracked setups in the store behave the same on SQLite and PostgreSQL: duplicate-safe
//! tracking, the version guard under a race, reopen refused while a twin is active, the
//! journal, per-user isolation, and everything surviving a restart.

use crate::support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::setups::{
    ManualAction, Outcome, PriceUpdate, SetupStatus, Transition, TransitionReason, apply_manual,
    evaluate,
};
use coach::store::{SetupRow, Store, StoreError, StoredDetection, TrackResult, UserId};

/// 2026-11-24 (EST): 15:00 UTC is 10:00 New York.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn spy_long(key: &str) -> Detection {
    Detection {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 72,
        entry: 681.25,
        stop: 679.75,
        target: 684.25,
        detected_at: at(15, 6),
        bar_time: at(15, 5),
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: key.into(),
        rationale: "close 681.10 above the 15-minute range high 680.40 on 2.1x volume".into(),
        gex: None,
    }
}

async fn stored(store: &Store, detection: Detection) -> StoredDetection {
    let (id, _) = store.insert_detection(&detection).await.unwrap();
    StoredDetection { id, detection }
}

async fn track_new(
    store: &Store,
    user: UserId,
    d: &StoredDetection,
    when: DateTime<Utc>,
) -> SetupRow {
    match store.track(user, d, false, when).await.unwrap() {
        TrackResult::Tracked(row) => row,
        TrackResult::AlreadyTracked(row) => panic!("expected a new setup, got {row:?}"),
    }
}

async fn manual(
    store: &Store,
    user: UserId,
    row: &SetupRow,
    action: ManualAction,
    when: DateTime<Utc>,
) -> Result<SetupRow, StoreError> {
    let t = apply_manual(&row.setup, action, when).expect("the action is allowed");
    store.apply_transition(user, &t, "trader").await
}

fn reasons(events: &[coach::store::SetupEvent]) -> Vec<&str> {
    events.iter().map(|e| e.reason.as_str()).collect()
}

#[tokio::test]
async fn tracking_the_same_detection_twice_returns_the_existing_setup() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let first = track_new(s, user, &d, at(15, 7)).await;
        assert_eq!(first.setup.status, SetupStatus::Active, "{}", t.name);
        assert_eq!(
            (first.setup.entry, first.setup.stop, first.setup.target),
            (681.25, 679.75, 684.25)
        );
        assert_eq!(first.setup.source_id, Some(d.id));
        assert_eq!(first.setup.armed_at, at(15, 7));
        assert_eq!(first.setup.version, 1);
        let again = s.track(user, &d, false, at(15, 8)).await.unwrap();
        assert_eq!(
            again,
            TrackResult::AlreadyTracked(first.clone()),
            "{}",
            t.name
        );
        // Invalidated still counts as tracked: the trader sees the old one, not a copy.
        let invalidated = manual(s, user, &first, ManualAction::Invalidate, at(15, 9))
            .await
            .unwrap();
        let third = s.track(user, &d, false, at(15, 10)).await.unwrap();
        assert_eq!(
            third,
            TrackResult::AlreadyTracked(invalidated.clone()),
            "{}",
            t.name
        );
        // Archived is put away: tracking again starts a new setup.
        manual(s, user, &invalidated, ManualAction::Archive, at(15, 11))
            .await
            .unwrap();
        let fresh = track_new(s, user, &d, at(15, 12)).await;
        assert_ne!(fresh.setup.id, first.setup.id, "{}", t.name);
        assert_eq!(s.setups(user, None).await.unwrap().len(), 2);
        let events = s.setup_events(user, first.setup.id).await.unwrap();
        assert_eq!(
            reasons(&events),
            ["tracked", "manual_invalidate", "manual_archive"],
            "{}",
            t.name
        );
        assert_eq!(events[0].from_status, None);
        assert_eq!(events[0].actor, "trader");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_concurrently_makes_one_setup() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let (s, d) = (s.clone(), d.clone());
                tokio::spawn(async move {
                    s.track(user, &d, false, at(15, 7) + Duration::seconds(i))
                        .await
                })
            })
            .collect();
        let mut new = 0;
        let mut ids = Vec::new();
        for task in tasks {
            let result = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            new += matches!(result, TrackResult::Tracked(_)) as usize;
            ids.push(result.row().setup.id);
        }
        assert_eq!(new, 1, "{}: exactly one new setup", t.name);
        ids.dedup();
        assert_eq!(ids.len(), 1, "{}: every caller got the same setup", t.name);
        assert_eq!(s.setups(user, None).await.unwrap().len(), 1, "{}", t.name);
    }
}

#[tokio::test]
async fn reopening_is_refused_while_another_active_setup_tracks_the_same_detection() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let old = track_new(s, user, &d, at(15, 7)).await;
        let archived = manual(s, user, &old, ManualAction::Archive, at(15, 8))
            .await
            .unwrap();
        let twin = track_new(s, user, &d, at(15, 9)).await;
        let err = manual(s, user, &archived, ManualAction::Reopen, at(15, 10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(_)),
            "{}: {err:?}",
            t.name
        );
        let message = err.to_string();
        assert_eq!(
            message,
            format!(
                "setup {} cannot be reopened: setup {} already tracks the same detection and is \
                 active; archive or invalidate it first",
                old.setup.id, twin.setup.id
            ),
            "{}",
            t.name
        );
        let unchanged = s.setup(user, old.setup.id).await.unwrap().unwrap();
        assert_eq!(unchanged, archived, "{}: nothing was applied", t.name);
        assert_eq!(s.setup_events(user, old.setup.id).await.unwrap().len(), 2);
        // Once the twin is put away, the reopen goes through and re-arms the setup.
        manual(s, user, &twin, ManualAction::Archive, at(15, 11))
            .await
            .unwrap();
        let reopened = manual(s, user, &archived, ManualAction::Reopen, at(15, 12))
            .await
            .unwrap();
        assert_eq!(reopened.setup.status, SetupStatus::Active, "{}", t.name);
        assert_eq!(reopened.setup.armed_at, at(15, 12));
        assert_eq!(reopened.setup.archived_at, None);
        assert_eq!(reopened.setup.version, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evaluator_and_a_manual_action_racing_on_one_setup_apply_exactly_one() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        for round in 0..5 {
            let d = stored(s, spy_long(&format!("race{round}"))).await;
            let row = track_new(s, user, &d, at(15, 7)).await;
            // Both computed on version 1: the evaluator sees 681.30 trade through the
            // entry while the trader presses `i`.
            let by_price = evaluate(&row.setup, &PriceUpdate::trade(at(15, 8), 681.30))
                .expect("681.30 crosses the entry 681.25");
            assert_eq!(by_price.reason, TransitionReason::EntryCrossed);
            let by_hand = apply_manual(&row.setup, ManualAction::Invalidate, at(15, 8)).unwrap();
            let (s1, s2) = (s.clone(), s.clone());
            let (a, b) = tokio::join!(
                tokio::spawn(
                    async move { s1.apply_transition(user, &by_price, "evaluator").await }
                ),
                tokio::spawn(async move { s2.apply_transition(user, &by_hand, "trader").await }),
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            let (winner, loser) = match (&a, &b) {
                (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w.clone(), l),
                _ => panic!("{}: exactly one must win: {a:?} / {b:?}", t.name),
            };
            assert!(
                matches!(loser, StoreError::Conflict(_)),
                "{}: {loser:?}",
                t.name
            );
            assert_eq!(
                loser.to_string(),
                format!(
                    "setup {} changed meanwhile (now {}); nothing was applied",
                    row.setup.id,
                    match winner.setup.status {
                        SetupStatus::Triggered => "triggered (open)",
                        _ => "invalidated",
                    }
                ),
                "{}",
                t.name
            );
            let stored = s.setup(user, row.setup.id).await.unwrap().unwrap();
            assert_eq!(stored, winner, "{}", t.name);
            assert_eq!(stored.setup.version, 2);
            let events = s.setup_events(user, row.setup.id).await.unwrap();
            assert_eq!(
                events.len(),
                2,
                "{}: tracked + exactly one transition",
                t.name
            );
            assert_eq!(events[1].from_status, Some(SetupStatus::Active));
            assert_eq!(events[1].to_status, stored.setup.status);
            let expected_actor = if stored.setup.status == SetupStatus::Triggered {
                "evaluator"
            } else {
                "trader"
            };
            assert_eq!(events[1].actor, expected_actor, "{}", t.name);
        }
    }
}

#[tokio::test]
async fn a_transition_applied_twice_is_refused_the_second_time() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let trigger = evaluate(&row.setup, &PriceUpdate::trade(at(15, 8), 681.50)).unwrap();
        s.apply_transition(user, &trigger, "evaluator")
            .await
            .unwrap();
        let err = s
            .apply_transition(user, &trigger, "evaluator")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "setup {} changed meanwhile (now triggered (open)); nothing was applied",
                row.setup.id
            ),
            "{}",
            t.name
        );
        assert_eq!(s.setup_events(user, row.setup.id).await.unwrap().len(), 2);
        // A transition the table does not allow from the current state is refused as such.
        let mut bogus = trigger;
        bogus.from_version = 2;
        bogus.from = SetupStatus::Triggered;
        let err = s
            .apply_transition(user, &bogus, "evaluator")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{}: {err:?}", t.name);
        assert_eq!(
            err.to_string(),
            format!("setup {} is already triggered (open)", row.setup.id)
        );
    }
}

#[tokio::test]
async fn a_long_that_triggers_and_hits_its_target_keeps_its_whole_history() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let bar = |m: u32, high: f64, low: f64| PriceUpdate {
            at: at(15, m),
            high,
            low,
            last: (high + low) / 2.0,
        };
        let t1 = evaluate(&row.setup, &bar(9, 681.40, 680.90)).unwrap();
        let triggered = s.apply_transition(user, &t1, "evaluator").await.unwrap();
        assert_eq!(triggered.setup.outcome, Some(Outcome::Open));
        assert_eq!(triggered.setup.triggered_at, Some(at(15, 9)));
        let live = s.live_setups().await.unwrap();
        assert_eq!(
            live.iter()
                .map(|(u, r)| (*u, r.setup.id))
                .collect::<Vec<_>>(),
            [(user, row.setup.id)]
        );
        let t2 = evaluate(&triggered.setup, &bar(31, 684.60, 683.10)).unwrap();
        let won = s.apply_transition(user, &t2, "evaluator").await.unwrap();
        assert_eq!(won.setup.outcome, Some(Outcome::TargetHit), "{}", t.name);
        assert_eq!(
            won.setup.realised_r,
            Some(2.0),
            "(684.25 − 681.25) / (681.25 − 679.75)"
        );
        assert_eq!(won.setup.resolved_at, Some(at(15, 31)));
        assert!(
            s.live_setups().await.unwrap().is_empty(),
            "{}: resolved is not live",
            t.name
        );
        let archived = manual(s, user, &won, ManualAction::Archive, at(16, 0))
            .await
            .unwrap();
        assert_eq!(
            archived.setup.outcome,
            Some(Outcome::TargetHit),
            "archiving keeps the outcome"
        );
        let events = s.setup_events(user, row.setup.id).await.unwrap();
        assert_eq!(
            reasons(&events),
            ["tracked", "entry_crossed", "target_hit", "manual_archive"],
            "{}",
            t.name
        );
        assert_eq!(events[1].price, Some(681.25));
        assert_eq!(events[2].price, Some(684.25));
        assert_eq!(events[3].price, None);
        assert_eq!(
            events.iter().map(|e| e.at).collect::<Vec<_>>(),
            [at(15, 7), at(15, 9), at(15, 31), at(16, 0)]
        );
        assert_eq!(
            events.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(),
            ["trader", "evaluator", "evaluator", "trader"]
        );
        assert_eq!(
            s.setups(user, Some(SetupStatus::Archived)).await.unwrap(),
            [archived]
        );
        assert!(
            s.setups(user, Some(SetupStatus::Active))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn notes_change_no_version_and_deleting_removes_the_journal() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let noted = s
            .set_notes(
                user,
                row.setup.id,
                "wait for the retest of 680.40",
                at(15, 8),
            )
            .await
            .unwrap();
        assert_eq!(noted.notes, "wait for the retest of 680.40", "{}", t.name);
        assert_eq!(noted.setup.version, 1, "a note is not a transition");
        assert_eq!(noted.setup.updated_at, at(15, 8));
        // The evaluator's transition computed before the note still applies.
        let trigger = evaluate(&row.setup, &PriceUpdate::trade(at(15, 9), 681.30)).unwrap();
        let triggered = s
            .apply_transition(user, &trigger, "evaluator")
            .await
            .unwrap();
        assert_eq!(triggered.notes, "wait for the retest of 680.40");
        let long = "x".repeat(coach::store::MAX_NOTES_CHARS + 1);
        let err = s
            .set_notes(user, row.setup.id, &long, at(15, 10))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at most 2000"), "{err}");
        s.delete_setup(user, row.setup.id).await.unwrap();
        assert!(
            s.setup(user, row.setup.id).await.unwrap().is_none(),
            "{}",
            t.name
        );
        assert!(s.setup_events(user, row.setup.id).await.unwrap().is_empty());
        let again = s.delete_setup(user, row.setup.id).await.unwrap_err();
        assert_eq!(
            again.to_string(),
            format!("setup {} not found", row.setup.id)
        );
        // The detection stays; tracking it again makes a new setup.
        track_new(s, user, &d, at(15, 11)).await;
    }
}

#[tokio::test]
async fn a_trader_never_reads_or_changes_another_traders_setups() {
    for t in support::stores().await {
        let s = &t.store;
        let ann = s.ensure_user("ann", at(14, 0)).await.unwrap();
        let bob = s.ensure_user("bob", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let anns = track_new(s, ann, &d, at(15, 7)).await;
        let id = anns.setup.id;
        assert!(s.setups(bob, None).await.unwrap().is_empty(), "{}", t.name);
        assert!(s.setup(bob, id).await.unwrap().is_none());
        assert!(s.setup_events(bob, id).await.unwrap().is_empty());
        let t1 = apply_manual(&anns.setup, ManualAction::Archive, at(15, 8)).unwrap();
        let err = s.apply_transition(bob, &t1, "trader").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("setup {id} not found"),
            "{}",
            t.name
        );
        assert!(matches!(
            s.set_notes(bob, id, "mine now", at(15, 8)).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.delete_setup(bob, id).await,
            Err(StoreError::NotFound(_))
        ));
        // Bob tracking the same detection gets his own setup, not Ann's.
        let bobs = track_new(s, bob, &d, at(15, 9)).await;
        assert_ne!(bobs.setup.id, id);
        let ann_now = s.setup(ann, id).await.unwrap().unwrap();
        assert_eq!(ann_now, anns, "{}: Ann's setup is untouched", t.name);
        assert_eq!(s.setup_events(ann, id).await.unwrap().len(), 1);
        let mut owners: Vec<UserId> = s
            .live_setups()
            .await
            .unwrap()
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        owners.sort_by_key(|u| u.0);
        assert_eq!(owners, [ann, bob]);
    }
}

#[tokio::test]
async fn plans_that_cannot_be_tracked_are_refused_with_the_reason() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let mut bad = spy_long("bad");
        bad.stop = 690.0;
        let d = stored(s, bad).await;
        let err = s
            .track(user, &d, false, at(15, 7))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("stop < entry < target"), "{}: {err}", t.name);
        let ghost = StoredDetection {
            id: 987_654,
            detection: spy_long("ghost"),
        };
        let err = s
            .track(user, &ghost, false, at(15, 7))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err, "detection 987654 is not stored; it cannot be tracked",
            "{}",
            t.name
        );
        assert!(s.setups(user, None).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_restart_keeps_setups_their_state_and_their_journal() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let noted = s
            .set_notes(user, row.setup.id, "size ½", at(15, 7))
            .await
            .unwrap();
        let trigger: Transition =
            evaluate(&noted.setup, &PriceUpdate::trade(at(15, 8), 681.30)).unwrap();
        let triggered = s
            .apply_transition(user, &trigger, "evaluator")
            .await
            .unwrap();
        let events = s.setup_events(user, row.setup.id).await.unwrap();
        s.close().await;

        let again = t.reopen().await;
        let user2 = again.ensure_user("local", at(16, 0)).await.unwrap();
        assert_eq!(user2, user);
        assert_eq!(
            again.setup(user, row.setup.id).await.unwrap(),
            Some(triggered.clone()),
            "{}",
            t.name
        );
        assert_eq!(
            again.setup_events(user, row.setup.id).await.unwrap(),
            events
        );
        assert_eq!(
            again.live_setups().await.unwrap(),
            [(user, triggered.clone())]
        );
        assert_eq!(
            again.track(user, &d, false, at(16, 1)).await.unwrap(),
            TrackResult::AlreadyTracked(triggered),
            "{}: still duplicate-safe after the restart",
            t.name
        );
        again.close().await;
    }
}

#[tokio::test]
async fn watchlist_symbols_are_added_and_removed_with_every_symbol_checked() {
    fn names(list: &coach::store::Watchlist) -> Vec<&str> {
        list.symbols.iter().map(Symbol::as_str).collect()
    }
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let list = s
            .add_symbols(user, &["nvda", " spy", "TSLA"], at(14, 1))
            .await
            .unwrap();
        assert_eq!(
            names(&list),
            ["SPX", "NDX", "SPY", "QQQ", "NVDA", "TSLA"],
            "{}",
            t.name
        );
        let err = s
            .add_symbols(user, &["AAPL", "BAD SYMBOL"], at(14, 2))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("BAD SYMBOL") && err.contains("entry 2"),
            "{}: {err}",
            t.name
        );
        let err = s
            .remove_symbols(user, &["SPY", "MSFT"], at(14, 3))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err, "MSFT is not on the watchlist \"Default\"",
            "{}",
            t.name
        );
        let unchanged = s.default_watchlist(user, at(14, 4)).await.unwrap();
        assert_eq!(
            names(&unchanged),
            ["SPX", "NDX", "SPY", "QQQ", "NVDA", "TSLA"],
            "nothing saved"
        );
        let list = s
            .remove_symbols(user, &["spx", "ndx"], at(14, 5))
            .await
            .unwrap();
        assert_eq!(names(&list), ["SPY", "QQQ", "NVDA", "TSLA"]);
        let err = s
            .remove_symbols(user, &["SPY", "QQQ", "NVDA", "TSLA"], at(14, 6))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("would leave the watchlist empty"),
            "{err}"
        );
        let many: Vec<String> = (0..47).map(|i| format!("S{i}")).collect();
        let err = s.add_symbols(user, &many, at(14, 7)).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "a watchlist holds at most 50 symbols, got 51"
        );
        // Deleting the last list recreates the default.
        let recreated = s.delete_watchlist(user, list.id, at(14, 8)).await.unwrap();
        assert_ne!(recreated.id, list.id, "{}", t.name);
        assert_eq!(names(&recreated), ["SPX", "NDX", "SPY", "QQQ"]);
        assert!(recreated.is_default);
        let bob = s.ensure_user("bob", at(14, 0)).await.unwrap();
        let err = s
            .delete_watchlist(bob, recreated.id, at(14, 9))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }
}

/// A minute-bar-like update ending at `m` past 15:00 UTC (10:00 New York).
fn bar_at(m: u32, high: f64, low: f64) -> PriceUpdate {
    PriceUpdate {
        at: at(15, m),
        high,
        low,
        last: (high + low) / 2.0,
    }
}

#[tokio::test]
async fn reopening_keeps_the_earlier_minus_one_r_in_the_journal() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        // Long SPY: stop 679.75, entry 681.25, target 684.25 (risk 1.50).
        let d = stored(s, spy_long("or15")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let t1 = evaluate(&row.setup, &bar_at(9, 681.40, 680.90)).unwrap();
        let triggered = s.apply_transition(user, &t1, "evaluator").await.unwrap();
        assert_eq!(triggered.setup.fill_price, Some(681.25), "{}", t.name);
        let t2 = evaluate(&triggered.setup, &bar_at(20, 680.50, 679.60)).unwrap();
        let lost = s.apply_transition(user, &t2, "evaluator").await.unwrap();
        assert_eq!(
            (
                lost.setup.outcome,
                lost.setup.exit_price,
                lost.setup.realised_r
            ),
            (Some(Outcome::StoppedOut), Some(679.75), Some(-1.0)),
            "{}",
            t.name
        );

        // The trader reopens it: a new attempt, the row's result cleared...
        let reopened = manual(s, user, &lost, ManualAction::Reopen, at(15, 30))
            .await
            .unwrap();
        assert_eq!(
            (
                reopened.setup.status,
                reopened.setup.outcome,
                reopened.setup.fill_price,
                reopened.setup.exit_price,
                reopened.setup.realised_r
            ),
            (SetupStatus::Active, None, None, None, None)
        );
        // ...the journal still has the −1 R, with the prices it was booked at.
        let events = s.setup_events(user, row.setup.id).await.unwrap();
        assert_eq!(
            reasons(&events),
            ["tracked", "entry_crossed", "stopped_out", "reopen"],
            "{}",
            t.name
        );
        assert_eq!(
            events
                .iter()
                .map(|e| (e.price, e.realised_r))
                .collect::<Vec<_>>(),
            [
                (None, None),
                (Some(681.25), None),
                (Some(679.75), Some(-1.0)),
                (None, None)
            ]
        );

        // The second attempt gaps above the entry: filled at the bar's low 681.60, out at
        // the target 684.25: (684.25 − 681.60) / 1.50 = +1.77 R, not the plan's +2 R.
        let t3 = evaluate(&reopened.setup, &bar_at(31, 681.90, 681.60)).unwrap();
        let again = s.apply_transition(user, &t3, "evaluator").await.unwrap();
        let t4 = evaluate(&again.setup, &bar_at(45, 684.40, 683.90)).unwrap();
        let won = s.apply_transition(user, &t4, "evaluator").await.unwrap();
        assert_eq!(
            (won.setup.fill_price, won.setup.exit_price),
            (Some(681.60), Some(684.25))
        );
        let r = won.setup.realised_r.unwrap();
        assert!((r - 2.65 / 1.5).abs() < 1e-9, "{}: {r}", t.name);
        let events = s.setup_events(user, row.setup.id).await.unwrap();
        let results: Vec<_> = events
            .iter()
            .filter_map(|e| Some((e.reason.as_str(), e.realised_r?)))
            .collect();
        assert_eq!(results.len(), 2, "{}: both attempts in the journal", t.name);
        assert_eq!(results[0], ("stopped_out", -1.0));
        assert_eq!(results[1].0, "target_hit");
        assert!((results[1].1 - r).abs() < 1e-12);
        // What the store reads back is what it wrote.
        assert_eq!(
            s.setup(user, row.setup.id).await.unwrap(),
            Some(won),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_late_tracked_plan_whose_target_already_traded_is_refused_with_the_time() {
    use coach::setups::{LateTrack, judge_late_track};
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        // Detected at 15:06 UTC (10:06 ET); the target 684.25 traded in the bar ending 15:42.
        let d = stored(s, spy_long("or15")).await;
        let verdict = judge_late_track(
            &d.detection,
            [bar_at(20, 682.00, 681.00), bar_at(42, 684.50, 683.20)],
        );
        let err = s
            .track_judged(user, &d, false, at(17, 0), "trader", &verdict)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{}: {err:?}", t.name);
        assert_eq!(
            err.to_string(),
            "SPY orb_breakout: target already reached at 10:42 ET"
        );
        assert!(
            s.setups(user, None).await.unwrap().is_empty(),
            "{}: nothing was written",
            t.name
        );

        // Only the entry passed: tracked (the caller warns), armed now.
        let passed = judge_late_track(&d.detection, [bar_at(20, 682.00, 681.00)]);
        assert_eq!(
            passed.warning().as_deref(),
            Some("entry already passed at 10:20 ET; fills at the next price")
        );
        let tracked = s
            .track_judged(user, &d, false, at(15, 25), "trader", &passed)
            .await
            .unwrap();
        let TrackResult::Tracked(row) = tracked else {
            panic!("{}: expected a new setup", t.name)
        };
        assert_eq!(row.setup.armed_at, at(15, 25));
        // The next price is above the entry: the fill is that price, not the entry.
        let fill = evaluate(&row.setup, &PriceUpdate::trade(at(15, 26), 682.10)).unwrap();
        assert_eq!(fill.price, Some(682.10));

        // A detection already tracked is answered as such, before any late verdict.
        let again = s
            .track_judged(user, &d, false, at(17, 0), "trader", &verdict)
            .await
            .unwrap();
        assert!(
            matches!(again, TrackResult::AlreadyTracked(_)),
            "{}",
            t.name
        );
        assert_ne!(verdict, LateTrack::Fresh);
    }
}

/// Issue 22 item 5: Enter on a setup shows the detector's rationale after a restart too,
/// read back from the stored detection (the Scanner no longer lists it).
#[tokio::test]
async fn a_tracked_setups_rationale_is_read_back_after_a_restart() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let other = s.ensure_user("bob", at(14, 0)).await.unwrap();
        let d = stored(s, spy_long("or15-rationale")).await;
        let row = track_new(s, user, &d, at(15, 7)).await;
        let again = t.reopen().await;
        assert_eq!(
            again
                .setup_rationale(user, row.setup.id)
                .await
                .unwrap()
                .as_deref(),
            Some("close 681.10 above the 15-minute range high 680.40 on 2.1x volume"),
            "{}",
            t.name
        );
        assert_eq!(
            again.setup_rationale(other, row.setup.id).await.unwrap(),
            None,
            "another trader's setup: {}",
            t.name
        );
        assert_eq!(again.setup_rationale(user, 999_999).await.unwrap(), None);
        again.close().await;
    }
}
