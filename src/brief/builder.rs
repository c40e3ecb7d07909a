//! Builds the morning brief from values (SPEC 8): bars, daily bars, GEX profiles, the
//! economic calendar, positions and tracked setups. Pure: no clock, no I/O; the same
//! inputs give the same brief.
//!
//! Levels come from the market core (`MarketState`): the prior day from the previous
//! session's regular-hours minute bars when they cover it, else its daily bar, which is
//! checked first (a low below half the close is rejected as bad data); the prior close
//! is the official close, the valid daily bar's, else the last regular-session minute's,
//! and the brief says which.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::econ::{EconCalendar, EconEvent, Importance};
use super::model::*;
use super::position::{CONTRACT_MULTIPLIER, Position, PositionKind};
use crate::domain::{Bar, DailyBar, Symbol};
use crate::gex::GexProfile;
use crate::gex::bs;
use crate::market::calendar::{self, NEW_YORK, Session};
use crate::market::levels::{PriorDaySource, check_daily_bar};
use crate::market::state::{BarFate, MarketState};
use crate::setups::{SetupStatus, TrackedSetup};

/// A symbol within this fraction of a pivot or the prior close is a watch item (0.4 %).
pub const NEAR_LEVEL_FRACTION: f64 = 0.004;
/// A gap smaller than this fraction of the prior close is not worth a watch item (0.2 %).
pub const GAP_FRACTION: f64 = 0.002;
/// Options expiring within this many calendar days are flagged.
pub const EXPIRY_FLAG_DAYS: i64 = 7;
/// A position down this fraction of its cost is flagged (20 %).
pub const LOSS_FLAG_FRACTION: f64 = 0.20;

/// What the builder knows about one symbol.
#[derive(Clone, Debug, Default)]
pub struct SymbolInput {
    pub symbol: Option<Symbol>,
    /// Daily bars before the market date, any order (bad ones are rejected here).
    pub daily: Vec<DailyBar>,
    /// The previous session's 1-minute bars (pre-market and after-hours are ignored).
    pub previous_bars: Vec<Bar>,
    /// The market date's 1-minute bars so far (pre-market, and regular once open).
    pub bars: Vec<Bar>,
    /// The latest quote, when the provider has one.
    pub last: Option<PriceAt>,
    /// The latest all-expirations GEX profile, when the provider has options chains.
    pub gex: Option<Arc<GexProfile>>,
}

impl SymbolInput {
    pub fn new(symbol: Symbol) -> SymbolInput {
        SymbolInput {
            symbol: Some(symbol),
            ..SymbolInput::default()
        }
    }
}

/// Everything a brief is built from.
#[derive(Clone, Debug)]
pub struct BriefInputs<'a> {
    /// The build instant (market clock).
    pub now: DateTime<Utc>,
    /// A trading day; the brief of a non-trading day is refused.
    pub market_date: NaiveDate,
    pub watchlist: String,
    pub symbols: &'a [SymbolInput],
    pub calendar: &'a EconCalendar,
    /// Open positions (closed ones are ignored).
    pub positions: &'a [Position],
    /// The trader's tracked setups (only active and triggered ones are carried over).
    pub setups: &'a [TrackedSetup],
}

/// Builds the brief. Fails only for a market date that is not a trading day.
pub fn build(inputs: &BriefInputs<'_>) -> Result<Brief, String> {
    let session = calendar::session(inputs.market_date).ok_or_else(|| {
        format!(
            "{} is not a trading day ({})",
            inputs.market_date,
            calendar::closure_reason(inputs.market_date).unwrap_or("market closed")
        )
    })?;
    let now = inputs.now;
    let symbols: Vec<SymbolBrief> = inputs
        .symbols
        .iter()
        .filter_map(|i| Some(symbol_brief(i.symbol.as_ref()?, i, &session, now)))
        .collect();
    let events = events_section(inputs.calendar, inputs.market_date);
    let positions = positions_section(inputs, &symbols, &events, &session);
    let watch = watch_items(&symbols, inputs.setups);
    let mut missing = Vec::new();
    if events.out_of_date {
        missing.push(format!(
            "economic calendar {} covers {} … {}: events for {} are unknown (update the file)",
            events.calendar, events.valid_from, events.valid_through, inputs.market_date
        ));
    }
    if symbols.is_empty() {
        missing.push("the watchlist has no symbols".into());
    }
    let mut brief = Brief {
        version: BRIEF_VERSION,
        market_date: inputs.market_date,
        generated_at: now,
        watchlist: inputs.watchlist.clone(),
        session: session_line(&session, now),
        symbols,
        events,
        positions,
        watch,
        missing,
        summary: String::new(),
    };
    brief.summary = summary(&brief);
    Ok(brief)
}

fn session_line(s: &Session, now: DateTime<Utc>) -> SessionLine {
    let minutes = |d: Duration| d.num_minutes();
    SessionLine {
        date: s.date,
        open: s.open,
        close: s.close,
        early_close: s.early_close,
        minutes_to_open: (now < s.open).then(|| minutes(s.open - now)),
        minutes_to_close: (now >= s.open && now < s.close).then(|| minutes(s.close - now)),
    }
}

fn ny_hm(t: DateTime<Utc>) -> String {
    t.with_timezone(&NEW_YORK).format("%H:%M").to_string()
}

/// A bar is final once its minute has passed.
fn is_final(bar: &Bar, now: DateTime<Utc>) -> bool {
    bar.start + Duration::minutes(1) <= now
}

/// One symbol's brief: its levels from the market core, its last price and change, the
/// expected move and gamma levels, with where each came from (`sources`) and what could
/// not be computed and why (`missing`, in the order of the brief's fields).
fn symbol_brief(
    symbol: &Symbol,
    input: &SymbolInput,
    session: &Session,
    now: DateTime<Utc>,
) -> SymbolBrief {
    let date = session.date;
    let previous = calendar::previous_session(date);
    let replayed = replay_bars(input, date, previous, now);
    let state = &replayed.state;
    let mut sources = SymbolSources::default();
    let mut missing = Vec::new();

    let prior_day = prior_day_levels(&replayed, input, previous, &mut sources, &mut missing);
    let pivots = state
        .pivots()
        .filter(|_| prior_day.is_some())
        .map(|p| PivotLevels {
            p: p.p,
            r1: p.r1,
            r2: p.r2,
            s1: p.s1,
            s2: p.s2,
        });
    let atr14 = daily_atr(state, date, &mut sources, &mut missing);
    let pre_market = pre_market_range(&replayed, &mut sources, &mut missing);
    let last = last_price(
        input,
        replayed.last_bar,
        date,
        now,
        &mut sources,
        &mut missing,
    );
    let change = change_since_prior_close(last, prior_day.as_ref(), atr14);
    let expected_move = expected_move(input, atr14, &mut sources);
    let gamma = gamma_levels(input, &mut sources, &mut missing);

    SymbolBrief {
        symbol: symbol.as_str().to_string(),
        last,
        change,
        prior_day,
        pre_market,
        pivots,
        atr14,
        expected_move,
        gamma,
        sources,
        missing,
    }
}

/// A symbol's market state after its daily bars, the previous session's regular-hours
/// bars and the market date's final bars so far, with the counts its sources quote.
struct Replayed {
    state: MarketState,
    /// Regular-hours bars of the previous session applied.
    previous_regular: usize,
    /// Pre-market bars of the market date seen.
    pre_market_bars: usize,
    /// Start of the market date's first final bar.
    first_today: Option<DateTime<Utc>>,
    /// The market date's latest pre-market or regular bar.
    last_bar: Option<Bar>,
}

fn replay_bars(
    input: &SymbolInput,
    date: NaiveDate,
    previous: Session,
    now: DateTime<Utc>,
) -> Replayed {
    let mut state = MarketState::new(15, 10, 3);
    let daily: Vec<DailyBar> = input
        .daily
        .iter()
        .copied()
        .filter(|b| b.date < date)
        .collect();
    state.add_daily_bars(&daily);
    let mut previous_regular = 0usize;
    for bar in input
        .previous_bars
        .iter()
        .filter(|b| calendar::ny_date(b.start) == previous.date)
    {
        if let BarFate::Regular { minute } = state.begin_bar(bar) {
            state.apply_regular(bar, minute, bar.volume);
            previous_regular += 1;
        }
    }
    let mut today = input
        .bars
        .iter()
        .filter(|b| calendar::ny_date(b.start) == date && is_final(b, now))
        .peekable();
    let first_today = today.peek().map(|b| b.start);
    let (mut pre_market_bars, mut last_bar) = (0usize, None::<Bar>);
    state.begin_day(date);
    for bar in today {
        match state.begin_bar(bar) {
            BarFate::PreMarket => pre_market_bars += 1,
            BarFate::Regular { minute } => {
                state.apply_regular(bar, minute, bar.volume);
            }
            _ => continue,
        }
        last_bar = Some(*bar);
    }
    Replayed {
        state,
        previous_regular,
        pre_market_bars,
        first_today,
        last_bar,
    }
}

/// The previous session's high, low and close, from its minute bars or its daily bar;
/// when neither serves, says why (a daily bar rejected as bad data, or none at all).
fn prior_day_levels(
    replayed: &Replayed,
    input: &SymbolInput,
    previous: Session,
    sources: &mut SymbolSources,
    missing: &mut Vec<String>,
) -> Option<PriorDayLevels> {
    let prior = replayed
        .state
        .prior_day()
        .filter(|p| p.date == previous.date);
    let prior_day = prior.map(|p| {
        sources.prior_day = Some(match p.source {
            PriorDaySource::MinuteBars => format!(
                "regular-hours 1-minute bars of {} ({} bars, {}–{} ET)",
                p.date,
                replayed.previous_regular,
                ny_hm(previous.open),
                ny_hm(previous.close)
            ),
            PriorDaySource::DailyBar => format!("daily bar of {}", p.date),
        });
        sources.prior_close = Some(match p.close_source {
            PriorDaySource::DailyBar => {
                format!("the official close, from the daily bar of {}", p.date)
            }
            PriorDaySource::MinuteBars => {
                let last_minute = input
                    .previous_bars
                    .iter()
                    .rfind(|b| previous.contains(b.start))
                    .map(|b| format!("the {} ET bar", ny_hm(b.start)))
                    .unwrap_or_else(|| "its last bar".into());
                format!(
                    "the close of the last regular-session minute ({last_minute} of {}): no valid daily bar for that date",
                    p.date
                )
            }
        });
        PriorDayLevels {
            date: p.date,
            high: p.high,
            low: p.low,
            close: p.close,
        }
    });
    if prior_day.is_none() {
        let rejected = input
            .daily
            .iter()
            .find(|b| b.date == previous.date)
            .and_then(|b| check_daily_bar(b).err());
        missing.push(match rejected {
            Some(problem) => format!(
                "prior day {}: its daily bar was rejected as bad data ({problem:?}) and its minute bars do not cover the session; PDH/PDL/PDC and pivots not computed",
                previous.date
            ),
            None => format!(
                "prior day {}: no minute bars covering the session and no daily bar; PDH/PDL/PDC and pivots not computed",
                previous.date
            ),
        });
    }
    prior_day
}

/// Wilder's ATR(14) of the daily bars before `date`, in price units.
fn daily_atr(
    state: &MarketState,
    date: NaiveDate,
    sources: &mut SymbolSources,
    missing: &mut Vec<String>,
) -> Option<f64> {
    let atr14 = state.daily_atr();
    let history = state.daily_history();
    match (atr14, history.last_date()) {
        (Some(_), Some(through)) => {
            sources.atr = Some(format!(
                "Wilder ATR(14) of {} daily bars through {through}",
                history.len()
            ));
        }
        _ => missing.push(format!(
            "ATR(14): needs 15 valid daily bars before {date}, have {}",
            history.len()
        )),
    }
    atr14
}

/// (high, low) of the market date's pre-market bars so far.
fn pre_market_range(
    replayed: &Replayed,
    sources: &mut SymbolSources,
    missing: &mut Vec<String>,
) -> Option<(f64, f64)> {
    let pre_market = replayed.state.pre_market();
    if pre_market.is_some() {
        sources.pre_market = Some(format!(
            "{} pre-market 1-minute bars from {} ET",
            replayed.pre_market_bars,
            replayed.first_today.map(ny_hm).unwrap_or_default()
        ));
    } else {
        missing.push("pre-market high/low: no pre-market bars yet".into());
    }
    pre_market
}

/// The last price at `now`: the latest quote, else the close of the latest final bar.
fn last_price(
    input: &SymbolInput,
    last_bar: Option<Bar>,
    date: NaiveDate,
    now: DateTime<Utc>,
    sources: &mut SymbolSources,
    missing: &mut Vec<String>,
) -> Option<PriceAt> {
    match (
        input.last.filter(|q| q.at <= now && q.price > 0.0),
        last_bar,
    ) {
        (Some(q), _) => {
            sources.last = Some(format!("last quote at {} ET", ny_hm(q.at)));
            Some(q)
        }
        (None, Some(b)) => {
            sources.last = Some(format!("close of the {} ET bar", ny_hm(b.start)));
            Some(PriceAt {
                price: b.close,
                at: b.start + Duration::minutes(1),
            })
        }
        (None, None) => {
            missing.push(format!("last price: no quote or bar on {date} yet"));
            None
        }
    }
}

/// The move from the prior close to `last`: in points, percent and ATRs.
fn change_since_prior_close(
    last: Option<PriceAt>,
    prior_day: Option<&PriorDayLevels>,
    atr14: Option<f64>,
) -> Option<Change> {
    // A last price from before the prior session's close (an index before the open) is
    // the prior close itself: no move to report (issue 22 item 10).
    let after_prior_close = |l: &PriceAt, p: &PriorDayLevels| {
        crate::market::calendar::session(p.date).is_none_or(|s| l.at > s.close)
    };
    match (last, prior_day) {
        (Some(l), Some(p)) if p.close > 0.0 && after_prior_close(&l, p) => {
            let points = l.price - p.close;
            Some(Change {
                points,
                percent: points / p.close * 100.0,
                atrs: atr14.map(|a| points / a),
            })
        }
        _ => None,
    }
}

/// SPEC 8.2: the front expiry's at-the-money straddle when a chain is available, else
/// ±ATR(14).
fn expected_move(
    input: &SymbolInput,
    atr14: Option<f64>,
    sources: &mut SymbolSources,
) -> Option<ExpectedMove> {
    let straddle = input.gex.as_ref().and_then(|g| g.atm_straddle);
    match (straddle, atr14) {
        (Some(s), _) => {
            sources.expected_move = Some(format!(
                "at-the-money straddle: {} call + put, expiring {}, priced from their IVs",
                s.strike, s.expiry
            ));
            Some(ExpectedMove {
                points: s.price,
                method: "atm_straddle".into(),
            })
        }
        (None, Some(a)) => {
            sources.expected_move =
                Some("±ATR(14): no options chain with IV for a straddle".into());
            Some(ExpectedMove {
                points: a,
                method: "atr14".into(),
            })
        }
        (None, None) => None,
    }
}

/// Zero gamma, the walls and the regime of the symbol's GEX profile, when it has one.
fn gamma_levels(
    input: &SymbolInput,
    sources: &mut SymbolSources,
    missing: &mut Vec<String>,
) -> Option<GammaLevels> {
    let gamma = input.gex.as_ref().map(|g| {
        let first = g.expirations_used.first();
        let last = g.expirations_used.last();
        sources.gex = Some(format!(
            "options chain as of {} ET, {} contracts, expirations {}…{}",
            g.as_of.with_timezone(&NEW_YORK).format("%Y-%m-%d %H:%M"),
            g.contracts_used,
            first.map(|d| d.to_string()).unwrap_or_default(),
            last.map(|d| d.to_string()).unwrap_or_default()
        ));
        GammaLevels {
            zero_gamma: g.zero_gamma,
            call_wall: g.call_wall,
            put_wall: g.put_wall,
            total_gex: g.total_gex,
            regime: g.regime.as_str().into(),
        }
    });
    if gamma.is_none() {
        missing.push("zero gamma and walls: no options chain for this symbol".into());
    }
    gamma
}

fn event_row(e: &EconEvent) -> EventRow {
    EventRow {
        date: e.date,
        time_et: e.time,
        name: e.name.clone(),
        importance: e.importance,
        source: e.source.clone(),
    }
}

fn events_section(calendar: &EconCalendar, date: NaiveDate) -> EventsSection {
    EventsSection {
        calendar: calendar.origin.clone(),
        valid_from: calendar.valid_from,
        valid_through: calendar.valid_through,
        out_of_date: !calendar.covers(date),
        today: calendar.on(date).map(event_row).collect(),
        later_this_week: calendar.rest_of_week(date).map(event_row).collect(),
    }
}

/// The level nearest `spot` among a symbol's key levels.
fn nearest_level(symbol: &SymbolBrief, spot: f64) -> Option<NearestLevel> {
    symbol
        .key_levels()
        .into_iter()
        .filter(|(_, p)| p.is_finite())
        .min_by(|a, b| (a.1 - spot).abs().total_cmp(&(b.1 - spot).abs()))
        .map(|(label, price)| NearestLevel {
            label: label.into(),
            price,
            distance: price - spot,
            percent: (price - spot) / spot * 100.0,
        })
}

fn positions_section(
    inputs: &BriefInputs<'_>,
    symbols: &[SymbolBrief],
    events: &EventsSection,
    session: &Session,
) -> PositionsSection {
    let big_event_today = events
        .today
        .iter()
        .find(|e| e.importance == Importance::High)
        .map(|e| format!("event today: {} {}", e.name, e.time_et.format("%H:%M")));
    let mut section = PositionsSection::default();
    for position in inputs.positions.iter().filter(|p| p.closed_at.is_none()) {
        let row = position_risk(position, symbols, inputs.now, session, &big_event_today);
        let t = &mut section.totals;
        t.positions += 1;
        match row.pnl {
            Some(p) => t.pnl += p,
            None => t.pnl_unknown += 1,
        }
        match (row.dollar_delta, row.dollar_gamma) {
            (Some(d), Some(g)) => {
                t.dollar_delta += d;
                t.dollar_gamma += g;
            }
            _ => t.greeks_unknown += 1,
        }
        section.rows.push(row);
    }
    section
}

fn position_risk(
    position: &Position,
    symbols: &[SymbolBrief],
    now: DateTime<Utc>,
    session: &Session,
    big_event_today: &Option<String>,
) -> PositionRisk {
    let p = &position.spec;
    let symbol = symbols.iter().find(|s| s.symbol == p.symbol.as_str());
    let spot = symbol.and_then(|s| s.last).map(|l| l.price);
    let mut missing = Vec::new();
    let mut flags = Vec::new();
    let dte = p.expiry.map(|e| (e - session.date).num_days());
    let (mut mark, mut mark_source, mut dollar_delta, mut dollar_gamma) = (None, None, None, None);
    match (spot, p.kind) {
        (None, _) => missing.push(format!(
            "no price for {}{}: P&L and greeks not computed",
            p.symbol,
            if symbol.is_none() {
                " (not on the watchlist)"
            } else {
                ""
            }
        )),
        (Some(s), PositionKind::Stock) => {
            mark = Some(s);
            mark_source = Some("last price".to_string());
            dollar_delta = Some(p.quantity * s);
            dollar_gamma = Some(0.0);
        }
        (Some(s), kind) => {
            let is_call = kind == PositionKind::Call;
            let (strike, expiry) = (p.strike.unwrap_or(f64::NAN), p.expiry);
            // T runs to the close of the expiry date (16:00 ET, or 13:00 on an early close)
            let expires_at = expiry.map(|e| {
                calendar::session(e).map(|x| x.close).unwrap_or_else(|| {
                    calendar::ny_instant(
                        e,
                        chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default(),
                    )
                })
            });
            let years = expires_at
                .map(|t| (t - now).num_seconds() as f64 / (365.0 * 86_400.0))
                .unwrap_or(f64::NAN);
            let shares = p.quantity * CONTRACT_MULTIPLIER;
            if years.is_nan() || years <= 0.0 {
                missing.push(format!(
                    "expired {}: close it with `coach positions close {}`",
                    expiry.map(|e| e.to_string()).unwrap_or_default(),
                    position.id
                ));
            } else if let Some(iv) = p.iv {
                let delta = bs::delta(is_call, s, strike, iv, years, 0.0, 0.0);
                let gamma = bs::gamma(s, strike, iv, years, 0.0, 0.0);
                mark = bs::price(is_call, s, strike, iv, years, 0.0, 0.0);
                mark_source = mark.map(|_| {
                    format!(
                        "Black-Scholes at IV {:.1} % (model, not a quote)",
                        iv * 100.0
                    )
                });
                dollar_delta = delta.map(|d| d * shares * s);
                // Γ·S·1 % is the change of Δ for a 1 % move; × shares × S in dollars
                dollar_gamma = delta.map(|_| gamma * shares * s * s * 0.01);
            } else {
                missing.push("no IV for this option: delta, gamma and a model mark need one (`coach positions add --iv`)".into());
            }
        }
    }
    let multiplier = if p.kind.is_option() {
        CONTRACT_MULTIPLIER
    } else {
        1.0
    };
    let pnl = mark.map(|m| (m - p.avg_price) * p.quantity * multiplier);
    let cost = (p.avg_price * p.quantity * multiplier).abs();
    let pnl_percent = pnl.filter(|_| cost > 0.0).map(|x| x / cost * 100.0);
    if p.kind.is_option() && dte.is_some_and(|d| (0..=EXPIRY_FLAG_DAYS).contains(&d)) {
        flags.push(format!("expires ≤{EXPIRY_FLAG_DAYS}d"));
    }
    if pnl_percent.is_some_and(|x| x <= -LOSS_FLAG_FRACTION * 100.0) {
        flags.push("loss ≥20%".into());
    }
    if let Some(event) = big_event_today {
        flags.push(event.clone());
    }
    PositionRisk {
        id: position.id,
        label: p.label(),
        symbol: p.symbol.as_str().into(),
        kind: p.kind.as_str().into(),
        quantity: p.quantity,
        avg_price: p.avg_price,
        spot,
        mark,
        mark_source,
        pnl,
        pnl_percent,
        dte: dte.filter(|_| p.kind.is_option()),
        dollar_delta,
        dollar_gamma,
        nearest_level: symbol.zip(spot).and_then(|(sym, s)| nearest_level(sym, s)),
        flags,
        missing,
    }
}

fn watch_items(symbols: &[SymbolBrief], setups: &[TrackedSetup]) -> Vec<WatchItem> {
    let mut out = Vec::new();
    for s in setups
        .iter()
        .filter(|s| matches!(s.status, SetupStatus::Active | SetupStatus::Triggered))
    {
        out.push(WatchItem {
            kind: "setup".into(),
            symbol: Some(s.symbol.as_str().into()),
            text: format!(
                "{} {} {} ({}): entry {:.2}, stop {:.2}, target {:.2}, planned for {}",
                s.symbol,
                s.kind.as_str(),
                s.direction.as_str(),
                s.status.as_str(),
                s.entry,
                s.stop,
                s.target,
                s.market_date
            ),
        });
    }
    for s in symbols {
        if !s.missing.is_empty() {
            // the head of each reason ("prior day 2026-11-23", "ATR(14)"); details are
            // in the symbol's section
            let heads: Vec<&str> = s
                .missing
                .iter()
                .map(|m| m.split(':').next().unwrap_or(m))
                .collect();
            out.push(WatchItem {
                kind: "missing".into(),
                symbol: Some(s.symbol.clone()),
                text: format!("{} not available: {}", s.symbol, heads.join(", ")),
            });
        }
        let Some(last) = s.last.map(|l| l.price) else {
            continue;
        };
        let mut near = Vec::new();
        if let Some(p) = &s.pivots {
            near.push(("pivot P", p.p));
        }
        // Only a price since the prior close can be near it (else it is the close).
        if let (Some(p), Some(_)) = (&s.prior_day, &s.change) {
            near.push(("prior close", p.close));
        }
        for (label, level) in near {
            let off = (last - level) / level;
            if off.abs() <= NEAR_LEVEL_FRACTION {
                out.push(WatchItem {
                    kind: "near_level".into(),
                    symbol: Some(s.symbol.clone()),
                    text: format!(
                        "{} {:.2} is {:+.2} % from its {label} {:.2}",
                        s.symbol,
                        last,
                        off * 100.0,
                        level
                    ),
                });
            }
        }
        if let (Some(p), Some(c)) = (&s.prior_day, &s.change)
            && c.percent.abs() >= GAP_FRACTION * 100.0
        {
            let filled = s
                .pre_market
                .is_some_and(|(h, l)| l <= p.close && p.close <= h);
            if !filled {
                out.push(WatchItem {
                    kind: "gap".into(),
                    symbol: Some(s.symbol.clone()),
                    text: format!(
                        "{} gap {} {:+.2} ({:+.2} %) from the prior close {:.2}: unfilled",
                        s.symbol,
                        if c.points > 0.0 { "up" } else { "down" },
                        c.points,
                        c.percent,
                        p.close
                    ),
                });
            }
        }
    }
    out
}

/// One paragraph from the numbers above it.
fn summary(b: &Brief) -> String {
    let mut parts = Vec::new();
    let s = &b.session;
    parts.push(format!(
        "{} session {}–{} ET{}.",
        s.date.format("%a %Y-%m-%d"),
        ny_hm(s.open),
        ny_hm(s.close),
        if s.early_close { " (early close)" } else { "" }
    ));
    let moves: Vec<String> = b
        .symbols
        .iter()
        .filter_map(|x| {
            let c = x.change.as_ref()?;
            let atr = c.atrs.map(|a| format!(", {a:+.2} ATR")).unwrap_or_default();
            Some(format!(
                "{} {:+.2} % ({:+.2}{atr})",
                x.symbol, c.percent, c.points
            ))
        })
        .collect();
    if !moves.is_empty() {
        parts.push(format!("Against the prior close: {}.", moves.join(", ")));
    }
    let high: Vec<String> = b
        .events
        .today
        .iter()
        .filter(|e| e.importance == Importance::High)
        .map(|e| format!("{} at {} ET", e.name, e.time_et.format("%H:%M")))
        .collect();
    if b.events.out_of_date {
        parts.push("The economic calendar does not cover this date.".into());
    } else if high.is_empty() {
        parts.push("No high-importance releases today.".into());
    } else {
        parts.push(format!("Today: {}.", high.join(", ")));
    }
    let t = &b.positions.totals;
    if t.positions > 0 {
        let flagged = b
            .positions
            .rows
            .iter()
            .filter(|r| !r.flags.is_empty())
            .count();
        parts.push(format!(
            "{} open position{}: P&L {}{}, dollar delta {}, dollar gamma {} per 1 %{}.",
            t.positions,
            if t.positions == 1 { "" } else { "s" },
            money(t.pnl),
            if t.pnl_unknown > 0 {
                format!(" ({} without a mark)", t.pnl_unknown)
            } else {
                String::new()
            },
            money(t.dollar_delta),
            money(t.dollar_gamma),
            if flagged > 0 {
                format!("; {flagged} flagged")
            } else {
                String::new()
            }
        ));
    }
    let setups = b.watch.iter().filter(|w| w.kind == "setup").count();
    if setups > 0 {
        parts.push(format!(
            "{setups} tracked setup{} carried over.",
            if setups == 1 { "" } else { "s" }
        ));
    }
    let near = b.watch.iter().filter(|w| w.kind == "near_level").count();
    if near > 0 {
        parts.push(format!(
            "{near} price{} within 0.4 % of a pivot or prior close.",
            if near == 1 { "" } else { "s" }
        ));
    }
    let gaps: usize = b.symbols.iter().map(|s| s.missing.len()).sum::<usize>() + b.missing.len();
    if gaps > 0 {
        parts.push(format!(
            "{gaps} item{} could not be computed (listed below).",
            if gaps == 1 { "" } else { "s" }
        ));
    }
    parts.join(" ")
}

/// `$12,345` / `-$1.2M`-style dollars for text.
pub fn money(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a >= 1e9 {
        format!("{sign}${:.2}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.2}M", a / 1e6)
    } else {
        let whole = a.round() as u64;
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{sign}${grouped}")
    }
}

#[cfg(test)]
mod tests;
