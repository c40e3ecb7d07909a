//! The statistics of a group of backtested trades (SPEC 18), from their outcomes and R.
//!
//! - `triggered` = target_hit + stopped_out + time_exit; a win is a trade with R > 0.
//! - `win_rate` = wins / triggered, a fraction in [0, 1] (null when nothing triggered),
//!   with the Wilson score interval at z = 1.96.
//! - `avg_r` = total_r / triggered, with mean ± 1.96·s/√n, s the sample standard
//!   deviation (n − 1); the interval is null below 2 trades.
//! - profit factor = Σ positive R / |Σ negative R| (null without a losing trade).
//! - max drawdown = the largest fall of cumulative R from a running peak, in exit order,
//!   starting at 0 (a number ≥ 0).
//! - avg MFE / MAE: means over the triggered trades, in R (null when none).

use serde::Serialize;

use super::trade::TradeOutcome;

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.96;

/// What the statistics need of one trade.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeResult {
    pub outcome: TradeOutcome,
    /// Realised R; `Some` for triggered trades.
    pub r: Option<f64>,
    pub mfe_r: Option<f64>,
    pub mae_r: Option<f64>,
}

/// One group's statistics, with the field names of SPEC 18's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GroupStats {
    pub detections: u64,
    pub triggered: u64,
    pub target_hit: u64,
    pub stopped_out: u64,
    pub time_exit: u64,
    pub expired: u64,
    pub invalidated: u64,
    pub wins: u64,
    pub win_rate: Option<f64>,
    pub win_rate_ci95: Option<[f64; 2]>,
    pub avg_r: Option<f64>,
    pub avg_r_ci95: Option<[f64; 2]>,
    pub total_r: f64,
    pub profit_factor: Option<f64>,
    pub max_drawdown_r: f64,
    pub avg_mfe_r: Option<f64>,
    pub avg_mae_r: Option<f64>,
}

impl GroupStats {
    /// The statistics of `trades`, given in exit order (the drawdown depends on it; trades
    /// that never filled may be anywhere).
    pub fn of<'a>(trades: impl IntoIterator<Item = &'a TradeResult>) -> GroupStats {
        let mut s = GroupStats::default();
        let mut rs: Vec<f64> = Vec::new();
        let (mut mfe_sum, mut mfe_n, mut mae_sum, mut mae_n) = (0.0, 0u64, 0.0, 0u64);
        for t in trades {
            s.detections += 1;
            match t.outcome {
                TradeOutcome::Invalidated => s.invalidated += 1,
                TradeOutcome::Expired => s.expired += 1,
                TradeOutcome::TargetHit => s.target_hit += 1,
                TradeOutcome::StoppedOut => s.stopped_out += 1,
                TradeOutcome::TimeExit => s.time_exit += 1,
            }
            if !t.outcome.is_triggered() {
                continue;
            }
            let r = t.r.unwrap_or(0.0);
            rs.push(r);
            if let Some(m) = t.mfe_r {
                mfe_sum += m;
                mfe_n += 1;
            }
            if let Some(m) = t.mae_r {
                mae_sum += m;
                mae_n += 1;
            }
        }
        s.triggered = s.target_hit + s.stopped_out + s.time_exit;
        s.wins = rs.iter().filter(|r| **r > 0.0).count() as u64;
        s.total_r = rs.iter().sum::<f64>() + 0.0; // + 0.0: an empty sum is −0.0
        if s.triggered > 0 {
            s.win_rate = Some(s.wins as f64 / s.triggered as f64);
            s.win_rate_ci95 = Some(wilson_interval(s.wins, s.triggered, Z95));
            s.avg_r = Some(s.total_r / s.triggered as f64);
        }
        s.avg_r_ci95 = mean_interval(&rs, Z95);
        s.profit_factor = profit_factor(&rs);
        s.max_drawdown_r = max_drawdown(&rs);
        s.avg_mfe_r = (mfe_n > 0).then(|| mfe_sum / mfe_n as f64);
        s.avg_mae_r = (mae_n > 0).then(|| mae_sum / mae_n as f64);
        s
    }
}

/// The Wilson score interval of `wins` successes in `n` trials (n > 0) at `z`:
/// (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n), within [0, 1].
pub fn wilson_interval(wins: u64, n: u64, z: f64) -> [f64; 2] {
    let n = n as f64;
    let p = wins as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// mean ± z·s/√n with s the sample standard deviation (n − 1); `None` below 2 values.
pub fn mean_interval(values: &[f64], z: f64) -> Option<[f64; 2]> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = z * variance.sqrt() / n.sqrt();
    Some([mean - half, mean + half])
}

/// Σ positive R / |Σ negative R|; `None` without a losing trade.
pub fn profit_factor(rs: &[f64]) -> Option<f64> {
    let gains: f64 = rs.iter().filter(|r| **r > 0.0).sum::<f64>() + 0.0; // not −0.0
    let losses: f64 = rs.iter().filter(|r| **r < 0.0).sum();
    (losses < 0.0).then(|| gains / -losses)
}

/// The largest fall of cumulative R from its running peak, starting at 0; ≥ 0.
pub fn max_drawdown(rs: &[f64]) -> f64 {
    let (mut cumulative, mut peak, mut worst) = (0.0_f64, 0.0_f64, 0.0_f64);
    for r in rs {
        cumulative += r;
        peak = peak.max(cumulative);
        worst = worst.max(peak - cumulative);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }

    fn trade(outcome: TradeOutcome, r: Option<f64>, mfe: f64, mae: f64) -> TradeResult {
        TradeResult {
            outcome,
            r,
            mfe_r: r.map(|_| mfe),
            mae_r: r.map(|_| mae),
        }
    }

    /// In exit order: +2, −1, +0.5 (a time exit), −1; plus an expiry and an invalidation.
    fn sample() -> Vec<TradeResult> {
        vec![
            trade(TradeOutcome::TargetHit, Some(2.0), 2.5, 0.5),
            trade(TradeOutcome::Expired, None, 0.0, 0.0),
            trade(TradeOutcome::StoppedOut, Some(-1.0), 0.3, 1.0),
            trade(TradeOutcome::TimeExit, Some(0.5), 0.9, 0.2),
            trade(TradeOutcome::Invalidated, None, 0.0, 0.0),
            trade(TradeOutcome::StoppedOut, Some(-1.0), 0.1, 1.1),
        ]
    }

    #[test]
    fn counts_rates_and_r_of_a_group_match_the_hand_computation() {
        let s = GroupStats::of(&sample());
        assert_eq!(s.detections, 6);
        assert_eq!(
            (
                s.target_hit,
                s.stopped_out,
                s.time_exit,
                s.expired,
                s.invalidated
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(s.triggered, 4); // 1 + 2 + 1
        assert_eq!(s.wins, 2); // +2 and +0.5
        close(s.win_rate.unwrap(), 0.5); // 2 / 4
        // Wilson, n = 4, p̂ = 0.5, z² = 3.8416: denominator 1 + 3.8416/4 = 1.9604;
        // centre (0.5 + 3.8416/8) / 1.9604 = 0.9802 / 1.9604 = 0.5;
        // half 1.96 · √(0.25/4 + 3.8416/64) / 1.9604 = 1.96 · √0.122525 / 1.9604
        //      = 1.96 · 0.3500357 / 1.9604 = 0.3499643
        let [lo, hi] = s.win_rate_ci95.unwrap();
        close(lo, 0.5 - 0.3499643);
        close(hi, 0.5 + 0.3499643);
        close(s.total_r, 0.5); // 2 − 1 + 0.5 − 1
        close(s.avg_r.unwrap(), 0.125); // 0.5 / 4
        // deviations from 0.125: 1.875, −1.125, 0.375, −1.125; squares sum 3.515625 +
        // 1.265625 + 0.140625 + 1.265625 = 6.1875; s² = 6.1875 / 3 = 2.0625, s = 1.4361407;
        // half = 1.96 · 1.4361407 / √4 = 1.4074179
        let [lo, hi] = s.avg_r_ci95.unwrap();
        close(lo, 0.125 - 1.4074179);
        close(hi, 0.125 + 1.4074179);
        close(s.profit_factor.unwrap(), 1.25); // (2 + 0.5) / |−1 − 1|
        // cumulative R: 2, 1, 1.5, 0.5; peak 2; largest fall 2 − 0.5 = 1.5
        close(s.max_drawdown_r, 1.5);
        close(s.avg_mfe_r.unwrap(), (2.5 + 0.3 + 0.9 + 0.1) / 4.0); // 0.95
        close(s.avg_mae_r.unwrap(), (0.5 + 1.0 + 0.2 + 1.1) / 4.0); // 0.7
    }

    #[test]
    fn a_group_where_nothing_filled_has_null_rates_and_no_drawdown() {
        let s = GroupStats::of(&[
            trade(TradeOutcome::Expired, None, 0.0, 0.0),
            trade(TradeOutcome::Invalidated, None, 0.0, 0.0),
        ]);
        assert_eq!((s.detections, s.triggered, s.wins), (2, 0, 0));
        assert_eq!((s.win_rate, s.win_rate_ci95), (None, None));
        assert_eq!((s.avg_r, s.avg_r_ci95, s.profit_factor), (None, None, None));
        assert_eq!((s.total_r, s.max_drawdown_r), (0.0, 0.0));
        assert_eq!((s.avg_mfe_r, s.avg_mae_r), (None, None));
        assert_eq!(GroupStats::of(&[]), GroupStats::default());
    }

    #[test]
    fn one_trade_has_an_average_but_no_interval_and_no_losses_no_profit_factor() {
        let s = GroupStats::of(&[trade(TradeOutcome::TargetHit, Some(1.5), 1.7, 0.2)]);
        assert_eq!(s.avg_r, Some(1.5));
        assert_eq!(s.avg_r_ci95, None);
        assert_eq!(s.profit_factor, None);
        // Wilson, n = 1, p̂ = 1: denominator 4.8416; centre (1 + 1.9208) / 4.8416 = 0.6032716;
        // half 1.96 · √(0 + 3.8416/4) / 4.8416 = 1.96 · 0.98 / 4.8416 = 0.3967284
        let [lo, hi] = s.win_rate_ci95.unwrap();
        close(lo, 0.6032716 - 0.3967284); // 0.2065433
        close(hi, 1.0);
    }

    #[test]
    fn a_first_losing_trade_is_a_drawdown_from_zero_and_a_zero_r_trade_is_not_a_win() {
        // cumulative −1, −0.5, −1.5, 0.5: peak stays 0 until the end, deepest −1.5
        close(max_drawdown(&[-1.0, 0.5, -1.0, 2.0]), 1.5);
        assert_eq!(max_drawdown(&[0.5, 1.0]), 0.0);
        let s = GroupStats::of(&[
            trade(TradeOutcome::TimeExit, Some(0.0), 0.0, 0.0),
            trade(TradeOutcome::TimeExit, Some(-0.5), 0.0, 0.5),
        ]);
        assert_eq!(s.wins, 0);
        assert_eq!(s.win_rate, Some(0.0));
        close(s.profit_factor.unwrap(), 0.0); // 0 / 0.5
    }
}
