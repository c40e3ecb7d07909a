//! The market bus: live events for every subscriber, and a snapshot on request so a
//! consumer that starts late (or restarts after falling behind) catches up without
//! losing the session so far.
//!
//! Each subscriber has a mailbox of its own, bounded whatever it does: the steps it has
//! not read yet are merged into one (the final bars appended in order, the prices kept
//! at the latest per symbol), so a slow consumer, or the screen between two frames, sees
//! a burst of prices as one step with the last price. Bars are never dropped quietly:
//! past `bar_limit` unread bars the mailbox is emptied and the subscriber's next `recv`
//! answers `Lagged`, after which it restarts from a snapshot (the detector and the
//! evaluator return `fell_behind`, the screen asks the feed for one).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{DateTime, Utc};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, mpsc, oneshot};

use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::provider::{MarketEvent, MarketSnapshot, Quote};

/// The Health note of a worker that stopped because the recording it followed ended.
pub const RECORDING_FINISHED: &str = "recording finished";

/// Snapshots queued in one mailbox (one per session roll, or per recording rewind)
/// beyond which its subscriber is told it lagged.
const MAX_QUEUED_SNAPSHOTS: usize = 16;

type SnapshotReply = oneshot::Sender<Arc<MarketSnapshot>>;

#[derive(Clone, Debug)]
pub struct MarketBus {
    subscribers: Arc<Subscribers>,
    /// Dropped with the last clone of the bus: every mailbox is then closed.
    _open: Arc<Open>,
    requests: mpsc::Sender<SnapshotReply>,
    /// Set once by a feed whose market ended for good (a recording played to its end).
    ended: Arc<OnceLock<String>>,
    /// The feed's market clock: the latest step instant published, in microseconds since
    /// the Unix epoch (UTC); 0 before the first. The detector's lag is read against it.
    market_clock: Arc<AtomicI64>,
}

#[derive(Debug)]
struct Subscribers {
    mailboxes: Mutex<Vec<Weak<Mailbox>>>,
    bar_limit: usize,
}

/// Closes every mailbox when the last publisher goes.
#[derive(Debug)]
struct Open(Arc<Subscribers>);

impl Drop for Open {
    fn drop(&mut self) {
        for mailbox in self.0.live() {
            mailbox.lock().closed = true;
            mailbox.ready.notify_one();
        }
    }
}

/// One subscriber's unread events.
#[derive(Debug, Default)]
struct Mailbox {
    pending: Mutex<Pending>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    /// In publication order: snapshots as published, consecutive steps merged into one.
    queue: VecDeque<MarketEvent>,
    /// Where each symbol's quote sits in the last queued step (when the last is a step).
    last_quotes: HashMap<Symbol, usize>,
    /// Final bars in the queued steps.
    bars: usize,
    /// Publications merged into the queue, to say how many were missed on a lag.
    published: u64,
    /// Publications dropped since the subscriber last read: its next `recv` says so.
    missed: u64,
    closed: bool,
}

/// A subscriber's end of the bus. `recv` answers like a broadcast receiver's: the next
/// event, `Lagged(n)` once after `n` publications were dropped, `Closed` when the bus is
/// gone.
#[derive(Debug)]
pub struct MarketReceiver {
    mailbox: Arc<Mailbox>,
}

impl Subscribers {
    fn live(&self) -> Vec<Arc<Mailbox>> {
        let mut mailboxes = self.mailboxes.lock().unwrap_or_else(|e| e.into_inner());
        mailboxes.retain(|m| m.strong_count() > 0);
        mailboxes.iter().filter_map(Weak::upgrade).collect()
    }
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while holding it leaves a consistent queue (every change is one push).
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Pending {
    fn push(&mut self, event: MarketEvent, bar_limit: usize) {
        self.published += 1;
        match event {
            MarketEvent::Snapshot(snapshot) => {
                self.queue.push_back(MarketEvent::Snapshot(snapshot));
                self.last_quotes.clear();
                let snapshots = self
                    .queue
                    .iter()
                    .filter(|e| matches!(e, MarketEvent::Snapshot(_)))
                    .count();
                if snapshots > MAX_QUEUED_SNAPSHOTS {
                    self.lag();
                }
            }
            MarketEvent::Step { at, quotes, bars } => {
                self.bars += bars.len();
                match self.queue.back_mut() {
                    Some(MarketEvent::Step {
                        at: last_at,
                        quotes: last_quotes,
                        bars: last_bars,
                    }) => {
                        *last_at = (*last_at).max(at);
                        last_bars.extend(bars);
                        merge_quotes(last_quotes, &mut self.last_quotes, quotes);
                    }
                    _ => {
                        let mut merged = Vec::with_capacity(quotes.len());
                        self.last_quotes.clear();
                        merge_quotes(&mut merged, &mut self.last_quotes, quotes);
                        self.queue.push_back(MarketEvent::Step {
                            at,
                            quotes: merged,
                            bars,
                        });
                    }
                }
                if self.bars > bar_limit {
                    self.lag();
                }
            }
        }
    }

    /// Drops everything unread: the subscriber hears `Lagged` and restarts from a
    /// snapshot.
    fn lag(&mut self) {
        self.missed += self.published;
        self.published = 0;
        self.queue.clear();
        self.last_quotes.clear();
        self.bars = 0;
    }

    fn pop(&mut self) -> Option<Result<MarketEvent, RecvError>> {
        if self.missed > 0 {
            return Some(Err(RecvError::Lagged(std::mem::take(&mut self.missed))));
        }
        let event = self.queue.pop_front()?;
        if self.queue.is_empty() {
            self.last_quotes.clear();
            self.published = 0;
        }
        if let MarketEvent::Step { bars, .. } = &event {
            self.bars -= bars.len();
        }
        Some(Ok(event))
    }
}

/// Adds `quotes` to a step's, a symbol's later quote replacing its earlier one in place.
fn merge_quotes(into: &mut Vec<Quote>, at: &mut HashMap<Symbol, usize>, quotes: Vec<Quote>) {
    for quote in quotes {
        match at.get(&quote.symbol) {
            Some(&i) => into[i] = quote,
            None => {
                at.insert(quote.symbol.clone(), into.len());
                into.push(quote);
            }
        }
    }
}

impl MarketReceiver {
    /// The next event; see the type's documentation. Cancel-safe: nothing is taken out
    /// of the mailbox until it is returned.
    pub async fn recv(&mut self) -> Result<MarketEvent, RecvError> {
        loop {
            {
                let mut pending = self.mailbox.lock();
                if let Some(next) = pending.pop() {
                    return next;
                }
                if pending.closed {
                    return Err(RecvError::Closed);
                }
            }
            // A publication between the check and here left a permit: no wake-up is lost.
            self.mailbox.ready.notified().await;
        }
    }

    /// The newest snapshot waiting in this subscriber's mailbox, with everything queued
    /// before it dropped (a snapshot holds every symbol's bars and last price so far, so
    /// the events before it add nothing); what came after it stays queued. `None` when no
    /// snapshot waits. For a consumer that rebuilds its state from each snapshot (the
    /// detector re-primes): while the Massive feed publishes the symbols loaded so far
    /// every few seconds, one that primes slower than that skips to the latest.
    pub fn latest_snapshot(&mut self) -> Option<Arc<MarketSnapshot>> {
        let mut pending = self.mailbox.lock();
        if pending.missed > 0 {
            return None;
        }
        let at = (pending.queue.iter()).rposition(|e| matches!(e, MarketEvent::Snapshot(_)))?;
        let mut latest = None;
        for event in pending.queue.drain(..=at).collect::<Vec<_>>() {
            match event {
                MarketEvent::Step { bars, .. } => pending.bars -= bars.len(),
                MarketEvent::Snapshot(snapshot) => latest = Some(snapshot),
            }
        }
        if pending.queue.is_empty() {
            pending.last_quotes.clear();
            pending.published = 0;
        }
        latest
    }

    /// Final bars waiting in this subscriber's mailbox (what a slow consumer costs).
    pub fn pending_bars(&self) -> usize {
        self.mailbox.lock().bars
    }

    /// Prices waiting in this subscriber's mailbox: at most one per symbol per queued
    /// step.
    pub fn pending_quotes(&self) -> usize {
        let pending = self.mailbox.lock();
        pending
            .queue
            .iter()
            .map(|e| match e {
                MarketEvent::Step { quotes, .. } => quotes.len(),
                MarketEvent::Snapshot(_) => 0,
            })
            .sum()
    }
}

/// The feed's end of the snapshot requests; shared so a restarted feed keeps serving them.
#[derive(Clone, Debug)]
pub struct SnapshotRequests(Arc<tokio::sync::Mutex<mpsc::Receiver<SnapshotReply>>>);

impl MarketBus {
    /// A subscriber that leaves more than `bar_limit` final bars unread is told it
    /// lagged (its prices never pile up: they are merged to the latest per symbol).
    pub fn new(bar_limit: usize) -> (MarketBus, SnapshotRequests) {
        let subscribers = Arc::new(Subscribers {
            mailboxes: Mutex::new(Vec::new()),
            bar_limit: bar_limit.max(1),
        });
        let (requests, rx) = mpsc::channel(64);
        (
            MarketBus {
                _open: Arc::new(Open(subscribers.clone())),
                subscribers,
                requests,
                ended: Arc::new(OnceLock::new()),
                market_clock: Arc::new(AtomicI64::new(0)),
            },
            SnapshotRequests(Arc::new(tokio::sync::Mutex::new(rx))),
        )
    }

    /// A mailbox that receives everything published from now on.
    pub fn subscribe(&self) -> MarketReceiver {
        let mailbox = Arc::new(Mailbox::default());
        let mut mailboxes = self
            .subscribers
            .mailboxes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        mailboxes.push(Arc::downgrade(&mailbox));
        MarketReceiver { mailbox }
    }

    /// Puts `event` in every subscriber's mailbox (merged into the step it has not read
    /// yet, if any) and wakes it; having none (yet) is not an error. Never waits.
    pub fn publish(&self, event: MarketEvent) {
        if let MarketEvent::Step { at, .. } = &event {
            self.market_clock
                .fetch_max(at.timestamp_micros(), Ordering::Relaxed);
        }
        let mailboxes = self.subscribers.live();
        let Some((last, others)) = mailboxes.split_last() else {
            tracing::trace!("no market event subscribers");
            return;
        };
        let limit = self.subscribers.bar_limit;
        for mailbox in others {
            mailbox.lock().push(event.clone(), limit);
            mailbox.ready.notify_one();
        }
        last.lock().push(event, limit);
        last.ready.notify_one();
    }

    /// The feed's market clock: the latest step instant published (none before the
    /// first). A simulated market runs it faster than the wall clock.
    pub fn market_time(&self) -> Option<DateTime<Utc>> {
        match self.market_clock.load(Ordering::Relaxed) {
            0 => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }

    /// Called by a feed whose market ended for good, before it stops: `why` ("the
    /// recording has no more sessions"). The first call wins.
    pub fn end(&self, why: &str) {
        if self.ended.set(why.to_string()).is_err() {
            tracing::trace!("the market had already ended");
        }
    }

    /// Why the market ended, once a feed said so.
    pub fn ended(&self) -> Option<&str> {
        self.ended.get().map(String::as_str)
    }

    /// The snapshot a worker that needs a feed starts (or continues) from: `Ok(None)` once
    /// the recording finished — said once, in the log and as the worker's Health note
    /// ("recording finished"), and the worker then returns `Ok(())` so Health shows it
    /// stopped, not failing and restarting (issue 26 item 10) — and an error when no
    /// feed is running for any other reason.
    pub async fn snapshot_or_end(
        &self,
        ctx: &WorkerCtx,
    ) -> Result<Option<Arc<MarketSnapshot>>, String> {
        if let Some(snapshot) = self.snapshot().await {
            return Ok(Some(snapshot));
        }
        match self.ended() {
            Some(why) => {
                tracing::info!(
                    worker = ctx.name,
                    "recording finished ({why}); {} stops",
                    ctx.name
                );
                ctx.set_note(RECORDING_FINISHED);
                Ok(None)
            }
            None => Err("no market feed is running".into()),
        }
    }

    /// The market as the feed sees it now; `None` if no feed is running.
    pub async fn snapshot(&self) -> Option<Arc<MarketSnapshot>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(tx).await.ok()?;
        rx.await.ok()
    }
}

/// The error a consumer returns when it fell behind the bus: its supervisor restarts it,
/// and a restart re-primes from a snapshot, so no bar is skipped. (Health records when.)
pub fn fell_behind(missed: u64) -> String {
    format!("fell {missed} market events behind; restarting from a snapshot")
}

impl SnapshotRequests {
    /// The next request, for the feed's `select!`.
    pub async fn next(&self) -> Option<SnapshotReply> {
        self.0.lock().await.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::health::Health;
    use tokio_util::sync::CancellationToken;

    fn ctx() -> WorkerCtx {
        WorkerCtx {
            name: "detect",
            health: Health::default(),
            cancel: CancellationToken::new(),
        }
    }

    fn empty_snapshot(minute: u32) -> Arc<MarketSnapshot> {
        let session = crate::market::calendar::session(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date"),
        )
        .expect("a trading day");
        Arc::new(MarketSnapshot {
            provider: "massive",
            delayed: false,
            session,
            now: session.open + chrono::Duration::minutes(i64::from(minute)),
            symbols: Vec::new(),
        })
    }

    fn step_of_one_bar(minute: u32) -> MarketEvent {
        let start = empty_snapshot(minute).now;
        let bar = crate::domain::Bar {
            start,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        };
        MarketEvent::Step {
            at: start,
            quotes: Vec::new(),
            bars: vec![(Symbol::parse("SPY").expect("a symbol"), bar)],
        }
    }

    #[tokio::test]
    async fn a_consumer_skips_to_the_newest_snapshot_keeping_what_came_after_it() {
        let (bus, _requests) = MarketBus::new(100);
        let mut events = bus.subscribe();
        assert_eq!(events.latest_snapshot(), None, "nothing queued");
        bus.publish(MarketEvent::Snapshot(empty_snapshot(0)));
        bus.publish(step_of_one_bar(1));
        bus.publish(MarketEvent::Snapshot(empty_snapshot(2)));
        bus.publish(step_of_one_bar(3));
        bus.publish(MarketEvent::Snapshot(empty_snapshot(4)));
        bus.publish(step_of_one_bar(5));
        assert_eq!(events.pending_bars(), 3);
        let latest = events.latest_snapshot().expect("a snapshot waits");
        assert_eq!(latest.now, empty_snapshot(4).now, "the newest one");
        assert_eq!(events.pending_bars(), 1, "the steps before it are dropped");
        assert_eq!(
            events.recv().await,
            Ok(step_of_one_bar(5)),
            "the step after it stays"
        );
        assert_eq!(events.latest_snapshot(), None);
    }

    #[tokio::test]
    async fn a_finished_recording_is_an_end_and_a_missing_feed_an_error() {
        let (bus, requests) = MarketBus::new(4);
        drop(requests);
        assert_eq!(
            bus.snapshot_or_end(&ctx()).await,
            Err("no market feed is running".to_string())
        );
        bus.end("the recording has no more sessions");
        bus.end("a second reason is ignored");
        assert_eq!(bus.ended(), Some("the recording has no more sessions"));
        let ctx = ctx();
        ctx.health
            .register("detect", std::time::Duration::from_secs(5));
        assert_eq!(bus.snapshot_or_end(&ctx).await, Ok(None));
        let note = ctx.health.snapshot()[0].note.clone();
        assert_eq!(note.as_deref(), Some("recording finished"));
    }
}
