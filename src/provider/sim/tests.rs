use chrono::NaiveDate;

use super::*;

fn symbols() -> Vec<Symbol> {
    DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect()
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn market() -> SimMarket {
    // Tuesday 2026-11-24; the previous session is Monday 2026-11-23.
    SimMarket::new(
        7,
        &symbols(),
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    )
}

/// Every symbol's minutes of a session (bars and 15-second prices), as the session's
/// clock reaches each minute's end.
fn every_minute(day: &SimDay) -> Vec<SimMinute> {
    let mut out = Vec::new();
    let mut at = day.session.pre_market_open() + Duration::minutes(1);
    while at <= day.session.after_hours_close() {
        day.visit(at, |_, tape| {
            out.extend(
                tape.latest()
                    .filter(|m| m.bar.start + Duration::minutes(1) == at),
            )
        });
        at += Duration::minutes(1);
    }
    out
}

fn every_minute_of(day: &SimDay, i: usize) -> Vec<SimMinute> {
    let mut out = Vec::new();
    let mut at = day.session.pre_market_open() + Duration::minutes(1);
    while at <= day.session.after_hours_close() {
        out.extend(
            day.visit_one(i, at, |tape| tape.latest().copied())
                .flatten()
                .filter(|m| m.bar.start + Duration::minutes(1) == at),
        );
        at += Duration::minutes(1);
    }
    out
}

fn returns(bars: &[Bar]) -> Vec<f64> {
    bars.iter().map(|b| (b.close / b.open).ln()).collect()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn regular_bars(m: &SimMarket, s: &str) -> Vec<Bar> {
    let session = m.today.session;
    m.today
        .bars_until(&sym(s), session.close + Duration::hours(5))
        .into_iter()
        .filter(|b| b.start >= session.open && b.start < session.close)
        .collect()
}

#[test]
fn the_same_seed_and_date_give_the_same_session() {
    let a = market();
    let b = market();
    assert_eq!(regular_bars(&a, "NVDA"), regular_bars(&b, "NVDA"));
    let other = SimMarket::new(
        8,
        &symbols(),
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    );
    assert_ne!(regular_bars(&a, "NVDA"), regular_bars(&other, "NVDA"));
}

#[test]
fn a_weekend_date_starts_on_the_next_session() {
    let m = SimMarket::new(
        1,
        &symbols(),
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
    );
    assert_eq!(
        m.today.session.date,
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    );
    // The Friday after Thanksgiving closes at 13:00 ET and is the previous session.
    assert_eq!(
        m.previous.session.date,
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    );
    assert!(m.previous.session.early_close);
    let spy = m.previous.bars_until(&sym("SPY"), m.previous.session.close);
    let regular = spy
        .iter()
        .filter(|b| b.start >= m.previous.session.open)
        .count();
    assert_eq!(regular, 210, "09:30–13:00 is 210 minutes");
}

#[test]
fn bars_are_well_formed_and_positive() {
    let m = market();
    for day in [&m.today, &m.previous] {
        for minute in every_minute(day) {
            let b = minute.bar;
            assert!(b.low > 0.0 && b.low <= b.open.min(b.close), "{b:?}");
            assert!(b.high >= b.open.max(b.close), "{b:?}");
            assert!(b.volume >= 0.0 && b.volume.is_finite());
            assert_eq!(minute.steps[STEPS_PER_MINUTE - 1], b.close);
            assert!(minute.steps.iter().all(|p| *p >= b.low && *p <= b.high));
        }
    }
}

#[test]
fn an_index_and_its_etf_move_together() {
    let m = market();
    let spx = returns(&regular_bars(&m, "SPX"));
    let spy = returns(&regular_bars(&m, "SPY"));
    assert_eq!(spx.len(), 390);
    assert!(
        correlation(&spx, &spy) > 0.95,
        "{}",
        correlation(&spx, &spy)
    );
    let ndx = returns(&regular_bars(&m, "NDX"));
    let qqq = returns(&regular_bars(&m, "QQQ"));
    assert!(correlation(&ndx, &qqq) > 0.95);
    let ratio = regular_bars(&m, "SPX")[0].close / regular_bars(&m, "SPY")[0].close;
    assert!((9.0..11.0).contains(&ratio), "SPX/SPY ratio {ratio}");
}

#[test]
fn indices_have_no_volume_and_no_extended_hours() {
    let m = market();
    let session = m.today.session;
    let spx = m
        .today
        .bars_until(&sym("SPX"), session.close + Duration::hours(5));
    assert!(spx.iter().all(|b| b.volume == 0.0));
    assert!(
        spx.iter()
            .all(|b| b.start >= session.open && b.start < session.close)
    );
    let spy = m
        .today
        .bars_until(&sym("SPY"), session.close + Duration::hours(5));
    assert!(
        spy.iter().any(|b| b.start < session.open),
        "ETFs trade pre-market"
    );
    assert_eq!(spy.len(), 16 * 60);
}

#[test]
fn volume_is_u_shaped_over_the_regular_session() {
    let m = market();
    let spy = regular_bars(&m, "SPY");
    let avg = |bars: &[Bar]| bars.iter().map(|b| b.volume).sum::<f64>() / bars.len() as f64;
    let open = avg(&spy[..30]);
    let midday = avg(&spy[150..240]);
    let close = avg(&spy[360..]);
    assert!(open > 1.8 * midday, "open {open} midday {midday}");
    assert!(close > 1.3 * midday, "close {close} midday {midday}");
}

#[test]
fn sessions_chain_through_the_prior_close_with_a_gap_at_the_open() {
    let mut m = market();
    let mut gaps = Vec::new();
    for _ in 0..20 {
        let prior = m.prior_close(&sym("SPX")).unwrap();
        let open = regular_bars(&m, "SPX")[0].open;
        gaps.push((open / prior - 1.0).abs());
        m.roll();
    }
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(
        mean_gap > 0.0008 && mean_gap < 0.02,
        "mean |gap| {mean_gap}"
    );
    assert_eq!(m.daily[&sym("SPY")].len(), HISTORY_SESSIONS + 1 + 20);
}

#[test]
fn trend_and_range_days_both_occur() {
    let mut m = market();
    let (mut trend, mut range) = (0, 0);
    for _ in 0..30 {
        let bars = regular_bars(&m, "SPX");
        let (open, close) = (bars[0].open, bars[bars.len() - 1].close);
        let high = bars.iter().map(|b| b.high).fold(f64::MIN, f64::max);
        let low = bars.iter().map(|b| b.low).fold(f64::MAX, f64::min);
        let body = (close - open).abs() / (high - low);
        if body > 0.6 {
            trend += 1;
        } else if body < 0.3 {
            range += 1;
        }
        m.roll();
    }
    assert!(
        trend >= 3 && range >= 3,
        "trend days {trend}, range days {range}"
    );
}

#[test]
fn last_price_steps_every_fifteen_seconds() {
    let m = market();
    let open = m.today.session.open;
    let spy = sym("SPY");
    let spy_index = m.symbols().position(|s| *s == spy).unwrap();
    let minute = every_minute_of(&m.today, spy_index)
        .into_iter()
        .find(|x| x.bar.start == open)
        .unwrap();
    assert_eq!(
        m.last_price(&spy, open + Duration::seconds(15)),
        Some(minute.steps[0])
    );
    assert_eq!(
        m.last_price(&spy, open + Duration::seconds(44)),
        Some(minute.steps[1])
    );
    assert_eq!(
        m.last_price(&spy, open + Duration::seconds(60)),
        Some(minute.bar.close)
    );
}

#[test]
fn index_and_etf_histories_stay_in_proportion() {
    let m = market();
    let spx = &m.daily[&sym("SPX")];
    let spy = &m.daily[&sym("SPY")];
    let ratios: Vec<f64> = spx
        .iter()
        .zip(spy)
        .map(|(a, b)| a.close / b.close)
        .collect();
    let (lo, hi) = ratios
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
    assert!(hi / lo < 1.01, "SPX/SPY ratio drifted from {lo} to {hi}");
}

mod fingerprint;
mod sharing;
