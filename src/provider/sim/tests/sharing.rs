//! Snapshots hold no bars (each list is made again when read) and share the daily
//! history, and a question about an earlier instant gets the same answer as from a market
//! that never went further.

use chrono::NaiveDate;

use super::*;
use crate::provider::{MarketEvent, Playable};

fn at_ten(m: &SimMarket) -> DateTime<Utc> {
    m.today.session.open + Duration::minutes(30)
}

#[test]
fn a_snapshot_holds_no_bars_and_shares_the_daily_history_with_the_market() {
    let m = market();
    let now = at_ten(&m);
    let first = m.snapshot(now);
    let second = m.snapshot(now);
    assert_eq!(first.symbols.len(), DEFAULT_SYMBOLS.len());
    for (a, b) in first.symbols.iter().zip(&second.symbols) {
        assert!(
            !a.bars.is_held(),
            "{} today's bars are made when read",
            a.symbol
        );
        assert!(!a.previous_bars.is_held(), "{}", a.symbol);
        assert_eq!(a.bars, b.bars, "{}: made twice, the same bars", a.symbol);
        assert!(a.daily.shares_with(&b.daily), "{} daily history", a.symbol);
    }
    let spy = first
        .symbols
        .iter()
        .find(|s| s.symbol == sym("SPY"))
        .unwrap();
    // 04:00 to 10:00 New York: 360 final minutes, the last one 09:59.
    let bars = spy.bars.load();
    assert_eq!(bars.len(), 360);
    assert_eq!(bars[359].start, now - Duration::minutes(1));
    assert_eq!(spy.previous_bars.load().len(), 16 * 60);
    assert_eq!(spy.daily.len(), HISTORY_SESSIONS + 1);
}

#[test]
fn a_snapshot_keeps_its_bars_when_the_market_plays_on() {
    let m = market();
    let now = at_ten(&m);
    let taken = m.snapshot(now);
    let spy = taken
        .symbols
        .iter()
        .find(|s| s.symbol == sym("SPY"))
        .unwrap();
    let before: Vec<Bar> = spy.bars.load().to_vec();
    let mut at = m.next_step(now);
    let mut final_bars = 0;
    while at <= now + Duration::minutes(5) {
        if let Some(MarketEvent::Step { bars, .. }) = m.step_event(at) {
            final_bars += bars.iter().filter(|(s, _)| *s == sym("SPY")).count();
        }
        at = m.next_step(at);
    }
    assert_eq!(final_bars, 5, "five more SPY minutes became final");
    assert_eq!(spy.bars, before, "the snapshot is as it was taken");
    let later = m.snapshot(now + Duration::minutes(5));
    let spy_later = later
        .symbols
        .iter()
        .find(|s| s.symbol == sym("SPY"))
        .unwrap();
    let later_bars = spy_later.bars.load();
    assert_eq!(later_bars.len(), before.len() + 5);
    assert_eq!(later_bars[..before.len()], before[..]);
}

#[test]
fn a_snapshot_agrees_with_the_markets_own_answers() {
    let m = market();
    let now = at_ten(&m) + Duration::seconds(30);
    let snapshot = m.snapshot(now);
    for s in &snapshot.symbols {
        assert_eq!(s.bars, m.today.bars_until(&s.symbol, now), "{}", s.symbol);
        assert_eq!(
            s.bars.len(),
            s.bars.load().len(),
            "{}: counted as made",
            s.symbol
        );
        assert_eq!(s.previous_bars.len(), s.previous_bars.load().len());
        let previous_end = m.previous.session.after_hours_close();
        assert_eq!(
            s.previous_bars,
            m.previous.bars_until(&s.symbol, previous_end)
        );
        assert_eq!(s.prior_close, m.prior_close(&s.symbol));
        assert_eq!(
            s.last.as_ref().map(|q| q.price),
            m.last_price(&s.symbol, now)
        );
        assert_eq!(s.is_index, m.is_index(&s.symbol));
    }
    let spx = snapshot
        .symbols
        .iter()
        .find(|s| s.symbol == sym("SPX"))
        .unwrap();
    assert!(spx.is_index);
    assert_eq!(spx.bars.load().len(), 30, "an index starts at 09:30");
}

#[test]
fn asking_about_an_earlier_instant_answers_as_a_market_that_never_went_further() {
    let played = market();
    let open = played.today.session.open;
    let spy = sym("SPY");
    // Play to the afternoon first, then ask about the morning.
    let afternoon = open + Duration::hours(5);
    assert!(played.last_price(&spy, afternoon).is_some());
    assert!(played.step_event(afternoon).is_some());
    for (minutes, seconds) in [(10, 15), (10, 45), (0, 30), (-30, 0), (120, 60)] {
        let at = open + Duration::minutes(minutes) + Duration::seconds(seconds);
        let fresh = market();
        assert_eq!(
            played.last_price(&spy, at),
            fresh.last_price(&spy, at),
            "{at}"
        );
        assert_eq!(played.step_event(at), fresh.step_event(at), "{at}");
        assert_eq!(
            played.today.bars_until(&spy, at),
            fresh.today.bars_until(&spy, at)
        );
    }
}

#[test]
fn before_an_index_trades_its_last_price_is_the_previous_close() {
    let m = market();
    let spx = sym("SPX");
    let before_open = m.today.session.open - Duration::minutes(10);
    let previous_close = m
        .previous
        .bars_until(&spx, m.previous.session.after_hours_close())
        .last()
        .map(|b| b.close);
    assert!(previous_close.is_some());
    assert_eq!(m.last_price(&spx, before_open), previous_close);
    assert!(m.today.bars_until(&spx, before_open).is_empty());
}

#[test]
fn an_unknown_symbol_has_nothing() {
    let m = SimMarket::new(
        7,
        &symbols(),
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    );
    let unknown = sym("ZZZZ");
    let now = at_ten(&m);
    assert_eq!(m.last_price(&unknown, now), None);
    assert_eq!(m.prior_close(&unknown), None);
    assert!(!m.is_index(&unknown));
    assert!(m.today.bars_until(&unknown, now).is_empty());
}
