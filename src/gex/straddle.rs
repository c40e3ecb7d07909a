//! The at-the-money straddle of the front expiry: the expected move the brief reports
//! when a chain is available (SPEC 8.2). The chains here carry IV but no option prices,
//! so the straddle is the Black-Scholes-Merton price of the call plus the put at the
//! listed strike nearest spot, each at its own IV, with calendar-time T to the expiry
//! instant (AM or PM settlement, [`super::expiry`]); that is the mid the market quotes,
//! to the precision its IV was quoted.
//!
//! Prices are per share in the underlying's units; T is in years.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::aggregate::strike_key;
use super::bs;
use super::chain::{Chain, Contract, Right, Root};
use super::expiry::{Settlement, expiry_instant, new_york_date, settlement, years_between};
use super::profile::GexParams;

/// The front expiry's at-the-money straddle.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Straddle {
    /// The front expiry: the first that lasts through the close of the snapshot's day.
    pub expiry: NaiveDate,
    /// The strike nearest spot with both a call and a put carrying IV.
    pub strike: f64,
    /// Call plus put: the ± move the options price by the expiry, price units.
    pub price: f64,
    /// From the chain's snapshot to the expiry instant, years.
    pub years: f64,
}

/// The straddle of `chain`, or `None` when no live expiry lists a call and a put with IV
/// at one strike.
pub fn atm_straddle(chain: &Chain, params: &GexParams) -> Option<Straddle> {
    let priced = |c: &&Contract| c.iv.is_finite() && c.iv > 0.0 && c.strike > 0.0;
    // T per series: contracts of one settlement style and date expire at one instant.
    // Chains list their contracts series by series, so the contract before nearly always
    // has the same root and expiry: its T is reused without hashing (issue 25: the hash per
    // contract, twice over the chain, was most of the simulation's GEX refresh).
    let mut series: HashMap<(Settlement, NaiveDate), f64> = HashMap::new();
    let mut last: Option<(Root, NaiveDate, f64)> = None;
    let mut years = |c: &Contract| {
        if let Some((root, expiry, t)) = last
            && root == c.root
            && expiry == c.expiry
        {
            return t;
        }
        let t = *series
            .entry((settlement(c.root.as_str()), c.expiry))
            .or_insert_with(|| {
                years_between(chain.as_of, expiry_instant(c.root.as_str(), c.expiry))
            });
        last = Some((c.root, c.expiry, t));
        t
    };
    // The session's move: the first expiry that lasts through the close of the snapshot's
    // day (not an AM-settled monthly expiring at this morning's open), or after that close
    // the next day's.
    let close = expiry_instant("SPXW", new_york_date(chain.as_of));
    let through_close = years_between(chain.as_of, close);
    let (front, expiry) = chain
        .contracts
        .iter()
        .filter(priced)
        .map(|c| (years(c), c.expiry))
        .filter(|&(t, _)| t > 0.0 && t >= through_close)
        .min_by(|a, b| a.0.total_cmp(&b.0))?;
    // Call and put IV per strike of the front expiry.
    let mut strikes: HashMap<i64, (Option<f64>, Option<f64>)> = HashMap::new();
    for c in chain
        .contracts
        .iter()
        .filter(priced)
        .filter(|c| years(c) == front)
    {
        let entry = strikes.entry(strike_key(c.strike)).or_default();
        match c.right {
            Right::Call => entry.0 = Some(c.iv),
            Right::Put => entry.1 = Some(c.iv),
        }
    }
    let (strike, call_iv, put_iv) = strikes
        .into_iter()
        .filter_map(|(key, (call, put))| Some((key as f64 / 1000.0, call?, put?)))
        .min_by(|a, b| {
            let gap = |strike: f64| (strike - chain.spot).abs();
            gap(a.0).total_cmp(&gap(b.0)).then(a.0.total_cmp(&b.0))
        })?;
    let leg = |is_call: bool, iv: f64| {
        bs::price(
            is_call,
            chain.spot,
            strike,
            iv,
            front,
            params.rate,
            params.dividend_yield,
        )
    };
    let price = leg(true, call_iv)? + leg(false, put_iv)?;
    Some(Straddle {
        expiry,
        strike,
        price,
        years: front,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::Symbol;
    use crate::gex::profile::tests::contract;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Wednesday 2026-11-25 09:00 New York (14:00 UTC), 7 hours before the PM close.
    fn chain(spot: f64, contracts: Vec<Contract>) -> Chain {
        Chain {
            symbol: Symbol::parse("SPY").unwrap(),
            spot,
            as_of: Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap(),
            contracts,
        }
    }

    fn pair(expiry: NaiveDate, strike: f64, iv: f64) -> [Contract; 2] {
        [
            contract("SPY", expiry, Right::Call, strike, 100.0, iv),
            contract("SPY", expiry, Right::Put, strike, 100.0, iv),
        ]
    }

    #[test]
    fn the_straddle_is_the_front_expirys_at_the_money_call_plus_put() {
        let today = date(2026, 11, 25);
        let mut contracts: Vec<Contract> = [99.0, 100.0, 101.0]
            .into_iter()
            .flat_map(|k| pair(today, k, 0.16))
            .collect();
        contracts.extend(pair(date(2026, 12, 18), 100.0, 0.18));
        // Yesterday's expiry is over and never the front.
        contracts.extend(pair(date(2026, 11, 24), 100.0, 0.5));
        let params = GexParams::default();
        let s = atm_straddle(&chain(100.0, contracts), &params).unwrap();
        assert_eq!((s.expiry, s.strike), (today, 100.0));
        // Calendar time, 365-day years: 7 hours to the 16:00 close.
        let years = 7.0 / (365.0 * 24.0);
        assert!((s.years - years).abs() < 1e-12, "{}", s.years);
        let leg = |call| {
            bs::price(
                call,
                100.0,
                100.0,
                0.16,
                years,
                params.rate,
                params.dividend_yield,
            )
        };
        let expected = leg(true).unwrap() + leg(false).unwrap();
        assert!(
            (s.price - expected).abs() < 1e-9,
            "{} vs {expected}",
            s.price
        );
        // The textbook rule of thumb: an ATM straddle ≈ 0.8·S·σ·√T (here ≈ 0.36).
        let thumb = 0.8 * 100.0 * 0.16 * years.sqrt();
        assert!(
            (s.price / thumb - 1.0).abs() < 0.05,
            "{} vs {thumb}",
            s.price
        );
    }

    #[test]
    fn on_a_monthly_friday_before_the_open_the_pm_weekly_is_the_front_not_the_am_monthly() {
        // Friday 2026-11-20 08:00 New York: SPX monthlies settle at 09:30 (AM), SPXW at 16:00.
        let friday = date(2026, 11, 20);
        let contracts = vec![
            contract("SPX", friday, Right::Call, 6600.0, 100.0, 0.15),
            contract("SPX", friday, Right::Put, 6600.0, 100.0, 0.15),
            contract("SPXW", friday, Right::Call, 6600.0, 100.0, 0.15),
            contract("SPXW", friday, Right::Put, 6600.0, 100.0, 0.15),
        ];
        let spx = Chain {
            symbol: Symbol::parse("SPX").unwrap(),
            spot: 6600.0,
            as_of: Utc.with_ymd_and_hms(2026, 11, 20, 13, 0, 0).unwrap(),
            contracts,
        };
        let s = atm_straddle(&spx, &GexParams::default()).unwrap();
        assert!(
            (s.years - 8.0 / (365.0 * 24.0)).abs() < 1e-12,
            "{}",
            s.years
        );
        // After the close the next day's expiry is the front, not nothing.
        let evening = Chain {
            as_of: Utc.with_ymd_and_hms(2026, 11, 20, 22, 0, 0).unwrap(),
            contracts: pair(date(2026, 11, 23), 6600.0, 0.15).to_vec(),
            ..spx
        };
        let next = atm_straddle(&evening, &GexParams::default()).unwrap();
        assert_eq!(next.expiry, date(2026, 11, 23));
    }

    #[test]
    fn a_strike_without_both_legs_is_passed_over_for_the_next_nearest() {
        let today = date(2026, 11, 25);
        let mut contracts = vec![contract("SPY", today, Right::Call, 100.0, 10.0, 0.2)];
        // 100's put has no IV: unknown, not zero.
        contracts.push(contract("SPY", today, Right::Put, 100.0, 10.0, 0.0));
        contracts.extend(pair(today, 98.0, 0.2));
        contracts.extend(pair(today, 103.0, 0.2));
        let s = atm_straddle(&chain(100.0, contracts), &GexParams::default()).unwrap();
        assert_eq!(s.strike, 98.0);
    }

    #[test]
    fn no_straddle_without_a_live_expiry_with_iv() {
        let params = GexParams::default();
        assert_eq!(atm_straddle(&chain(100.0, vec![]), &params), None);
        let expired = pair(date(2026, 11, 24), 100.0, 0.2).to_vec();
        assert_eq!(atm_straddle(&chain(100.0, expired), &params), None);
        let nan = pair(date(2026, 11, 25), 100.0, f64::NAN).to_vec();
        assert_eq!(atm_straddle(&chain(100.0, nan), &params), None);
    }
}
