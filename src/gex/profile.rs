//! The GEX profile of a chain (SPEC 7, 20): per-strike call/put/net dollar GEX per 1 % move
//! and vanna and charm exposure, totals and regime, zero-gamma crossings, walls, the
//! absolute-gamma strike, key levels and the 0DTE share.
//!
//! Conventions: dealers are assumed long calls and short puts (calls +, puts −);
//! GEX = sign · Γ · OI · 100 · S² · 0.01 in dollars per 1 % move of the underlying; Γ is
//! Black-Scholes-Merton from each contract's IV with r and q from [`GexParams`]; T is calendar
//! time to the expiry instant ([`super::expiry`]). Contracts at or past expiry, with OI ≤ 0
//! or IV ≤ 0 contribute nothing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::aggregate::aggregate;
use super::chain::Chain;
use super::curve::GexCurve;
use super::filter::ExpiryFilter;
use crate::domain::{GammaLevels, Symbol};

/// Model and sweep parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GexParams {
    /// Risk-free rate r, continuously compounded annual decimal (default 0).
    pub rate: f64,
    /// Dividend yield q, continuously compounded annual decimal (default 0).
    pub dividend_yield: f64,
    /// Points of the zero-gamma sweep over [0.8 S, 1.2 S] (default 201, at least 200).
    pub sweep_points: usize,
}

impl Default for GexParams {
    fn default() -> Self {
        GexParams {
            rate: 0.0,
            dividend_yield: 0.0,
            sweep_points: 201,
        }
    }
}

/// Positive when total GEX ≥ 0 (dealers long gamma: moves dampened), else negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    Positive,
    Negative,
}

impl Regime {
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Positive => "positive",
            Regime::Negative => "negative",
        }
    }
}

/// One strike's exposures, summed across expirations and roots, dealer sign (+1 calls,
/// −1 puts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrikeGex {
    pub strike: f64,
    /// Dollars per 1 % move, ≥ 0.
    pub call_gex: f64,
    /// Dollars per 1 % move, ≤ 0.
    pub put_gex: f64,
    /// call + put, dollars per 1 % move.
    pub net_gex: f64,
    /// Vanna exposure, dollars of delta per vol point: Σ sign · vanna · OI · 100 · S · 0.01.
    pub vanna: f64,
    /// Charm exposure, dollars of delta per calendar day: Σ sign · charm · OI · 100 · S / 365.
    pub charm: f64,
}

/// How a key level is expected to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelLabel {
    /// Net GEX ≥ 0.
    Support,
    /// Net GEX < 0.
    Resistance,
    /// The max-|GEX| strike.
    Magnet,
}

impl LevelLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            LevelLabel::Support => "support",
            LevelLabel::Resistance => "resistance",
            LevelLabel::Magnet => "magnet",
        }
    }
}

/// A strike whose |net GEX| stands out (≥ mean + 1σ of |net| over all strikes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyLevel {
    pub strike: f64,
    pub net_gex: f64,
    pub label: LevelLabel,
}

/// At most this many key levels, the largest |net| first.
pub const MAX_KEY_LEVELS: usize = 10;

/// A computed profile. Field names and units are those of `coach gex --json` (SPEC 12).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GexProfile {
    pub symbol: Symbol,
    /// Spot the profile was computed at, price units.
    pub spot: f64,
    /// Snapshot instant T was measured from (UTC).
    pub as_of: DateTime<Utc>,
    /// Σ net GEX, dollars per 1 % move.
    pub total_gex: f64,
    /// Σ per-strike vanna exposure, dollars per vol point.
    pub total_vanna: f64,
    /// Σ per-strike charm exposure, dollars per calendar day.
    pub total_charm: f64,
    pub regime: Regime,
    /// The zero-gamma crossing nearest spot; `None` when G has no sign change in [0.8 S, 1.2 S].
    pub zero_gamma: Option<f64>,
    /// All zero-gamma crossings in [0.8 S, 1.2 S], ascending.
    pub crossings: Vec<f64>,
    /// Strike of the largest positive net GEX.
    pub call_wall: Option<f64>,
    /// Strike of the most negative net GEX.
    pub put_wall: Option<f64>,
    /// Strike of the largest |net GEX|.
    pub max_gex_strike: Option<f64>,
    /// Strike of the largest call GEX + |put GEX| (gross gamma); ties nearest spot.
    pub abs_gamma_strike: Option<f64>,
    /// Σ |GEX| of the used contracts expiring on the snapshot's New York date over Σ |GEX|
    /// of all used contracts, in [0, 1].
    pub zero_dte_share: f64,
    /// Largest |net| first, at most 10.
    pub key_levels: Vec<KeyLevel>,
    /// Every strike with a contributing contract, ascending.
    pub strikes: Vec<StrikeGex>,
    /// Expiration dates that contributed, ascending.
    pub expirations_used: Vec<NaiveDate>,
    /// Contracts that contributed (live, selected, OI > 0, IV > 0).
    pub contracts_used: usize,
    /// The front expiry's at-the-money straddle (the brief's expected move), filled by
    /// [`super::straddle::atm_straddle`] where a brief is built from the profile: not part
    /// of the profile's computation or of `coach gex --json`.
    #[serde(skip)]
    pub atm_straddle: Option<super::straddle::Straddle>,
}

/// Why no profile can be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GexError {
    #[error("{symbol}: spot {spot} is not a positive price")]
    BadSpot { symbol: Symbol, spot: f64 },
    #[error("sweep_points {0} is below the 200 the zero-gamma sweep needs")]
    TooFewSweepPoints(usize),
    #[error(
        "{symbol}: no contract with open interest and IV is left after the expiry filter {filter} \
         at {as_of} ({live} live expirations{next})"
    )]
    NoContracts {
        symbol: Symbol,
        filter: ExpiryFilter,
        as_of: DateTime<Utc>,
        live: usize,
        /// ", the nearest is YYYY-MM-DD" or empty.
        next: String,
    },
}

/// Computes the profile of `chain` at its `as_of` and `spot`.
pub fn compute_profile(
    chain: &Chain,
    params: &GexParams,
    filter: ExpiryFilter,
) -> Result<GexProfile, GexError> {
    let spot = chain.spot;
    if !(spot > 0.0 && spot.is_finite()) {
        return Err(GexError::BadSpot {
            symbol: chain.symbol.clone(),
            spot,
        });
    }
    if params.sweep_points < 200 {
        return Err(GexError::TooFewSweepPoints(params.sweep_points));
    }
    let agg = aggregate(chain, params, filter);
    if agg.contracts_used == 0 {
        return Err(GexError::NoContracts {
            symbol: chain.symbol.clone(),
            filter,
            as_of: chain.as_of,
            live: agg.live.len(),
            next: agg
                .live
                .first()
                .map(|d| format!(", the nearest is {d}"))
                .unwrap_or_default(),
        });
    }
    let curve = agg.curve;
    let mut strikes = agg.strikes;
    let zero_dte_share =
        super::greeks::add_vanna_charm(chain, params, &agg.expirations_used, &mut strikes);
    let mut profile = assemble(
        chain,
        strikes,
        &curve,
        params,
        agg.expirations_used,
        agg.contracts_used,
    );
    profile.zero_dte_share = zero_dte_share;
    Ok(profile)
}

/// Puts the pieces together once per-strike sums and the curve exist.
fn assemble(
    chain: &Chain,
    strikes: Vec<StrikeGex>,
    curve: &GexCurve,
    params: &GexParams,
    expirations_used: Vec<NaiveDate>,
    contracts_used: usize,
) -> GexProfile {
    let spot = chain.spot;
    let total_gex: f64 = strikes.iter().map(|s| s.net_gex).sum();
    let total_vanna: f64 = strikes.iter().map(|s| s.vanna).sum();
    let total_charm: f64 = strikes.iter().map(|s| s.charm).sum();
    let crossings = curve.crossings(spot, params.sweep_points);
    let zero_gamma = crossings
        .iter()
        .copied()
        .min_by(|a, b| (a - spot).abs().total_cmp(&(b - spot).abs()));
    let call_wall = best_strike(&strikes, spot, |s| (s.net_gex > 0.0).then_some(s.net_gex));
    let put_wall = best_strike(&strikes, spot, |s| (s.net_gex < 0.0).then_some(-s.net_gex));
    let max_gex_strike = best_strike(&strikes, spot, |s| {
        (s.net_gex != 0.0).then_some(s.net_gex.abs())
    });
    let abs_gamma_strike = abs_gamma_strike(&strikes, spot);
    let key_levels = key_levels(&strikes, spot, max_gex_strike);
    GexProfile {
        symbol: chain.symbol.clone(),
        spot,
        as_of: chain.as_of,
        total_gex,
        total_vanna,
        total_charm,
        regime: if total_gex >= 0.0 {
            Regime::Positive
        } else {
            Regime::Negative
        },
        zero_gamma,
        crossings,
        call_wall,
        put_wall,
        max_gex_strike,
        abs_gamma_strike,
        zero_dte_share: 0.0,
        key_levels,
        strikes,
        expirations_used,
        contracts_used,
        atm_straddle: None,
    }
}

/// The strike with the largest score; ties go to the strike nearest spot, then the lower.
fn best_strike(
    strikes: &[StrikeGex],
    spot: f64,
    score: impl Fn(&StrikeGex) -> Option<f64>,
) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None; // (score, strike)
    for s in strikes {
        let Some(v) = score(s) else { continue };
        let better = match best {
            None => true,
            Some((bv, bk)) => v > bv || (v == bv && closer(s.strike, bk, spot)),
        };
        if better {
            best = Some((v, s.strike));
        }
    }
    best.map(|(_, k)| k)
}

/// The strike with the largest call GEX + |put GEX|; ties nearest spot, then the lower.
fn abs_gamma_strike(strikes: &[StrikeGex], spot: f64) -> Option<f64> {
    best_strike(strikes, spot, |s| {
        let gross = s.call_gex.abs() + s.put_gex.abs();
        (gross > 0.0).then_some(gross)
    })
}

/// Is strike `a` preferred over `b` by nearness to spot (then the lower)?
fn closer(a: f64, b: f64, spot: f64) -> bool {
    let (da, db) = ((a - spot).abs(), (b - spot).abs());
    da < db || (da == db && a < b)
}

/// Strikes with |net| ≥ mean + 1σ (population) of |net|, largest |net| first, at most 10.
fn key_levels(strikes: &[StrikeGex], spot: f64, magnet: Option<f64>) -> Vec<KeyLevel> {
    if strikes.is_empty() {
        return Vec::new();
    }
    let n = strikes.len() as f64;
    let mean = strikes.iter().map(|s| s.net_gex.abs()).sum::<f64>() / n;
    let variance = strikes
        .iter()
        .map(|s| (s.net_gex.abs() - mean).powi(2))
        .sum::<f64>()
        / n;
    let threshold = mean + variance.sqrt();
    let mut chosen: Vec<&StrikeGex> = strikes
        .iter()
        .filter(|s| s.net_gex != 0.0 && s.net_gex.abs() >= threshold)
        .collect();
    chosen.sort_by(|a, b| {
        b.net_gex.abs().total_cmp(&a.net_gex.abs()).then_with(|| {
            if closer(a.strike, b.strike, spot) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        })
    });
    chosen
        .into_iter()
        .take(MAX_KEY_LEVELS)
        .map(|s| KeyLevel {
            strike: s.strike,
            net_gex: s.net_gex,
            label: if Some(s.strike) == magnet {
                LevelLabel::Magnet
            } else if s.net_gex >= 0.0 {
                LevelLabel::Support
            } else {
                LevelLabel::Resistance
            },
        })
        .collect()
}

impl GexProfile {
    /// What the detectors and the brief need.
    pub fn levels(&self) -> GammaLevels {
        GammaLevels {
            symbol: self.symbol.clone(),
            spot: self.spot,
            as_of: self.as_of,
            total_gex: self.total_gex,
            zero_gamma: self.zero_gamma,
            call_wall: self.call_wall,
            put_wall: self.put_wall,
            max_call_gex_strike: best_strike(&self.strikes, self.spot, |s| {
                (s.call_gex > 0.0).then_some(s.call_gex)
            }),
            max_put_gex_strike: best_strike(&self.strikes, self.spot, |s| {
                (s.put_gex < 0.0).then_some(-s.put_gex)
            }),
        }
    }

    /// The strikes within ± `percent` % of spot (the display range), ascending.
    pub fn strikes_within(&self, percent: f64) -> &[StrikeGex] {
        let band = self.spot * percent.abs() / 100.0;
        let (low, high) = (self.spot - band, self.spot + band);
        let start = self.strikes.partition_point(|s| s.strike < low);
        let end = self.strikes.partition_point(|s| s.strike <= high);
        &self.strikes[start..end.max(start)]
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::gex::chain::{Contract, Right, Root};
    use crate::gex::expiry;
    use chrono::Duration;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A listed contract without published gamma (shared with the aggregate's tests).
    pub(in crate::gex) fn contract(
        root: &str,
        expiry: NaiveDate,
        right: Right,
        strike: f64,
        oi: f64,
        iv: f64,
    ) -> Contract {
        Contract {
            root: Root::parse(root).unwrap(),
            expiry,
            right,
            strike,
            open_interest: oi,
            iv,
            gamma: None,
        }
    }

    const EXPIRY: (i32, u32, u32) = (2025, 10, 17);

    /// A chain whose `days` before the SPY expiry instant gives T = days/365 exactly.
    fn chain_days_before(days: i64, spot: f64, contracts: Vec<Contract>) -> Chain {
        let (y, m, d) = EXPIRY;
        let instant = expiry::expiry_instant("SPY", date(y, m, d));
        Chain {
            symbol: Symbol::parse("TOY").unwrap(),
            spot,
            as_of: instant - Duration::days(days),
            contracts,
        }
    }

    fn toy(put_oi: f64) -> Chain {
        let (y, m, d) = EXPIRY;
        chain_days_before(
            30,
            100.0,
            vec![
                contract("SPY", date(y, m, d), Right::Put, 95.0, put_oi, 0.2),
                contract("SPY", date(y, m, d), Right::Call, 105.0, 1.0, 0.2),
            ],
        )
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    fn profile(chain: &Chain) -> GexProfile {
        compute_profile(chain, &GexParams::default(), ExpiryFilter::All).unwrap()
    }

    #[test]
    fn one_at_the_money_call_a_year_out_is_worth_198_dollars_per_percent() {
        let (y, m, d) = EXPIRY;
        let chain = chain_days_before(
            365,
            100.0,
            vec![contract("SPY", date(y, m, d), Right::Call, 100.0, 1.0, 0.2)],
        );
        let p = profile(&chain);
        assert!(
            rel(p.strikes[0].call_gex, 198.476_273_739) < 1e-9,
            "{:?}",
            p.strikes
        );
        assert_eq!(p.strikes[0].put_gex, 0.0);
        assert_eq!(p.regime, Regime::Positive);
        assert_eq!(p.zero_gamma, None, "a lone call never crosses zero");
        assert!(p.crossings.is_empty());
    }

    #[test]
    fn a_put_below_and_a_call_above_flip_just_under_spot() {
        let p = profile(&toy(1.0));
        // The spec's 8 significant digits, and 1e-9 relative against the same formulas
        // evaluated independently (Python, math.exp, scipy's brentq to 1e-12).
        assert!(
            (p.total_gex - 41.863_663).abs() < 5e-7,
            "total {}",
            p.total_gex
        );
        assert!(
            rel(p.total_gex, 41.863_663_210_451_11) < 1e-9,
            "total {}",
            p.total_gex
        );
        assert_eq!(p.regime, Regime::Positive);
        let flip = p.zero_gamma.unwrap();
        assert!((flip - 99.710_879).abs() < 5e-7, "flip {flip}");
        assert!(rel(flip, 99.710_878_690_458_56) < 1e-9, "flip {flip}");
        assert_eq!(p.crossings, vec![flip]);
        assert_eq!(p.call_wall, Some(105.0));
        assert_eq!(p.put_wall, Some(95.0));
        assert_eq!(p.contracts_used, 2);
    }

    #[test]
    fn doubling_the_put_open_interest_turns_the_regime_negative_and_lifts_the_flip() {
        let p = profile(&toy(2.0));
        assert!(
            rel(p.total_gex, -412.469_325_017_399_2) < 1e-9,
            "total {}",
            p.total_gex
        );
        assert_eq!(p.regime, Regime::Negative);
        let flip = p.zero_gamma.unwrap();
        assert!((flip - 102.007_280).abs() < 5e-7, "flip {flip}");
        assert!(rel(flip, 102.007_279_941_083_18) < 1e-9, "flip {flip}");
        assert!(p.spot < flip);
        assert_eq!(p.max_gex_strike, Some(95.0));
    }

    #[test]
    fn one_at_the_money_call_a_year_out_has_the_spec_vanna_and_charm_exposure() {
        let (y, m, d) = EXPIRY;
        let chain = chain_days_before(
            365,
            100.0,
            vec![contract("SPY", date(y, m, d), Right::Call, 100.0, 1.0, 0.2)],
        );
        let p = profile(&chain);
        let s = p.strikes[0];
        assert!(
            rel(s.vanna, 19.847_627_373_850_6) < 1e-9,
            "vanna {}",
            s.vanna
        );
        assert!(
            rel(s.charm, -0.543_770_612_982_208) < 1e-9,
            "charm {}",
            s.charm
        );
        assert_eq!((p.total_vanna, p.total_charm), (s.vanna, s.charm));
        assert_eq!(p.abs_gamma_strike, Some(100.0));
    }

    #[test]
    fn a_short_put_below_and_a_long_call_above_have_the_spec_dollar_vanna_and_charm() {
        // Dealer sign: the put's per-share vanna is negative and its charm positive, so the
        // dealers' short put shows +112.79 vanna and −37.60 charm, like the long call.
        let p = profile(&toy(1.0));
        let (put, call) = (p.strikes[0], p.strikes[1]);
        assert_eq!((put.strike, call.strike), (95.0, 105.0));
        assert!(rel(put.vanna, 112.786_934_836_874) < 1e-9, "{put:?}");
        assert!(rel(call.vanna, 125.125_909_061_945) < 1e-9, "{call:?}");
        assert!(rel(put.charm, -37.595_644_945_624_7) < 1e-9, "{put:?}");
        assert!(rel(call.charm, -41.708_636_353_981_5) < 1e-9, "{call:?}");
        assert!(rel(p.total_vanna, 112.786_934_836_874 + 125.125_909_061_945) < 1e-9);
        assert!(rel(p.total_charm, -37.595_644_945_624_7 - 41.708_636_353_981_5) < 1e-9);
        // Twice the put open interest, twice its exposures.
        let doubled = profile(&toy(2.0));
        assert!(rel(doubled.strikes[0].vanna, 2.0 * put.vanna) < 1e-12);
        assert!(rel(doubled.strikes[0].charm, 2.0 * put.charm) < 1e-12);
    }

    #[test]
    fn the_absolute_gamma_strike_adds_call_and_put_gamma_and_ties_go_nearest_spot() {
        let row = |strike: f64, call: f64, put: f64| StrikeGex {
            strike,
            call_gex: call,
            put_gex: put,
            net_gex: call + put,
            vanna: 0.0,
            charm: 0.0,
        };
        // 98 and 103 both gross 40 (net −20 and 0); 101 has the largest |net| (25) only.
        let strikes = vec![
            row(98.0, 10.0, -30.0),
            row(101.0, 25.0, 0.0),
            row(103.0, 20.0, -20.0),
        ];
        assert_eq!(abs_gamma_strike(&strikes, 100.0), Some(98.0));
        assert_eq!(abs_gamma_strike(&strikes, 101.0), Some(103.0));
        assert_eq!(abs_gamma_strike(&strikes[1..2], 100.0), Some(101.0));
        assert_eq!(abs_gamma_strike(&[row(100.0, 0.0, 0.0)], 100.0), None);
        // From a chain: 3000 calls against 2900 puts at 102 nearly net out, yet it is the
        // strike with the most gamma.
        let (y, m, d) = EXPIRY;
        let e = date(y, m, d);
        let chain = chain_days_before(
            10,
            100.0,
            vec![
                contract("SPY", e, Right::Call, 102.0, 3000.0, 0.2),
                contract("SPY", e, Right::Put, 102.0, 2900.0, 0.2),
                contract("SPY", e, Right::Call, 104.0, 1000.0, 0.2),
                contract("SPY", e, Right::Put, 97.0, 1500.0, 0.2),
            ],
        );
        let p = profile(&chain);
        assert_eq!(p.abs_gamma_strike, Some(102.0));
        assert_ne!(p.max_gex_strike, Some(102.0));
    }

    #[test]
    fn the_zero_dte_share_is_the_part_of_gross_gamma_expiring_today() {
        let today = date(2025, 10, 17);
        let later = date(2025, 10, 24);
        // 10:00 New York on the 17th.
        let morning = DateTime::parse_from_rfc3339("2025-10-17T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chain = |contracts| Chain {
            symbol: Symbol::parse("SPY").unwrap(),
            spot: 100.0,
            as_of: morning,
            contracts,
        };
        let mixed = chain(vec![
            contract("SPY", today, Right::Call, 100.0, 1000.0, 0.2),
            contract("SPY", today, Right::Put, 99.0, 500.0, 0.2),
            contract("SPY", later, Right::Put, 100.0, 2000.0, 0.2),
        ]);
        let p = profile(&mixed);
        let gex = |c: &Contract| {
            let years =
                expiry::years_between(morning, expiry::expiry_instant(c.root.as_str(), c.expiry));
            crate::gex::bs::gamma(100.0, c.strike, c.iv, years, 0.0, 0.0)
                * c.open_interest
                * 100.0
                * 100.0
        };
        let (a, b, c) = (
            gex(&mixed.contracts[0]),
            gex(&mixed.contracts[1]),
            gex(&mixed.contracts[2]),
        );
        assert!(rel(p.zero_dte_share, (a + b) / (a + b + c)) < 1e-12);
        assert!(
            p.zero_dte_share > 0.5 && p.zero_dte_share < 1.0,
            "{}",
            p.zero_dte_share
        );
        // Only today's expiry: all of it; the 0DTE filter likewise.
        let only_today = chain(mixed.contracts[..2].to_vec());
        assert_eq!(profile(&only_today).zero_dte_share, 1.0);
        let filtered =
            compute_profile(&mixed, &GexParams::default(), ExpiryFilter::ZeroDte).unwrap();
        assert_eq!(filtered.zero_dte_share, 1.0);
        // Nothing expiring today: none of it.
        let only_later = chain(mixed.contracts[2..].to_vec());
        assert_eq!(profile(&only_later).zero_dte_share, 0.0);
        // After the close the day's contracts are expired and count nowhere.
        let evening = Chain {
            as_of: morning + Duration::hours(7),
            ..mixed.clone()
        };
        assert_eq!(profile(&evening).zero_dte_share, 0.0);
    }

    #[test]
    fn call_and_put_gamma_are_equal_so_equal_oi_nets_to_zero() {
        let (y, m, d) = EXPIRY;
        let chain = chain_days_before(
            20,
            100.0,
            vec![
                contract("SPY", date(y, m, d), Right::Call, 101.0, 700.0, 0.25),
                contract("SPY", date(y, m, d), Right::Put, 101.0, 700.0, 0.25),
            ],
        );
        let p = profile(&chain);
        let s = p.strikes[0];
        assert!(s.call_gex > 0.0);
        assert_eq!(s.call_gex, -s.put_gex);
        assert_eq!(s.net_gex, 0.0);
        assert_eq!(
            (p.call_wall, p.put_wall, p.max_gex_strike),
            (None, None, None)
        );
        assert!(p.key_levels.is_empty());
    }

    #[test]
    fn expired_zero_oi_and_zero_iv_contracts_contribute_nothing() {
        let live = date(2025, 10, 17);
        let chain = Chain {
            symbol: Symbol::parse("SPY").unwrap(),
            spot: 100.0,
            // 16:00 New York on 2025-10-10 exactly.
            as_of: expiry::expiry_instant("SPY", date(2025, 10, 10)),
            contracts: vec![
                contract("SPY", date(2025, 10, 10), Right::Call, 100.0, 5000.0, 0.2), // expires at as_of
                contract("SPY", date(2025, 10, 3), Right::Call, 100.0, 5000.0, 0.2),  // long gone
                contract("SPY", live, Right::Call, 99.0, 0.0, 0.2),
                contract("SPY", live, Right::Put, 98.0, 100.0, 0.0),
                contract("SPY", live, Right::Put, 97.0, 100.0, -0.3),
                contract("SPY", live, Right::Call, 101.0, 10.0, 0.2),
            ],
        };
        let p = profile(&chain);
        assert_eq!(p.contracts_used, 1);
        assert_eq!(p.expirations_used, vec![live]);
        assert_eq!(p.strikes.len(), 1);
        assert_eq!(p.strikes[0].strike, 101.0);
    }

    #[test]
    fn at_noon_on_expiry_friday_the_spx_monthly_is_gone_but_the_spxw_weekly_counts() {
        let day = date(2025, 10, 17);
        // 12:00 EDT = 16:00 UTC.
        let noon = DateTime::parse_from_rfc3339("2025-10-17T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chain = Chain {
            symbol: Symbol::parse("SPX").unwrap(),
            spot: 6650.0,
            as_of: noon,
            contracts: vec![
                contract("SPX", day, Right::Call, 6650.0, 1000.0, 0.15),
                contract("SPXW", day, Right::Put, 6650.0, 400.0, 0.15),
            ],
        };
        let p = profile(&chain);
        assert_eq!(p.contracts_used, 1);
        assert!(p.strikes[0].call_gex == 0.0 && p.strikes[0].put_gex < 0.0);
        // Half an hour before the open both count.
        let early = Chain {
            as_of: noon - Duration::hours(3),
            ..chain.clone()
        };
        assert_eq!(profile(&early).contracts_used, 2);
        // The 0DTE filter at noon keeps only the weekly.
        let zero = compute_profile(&chain, &GexParams::default(), ExpiryFilter::ZeroDte).unwrap();
        assert_eq!(zero.contracts_used, 1);
    }

    #[test]
    fn filters_select_expirations_and_an_empty_selection_says_why() {
        let spot = 100.0;
        let as_of = DateTime::parse_from_rfc3339("2025-10-06T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chain = Chain {
            symbol: Symbol::parse("SPY").unwrap(),
            spot,
            as_of,
            contracts: vec![
                contract("SPY", date(2025, 10, 8), Right::Call, 100.0, 100.0, 0.2),
                contract("SPY", date(2025, 10, 10), Right::Put, 100.0, 100.0, 0.2),
                contract("SPY", date(2025, 11, 21), Right::Put, 95.0, 100.0, 0.2),
            ],
        };
        let params = GexParams::default();
        let next1 = compute_profile(&chain, &params, ExpiryFilter::Next(1)).unwrap();
        assert_eq!(next1.expirations_used, vec![date(2025, 10, 8)]);
        let week = compute_profile(&chain, &params, ExpiryFilter::MaxDte(7)).unwrap();
        assert_eq!(week.expirations_used.len(), 2);
        let e = compute_profile(&chain, &params, ExpiryFilter::ZeroDte).unwrap_err();
        assert!(
            e.to_string().contains("0dte") && e.to_string().contains("the nearest is 2025-10-08"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_spot_or_a_short_sweep_is_refused() {
        let mut chain = toy(1.0);
        chain.spot = 0.0;
        assert!(matches!(
            compute_profile(&chain, &GexParams::default(), ExpiryFilter::All),
            Err(GexError::BadSpot { .. })
        ));
        chain.spot = f64::NAN;
        assert!(compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).is_err());
        let params = GexParams {
            sweep_points: 50,
            ..GexParams::default()
        };
        assert_eq!(
            compute_profile(&toy(1.0), &params, ExpiryFilter::All),
            Err(GexError::TooFewSweepPoints(50))
        );
    }

    #[test]
    fn equal_walls_go_to_the_strike_nearest_spot() {
        let (y, m, d) = EXPIRY;
        let e = date(y, m, d);
        // Same IV, same distance in log terms is not the same GEX; use identical strikes'
        // mirrored OI so the tie is exact: two strikes with identical net from separate roots.
        let chain = chain_days_before(
            10,
            100.0,
            vec![
                contract("SPY", e, Right::Call, 104.0, 100.0, 0.2),
                contract("SPY", e, Right::Call, 101.0, 100.0, 0.2),
            ],
        );
        let p = profile(&chain);
        assert_eq!(p.call_wall, Some(101.0), "101 has more gamma and is nearer");
        let strikes = vec![
            StrikeGex {
                strike: 98.0,
                call_gex: 5.0,
                put_gex: 0.0,
                net_gex: 5.0,
                vanna: 0.0,
                charm: 0.0,
            },
            StrikeGex {
                strike: 101.0,
                call_gex: 5.0,
                put_gex: 0.0,
                net_gex: 5.0,
                vanna: 0.0,
                charm: 0.0,
            },
            StrikeGex {
                strike: 103.0,
                call_gex: 5.0,
                put_gex: 0.0,
                net_gex: 5.0,
                vanna: 0.0,
                charm: 0.0,
            },
        ];
        assert_eq!(
            best_strike(&strikes, 100.0, |s| Some(s.net_gex)),
            Some(101.0)
        );
        assert_eq!(
            best_strike(&strikes, 99.5, |s| Some(s.net_gex)),
            Some(98.0),
            "98 and 101 are 1.5 away: the lower wins"
        );
    }

    #[test]
    fn key_levels_are_the_outliers_labelled_by_sign_and_the_magnet() {
        let row = |strike: f64, net: f64| StrikeGex {
            strike,
            call_gex: net.max(0.0),
            put_gex: net.min(0.0),
            net_gex: net,
            vanna: 0.0,
            charm: 0.0,
        };
        let mut strikes: Vec<StrikeGex> = (0..20).map(|i| row(90.0 + i as f64, 1.0)).collect();
        strikes[3] = row(93.0, -50.0);
        strikes[12] = row(102.0, 80.0);
        strikes[15] = row(105.0, 30.0);
        let levels = key_levels(&strikes, 100.0, Some(102.0));
        // |net| mean = (17 + 50 + 80 + 30)/20 = 8.85, σ ≈ 20.4: threshold ≈ 29.3.
        assert_eq!(
            levels,
            vec![
                KeyLevel {
                    strike: 102.0,
                    net_gex: 80.0,
                    label: LevelLabel::Magnet
                },
                KeyLevel {
                    strike: 93.0,
                    net_gex: -50.0,
                    label: LevelLabel::Resistance
                },
                KeyLevel {
                    strike: 105.0,
                    net_gex: 30.0,
                    label: LevelLabel::Support
                },
            ]
        );
        // Never more than ten.
        let flat: Vec<StrikeGex> = (0..40).map(|i| row(80.0 + i as f64, 2.0)).collect();
        assert_eq!(key_levels(&flat, 100.0, None).len(), MAX_KEY_LEVELS);
        assert_eq!(
            key_levels(&flat, 100.0, None)[0].strike,
            100.0,
            "ties sorted nearest spot first"
        );
    }

    #[test]
    fn levels_for_detectors_carry_the_largest_call_and_put_strikes() {
        let (y, m, d) = EXPIRY;
        let e = date(y, m, d);
        let chain = chain_days_before(
            10,
            100.0,
            vec![
                contract("SPY", e, Right::Call, 102.0, 3000.0, 0.2),
                contract("SPY", e, Right::Put, 102.0, 2900.0, 0.2),
                contract("SPY", e, Right::Call, 104.0, 1000.0, 0.2),
                contract("SPY", e, Right::Put, 97.0, 1500.0, 0.2),
            ],
        );
        let p = profile(&chain);
        let levels = p.levels();
        assert_eq!(levels.max_call_gex_strike, Some(102.0));
        assert_eq!(levels.max_put_gex_strike, Some(102.0));
        assert_eq!(levels.call_wall, p.call_wall);
        assert_eq!(levels.zero_gamma, p.zero_gamma);
        assert_eq!(levels.total_gex, p.total_gex);
        assert_eq!(
            p.strikes_within(2.5)
                .iter()
                .map(|s| s.strike)
                .collect::<Vec<_>>(),
            vec![97.5f64; 0]
                .into_iter()
                .chain([102.0])
                .collect::<Vec<_>>()
        );
        assert_eq!(p.strikes_within(5.0).len(), 3);
    }

    #[test]
    fn the_order_contracts_are_listed_in_does_not_change_the_profile() {
        // Chains come call-put by strike (CBOE), all calls then all puts (Massive), or
        // interleaved roots; merging of identical terms must not depend on it.
        let at = DateTime::parse_from_rfc3339("2025-09-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chain = crate::provider::sim_chain::synthetic_chain(
            &Symbol::parse("SPX").unwrap(),
            6612.4,
            at,
            5,
        );
        let base = profile(&chain);
        let mut calls_first = chain.clone();
        calls_first
            .contracts
            .sort_by_key(|c| (c.right, c.root, c.expiry));
        let mut reversed = chain.clone();
        reversed.contracts.reverse();
        for other in [profile(&calls_first), profile(&reversed)] {
            assert!(rel(other.total_gex, base.total_gex) < 1e-12);
            assert_eq!(other.strikes.len(), base.strikes.len());
            assert_eq!(
                (other.call_wall, other.put_wall, other.max_gex_strike),
                (base.call_wall, base.put_wall, base.max_gex_strike)
            );
            assert_eq!(other.crossings.len(), base.crossings.len());
            for (a, b) in other.crossings.iter().zip(&base.crossings) {
                assert!((a - b).abs() < 1e-6 * b, "{a} vs {b}");
            }
            assert_eq!(other.contracts_used, base.contracts_used);
            assert_eq!(other.expirations_used, base.expirations_used);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_contract() -> impl Strategy<Value = Contract> {
            (
                prop::bool::ANY,
                50.0f64..150.0,
                prop_oneof![Just(0.0), 0.0f64..1e5],
                prop_oneof![Just(0.0), Just(-0.1), 1e-4f64..3.0],
                0i64..60,
                prop::bool::ANY,
            )
                .prop_map(|(call, strike, oi, iv, days, am)| Contract {
                    root: Root::parse(if am { "SPX" } else { "SPXW" }).unwrap(),
                    expiry: date(2025, 10, 1) + Duration::days(days),
                    right: if call { Right::Call } else { Right::Put },
                    strike: (strike * 2.0).round() / 2.0,
                    open_interest: oi.round(),
                    iv,
                    gamma: None,
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn profiles_are_finite_and_every_crossing_is_a_root(
                contracts in prop::collection::vec(arb_contract(), 1..60),
                spot in 60.0f64..140.0,
                minutes in 0i64..(40 * 24 * 60),
            ) {
                let chain = Chain {
                    symbol: Symbol::parse("SPX").unwrap(),
                    spot,
                    as_of: DateTime::parse_from_rfc3339("2025-09-30T13:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(minutes),
                    contracts,
                };
                let Ok(p) = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All) else {
                    return Ok(());
                };
                prop_assert!(p.total_gex.is_finite());
                prop_assert!(p.strikes.iter().all(|s| s.call_gex.is_finite() && s.put_gex.is_finite() && s.call_gex >= 0.0 && s.put_gex <= 0.0));
                prop_assert!(p.strikes.windows(2).all(|w| w[0].strike < w[1].strike));
                prop_assert!(p.key_levels.len() <= MAX_KEY_LEVELS);
                prop_assert!((0.0..=1.0).contains(&p.zero_dte_share));
                prop_assert!(p.total_vanna.is_finite() && p.total_charm.is_finite());
                prop_assert!(p.strikes.iter().all(|s| s.vanna.is_finite() && s.charm.is_finite()));
                let curve = {
                    let mut b = crate::gex::curve::GexCurveBuilder::default();
                    for c in &chain.contracts {
                        let years = expiry::years_between(chain.as_of, expiry::expiry_instant(c.root.as_str(), c.expiry));
                        if c.open_interest > 0.0 && c.iv > 0.0 && years > 0.0 {
                            b.add(c.strike, years, c.iv, c.right.dealer_sign() * c.open_interest, 0.0, 0.0);
                        }
                    }
                    b.build()
                };
                prop_assert!(rel(curve.value(spot), p.total_gex) < 1e-9 || (curve.value(spot) - p.total_gex).abs() < 1e-6);
                for &root in &p.crossings {
                    prop_assert!(root >= 0.8 * spot * (1.0 - 1e-12) && root <= 1.2 * spot * (1.0 + 1e-12));
                    let (lo, hi) = (curve.value(root * (1.0 - 1e-4)), curve.value(root * (1.0 + 1e-4)));
                    prop_assert!((lo >= 0.0) != (hi >= 0.0) || lo == 0.0 || hi == 0.0, "no sign change at {}", root);
                }
                if let Some(z) = p.zero_gamma {
                    prop_assert!(p.crossings.iter().all(|c| (c - spot).abs() >= (z - spot).abs()));
                }
            }
        }
    }
}
