//! The total-GEX curve G(x): the dollar GEX per 1 % move the whole chain would have if the
//! underlying stood at a hypothetical spot `x`, every contract keeping its IV, T and OI
//! (SPEC 7). Its zero crossings are the zero-gamma (flip) levels.
//!
//! For one contract, sign·Γ(x)·OI·M·x²·0.01 = x · w · exp(−d²/2) with
//! d = (ln x − c) / a, a = σ√T, c = ln K − (r − q + σ²/2)T and
//! w = sign·OI·M·0.01·e^(−qT) / (a·√(2π)). Everything but `ln x` is fixed per contract, so a
//! [`GexCurve`] stores one `(c, 1/a, w)` term per distinct `(c, a, e^(−qT))` (identical strike,
//! expiry and IV are merged; a call and a put that merge net their open interest).
//!
//! The sweep evaluates G on a grid uniform in ln x (geometric in x) over [0.8 S, 1.2 S].
//! On such a grid d advances by a constant δ per point, so exp(−d²/2) follows the exact
//! recurrence φ(d+δ) = φ(d)·r(d), r(d) = exp(−dδ − δ²/2), r(d+δ) = r(d)·exp(−δ²): after three
//! exponentials of setup, a term costs two multiplications and an addition per grid point.
//! Terms that stay within |d| ≤ 37 over the whole grid (most of a chain) run 16 at a time,
//! one per SIMD lane, with their setup vectorised too; narrow terms (short-dated, far from
//! the money) run one at a time over the points where |d| ≤ 9 (beyond it exp(−d²/2) is below
//! 3e-18 of the term's peak; the sweep only locates sign changes). Each sign change is then
//! refined with Brent's method on the exact function ([`GexCurve::value`]). A reused
//! [`Sweep`] makes the sweep allocation-free. On x86-64 CPUs with AVX2 the same code runs
//! compiled for 256-bit vectors (chosen at run time; results are bit-identical, since Rust
//! never contracts a·b + c into an FMA).
//!
//! Accuracy: the recurrence's relative error grows like j²·ε/2 over j steps (≈ 2e-12 at 200
//! points); `value` uses [`super::fastexp::exp`] (within 2 ulp of `f64::exp`).

use super::bs::INV_SQRT_2PI;
use super::fastexp::{self, EXP_LIMIT};

/// Contract multiplier M (shares per contract).
pub const MULTIPLIER: f64 = 100.0;
/// Dollar GEX is per 1 % move of the underlying.
pub const ONE_PERCENT: f64 = 0.01;
/// Sweep bounds as fractions of spot.
pub const SWEEP_LOW: f64 = 0.8;
pub const SWEEP_HIGH: f64 = 1.2;

/// |d| beyond which the sweep ignores a term (exp(−40.5) ≈ 2.6e-18).
const SWEEP_D_MAX: f64 = 9.0;
/// Grid points advanced per step of the recurrence (independent lanes: vectorisable).
const LANES: usize = 8;
/// Relative x tolerance of the refined crossings.
const ROOT_REL_TOL: f64 = 1e-10;

/// What one contract contributes to G, apart from its signed open interest: the term
/// x·scale·OI·exp(−((ln x − center)·inv_width)²/2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveTerm {
    /// c = ln K − (r − q + σ²/2)T.
    pub center: f64,
    /// 1/(σ√T).
    pub inv_width: f64,
    /// M·0.01·e^(−qT)/(σ√T·√(2π)).
    pub scale: f64,
}

impl CurveTerm {
    /// The term of a contract with strike K, T in years, IV σ, rate r and yield q; `None`
    /// when the contract cannot carry gamma (σ ≤ 0, T ≤ 0, K ≤ 0, anything non-finite).
    pub fn new(
        strike: f64,
        years: f64,
        vol: f64,
        rate: f64,
        dividend_yield: f64,
    ) -> Option<CurveTerm> {
        Self::with_discount(
            strike,
            years,
            vol,
            rate,
            dividend_yield,
            (-dividend_yield * years).exp(),
        )
    }

    /// As [`CurveTerm::new`] with e^(−qT) already known (one exp per expiry, not per contract).
    pub fn with_discount(
        strike: f64,
        years: f64,
        vol: f64,
        rate: f64,
        dividend_yield: f64,
        discount: f64,
    ) -> Option<CurveTerm> {
        let valid = strike > 0.0
            && years > 0.0
            && vol > 0.0
            && strike.is_finite()
            && years.is_finite()
            && vol.is_finite()
            && rate.is_finite()
            && dividend_yield.is_finite();
        if !valid {
            return None;
        }
        let inv_width = 1.0 / (vol * years.sqrt());
        let center = strike.ln() - (rate - dividend_yield + 0.5 * vol * vol) * years;
        let scale = MULTIPLIER * ONE_PERCENT * discount * inv_width * INV_SQRT_2PI;
        (center.is_finite() && inv_width.is_finite() && scale.is_finite() && scale > 0.0).then_some(
            CurveTerm {
                center,
                inv_width,
                scale,
            },
        )
    }

    /// As [`CurveTerm::with_discount`] from ln K and √T already known (the profile computes
    /// √T and e^(−qT) once per series and ln K once per strike run).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn from_parts(
        ln_strike: f64,
        years: f64,
        sqrt_years: f64,
        vol: f64,
        rate: f64,
        dividend_yield: f64,
        discount: f64,
    ) -> Option<CurveTerm> {
        let inv_width = 1.0 / (vol * sqrt_years);
        let center = ln_strike - (rate - dividend_yield + 0.5 * vol * vol) * years;
        let scale = MULTIPLIER * ONE_PERCENT * discount * inv_width * INV_SQRT_2PI;
        let ok = vol > 0.0
            && years > 0.0
            && center.is_finite()
            && inv_width.is_finite()
            && scale.is_finite()
            && scale > 0.0;
        ok.then_some(CurveTerm {
            center,
            inv_width,
            scale,
        })
    }

    /// Dollar GEX per 1 % move of `signed_oi` contracts of this term at spot `x` whose
    /// natural log is `ln_x`: sign·Γ·OI·M·x²·0.01.
    #[inline]
    pub fn gex_at(&self, x: f64, ln_x: f64, signed_oi: f64) -> f64 {
        let d = (ln_x - self.center) * self.inv_width;
        let half_d2 = 0.5 * d * d;
        if half_d2 > EXP_LIMIT {
            return 0.0;
        }
        x * self.scale * signed_oi * fastexp::exp(-half_d2)
    }
}

/// The curve G(x) of a chain, ready to evaluate and sweep (terms in structure-of-arrays form).
#[derive(Clone, Debug, Default)]
pub struct GexCurve {
    centers: Vec<f64>,
    inv_widths: Vec<f64>,
    weights: Vec<f64>,
}

/// Builds a [`GexCurve`] one contract at a time, merging identical terms at the end.
#[derive(Clone, Debug, Default)]
pub struct GexCurveBuilder {
    terms: Vec<(CurveTerm, f64)>,
}

impl GexCurveBuilder {
    pub fn with_capacity(n: usize) -> Self {
        GexCurveBuilder {
            terms: Vec::with_capacity(n),
        }
    }

    /// Adds one contract: `signed_oi` is +OI for a call and −OI for a put, `years` its T,
    /// `vol` its IV, `rate`/`dividend_yield` r and q. Contracts that cannot carry gamma
    /// (σ ≤ 0, T ≤ 0, K ≤ 0, OI = 0, non-finite) are ignored.
    pub fn add(
        &mut self,
        strike: f64,
        years: f64,
        vol: f64,
        signed_oi: f64,
        rate: f64,
        dividend_yield: f64,
    ) {
        if signed_oi == 0.0 || !signed_oi.is_finite() {
            return;
        }
        if let Some(term) = CurveTerm::new(strike, years, vol, rate, dividend_yield) {
            self.terms.push((term, signed_oi));
        }
    }

    /// Merges terms with identical (center, width, scale), summing their signed open
    /// interest (whole numbers add exactly, so a call and a put of equal OI cancel to
    /// exactly zero and disappear).
    pub fn build(mut self) -> GexCurve {
        self.terms.sort_unstable_by(|(a, _), (b, _)| {
            a.center
                .total_cmp(&b.center)
                .then(a.inv_width.total_cmp(&b.inv_width))
                .then(a.scale.total_cmp(&b.scale))
        });
        let mut merged: Vec<(CurveTerm, f64)> = Vec::with_capacity(self.terms.len());
        for (term, oi) in self.terms {
            match merged.last_mut() {
                Some((last, sum)) if *last == term => *sum += oi,
                _ => merged.push((term, oi)),
            }
        }
        GexCurve::from_merged(merged)
    }
}

/// A sweep of G over a geometric grid. Reuse one across calls: its buffers (including the
/// scratch the blocked kernel accumulates into) are kept, so a sweep allocates nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sweep {
    /// Grid spots, ascending.
    pub spots: Vec<f64>,
    /// G at each grid spot, dollars per 1 % move.
    pub values: Vec<f64>,
    /// Per-point partial sums of the blocked kernel, one column per lane.
    lanes: Vec<[f64; BLOCK]>,
}

impl GexCurve {
    /// A curve from terms already merged by the caller (each with its net signed OI);
    /// zero or non-finite weights are dropped.
    pub fn from_merged(terms: impl IntoIterator<Item = (CurveTerm, f64)>) -> GexCurve {
        let terms = terms.into_iter();
        let mut curve = GexCurve {
            centers: Vec::with_capacity(terms.size_hint().0),
            inv_widths: Vec::with_capacity(terms.size_hint().0),
            weights: Vec::with_capacity(terms.size_hint().0),
        };
        for (term, signed_oi) in terms {
            let weight = term.scale * signed_oi;
            if weight != 0.0 && weight.is_finite() {
                curve.centers.push(term.center);
                curve.inv_widths.push(term.inv_width);
                curve.weights.push(weight);
            }
        }
        curve
    }

    /// Number of merged terms.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// G(x), exact (every term within ½d² ≤ 708, i.e. |d| ≤ 37.6), dollars per 1 % move;
    /// 0 for x ≤ 0. Eight independent partial sums, so the loop vectorises.
    pub fn value(&self, x: f64) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the running CPU supports AVX2, the only feature `value_avx2` enables;
            // it runs the same code as `value_portable`, compiled for wider vectors.
            return unsafe { self.value_avx2(x) };
        }
        self.value_portable(x)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn value_avx2(&self, x: f64) -> f64 {
        self.value_portable(x)
    }

    #[inline(always)]
    fn value_portable(&self, x: f64) -> f64 {
        if !(x > 0.0 && x.is_finite()) {
            return 0.0;
        }
        let ln_x = x.ln();
        let term = |c: f64, inv_a: f64, w: f64| {
            let d = (ln_x - c) * inv_a;
            let half_d2 = 0.5 * d * d;
            let e = w * fastexp::exp(-half_d2);
            if half_d2 <= EXP_LIMIT { e } else { 0.0 }
        };
        let (c_chunks, c_tail) = self.centers.as_chunks::<LANES>();
        let (a_chunks, a_tail) = self.inv_widths.as_chunks::<LANES>();
        let (w_chunks, w_tail) = self.weights.as_chunks::<LANES>();
        let mut lanes = [0.0; LANES];
        for ((c, a), w) in c_chunks.iter().zip(a_chunks).zip(w_chunks) {
            for k in 0..LANES {
                lanes[k] += term(c[k], a[k], w[k]);
            }
        }
        let mut sum: f64 = lanes.iter().sum();
        for ((&c, &a), &w) in c_tail.iter().zip(a_tail).zip(w_tail) {
            sum += term(c, a, w);
        }
        x * sum
    }

    /// G on `points` spots spaced uniformly in ln x from `low` to `high` inclusive, written
    /// into `out` (reused: no allocation once it has the capacity). `points` < 2 or a bad
    /// range gives an empty sweep.
    pub fn sweep_into(&self, low: f64, high: f64, points: usize, out: &mut Sweep) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the running CPU supports AVX2, the only feature `sweep_avx2` enables;
            // it runs the same code as `sweep_portable`, compiled for wider vectors (no
            // FMA contraction, so the results are identical).
            unsafe { self.sweep_avx2(low, high, points, out) };
            return;
        }
        self.sweep_portable(low, high, points, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sweep_avx2(&self, low: f64, high: f64, points: usize, out: &mut Sweep) {
        self.sweep_portable(low, high, points, out);
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
        out.lanes.resize(points, [0.0; BLOCK]);
        // Terms within |d| ≤ 37 over the whole grid go BLOCK at a time, one term per lane
        // (their setup vectorises too); the rest, narrow terms that matter over part of the
        // grid only, one at a time over their own window.
        let mut block = Block::default();
        let mut filled = 0;
        for ((&c, &inv_a), &w) in self.centers.iter().zip(&self.inv_widths).zip(&self.weights) {
            let d0 = (ln_low - c) * inv_a;
            let delta = step * inv_a;
            if d0 >= -BLOCK_D_MAX && d0 + span * delta <= BLOCK_D_MAX {
                block.d0[filled] = d0;
                block.delta[filled] = delta;
                block.weight[filled] = w;
                filled += 1;
                if filled == BLOCK {
                    accumulate_block(&mut out.lanes, &block);
                    filled = 0;
                }
            } else {
                accumulate_term(&mut out.values, d0, delta, w);
            }
        }
        if filled > 0 {
            for k in filled..BLOCK {
                block.d0[k] = 0.0;
                block.delta[k] = step;
                block.weight[k] = 0.0;
            }
            accumulate_block(&mut out.lanes, &block);
        }
        for (v, lanes) in out.values.iter_mut().zip(&out.lanes) {
            *v += lanes.iter().sum::<f64>();
        }
        out.spots
            .extend((0..points).map(|j| (ln_low + j as f64 * step).exp()));
        for (v, &x) in out.values.iter_mut().zip(&out.spots) {
            *v *= x;
        }
    }

    /// Every zero crossing of G over [0.8·spot, 1.2·spot], ascending: strict sign changes
    /// between successive non-zero points of a `points`-point sweep, each refined to 1e-10 relative by
    /// Brent's method on [`GexCurve::value`].
    pub fn crossings(&self, spot: f64, points: usize) -> Vec<f64> {
        let mut sweep = Sweep::default();
        self.sweep_into(SWEEP_LOW * spot, SWEEP_HIGH * spot, points, &mut sweep);
        self.crossings_in(&sweep)
    }

    /// The crossings located by an existing sweep, refined on the exact function.
    pub fn crossings_in(&self, sweep: &Sweep) -> Vec<f64> {
        // Exact zeros (no term within reach) carry no sign: a crossing is a change of strict
        // sign between two non-zero points, however many zeros lie between them.
        let mut roots = Vec::new();
        let mut previous: Option<usize> = None;
        for (j, &v) in sweep.values.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            if let Some(i) = previous
                && (sweep.values[i] > 0.0) != (v > 0.0)
            {
                let bracket = ((sweep.spots[i], sweep.values[i]), (sweep.spots[j], v));
                let root = brent(|x| self.value(x), bracket.0, bracket.1);
                if roots.last().is_none_or(|&last: &f64| root > last) {
                    roots.push(root);
                }
            }
            previous = Some(j);
        }
        roots
    }
}

/// Terms handled together, one per lane.
const BLOCK: usize = 16;
/// |d| within which a term may join a block: exp(−37²/2) ≈ 1e-297 is still a normal number,
/// so the recurrence started anywhere on the grid never underflows or overflows.
const BLOCK_D_MAX: f64 = 37.0;

/// Up to BLOCK terms: d at the first grid point, its step per point, the weight.
#[derive(Clone, Copy, Debug, Default)]
struct Block {
    d0: [f64; BLOCK],
    delta: [f64; BLOCK],
    weight: [f64; BLOCK],
}

/// Adds each lane's w·exp(−d_j²/2) into `lanes[j][lane]` for every grid point j, by the
/// recurrence φ_{j+1} = φ_j·r_j, r_j = exp(−d_jδ − δ²/2), r_{j+1} = r_j·exp(−δ²): two
/// multiplications per term and point, BLOCK independent lanes.
#[inline(always)]
fn accumulate_block(lanes: &mut [[f64; BLOCK]], block: &Block) {
    let mut phi = [0.0; BLOCK];
    let mut ratio = [0.0; BLOCK];
    let mut step = [0.0; BLOCK];
    for k in 0..BLOCK {
        let (d, delta) = (block.d0[k], block.delta[k]);
        phi[k] = block.weight[k] * fastexp::exp(-0.5 * d * d);
        ratio[k] = fastexp::exp(-d * delta - 0.5 * delta * delta);
        step[k] = fastexp::exp(-delta * delta);
    }
    for row in lanes.iter_mut() {
        for k in 0..BLOCK {
            row[k] += phi[k];
            phi[k] *= ratio[k];
            ratio[k] *= step[k];
        }
    }
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

/// Brent's method for a root of `f` in [a, b] given f(a) and f(b) of opposite signs (the
/// sweep's values, which agree with `f` to ~1e-12 relative), to 1e-10 relative in x.
/// Should the signs not differ, the endpoint with the smaller |f| is returned.
fn brent(f: impl Fn(f64) -> f64, (a, fa): (f64, f64), (b, fb): (f64, f64)) -> f64 {
    let (mut a, mut b, mut fa, mut fb) = (a, b, fa, fb);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    if (fa > 0.0) == (fb > 0.0) {
        return if fa.abs() <= fb.abs() { a } else { b };
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * ROOT_REL_TOL * b.abs();
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return b;
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gex::bs::gamma;

    /// The spec's two-contract toy: a put K=95 and a call K=105, σ = 0.2, T = 30/365.
    fn toy(put_oi: f64) -> GexCurve {
        let mut b = GexCurveBuilder::default();
        let t = 30.0 / 365.0;
        b.add(95.0, t, 0.2, -put_oi, 0.0, 0.0);
        b.add(105.0, t, 0.2, 1.0, 0.0, 0.0);
        b.build()
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn one_call_at_the_money_is_worth_the_spec_dollar_gex() {
        let mut b = GexCurveBuilder::default();
        b.add(100.0, 1.0, 0.2, 1.0, 0.0, 0.0);
        let curve = b.build();
        assert!(rel(curve.value(100.0), 198.476_273_739) < 1e-9);
    }

    #[test]
    fn the_spec_toy_flips_just_below_spot() {
        let curve = toy(1.0);
        assert!(rel(curve.value(100.0), 41.863_663) < 1e-7);
        let roots = curve.crossings(100.0, 201);
        assert_eq!(roots.len(), 1, "{roots:?}");
        assert!((roots[0] - 99.710_879).abs() < 1e-6, "{roots:?}");
    }

    #[test]
    fn doubling_the_puts_moves_the_flip_above_spot() {
        let curve = toy(2.0);
        assert!(rel(curve.value(100.0), -412.469_325) < 1e-7);
        let roots = curve.crossings(100.0, 201);
        assert_eq!(roots.len(), 1, "{roots:?}");
        assert!((roots[0] - 102.007_280).abs() < 1e-6, "{roots:?}");
    }

    #[test]
    fn the_curve_agrees_with_per_contract_gamma() {
        let contracts = [
            (95.0, 0.01, 0.3, -700.0),
            (100.0, 0.2, 0.18, 1200.0),
            (104.0, 0.05, 0.22, 300.0),
            (110.0, 1.5, 0.25, -50.0),
        ];
        let mut b = GexCurveBuilder::default();
        for &(k, t, v, oi) in &contracts {
            b.add(k, t, v, oi, 0.03, 0.01);
        }
        let curve = b.build();
        for x in [85.0, 97.3, 100.0, 104.0, 118.0] {
            let direct: f64 = contracts
                .iter()
                .map(|&(k, t, v, oi)| oi * gamma(x, k, v, t, 0.03, 0.01) * 100.0 * x * x * 0.01)
                .sum();
            assert!(rel(curve.value(x), direct) < 1e-12, "at {x}");
        }
    }

    #[test]
    fn the_recurrence_sweep_matches_direct_evaluation() {
        // Widths from 0DTE-narrow to a year, so windows, short loops and lanes all run.
        let mut b = GexCurveBuilder::default();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
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
        for (&x, &v) in sweep.spots.iter().zip(&sweep.values) {
            assert!(
                (v - curve.value(x)).abs() <= 1e-12 * scale,
                "at {x}: {v} vs {}",
                curve.value(x)
            );
        }
        assert!((sweep.spots[0] - 80.0).abs() < 1e-12 && (sweep.spots[256] - 120.0).abs() < 1e-12);
    }

    /// Σ|terms| at x: the scale against which rounding is judged.
    fn gross(curve: &GexCurve, x: f64) -> f64 {
        let ln_x = x.ln();
        x * curve
            .centers
            .iter()
            .zip(&curve.inv_widths)
            .zip(&curve.weights)
            .map(|((c, ia), w)| w.abs() * (-0.5 * ((ln_x - c) * ia).powi(2)).exp())
            .sum::<f64>()
    }

    #[test]
    fn a_call_and_a_put_with_the_same_strike_expiry_and_iv_merge() {
        let mut b = GexCurveBuilder::default();
        b.add(100.0, 0.1, 0.2, 500.0, 0.0, 0.0);
        b.add(100.0, 0.1, 0.2, -200.0, 0.0, 0.0);
        b.add(100.0, 0.1, 0.2, -300.0, 0.0, 0.0);
        b.add(101.0, 0.1, 0.2, 10.0, 0.0, 0.0);
        let curve = b.build();
        assert_eq!(curve.len(), 1, "the 100 strike nets to zero and disappears");
    }

    #[test]
    fn calls_only_never_cross_zero() {
        let mut b = GexCurveBuilder::default();
        b.add(100.0, 0.1, 0.2, 500.0, 0.0, 0.0);
        b.add(105.0, 0.1, 0.2, 500.0, 0.0, 0.0);
        assert!(b.build().crossings(100.0, 201).is_empty());
        assert!(GexCurve::default().crossings(100.0, 201).is_empty());
    }

    #[test]
    fn every_reported_crossing_is_a_root() {
        let mut b = GexCurveBuilder::default();
        // Alternating call and put clusters make several crossings.
        for (i, k) in [88.0, 94.0, 99.0, 103.0, 108.0, 113.0].iter().enumerate() {
            let sign = if i % 2 == 0 { -1.0 } else { 1.0 };
            b.add(*k, 0.02, 0.15, sign * 1000.0, 0.0, 0.0);
        }
        let curve = b.build();
        let roots = curve.crossings(100.0, 201);
        assert!(roots.len() >= 3, "{roots:?}");
        for &root in &roots {
            let (lo, hi) = (root * (1.0 - 1e-4), root * (1.0 + 1e-4));
            assert!(
                (curve.value(lo) >= 0.0) != (curve.value(hi) >= 0.0),
                "no sign change around {root}"
            );
        }
        assert!(roots.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bad_inputs_are_ignored_not_propagated() {
        let mut b = GexCurveBuilder::default();
        b.add(100.0, 0.0, 0.2, 1.0, 0.0, 0.0);
        b.add(100.0, 0.1, 0.0, 1.0, 0.0, 0.0);
        b.add(100.0, 0.1, 0.2, 0.0, 0.0, 0.0);
        b.add(f64::NAN, 0.1, 0.2, 1.0, 0.0, 0.0);
        b.add(100.0, 0.1, f64::INFINITY, 1.0, 0.0, 0.0);
        let curve = b.build();
        assert!(curve.is_empty());
        assert_eq!(curve.value(100.0), 0.0);
        assert_eq!(curve.value(f64::NAN), 0.0);
        let mut sweep = Sweep::default();
        curve.sweep_into(80.0, 120.0, 1, &mut sweep);
        assert!(sweep.values.is_empty());
    }
}
