//! `coach backtest --calibrate --split D` (SPEC 18, issue 20 item 5), the shell around
//! `stats::calibrate`: stores the maps fitted before D as new versions and prints the
//! out-of-sample report (Brier scores and reliability tables) as a table or in the JSON.

use std::io::{self, Write};

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::domain::SetupKind;
use crate::stats::calibrate::{
    CalibrationReport, Evaluation, FittedMap, ReliabilityBin, Sample, calibrate,
};

/// A fitted map with the version it was stored as.
#[derive(Serialize)]
pub struct StoredMap {
    #[serde(flatten)]
    pub fitted: FittedMap,
    /// The version in the database (1, 2, ... per kind); the dashboard applies the newest.
    pub version: i64,
}

/// The `"calibration"` object of the JSON output.
#[derive(Serialize)]
pub struct CalibrationOutput {
    /// The first session judged; the maps were fitted on the sessions before it only.
    pub split: NaiveDate,
    /// Filled trades before the split a kind needs for a map (`--min-fit`).
    pub min_fit: usize,
    /// What the scores mean.
    pub convention: &'static str,
    pub maps: Vec<StoredMap>,
    /// Per kind, then all kinds (`"kind": null`), judged from the split on.
    pub evaluations: Vec<Evaluation>,
}

const CONVENTION: &str = "raw score s read as the win probability s/100; a win is a filled trade with R > 0; \
     Brier = mean (p − win)², lower is better; reliability bins are deciles of the predicted probability";

/// Fits and judges the maps, then stores every fitted map as the next version of its kind.
pub fn run(
    common: &CommonArgs,
    samples: &[Sample],
    split: NaiveDate,
    min_fit: usize,
) -> Result<CalibrationOutput, CliError> {
    let CalibrationReport {
        split,
        min_fit,
        maps,
        evaluations,
    } = calibrate(samples, split, min_fit);
    let maps = if maps.is_empty() {
        Vec::new()
    } else {
        with_store(common, |store, _user| async move {
            let now = Utc::now();
            let mut stored = Vec::with_capacity(maps.len());
            for fitted in maps {
                let version = store
                    .insert_calibration(&fitted, split, now)
                    .await
                    .map_err(|e| CliError::Runtime(e.to_string()))?;
                stored.push(StoredMap { fitted, version });
            }
            Ok(stored)
        })?
    };
    if evaluations
        .iter()
        .any(|e| e.kind.is_none() && e.eval_trades == 0)
    {
        eprintln!(
            "coach: note: no filled trade on or after --split {split}: nothing to judge the maps on \
             (their Brier scores are null)"
        );
    }
    Ok(CalibrationOutput {
        split,
        min_fit,
        convention: CONVENTION,
        maps,
        evaluations,
    })
}

fn kind_name(kind: Option<SetupKind>) -> &'static str {
    kind.map_or("all", |k| k.as_str())
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.digits$}"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{:.1}%", x * 100.0))
}

/// The calibration part of the table output.
pub fn write_table(out: &mut impl Write, c: &CalibrationOutput) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "calibration · fitted on the sessions before {}, judged from {} on (never in-sample)",
        c.split, c.split
    )?;
    writeln!(out, "{}", CONVENTION)?;
    if c.maps.is_empty() {
        writeln!(
            out,
            "no kind has {} filled trade(s) before {} (--min-fit): no map fitted, nothing stored, scores stay raw",
            c.min_fit, c.split
        )?;
    }
    for m in &c.maps {
        let f = &m.fitted;
        let points: Vec<String> = f
            .map
            .points
            .iter()
            .map(|p| format!("{:.0}→{:.0}", p.score, p.probability * 100.0))
            .collect();
        writeln!(
            out,
            "map {} v{} · fitted on {} filled trade(s), {} → {} · {}",
            f.kind,
            m.version,
            f.trades,
            f.fitted_from,
            f.fitted_to,
            points.join(" ")
        )?;
    }
    writeln!(
        out,
        "{:<13} {:>6} {:>6} {:>4} {:>10} {:>10}",
        "kind", "fit n", "eval n", "map", "Brier raw", "Brier cal"
    )?;
    for e in &c.evaluations {
        writeln!(
            out,
            "{:<13} {:>6} {:>6} {:>4} {:>10} {:>10}",
            kind_name(e.kind),
            e.fit_trades,
            e.eval_trades,
            if e.calibrated { "yes" } else { "no" },
            num(e.brier_raw, 4),
            num(e.brier_calibrated, 4),
        )?;
    }
    if let Some(all) = c.evaluations.iter().find(|e| e.kind.is_none()) {
        writeln!(
            out,
            "reliability, all kinds from {} on: predicted vs observed win rate by decile of the prediction",
            c.split
        )?;
        writeln!(
            out,
            "{:<7} {:>5} {:>9} {:>9}   {:>5} {:>9} {:>9}",
            "decile", "raw n", "predicted", "observed", "cal n", "predicted", "observed"
        )?;
        for (raw, cal) in all.reliability_raw.iter().zip(&all.reliability_calibrated) {
            write_bins(out, raw, cal)?;
        }
    }
    Ok(())
}

fn write_bins(out: &mut impl Write, raw: &ReliabilityBin, cal: &ReliabilityBin) -> io::Result<()> {
    writeln!(
        out,
        "{:<7} {:>5} {:>9} {:>9}   {:>5} {:>9} {:>9}",
        raw.bin,
        raw.n,
        percent(raw.predicted),
        percent(raw.observed),
        cal.n,
        percent(cal.predicted),
        percent(cal.observed),
    )
}
