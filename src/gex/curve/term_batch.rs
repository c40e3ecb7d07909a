//! Curve terms computed a batch at a time: the arithmetic of [`CurveTerm::with_discount`]
//! and [`CurveTerm::gex_at`] over fixed-size columns, in straight-line loops the compiler
//! vectorises (the division and the exponential included). A batch is 24 KiB, so its
//! columns stay in L1 cache between being filled, computed and read back.

use super::fastexp::{self, EXP_LIMIT};
use super::simd::widest_simd;
use super::{CurveTerm, MULTIPLIER, ONE_PERCENT};
use crate::gex::bs::INV_SQRT_2PI;

/// Terms per batch.
pub(crate) const BATCH: usize = 256;

widest_simd!(
    fn compute_batch(batch: &mut TermBatch, n: usize, drift: f64, spot: f64) -> () =
        batch.compute_portable(n, drift, spot)
);

/// Inputs ln K, T, √T, σ, e^(−qT) and call and put open interest of up to [`BATCH`]
/// terms, filled by index; after [`TermBatch::compute`], each term's center, 1/width, curve
/// weight and the GEX its calls and puts have at spot. A refused term (σ or T not positive,
/// or a non-finite result) gets weight and GEX 0.
#[derive(Clone, Debug)]
pub(crate) struct TermBatch {
    pub ln_strikes: [f64; BATCH],
    pub years: [f64; BATCH],
    pub sqrt_years: [f64; BATCH],
    pub vols: [f64; BATCH],
    pub discounts: [f64; BATCH],
    pub call_ois: [f64; BATCH],
    pub put_ois: [f64; BATCH],
    centers: [f64; BATCH],
    inv_widths: [f64; BATCH],
    /// scale·(call OI − put OI): the term's weight in the curve.
    weights: [f64; BATCH],
    /// GEX at spot of the calls (≥ 0) and of the puts (≤ 0), dollars per 1 % move.
    pub call_gex: [f64; BATCH],
    pub put_gex: [f64; BATCH],
}

impl TermBatch {
    pub fn new() -> Self {
        TermBatch {
            ln_strikes: [0.0; BATCH],
            years: [0.0; BATCH],
            sqrt_years: [0.0; BATCH],
            vols: [0.0; BATCH],
            discounts: [0.0; BATCH],
            call_ois: [0.0; BATCH],
            put_ois: [0.0; BATCH],
            centers: [0.0; BATCH],
            inv_widths: [0.0; BATCH],
            weights: [0.0; BATCH],
            call_gex: [0.0; BATCH],
            put_gex: [0.0; BATCH],
        }
    }

    /// Computes the first `n` terms (n ≤ [`BATCH`]) for drift r − q and spot `spot`.
    pub fn compute(&mut self, n: usize, drift: f64, spot: f64) {
        compute_batch(self, n.min(BATCH), drift, spot)
    }

    #[inline(always)]
    fn compute_portable(&mut self, n: usize, drift: f64, spot: f64) {
        let (ln_k, years, sqrt_years) = (
            &self.ln_strikes[..n],
            &self.years[..n],
            &self.sqrt_years[..n],
        );
        let (vols, discounts) = (&self.vols[..n], &self.discounts[..n]);
        let (call_ois, put_ois) = (&self.call_ois[..n], &self.put_ois[..n]);
        let (centers, inv_widths) = (&mut self.centers[..n], &mut self.inv_widths[..n]);
        let weights = &mut self.weights[..n];
        let (call_gex, put_gex) = (&mut self.call_gex[..n], &mut self.put_gex[..n]);
        let ln_spot = spot.ln();
        for i in 0..n {
            let inv_width = 1.0 / (vols[i] * sqrt_years[i]);
            let center = ln_k[i] - (drift + 0.5 * vols[i] * vols[i]) * years[i];
            let scale = MULTIPLIER * ONE_PERCENT * discounts[i] * inv_width * INV_SQRT_2PI;
            let d = (ln_spot - center) * inv_width;
            let half_d2 = 0.5 * d * d;
            let e = spot * scale * fastexp::exp(-half_d2);
            let per_contract = if half_d2 <= EXP_LIMIT { e } else { 0.0 };
            let term = CurveTerm {
                center,
                inv_width,
                scale,
            };
            // `&`, not `&&`: no branch, so the loop stays vectorised.
            let ok = (vols[i] > 0.0) & (years[i] > 0.0) & term.is_finite_and_positive();
            centers[i] = center;
            inv_widths[i] = inv_width;
            weights[i] = if ok {
                scale * (call_ois[i] - put_ois[i])
            } else {
                0.0
            };
            call_gex[i] = if ok { per_contract * call_ois[i] } else { 0.0 };
            put_gex[i] = if ok {
                -(per_contract * put_ois[i])
            } else {
                0.0
            };
        }
    }

    /// The centers, 1/widths and weights of the first `n` terms of the last
    /// [`TermBatch::compute`], as [`super::GexCurve::extend`] takes them.
    pub fn curve_columns(&self, n: usize) -> (&[f64], &[f64], &[f64]) {
        (
            &self.centers[..n],
            &self.inv_widths[..n],
            &self.weights[..n],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_computes_each_term_as_one_contract_alone_would() {
        let (rate, q, spot) = (0.04, 0.013, 6612.4);
        let mut batch = TermBatch::new();
        let cases: Vec<(f64, f64, f64)> = (0..BATCH + 3)
            .map(|i| {
                let strike = 5000.0 + 9.0 * i as f64;
                let years = (1.0 + (i % 40) as f64) / 365.0;
                (strike, years, 0.1 + 0.002 * (i % 90) as f64)
            })
            .collect();
        for chunk in cases.chunks(BATCH) {
            for (i, &(strike, years, vol)) in chunk.iter().enumerate() {
                batch.ln_strikes[i] = strike.ln();
                batch.years[i] = years;
                batch.sqrt_years[i] = years.sqrt();
                batch.vols[i] = vol;
                batch.discounts[i] = (-q * years).exp();
                (batch.call_ois[i], batch.put_ois[i]) = (2.0, 5.0);
            }
            batch.compute(chunk.len(), rate - q, spot);
            let (centers, inv_widths, weights) = batch.curve_columns(chunk.len());
            for (i, &(strike, years, vol)) in chunk.iter().enumerate() {
                let alone = CurveTerm::new(strike, years, vol, rate, q).expect("a valid term");
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs().max(1e-300);
                assert!(close(centers[i], alone.center), "{i}");
                assert!(close(inv_widths[i], alone.inv_width), "{i}");
                assert!(close(weights[i], -3.0 * alone.scale), "{i}");
                let per_contract = alone.gex_at(spot, spot.ln(), 1.0);
                let near = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
                assert!(near(batch.call_gex[i], 2.0 * per_contract), "{i}");
                assert!(near(batch.put_gex[i], -5.0 * per_contract), "{i}");
            }
        }
    }

    #[test]
    fn a_term_without_time_or_volatility_is_refused_with_no_weight_and_no_gex() {
        let mut batch = TermBatch::new();
        for (i, (years, vol)) in [(0.0, 0.2), (0.1, 0.0), (0.1, 1e-320)]
            .into_iter()
            .enumerate()
        {
            batch.ln_strikes[i] = 100f64.ln();
            batch.years[i] = years;
            batch.sqrt_years[i] = f64::sqrt(years);
            batch.vols[i] = vol;
            batch.discounts[i] = 1.0;
            (batch.call_ois[i], batch.put_ois[i]) = (10.0, 1.0);
        }
        batch.compute(3, 0.0, 100.0);
        let (_, _, weights) = batch.curve_columns(3);
        assert_eq!(weights, [0.0; 3]);
        assert_eq!(batch.call_gex[..3], [0.0; 3]);
        assert_eq!(batch.put_gex[..3], [0.0; 3]);
    }
}
