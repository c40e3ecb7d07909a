use chrono::TimeZone;

use super::*;

/// Nothing fired at this price.
const N: Vec<i64> = Vec::new();

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn at(minute: u32, second: u32) -> DateTime<Utc> {
    // 2026-11-24 10:xx ET (15:xx UTC).
    Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, second)
        .unwrap()
}

fn alert(
    id: i64,
    symbol: &str,
    condition: Condition,
    repeat: bool,
    reference: Option<f64>,
) -> PriceAlert {
    PriceAlert {
        id,
        symbol: sym(symbol),
        condition,
        note: String::new(),
        status: AlertStatus::Armed,
        repeat,
        reference,
        created_at: at(0, 0),
        fired_at: None,
        fired_price: None,
    }
}

/// Seconds after 10:02 ET of the next fed price: every call feeds later prices.
static CLOCK: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Feeds prices one by one, 15 seconds apart; returns the ids that fired at each.
fn feed(book: &mut AlertBook, symbol: &str, prices: &[f64]) -> Vec<Vec<i64>> {
    prices
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            let s = CLOCK.fetch_add(15, std::sync::atomic::Ordering::Relaxed);
            let when = at(2, 0) + chrono::Duration::seconds(s);
            book.on_price(&sym(symbol), *p, when, &mut out);
            out.iter().map(|f| f.id).collect()
        })
        .collect()
}

#[test]
fn a_gap_over_the_level_fires() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "SPY", Condition::CrossesAbove(450.0), false, None));
    book.upsert(alert(2, "SPY", Condition::CrossesBelow(440.0), false, None));
    // 448.90 then 451.30: the price never printed 450, it jumped over it.
    assert_eq!(feed(&mut book, "SPY", &[448.9, 451.3]), vec![N, vec![1]]);
    // Down through 440 in one jump.
    assert_eq!(feed(&mut book, "SPY", &[438.2]), vec![vec![2]]);
    assert!(book.is_empty(), "both fired once and are done");
}

#[test]
fn a_level_touched_exactly_fires_once() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "QQQ", Condition::CrossesAbove(400.0), true, None));
    let fired = feed(&mut book, "QQQ", &[399.5, 400.0, 400.0, 400.0, 400.25]);
    assert_eq!(fired, vec![N, vec![1], N, N, N]);
}

#[test]
fn a_repeating_alert_re_arms_after_the_price_goes_back() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "QQQ", Condition::CrossesBelow(400.0), true, None));
    book.upsert(alert(2, "QQQ", Condition::CrossesBelow(400.0), false, None));
    let fired = feed(&mut book, "QQQ", &[401.0, 399.0, 398.0, 401.0, 399.9]);
    assert_eq!(fired, vec![N, vec![1, 2], N, N, vec![1]]);
    assert_eq!(book.len(), 1, "the one-shot alert left the book");
}

#[test]
fn the_reference_is_the_previous_price_before_any_quote() {
    // Set at 449.80 from the chart; the first quote the evaluator sees is 450.40.
    let mut book = AlertBook::new();
    book.upsert(alert(
        1,
        "SPY",
        Condition::CrossesAbove(450.0),
        false,
        Some(449.8),
    ));
    assert_eq!(feed(&mut book, "SPY", &[450.4]), vec![vec![1]]);
    // Without a reference the first price only primes.
    book.upsert(alert(2, "SPY", Condition::CrossesAbove(452.0), false, None));
    book.upsert(alert(3, "IWM", Condition::CrossesAbove(200.0), false, None));
    assert_eq!(feed(&mut book, "IWM", &[201.0]), vec![N]);
}

#[test]
fn a_move_alert_measures_from_its_reference_and_re_arms_from_the_firing_price() {
    let mut book = AlertBook::new();
    book.upsert(alert(
        1,
        "NVDA",
        Condition::MovesPercent(2.0),
        true,
        Some(100.0),
    ));
    let fired = feed(&mut book, "NVDA", &[101.0, 101.99, 102.0, 103.0, 99.95]);
    // 102.00 is +2 %; then measured from 102: 99.95 is −2.01 %.
    assert_eq!(fired, vec![N, N, vec![1], N, vec![1]]);
    assert_eq!(book.get(1).unwrap().reference, Some(99.95));
}

#[test]
fn nan_and_zero_prices_are_ignored() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "SPY", Condition::CrossesAbove(450.0), false, None));
    let fired = feed(&mut book, "SPY", &[449.0, f64::NAN, 0.0, 451.0]);
    assert_eq!(fired, vec![vec![], vec![], vec![], vec![1]]);
}

#[test]
fn relative_volume_fires_on_the_bar_that_goes_above_and_not_again_while_above() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "AAPL", Condition::RelVolumeAbove(3.0), true, None));
    let bar = |m: u32, volume: f64| Bar {
        start: at(m, 0),
        open: 190.0,
        high: 190.5,
        low: 189.5,
        close: 190.2,
        volume,
    };
    let mut fired = Vec::new();
    for m in 0..5 {
        let mut out = Vec::new();
        book.on_bar(&sym("AAPL"), &bar(m, 10_000.0), &mut out);
        assert!(out.is_empty(), "a baseline is being built");
    }
    for (m, volume) in [(5, 50_000.0), (6, 60_000.0), (7, 10_000.0), (8, 90_000.0)] {
        let mut out = Vec::new();
        book.on_bar(&sym("AAPL"), &bar(m, volume), &mut out);
        fired.push(
            out.iter()
                .map(|f| (f.id, f.rel_volume.map(|r| r.round())))
                .collect::<Vec<_>>(),
        );
    }
    // 5× fires; 60k over a mean of 16.7k is still above: no second firing; back under,
    // then 90k over ~21k fires again.
    assert_eq!(
        fired,
        vec![vec![(1, Some(5.0))], vec![], vec![], vec![(1, Some(4.0))]]
    );
}

#[test]
fn alerts_of_other_symbols_are_not_judged() {
    let mut book = AlertBook::new();
    book.upsert(alert(
        1,
        "SPY",
        Condition::CrossesAbove(450.0),
        false,
        Some(449.0),
    ));
    assert_eq!(feed(&mut book, "QQQ", &[500.0]), vec![N]);
    assert!(book.watches(&sym("SPY")) && !book.watches(&sym("QQQ")));
    book.remove(1);
    assert!(!book.watches(&sym("SPY")));
}

#[test]
fn a_firing_is_described_in_a_traders_words() {
    let f = Firing {
        id: 7,
        symbol: sym("SPY"),
        condition: Condition::CrossesAbove(450.0),
        price: 450.12,
        rel_volume: None,
        at: at(1, 0),
        rearmed: false,
        reference: None,
    };
    assert_eq!(
        f.describe("call wall"),
        "alert 7: SPY crosses above 450.00 at 450.12 — call wall"
    );
}

#[test]
fn a_bar_close_older_than_the_latest_quote_does_not_cross_back() {
    let mut book = AlertBook::new();
    book.upsert(alert(1, "SPY", Condition::CrossesAbove(450.0), true, None));
    book.upsert(alert(2, "SPY", Condition::CrossesBelow(450.0), true, None));
    let mut out = Vec::new();
    book.on_price(&sym("SPY"), 449.9, at(0, 50), &mut out);
    book.on_price(&sym("SPY"), 450.1, at(1, 5), &mut out);
    assert_eq!(out.iter().map(|f| f.id).collect::<Vec<_>>(), [1]);
    // The 10:00 bar (close 449.90, final at 10:01:00) arrives after the 10:01:05 quote.
    let late = Bar {
        start: at(0, 0),
        open: 449.5,
        high: 449.95,
        low: 449.4,
        close: 449.9,
        volume: 1000.0,
    };
    out.clear();
    book.on_bar(&sym("SPY"), &late, &mut out);
    book.on_price(&sym("SPY"), 450.2, at(1, 20), &mut out);
    assert!(out.is_empty(), "no crossing happened: {out:?}");
}

#[test]
fn syncing_with_the_stored_alerts_adds_and_removes_but_keeps_what_it_already_watches() {
    let moves = alert(1, "NVDA", Condition::MovesPercent(2.0), true, Some(100.0));
    let mut book = AlertBook::new();
    book.upsert(moves.clone());
    book.upsert(alert(2, "SPY", Condition::CrossesAbove(450.0), false, None));
    // Fired at +2 %: it now measures from 102.
    assert_eq!(feed(&mut book, "NVDA", &[102.0]), vec![vec![1]]);

    // Another terminal removed alert 2 and added alert 3 (the copy of alert 1 read back
    // may predate its firing).
    let stored = [
        moves,
        alert(3, "SPY", Condition::CrossesAbove(452.0), false, Some(451.0)),
    ];
    let mut changed = book.sync(&stored);
    changed.sort_unstable();
    assert_eq!(changed, [2, 3]);
    assert_eq!(book.len(), 2);
    assert!(book.get(2).is_none());
    assert_eq!(book.get(1).unwrap().reference, Some(102.0), "state kept");
    assert_eq!(feed(&mut book, "SPY", &[452.5]), vec![vec![3]]);
    assert!(
        book.sync(&stored[..1]).is_empty(),
        "alert 3 fired and is gone"
    );
}
