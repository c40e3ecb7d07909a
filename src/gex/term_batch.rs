//! Curve terms computed a batch at a time: the arithmetic of [`CurveTerm::with_discount`]
//! and [`CurveTerm::gex_at`] over fixed-size columns, in straight-line loops the compiler
//! vectorises (the division and the exponential included). A batch is 18 KiB, so its
//! columns stay in L1 cache between being filled, computed and read back.

use super::bs::INV_SQRT_2PI;
use super::curve::{CurveTerm, MULTIPLIER, ONE_PERCENT, widest_simd};
use super::fastexp::{self, EXP_LIMIT};

/// Terms per batch.
pub(crate) const BATCH: usize = 256;

widest_simd!(
    ["avx512f", "avx2"] fn compute_batch(batch: &mut TermBatch, n: usize, drift: f64, spot: f64) -> () =
        batch.compute_portable(n, drift, spot)
);

/// Inputs ln K, T, √T, σ and e^(−qT) of up to [`BATCH`] terms, filled by index; after
/// [`TermBatch::compute`], each term's center, 1/width, scale and GEX per contract at spot.
#[derive(Clone, Debug)]
pub(crate) struct TermBatch {
    pub ln_strikes: [f64; BATCH],
    pub years: [f64; BATCH],
    pub sqrt_years: [f64; BATCH],
    pub vols: [f64; BATCH],
    pub discounts: [f64; BATCH],
    centers: [f64; BATCH],
    inv_widths: [f64; BATCH],
    scales: [f64; BATCH],
    /// GEX per contract at spot (x·scale·exp(−d²/2)), dollars per 1 % move.
    gex_at_spot: [f64; BATCH],
}

impl TermBatch {
    pub fn new() -> Self {
        TermBatch {
            ln_strikes: [0.0; BATCH],
            years: [0.0; BATCH],
            sqrt_years: [0.0; BATCH],
            vols: [0.0; BATCH],
            discounts: [0.0; BATCH],
            centers: [0.0; BATCH],
            inv_widths: [0.0; BATCH],
            scales: [0.0; BATCH],
            gex_at_spot: [0.0; BATCH],
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
        let (centers, inv_widths) = (&mut self.centers[..n], &mut self.inv_widths[..n]);
        let (scales, gex_at_spot) = (&mut self.scales[..n], &mut self.gex_at_spot[..n]);
        let ln_spot = spot.ln();
        for i in 0..n {
            let inv_width = 1.0 / (vols[i] * sqrt_years[i]);
            let center = ln_k[i] - (drift + 0.5 * vols[i] * vols[i]) * years[i];
            let scale = MULTIPLIER * ONE_PERCENT * discounts[i] * inv_width * INV_SQRT_2PI;
            let d = (ln_spot - center) * inv_width;
            let half_d2 = 0.5 * d * d;
            let e = spot * scale * fastexp::exp(-half_d2);
            centers[i] = center;
            inv_widths[i] = inv_width;
            scales[i] = scale;
            gex_at_spot[i] = if half_d2 <= EXP_LIMIT { e } else { 0.0 };
        }
    }

    /// Term `i` of the last [`TermBatch::compute`] and its GEX per contract at spot, or
    /// `None` when it cannot carry gamma (σ or T not positive, or a non-finite result).
    pub fn term(&self, i: usize) -> Option<(CurveTerm, f64)> {
        let term = CurveTerm {
            center: self.centers[i],
            inv_width: self.inv_widths[i],
            scale: self.scales[i],
        };
        let ok = self.vols[i] > 0.0 && self.years[i] > 0.0 && term.is_finite_and_positive();
        ok.then_some((term, self.gex_at_spot[i]))
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
            }
            batch.compute(chunk.len(), rate - q, spot);
            for (i, &(strike, years, vol)) in chunk.iter().enumerate() {
                let alone = CurveTerm::new(strike, years, vol, rate, q).expect("a valid term");
                let (term, per_contract) = batch.term(i).expect("a valid term");
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs().max(1e-300);
                assert!(close(term.center, alone.center), "{i}");
                assert!(close(term.inv_width, alone.inv_width), "{i}");
                assert!(close(term.scale, alone.scale), "{i}");
                let expected = alone.gex_at(spot, spot.ln(), 1.0);
                assert!((per_contract - expected).abs() <= 1e-12 * expected.abs().max(1e-300));
            }
        }
    }

    #[test]
    fn a_term_without_time_or_volatility_is_refused() {
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
        }
        batch.compute(3, 0.0, 100.0);
        assert!((0..3).all(|i| batch.term(i).is_none()));
    }
}
