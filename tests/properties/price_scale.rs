//! Price-level invariance (SPEC 4, issue 20 item 6): detector thresholds scale with the
//! instrument's volatility and price, never with cents. The shared SPY week, replayed with
//! every price (minute and daily bars) multiplied by 0.2 and by 10 and volumes unchanged,
//! gives the same detections: same kind, direction and bar, and entry/stop/target scaled
//! by the same factor.
//!
//! Two things cannot scale, by design, and the comparison allows exactly them:
//! - **The tick.** Entries sit one tick ($0.01) beyond the signal bar and every level is
//!   rounded to the tick, so each price may differ from factor × original by the
//!   one-tick trigger offset and one tick of rounding at each of the two scales: 3 u,
//!   where u is the larger of the two scales' ticks (0.01 at ×0.2, 0.10 at ×10 where SPY
//!   trades near 1 690). The target, 1.5 R from the entry, carries the entry's 3 u, 1.5 ×
//!   the risk's 6 u and its own rounding: 13 u. A relative 1e-9 is used where looser.
//! - **Round numbers under ×0.2.** Round-number levels are multiples of a 1 / 2.5 / 5 × 10ᵏ
//!   step near 0.5 % of price (`market::levels::round_number_step`). ×10 maps that set
//!   onto itself (SPY 169 → step 1.00, SPY 1 690 → step 10), so ×10 must match exactly.
//!   ×0.2 maps step 1.00 to 0.20, which is not a round number a trader watches: SPY at 34
//!   watches 33.75 / 34.00 (step 0.25), not 33.80 / 34.00. So at ×0.2, detections at a
//!   round-number level (dedup key "round …") may appear or vanish.
//!
//! And one consequence of the tick: a plan whose reward/risk clears the 1.5 minimum by
//! less than the tick budget can pass at one scale and fail at the other (SPY ×0.2 is a
//! $34 instrument whose cent is five times coarser against its ATR). Such detections may
//! appear or vanish too. Each test lists the differences it allowed, with the reason, and
//! asserts every other detection equal.

use std::collections::BTreeMap;
use std::path::Path;

use coach::detect::{DetectorsConfig, Engine};
use coach::domain::{Bar, DailyBar, Detection, Direction, SetupKind, Symbol};
use coach::provider::replay::{read_daily_file, read_minute_file};

const DIR: &str = "../shared/data/bars/lean_spy_2013-10";

fn shared_dir() -> Option<&'static Path> {
    let dir = Path::new(DIR);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("COACH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{DIR} is missing and COACH_REQUIRE_SHARED=1");
    }
    eprintln!("skipping: {DIR} is not there (shared data absent)");
    None
}

/// The SPY week's detections with every price multiplied by `factor`.
fn detections_at(dir: &Path, factor: f64) -> Vec<Detection> {
    let spy = Symbol::parse("SPY").unwrap();
    let mut config = DetectorsConfig::default();
    config.index_symbols.push(spy.clone());
    let mut engine = Engine::new(config).unwrap();
    let daily: Vec<DailyBar> = read_daily_file(&dir.join("SPY_1day_lean.csv"))
        .expect("daily file parses")
        .into_iter()
        .map(|b| DailyBar {
            open: b.open * factor,
            high: b.high * factor,
            low: b.low * factor,
            close: b.close * factor,
            ..b
        })
        .collect();
    assert_eq!(engine.add_daily_bars(&spy, &daily), 0);
    let bars = read_minute_file(&dir.join("SPY_1min_2013-10-04_2013-10-11.csv"))
        .expect("minute file parses");
    let mut out = Vec::new();
    for b in &bars {
        let scaled = Bar {
            open: b.open * factor,
            high: b.high * factor,
            low: b.low * factor,
            close: b.close * factor,
            ..*b
        };
        engine.on_bar(&spy, &scaled, &mut out);
    }
    out
}

/// kind, long (else short), bar start
type Key = (SetupKind, bool, chrono::DateTime<chrono::Utc>);

fn keyed(detections: Vec<Detection>) -> BTreeMap<Key, Detection> {
    let mut map = BTreeMap::new();
    for d in detections {
        let key = (d.kind, d.direction == Direction::Long, d.bar_time);
        assert!(map.insert(key, d).is_none(), "two detections share {key:?}");
    }
    map
}

fn tick(price: f64) -> f64 {
    if price.abs() >= 1.0 { 0.01 } else { 0.0001 }
}

fn is_round_number(d: &Detection) -> bool {
    d.dedup_key.starts_with("round ")
}

/// Whether a plan clears the minimum reward/risk by no more than tick noise can move it:
/// `u` is the larger tick of the two scales in this plan's own units; entry and stop move
/// by up to 3 u each, so reward − 1.5 · risk moves by up to 3 u + 1.5 · 6 u = 12 u.
fn clears_reward_risk_by_ticks_only(d: &Detection, u: f64) -> bool {
    let min = DetectorsConfig::default().min_reward_risk;
    let reward = (d.target - d.entry).abs();
    let risk = (d.entry - d.stop).abs();
    reward - min * risk <= 12.0 * u
}

/// A detection one scale has and the other lacks is allowed only at a round-number level
/// or when its plan clears the minimum reward/risk by tick noise alone; anything else is a
/// threshold that does not scale.
fn explained_difference(d: &Detection, u: f64) -> Option<&'static str> {
    if is_round_number(d) {
        Some("round number")
    } else if clears_reward_risk_by_ticks_only(d, u) {
        Some("reward/risk within tick noise of the minimum")
    } else {
        None
    }
}

/// Compares the base week with the week at `factor`; returns the detections found in only
/// one of them ("+" gained, "-" lost) with the reason allowed, failing on anything else.
fn compare(dir: &Path, factor: f64) -> (Vec<String>, usize) {
    let base = keyed(detections_at(dir, 1.0));
    let scaled = keyed(detections_at(dir, factor));
    assert!(base.len() >= 10, "the base week has detections to compare");
    let mut differences = Vec::new();
    for (key, b) in &base {
        let Some(s) = scaled.get(key) else {
            // u in the base plan's units
            let u = tick(factor * b.entry).max(factor * tick(b.entry)) / factor;
            let why = explained_difference(b, u).unwrap_or_else(|| {
                panic!("×{factor}: lost {key:?} {} ({})", b.dedup_key, b.rationale)
            });
            differences.push(format!("- {key:?} {} ({why})", b.dedup_key));
            continue;
        };
        // u: the larger tick of the two scales; entry and stop may each be off by the
        // trigger offset (u) plus rounding at both scales (2u); the target, 1.5 R from
        // the entry, by the entry's 3u, 1.5 × the risk's 6u and its own rounding u
        let u = tick(s.entry).max(factor * tick(b.entry));
        for (what, sv, bv, ticks) in [
            ("entry", s.entry, b.entry, 3.0),
            ("stop", s.stop, b.stop, 3.0),
            ("target", s.target, b.target, 13.0),
        ] {
            let budget = (ticks * u).max(1e-9 * sv.abs());
            let off = (sv - factor * bv).abs();
            assert!(
                off <= budget,
                "×{factor}: {key:?} {what} {sv} vs {factor} × {bv} = {} (off {off:.4})\n\
                 scaled: {} {} {} {}\nbase:   {} {} {} {}",
                factor * bv,
                s.entry,
                s.stop,
                s.target,
                s.rationale,
                b.entry,
                b.stop,
                b.target,
                b.rationale
            );
        }
    }
    for (key, s) in &scaled {
        if !base.contains_key(key) {
            let u = tick(s.entry).max(factor * tick(s.entry / factor));
            let why = explained_difference(s, u).unwrap_or_else(|| {
                panic!(
                    "×{factor}: gained {key:?} {} ({})",
                    s.dedup_key, s.rationale
                )
            });
            differences.push(format!("+ {key:?} {} ({why})", s.dedup_key));
        }
    }
    println!(
        "×{factor}: {} base detections, {} at the new scale, {} differences",
        base.len(),
        scaled.len(),
        differences.len()
    );
    (differences, base.len())
}

#[test]
fn ten_times_the_price_gives_the_same_detections_at_ten_times_the_levels() {
    let Some(dir) = shared_dir() else { return };
    let (differences, _) = compare(dir, 10.0);
    assert!(
        differences.is_empty(),
        "round numbers scale exactly by 10: {differences:#?}"
    );
}

#[test]
fn a_fifth_of_the_price_gives_the_same_detections_but_at_round_numbers() {
    let Some(dir) = shared_dir() else { return };
    let (differences, base) = compare(dir, 0.2);
    // the documented deviations (module doc): round numbers of a $34 instrument are not a
    // fifth of a $169 instrument's, and its cent is five times coarser; print what moved
    for line in &differences {
        println!("×0.2 difference: {line}");
    }
    // 11 of 51 on this week; most detections must survive the move
    assert!(
        differences.len() * 4 <= base,
        "{} of {base} detections differ at ×0.2: {differences:#?}",
        differences.len()
    );
}
