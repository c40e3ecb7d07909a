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

/// ln 2 split for f32 (Cephes' constants): `n · LN2_HI_F32` is exact for |n| ≤ 127.
const LN2_HI_F32: f32 = 0.693_359_4;
const LN2_LO_F32: f32 = -2.121_944_4e-4;
/// 1.5·2^23: adding it rounds an f32 to an integer held in the low mantissa bits.
const SHIFT_F32: f32 = 12_582_912.0;
/// Bound on the relative error of [`exp_f32`] over [`EXP_F32_RANGE`], in units of f32's
/// unit roundoff 2⁻²⁴: the test measures 2.9 at worst over the range; the bound leaves room
/// for the dozen roundings of the reduction and the polynomial that a sample may miss.
pub const EXP_F32_ERROR_UNITS: f64 = 8.0;
/// The arguments [`exp_f32`] is accurate on: results are normal f32 throughout.
pub const EXP_F32_RANGE: std::ops::RangeInclusive<f32> = -87.0..=88.0;

/// e^x in single precision for x in [`EXP_F32_RANGE`] (clamped outside), within
/// [`EXP_F32_ERROR_UNITS`]: the same scheme as [`exp`] with a degree-7 polynomial, whose
/// truncation error on |r| ≤ ln2/2 is below 0.1 unit. Twice the lanes of [`exp`] per vector
/// and half its polynomial, for results that are rounded to f32 anyway.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(*EXP_F32_RANGE.start(), *EXP_F32_RANGE.end());
    let t = x * std::f32::consts::LOG2_E + SHIFT_F32;
    let n = t - SHIFT_F32;
    let r = (x - n * LN2_HI_F32) - n * LN2_LO_F32;
    let r2 = r * r;
    let r4 = r2 * r2;
    let p01 = 1.0 + r;
    let p23 = 0.5 + r * (1.0 / 6.0);
    let p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    let p67 = 1.0 / 720.0 + r * (1.0 / 5_040.0);
    let p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
    let n_int = (t.to_bits() as i32).wrapping_sub(SHIFT_F32.to_bits() as i32);
    let two_n = f32::from_bits(((n_int + 127) as u32) << 23);
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

    #[test]
    fn the_single_precision_exponential_stays_within_its_bound() {
        let unit = f64::from(f32::EPSILON) / 2.0;
        let (low, high) = (*EXP_F32_RANGE.start(), *EXP_F32_RANGE.end());
        let mut worst: f64 = 0.0;
        let n = 4_000_000;
        for i in 0..=n {
            let x = low + (high - low) * (i as f32 / n as f32);
            let exact = f64::from(x).exp();
            worst = worst.max((f64::from(exp_f32(x)) - exact).abs() / exact / unit);
        }
        assert!(worst <= 3.0, "worst error {worst} units");
        assert!(worst > 0.5, "{worst}: f32 rounding shows");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-1e9), exp_f32(low));
    }
}
