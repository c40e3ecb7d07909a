//! The gamma alerts' edges (SPEC 20): a price that jumps over the flip, a flip that moves
//! across a still price, a wall that moves, a regime that flips back and forth, each
//! firing exactly once per change.

use chrono::TimeZone;

use super::*;

fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

/// 2026-11-24, 10:mm ET.
fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, 0).unwrap()
}

fn alert(id: i64, condition: Condition, repeat: bool, reference: Option<f64>) -> PriceAlert {
    PriceAlert {
        id,
        symbol: spy(),
        condition,
        note: String::new(),
        status: AlertStatus::Armed,
        repeat,
        reference,
        created_at: at(0),
        fired_at: None,
        fired_price: None,
    }
}

fn gamma(minute: u32, flip: Option<f64>, call: f64, put: f64, positive: bool) -> GammaState {
    GammaState {
        at: at(minute),
        zero_gamma: flip,
        call_wall: Some(call),
        put_wall: Some(put),
        positive,
        spot: 674.10,
    }
}

fn price(book: &mut AlertBook, minute: u32, second: u32, p: f64) -> Vec<Firing> {
    let mut out = Vec::new();
    book.on_price(
        &spy(),
        p,
        at(minute) + chrono::Duration::seconds(second.into()),
        &mut out,
    );
    out
}

fn refresh(book: &mut AlertBook, g: GammaState) -> Vec<Firing> {
    let mut out = Vec::new();
    book.on_gex(&spy(), g, &mut out);
    out
}

fn minute_close(book: &mut AlertBook, minute: u32, close: f64) -> Vec<Firing> {
    let bar = Bar {
        start: at(minute),
        open: close,
        high: close,
        low: close,
        close,
        volume: 1000.0,
    };
    let mut out = Vec::new();
    book.on_bar(&spy(), &bar, &mut out);
    out
}

fn ids(firings: &[Firing]) -> Vec<i64> {
    firings.iter().map(|f| f.id).collect()
}

#[test]
fn a_price_that_jumps_over_the_flip_fires_once() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, Condition::FlipCross, false, Some(674.10)));
    book.upsert(alert(2, Condition::FlipCross, true, Some(674.10)));
    assert!(refresh(&mut book, gamma(5, Some(675.00), 680.0, 660.0, false)).is_empty());
    assert!(
        price(&mut book, 5, 10, 674.60).is_empty(),
        "still below 675"
    );
    let fired = price(&mut book, 5, 20, 676.20);
    assert_eq!(
        ids(&fired),
        [1, 2],
        "a jump from 674.60 to 676.20 crosses 675"
    );
    assert_eq!(fired[0].price, 676.20);
    assert_eq!(fired[0].condition, Condition::FlipCross);
    assert!(
        price(&mut book, 5, 30, 677.00).is_empty(),
        "still above: no second firing"
    );
    assert_eq!(
        ids(&price(&mut book, 5, 40, 674.00)),
        [2],
        "back under: only the repeating one"
    );
    assert!(book.get(1).is_none() && book.get(2).is_some());
}

#[test]
fn a_flip_that_moves_across_a_still_price_fires_once_and_a_republished_refresh_never() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, Condition::FlipCross, true, Some(674.10)));
    assert!(price(&mut book, 4, 0, 674.10).is_empty());
    assert!(
        refresh(&mut book, gamma(5, Some(675.00), 680.0, 660.0, false)).is_empty(),
        "674.10 was and is below 675"
    );
    let fired = refresh(&mut book, gamma(10, Some(673.50), 680.0, 660.0, false));
    assert_eq!(ids(&fired), [1], "the flip fell under the still price");
    assert_eq!(fired[0].price, 674.10);
    assert!(
        refresh(&mut book, gamma(10, Some(673.50), 680.0, 660.0, false)).is_empty(),
        "the same refresh republished"
    );
    assert!(
        refresh(&mut book, gamma(8, Some(675.00), 680.0, 660.0, false)).is_empty(),
        "an older refresh is not news"
    );
    // No flip in range: nothing to cross; a flip back above the price afterwards starts
    // afresh from the alert's reference (674.10, below 676): no change, no firing.
    assert!(refresh(&mut book, gamma(15, None, 680.0, 660.0, false)).is_empty());
    assert!(refresh(&mut book, gamma(20, Some(676.00), 680.0, 660.0, false)).is_empty());
    assert!(price(&mut book, 20, 10, 674.20).is_empty());
    assert_eq!(
        ids(&price(&mut book, 20, 20, 676.00)),
        [1],
        "a touch of the flip counts"
    );
}

#[test]
fn a_flip_alert_set_while_the_price_is_already_across_waits_for_the_next_cross() {
    let mut book = AlertBook::new();
    // Set at 676 with the flip at 675: already above; nothing to report.
    book.upsert(alert(1, Condition::FlipCross, false, Some(676.00)));
    assert!(refresh(&mut book, gamma(5, Some(675.00), 680.0, 660.0, true)).is_empty());
    assert!(price(&mut book, 5, 10, 676.50).is_empty());
    assert_eq!(ids(&price(&mut book, 5, 20, 674.90)), [1]);
}

#[test]
fn a_minute_closing_beyond_a_wall_by_the_percent_fires_once_and_a_moving_wall_is_judged_where_it_is()
 {
    let mut book = AlertBook::new();
    book.upsert(alert(1, Condition::WallBreak(0.1), false, Some(674.10)));
    book.upsert(alert(2, Condition::WallBreak(0.1), true, Some(674.10)));
    assert!(
        minute_close(&mut book, 1, 690.0).is_empty(),
        "no refresh yet: no walls to break"
    );
    refresh(&mut book, gamma(5, Some(671.35), 680.0, 660.0, false));
    assert!(minute_close(&mut book, 5, 679.00).is_empty());
    assert!(
        minute_close(&mut book, 6, 680.60).is_empty(),
        "0.60 over 680 is short of 0.1 % of 680.60 (0.68)"
    );
    let fired = minute_close(&mut book, 7, 680.70);
    assert_eq!(ids(&fired), [1, 2]);
    assert_eq!(fired[0].price, 680.70);
    assert_eq!(fired[0].at, at(8), "at the minute's close");
    assert!(
        minute_close(&mut book, 8, 681.50).is_empty(),
        "still beyond: once"
    );
    // The call wall moves up to 690 while price sits at 681.50: no longer beyond.
    refresh(&mut book, gamma(10, Some(671.35), 690.0, 660.0, false));
    assert!(minute_close(&mut book, 10, 681.50).is_empty());
    // The wall moves down under the still price: the next close is beyond it.
    refresh(&mut book, gamma(15, Some(671.35), 680.50, 660.0, false));
    assert_eq!(ids(&minute_close(&mut book, 15, 681.50)), [2]);
    // A break under the put wall counts the same way.
    assert!(minute_close(&mut book, 16, 670.00).is_empty());
    assert_eq!(ids(&minute_close(&mut book, 17, 659.20)), [2]);
}

#[test]
fn a_wall_alert_set_while_beyond_the_wall_waits_for_the_price_to_come_back_and_break_again() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, Condition::WallBreak(0.0), false, Some(682.00)));
    refresh(&mut book, gamma(5, Some(671.35), 680.0, 660.0, true));
    assert!(
        minute_close(&mut book, 5, 682.50).is_empty(),
        "beyond when it was set"
    );
    assert!(minute_close(&mut book, 6, 679.90).is_empty());
    assert_eq!(ids(&minute_close(&mut book, 7, 680.10)), [1]);
}

#[test]
fn a_regime_that_flips_back_and_forth_fires_exactly_once_per_change() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, Condition::RegimeChange, false, None));
    book.upsert(alert(2, Condition::RegimeChange, true, None));
    assert!(
        refresh(&mut book, gamma(5, Some(671.35), 680.0, 660.0, true)).is_empty(),
        "the first refresh sets the regime"
    );
    let fired = refresh(&mut book, gamma(10, Some(676.00), 680.0, 660.0, false));
    assert_eq!(ids(&fired), [1, 2]);
    assert_eq!(fired[0].price, 674.10, "no price seen: the profile's spot");
    assert!(
        refresh(&mut book, gamma(10, Some(676.00), 680.0, 660.0, false)).is_empty(),
        "republished"
    );
    assert!(
        refresh(&mut book, gamma(15, Some(676.00), 680.0, 660.0, false)).is_empty(),
        "still negative"
    );
    price(&mut book, 19, 0, 675.25);
    let fired = refresh(&mut book, gamma(20, Some(671.00), 680.0, 660.0, true));
    assert_eq!(
        ids(&fired),
        [2],
        "the once alert is done; the repeating one fires again"
    );
    assert_eq!(fired[0].price, 675.25, "at the last price");
    assert_eq!(
        ids(&refresh(&mut book, gamma(25, None, 680.0, 660.0, false))),
        [2]
    );
    assert!(book.get(1).is_none());
}

#[test]
fn an_alert_added_after_a_refresh_is_judged_against_it() {
    let mut book = AlertBook::new();
    // SPY has no alert yet: the refresh is still kept.
    assert!(refresh(&mut book, gamma(5, Some(675.00), 680.0, 660.0, true)).is_empty());
    book.upsert(alert(1, Condition::FlipCross, false, Some(674.10)));
    assert_eq!(ids(&price(&mut book, 6, 0, 675.10)), [1]);
}
