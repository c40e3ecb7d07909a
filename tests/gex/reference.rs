//! `compute_profile` against a naive reference written straight from SPEC 7, on random
//! chains: Black-Scholes-Merton gamma per contract with `f64::exp`, dollar GEX summed per
//! strike, and the total G(x) at hypothetical spots. The fast code (batched terms, the
//! blocked f32/f64 sweep, the vectorised exponential) must agree within its documented error
//! bounds, on whichever CPU path runs (AVX-512, AVX2, or portable with
//! `COACH_GEX_PORTABLE=1`).

use std::collections::BTreeMap;
use std::f64::consts::PI;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;
use coach::domain::Symbol;
use coach::gex::curve::{GexCurveBuilder, SWEEP_HIGH, SWEEP_LOW, Sweep};
use coach::gex::{Chain, Contract, ExpiryFilter, GexParams, Right, Root, compute_profile};
use proptest::prelude::*;

/// The snapshot: Tuesday 2026-11-24 10:30 New York (15:30 UTC).
fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
}

/// T in years (SPEC 7): calendar seconds from the snapshot to 16:00 New York on the expiry
/// date (SPY is PM-settled) over 365 days.
fn years_to(expiry: NaiveDate) -> f64 {
    let close = New_York
        .from_local_datetime(&expiry.and_hms_opt(16, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    (close - as_of()).num_seconds() as f64 / (365.0 * 86_400.0)
}

/// One contract as the textbook formula needs it: dealer-signed OI, K, σ, T.
struct Held {
    signed_oi: f64,
    strike: f64,
    vol: f64,
    years: f64,
    right: Right,
}

/// The contracts that carry gamma (OI > 0, IV > 0, before expiry), with their T.
fn held(chain: &Chain) -> Vec<Held> {
    chain
        .contracts
        .iter()
        .map(|c| Held {
            signed_oi: c.right.dealer_sign() * c.open_interest,
            strike: c.strike,
            vol: c.iv,
            years: years_to(c.expiry),
            right: c.right,
        })
        .filter(|h| h.signed_oi != 0.0 && h.vol > 0.0 && h.years > 0.0)
        .collect()
}

/// sign·Γ·OI·M·S²·0.01 at spot `s`, dollars per 1 % move, with
/// Γ = e^(−qT)·φ(d1)/(S·σ√T) and d1 = (ln(S/K) + (r − q + σ²/2)T)/(σ√T).
fn dollar_gex(h: &Held, s: f64, r: f64, q: f64) -> f64 {
    let vol_t = h.vol * h.years.sqrt();
    let d1 = ((s / h.strike).ln() + (r - q + 0.5 * h.vol * h.vol) * h.years) / vol_t;
    let density = (-0.5 * d1 * d1).exp() / (2.0 * PI).sqrt();
    let gamma = (-q * h.years).exp() * density / (s * vol_t);
    h.signed_oi * gamma * 100.0 * s * s * 0.01
}

/// The spot where a contract's dollar GEX peaks in ln x (d1 = 0).
fn peak_spot(h: &Held, r: f64, q: f64) -> f64 {
    h.strike * (-(r - q + 0.5 * h.vol * h.vol) * h.years).exp()
}

/// Per strike: (call GEX, put GEX) at spot.
fn per_strike(held: &[Held], spot: f64, r: f64, q: f64) -> BTreeMap<u64, (f64, f64)> {
    let mut strikes = BTreeMap::new();
    for h in held {
        let gex = dollar_gex(h, spot, r, q);
        let (call, put) = strikes.entry(h.strike.to_bits()).or_insert((0.0, 0.0));
        match h.right {
            Right::Call => *call += gex,
            Right::Put => *put += gex,
        }
    }
    strikes
}

/// G(x) and Σ|terms| at x (the scale rounding is judged against).
fn total_at(held: &[Held], x: f64, r: f64, q: f64) -> (f64, f64) {
    held.iter().fold((0.0, 0.0), |(sum, gross), h| {
        let gex = dollar_gex(h, x, r, q);
        (sum + gex, gross + gex.abs())
    })
}

/// The sweep's documented bound (src/gex/curve/sweep/f32.rs): the f32 terms' sums within
/// 1.1·(82 + 10j + j² + 3 + 2·blocks)·2⁻²⁴ of the gross sum after j steps, with at most
/// n/64 + 1 blocks of one sign; the f64 kernels' j²·ε/2 is far below it.
fn sweep_bound(points: usize, contracts: usize) -> f64 {
    let j = (points - 1) as f64;
    let blocks = (contracts / 64 + 1) as f64;
    1.1 * (82.0 + 10.0 * j + j * j + 3.0 + 2.0 * blocks) * f64::powi(2.0, -24) + 1e-11
}

/// What the sweep may leave out outright (src/gex/curve/mod.rs): a narrow term beyond
/// |d| = 9, below 3e-18 of the term's peak; taken as 1e-17 of every peak.
fn left_out(held: &[Held], r: f64, q: f64) -> f64 {
    held.iter()
        .map(|h| 1e-17 * 1.5 * dollar_gex(h, peak_spot(h, r, q), r, q).abs())
        .sum()
}

/// Listed expiries fall on weekdays: a weekend date moves to the Monday after.
fn weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date + Duration::days(2),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

fn contract() -> impl Strategy<Value = (bool, f64, i64, f64, f64)> {
    (
        any::<bool>(),
        0.7..1.3f64, // strike / spot
        0i64..120,   // days to expiry (0: expires today at 16:00)
        prop_oneof![Just(0.0), 1.0..5_000.0f64],
        prop_oneof![Just(0.0), 0.05..1.5f64],
    )
}

fn chain() -> impl Strategy<Value = (Chain, f64, f64)> {
    (
        20.0..700.0f64,
        proptest::collection::vec(contract(), 1..150),
        0.0..0.06f64,
        0.0..0.03f64,
    )
        .prop_map(|(spot, rows, r, q)| {
            let today = as_of().with_timezone(&New_York).date_naive();
            let contracts = rows
                .into_iter()
                .map(|(call, moneyness, days, oi, iv)| Contract {
                    root: Root::parse("SPY").unwrap(),
                    expiry: weekday(today + Duration::days(days)),
                    right: if call { Right::Call } else { Right::Put },
                    // Listed strikes: whole dollars.
                    strike: (spot * moneyness).round().max(1.0),
                    open_interest: oi.round(),
                    iv,
                    gamma: None,
                })
                .collect();
            let chain = Chain {
                symbol: Symbol::parse("SPY").unwrap(),
                spot,
                as_of: as_of(),
                contracts,
            };
            (chain, r, q)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_profile_matches_the_textbook_formula_strike_by_strike((chain, r, q) in chain()) {
        let params = GexParams { rate: r, dividend_yield: q, sweep_points: 201 };
        let held = held(&chain);
        let reference = per_strike(&held, chain.spot, r, q);
        let Ok(profile) = compute_profile(&chain, &params, ExpiryFilter::All) else {
            prop_assert!(reference.is_empty(), "no profile, yet contracts carry gamma");
            return Ok(());
        };
        let strikes: Vec<u64> = profile.strikes.iter().map(|s| s.strike.to_bits()).collect();
        prop_assert_eq!(strikes, reference.keys().copied().collect::<Vec<_>>());
        // ln(S/K) against ln S − c: d differs by a few ε·|ln K|/(σ√T) (1e-12 for 0DTE),
        // which moves a term d standard deviations out by d times that; terms past |d| ≈ 37.6
        // are 0 in the profile (below 1e-307 of their peak).
        let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-9 * scale + 1e-250;
        let mut total = 0.0;
        let mut gross = 0.0;
        for s in &profile.strikes {
            let (call, put) = reference[&s.strike.to_bits()];
            let scale = call.abs() + put.abs();
            prop_assert!(close(s.call_gex, call, scale), "call at {}: {} vs {call}", s.strike, s.call_gex);
            prop_assert!(close(s.put_gex, put, scale), "put at {}: {} vs {put}", s.strike, s.put_gex);
            prop_assert!(close(s.net_gex, call + put, scale), "net at {}", s.strike);
            total += call + put;
            gross += scale;
        }
        prop_assert!(close(profile.total_gex, total, gross), "total {} vs {total}", profile.total_gex);
    }

    #[test]
    fn the_sweep_and_the_crossings_follow_the_textbook_total((chain, r, q) in chain()) {
        let points = 201;
        let (low, high) = (SWEEP_LOW * chain.spot, SWEEP_HIGH * chain.spot);
        // The curve the profile sweeps, built contract by contract.
        let mut builder = GexCurveBuilder::default();
        for c in &chain.contracts {
            let oi = c.right.dealer_sign() * c.open_interest;
            builder.add(c.strike, years_to(c.expiry), c.iv, oi, r, q);
        }
        let mut sweep = Sweep::default();
        builder.build().sweep_into(low, high, points, &mut sweep);
        prop_assert_eq!(sweep.values.len(), points);
        let held = held(&chain);
        let bound = sweep_bound(points, chain.contracts.len());
        let left_out = left_out(&held, r, q);
        // Signs of the textbook total on the grid, where it is clearly away from zero.
        let mut signs = Vec::new();
        for (&x, &value) in sweep.spots.iter().zip(&sweep.values) {
            let (exact, gross) = total_at(&held, x, r, q);
            let tolerance = bound * gross + left_out + 1e-250;
            prop_assert!(
                (value - exact).abs() <= tolerance,
                "G({x}) swept {value}, textbook {exact} (gross {gross}, bound {bound})"
            );
            if exact.abs() > 2.0 * tolerance {
                prop_assert_eq!(value > 0.0, exact > 0.0, "sign of G({}): {} vs {}", x, value, exact);
                signs.push((x, exact > 0.0));
            }
        }
        // Every sign change of the textbook total on the grid is one crossing of the profile
        // in that bracket (a profile needs a contract with gamma).
        let params = GexParams { rate: r, dividend_yield: q, sweep_points: points };
        let Ok(profile) = compute_profile(&chain, &params, ExpiryFilter::All) else {
            prop_assert!(signs.is_empty());
            return Ok(());
        };
        for pair in signs.windows(2) {
            let ((a, below), (b, above)) = (pair[0], pair[1]);
            let inside = profile.crossings.iter().filter(|&&x| x > a && x < b).count();
            if below != above {
                prop_assert!(inside % 2 == 1, "G changes sign in ({a}, {b}), crossings {:?}", profile.crossings);
            }
        }
        for &x in &profile.crossings {
            prop_assert!((low..=high).contains(&x), "crossing {x} outside the sweep");
            let (g, gross) = total_at(&held, x, r, q);
            // Refined to 1e-10 relative: G there is tiny next to its scale (a 0DTE term's
            // slope is at most about 10/(σ√T) ≈ 8,000 times its gross per unit of ln x).
            prop_assert!(g.abs() <= 1e-5 * gross + left_out, "G({x}) = {g} at a reported crossing (gross {gross})");
        }
    }
}
