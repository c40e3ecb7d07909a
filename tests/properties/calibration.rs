//! Calibration (SPEC 4): on the shared real SPY sessions every detector whose inputs exist
//! there (all but gamma_squeeze, which needs an options chain) fires somewhere, and none
//! fires more than 3 times per session on average. SPY is configured as an index so that
//! opening_drive runs on it.

use std::collections::BTreeMap;
use std::path::Path;

use coach::detect::{BarOutcome, DetectorsConfig, Engine};
use coach::domain::{Detection, SetupKind, Symbol};
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

fn spy_detections(dir: &Path) -> (Vec<Detection>, usize) {
    let spy = Symbol::parse("SPY").unwrap();
    let mut config = DetectorsConfig::default();
    config.index_symbols.push(spy.clone());
    let mut engine = Engine::new(config).unwrap();
    let daily = read_daily_file(&dir.join("SPY_1day_lean.csv")).expect("daily file parses");
    engine.add_daily_bars(&spy, &daily);
    let bars = read_minute_file(&dir.join("SPY_1min_2013-10-04_2013-10-11.csv"))
        .expect("minute file parses");
    let mut out = Vec::new();
    let mut sessions = std::collections::BTreeSet::new();
    for bar in &bars {
        if engine.on_bar(&spy, bar, &mut out) == BarOutcome::Regular {
            sessions.insert(engine.market(&spy).unwrap().day().unwrap().date);
        }
    }
    (out, sessions.len())
}

#[test]
fn every_detector_fires_on_real_spy_sessions_and_none_more_than_three_times_a_session() {
    let Some(dir) = shared_dir() else { return };
    let (detections, sessions) = spy_detections(dir);
    assert_eq!(sessions, 6, "the shared file holds six sessions");
    let mut table: BTreeMap<SetupKind, BTreeMap<String, usize>> = BTreeMap::new();
    for d in &detections {
        *table
            .entry(d.kind)
            .or_default()
            .entry(d.market_date.to_string())
            .or_default() += 1;
    }
    for d in &detections {
        println!(
            "{} {} {:<13} {:<5} {:>3} {:>8.2} {:>8.2} {:>8.2}  {}",
            d.market_date,
            d.bar_time.format("%H:%M"),
            d.kind,
            d.direction,
            d.confidence,
            d.entry,
            d.stop,
            d.target,
            d.rationale
        );
    }
    for kind in SetupKind::ALL {
        let per_day = table.get(&kind).cloned().unwrap_or_default();
        let total: usize = per_day.values().sum();
        println!("{:<14} total {:>3}  {:?}", kind.as_str(), total, per_day);
    }
    for kind in SetupKind::ALL {
        let total: usize = table.get(&kind).map(|m| m.values().sum()).unwrap_or(0);
        if kind != SetupKind::GammaSqueeze {
            assert!(total >= 1, "{kind} never fired on the SPY sessions");
        }
        let average = total as f64 / sessions as f64;
        assert!(
            average <= 3.0,
            "{kind} fired {total} times in {sessions} sessions ({average:.1} a session): too loose"
        );
    }
}
