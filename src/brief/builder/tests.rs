use chrono::{NaiveTime, TimeZone};

use super::*;
use crate::brief::econ::SHIPPED;
use crate::brief::position::NewPosition;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ny(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    calendar::ny_instant(d, NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// A full regular session of `d`: price walks from `open` to `close` linearly, with a
/// high of `high` at 11:00 and a low of `low` at 14:00.
fn session_bars(d: NaiveDate, open: f64, high: f64, low: f64, close: f64) -> Vec<Bar> {
    (0..390)
        .map(|i| {
            let p = open + (close - open) * i as f64 / 389.0;
            let (h, l) = match i {
                90 => (high, p.min(high)),
                270 => (p.max(low), low),
                _ => (p + 0.01, p - 0.01),
            };
            Bar {
                start: ny(d, 9, 30) + Duration::minutes(i),
                open: p,
                high: h.max(p),
                low: l.min(p),
                close: p,
                volume: 1000.0,
            }
        })
        .collect()
}

fn pre_market_bars(d: NaiveDate, prices: &[f64]) -> Vec<Bar> {
    prices
        .iter()
        .enumerate()
        .map(|(i, p)| Bar {
            start: ny(d, 8, 0) + Duration::minutes(i as i64),
            open: *p,
            high: p + 0.05,
            low: p - 0.05,
            close: *p,
            volume: 100.0,
        })
        .collect()
}

/// Twenty daily bars ending the session before `before`, each 2 points wide.
fn daily_bars(before: NaiveDate) -> Vec<DailyBar> {
    let mut out = Vec::new();
    let mut d = before;
    for i in 0..20 {
        d = calendar::previous_session(d).date;
        let c = 100.0 + i as f64 * 0.1;
        out.push(DailyBar {
            date: d,
            open: c,
            high: c + 1.0,
            low: c - 1.0,
            close: c,
            volume: 1e6,
        });
    }
    out
}

fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

fn build_one(input: SymbolInput, now: DateTime<Utc>, positions: &[Position]) -> Brief {
    let calendar = EconCalendar::parse("test", SHIPPED).unwrap();
    build(&BriefInputs {
        now,
        market_date: calendar::ny_date(now),
        watchlist: "Default".into(),
        symbols: &[input],
        calendar: &calendar,
        positions,
        setups: &[],
    })
    .unwrap()
}

// Tue 2026-11-24; the previous session is Mon 2026-11-23.
const DAY: (i32, u32, u32) = (2026, 11, 24);

#[test]
fn prior_day_comes_from_the_previous_sessions_minute_bars_with_pivots_and_change() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    let input = SymbolInput {
        daily: daily_bars(prev),
        previous_bars: session_bars(prev, 101.0, 103.0, 99.0, 102.0),
        bars: pre_market_bars(today, &[102.5, 102.8, 102.6]),
        ..SymbolInput::new(spy())
    };
    let b = build_one(input, ny(today, 9, 0), &[]);
    let s = &b.symbols[0];
    let pd = s.prior_day.as_ref().unwrap();
    assert_eq!(
        (pd.date, pd.high, pd.low, pd.close),
        (prev, 103.0, 99.0, 102.0)
    );
    assert_eq!(
        s.sources.prior_day.as_deref(),
        Some("regular-hours 1-minute bars of 2026-11-23 (390 bars, 09:30–16:00 ET)")
    );
    assert_eq!(
        s.sources.prior_close.as_deref(),
        Some(
            "the close of the last regular-session minute (the 15:59 ET bar of 2026-11-23): \
             no valid daily bar for that date"
        )
    );
    let p = (103.0 + 99.0 + 102.0) / 3.0;
    let pv = s.pivots.as_ref().unwrap();
    assert!((pv.p - p).abs() < 1e-9 && (pv.r1 - (2.0 * p - 99.0)).abs() < 1e-9);
    assert_eq!(s.pre_market, Some((102.85, 102.45)));
    let last = s.last.unwrap();
    assert_eq!(last.price, 102.6);
    assert_eq!(s.sources.last.as_deref(), Some("close of the 08:02 ET bar"));
    let c = s.change.as_ref().unwrap();
    assert!((c.points - 0.6).abs() < 1e-9);
    assert!((c.percent - 0.6 / 102.0 * 100.0).abs() < 1e-9);
    // the daily bars are 2 points wide, the minute session 4: ATR(14) is defined
    assert!(s.atr14.is_some() && c.atrs.is_some());
    assert_eq!(s.expected_move.as_ref().unwrap().method, "atr14");
    assert_eq!(b.session.minutes_to_open, Some(30));
}

/// Twenty daily bars before `prev`, and `prev`'s own daily bar closing at `close`
/// (high 103, low 99, like the minute session of the tests).
fn daily_bars_through(prev: NaiveDate, close: f64, low: f64) -> Vec<DailyBar> {
    let mut daily = daily_bars(prev);
    daily.push(DailyBar {
        date: prev,
        open: 101.0,
        high: 103.0,
        low,
        close,
        volume: 2e6,
    });
    daily
}

#[test]
fn the_prior_close_is_the_official_close_of_the_daily_bar_not_the_1559_bar() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    // the 16:00 auction printed 102.02; the 15:59 bar closed at 102.00
    let input = SymbolInput {
        daily: daily_bars_through(prev, 102.02, 99.0),
        previous_bars: session_bars(prev, 101.0, 103.0, 99.0, 102.0),
        bars: pre_market_bars(today, &[102.5]),
        ..SymbolInput::new(spy())
    };
    let s = build_one(input, ny(today, 9, 0), &[]).symbols.remove(0);
    let pd = s.prior_day.as_ref().unwrap();
    assert_eq!((pd.high, pd.low, pd.close), (103.0, 99.0, 102.02));
    assert_eq!(
        s.sources.prior_close.as_deref(),
        Some("the official close, from the daily bar of 2026-11-23")
    );
    assert!(
        s.sources
            .prior_day
            .as_deref()
            .unwrap()
            .starts_with("regular-hours 1-minute bars"),
        "high and low still come from the minutes"
    );
    let c = s.change.as_ref().unwrap();
    assert!((c.points - (102.5 - 102.02)).abs() < 1e-9, "{c:?}");
    // the JSON carries the chosen close and its source only, never the other price
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"close\":102.02"), "{json}");
    assert!(
        !json.contains("102.0,") && !json.contains(":102}"),
        "{json}"
    );
}

#[test]
fn a_bad_daily_bar_leaves_the_prior_close_to_the_last_regular_minute() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    // low below half the close: the known bad-data pattern, rejected
    let input = SymbolInput {
        daily: daily_bars_through(prev, 102.02, 40.0),
        previous_bars: session_bars(prev, 101.0, 103.0, 99.0, 102.0),
        ..SymbolInput::new(spy())
    };
    let s = build_one(input, ny(today, 9, 0), &[]).symbols.remove(0);
    assert_eq!(s.prior_day.as_ref().unwrap().close, 102.0);
    assert!(
        s.sources
            .prior_close
            .as_deref()
            .unwrap()
            .starts_with("the close of the last regular-session minute (the 15:59 ET bar"),
        "{:?}",
        s.sources.prior_close
    );
}

#[test]
fn a_bad_daily_bar_is_refused_and_the_brief_says_so_instead_of_using_it() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    let mut daily = daily_bars(today);
    // the feed's known bad pattern: a low below half the close
    daily[0] = DailyBar {
        date: prev,
        open: 100.0,
        high: 101.0,
        low: 40.0,
        close: 100.0,
        volume: 1e6,
    };
    let input = SymbolInput {
        daily,
        ..SymbolInput::new(spy())
    };
    let b = build_one(input, ny(today, 7, 0), &[]);
    let s = &b.symbols[0];
    assert_eq!(s.prior_day, None);
    assert_eq!(s.pivots, None);
    assert!(
        s.missing.iter().any(|m| m
            .contains("2026-11-23: its daily bar was rejected as bad data (LowBelowHalfClose)")),
        "{:?}",
        s.missing
    );
    assert!(b.watch.iter().any(|w| {
        w.kind == "missing"
            && w.text
                .starts_with("SPY not available: prior day 2026-11-23")
    }));
}

#[test]
fn a_good_daily_bar_stands_in_when_minute_bars_do_not_cover_the_session() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    // only the first hour of minute bars: not a complete session
    let partial: Vec<Bar> = session_bars(prev, 101.0, 103.0, 99.0, 102.0)
        .into_iter()
        .take(60)
        .collect();
    let input = SymbolInput {
        daily: daily_bars(today),
        previous_bars: partial,
        ..SymbolInput::new(spy())
    };
    let s = build_one(input, ny(today, 7, 0), &[]).symbols.remove(0);
    assert_eq!(
        s.sources.prior_day.as_deref(),
        Some("daily bar of 2026-11-23")
    );
    assert_eq!(s.prior_day.unwrap().close, 100.0);
}

#[test]
fn the_first_session_without_a_prior_day_invents_nothing() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let b = build_one(SymbolInput::new(spy()), ny(today, 7, 0), &[]);
    let s = &b.symbols[0];
    assert_eq!(
        (s.last, s.change.clone(), s.prior_day.clone(), s.atr14),
        (None, None, None, None)
    );
    assert!(s.expected_move.is_none() && s.pivots.is_none() && s.pre_market.is_none());
    assert_eq!(s.missing.len(), 5, "{:?}", s.missing);
    assert!(s.missing[0].contains("no minute bars covering the session and no daily bar"));
    assert!(
        b.summary.contains("5 items could not be computed"),
        "{}",
        b.summary
    );
}

#[test]
fn an_out_of_date_calendar_is_said_and_a_covered_day_lists_its_events() {
    let b = build_one(SymbolInput::new(spy()), ny(date(2027, 1, 5), 7, 0), &[]);
    assert!(b.events.out_of_date);
    assert!(
        b.missing
            .iter()
            .any(|m| m.contains("events for 2027-01-05 are unknown"))
    );
    // CPI day 2026-12-10 (Thursday): CPI today; PPI Friday later this week
    let b = build_one(SymbolInput::new(spy()), ny(date(2026, 12, 10), 7, 0), &[]);
    assert!(!b.events.out_of_date);
    assert_eq!(b.events.today[0].name, "CPI (Nov)");
    assert_eq!(
        b.events.today[0].time_et,
        NaiveTime::from_hms_opt(8, 30, 0).unwrap()
    );
    assert!(
        b.events
            .later_this_week
            .iter()
            .any(|e| e.name == "PPI (Nov)")
    );
    assert!(
        b.summary.contains("Today: CPI (Nov) at 08:30 ET."),
        "{}",
        b.summary
    );
}

#[test]
fn a_holiday_has_no_brief() {
    let calendar = EconCalendar::parse("test", SHIPPED).unwrap();
    let err = build(&BriefInputs {
        now: ny(date(2026, 11, 26), 9, 0),
        market_date: date(2026, 11, 26),
        watchlist: "Default".into(),
        symbols: &[],
        calendar: &calendar,
        positions: &[],
        setups: &[],
    })
    .unwrap_err();
    assert!(err.starts_with("2026-11-26 is not a trading day"), "{err}");
}

fn position(id: i64, spec: NewPosition) -> Position {
    Position {
        id,
        spec,
        opened_at: Utc.with_ymd_and_hms(2026, 11, 1, 15, 0, 0).unwrap(),
        closed_at: None,
    }
}

#[test]
fn position_risk_has_pnl_greeks_distance_flags_and_totals() {
    // CPI day, so "event today" is flagged on every position
    let today = date(2026, 12, 10);
    let prev = date(2026, 12, 9);
    let input = SymbolInput {
        daily: daily_bars(prev),
        previous_bars: session_bars(prev, 101.0, 103.0, 99.0, 102.0),
        last: Some(PriceAt {
            price: 100.0,
            at: ny(today, 8, 59),
        }),
        ..SymbolInput::new(spy())
    };
    let stock = NewPosition {
        symbol: spy(),
        kind: PositionKind::Stock,
        strike: None,
        expiry: None,
        quantity: 100.0,
        avg_price: 98.0,
        iv: None,
    };
    let call = NewPosition {
        kind: PositionKind::Call,
        strike: Some(100.0),
        expiry: Some(date(2026, 12, 11)),
        quantity: 2.0,
        avg_price: 5.0,
        iv: Some(0.2),
        ..stock.clone()
    };
    let put_no_iv = NewPosition {
        kind: PositionKind::Put,
        strike: Some(95.0),
        expiry: Some(date(2027, 1, 15)),
        quantity: 1.0,
        avg_price: 1.0,
        ..stock.clone()
    };
    let positions = [
        position(1, stock),
        position(2, call),
        position(3, put_no_iv),
    ];
    let b = build_one(input, ny(today, 9, 0), &positions);
    let rows = &b.positions.rows;

    assert_eq!(rows[0].pnl, Some(200.0));
    assert_eq!(rows[0].dollar_delta, Some(10_000.0));
    let near = rows[0].nearest_level.as_ref().unwrap();
    // levels: PDH 103, PDL 99, PDC 102, P 101.33, S1 99.67 …: S1 is nearest 100
    assert_eq!(near.label, "S1");
    assert!((near.distance - (2.0 * (304.0 / 3.0) - 103.0 - 100.0)).abs() < 1e-9);

    // ATM call, 31 hours to the 16:00 close of 12-11, σ 20 %
    let years = 31.0 * 3600.0 / (365.0 * 86_400.0);
    let delta = bs::delta(true, 100.0, 100.0, 0.2, years, 0.0, 0.0).unwrap();
    let mark = bs::price(true, 100.0, 100.0, 0.2, years, 0.0, 0.0).unwrap();
    let call = &rows[1];
    assert_eq!(call.dte, Some(1));
    assert!((call.dollar_delta.unwrap() - delta * 200.0 * 100.0).abs() < 1e-6);
    assert!((call.mark.unwrap() - mark).abs() < 1e-9);
    assert!((call.pnl.unwrap() - (mark - 5.0) * 200.0).abs() < 1e-6);
    assert!(call.flags.contains(&"expires ≤7d".to_string()));
    assert!(
        call.flags.contains(&"loss ≥20%".to_string()),
        "{:?} mark {mark}",
        call.flags
    );
    assert!(
        call.flags
            .contains(&"event today: CPI (Nov) 08:30".to_string())
    );
    assert!(
        call.mark_source
            .as_deref()
            .unwrap()
            .contains("model, not a quote")
    );

    let put = &rows[2];
    assert_eq!(
        (put.pnl, put.dollar_delta, put.dollar_gamma),
        (None, None, None)
    );
    assert!(put.missing[0].starts_with("no IV for this option"));
    assert!(!put.flags.contains(&"expires ≤7d".to_string()));

    let t = &b.positions.totals;
    assert_eq!((t.positions, t.pnl_unknown, t.greeks_unknown), (3, 1, 1));
    assert!((t.pnl - (200.0 + (mark - 5.0) * 200.0)).abs() < 1e-6);
    assert!((t.dollar_delta - (10_000.0 + delta * 20_000.0)).abs() < 1e-6);
}

#[test]
fn a_position_off_the_watchlist_is_listed_without_invented_numbers() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let aapl = NewPosition {
        symbol: Symbol::parse("AAPL").unwrap(),
        kind: PositionKind::Stock,
        strike: None,
        expiry: None,
        quantity: 10.0,
        avg_price: 200.0,
        iv: None,
    };
    let b = build_one(
        SymbolInput::new(spy()),
        ny(today, 7, 0),
        &[position(9, aapl)],
    );
    let r = &b.positions.rows[0];
    assert_eq!((r.pnl, r.mark, r.spot), (None, None, None));
    assert_eq!(
        r.missing,
        vec!["no price for AAPL (not on the watchlist): P&L and greeks not computed"]
    );
}

#[test]
fn money_groups_thousands_and_scales_millions() {
    assert_eq!(money(1234.4), "$1,234");
    assert_eq!(money(-999.6), "-$1,000");
    assert_eq!(money(2_500_000.0), "$2.50M");
    assert_eq!(money(0.0), "$0");
}

#[test]
fn the_expected_move_is_the_front_at_the_money_straddle_when_a_chain_is_available() {
    use crate::gex::straddle::atm_straddle;
    use crate::gex::{ExpiryFilter, GexParams, compute_profile};
    let today = date(DAY.0, DAY.1, DAY.2);
    let now = ny(today, 9, 0);
    let chain = crate::provider::sim_chain::synthetic_chain(&spy(), 102.6, now, 7);
    let params = GexParams::default();
    let mut profile = compute_profile(&chain, &params, ExpiryFilter::All).unwrap();
    let straddle = atm_straddle(&chain, &params).unwrap();
    profile.atm_straddle = Some(straddle);
    // The first session on record: no daily bars, so no ATR; the straddle still answers.
    let input = SymbolInput {
        bars: pre_market_bars(today, &[102.5, 102.8, 102.6]),
        gex: Some(Arc::new(profile)),
        ..SymbolInput::new(spy())
    };
    let b = build_one(input, now, &[]);
    let s = &b.symbols[0];
    assert!(s.atr14.is_none());
    let em = s.expected_move.as_ref().unwrap();
    assert_eq!(em.method, "atm_straddle");
    assert_eq!(em.points, straddle.price);
    // SPY's 0DTE straddle 7 hours before the close: a fraction of a percent of spot.
    assert!(
        em.points > 0.05 && em.points < 0.02 * 102.6,
        "{}",
        em.points
    );
    let source = s.sources.expected_move.as_deref().unwrap();
    assert!(
        source.contains(&straddle.strike.to_string()) && source.contains("2026-11-24"),
        "{source}"
    );
    let text = crate::brief::render::text_lines(&b)
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<String>();
    // Words on the screen, the identifier in the JSON (issue 22 item 10).
    assert!(text.contains("(at-the-money straddle)"), "{text}");
    assert!(!text.contains("atm_straddle"), "{text}");
}

/// Issue 22 item 10: an index before the open has no price since the prior close, so
/// there is no change to report and no "0.00 % from its prior close" watch item.
#[test]
fn an_index_before_the_open_reports_no_change_and_no_prior_close_watch_item() {
    let today = date(DAY.0, DAY.1, DAY.2);
    let prev = date(2026, 11, 23);
    let input = SymbolInput {
        daily: daily_bars(prev),
        previous_bars: session_bars(prev, 6801.0, 6830.0, 6790.0, 6812.0),
        bars: vec![],
        // The feed's last quote of an index before the open: the prior session's close.
        last: Some(crate::brief::model::PriceAt {
            price: 6812.0,
            at: ny(prev, 16, 0),
        }),
        ..SymbolInput::new(Symbol::parse("SPX").unwrap())
    };
    let b = build_one(input, ny(today, 9, 25), &[]);
    let s = &b.symbols[0];
    assert_eq!(
        s.last.map(|l| l.price),
        Some(6812.0),
        "the prior close stands"
    );
    assert_eq!(s.change, None);
    let text = crate::brief::render::text_lines(&b)
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<String>();
    assert!(!text.contains("+0.00 %"), "{text}");
    assert!(!text.contains("from its prior close"), "{text}");
}
