//! The double-precision block kernel of the zero-gamma sweep: terms that stay within
//! |d| ≤ 37 over the whole grid but not within the f32 kernel's |d| ≤ 12, thirty-two at a
//! time (relative error ≈ j²·ε/2, 2e-12 at 200 points).

use super::super::fastexp;
use super::super::simd::Simd;
use super::{TermBlock, block_recurrence, halves};

/// Terms computed together, one per lane: with AVX-512, four vectors of eight; otherwise
/// two halves of two groups of eight (each group two vectors of four with AVX2).
pub(super) const BLOCK: usize = 32;
/// Partial sums kept per grid point (one vector of f64 lanes).
pub(super) const SUMS: usize = 8;
const GROUPS: usize = BLOCK / SUMS;
const HALF_GROUPS: usize = GROUPS / 2;
/// |d| within which a term may join a block: exp(−37²/2) ≈ 1e-297 is still a normal number,
/// so the recurrence started anywhere on the grid never underflows or overflows.
pub(super) const D_MAX: f64 = 37.0;

/// φ, r and s of each group of SUMS lanes, of a block and of half a block.
type Lanes = [[f64; SUMS]; GROUPS];
type HalfLanes = [[f64; SUMS]; HALF_GROUPS];

/// Adds each lane's w·exp(−d_j²/2) into `lanes[j][lane]` for every grid point j, by the
/// recurrence φ_{j+1} = φ_j·r_j, r_j = exp(−d_jδ − δ²/2), r_{j+1} = r_j·exp(−δ²): two
/// multiplications per term and point, BLOCK independent lanes. The recurrence runs on
/// vectors written out explicitly, AVX-512 or AVX2 as [`Simd::get`] chose them: compiled
/// for AVX-512, the plain loop was shuffled between vector halves (perf: a third of the
/// sweep's samples in permutes and inserts).
#[inline(always)]
pub(super) fn accumulate_block(lanes: &mut [[f64; SUMS]], block: &TermBlock<BLOCK>) {
    let mut phi = [[0.0; SUMS]; GROUPS];
    let mut ratio = [[0.0; SUMS]; GROUPS];
    let mut step = [[0.0; SUMS]; GROUPS];
    for g in 0..GROUPS {
        for k in 0..SUMS {
            let i = g * SUMS + k;
            let (d, delta) = (block.d0[i], block.delta[i]);
            phi[g][k] = block.weight[i] * fastexp::exp(-0.5 * d * d);
            ratio[g][k] = fastexp::exp(-d * delta - 0.5 * delta * delta);
            step[g][k] = fastexp::exp(-delta * delta);
        }
    }
    let simd = Simd::get();
    #[cfg(target_arch = "x86_64")]
    if simd == Simd::Avx512 {
        // SAFETY: `Simd::get` reports AVX-512F only when the CPU has it, the only feature
        // the function enables.
        unsafe { recurrence_avx512(lanes, &phi, &ratio, &step) };
        return;
    }
    let [phi, ratio, step]: [[HalfLanes; 2]; 3] = [phi, ratio, step].map(halves);
    for h in 0..2 {
        #[cfg(target_arch = "x86_64")]
        if simd == Simd::Avx2 {
            // SAFETY: `Simd::get` reports AVX2 only when the CPU has it, the only feature the
            // function enables.
            unsafe { recurrence_avx2(lanes, phi[h], ratio[h], step[h]) };
            continue;
        }
        block_recurrence(lanes, phi[h], ratio[h], step[h]);
    }
}

/// The recurrence of [`accumulate_block`] over half a block in AVX2 registers, each group
/// of eight lanes as two vectors of four: the same operations in the same order as
/// [`block_recurrence`] (identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn recurrence_avx2(lanes: &mut [[f64; SUMS]], phi: HalfLanes, ratio: HalfLanes, step: HalfLanes) {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    const HALF: usize = SUMS / 2;
    // SAFETY (all loads and stores): each pointer is to four consecutive f64 inside an
    // [f64; 8], exactly one 256-bit vector, and `loadu`/`storeu` need no alignment.
    let load = |v: &[f64; SUMS], h: usize| -> __m256d {
        unsafe { _mm256_loadu_pd(v[h * HALF..].as_ptr()) }
    };
    let vectors = |v: &HalfLanes| -> [[__m256d; 2]; HALF_GROUPS] {
        v.each_ref().map(|g| [load(g, 0), load(g, 1)])
    };
    let mut phi = vectors(&phi);
    let mut ratio = vectors(&ratio);
    let step = vectors(&step);
    for row in lanes.iter_mut() {
        for h in 0..2 {
            let mut sum = _mm256_setzero_pd();
            for g in 0..HALF_GROUPS {
                sum = _mm256_add_pd(sum, phi[g][h]);
                phi[g][h] = _mm256_mul_pd(phi[g][h], ratio[g][h]);
                ratio[g][h] = _mm256_mul_pd(ratio[g][h], step[g][h]);
            }
            let total = _mm256_add_pd(load(row, h), sum);
            unsafe { _mm256_storeu_pd(row[h * HALF..].as_mut_ptr(), total) };
        }
    }
}

/// The recurrence of [`accumulate_block`] over a whole block in AVX-512 registers, one
/// vector per group: the same operations in the same order as [`block_recurrence`] over
/// all four groups (identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn recurrence_avx512(lanes: &mut [[f64; SUMS]], phi: &Lanes, ratio: &Lanes, step: &Lanes) {
    use std::arch::x86_64::{
        __m512d, _mm512_add_pd, _mm512_loadu_pd, _mm512_mul_pd, _mm512_setzero_pd, _mm512_storeu_pd,
    };
    // SAFETY (all loads and stores): each pointer is to an [f64; 8], exactly one 512-bit
    // vector, and `loadu`/`storeu` need no alignment.
    let load = |v: &[f64; SUMS]| -> __m512d { unsafe { _mm512_loadu_pd(v.as_ptr()) } };
    let mut phi = phi.each_ref().map(load);
    let mut ratio = ratio.each_ref().map(load);
    let step = step.each_ref().map(load);
    for row in lanes.iter_mut() {
        let mut sum = _mm512_setzero_pd();
        for g in 0..GROUPS {
            sum = _mm512_add_pd(sum, phi[g]);
            phi[g] = _mm512_mul_pd(phi[g], ratio[g]);
            ratio[g] = _mm512_mul_pd(ratio[g], step[g]);
        }
        let total = _mm512_add_pd(load(row), sum);
        unsafe { _mm512_storeu_pd(row.as_mut_ptr(), total) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes(f: impl Fn(usize) -> f64) -> Lanes {
        std::array::from_fn(|g| std::array::from_fn(|k| f(g * SUMS + k)))
    }

    fn bits(v: &[[f64; SUMS]]) -> Vec<u64> {
        v.iter().flatten().map(|x| x.to_bits()).collect()
    }

    /// Terms of both signs and assorted sizes and ratios, and partial sums holding 0.5.
    fn sample_block() -> (Lanes, Lanes, Lanes, Vec<[f64; SUMS]>) {
        let phi = lanes(|i| 1e3 / (1.0 + i as f64) - 40.0);
        let ratio = lanes(|i| 1.05 - 0.0015 * i as f64);
        let step = lanes(|i| 0.999 - 0.00005 * i as f64);
        (phi, ratio, step, vec![[0.5; SUMS]; 201])
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
    fn the_avx512_recurrence_gives_the_portable_loop_s_sums_bit_for_bit() {
        if Simd::widest_supported() < Simd::Avx512 {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        let (phi, ratio, step, mut portable) = sample_block();
        let mut avx512 = portable.clone();
        block_recurrence(&mut portable, phi, ratio, step);
        // SAFETY: the CPU has AVX-512F (checked above).
        unsafe { recurrence_avx512(&mut avx512, &phi, &ratio, &step) };
        assert!(
            bits(&portable) == bits(&avx512),
            "the AVX-512 sums differ from the portable loop's"
        );
    }
}
