//! The single-precision kernel of the zero-gamma sweep: terms that stay within |d| ≤ 12
//! over the whole grid (nearly every term of a real chain) run the Gaussian recurrence of
//! [`super::super`] in f32, twice the lanes of f64 per vector, with a rigorous bound on the
//! error so the sweep can tell which signs it knows.
//!
//! Error bound. With unit roundoff u = 2⁻²⁴: the step s = e^(−δ²) is computed in f64 to
//! far better than u and rounded to f32 (error u); r₀ = e^(−d₀δ − δ²/2) and
//! φ₀ = w·e^(−d₀²/2) come from [`fastexp::exp_f32`] (E units) of an argument rounded to f32
//! (|argument|·u: at most 1.51u for r₀, as |d₀| ≤ 12 and δ ≤ 1/8, and 72u for φ₀), φ₀ with
//! two more roundings (w to f32, the product). After m steps r_m = r₀·s^m carries
//! e_r + m·u (s's own error, once per step) + m·u (the products), and after j steps
//! φ_j = φ₀·r₀·…·r_{j−1} carries e_φ + Σ_{m<j}(e_r + 2m·u) + j·u = e_φ + j·e_r + j²·u,
//! relative to the term's exact value. Terms of one sign are summed together (positive
//! weights in one accumulator, negative in the other), so every partial sum is a sum of
//! same-sign values: a block's four groups cost 3u, each of a lane's `blocks` accumulations
//! 1u, the lanes' sum in f64 nothing that shows. So the computed P (sum of positive terms)
//! and N (of negative ones) are each within `relative_error(points, blocks)` of their exact
//! values, and G = P − N within that bound times P + N.

use super::super::fastexp;
use super::super::simd::Simd;
use super::{TermBlock, block_recurrence, halves};

/// Terms computed together, one per lane: with AVX-512, four vectors of sixteen; otherwise
/// two halves of four vectors of eight. Four independent chains of multiplications either
/// way, so the loop is bound by the multiplier's throughput, not its latency.
pub(super) const BLOCK: usize = 64;
/// f32 lanes per partial sum (one 256-bit vector).
pub(super) const LANES: usize = 8;
/// Vectors of eight per block, and per half block (the AVX2 and portable kernels' unit).
const GROUPS: usize = BLOCK / LANES;
const HALF_GROUPS: usize = GROUPS / 2;
/// |d| within which a term may run in f32: exp(−12²/2) ≈ 5e-32 times a weight of at least
/// [`MIN_WEIGHT`] stays a normal f32 (≥ 1.2e-38), so nothing underflows.
pub(super) const D_MAX: f64 = 12.0;
/// |weight| range of f32 terms: normal results at |d| = 12, and no overflow when thousands
/// of terms are summed (3.4e38 is f32's largest).
pub(super) const MIN_WEIGHT: f64 = 1e-6;
pub(super) const MAX_WEIGHT: f64 = 1e30;

/// Largest step δ of d per grid point of an f32 term, so that s = e^(−δ²) is within reach
/// of [`step_ratio`]'s short series (at 201 points, |d| ≤ 12 already keeps δ ≤ 0.12).
pub(super) const MAX_DELTA: f64 = 0.125;

/// f32's unit roundoff, 2⁻²⁴.
const UNIT_ROUNDOFF: f64 = 5.960_464_477_539_063e-8;
/// Error of r₀ and of φ₀ in units of u (module text).
const RATIO_UNITS: f64 = 2.0 + fastexp::EXP_F32_ERROR_UNITS;
const PHI_UNITS: f64 = 72.0 + fastexp::EXP_F32_ERROR_UNITS + 2.0;

/// The bound on the relative error of P or N after a sweep of `points` points into which
/// `blocks` blocks of one sign were accumulated (see the module text), with a 10 % margin
/// for the products of errors a first-order bound leaves out.
pub(super) fn relative_error(points: usize, blocks: usize) -> f64 {
    let j = points.saturating_sub(1) as f64;
    let recurrence = PHI_UNITS + j * RATIO_UNITS + j * j;
    1.1 * (recurrence + 3.0 + 2.0 * blocks as f64) * UNIT_ROUNDOFF
}

/// s = e^(−δ²) for δ ≤ [`MAX_DELTA`], from `delta2` = δ²: Taylor to the fifth power, whose
/// truncation error is below 3e-14 there, so rounding to f32 is s's only error.
#[inline(always)]
fn step_ratio(delta2: f64) -> f64 {
    let y = -delta2;
    1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0)))))
}

/// Adds each term's |w|·exp(−d_j²/2) into `sums[j]` for every grid point j, by the
/// recurrence φ_{j+1} = φ_j·r_j, r_{j+1} = r_j·s in f32 (setup: φ₀ and r₀ by the f32
/// exponential, s by a short series in f64; every term within |d| ≤ 12 and δ ≤
/// [`MAX_DELTA`]). The recurrence runs on vectors written out explicitly, AVX-512 or AVX2
/// as [`Simd::get`] chose them: left to itself the compiler shuffles these
/// arrays between vector halves and loses the gain of single precision.
#[inline(always)]
pub(super) fn accumulate_block(sums: &mut [[f32; LANES]], block: &TermBlock<BLOCK>) {
    let mut phi = [[0.0f32; LANES]; GROUPS];
    let mut ratio = [[0.0f32; LANES]; GROUPS];
    let mut step = [[0.0f32; LANES]; GROUPS];
    for g in 0..GROUPS {
        for k in 0..LANES {
            let i = g * LANES + k;
            let (d, delta) = (block.d0[i], block.delta[i]);
            let delta2 = delta * delta;
            phi[g][k] = block.weight[i] as f32 * fastexp::exp_f32((-0.5 * d * d) as f32);
            ratio[g][k] = fastexp::exp_f32((-d * delta - 0.5 * delta2) as f32);
            step[g][k] = step_ratio(delta2) as f32;
        }
    }
    let simd = Simd::get();
    #[cfg(target_arch = "x86_64")]
    if simd == Simd::Avx512 {
        // SAFETY: `Simd::get` reports AVX-512F only when the CPU has it, the only feature
        // the function enables.
        unsafe { recurrence_avx512(sums, &phi, &ratio, &step) };
        return;
    }
    let [phi, ratio, step]: [[HalfLanes; 2]; 3] = [phi, ratio, step].map(halves);
    for h in 0..2 {
        #[cfg(target_arch = "x86_64")]
        if simd == Simd::Avx2 {
            // SAFETY: `Simd::get` reports AVX2 only when the CPU has it, the only feature the
            // function enables.
            unsafe { recurrence_avx2(sums, phi[h], ratio[h], step[h]) };
            continue;
        }
        block_recurrence(sums, phi[h], ratio[h], step[h]);
    }
}

/// A block's vectors of eight lanes: all of them, and half of them.
type Lanes = [[f32; LANES]; GROUPS];
type HalfLanes = [[f32; LANES]; HALF_GROUPS];

/// The recurrence of [`accumulate_block`] over half a block in AVX2 registers: the same
/// operations in the same order as [`block_recurrence`] (identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn recurrence_avx2(sums: &mut [[f32; LANES]], phi: HalfLanes, ratio: HalfLanes, step: HalfLanes) {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    // SAFETY (all loads and stores): each pointer is to an [f32; 8], exactly one 256-bit
    // vector, and `loadu`/`storeu` need no alignment.
    let load = |v: &[f32; LANES]| -> __m256 { unsafe { _mm256_loadu_ps(v.as_ptr()) } };
    let mut phi = phi.each_ref().map(load);
    let mut ratio = ratio.each_ref().map(load);
    let step = step.each_ref().map(load);
    for row in sums.iter_mut() {
        let mut sum = _mm256_setzero_ps();
        for g in 0..HALF_GROUPS {
            sum = _mm256_add_ps(sum, phi[g]);
            phi[g] = _mm256_mul_ps(phi[g], ratio[g]);
            ratio[g] = _mm256_mul_ps(ratio[g], step[g]);
        }
        let total = _mm256_add_ps(load(row), sum);
        unsafe { _mm256_storeu_ps(row.as_mut_ptr(), total) };
    }
}

/// The recurrence of [`accumulate_block`] over a whole block in AVX-512 registers, vector g
/// holding lanes 16g..16g+16: per grid point, the four vectors' φ are summed in order, the
/// sum's upper eight lanes are added to its lower eight, and the result to the point's
/// partial sums (a test holds the same in plain loops).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn recurrence_avx512(sums: &mut [[f32; LANES]], phi: &Lanes, ratio: &Lanes, step: &Lanes) {
    use std::arch::x86_64::{
        __m512, _mm256_add_ps, _mm256_castpd_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm512_add_ps,
        _mm512_castps_pd, _mm512_castps512_ps256, _mm512_extractf64x4_pd, _mm512_loadu_ps,
        _mm512_mul_ps, _mm512_setzero_ps,
    };
    const WIDE: usize = GROUPS / 2;
    // SAFETY: vector g starts at [f32; 8] number 2g of a 64-float array, so all 16 floats
    // it reads are inside it; `loadu` needs no alignment.
    let load = |v: &Lanes| -> [__m512; WIDE] {
        std::array::from_fn(|g| unsafe { _mm512_loadu_ps(v[2 * g].as_ptr()) })
    };
    let (mut phi, mut ratio, step) = (load(phi), load(ratio), load(step));
    for row in sums.iter_mut() {
        let mut sum = _mm512_setzero_ps();
        for g in 0..WIDE {
            sum = _mm512_add_ps(sum, phi[g]);
            phi[g] = _mm512_mul_ps(phi[g], ratio[g]);
            ratio[g] = _mm512_mul_ps(ratio[g], step[g]);
        }
        let upper = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1));
        let folded = _mm256_add_ps(_mm512_castps512_ps256(sum), upper);
        // SAFETY: `row` is an [f32; 8], exactly one 256-bit vector.
        unsafe {
            let total = _mm256_add_ps(_mm256_loadu_ps(row.as_ptr()), folded);
            _mm256_storeu_ps(row.as_mut_ptr(), total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block's vectors with lane i (of 64) set to `f(i)`.
    fn lanes(f: impl Fn(usize) -> f32) -> Lanes {
        std::array::from_fn(|g| std::array::from_fn(|k| f(g * LANES + k)))
    }

    fn bits(sums: &[[f32; LANES]]) -> Vec<u32> {
        sums.iter().flatten().map(|x| x.to_bits()).collect()
    }

    /// Decaying terms of assorted sizes and ratios, and partial sums already holding 0.5.
    fn sample_block() -> (Lanes, Lanes, Lanes, Vec<[f32; LANES]>) {
        let phi = lanes(|i| 1e3 / (1.0 + i as f32));
        let ratio = lanes(|i| 1.05 - 0.0015 * i as f32);
        let step = lanes(|i| 0.999 - 0.00005 * i as f32);
        (phi, ratio, step, vec![[0.5f32; LANES]; 201])
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_recurrence_gives_the_portable_loop_s_sums_bit_for_bit() {
        if Simd::widest_supported() < Simd::Avx2 {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let (phi, ratio, step, mut portable) = sample_block();
        let mut avx2 = portable.clone();
        let [phi, ratio, step]: [[HalfLanes; 2]; 3] = [phi, ratio, step].map(halves);
        for h in 0..2 {
            block_recurrence(&mut portable, phi[h], ratio[h], step[h]);
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { recurrence_avx2(&mut avx2, phi[h], ratio[h], step[h]) };
        }
        assert!(
            bits(&portable) == bits(&avx2),
            "the AVX2 sums differ from the portable loop's"
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx512_recurrence_sums_sixteen_lanes_then_folds_them_to_eight() {
        if Simd::widest_supported() < Simd::Avx512 {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        let (mut phi, mut ratio, step, mut plain) = sample_block();
        let mut avx512 = plain.clone();
        // SAFETY: the CPU has AVX-512F (checked above).
        unsafe { recurrence_avx512(&mut avx512, &phi, &ratio, &step) };
        // The same operations in plain loops: lane k of wide vector g is lane 16g + k.
        let lane = |v: &Lanes, g: usize, k: usize| v[(16 * g + k) / LANES][k % LANES];
        for row in plain.iter_mut() {
            let mut sum = [0.0f32; 16];
            for g in 0..GROUPS / 2 {
                for (k, total) in sum.iter_mut().enumerate() {
                    *total += lane(&phi, g, k);
                }
            }
            for k in 0..LANES {
                row[k] += sum[k] + sum[k + LANES];
            }
            phi = lanes(|i| phi[i / LANES][i % LANES] * ratio[i / LANES][i % LANES]);
            ratio = lanes(|i| ratio[i / LANES][i % LANES] * step[i / LANES][i % LANES]);
        }
        assert!(
            bits(&plain) == bits(&avx512),
            "the AVX-512 sums differ from the plain loops'"
        );
    }

    #[test]
    fn the_f32_recurrence_stays_within_its_bound_across_the_grid() {
        // 64 terms from narrow to wide, every one within |d| ≤ 12 over 201 points.
        let points = 201;
        let mut block = TermBlock::<BLOCK>::new();
        let mut sums = vec![[0.0f32; LANES]; points];
        for i in 0..BLOCK {
            let delta = 0.002 + 0.115 * i as f64 / BLOCK as f64;
            let d0 = -0.5 * 200.0 * delta + 0.3 * (i as f64 - 32.0) * delta;
            let weight = 10f64.powi(i as i32 % 7 - 2);
            let full = block.push(d0, delta, weight);
            assert_eq!(full, i + 1 == BLOCK, "64 terms make one full block");
        }
        accumulate_block(&mut sums, &block);
        let bound = relative_error(points, 1);
        assert!(bound < 3e-3, "{bound}");
        let mut worst: f64 = 0.0;
        for (j, row) in sums.iter().enumerate() {
            let computed: f64 = row.iter().map(|&v| f64::from(v)).sum();
            let exact: f64 = (0..BLOCK)
                .map(|i| {
                    let d = block.d0[i] + j as f64 * block.delta[i];
                    block.weight[i] * (-0.5 * d * d).exp()
                })
                .sum();
            let error = ((computed - exact) / exact).abs();
            assert!(error <= bound, "point {j}: {error} > {bound}");
            worst = worst.max(error);
        }
        assert!(worst > 0.0, "f32 rounding shows somewhere");
    }
}
