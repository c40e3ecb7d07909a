//! The detector worker: feeds every final bar from the bus through the detector engine,
//! stores each detection once, and tells the screen about the new ones.

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
use crate::detect::engine::Engine;
use crate::detect::missing::MissingInput;
use crate::detect::priming;
use crate::domain::{Bar, Detection, SetupKind, Symbol};
use crate::gex::ExpiryFilter;
use crate::market::calendar;
use crate::provider::bar_list::BarList;
use crate::provider::shared_vec::SharedVec;
use crate::provider::{MarketEvent, MarketSnapshot};
use crate::store::Store;

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
    let mut engine = Engine::new(config.clone()).map_err(|e| e.to_string())?;
    for s in &snapshot.symbols {
        engine.add_daily_bars(&s.symbol, &s.daily);
    }
    let symbols: Vec<&Symbol> = snapshot.symbols.iter().map(|s| &s.symbol).collect();
    let (mut found, mut group_found) = (Vec::new(), Vec::new());
    for group in priming::feeding_groups(config, &symbols) {
        let loaded: Vec<(&Symbol, [SharedVec<Bar>; 3])> = (group.iter())
            .filter_map(|&i| snapshot.symbols.get(i))
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
fn log_missing_inputs(engine: &mut Engine, today: NaiveDate, board: &GexBoard) {
    let has_profile = |symbol: &Symbol| {
        board
            .iter()
            .any(|((s, filter), _)| s == symbol && *filter == ExpiryFilter::All)
    };
    for note in todays_missing_inputs(engine.take_missing_inputs(), today, has_profile) {
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
    let writer = tokio::spawn(detect_writer::write_batches(pending, sinks));
    let fed = feed_engine(&ctx, &config, &bus, gex, &ui, queue).await;
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
    queue: mpsc::Sender<Pending>,
) -> Result<(), String> {
    let mut events = bus.subscribe();
    let Some(snapshot) = bus.snapshot_or_end(ctx).await? else {
        return Ok(());
    };
    let (mut engine, found) = prime(config, &snapshot)?;
    let mut today = snapshot.session.date;
    apply_gamma(&mut engine, &gex.borrow_and_update());
    log_missing_inputs(&mut engine, today, &gex.borrow());
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
                // The old engine goes first: one market's engine in memory, not two.
                let empty = Engine::new(config.clone()).map_err(|e| e.to_string())?;
                drop(std::mem::replace(&mut engine, empty));
                let (fresh, found) = prime(config, &snapshot)?;
                engine = fresh;
                today = snapshot.session.date;
                apply_gamma(&mut engine, &gex.borrow());
                log_missing_inputs(&mut engine, today, &gex.borrow());
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
                    engine.on_bar(symbol, bar, &mut found);
                }
                if let Some(date) = bars.iter().map(|(_, b)| calendar::ny_date(b.start)).max() {
                    today = date;
                }
                log_missing_inputs(&mut engine, today, &gex.borrow());
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
