//! Calibrated confidence (SPEC 18, issue 20 item 5): per setup kind, a monotone map from
//! the raw confidence score (0..=100) to the probability that a filled trade wins (R > 0),
//! fitted by isotonic regression on sessions before a split date and judged on the
//! sessions from it on — never in-sample.
//!
//! - [`CalibrationMap`]: the fitted points and how a raw score is read through them.
//! - [`brier`]: the mean squared error of probabilities against outcomes (lower is better;
//!   0.25 is what always saying 50 % scores on any outcomes).
//! - [`reliability`]: predicted against observed, by decile of the prediction, with n.
//! - [`calibrate`]: the whole out-of-sample report from fitting and evaluation samples.
//! - [`Calibrations`]: the lookup the screens use (kind → map), raw score when no map.
//!
//! Conventions: a raw score `s` read as a probability is `s / 100`; probabilities are
//! fractions in [0, 1]; a calibrated score for display is the probability × 100, rounded.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::isotonic::pool_adjacent_violators;
use crate::domain::SetupKind;

/// One point of a map: raw score → win probability.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// Raw confidence score, 0..=100.
    pub score: f64,
    /// Probability of a win given a fill, 0..=1.
    pub probability: f64,
}

/// A monotone map from raw score to win probability: the isotonic fit's blocks as points
/// (each block's first and last score at its mean), read by linear interpolation between
/// points and held flat beyond the first and last. Non-decreasing by construction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationMap {
    /// Ascending in score, non-decreasing in probability; never empty.
    pub points: Vec<MapPoint>,
}

impl CalibrationMap {
    /// The isotonic fit of `(raw score, won)` samples; `None` without samples.
    pub fn fit(samples: &[(u8, bool)]) -> Option<CalibrationMap> {
        let points: Vec<(f64, f64)> = samples
            .iter()
            .map(|&(s, won)| (f64::from(s), if won { 1.0 } else { 0.0 }))
            .collect();
        let mut out = Vec::new();
        for b in pool_adjacent_violators(&points) {
            out.push(MapPoint {
                score: b.lo,
                probability: b.mean,
            });
            if b.hi > b.lo {
                out.push(MapPoint {
                    score: b.hi,
                    probability: b.mean,
                });
            }
        }
        CalibrationMap::from_points(out).ok()
    }

    /// A map from stored points, checked: not empty, scores finite and strictly
    /// ascending, probabilities in [0, 1] and non-decreasing. The error says what is wrong.
    pub fn from_points(points: Vec<MapPoint>) -> Result<CalibrationMap, String> {
        if points.is_empty() {
            return Err("a calibration map needs at least one point".into());
        }
        for (i, p) in points.iter().enumerate() {
            if !p.score.is_finite() || !(0.0..=1.0).contains(&p.probability) {
                return Err(format!(
                    "point {i} (score {}, probability {}) is out of range",
                    p.score, p.probability
                ));
            }
        }
        if let Some(i) = points
            .windows(2)
            .position(|w| w[0].score >= w[1].score || w[0].probability > w[1].probability)
        {
            return Err(format!(
                "points {i} and {} are not ascending in score with non-decreasing probability",
                i + 1
            ));
        }
        Ok(CalibrationMap { points })
    }

    /// The win probability of a raw score (see the type's rule).
    pub fn probability(&self, raw: f64) -> f64 {
        let p = &self.points;
        let first = p[0];
        let last = p[p.len() - 1];
        if raw.is_nan() || raw <= first.score {
            return first.probability;
        }
        if raw >= last.score {
            return last.probability;
        }
        let i = p.partition_point(|q| q.score <= raw); // 1..len-1
        let (a, b) = (p[i - 1], p[i]);
        a.probability + (b.probability - a.probability) * (raw - a.score) / (b.score - a.score)
    }

    /// The calibrated score shown in place of the raw one: probability × 100, rounded.
    pub fn score(&self, raw: u8) -> u8 {
        (self.probability(f64::from(raw)) * 100.0)
            .round()
            .clamp(0.0, 100.0) as u8
    }
}

/// The Brier score of `(probability, won)` pairs: the mean of (p − outcome)², outcome 1
/// for a win and 0 otherwise. `None` without pairs.
pub fn brier(pairs: &[(f64, bool)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let sum: f64 = pairs
        .iter()
        .map(|&(p, won)| (p - if won { 1.0 } else { 0.0 }).powi(2))
        .sum();
    Some(sum / pairs.len() as f64)
}

/// One decile of predicted probability: what was predicted and what happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// The decile of the prediction in percent, "60-70" (the last, "90-100", holds 100 %).
    pub bin: String,
    /// Trades whose prediction falls in the bin.
    pub n: u64,
    /// Their mean predicted probability; `null` when n is 0.
    pub predicted: Option<f64>,
    /// Their observed win rate (wins / n); `null` when n is 0.
    pub observed: Option<f64>,
}

/// The reliability table of `(probability, won)` pairs: ten bins [0, 0.1), [0.1, 0.2), …,
/// [0.9, 1.0], always all ten.
pub fn reliability(pairs: &[(f64, bool)]) -> Vec<ReliabilityBin> {
    let mut sums = [(0u64, 0.0f64, 0u64); 10];
    for &(p, won) in pairs {
        if !p.is_finite() {
            continue;
        }
        let i = ((p * 10.0).floor().max(0.0) as usize).min(9);
        sums[i].0 += 1;
        sums[i].1 += p;
        sums[i].2 += u64::from(won);
    }
    sums.iter()
        .enumerate()
        .map(|(i, &(n, p_sum, wins))| ReliabilityBin {
            bin: format!("{}-{}", i * 10, i * 10 + 10),
            n,
            predicted: (n > 0).then(|| p_sum / n as f64),
            observed: (n > 0).then(|| wins as f64 / n as f64),
        })
        .collect()
}

/// A filled trade as calibration sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub kind: SetupKind,
    /// The detection's raw confidence, 0..=100.
    pub score: u8,
    /// R > 0.
    pub won: bool,
    /// The session the trade belongs to (New York date).
    pub market_date: NaiveDate,
}

/// A map fitted for one kind, with what it was fitted on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FittedMap {
    pub kind: SetupKind,
    pub map: CalibrationMap,
    /// First and last session of the fitting trades (New York dates).
    pub fitted_from: NaiveDate,
    pub fitted_to: NaiveDate,
    /// Filled trades fitted on.
    pub trades: u64,
}

/// How raw and calibrated scores did on the evaluation trades of one kind (or all kinds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// The kind; `null` for all kinds together.
    pub kind: Option<SetupKind>,
    /// Filled trades this kind was fitted on (before the split).
    pub fit_trades: u64,
    /// Filled trades it is judged on (from the split on).
    pub eval_trades: u64,
    /// Whether a map was fitted (without one, the calibrated score is the raw score).
    pub calibrated: bool,
    pub brier_raw: Option<f64>,
    pub brier_calibrated: Option<f64>,
    pub reliability_raw: Vec<ReliabilityBin>,
    pub reliability_calibrated: Vec<ReliabilityBin>,
}

/// The out-of-sample report: the maps fitted before the split and how they did after it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// The first session judged; every fitting session is before it.
    pub split: NaiveDate,
    /// Fitting trades a kind needs for a map.
    pub min_fit: usize,
    pub maps: Vec<FittedMap>,
    /// One row per kind with a fitting or an evaluation trade, then all kinds (`kind`
    /// null).
    pub evaluations: Vec<Evaluation>,
}

/// Fits a map per kind on the samples before `split` and judges raw and calibrated
/// scores on the samples from `split` on. A kind with fewer than `min_fit` fitting samples
/// (at least 1) gets no map and keeps its raw score (its rows say `"calibrated": false`):
/// a map fitted on a handful of trades says 0 % or 100 %.
pub fn calibrate(samples: &[Sample], split: NaiveDate, min_fit: usize) -> CalibrationReport {
    let mut by_kind: BTreeMap<SetupKind, (Vec<&Sample>, Vec<&Sample>)> = BTreeMap::new();
    for s in samples {
        let (fit, eval) = by_kind.entry(s.kind).or_default();
        if s.market_date < split {
            fit.push(s);
        } else {
            eval.push(s);
        }
    }
    let mut maps = Vec::new();
    let mut evaluations = Vec::new();
    let (mut all_raw, mut all_cal) = (Vec::new(), Vec::new());
    let mut all_fit = 0u64;
    for (kind, (fit, eval)) in &by_kind {
        let pairs: Vec<(u8, bool)> = fit.iter().map(|s| (s.score, s.won)).collect();
        let map = if pairs.len() >= min_fit.max(1) {
            CalibrationMap::fit(&pairs)
        } else {
            None
        };
        if let Some(map) = &map {
            maps.push(FittedMap {
                kind: *kind,
                map: map.clone(),
                fitted_from: fit.iter().map(|s| s.market_date).min().unwrap_or(split),
                fitted_to: fit.iter().map(|s| s.market_date).max().unwrap_or(split),
                trades: fit.len() as u64,
            });
        }
        let raw: Vec<(f64, bool)> = eval
            .iter()
            .map(|s| (f64::from(s.score) / 100.0, s.won))
            .collect();
        let cal: Vec<(f64, bool)> = eval
            .iter()
            .map(|s| {
                let p = map.as_ref().map_or(f64::from(s.score) / 100.0, |m| {
                    m.probability(f64::from(s.score))
                });
                (p, s.won)
            })
            .collect();
        evaluations.push(evaluation(
            Some(*kind),
            fit.len() as u64,
            map.is_some(),
            &raw,
            &cal,
        ));
        all_fit += fit.len() as u64;
        all_raw.extend(raw);
        all_cal.extend(cal);
    }
    evaluations.push(evaluation(
        None,
        all_fit,
        !maps.is_empty(),
        &all_raw,
        &all_cal,
    ));
    CalibrationReport {
        split,
        min_fit,
        maps,
        evaluations,
    }
}

fn evaluation(
    kind: Option<SetupKind>,
    fit_trades: u64,
    calibrated: bool,
    raw: &[(f64, bool)],
    cal: &[(f64, bool)],
) -> Evaluation {
    Evaluation {
        kind,
        fit_trades,
        eval_trades: raw.len() as u64,
        calibrated,
        brier_raw: brier(raw),
        brier_calibrated: brier(cal),
        reliability_raw: reliability(raw),
        reliability_calibrated: reliability(cal),
    }
}

/// The maps the screens apply, by kind: the calibrated score when a kind has one, the raw
/// score otherwise (so with no map nothing changes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calibrations {
    maps: HashMap<SetupKind, CalibrationMap>,
}

impl Calibrations {
    pub fn new(maps: impl IntoIterator<Item = (SetupKind, CalibrationMap)>) -> Self {
        Calibrations {
            maps: maps.into_iter().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// Whether `kind` has a map.
    pub fn covers(&self, kind: SetupKind) -> bool {
        self.maps.contains_key(&kind)
    }

    /// The score to show for a detection of `kind` with raw confidence `raw`.
    pub fn score(&self, kind: SetupKind, raw: u8) -> u8 {
        self.maps.get(&kind).map_or(raw, |m| m.score(raw))
    }
}

#[cfg(test)]
mod tests;
