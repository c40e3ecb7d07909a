//! Black-Scholes-Merton gamma (SPEC 7), and delta and price for position risk (SPEC 8.4).
//!
//! Conventions: `spot` and `strike` in price units, `vol` an annualised decimal (0.2 = 20 %),
//! `years` in calendar years (seconds / (365·86400)), `rate` and `dividend_yield` continuously
//! compounded annual decimals. Gamma is per 1 point of the underlying, per share, and the same
//! for calls and puts.

/// 1/√(2π).
pub const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The standard normal density φ(x).
pub fn norm_pdf(x: f64) -> f64 {
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Γ = e^(−qT) φ(d1) / (S σ √T) with d1 = (ln(S/K) + (r − q + σ²/2)T) / (σ√T).
///
/// Returns 0 when σ ≤ 0, T ≤ 0, S ≤ 0 or K ≤ 0, for any non-finite input, and never
/// NaN or ±∞ (an overflowing result is reported as 0: it can only come from absurd inputs).
pub fn gamma(spot: f64, strike: f64, vol: f64, years: f64, rate: f64, dividend_yield: f64) -> f64 {
    let valid = spot > 0.0
        && strike > 0.0
        && vol > 0.0
        && years > 0.0
        && spot.is_finite()
        && strike.is_finite()
        && vol.is_finite()
        && years.is_finite()
        && rate.is_finite()
        && dividend_yield.is_finite();
    if !valid {
        return 0.0;
    }
    let vol_sqrt_t = vol * years.sqrt();
    let d1 =
        ((spot / strike).ln() + (rate - dividend_yield + 0.5 * vol * vol) * years) / vol_sqrt_t;
    let g = (-dividend_yield * years).exp() * norm_pdf(d1) / (spot * vol_sqrt_t);
    if g.is_finite() { g } else { 0.0 }
}

/// The standard normal distribution Φ(x) = erfc(−x/√2)/2 (|error| < 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc(x) by Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// d1 and σ√T, or `None` for inputs [`gamma`] would also refuse.
fn d1(spot: f64, strike: f64, vol: f64, years: f64, rate: f64, q: f64) -> Option<(f64, f64)> {
    let valid = [spot, strike, vol, years, rate, q]
        .iter()
        .all(|v| v.is_finite())
        && spot > 0.0
        && strike > 0.0
        && vol > 0.0
        && years > 0.0;
    if !valid {
        return None;
    }
    let vol_sqrt_t = vol * years.sqrt();
    let d1 = ((spot / strike).ln() + (rate - q + 0.5 * vol * vol) * years) / vol_sqrt_t;
    Some((d1, vol_sqrt_t))
}

/// Δ per share: call e^(−qT) Φ(d1), put e^(−qT) (Φ(d1) − 1). `None` for invalid inputs.
pub fn delta(
    is_call: bool,
    spot: f64,
    strike: f64,
    vol: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
) -> Option<f64> {
    let (d1, _) = d1(spot, strike, vol, years, rate, dividend_yield)?;
    let carry = (-dividend_yield * years).exp();
    Some(if is_call {
        carry * norm_cdf(d1)
    } else {
        carry * (norm_cdf(d1) - 1.0)
    })
}

/// The option's model price per share, price units. `None` for invalid inputs.
pub fn price(
    is_call: bool,
    spot: f64,
    strike: f64,
    vol: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
) -> Option<f64> {
    let (d1, vol_sqrt_t) = d1(spot, strike, vol, years, rate, dividend_yield)?;
    let d2 = d1 - vol_sqrt_t;
    let s = spot * (-dividend_yield * years).exp();
    let k = strike * (-rate * years).exp();
    let value = if is_call {
        s * norm_cdf(d1) - k * norm_cdf(d2)
    } else {
        k * norm_cdf(-d2) - s * norm_cdf(-d1)
    };
    value.is_finite().then_some(value.max(0.0))
}

/// Gamma, vanna and charm of one contract per share, from one d1 (SPEC 7, 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpotGreeks {
    /// Γ per 1 point of the underlying (same for calls and puts).
    pub gamma: f64,
    /// ∂Δ/∂σ = −e^(−qT) φ(d1) d2 / σ, per 1.00 of vol (same for calls and puts).
    pub vanna: f64,
    /// The change of Δ per calendar year as time passes (−∂Δ/∂T), the textbook sign:
    /// call `q e^(−qT) Φ(d1) − e^(−qT) φ(d1) (2(r−q)T − d2 σ√T) / (2Tσ√T)`, put the same with
    /// the first term `−q e^(−qT) Φ(−d1)`; with r = q = 0 both are φ(d1) d2 / (2T).
    /// (Φ is [`norm_cdf`], 1.2e-7 relative; it only enters when q ≠ 0.)
    pub charm: f64,
}

/// [`SpotGreeks`] of a call (`is_call`) or put; `None` for inputs [`gamma`] refuses or a
/// non-finite result.
pub fn spot_greeks(
    is_call: bool,
    spot: f64,
    strike: f64,
    vol: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
) -> Option<SpotGreeks> {
    let (d1, vol_sqrt_t) = d1(spot, strike, vol, years, rate, dividend_yield)?;
    let d2 = d1 - vol_sqrt_t;
    let carry = (-dividend_yield * years).exp();
    let density = carry * norm_pdf(d1);
    let drift = density * (2.0 * (rate - dividend_yield) * years - d2 * vol_sqrt_t)
        / (2.0 * years * vol_sqrt_t);
    let yield_term = if dividend_yield == 0.0 {
        0.0
    } else if is_call {
        dividend_yield * carry * norm_cdf(d1)
    } else {
        -dividend_yield * carry * norm_cdf(-d1)
    };
    let greeks = SpotGreeks {
        gamma: density / (spot * vol_sqrt_t),
        vanna: -density * d2 / vol,
        charm: yield_term - drift,
    };
    (greeks.gamma.is_finite() && greeks.vanna.is_finite() && greeks.charm.is_finite())
        .then_some(greeks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn at_the_money_one_year_matches_the_spec_vector() {
        let g = gamma(100.0, 100.0, 0.2, 1.0, 0.0, 0.0);
        assert!(rel(g, 0.019_847_627_373_850_6) < 1e-9, "gamma {g}");
    }

    #[test]
    fn delta_and_price_match_textbook_values() {
        // S = K = 100, σ = 20 %, T = 1, r = q = 0: d1 = 0.1, call Δ = Φ(0.1) = 0.539828
        let call = delta(true, 100.0, 100.0, 0.2, 1.0, 0.0, 0.0).unwrap();
        assert!((call - 0.539_827_8).abs() < 1e-6, "call delta {call}");
        let put = delta(false, 100.0, 100.0, 0.2, 1.0, 0.0, 0.0).unwrap();
        assert!((put - (call - 1.0)).abs() < 1e-12);
        // ATM call price 7.965567 (Hull's tables); put equal by parity with r = 0
        let c = price(true, 100.0, 100.0, 0.2, 1.0, 0.0, 0.0).unwrap();
        assert!((c - 7.965_567).abs() < 1e-5, "call {c}");
        let p = price(false, 100.0, 100.0, 0.2, 1.0, 0.0, 0.0).unwrap();
        assert!((p - c).abs() < 1e-9);
        assert!(delta(true, 100.0, 100.0, 0.0, 1.0, 0.0, 0.0).is_none());
        assert!(price(true, f64::NAN, 100.0, 0.2, 1.0, 0.0, 0.0).is_none());
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7 && (norm_cdf(1.96) - 0.975_002).abs() < 1e-6);
    }

    #[test]
    fn gamma_vanishes_far_from_the_money() {
        let atm = gamma(100.0, 100.0, 0.2, 0.1, 0.0, 0.0);
        assert!(gamma(100.0, 300.0, 0.2, 0.1, 0.0, 0.0) < atm * 1e-12);
        assert!(gamma(100.0, 30.0, 0.2, 0.1, 0.0, 0.0) < atm * 1e-12);
    }

    #[test]
    fn gamma_vanishes_as_expiry_nears_for_a_strike_away_from_spot() {
        let mut previous = f64::INFINITY;
        for years in [1e-2, 1e-3, 1e-4, 1e-5, 1e-6] {
            let g = gamma(100.0, 102.0, 0.2, years, 0.0, 0.0);
            assert!(g < previous, "gamma should shrink as T → 0: {g} at {years}");
            previous = g;
        }
        assert!(previous < 1e-100);
    }

    #[test]
    fn degenerate_inputs_give_zero_never_nan() {
        for (s, k, v, t) in [
            (100.0, 100.0, 0.0, 1.0),
            (100.0, 100.0, -0.2, 1.0),
            (100.0, 100.0, 0.2, 0.0),
            (100.0, 100.0, 0.2, -1.0),
            (0.0, 100.0, 0.2, 1.0),
            (-5.0, 100.0, 0.2, 1.0),
            (100.0, 0.0, 0.2, 1.0),
            (f64::NAN, 100.0, 0.2, 1.0),
            (100.0, f64::NAN, 0.2, 1.0),
            (100.0, 100.0, f64::NAN, 1.0),
            (100.0, 100.0, 0.2, f64::INFINITY),
            (f64::INFINITY, 100.0, 0.2, 1.0),
        ] {
            assert_eq!(gamma(s, k, v, t, 0.0, 0.0), 0.0, "S={s} K={k} σ={v} T={t}");
        }
        assert_eq!(gamma(100.0, 100.0, 0.2, 1.0, f64::NAN, 0.0), 0.0);
        // A tiny vol at the money is huge but finite; an overflow would be reported as 0.
        let g = gamma(1e-300, 1e-300, 1e-10, 1e-10, 0.0, 0.0);
        assert!(g.is_finite());
    }

    #[test]
    fn dividend_yield_discounts_gamma() {
        let plain = gamma(100.0, 100.0, 0.2, 1.0, 0.0, 0.0);
        let with_q = gamma(100.0, 100.0, 0.2, 1.0, 0.0, 0.02);
        // q shifts d1 by −q·T/σ and discounts by e^(−qT).
        let d1 = (0.0 + (0.0 - 0.02 + 0.02) * 1.0) / 0.2;
        let expected = (-0.02f64).exp() * norm_pdf(d1) / (100.0 * 0.2);
        assert!(rel(with_q, expected) < 1e-12);
        assert!(with_q < plain);
    }
    #[test]
    fn vanna_and_charm_at_the_money_one_year_match_the_spec_vectors() {
        // S = K = 100, σ = 0.2, T = 1, r = q = 0: d1 = 0.1, d2 = −0.1.
        for is_call in [true, false] {
            let g = spot_greeks(is_call, 100.0, 100.0, 0.2, 1.0, 0.0, 0.0).unwrap();
            assert!(rel(g.gamma, 0.019_847_627_373_850_6) < 1e-12, "{g:?}");
            assert!(rel(g.vanna, 0.198_476_273_738_506) < 1e-12, "{g:?}");
            assert!(rel(g.charm, -0.019_847_627_373_850_6) < 1e-12, "{g:?}");
        }
        assert!(spot_greeks(true, 100.0, 100.0, 0.0, 1.0, 0.0, 0.0).is_none());
        assert!(spot_greeks(false, 100.0, 100.0, 0.2, 0.0, 0.0, 0.0).is_none());
    }

    #[test]
    fn charm_with_rates_and_dividends_is_minus_the_time_derivative_of_delta() {
        // The general form against a central difference of Δ in T (Φ is 1.2e-7 accurate,
        // so the difference step is coarse and the tolerance loose accordingly).
        for is_call in [true, false] {
            for (k, t) in [(95.0, 0.25), (100.0, 0.5), (110.0, 1.0)] {
                let (r, q) = (0.04, 0.015);
                let g = spot_greeks(is_call, 100.0, k, 0.25, t, r, q).unwrap();
                let h = 1e-3;
                let up = delta(is_call, 100.0, k, 0.25, t + h, r, q).unwrap();
                let down = delta(is_call, 100.0, k, 0.25, t - h, r, q).unwrap();
                let numeric = -(up - down) / (2.0 * h);
                assert!(
                    (g.charm - numeric).abs() < 1e-3 * numeric.abs().max(0.01),
                    "call {is_call} K {k} T {t}: {} vs {numeric}",
                    g.charm
                );
                assert!(rel(g.gamma, gamma(100.0, k, 0.25, t, r, q)) < 1e-12);
            }
        }
    }
}
