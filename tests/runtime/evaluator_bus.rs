//! The evaluator worker driven step by step through a hand-fed market bus: a setup
//! changed by another process is reloaded and judged on the next price; pre-market and
//! after-hours prices move nothing; the first step after the close expires active
//! single-day setups.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::{Bar, Detection, Direction, SetupKind, Symbol};
use coach::market::calendar;
use coach::provider::{MarketEvent, MarketSnapshot, Quote, SymbolSnapshot};
use coach::runtime::AppEvent;
use coach::runtime::bus::MarketBus;
use coach::runtime::evaluate::run_evaluator;
use coach::runtime::health::Health;
use coach::runtime::setup_changes::{SetupChange, SetupChanges};
use coach::runtime::supervisor::WorkerCtx;
use coach::setups::{ManualAction, Outcome, SetupStatus, TransitionReason, apply_manual};
use coach::store::{SetupRow, Store, StoredDetection, TrackResult, UserId};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// 2026-11-24 (EST): 14:30 UTC is the 09:30 open, 21:00 UTC the 16:00 close.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

struct Rig {
    bus: MarketBus,
    health: Health,
    changes: SetupChanges,
    events: mpsc::Receiver<AppEvent>,
    cancel: CancellationToken,
    /// Events the rig sent (changes and steps).
    sent: u64,
    /// Changes the rig published; the rest seen on `watch` are the evaluator's own,
    /// which it also hears (one heartbeat each).
    published: u64,
    watch: broadcast::Receiver<SetupChange>,
    seen: u64,
}

impl Rig {
    /// A bus whose "feed" answers snapshot requests with the session at 09:25 ET and no
    /// bars, and an evaluator running on it (ready when this returns).
    async fn start(store: &Store) -> Rig {
        Rig::start_with(store, at(14, 25), vec![]).await
    }

    /// The same, with a feed whose snapshot is taken at `now` and holds today's `bars`.
    async fn start_with(store: &Store, now: DateTime<Utc>, bars: Vec<Bar>) -> Rig {
        let (bus, requests) = MarketBus::new(64);
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let snapshot = Arc::new(MarketSnapshot {
            provider: "test",
            delayed: false,
            session,
            now,
            symbols: vec![SymbolSnapshot {
                symbol: spy(),
                is_index: false,
                bars: bars.into(),
                previous_bars: Default::default(),
                earlier_bars: Default::default(),
                daily: Default::default(),
                prior_close: None,
                history_loading: false,
                last: None,
            }],
        });
        tokio::spawn(async move {
            while let Some(reply) = requests.next().await {
                let _ = reply.send(snapshot.clone());
            }
        });
        let health = Health::default();
        health.register("evaluate", Duration::from_secs(1));
        let cancel = CancellationToken::new();
        let changes = SetupChanges::default();
        let watch = changes.subscribe();
        let (ui, events) = mpsc::channel(64);
        let ctx = WorkerCtx {
            name: "evaluate",
            health: health.clone(),
            cancel: cancel.clone(),
        };
        // No webhook configured: alerts are counted and logged, nothing is sent.
        let metrics = std::sync::Arc::new(coach::runtime::metrics::Metrics::default());
        let (notifier, _dispatcher) = coach::runtime::alerting::notifier(
            &coach::config::Config::default(),
            coach::notify::discord::RetryPolicy::default(),
            ui.clone(),
            metrics.clone(),
        );
        let sinks = coach::runtime::evaluate::TransitionSinks { notifier, metrics };
        tokio::spawn(run_evaluator(
            ctx,
            bus.clone(),
            store.clone(),
            changes.clone(),
            coach::runtime::alert_changes::AlertChanges::default(),
            ui,
            sinks,
            coach::runtime::ownership::all(),
            coach::runtime::gex::GexChannels::new().subscribe(),
        ));
        let mut rig = Rig {
            bus,
            health,
            changes,
            events,
            cancel,
            sent: 0,
            published: 0,
            watch,
            seen: 0,
        };
        rig.settle().await;
        rig
    }

    fn cycles(&self) -> u64 {
        self.health.snapshot()[0].cycles
    }

    /// Waits until the evaluator has handled everything sent so far: one heartbeat at
    /// start, then one per event — the rig's, and the changes the evaluator published
    /// itself (it publishes them before the heartbeat of the step that caused them).
    async fn settle(&mut self) {
        for _ in 0..1000 {
            while self.watch.try_recv().is_ok() {
                self.seen += 1;
            }
            let want = 1 + self.sent + (self.seen - self.published);
            if self.cycles() >= want {
                while self.watch.try_recv().is_ok() {
                    self.seen += 1;
                }
                if self.cycles() >= 1 + self.sent + (self.seen - self.published) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "the evaluator handled {} events, fewer than were sent",
            self.cycles()
        );
    }

    async fn publish(&mut self, change: SetupChange) {
        self.changes.publish(change);
        self.sent += 1;
        self.published += 1;
        self.settle().await;
    }

    async fn step(&mut self, when: DateTime<Utc>, price: f64, bar: Option<Bar>) {
        self.bus.publish(MarketEvent::Step {
            at: when,
            quotes: vec![Quote {
                symbol: spy(),
                price,
                at: when,
            }],
            bars: bar.map(|b| (spy(), b)).into_iter().collect(),
        });
        self.sent += 1;
        self.settle().await;
    }

    /// The transitions the screen was told about so far: (setup, reason).
    fn told(&mut self) -> Vec<(i64, TransitionReason)> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if let AppEvent::SetupChanged {
                transition: Some(t),
                ..
            } = event
            {
                out.push((t.setup_id, t.reason));
            }
        }
        out
    }
}

async fn track(
    store: &Store,
    user: UserId,
    key: &str,
    levels: (f64, f64, f64),
    multi_day: bool,
    when: DateTime<Utc>,
) -> SetupRow {
    let detection = Detection {
        symbol: spy(),
        kind: SetupKind::VwapReclaim,
        direction: Direction::Long,
        confidence: 65,
        entry: levels.0,
        stop: levels.1,
        target: levels.2,
        detected_at: when,
        bar_time: when,
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: key.into(),
        rationale: "test".into(),
        gex: None,
    };
    let (id, _) = store.insert_detection(&detection).await.unwrap();
    match store
        .track(user, &StoredDetection { id, detection }, multi_day, when)
        .await
        .unwrap()
    {
        TrackResult::Tracked(row) => row,
        other => panic!("{other:?}"),
    }
}

fn journal(events: &[coach::store::SetupEvent]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| (e.reason.as_str(), e.actor.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_changed_by_another_process_is_reloaded_and_judged_on_the_next_price() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        let mut rig = Rig::start(s).await;
        let row = track(s, user, "a", (101.0, 100.0, 103.0), false, at(14, 35)).await;
        rig.publish(SetupChange::written(user, row.clone())).await;
        // Another process (a second terminal on the same database) marks it triggered
        // and the evaluator does not hear of it.
        let by_hand = apply_manual(&row.setup, ManualAction::Trigger, at(14, 36)).unwrap();
        s.apply_transition(user, &by_hand, "trader").await.unwrap();

        // 101.50 crosses the entry: the evaluator's transition is for version 1 and is
        // refused; it reloads the triggered setup instead of failing.
        rig.step(at(14, 37), 101.5, None).await;
        assert!(rig.told().is_empty(), "{}", t.name);
        assert_eq!(
            rig.health.snapshot()[0].errors,
            0,
            "a conflict is not a failure"
        );
        // The next price judges the reloaded, triggered setup: 103.20 reaches the target.
        rig.step(at(14, 38), 103.2, None).await;
        assert_eq!(
            rig.told(),
            [(row.setup.id, TransitionReason::TargetHit)],
            "{}",
            t.name
        );
        rig.cancel.cancel();
        let stored = s.setup(user, row.setup.id).await.unwrap().unwrap();
        assert_eq!(stored.setup.outcome, Some(Outcome::TargetHit));
        // Honest fills: the manual trigger filled at the entry 101.00; the trade that
        // reached the target printed 103.20, so (103.20 − 101.00) / 1.00 = +2.2 R.
        assert_eq!(
            (stored.setup.fill_price, stored.setup.exit_price),
            (Some(101.0), Some(103.2))
        );
        let r = stored.setup.realised_r.unwrap();
        assert!((r - 2.2).abs() < 1e-9, "{r}");
        assert_eq!(
            journal(&s.setup_events(user, row.setup.id).await.unwrap()),
            [
                ("tracked", "trader"),
                ("manual_trigger", "trader"),
                ("target_hit", "evaluator")
            ],
            "{}: the refused transition left no trace",
            t.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_regular_session_prices_count_and_the_close_expires_single_day_setups() {
    let t = support::sqlite().await;
    let s = &t.store;
    let user = s.ensure_user("local", at(14, 0)).await.unwrap();
    let mut rig = Rig::start(s).await;
    // Tracked in the pre-market (09:00 ET).
    let near = track(s, user, "near", (101.0, 100.0, 103.0), false, at(14, 0)).await;
    let far = track(s, user, "far", (110.0, 90.0, 150.0), false, at(14, 0)).await;
    let multi = track(s, user, "multi", (110.0, 90.0, 150.0), true, at(14, 0)).await;
    for row in [&near, &far, &multi] {
        rig.publish(SetupChange::written(user, row.clone())).await;
    }

    // A pre-market print through the entry triggers nothing.
    rig.step(at(14, 10), 101.5, None).await;
    // Neither does the 09:29 minute's last price, stamped 09:30:00.
    rig.step(at(14, 30), 101.6, None).await;
    assert!(rig.told().is_empty());
    // The 09:30 bar (final at 09:31) reaches 101.20: triggered at the entry.
    let bar = Bar {
        start: at(14, 30),
        open: 100.6,
        high: 101.2,
        low: 100.5,
        close: 100.9,
        volume: 1.0e6,
    };
    rig.step(at(14, 31), 100.9, Some(bar)).await;
    assert_eq!(
        rig.told(),
        [(near.setup.id, TransitionReason::EntryCrossed)]
    );
    // The regular session ends with nothing else crossed; an after-hours print below the
    // stop, on the first step after the 16:00 close, does not stop the trade out, but
    // that step expires the active single-day setup at 16:00.
    rig.step(at(20, 59), 100.8, None).await;
    rig.step(at(21, 5), 99.0, None).await;
    assert_eq!(rig.told(), [(far.setup.id, TransitionReason::Expired)]);
    // Later steps do not expire anything twice.
    rig.step(at(21, 6), 99.0, None).await;
    assert!(rig.told().is_empty());
    rig.cancel.cancel();

    let near_now = s.setup(user, near.setup.id).await.unwrap().unwrap();
    assert_eq!(near_now.setup.outcome, Some(Outcome::Open));
    let trigger = &s.setup_events(user, near.setup.id).await.unwrap()[1];
    assert_eq!((trigger.at, trigger.price), (at(14, 31), Some(101.0)));
    let far_now = s.setup(user, far.setup.id).await.unwrap().unwrap();
    assert_eq!(far_now.setup.status, SetupStatus::Invalidated);
    assert_eq!(far_now.setup.invalidated_at, Some(at(21, 0)));
    let multi_now = s.setup(user, multi.setup.id).await.unwrap().unwrap();
    assert_eq!(multi_now.setup.status, SetupStatus::Active);
}

/// A one-minute SPY bar starting at `start`: (open, high, low, close).
fn minute(start: DateTime<Utc>, ohlc: (f64, f64, f64, f64)) -> Bar {
    Bar {
        start,
        open: ohlc.0,
        high: ohlc.1,
        low: ohlc.2,
        close: ohlc.3,
        volume: 1000.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_that_reaches_the_evaluator_late_is_judged_from_the_bar_after_it_was_armed() {
    for t in support::stores().await {
        let s = &t.store;
        let user = s.ensure_user("local", at(14, 0)).await.unwrap();
        // Bar t is 09:40 ET (14:40Z); the long plan 101 / stop 100 / target 103 is armed
        // at its end, 14:41Z. Bar t+1 (14:41Z) trades 100.60-101.30 through the entry;
        // t+2 and t+3 drift higher. The feed's snapshot at 14:44Z holds all four.
        let bars = vec![
            minute(at(14, 40), (100.5, 100.9, 100.4, 100.8)),
            minute(at(14, 41), (100.8, 101.3, 100.6, 101.2)),
            minute(at(14, 42), (101.2, 101.6, 101.1, 101.5)),
            minute(at(14, 43), (101.5, 101.8, 101.3, 101.7)),
        ];
        let mut rig = Rig::start_with(s, at(14, 44), bars).await;
        let row = track(s, user, "late", (101.0, 100.0, 103.0), false, at(14, 41)).await;
        // It reaches this evaluator at t+3 (another process tracked it; the auto-tracker
        // or a listener told it), then the next minute (14:44Z, 101.40-101.90) arrives.
        rig.publish(SetupChange::written(user, row.clone())).await;
        rig.step(
            at(14, 45),
            101.8,
            Some(minute(at(14, 44), (101.7, 101.9, 101.4, 101.8))),
        )
        .await;
        rig.cancel.cancel();
        assert_eq!(
            rig.told(),
            [(row.setup.id, TransitionReason::EntryCrossed)],
            "{}",
            t.name
        );
        let events = s.setup_events(user, row.setup.id).await.unwrap();
        let entry = events
            .iter()
            .find(|e| e.reason == "entry_crossed")
            .expect("an entry_crossed event");
        assert_eq!(
            (entry.at, entry.price),
            (at(14, 42), Some(101.0)),
            "{}: booked at the end of bar t+1 at the entry, not at 14:45Z @101.40",
            t.name
        );
        let stored = s.setup(user, row.setup.id).await.unwrap().unwrap();
        assert_eq!(stored.setup.status, SetupStatus::Triggered, "{}", t.name);
        assert_eq!(stored.setup.fill_price, Some(101.0), "{}", t.name);
    }
}
