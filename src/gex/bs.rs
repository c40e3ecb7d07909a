//! Black-Scholes-Merton gamma (SPEC 7).
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
}
