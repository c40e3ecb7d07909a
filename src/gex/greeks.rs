//! Vanna and charm exposure per strike and the 0DTE share of gamma (SPEC 20), in one plain
//! pass over the contracts the aggregate used (kept apart so the aggregate's optimised pass
//! stays as it is).
//!
//! Conventions (dealer sign as for GEX: +1 calls, −1 puts; M = 100 shares a contract):
//! - vanna exposure, dollars per vol point: `sign · vanna · OI · M · S · 0.01`;
//! - charm exposure, dollars per calendar day: `sign · charm · OI · M · S / 365`;
//!
//! with vanna and charm per share from [`bs::spot_greeks`]. The dealer sign is what makes
//! SPEC 20's toy vectors match: a lone put K = 95 (S = 100, σ = 0.2, T = 30/365) has vanna
//! −1.1279 and charm +1.3722/year per share, so its dollar vanna is +112.79 and its dollar
//! charm −37.60 per day.

use chrono::NaiveDate;

use super::aggregate::{carries_gamma, strike_key};
use super::bs;
use super::chain::Chain;
use super::expiry::{self, Settlement};
use super::profile::{GexParams, StrikeGex};

/// Shares per contract.
const MULTIPLIER: f64 = 100.0;

/// Fills `vanna` and `charm` of `strikes` (ascending, as the aggregate made them) from the
/// contracts of `chain` the aggregate used, and returns the 0DTE share: Σ |GEX| of those
/// expiring on the snapshot's New York date over Σ |GEX| of all of them, in [0, 1] (0 when
/// none has gamma).
///
/// A contract is used when it carries gamma (the aggregate's rule), its date is one of
/// `expirations_used` (which the expiry filter kept) and it is still trading at the snapshot.
pub(crate) fn add_vanna_charm(
    chain: &Chain,
    params: &GexParams,
    expirations_used: &[NaiveDate],
    strikes: &mut [StrikeGex],
) -> f64 {
    let spot = chain.spot;
    let today = expiry::new_york_date(chain.as_of);
    let keys: Vec<i64> = strikes.iter().map(|s| strike_key(s.strike)).collect();
    let mut years_of: Vec<(Settlement, NaiveDate, f64)> = Vec::new();
    let (mut zero_dte_gex, mut all_gex) = (0.0, 0.0);
    for c in &chain.contracts {
        if !(carries_gamma(c) && expirations_used.binary_search(&c.expiry).is_ok()) {
            continue;
        }
        let settlement = expiry::settlement(c.root.as_str());
        let years = match years_of
            .iter()
            .find(|(s, d, _)| *s == settlement && *d == c.expiry)
        {
            Some(&(_, _, years)) => years,
            None => {
                let years = expiry::years_between(
                    chain.as_of,
                    expiry::expiry_instant(c.root.as_str(), c.expiry),
                );
                years_of.push((settlement, c.expiry, years));
                years
            }
        };
        if years <= 0.0 {
            continue;
        }
        let Ok(row) = keys.binary_search(&strike_key(c.strike)) else {
            continue;
        };
        let is_call = c.right.dealer_sign() > 0.0;
        let Some(g) = bs::spot_greeks(
            is_call,
            spot,
            c.strike,
            c.iv,
            years,
            params.rate,
            params.dividend_yield,
        ) else {
            continue;
        };
        let position = c.right.dealer_sign() * c.open_interest * MULTIPLIER;
        strikes[row].vanna += position * g.vanna * spot * 0.01;
        strikes[row].charm += position * g.charm * spot / 365.0;
        let gex = (g.gamma * c.open_interest * MULTIPLIER * spot * spot * 0.01).abs();
        all_gex += gex;
        if c.expiry == today {
            zero_dte_gex += gex;
        }
    }
    if all_gex > 0.0 {
        (zero_dte_gex / all_gex).clamp(0.0, 1.0)
    } else {
        0.0
    }
}
