//! The distribution of realised R over a group's filled trades (SPEC 18, the Stats pane's
//! histogram), in fixed bins so two groups read the same way.
//!
//! Bins are half an R wide, left-closed: below −1.5 R, then [−1.5, −1), [−1, −0.5), …,
//! [2.5, 3), and 3 R and above. A stop-out at exactly −1 R falls in [−1, −0.5); one that
//! gapped or slipped beyond its stop falls in [−1.5, −1) or below.

use serde::Serialize;

/// The inner bin edges, in R; the first and last bins are open-ended.
pub const EDGES: [f64; 10] = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
/// How many bins: one more than the edges.
pub const BINS: usize = EDGES.len() + 1;

/// Trade counts per R bin (see the module's bins).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RHistogram {
    pub counts: [u64; BINS],
}

impl RHistogram {
    /// The histogram of `rs` (NaN and infinite values are left out: not a result).
    pub fn of(rs: impl IntoIterator<Item = f64>) -> RHistogram {
        let mut h = RHistogram::default();
        for r in rs {
            h.add(r);
        }
        h
    }

    pub fn add(&mut self, r: f64) {
        if r.is_finite() {
            self.counts[bin_of(r)] += 1;
        }
    }

    /// Trades counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The largest bin's count (0 when empty).
    pub fn peak(&self) -> u64 {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// A bin's label: its lower edge ("-1", "+0.5"), "<-1.5" for the first bin and
    /// "≥+3" for the last.
    pub fn label(bin: usize) -> String {
        let signed = |v: f64| {
            if v == 0.0 {
                "0".to_string()
            } else {
                format!("{v:+}")
            }
        };
        match bin {
            0 => format!("<{}", signed(EDGES[0])),
            b if b >= EDGES.len() => format!("≥{}", signed(EDGES[EDGES.len() - 1])),
            b => signed(EDGES[b - 1]),
        }
    }
}

/// The bin of a finite R: the number of edges at or below it.
fn bin_of(r: f64) -> usize {
    EDGES.iter().filter(|e| r >= **e).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_half_an_r_wide_left_closed_with_open_ends() {
        let h = RHistogram::of([-3.0, -1.5, -1.0, -0.99, 0.0, 0.49, 1.5, 2.99, 3.0, 12.0]);
        //                       <-1.5  -1.5  -1   -1     0    0     +1.5  +2.5  ≥3   ≥3
        assert_eq!(h.counts, [1, 1, 2, 0, 2, 0, 0, 1, 0, 1, 2]);
        assert_eq!((h.total(), h.peak()), (10, 2));
    }

    #[test]
    fn non_numbers_are_not_counted() {
        let h = RHistogram::of([f64::NAN, f64::INFINITY, 0.25]);
        assert_eq!(h.total(), 1);
    }

    #[test]
    fn labels_name_each_bins_lower_edge() {
        let labels: Vec<String> = (0..BINS).map(RHistogram::label).collect();
        assert_eq!(
            labels,
            [
                "<-1.5", "-1.5", "-1", "-0.5", "0", "+0.5", "+1", "+1.5", "+2", "+2.5", "≥+3"
            ]
        );
    }
}
