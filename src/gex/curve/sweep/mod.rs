//! The sweep of G over a geometric grid (see the parent module): the terms sorted by how
//! far they reach over the grid into the f32 block kernel ([`kernel_f32`]), the f64 block
//! kernel ([`kernel_f64`]) and narrow terms one at a time; the Gaussian recurrence they
//! share; the signs made exact where the f32 error bound could flip them.

mod kernel_f32;
mod kernel_f64;

use super::simd::widest_simd;
use super::{GexCurve, LANES, fastexp};
use kernel_f64::SUMS;

widest_simd!(
    fn curve_sweep(curve: &GexCurve, low: f64, high: f64, points: usize, out: &mut Sweep) -> () =
        GexCurve::sweep_portable(curve, low, high, points, out)
);

/// |d| beyond which the sweep ignores a term (exp(−40.5) ≈ 2.6e-18).
const SWEEP_D_MAX: f64 = 9.0;

/// A sweep of G over a geometric grid. Reuse one across calls: its buffers (including the
/// scratch the blocked kernel accumulates into) are kept, so a sweep allocates nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sweep {
    /// Grid spots, ascending.
    pub spots: Vec<f64>,
    /// G at each grid spot, dollars per 1 % move.
    pub values: Vec<f64>,
    /// Per-point partial sums of the f64 blocked kernel.
    lanes: Vec<[f64; SUMS]>,
    /// Per-point partial sums of the f32 kernel: terms of positive weight, and |terms| of
    /// negative weight.
    positive: Vec<[f32; kernel_f32::LANES]>,
    negative: Vec<[f32; kernel_f32::LANES]>,
}

impl GexCurve {
    /// G on `points` spots spaced uniformly in ln x from `low` to `high` inclusive, written
    /// into `out` (reused: no allocation once it has the capacity). `points` < 2 or a bad
    /// range gives an empty sweep.
    pub fn sweep_into(&self, low: f64, high: f64, points: usize, out: &mut Sweep) {
        curve_sweep(self, low, high, points, out)
    }

    #[inline(always)]
    fn sweep_portable(&self, low: f64, high: f64, points: usize, out: &mut Sweep) {
        out.spots.clear();
        out.values.clear();
        if points < 2 || !(low > 0.0 && high > low && high.is_finite()) {
            return;
        }
        let ln_low = low.ln();
        let step = (high.ln() - ln_low) / (points - 1) as f64;
        let span = (points - 1) as f64;
        out.values.resize(points, 0.0);
        out.lanes.clear();
        out.lanes.resize(points, [0.0; SUMS]);
        for sums in [&mut out.positive, &mut out.negative] {
            sums.clear();
            sums.resize(points, [0.0; kernel_f32::LANES]);
        }
        // Three kernels, by how far a term reaches over the grid: within |d| ≤ 12 everywhere
        // (nearly all), 64 terms of one sign at a time in f32; within |d| ≤ 37, 32 at a time
        // in f64; the rest, narrow terms that matter over part of the grid only, one at a
        // time over their own window.
        let mut wide = TermBlock::<{ kernel_f64::BLOCK }>::new();
        // f32 blocks of positive weights and of |negative| ones.
        let [mut positive, mut negative] = [TermBlock::<{ kernel_f32::BLOCK }>::new(); 2];
        for ((&c, &inv_a), &w) in self.centers.iter().zip(&self.inv_widths).zip(&self.weights) {
            let d0 = (ln_low - c) * inv_a;
            let delta = step * inv_a;
            let d_end = d0 + span * delta;
            let single = d0 >= -kernel_f32::D_MAX
                && d_end <= kernel_f32::D_MAX
                && delta <= kernel_f32::MAX_DELTA
                && (kernel_f32::MIN_WEIGHT..=kernel_f32::MAX_WEIGHT).contains(&w.abs());
            if single && w > 0.0 {
                if positive.push(d0, delta, w) {
                    kernel_f32::accumulate_block(&mut out.positive, &positive);
                    positive.restart();
                }
            } else if single {
                if negative.push(d0, delta, -w) {
                    kernel_f32::accumulate_block(&mut out.negative, &negative);
                    negative.restart();
                }
            } else if d0 >= -kernel_f64::D_MAX && d_end <= kernel_f64::D_MAX {
                if wide.push(d0, delta, w) {
                    kernel_f64::accumulate_block(&mut out.lanes, &wide);
                    wide.restart();
                }
            } else {
                accumulate_term(&mut out.values, d0, delta, w);
            }
        }
        if wide.pad(step) {
            kernel_f64::accumulate_block(&mut out.lanes, &wide);
        }
        if positive.pad(step) {
            kernel_f32::accumulate_block(&mut out.positive, &positive);
            positive.restart();
        }
        if negative.pad(step) {
            kernel_f32::accumulate_block(&mut out.negative, &negative);
            negative.restart();
        }
        let relative = kernel_f32::relative_error(points, positive.flushed.max(negative.flushed));
        out.spots
            .extend((0..points).map(|j| (ln_low + j as f64 * step).exp()));
        for j in 0..points {
            let exact_part = out.values[j] + out.lanes[j].iter().sum::<f64>();
            let lane_sum = |sums: &[f32; kernel_f32::LANES]| -> f64 {
                sums.iter().map(|&v| f64::from(v)).sum()
            };
            let (p, n) = (lane_sum(&out.positive[j]), lane_sum(&out.negative[j]));
            let x = out.spots[j];
            let value = x * (exact_part + (p - n));
            // Where the f32 error could flip the sign, the exact value decides (a point no
            // f32 term reaches, p + n = 0, is exact already).
            let uncertain = p + n > 0.0 && value.abs() <= x * relative * (p + n);
            out.values[j] = if uncertain { self.value(x) } else { value };
        }
    }
}

/// Up to N terms gathered for a blocked kernel: d at the first grid point, its step per
/// point, the weight.
#[derive(Clone, Copy, Debug)]
pub(super) struct TermBlock<const N: usize> {
    pub d0: [f64; N],
    pub delta: [f64; N],
    pub weight: [f64; N],
    len: usize,
    /// Blocks handed to the kernel so far.
    pub flushed: usize,
}

impl<const N: usize> TermBlock<N> {
    pub fn new() -> Self {
        TermBlock {
            d0: [0.0; N],
            delta: [0.0; N],
            weight: [0.0; N],
            len: 0,
            flushed: 0,
        }
    }

    /// Adds a term; true when the block is full: hand it to the kernel, then [`Self::restart`].
    /// (No kernel closure here: a closure is compiled apart from the caller's AVX-512 or
    /// AVX2 code, and the kernel's setup exponentials would lose their vectors.)
    #[inline(always)]
    pub fn push(&mut self, d0: f64, delta: f64, weight: f64) -> bool {
        self.d0[self.len] = d0;
        self.delta[self.len] = delta;
        self.weight[self.len] = weight;
        self.len += 1;
        self.len == N
    }

    /// Pads a partly filled block, its empty lanes with weight 0 (d = 0 and δ = `step`, so
    /// they compute harmless finite values); true when it holds a term for the kernel.
    #[inline(always)]
    pub fn pad(&mut self, step: f64) -> bool {
        if self.len == 0 {
            return false;
        }
        for k in self.len..N {
            self.d0[k] = 0.0;
            self.delta[k] = step;
            self.weight[k] = 0.0;
        }
        true
    }

    /// After the kernel ran: count the block and start an empty one.
    #[inline(always)]
    pub fn restart(&mut self) {
        self.flushed += 1;
        self.len = 0;
    }
}

/// The Gaussian recurrence of the blocked kernels ([`kernel_f32`],
/// [`kernel_f64`]) as plain loops, in f32 or f64 lanes: each grid point's row gets the
/// sum of every group's φ, then φ ← φ·r and r ← r·s. The terms are summed in registers
/// first: one load and one store of a point's partial sums per block, not one per term. The
/// kernels' AVX2 versions do the same operations in the same order.
fn block_recurrence<T, const LANES: usize, const GROUPS: usize>(
    sums: &mut [[T; LANES]],
    mut phi: [[T; LANES]; GROUPS],
    mut ratio: [[T; LANES]; GROUPS],
    step: [[T; LANES]; GROUPS],
) where
    T: Copy + Default + std::ops::AddAssign + std::ops::MulAssign,
{
    for row in sums.iter_mut() {
        let mut sum = [T::default(); LANES];
        for g in 0..GROUPS {
            for k in 0..LANES {
                sum[k] += phi[g][k];
                phi[g][k] *= ratio[g][k];
                ratio[g][k] *= step[g][k];
            }
        }
        for k in 0..LANES {
            row[k] += sum[k];
        }
    }
}

/// The first and the second half of a block's groups of lanes (`HALF` = `GROUPS` / 2), for
/// the kernels that take a block in two halves.
fn halves<T: Copy, const LANES: usize, const GROUPS: usize, const HALF: usize>(
    groups: [[T; LANES]; GROUPS],
) -> [[[T; LANES]; HALF]; 2] {
    const { assert!(2 * HALF == GROUPS) };
    std::array::from_fn(|h| std::array::from_fn(|g| groups[h * HALF + g]))
}

/// Adds w·exp(−d_j²/2) to `acc[j]` for d_j = d0 + j·delta (delta > 0), over the points with
/// |d_j| ≤ 9, by the Gaussian recurrence in eight independent lanes: lane k holds the point
/// d = d_first + kδ, and every step moves each lane eight points on with
/// φ(d+8δ) = φ(d)·R(d), R(d) = exp(−8δd − 32δ²), R(d+8δ) = R(d)·exp(−64δ²).
#[inline(always)]
fn accumulate_term(acc: &mut [f64], d0: f64, delta: f64, weight: f64) {
    let n = acc.len();
    if n == 0 || delta.is_nan() || delta <= 0.0 || !d0.is_finite() {
        return;
    }
    let last = (n - 1) as f64;
    let inv_delta = 1.0 / delta;
    let low = (-SWEEP_D_MAX - d0) * inv_delta; // first index with d ≥ −9 is ceil(low)
    let high = (SWEEP_D_MAX - d0) * inv_delta; // last index with d ≤ 9 is floor(high)
    if !(high >= 0.0 && low <= last) {
        return;
    }
    // Integer ceil/floor of non-negative values (no libm call on baseline x86-64).
    let first = if low <= 0.0 {
        0
    } else {
        let t = low as usize;
        if (t as f64) < low { t + 1 } else { t }
    };
    let end = if high >= last { n } else { high as usize + 1 };
    if first >= end {
        return;
    }
    let window = &mut acc[first..end];
    let d_first = d0 + first as f64 * delta;
    if window.len() < 2 * LANES {
        for (k, slot) in window.iter_mut().enumerate() {
            let d = d_first + k as f64 * delta;
            *slot += weight * fastexp::exp(-0.5 * d * d);
        }
        return;
    }
    // Within the window |d| ≤ 9 and (≥ 16 points) delta ≤ 18/15, so every factor below
    // stays far inside f64's normal range.
    let stride = LANES as f64 * delta;
    let mut phi = [0.0; LANES];
    let mut ratio = [0.0; LANES];
    for k in 0..LANES {
        let d = d_first + k as f64 * delta;
        phi[k] = weight * fastexp::exp(-0.5 * d * d);
        ratio[k] = fastexp::exp(-stride * d - 0.5 * stride * stride);
    }
    let ratio_step = fastexp::exp(-stride * stride);
    let (chunks, tail) = window.as_chunks_mut::<LANES>();
    for chunk in chunks {
        for k in 0..LANES {
            chunk[k] += phi[k];
            phi[k] *= ratio[k];
            ratio[k] *= ratio_step;
        }
    }
    for (slot, p) in tail.iter_mut().zip(phi) {
        *slot += p;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{gross, uniform};
    use super::*;
    use crate::gex::curve::GexCurveBuilder;

    #[test]
    fn the_recurrence_sweep_matches_direct_evaluation() {
        // Widths from 0DTE-narrow to a year, so windows, short loops and lanes all run.
        let mut b = GexCurveBuilder::default();
        let mut next = uniform(7);
        for _ in 0..400 {
            let k = 80.0 + 40.0 * next();
            let t = 10f64.powf(-3.5 + 3.5 * next());
            let v = 0.05 + 0.6 * next();
            let oi = (next() - 0.5) * 1000.0;
            b.add(k, t, v, oi, 0.0, 0.0);
        }
        let curve = b.build();
        let mut sweep = Sweep::default();
        curve.sweep_into(80.0, 120.0, 257, &mut sweep);
        let scale: f64 = sweep
            .spots
            .iter()
            .map(|&x| gross(&curve, x))
            .fold(0.0, f64::max);
        // f32 terms are within their bound (times the gross sum; at most 400 / 64 + 1 blocks
        // of one sign), and every sign is the exact one: where rounding could flip it, the
        // sweep evaluated exactly.
        let bound = kernel_f32::relative_error(257, 400 / kernel_f32::BLOCK + 1);
        for (&x, &v) in sweep.spots.iter().zip(&sweep.values) {
            let exact = curve.value(x);
            assert!(
                (v - exact).abs() <= bound * gross(&curve, x) + 1e-12 * scale,
                "at {x}: {v} vs {exact}"
            );
            assert_eq!(v > 0.0, exact > 0.0, "sign at {x}: {v} vs {exact}");
        }
        assert!((sweep.spots[0] - 80.0).abs() < 1e-12 && (sweep.spots[256] - 120.0).abs() < 1e-12);
    }
}
