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
//! Three kernels share the terms, by how far each reaches over the grid:
//! - within |d| ≤ 12 everywhere (nearly every term of a real chain): 64 at a time in f32
//!   ([`sweep`]'s f32 kernel), positive and negative weights apart, with a rigorous error
//!   bound; wherever that bound could flip the sign of a point, the point is evaluated
//!   exactly, so every sign the sweep reports is the exact one;
//! - within |d| ≤ 37: 32 at a time in f64 (its f64 kernel; relative error ≈ j²·ε/2,
//!   2e-12 at 200 points);
//! - narrow terms (short-dated, far from the money): one at a time in f64 over the points
//!   where |d| ≤ 9 (beyond it exp(−d²/2) is below 3e-18 of the term's peak).
//!
//! Each sign change is refined on the exact function ([`GexCurve::value_and_derivatives`]):
//! Newton from inverse cubic interpolation of the sweep, corrected by Newton's own error as
//! G″ predicts it and accepted once that error is ten times inside the tolerance (usually
//! after one pass over the terms), with Brent's method as the fallback; roots to 1e-10
//! relative. A reused [`Sweep`] makes the sweep allocation-free. The loops are plain loops
//! over slices that the compiler vectorises, compiled for AVX-512 or AVX2 when the CPU has
//! them: one dispatch for all of them ([`simd`]), which `COACH_GEX_PORTABLE=1` turns to the
//! portable code.
//!
//! Accuracy: [`GexCurve::value`] uses [`fastexp::exp`] (within 2 ulp of `f64::exp`).

mod fastexp;
mod simd;
mod sweep;
pub(super) mod term_batch;

pub use sweep::Sweep;

use super::bs::INV_SQRT_2PI;
use fastexp::EXP_LIMIT;
use simd::widest_simd;

widest_simd!(
    fn curve_value(curve: &GexCurve, x: f64) -> f64 = GexCurve::value_portable(curve, x)
);
widest_simd!(
    fn curve_value_and_derivatives(curve: &GexCurve, x: f64) -> (f64, f64, f64) =
        GexCurve::value_and_derivatives_portable(curve, x)
);

/// Contract multiplier M (shares per contract).
pub const MULTIPLIER: f64 = 100.0;
/// Dollar GEX is per 1 % move of the underlying.
pub const ONE_PERCENT: f64 = 0.01;
/// Sweep bounds as fractions of spot.
pub const SWEEP_LOW: f64 = 0.8;
pub const SWEEP_HIGH: f64 = 1.2;

/// Independent partial sums of the evaluation loops, and grid points advanced per step of
/// the narrow terms' recurrence (independent lanes: vectorisable).
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
        let term = CurveTerm {
            center,
            inv_width,
            scale,
        };
        term.is_finite_and_positive().then_some(term)
    }

    /// Finite center, width and scale, and a positive scale: the term can carry gamma.
    #[inline(always)]
    pub(crate) fn is_finite_and_positive(&self) -> bool {
        self.center.is_finite()
            & self.inv_width.is_finite()
            & self.scale.is_finite()
            & (self.scale > 0.0)
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

impl GexCurve {
    /// A curve from terms already merged by the caller (each with its net signed OI);
    /// zero or non-finite weights are dropped.
    pub fn from_merged(terms: impl IntoIterator<Item = (CurveTerm, f64)>) -> GexCurve {
        let terms = terms.into_iter();
        let mut curve = GexCurve::with_capacity(terms.size_hint().0);
        for (term, signed_oi) in terms {
            curve.push(term.center, term.inv_width, term.scale * signed_oi);
        }
        curve
    }

    pub fn with_capacity(n: usize) -> GexCurve {
        GexCurve {
            centers: Vec::with_capacity(n),
            inv_widths: Vec::with_capacity(n),
            weights: Vec::with_capacity(n),
        }
    }

    /// Adds the term x·weight·exp(−((ln x − center)·inv_width)²/2); a zero or non-finite
    /// weight (a call and a put of equal OI, say) adds nothing.
    pub fn push(&mut self, center: f64, inv_width: f64, weight: f64) {
        if weight != 0.0 && weight.is_finite() {
            self.centers.push(center);
            self.inv_widths.push(inv_width);
            self.weights.push(weight);
        }
    }

    /// Adds the terms of three equal-length columns, as [`GexCurve::push`] one by one
    /// would, without a branch per term: all are appended, then those of zero or non-finite
    /// weight (a call and a put of equal OI, a refused term) squeezed out.
    pub(crate) fn extend(&mut self, centers: &[f64], inv_widths: &[f64], weights: &[f64]) {
        let start = self.len();
        self.centers.extend_from_slice(centers);
        self.inv_widths.extend_from_slice(inv_widths);
        self.weights.extend_from_slice(weights);
        let mut kept = start;
        for i in start..self.weights.len() {
            let weight = self.weights[i];
            self.centers[kept] = self.centers[i];
            self.inv_widths[kept] = self.inv_widths[i];
            self.weights[kept] = weight;
            kept += usize::from((weight != 0.0) & weight.is_finite());
        }
        self.centers.truncate(kept);
        self.inv_widths.truncate(kept);
        self.weights.truncate(kept);
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
        curve_value(self, x)
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

    /// G(x) and its first two derivatives in one pass over the terms (as exact as
    /// [`GexCurve::value`]). With φ = w·exp(−d²/2), S₁ = Σφ·d/a and S₂ = Σφ·(d² − 1)/a²:
    /// G = x·Σφ, G′ = Σφ − S₁ and G″ = (S₂ − S₁)/x.
    pub fn value_and_derivatives(&self, x: f64) -> (f64, f64, f64) {
        curve_value_and_derivatives(self, x)
    }

    #[inline(always)]
    fn value_and_derivatives_portable(&self, x: f64) -> (f64, f64, f64) {
        if !(x > 0.0 && x.is_finite()) {
            return (0.0, 0.0, 0.0);
        }
        let ln_x = x.ln();
        // φ, φ·d/a and φ·(d² − 1)/a² of one term.
        let term = |c: f64, inv_a: f64, w: f64| {
            let d = (ln_x - c) * inv_a;
            let half_d2 = 0.5 * d * d;
            let phi = w * fastexp::exp(-half_d2);
            let phi = if half_d2 <= EXP_LIMIT { phi } else { 0.0 };
            let first = phi * d * inv_a;
            (phi, first, (first * d - phi * inv_a) * inv_a)
        };
        let (c_chunks, c_tail) = self.centers.as_chunks::<LANES>();
        let (a_chunks, a_tail) = self.inv_widths.as_chunks::<LANES>();
        let (w_chunks, w_tail) = self.weights.as_chunks::<LANES>();
        let mut lanes = [[0.0; LANES]; 3];
        for ((c, a), w) in c_chunks.iter().zip(a_chunks).zip(w_chunks) {
            for k in 0..LANES {
                let (phi, first, second) = term(c[k], a[k], w[k]);
                lanes[0][k] += phi;
                lanes[1][k] += first;
                lanes[2][k] += second;
            }
        }
        let [mut sum, mut s1, mut s2] = lanes.map(|l| l.iter().sum::<f64>());
        for ((&c, &a), &w) in c_tail.iter().zip(a_tail).zip(w_tail) {
            let (phi, first, second) = term(c, a, w);
            sum += phi;
            s1 += first;
            s2 += second;
        }
        (x * sum, sum - s1, (s2 - s1) / x)
    }

    /// Every zero crossing of G over [0.8·spot, 1.2·spot], ascending: strict sign changes
    /// between successive non-zero points of a `points`-point sweep, each refined on the
    /// exact function to 1e-10 relative.
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
                let root = self.refine(sweep, i, j);
                if roots.last().is_none_or(|&last: &f64| root > last) {
                    roots.push(root);
                }
            }
            previous = Some(j);
        }
        roots
    }
}

impl GexCurve {
    /// The root of G between sweep points `i` < `j` (values of opposite sign). Newton's
    /// method on the exact G and dG/dx, started from inverse cubic interpolation of the four
    /// sweep points around the bracket, usually needs one pass over the terms: a Newton step
    /// of at most 1e-7·x from a smooth start leaves an error far below 1e-10·x. Should
    /// Newton leave the bracket or not settle within three steps, Brent's method on the
    /// bracket decides, to 1e-10 relative.
    fn refine(&self, sweep: &Sweep, i: usize, j: usize) -> f64 {
        let (a, b) = (sweep.spots[i], sweep.spots[j]);
        let (fa, fb) = (sweep.values[i], sweep.values[j]);
        let mut x = start_estimate(sweep, i, j);
        for _ in 0..3 {
            let (g, slope, curvature) = self.value_and_derivatives(x);
            if g == 0.0 {
                return x;
            }
            // Newton's step, and its error to leading order: step²·G″/(2G′).
            let step = g / slope;
            let newton_error = step * step * curvature / (2.0 * slope);
            let next = x - step - newton_error;
            if !(next > a && next < b) {
                break;
            }
            if step.abs() <= NEWTON_LOCAL * x && newton_error.abs() <= NEWTON_SETTLED * next {
                return next;
            }
            x = next;
        }
        brent(|x| self.value(x), (a, fa), (b, fb))
    }
}

/// A step is accepted when Newton's predicted error, relative to x, is within this, ten
/// times inside the 1e-10 tolerance; the step corrects that error too, so what remains is
/// of the next order.
const NEWTON_SETTLED: f64 = 1e-11;
/// ... and when the step itself is at most this fraction of x: the prediction takes G″ at
/// the iterate instead of between it and the root, and over 1e-5 of x (0.07 points of SPX)
/// G″ hardly changes, even for contracts minutes from expiry (whose Gaussian in x is a few
/// points wide).
const NEWTON_LOCAL: f64 = 1e-5;

/// The zero of the cubic through the sweep points i−1, i, j, j+1 taken as x(G) (inverse
/// interpolation), when those values are strictly monotone; else the secant point of i and j.
fn start_estimate(sweep: &Sweep, i: usize, j: usize) -> f64 {
    let (xs, gs) = (&sweep.spots, &sweep.values);
    let secant = xs[i] - gs[i] * (xs[j] - xs[i]) / (gs[j] - gs[i]);
    if j != i + 1 || i == 0 || j + 1 >= xs.len() {
        return secant;
    }
    let pts = [i - 1, i, j, j + 1];
    let rising = pts.windows(2).all(|w| gs[w[1]] > gs[w[0]]);
    let falling = pts.windows(2).all(|w| gs[w[1]] < gs[w[0]]);
    if !(rising || falling) {
        return secant;
    }
    let mut x = 0.0;
    for &k in &pts {
        let mut weight = xs[k];
        for &m in &pts {
            if m != k {
                weight *= (0.0 - gs[m]) / (gs[k] - gs[m]);
            }
        }
        x += weight;
    }
    if x > xs[i] && x < xs[j] { x } else { secant }
}

/// Brent's method for a root of `f` in [a, b] given f(a) and f(b) of opposite signs (the
/// sweep's values: their signs are exact, their sizes within the sweep's error bound), to
/// 1e-10 relative in x.
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

    /// A reproducible uniform [0, 1) sequence (a 64-bit LCG's top 53 bits).
    pub(super) fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Σ|terms| at x: the scale against which rounding is judged.
    pub(super) fn gross(curve: &GexCurve, x: f64) -> f64 {
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
    fn extending_by_columns_keeps_what_pushing_one_by_one_keeps() {
        let centers = [4.6, 4.7, 4.8, 4.9, 5.0];
        let inv_widths = [10.0, 11.0, 12.0, 13.0, 14.0];
        let weights = [2.0, 0.0, f64::NAN, -3.0, f64::INFINITY];
        let (mut extended, mut pushed) = (GexCurve::default(), GexCurve::default());
        for _ in 0..2 {
            extended.extend(&centers, &inv_widths, &weights);
            extended.extend(&centers[..1], &inv_widths[..1], &[7.0]);
            for i in 0..centers.len() {
                pushed.push(centers[i], inv_widths[i], weights[i]);
            }
            pushed.push(centers[0], inv_widths[0], 7.0);
        }
        assert_eq!(
            extended.len(),
            6,
            "a zero, a NaN and an infinite weight dropped twice"
        );
        assert_eq!(extended.centers, pushed.centers);
        assert_eq!(extended.inv_widths, pushed.inv_widths);
        assert_eq!(extended.weights, pushed.weights);
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
    fn the_curve_s_slope_and_curvature_match_its_finite_differences() {
        let mut b = GexCurveBuilder::default();
        b.add(100.0, 0.002, 0.2, 500.0, 0.0, 0.0);
        b.add(95.0, 0.1, 0.3, -800.0, 0.01, 0.0);
        b.add(108.0, 0.5, 0.25, 300.0, 0.01, 0.0);
        let curve = b.build();
        for x in [90.0, 97.5, 100.3, 104.0, 111.0] {
            let (g, slope, curvature) = curve.value_and_derivatives(x);
            // Central differences, whose error is h²/6 of G‴ (h²/12 of G⁗).
            let h = 1e-4;
            let (below, above) = (curve.value(x - h), curve.value(x + h));
            assert!(rel(g, curve.value(x)) <= 1e-14, "{x}");
            let first = (above - below) / (2.0 * h);
            assert!(rel(slope, first) <= 1e-7, "{x}: slope {slope} vs {first}");
            let h = 1e-3;
            let (below, above) = (curve.value(x - h), curve.value(x + h));
            let second = (above - 2.0 * g + below) / (h * h);
            assert!(
                rel(curvature, second) <= 1e-5,
                "{x}: curvature {curvature} vs {second}"
            );
        }
    }

    #[test]
    fn newton_refined_flips_agree_with_brent_to_1e_10() {
        // Chains from 0DTE-narrow to a year wide, calls above and puts below 100, so G
        // crosses near spot; each root must match Brent's on the sweep's own bracket.
        let mut next = uniform(11);
        let mut checked = 0;
        for _ in 0..40 {
            let mut b = GexCurveBuilder::default();
            for _ in 0..300 {
                let k = 85.0 + 30.0 * next();
                let t = 10f64.powf(-3.0 + 3.0 * next());
                let oi = 100.0 + 1000.0 * next();
                let sign = if k > 97.0 + 6.0 * next() { 1.0 } else { -1.0 };
                b.add(k, t, 0.1 + 0.4 * next(), sign * oi, 0.0, 0.0);
            }
            let curve = b.build();
            let mut sweep = Sweep::default();
            curve.sweep_into(80.0, 120.0, 201, &mut sweep);
            for root in curve.crossings_in(&sweep) {
                let j = sweep.spots.partition_point(|&x| x < root);
                let (i, j) = (j - 1, j);
                let by_brent = brent(
                    |x| curve.value(x),
                    (sweep.spots[i], curve.value(sweep.spots[i])),
                    (sweep.spots[j], curve.value(sweep.spots[j])),
                );
                assert!(rel(root, by_brent) <= 1e-10, "{root} vs Brent {by_brent}");
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} crossings exercised");
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
