//! The market state the detector engine keeps per symbol is incremental (issue 25 item 1:
//! kilobytes per symbol, no session of bars held), and at every bar of real sessions it
//! gives the figures computed afresh from all the bars fed so far: the session VWAP and
//! its σ, the 5/15/30-minute opening ranges, the prior day's high, low and close, the
//! 20-bar average volume and the same-minute relative volume. On SPY's six October 2013
//! sessions with their daily bars, and on a 2024 stock's whole year (BKNG: both DST
//! changes, half days, holidays; no daily file, so the prior day comes from minutes).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use coach::detect::DetectorsConfig;
use coach::domain::{Bar, DailyBar};
use coach::market::bars::{RelativeVolume, VolumeBaseline, VwapBands};
use coach::market::calendar;
use coach::market::levels::{PriorDay, check_daily_bar};
use coach::market::state::{BarFate, MarketState, OPENING_RANGE_MINUTES};
use coach::provider::replay::{read_daily_file, read_minute_file};

fn shared(path: &str) -> Option<PathBuf> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(path);
    if full.exists() {
        return Some(full);
    }
    if std::env::var("COACH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{} is missing and COACH_REQUIRE_SHARED=1", full.display());
    }
    eprintln!(
        "skipping: {} is not there (shared data absent)",
        full.display()
    );
    None
}

/// Every accepted bar so far, kept whole: what the incremental state must not need.
#[derive(Default)]
struct AllBars {
    /// Regular-session bars by (date, minutes after the open), in feeding order.
    regular: Vec<(NaiveDate, u32, Bar)>,
    by_minute: HashMap<(NaiveDate, u32), f64>,
    /// Trading days with any accepted bar since the first regular bar with volume (the
    /// relative-volume history starts there), in order.
    volume_days: Vec<NaiveDate>,
    daily: Vec<DailyBar>,
}

impl AllBars {
    fn today(&self, date: NaiveDate) -> impl Iterator<Item = &(NaiveDate, u32, Bar)> {
        let first = self.regular.partition_point(|(d, _, _)| *d < date);
        self.regular[first..].iter()
    }

    /// Σ typical·volume / Σ volume and the volume-weighted σ of the typical price.
    fn vwap(&self, date: NaiveDate) -> Option<VwapBands> {
        let bars: Vec<&Bar> = self
            .today(date)
            .map(|(_, _, b)| b)
            .filter(|b| b.volume > 0.0)
            .collect();
        let weight: f64 = bars.iter().map(|b| b.volume).sum();
        if weight == 0.0 {
            return None;
        }
        let vwap = bars.iter().map(|b| b.typical() * b.volume).sum::<f64>() / weight;
        let variance = bars
            .iter()
            .map(|b| (b.typical() - vwap).powi(2) * b.volume)
            .sum::<f64>()
            / weight;
        Some(VwapBands {
            vwap,
            sigma: variance.sqrt(),
        })
    }

    /// (high, low) of today's bars in the first `minutes`, once `minutes` have passed.
    fn opening_range(&self, date: NaiveDate, minutes: u32, now: u32) -> Option<(f64, f64)> {
        if now + 1 < minutes {
            return None;
        }
        self.today(date)
            .filter(|(_, m, _)| *m < minutes)
            .fold(None, |acc, (_, _, b)| match acc {
                None => Some((b.high, b.low)),
                Some((h, l)) => Some((b.high.max(h), b.low.min(l))),
            })
    }

    /// Mean volume of the last 20 regular bars (at least 5), across sessions.
    fn average_volume(&self, upto: usize) -> Option<f64> {
        let last: Vec<f64> = self.regular[..upto]
            .iter()
            .rev()
            .take(20)
            .map(|(_, _, b)| b.volume)
            .collect();
        (last.len() >= 5).then(|| last.iter().sum::<f64>() / last.len() as f64)
    }

    /// This minute's volume against the same minute of the last 10 sessions before today
    /// when 3 of them have it, else against the 20 regular bars before it.
    fn relative_volume(
        &self,
        date: NaiveDate,
        minute: u32,
        volume: f64,
    ) -> Option<(f64, VolumeBaseline)> {
        let before: Vec<NaiveDate> = self
            .volume_days
            .iter()
            .copied()
            .filter(|d| *d < date)
            .collect();
        let same: Vec<f64> = before
            .iter()
            .rev()
            .take(10)
            .filter_map(|d| self.by_minute.get(&(*d, minute)).copied())
            .collect();
        if same.len() >= 3 && minute < 390 {
            let mean = same.iter().sum::<f64>() / same.len() as f64;
            if mean > 0.0 {
                let sessions = u8::try_from(same.len()).expect("at most 10");
                return Some((volume / mean, VolumeBaseline::SameMinute { sessions }));
            }
        }
        let mean = self.average_volume(self.regular.len() - 1)?;
        (mean > 0.0).then(|| (volume / mean, VolumeBaseline::Last20Bars))
    }

    /// The previous session's high and low from its minutes when they cover it (from its
    /// first five minutes to its last five, half of its minutes), else its daily bar's;
    /// the close is the daily bar's when there is one, else the last minute's.
    fn prior_day(&self, date: NaiveDate) -> Option<(NaiveDate, f64, f64, f64)> {
        let previous = calendar::previous_session(date);
        let daily = self
            .daily
            .iter()
            .rev()
            .find(|b| b.date == previous.date && check_daily_bar(b).is_ok());
        let minutes: Vec<&(NaiveDate, u32, Bar)> = self
            .today(previous.date)
            .filter(|(d, _, _)| *d == previous.date)
            .collect();
        let session_minutes = (previous.close - previous.open).num_minutes() as u32;
        let covered = match (minutes.first(), minutes.last()) {
            (Some(first), Some(last)) => {
                first.1 < 5
                    && last.1 + 5 >= session_minutes
                    && minutes.len() as u32 * 2 >= session_minutes
            }
            _ => false,
        };
        if covered {
            let high = minutes
                .iter()
                .map(|(_, _, b)| b.high)
                .fold(f64::MIN, f64::max);
            let low = minutes
                .iter()
                .map(|(_, _, b)| b.low)
                .fold(f64::MAX, f64::min);
            let close = daily.map_or(minutes.last().map_or(f64::NAN, |(_, _, b)| b.close), |d| {
                d.close
            });
            return Some((previous.date, high, low, close));
        }
        daily.map(|d| (d.date, d.high, d.low, d.close))
    }
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1.0)
}

/// Feeds `bars` through one symbol's market state and checks every regular bar's figures
/// against [`AllBars`]; returns (regular bars checked, sessions, bars on a same-minute
/// baseline) so the caller can see the checks had something to check.
fn check(name: &str, daily: Vec<DailyBar>, bars: &[Bar]) -> (usize, usize, usize) {
    let config = DetectorsConfig::default();
    assert_eq!(
        (
            config.relative_volume_sessions,
            config.relative_volume_min_sessions
        ),
        (10, 3),
        "the full computation below is written for the default window"
    );
    let mut state = MarketState::new(15, 10, 3);
    state.add_daily_bars(&daily);
    let mut all = AllBars {
        daily,
        ..AllBars::default()
    };
    let mut sessions = BTreeSet::new();
    let mut same_minute = 0;
    let mut volume_seen = false;
    for bar in bars {
        let fate = state.begin_bar(bar);
        let date = calendar::ny_date(bar.start);
        let accepted = matches!(
            fate,
            BarFate::Regular { .. } | BarFate::PreMarket | BarFate::OutsideSession
        );
        volume_seen |=
            matches!(fate, BarFate::Regular { minute } if minute < 390 && bar.volume > 0.0);
        if accepted
            && volume_seen
            && calendar::session(date).is_some()
            && all.volume_days.last() != Some(&date)
        {
            all.volume_days.push(date);
        }
        let BarFate::Regular { minute } = fate else {
            continue;
        };
        let at = format!("{name} {}", bar.start);
        if sessions.insert(date) {
            let incremental = state
                .prior_day()
                .map(|p: PriorDay| (p.date, p.high, p.low, p.close));
            assert_eq!(incremental, all.prior_day(date), "prior day at {at}");
        }
        all.regular.push((date, minute, *bar));
        let expected_volume = all.relative_volume(date, minute, bar.volume);
        all.by_minute.insert((date, minute), bar.volume);
        let stats = state.apply_regular(bar, minute, bar.volume);

        match (stats.vwap, all.vwap(date)) {
            (Some(got), Some(want)) => {
                assert!(
                    close(got.vwap, want.vwap, 1e-12),
                    "VWAP at {at}: {got:?} against {want:?}"
                );
                assert!(
                    (got.sigma - want.sigma).abs() <= 1e-9 * want.vwap,
                    "VWAP σ at {at}: {got:?} against {want:?}"
                );
            }
            (got, want) => assert_eq!(got, want, "VWAP at {at}"),
        }
        for minutes in OPENING_RANGE_MINUTES {
            let got = state.opening_range(minutes).map(|r| (r.high, r.low));
            assert_eq!(
                got,
                all.opening_range(date, minutes, minute),
                "{minutes}-minute range at {at}"
            );
        }
        match (
            state.average_volume(),
            all.average_volume(all.regular.len()),
        ) {
            (Some(got), Some(want)) => assert!(
                close(got, want, 1e-12),
                "average volume at {at}: {got} against {want}"
            ),
            (got, want) => assert_eq!(got, want, "average volume at {at}"),
        }
        match (stats.relative_volume, expected_volume) {
            (Some(RelativeVolume { ratio, baseline }), Some((want, want_baseline))) => {
                // the history keeps share counts as f32: 7 significant digits
                assert!(
                    close(ratio, want, 1e-6),
                    "relative volume at {at}: {ratio} against {want}"
                );
                assert_eq!(baseline, want_baseline, "relative volume baseline at {at}");
                same_minute += usize::from(matches!(baseline, VolumeBaseline::SameMinute { .. }));
            }
            (got, want) => assert_eq!(
                got.map(|r| r.ratio),
                want.map(|w| w.0),
                "relative volume at {at}"
            ),
        }
    }
    (all.regular.len(), sessions.len(), same_minute)
}

#[test]
fn spy_2013_incremental_figures_equal_the_ones_from_every_bar() {
    let Some(dir) = shared("data/bars/lean_spy_2013-10") else {
        return;
    };
    let daily = read_daily_file(&dir.join("SPY_1day_lean.csv")).expect("SPY daily file parses");
    let bars = read_minute_file(&dir.join("SPY_1min_2013-10-04_2013-10-11.csv"))
        .expect("SPY minute file parses");
    let (regular, sessions, same_minute) = check("SPY", daily, &bars);
    assert_eq!(sessions, 6, "the shared file holds six sessions");
    assert_eq!(regular, 2340, "six full sessions of 390 minutes");
    // sessions four to six have three earlier sessions' same minute
    assert!(
        same_minute >= 3 * 380,
        "{same_minute} bars on a same-minute baseline"
    );
}

#[test]
fn a_2024_stock_year_incremental_figures_equal_the_ones_from_every_bar() {
    let Some(file) = shared("data/bars/market-data_2024/BKNG_1min_2024.csv") else {
        return;
    };
    let bars = read_minute_file(&file).expect("BKNG minute file parses");
    let (regular, sessions, same_minute) = check("BKNG", Vec::new(), &bars);
    assert!(sessions >= 240, "a year of sessions, {sessions}");
    assert!(regular > 30_000, "{regular} regular bars");
    assert!(
        same_minute > regular / 2,
        "{same_minute} of {regular} on a same-minute baseline"
    );
}
