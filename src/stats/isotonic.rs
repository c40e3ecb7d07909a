//! Isotonic regression by pool-adjacent-violators (PAV): the non-decreasing step function
//! closest, in weighted least squares, to points `(x, y)`. Used to calibrate confidence
//! scores (SPEC 18): x is the raw score, y is 1 for a win and 0 for a loss, so a block's
//! mean is the win rate of the scores it pools.
//!
//! Equal x are one block from the start (a function gives one value per x); then each
//! block that is below its left neighbour is merged with it, repeatedly, until the means
//! rise (ties allowed) from left to right.

/// A run of adjacent x values sharing one fitted value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Block {
    /// The smallest x pooled.
    pub lo: f64,
    /// The largest x pooled.
    pub hi: f64,
    /// The weighted mean of the pooled y: the fitted value over `lo..=hi`.
    pub mean: f64,
    /// The total weight pooled (the number of points for unit weights).
    pub weight: f64,
}

impl Block {
    fn merge(&mut self, right: Block) {
        let weight = self.weight + right.weight;
        self.mean = (self.mean * self.weight + right.mean * right.weight) / weight;
        self.hi = right.hi;
        self.weight = weight;
    }
}

/// The isotonic fit of `points` (x, y), each with weight 1, as blocks in ascending x with
/// non-decreasing means. Points with a non-finite x or y are ignored; no points, no blocks.
pub fn pool_adjacent_violators(points: &[(f64, f64)]) -> Vec<Block> {
    let mut sorted: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut blocks: Vec<Block> = Vec::new();
    for (x, y) in sorted {
        let point = Block {
            lo: x,
            hi: x,
            mean: y,
            weight: 1.0,
        };
        match blocks.last_mut() {
            Some(last) if last.hi == x => last.merge(point),
            _ => blocks.push(point),
        }
        // Pool backwards while the newest block falls below its left neighbour.
        while blocks.len() >= 2 && blocks[blocks.len() - 2].mean > blocks[blocks.len() - 1].mean {
            let right = blocks.pop().expect("two blocks");
            blocks.last_mut().expect("one block").merge(right);
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(points: &[(f64, f64)]) -> Vec<(f64, f64, f64, f64)> {
        pool_adjacent_violators(points)
            .iter()
            .map(|b| (b.lo, b.hi, b.mean, b.weight))
            .collect()
    }

    #[test]
    fn already_rising_points_are_kept_as_they_are() {
        assert_eq!(
            fit(&[(10.0, 0.0), (20.0, 0.5), (30.0, 1.0)]),
            vec![
                (10.0, 10.0, 0.0, 1.0),
                (20.0, 20.0, 0.5, 1.0),
                (30.0, 30.0, 1.0, 1.0)
            ]
        );
    }

    #[test]
    fn a_violation_is_pooled_into_the_mean_of_both() {
        // 1, 0 at x = 20, 30 fall: pooled to 0.5 over 20..30.
        assert_eq!(
            fit(&[(10.0, 0.0), (20.0, 1.0), (30.0, 0.0), (40.0, 1.0)]),
            vec![
                (10.0, 10.0, 0.0, 1.0),
                (20.0, 30.0, 0.5, 2.0),
                (40.0, 40.0, 1.0, 1.0)
            ]
        );
    }

    #[test]
    fn pooling_cascades_backwards_when_the_merged_block_still_falls() {
        // x 1..4 with y 1, 1, 0, 0 (given shuffled). x 1 and 2: blocks 1, 1 (a tie, no
        // violation); x 3 (0) pools with x 2 -> 0.5, below x 1's 1 -> pooled 2/3 over 1..3;
        // x 4 (0) falls below that -> pooled 2/4 = 0.5 over 1..4.
        assert_eq!(
            fit(&[(3.0, 0.0), (1.0, 1.0), (4.0, 0.0), (2.0, 1.0)]),
            vec![(1.0, 4.0, 0.5, 4.0)]
        );
    }

    #[test]
    fn equal_scores_are_one_block_before_any_pooling() {
        // x 50 has y 1, 0, 0 (mean 1/3); x 60 has y 1 -> already rising.
        assert_eq!(
            fit(&[(50.0, 1.0), (60.0, 1.0), (50.0, 0.0), (50.0, 0.0)]),
            vec![(50.0, 50.0, 1.0 / 3.0, 3.0), (60.0, 60.0, 1.0, 1.0)]
        );
        // equal means side by side are a tie, not a violation: both blocks stay
        assert_eq!(
            fit(&[(1.0, 0.5), (2.0, 0.5)]),
            vec![(1.0, 1.0, 0.5, 1.0), (2.0, 2.0, 0.5, 1.0)]
        );
    }

    #[test]
    fn the_fit_is_monotone_and_keeps_the_overall_mean() {
        // x 0..9 with y 1,0,1,1,0,0,1,0,1,1 (mean 0.6)
        let ys = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let points: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        let blocks = pool_adjacent_violators(&points);
        assert!(
            blocks
                .windows(2)
                .all(|w| w[0].mean <= w[1].mean && w[0].hi < w[1].lo)
        );
        let total: f64 = blocks.iter().map(|b| b.mean * b.weight).sum();
        assert!((total - 6.0).abs() < 1e-12);
        // by hand: [1,0] -> 0.5 over 0..1; [1,1,0,0] -> pools to 0.5 over 2..5, equal to
        // the left block: a tie, kept apart; [1,0] -> 0.5 over 6..7; [1], [1]
        let means: Vec<f64> = blocks.iter().map(|b| b.mean).collect();
        assert_eq!(means, vec![0.5, 0.5, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn nothing_in_nothing_out_and_nan_is_ignored() {
        assert!(pool_adjacent_violators(&[]).is_empty());
        assert_eq!(
            fit(&[(f64::NAN, 1.0), (5.0, f64::NAN), (5.0, 1.0)]),
            vec![(5.0, 5.0, 1.0, 1.0)]
        );
    }
}
