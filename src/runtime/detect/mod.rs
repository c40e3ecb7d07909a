//! The detector worker: feeds every final bar from the bus through the detector engine,
//! stores each detection once, and tells the screen about the new ones.
//!
//! Symbols whose history is still loading (a live feed's start-up: the snapshot has them
//! with `history_loading`, or a step brings a symbol the snapshot lacks) are detected on
//! their live bars at once; the detectors that need history (daily ATR, prior day,
//! relative volume) stay silent on them, as for any missing input, without a log line
//! each (the feed's Health note says the history is loading). What a trader sees:
//! - a signal found on live bars only is stored and shown at once, its rationale ending
//!   with [`LIVE_ONLY_NOTE`] and its dedup key with [`LIVE_ONLY_KEY`];
//! - when a snapshot brings the symbol's history, the engine is re-primed on history and
//!   live bars together: the day's signals found in the history are stored and shown then
//!   (as at any start), and a signal already shown for the same bar, kind, direction and
//!   level is not stored or shown again;
//! - a live-only signal the whole picture would not have made stays as it was shown (it
//!   is not withdrawn: a trader may already have acted on it).

mod fed;
mod live_only;

use std::sync::Arc;

use chrono::NaiveDate;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

use super::AppEvent;
use super::bus::{MarketBus, fell_behind};
use super::detect_writer::{self, Pending};
use super::gex::GexBoard;
use super::metrics::Metrics;
use super::ownership::{self, Owned};
use super::supervisor::WorkerCtx;
use crate::detect::config::DetectorsConfig;
use crate::detect::engine::{BarOutcome, Engine};
use crate::detect::missing::MissingInput;
use crate::detect::priming;
use crate::domain::{Bar, Detection, SetupKind, Symbol};
use crate::gex::ExpiryFilter;
use crate::market::calendar;
use crate::provider::bar_list::BarList;
use crate::provider::shared_vec::SharedVec;
use crate::provider::{MarketEvent, MarketSnapshot, SymbolSnapshot};
use crate::store::Store;
use fed::Fed;
use live_only::LiveOnly;
pub use live_only::{LIVE_ONLY_KEY, LIVE_ONLY_NOTE};

/// A fresh engine primed with the snapshot through the priming `coach replay` uses: daily
/// history, the earlier sessions' and the previous session's minutes, and today's bars so
/// far. Returns today's detections among those the bars produce.
///
/// Memory (issue 25 items 1 and 5): the symbols are primed a feeding group at a time
/// ([`priming::feeding_groups`]), each group's bars loaded, fed and dropped before the
/// next group's: the most held is one group's bars, not the market's (a simulated market
/// makes them again when read and holds none).
pub fn prime(
    config: &DetectorsConfig,
    snapshot: &MarketSnapshot,
) -> Result<(Engine, Vec<Detection>), String> {
    prime_some(config, snapshot, |_| true)
}

/// Like [`prime`], on the snapshot's symbols that `which` picks only.
fn prime_some(
    config: &DetectorsConfig,
    snapshot: &MarketSnapshot,
    which: impl Fn(&Symbol) -> bool,
) -> Result<(Engine, Vec<Detection>), String> {
    let mut engine = Engine::new(config.clone()).map_err(|e| e.to_string())?;
    let picked: Vec<&SymbolSnapshot> = (snapshot.symbols.iter())
        .filter(|s| which(&s.symbol))
        .collect();
    for s in &picked {
        engine.add_daily_bars(&s.symbol, &s.daily);
    }
    let symbols: Vec<&Symbol> = picked.iter().map(|s| &s.symbol).collect();
    let (mut found, mut group_found) = (Vec::new(), Vec::new());
    for group in priming::feeding_groups(config, &symbols) {
        let loaded: Vec<(&Symbol, [SharedVec<Bar>; 3])> = (group.iter())
            .filter_map(|&i| picked.get(i))
            .map(|s| {
                let lists = [&s.earlier_bars, &s.previous_bars, &s.bars];
                (&s.symbol, lists.map(BarList::load))
            })
            .collect();
        let minute = loaded.iter().map(|(symbol, [earlier, previous, today])| {
            (
                *symbol,
                earlier.iter().chain(previous.iter()).chain(today.iter()),
            )
        });
        for (symbol, bar) in priming::FeedingOrder::new(config, minute) {
            engine.on_bar(symbol, bar, &mut group_found);
        }
        let today = snapshot.session.date;
        found.extend(group_found.drain(..).filter(|d| d.market_date == today));
    }
    // In bar order across the groups, as one merge of the whole market finds them.
    found.sort_by_key(|d| d.bar_time);
    Ok((engine, found))
}

/// Gives the engine every symbol's all-expirations GEX levels (the walls join the watched
/// levels; gamma_squeeze reads the regime and strikes).
fn apply_gamma(engine: &mut Engine, board: &GexBoard) {
    for ((_, filter), profile) in board.iter() {
        if *filter == ExpiryFilter::All {
            engine.set_gamma_levels(profile.levels());
        }
    }
}

/// Logs, once per symbol and session, each detector a missing input keeps silent today
/// (SPEC 4: never silently).
/// Symbols on live bars only are not logged: their history is loading (Health says so).
fn log_missing_inputs(
    engine: &mut Engine,
    today: NaiveDate,
    board: &GexBoard,
    live_only: &LiveOnly,
) {
    let has_profile = |symbol: &Symbol| {
        board
            .iter()
            .any(|((s, filter), _)| s == symbol && *filter == ExpiryFilter::All)
    };
    let notes = engine.take_missing_inputs();
    let notes = todays_missing_inputs(notes, today, has_profile)
        .into_iter()
        .filter(|n| !live_only.is_live_only(&n.symbol));
    for note in notes {
        tracing::info!("{note}");
    }
}

/// The notes worth logging: today's only (priming replays earlier sessions, already
/// past), and gamma_squeeze's "no GEX profile" only while the symbol still has none
/// (priming replays today's first bar before the GEX board is applied).
fn todays_missing_inputs(
    notes: Vec<MissingInput>,
    today: NaiveDate,
    has_profile: impl Fn(&Symbol) -> bool,
) -> Vec<MissingInput> {
    notes
        .into_iter()
        .filter(|n| n.market_date == today)
        .filter(|n| !(n.kind == SetupKind::GammaSqueeze && has_profile(&n.symbol)))
        .collect()
}

/// Each symbol's watched levels after its bar, for the scanner's "at a level" signals.
async fn send_levels(engine: &Engine, bars: &[(Symbol, Bar)], ui: &mpsc::Sender<AppEvent>) {
    for (symbol, _) in bars {
        let Some(market) = engine.market(symbol) else {
            continue;
        };
        let levels = market
            .levels()
            .iter()
            .map(|(id, price)| (id.label(), price))
            .collect();
        let event = AppEvent::Levels {
            symbol: symbol.clone(),
            levels,
        };
        if ui.send(event).await.is_err() {
            return;
        }
    }
}

/// Where the detector's findings go: stored (for the symbols this instance owns),
/// counted, and shown.
#[derive(Clone, Debug)]
pub struct DetectorOutputs {
    pub store: Store,
    pub ui: mpsc::Sender<AppEvent>,
    pub metrics: Arc<Metrics>,
    pub owned: watch::Receiver<Owned>,
}

/// The detector worker: the engine on this task, the store writes on a task of their own
/// (src/runtime/detect_writer.rs), so a slow commit holds the engine only once the
/// writer's queue is full.
pub async fn run_detector(
    ctx: WorkerCtx,
    config: DetectorsConfig,
    bus: MarketBus,
    gex: watch::Receiver<GexBoard>,
    outputs: DetectorOutputs,
) -> Result<(), String> {
    let DetectorOutputs {
        store,
        ui,
        metrics,
        mut owned,
    } = outputs;
    ownership::decided(&mut owned).await?;
    let (queue, pending) = mpsc::channel(detect_writer::QUEUE_STEPS);
    let sinks = detect_writer::Sinks {
        ctx: ctx.clone(),
        store,
        ui: ui.clone(),
        metrics,
        owned,
        bus: bus.clone(),
    };
    let stored = sinks.store.clone();
    let writer = tokio::spawn(detect_writer::write_batches(pending, sinks));
    let fed = feed_engine(&ctx, &config, &bus, gex, &ui, &stored, queue).await;
    // The queue is closed now: a writer that is still running stores what is left.
    match fed {
        Ok(()) => writer_outcome(writer.await),
        // A writer that stopped first says why (the engine only saw its queue close).
        Err(_) if writer.is_finished() => {
            writer_outcome(writer.await).and(Err("the detection writer stopped".into()))
        }
        Err(e) => Err(e),
    }
}

fn writer_outcome(
    joined: Result<Result<(), String>, tokio::task::JoinError>,
) -> Result<(), String> {
    joined.map_err(|e| format!("the detection writer failed: {e}"))?
}

/// Hands one step's findings to the writer; an error once the writer has stopped.
async fn hand_over(queue: &mpsc::Sender<Pending>, pending: Pending) -> Result<(), String> {
    queue
        .send(pending)
        .await
        .map_err(|_| "the detection writer stopped".to_string())
}

/// The engine: primed from the bus's snapshot, then fed every final bar, its findings
/// handed to the writer in order.
async fn feed_engine(
    ctx: &WorkerCtx,
    config: &DetectorsConfig,
    bus: &MarketBus,
    mut gex: watch::Receiver<GexBoard>,
    ui: &mpsc::Sender<AppEvent>,
    store: &Store,
    queue: mpsc::Sender<Pending>,
) -> Result<(), String> {
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot_or_end(ctx).await? else {
        return Ok(());
    };
    let mut live_only = LiveOnly::default();
    match (store)
        .detections_on_ending(snapshot.session.date, LIVE_ONLY_KEY)
        .await
    {
        Ok(stored) => live_only.remember(
            snapshot.session.date,
            stored.into_iter().map(|s| s.detection),
        ),
        Err(e) => tracing::warn!(
            "reading today's live-only detections: {e}; a signal stored on live bars before a restart \
             may be stored again when its history arrives"
        ),
    }
    let mut fed = Fed::default();
    let (mut engine, mut found) = prime(config, &snapshot)?;
    fed.primed(&snapshot, None);
    live_only.primed(&snapshot, &mut found);
    let mut today = snapshot.session.date;
    apply_gamma(&mut engine, &gex.borrow_and_update());
    log_missing_inputs(&mut engine, today, &gex.borrow(), &live_only);
    hand_over(&queue, Pending::primed(found)).await?;
    // Not held for the worker's life (issue 25: every symbol's two days of bars).
    drop(snapshot);
    // The start-up's burst (history answers, priming) is over: give its pages back.
    super::heap::release_freed_pages();
    ctx.heartbeat();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            changed = gex.changed() => {
                if changed.is_ok() {
                    apply_gamma(&mut engine, &gex.borrow_and_update());
                }
                continue;
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        };
        match event {
            Ok(MarketEvent::Snapshot(snapshot)) => {
                // Priming 8,000 symbols takes seconds: skip snapshots a newer one replaces.
                let snapshot = events.latest_snapshot().unwrap_or(snapshot);
                let mut found = match fed.stale(&snapshot, &engine) {
                    // Only the symbols the snapshot changed, on a fresh engine adopted.
                    Some(stale) => {
                        let (fresh, found) = prime_some(config, &snapshot, |s| stale.contains(s))?;
                        engine.adopt(fresh);
                        fed.primed(&snapshot, Some(&stale));
                        found
                    }
                    None => {
                        // The old engine goes first: one market's engine in memory, not two.
                        let empty = Engine::new(config.clone()).map_err(|e| e.to_string())?;
                        drop(std::mem::replace(&mut engine, empty));
                        let (fresh, found) = prime(config, &snapshot)?;
                        engine = fresh;
                        fed.primed(&snapshot, None);
                        found
                    }
                };
                live_only.primed(&snapshot, &mut found);
                today = snapshot.session.date;
                apply_gamma(&mut engine, &gex.borrow());
                log_missing_inputs(&mut engine, today, &gex.borrow(), &live_only);
                hand_over(&queue, Pending::primed(found)).await?;
                // The live feed announces its symbols in snapshots while the history
                // loads: each priming is a burst like the first.
                super::heap::release_freed_pages();
            }
            Ok(MarketEvent::Step { mut bars, .. }) => {
                if bars.is_empty() {
                    continue;
                }
                priming::sort_for_feeding(engine.config(), &mut bars);
                let mut found = Vec::new();
                for (symbol, bar) in &bars {
                    if engine.on_bar(symbol, bar, &mut found) != BarOutcome::NotAfterPrevious {
                        fed.stepped(symbol, bar);
                    }
                }
                found.retain_mut(|d| live_only.take(d));
                if let Some(date) = bars.iter().map(|(_, b)| calendar::ny_date(b.start)).max() {
                    today = date;
                }
                log_missing_inputs(&mut engine, today, &gex.borrow(), &live_only);
                // Minute bars: each ends a minute after it starts.
                let bar_ends = bars
                    .iter()
                    .map(|(_, b)| b.start + chrono::Duration::minutes(1))
                    .collect();
                hand_over(&queue, Pending { found, bar_ends }).await?;
                send_levels(&engine, &bars, ui).await;
            }
            Err(RecvError::Lagged(n)) => return Err(fell_behind(n)),
            Err(RecvError::Closed) => return Err("the market bus closed".into()),
        }
        ctx.heartbeat();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Direction;
    use crate::provider::Playable;
    use crate::provider::sim::{DEFAULT_SYMBOLS, SimMarket};

    fn in_bar_order(mut found: Vec<Detection>) -> Vec<Detection> {
        found.sort_by(|a, b| {
            (a.bar_time, a.symbol.as_str(), &a.dedup_key).cmp(&(
                b.bar_time,
                b.symbol.as_str(),
                &b.dedup_key,
            ))
        });
        found
    }

    #[test]
    fn priming_a_group_at_a_time_finds_what_one_merge_of_the_market_finds_and_runs_on_alike() {
        let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
            .iter()
            .map(|s| Symbol::parse(s).unwrap())
            .collect();
        let market = SimMarket::new(7, &symbols, "2026-11-24".parse().unwrap());
        let at = market.session().open + chrono::Duration::minutes(150);
        let snapshot = market.snapshot(at);
        let config = DetectorsConfig::default();
        let (mut grouped, found) = prime(&config, &snapshot).unwrap();

        // the whole market's bars, loaded at once and merged (what priming did before)
        let loaded: Vec<(Symbol, Vec<Bar>)> = (snapshot.symbols.iter())
            .map(|s| {
                let mut bars = s.previous_bars.load().to_vec();
                bars.extend_from_slice(&s.bars.load());
                (s.symbol.clone(), bars)
            })
            .collect();
        let daily = snapshot.symbols.iter().map(|s| (&s.symbol, &s.daily[..]));
        let minute = loaded.iter().map(|(s, bars)| (s, bars.iter()));
        let mut whole_found = Vec::new();
        let whole =
            priming::prime_per_symbol(config.clone(), daily, minute, &mut whole_found).unwrap();
        let mut whole = whole.engine;
        whole_found.retain(|d| d.market_date == snapshot.session.date);
        assert!(
            !found.is_empty(),
            "two and a half hours of ten symbols find something"
        );
        assert_eq!(in_bar_order(found), in_bar_order(whole_found));

        // the next hour's bars through both engines
        let (mut from_grouped, mut from_whole) = (Vec::new(), Vec::new());
        let mut t = at;
        while t < at + chrono::Duration::minutes(60) {
            t = market.next_step(t);
            if let Some(MarketEvent::Step { mut bars, .. }) = market.step_event(t) {
                priming::sort_for_feeding(&config, &mut bars);
                for (symbol, bar) in &bars {
                    grouped.on_bar(symbol, bar, &mut from_grouped);
                    whole.on_bar(symbol, bar, &mut from_whole);
                }
            }
        }
        assert_eq!(from_grouped, from_whole);
    }

    fn note(kind: SetupKind, symbol: &str, date: &str) -> MissingInput {
        MissingInput {
            symbol: Symbol::parse(symbol).unwrap(),
            market_date: date.parse().unwrap(),
            kind,
            what: "no daily ATR".into(),
        }
    }

    /// A long VWAP reclaim of `symbol` on the bar starting `minute` minutes after 10:00
    /// New York.
    fn detection(symbol: &str, key: &str, minute: i64) -> Detection {
        let bar_time = chrono::DateTime::parse_from_rfc3339("2026-11-24T15:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(minute);
        Detection {
            symbol: Symbol::parse(symbol).unwrap(),
            kind: SetupKind::VwapReclaim,
            direction: Direction::Long,
            confidence: 60,
            entry: 100.0,
            stop: 99.0,
            target: 102.0,
            detected_at: bar_time + chrono::Duration::minutes(1),
            bar_time,
            market_date: "2026-11-24".parse().unwrap(),
            dedup_key: key.into(),
            rationale: "Reclaimed VWAP.".into(),
            gex: None,
        }
    }

    fn snapshot(loading: &[&str], loaded: &[&str]) -> MarketSnapshot {
        let session = calendar::session("2026-11-24".parse().unwrap()).unwrap();
        let symbol = |name: &&str, history_loading| crate::provider::SymbolSnapshot {
            symbol: Symbol::parse(name).unwrap(),
            is_index: false,
            bars: Default::default(),
            previous_bars: Default::default(),
            earlier_bars: Default::default(),
            daily: Default::default(),
            prior_close: None,
            last: None,
            history_loading,
        };
        MarketSnapshot {
            provider: "massive",
            delayed: false,
            session,
            now: session.open,
            symbols: (loading.iter().map(|s| symbol(s, true)))
                .chain(loaded.iter().map(|s| symbol(s, false)))
                .collect(),
        }
    }

    #[test]
    fn a_later_snapshot_reprimes_only_the_symbols_whose_history_arrived_or_bars_differ() {
        let config = DetectorsConfig::default();
        let mut first = snapshot(&["QQQ"], &["SPY", "IWM", "DIA"]);
        let open = first.session.open;
        let bar = |m: i64| Bar {
            start: open + chrono::Duration::minutes(m),
            open: 100.0,
            high: 100.5,
            low: 99.5,
            close: 100.2,
            volume: 1000.0,
        };
        for s in &mut first.symbols {
            s.bars = vec![bar(0), bar(1)].into();
        }
        let (mut engine, _) = prime(&config, &first).unwrap();
        let mut fed = Fed::default();
        fed.primed(&first, None);
        // a step brings 09:32 of SPY and QQQ; IWM's misses the snapshot below
        let mut out = Vec::new();
        for s in ["SPY", "QQQ"] {
            let symbol = Symbol::parse(s).unwrap();
            assert_eq!(
                engine.on_bar(&symbol, &bar(2), &mut out),
                BarOutcome::Regular
            );
            fed.stepped(&symbol, &bar(2));
        }
        let mut later = snapshot(&[], &["QQQ", "SPY", "IWM", "DIA"]);
        for s in &mut later.symbols {
            let upto = if s.symbol.as_str() == "DIA" { 2 } else { 3 };
            s.bars = (0..upto).map(bar).collect::<Vec<_>>().into();
        }
        let stale = fed.stale(&later, &engine).expect("the same session");
        let mut names: Vec<&str> = stale.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["IWM", "QQQ"],
            "QQQ's history arrived, IWM's 09:32 was skipped"
        );
        let next_day = snapshot(&[], &["SPY"]);
        assert!(
            fed.stale(&next_day, &engine).is_none(),
            "a symbol left: all again"
        );
    }

    #[test]
    fn a_signal_on_live_bars_is_marked_once_and_not_stored_again_when_the_history_lands() {
        let mut live_only = LiveOnly::default();
        live_only.primed(&snapshot(&["QQQ"], &["SPY"]), &mut Vec::new());
        // a step: QQQ (history loading) and SPY (history in) reclaim VWAP at 10:00
        let mut found = vec![detection("QQQ", "VWAP", 0), detection("SPY", "VWAP", 0)];
        found.retain_mut(|d| live_only.take(d));
        assert_eq!(found[0].dedup_key, "VWAP (live bars only)");
        assert!(found[0].rationale.ends_with(LIVE_ONLY_NOTE));
        assert_eq!(found[1].dedup_key, "VWAP", "SPY's history is in");
        // a re-prime while QQQ still loads finds its signal again: not handed over twice
        let mut again = vec![detection("QQQ", "VWAP", 0)];
        live_only.primed(&snapshot(&["QQQ"], &["SPY"]), &mut again);
        assert!(again.is_empty());
        // QQQ's history lands: the whole day has an earlier reclaim at 09:35 (new, stored
        // once) and numbers the 10:00 one as the second (already shown: dropped)
        let mut primed = vec![
            detection("QQQ", "VWAP", -25),
            detection("QQQ", "VWAP #2", 0),
        ];
        live_only.primed(&snapshot(&[], &["SPY", "QQQ"]), &mut primed);
        let keys: Vec<&str> = primed.iter().map(|d| d.dedup_key.as_str()).collect();
        assert_eq!(keys, ["VWAP"], "the history's own signal only, unmarked");
        // from now on QQQ's signals are ordinary
        let mut later = vec![detection("QQQ", "VWAP #3", 40)];
        later.retain_mut(|d| live_only.take(d));
        assert_eq!(later[0].dedup_key, "VWAP #3");
        assert!(!live_only.holds_signals());
    }

    #[test]
    fn a_detector_restarted_while_a_history_loads_does_not_store_again_what_it_stored_on_live_bars()
    {
        // before the restart: QQQ's 10:00 reclaim stored on live bars only
        let mut before = LiveOnly::default();
        before.primed(&snapshot(&["QQQ"], &["SPY"]), &mut Vec::new());
        let mut stored = vec![detection("QQQ", "VWAP", 0), detection("SPY", "VWAP", 0)];
        stored.retain_mut(|d| before.take(d));
        // the restarted detector reads today's detections, then QQQ's history lands
        let mut restarted = LiveOnly::default();
        let date = snapshot(&[], &[]).session.date;
        restarted.remember(date, stored);
        let mut primed = vec![
            detection("QQQ", "VWAP", -25),
            detection("QQQ", "VWAP #2", 0),
            detection("SPY", "VWAP", 0),
        ];
        restarted.primed(&snapshot(&[], &["SPY", "QQQ"]), &mut primed);
        let kept: Vec<(&str, &str)> = (primed.iter())
            .map(|d| (d.symbol.as_str(), d.dedup_key.as_str()))
            .collect();
        // SPY's was stored unmarked: the store's unique key keeps it once already
        assert_eq!(kept, [("QQQ", "VWAP"), ("SPY", "VWAP")]);
        // another day's live-only signals are not remembered
        let mut next_day = LiveOnly::default();
        next_day.remember(
            date.succ_opt().unwrap(),
            vec![detection("QQQ", "VWAP (live bars only)", 0)],
        );
        assert!(!next_day.holds_signals());
    }

    #[test]
    fn the_live_log_names_todays_silenced_detectors_but_not_a_profile_that_has_arrived() {
        let notes = vec![
            note(SetupKind::OrbBreakout, "SPY", "2026-11-23"),
            note(SetupKind::OrbBreakout, "SPY", "2026-11-24"),
            note(SetupKind::GammaSqueeze, "SPY", "2026-11-24"),
            note(SetupKind::GammaSqueeze, "IWM", "2026-11-24"),
        ];
        let spy = Symbol::parse("SPY").unwrap();
        let logged = todays_missing_inputs(notes, "2026-11-24".parse().unwrap(), |s| *s == spy);
        let said: Vec<String> = logged.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "orb_breakout on SPY 2026-11-24: no daily ATR",
                "gamma_squeeze on IWM 2026-11-24: no daily ATR",
            ]
        );
    }
}
