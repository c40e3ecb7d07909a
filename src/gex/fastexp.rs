//! A branch-free exponential for the GEX hot loops.
//!
//! `std`'s `f64::exp` is a libm call the compiler cannot vectorise; this one is straight-line
//! arithmetic (Cody-Waite range reduction by ln 2, a degree-13 Taylor polynomial on
//! |r| ≤ ln2/2 whose truncation error is below 4e-18, evaluated by Estrin's scheme, and the
//! power of two assembled from its bits), so loops over arrays of terms become SIMD code. Accuracy: within 2 ulp of
//! `f64::exp` on [−708, 708] (tested); arguments outside are clamped to that range, which
//! callers avoid or mask.

const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that `n · LN2_HI` is exact for |n| < 2^20 (fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 6.93147180369123816490e-01
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.90821492927058770002e-10
/// 1.5·2^52: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Largest |x| handled without overflow or subnormal results.
pub const EXP_LIMIT: f64 = 708.0;

/// e^x for x in [−708, 708] (clamped outside), within 2 ulp.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-EXP_LIMIT, EXP_LIMIT);
    let t = x * LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor coefficients 1/k!, in Estrin's form: pairs, then pairs of pairs by r², r⁴ and
    // r⁸, so the longest chain of dependent operations is 8 deep instead of Horner's 26
    // (the setup of the sweep's blocks was waiting on it).
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = 1.0 + r;
    let p23 = 0.5 + r * (1.0 / 6.0);
    let p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    let p67 = 1.0 / 720.0 + r * (1.0 / 5_040.0);
    let p89 = 1.0 / 40_320.0 + r * (1.0 / 362_880.0);
    let p1011 = 1.0 / 3_628_800.0 + r * (1.0 / 39_916_800.0);
    let p1213 = 1.0 / 479_001_600.0 + r * (1.0 / 6_227_020_800.0);
    let p0_3 = p01 + r2 * p23;
    let p4_7 = p45 + r2 * p67;
    let p8_11 = p89 + r2 * p1011;
    let p0_7 = p0_3 + r4 * p4_7;
    let p8_13 = p8_11 + r4 * p1213;
    let p = p0_7 + r8 * p8_13;
    // n is an integer in [−1022, 1022]: its bits minus SHIFT's are n itself.
    let n_int = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let two_n = f64::from_bits(((n_int + 1023) as u64) << 52);
    p * two_n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs() / f64::EPSILON
    }

    #[test]
    fn agrees_with_std_within_two_ulp_over_the_whole_range() {
        let mut worst: f64 = 0.0;
        let n = 2_000_000;
        for i in 0..=n {
            let x = -EXP_LIMIT + 2.0 * EXP_LIMIT * i as f64 / n as f64;
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        // Dense near zero, where the Gaussian kernels live.
        for i in 0..=n {
            let x = -50.0 + 60.0 * i as f64 / n as f64;
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn exact_points_and_clamping() {
        assert_eq!(exp(0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1.0);
        assert_eq!(exp(-1e9), exp(-EXP_LIMIT));
        assert!(exp(-EXP_LIMIT) > 0.0 && exp(EXP_LIMIT).is_finite());
        assert!(
            exp(f64::NAN).is_nan() || exp(f64::NAN) >= 0.0,
            "NaN in, no panic"
        );
    }
}
