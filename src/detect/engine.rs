//! The detector engine: owns every symbol's market state and detectors and feeds each
//! final 1-minute bar through them.
//!
//! ```text
//! engine.add_daily_bars(&spy, &daily);            // any time; prior day + ATR(14)
//! engine.set_gamma_levels(gex);                   // optional, per symbol; detections
//!                                                 // then carry its `GexContext`
//! engine.on_bar(&spy, &bar, &mut detections);     // every final 1-minute bar, in order
//! ```
//!
//! - Bars of one symbol must come in ascending start order; a bar that does not start
//!   after the previous one is ignored (`BarOutcome::NotAfterPrevious`), so overlapping
//!   backfills are harmless. Only final bars may be fed (a bar is final once its minute
//!   has passed); the engine cannot tell.
//! - Pre-market bars only update the pre-market high/low; after-hours bars and bars of
//!   days without a session are ignored. Detectors run on regular-session bars only.
//! - An index (no volume) reads the relative volume of its proxy (SPX→SPY) from the
//!   proxy's bar of the **same minute**, so feed the proxy's bar first within a minute;
//!   without it the volume tests are skipped and the rationale says so. Its VWAP is
//!   weighted by the proxy's volume (the proxy's 20-bar average for a missing minute, and
//!   equal weights when no proxy is fed at all).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::config::{ConfigError, DetectorsConfig};
use super::context::{BarContext, SymbolClass, VolumeReading, VolumeSource};
use super::missing::{MissingInput, missing_inputs};
use super::plan::{Dedup, Emitter};
use super::{Detector, Detectors};
use crate::domain::{Bar, DailyBar, Detection, GammaLevels, Symbol};
use crate::gex::GexContext;
use crate::market::bars::RelativeVolume;
use crate::market::state::{BarFate, MarketState};

/// Missing-input notes the engine holds until taken; later ones are not recorded.
pub const MAX_UNTAKEN_MISSING_INPUTS: usize = 1024;

/// What the engine did with a bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarOutcome {
    /// A regular-session bar: levels updated and all detectors run.
    Regular,
    /// A pre-market bar: pre-market high/low updated.
    PreMarket,
    /// After hours or a day without a session: ignored.
    OutsideSession,
    /// Not after the symbol's previous bar (duplicate or out of order): ignored.
    NotAfterPrevious,
    /// NaN, non-positive or inconsistent prices, negative volume: ignored.
    Invalid,
}

/// The last regular bar's own volume figures, read by indices that use this symbol as proxy.
#[derive(Clone, Copy, Debug)]
struct VolumeSnapshot {
    start: DateTime<Utc>,
    relative: Option<RelativeVolume>,
    volume: f64,
}

struct Slot {
    symbol: Symbol,
    class: SymbolClass,
    proxy_symbol: Option<Symbol>,
    proxy: Option<usize>,
    market: MarketState,
    detectors: Detectors,
    dedup: Dedup,
    gamma: Option<GammaLevels>,
    session: Option<NaiveDate>,
    last_volume: Option<VolumeSnapshot>,
}

/// All symbols' detector state. Pure: bars in, detections out.
pub struct Engine {
    config: DetectorsConfig,
    /// Boxed so the vector's growth slack is a pointer per slot, not a whole slot (about
    /// 3 KB inline: at 4,200 symbols a doubled `Vec<Slot>` held 1.5 KB of slack per symbol).
    #[expect(
        clippy::vec_box,
        reason = "a slot is 3 KB; unboxed, a doubling leaves up to a slot of slack per symbol"
    )]
    slots: Vec<Box<Slot>>,
    by_symbol: HashMap<Symbol, usize>,
    /// The slot of the last symbol looked up.
    last_slot: usize,
    /// Detectors silenced for a session by a missing input, not yet taken; recording
    /// stops once it holds [`MAX_UNTAKEN_MISSING_INPUTS`] (plus one session's few), so a
    /// caller that never takes them (a backtest) keeps its memory flat.
    missing: Vec<MissingInput>,
}

impl Engine {
    /// An engine with validated thresholds.
    pub fn new(config: DetectorsConfig) -> Result<Engine, ConfigError> {
        config.validate()?;
        Ok(Engine {
            config,
            slots: Vec::new(),
            by_symbol: HashMap::new(),
            last_slot: 0,
            missing: Vec::new(),
        })
    }

    pub fn config(&self) -> &DetectorsConfig {
        &self.config
    }

    fn slot(&mut self, symbol: &Symbol) -> usize {
        // consecutive bars of one symbol skip the hash
        if let Some(slot) = self.slots.get(self.last_slot)
            && slot.symbol == *symbol
        {
            return self.last_slot;
        }
        if let Some(&i) = self.by_symbol.get(symbol) {
            self.last_slot = i;
            return i;
        }
        let i = self.slots.len();
        let class = if self.config.is_index(symbol) {
            SymbolClass::Index
        } else if self.config.is_etf(symbol) {
            SymbolClass::Etf
        } else {
            SymbolClass::Stock
        };
        let proxy_symbol = self.config.volume_proxies.get(symbol).cloned();
        let proxy = proxy_symbol
            .as_ref()
            .and_then(|p| self.by_symbol.get(p).copied());
        for slot in &mut self.slots {
            if slot.proxy_symbol.as_ref() == Some(symbol) {
                slot.proxy = Some(i);
            }
        }
        self.slots.push(Box::new(Slot {
            symbol: symbol.clone(),
            class,
            proxy_symbol,
            proxy,
            market: MarketState::new(
                self.config.orb_breakout.range_minutes,
                self.config.relative_volume_sessions,
                self.config.relative_volume_min_sessions,
            ),
            detectors: Detectors::default(),
            dedup: Dedup::new(),
            gamma: None,
            session: None,
            last_volume: None,
        }));
        self.by_symbol.insert(symbol.clone(), i);
        i
    }

    /// Adds daily bars of a symbol (any order, any time; a date already held is
    /// replaced). Returns how many were rejected as bad data (NaN, inconsistent, or a
    /// low below half the close).
    pub fn add_daily_bars(&mut self, symbol: &Symbol, bars: &[DailyBar]) -> usize {
        let i = self.slot(symbol);
        self.slots[i].market.add_daily_bars(bars)
    }

    /// Sets the GEX profile of `levels.symbol` (replacing the previous one); its walls
    /// join the levels break_retest and level_test watch.
    pub fn set_gamma_levels(&mut self, levels: GammaLevels) {
        let i = self.slot(&levels.symbol.clone());
        let slot = &mut self.slots[i];
        slot.market
            .set_gamma_walls(levels.call_wall, levels.put_wall);
        slot.gamma = Some(levels);
    }

    /// Forgets a symbol's GEX profile.
    pub fn clear_gamma_levels(&mut self, symbol: &Symbol) {
        if let Some(&i) = self.by_symbol.get(symbol) {
            let slot = &mut self.slots[i];
            slot.market.set_gamma_walls(None, None);
            slot.gamma = None;
        }
    }

    /// The market picture of a symbol (VWAP, ranges, prior day, levels...).
    pub fn market(&self, symbol: &Symbol) -> Option<&MarketState> {
        self.by_symbol.get(symbol).map(|&i| &self.slots[i].market)
    }

    /// Symbols known to the engine, in the order first seen.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.slots.iter().map(|s| &s.symbol)
    }

    /// Takes `fresh`'s symbols in place of this engine's, adding those it lacks: a partial
    /// re-prime (the live detector primes only the symbols a feed snapshot changed on a
    /// fresh engine, then adopts them). The other symbols keep their state; volume
    /// proxies are linked again by symbol; `fresh`'s missing-input notes follow. Both
    /// engines must have the same config.
    pub fn adopt(&mut self, fresh: Engine) {
        let Engine { slots, missing, .. } = fresh;
        for slot in slots {
            match self.by_symbol.get(&slot.symbol) {
                Some(&i) => self.slots[i] = slot,
                None => {
                    self.by_symbol.insert(slot.symbol.clone(), self.slots.len());
                    self.slots.push(slot);
                }
            }
        }
        // a proxy is a position in `slots`: every link is made again in this engine
        let by_symbol = &self.by_symbol;
        for slot in &mut self.slots {
            slot.proxy = (slot.proxy_symbol.as_ref()).and_then(|p| by_symbol.get(p).copied());
        }
        self.last_slot = 0;
        if self.missing.len() < MAX_UNTAKEN_MISSING_INPUTS {
            self.missing.extend(missing);
        }
    }

    /// Takes the notes of detectors that cannot fire this session for a missing input
    /// (one per symbol, session and detector, made at the session's first regular bar),
    /// oldest first. Allocates nothing when there are none. Take them at least every
    /// [`MAX_UNTAKEN_MISSING_INPUTS`] / 4 symbol-sessions to see them all.
    pub fn take_missing_inputs(&mut self) -> Vec<MissingInput> {
        std::mem::take(&mut self.missing)
    }

    /// Feeds one final 1-minute bar of `symbol`; detections are appended to `out` in
    /// detector order. O(1); allocates only for detections.
    pub fn on_bar(&mut self, symbol: &Symbol, bar: &Bar, out: &mut Vec<Detection>) -> BarOutcome {
        let i = self.slot(symbol);
        let proxy_snapshot = self.slots[i]
            .proxy
            .and_then(|p| self.slots[p].last_volume)
            .filter(|_| self.slots[i].class == SymbolClass::Index);
        let proxy_average = self.slots[i]
            .proxy
            .and_then(|p| self.slots[p].market.average_volume());
        let config = &self.config;
        let missing = &mut self.missing;
        let Slot {
            symbol,
            class,
            proxy_symbol,
            market,
            detectors,
            dedup,
            gamma,
            session,
            last_volume,
            ..
        } = &mut *self.slots[i];

        let minute = match market.begin_bar(bar) {
            BarFate::Regular { minute } => minute,
            BarFate::PreMarket => return BarOutcome::PreMarket,
            BarFate::OutsideSession => return BarOutcome::OutsideSession,
            BarFate::NotAfterPrevious => return BarOutcome::NotAfterPrevious,
            BarFate::Invalid => return BarOutcome::Invalid,
        };
        let same_minute_proxy = proxy_snapshot.filter(|s| s.start == bar.start);
        let weight = if bar.volume > 0.0 {
            bar.volume
        } else if let Some(p) = same_minute_proxy {
            p.volume
        } else {
            proxy_average.unwrap_or(1.0)
        };
        let stats = market.apply_regular(bar, minute, weight);
        let Some(day_session) = stats.day.session else {
            return BarOutcome::OutsideSession;
        };
        if *session != Some(day_session.date) {
            *session = Some(day_session.date);
            detectors.start_session();
            dedup.clear();
            if missing.len() < MAX_UNTAKEN_MISSING_INPUTS {
                missing.extend(missing_inputs(
                    symbol,
                    day_session.date,
                    *class,
                    market,
                    gamma.as_ref(),
                    config,
                ));
            }
        }
        let volume = match (stats.relative_volume, same_minute_proxy) {
            (Some(own), _) => VolumeReading {
                relative: Some(own),
                source: VolumeSource::Own,
                skippable: *class == SymbolClass::Index,
            },
            (None, Some(p)) if p.relative.is_some() => VolumeReading {
                relative: p.relative,
                source: VolumeSource::Proxy(proxy_symbol.as_ref().unwrap_or(symbol)),
                skippable: true,
            },
            (None, _) => VolumeReading {
                relative: None,
                source: VolumeSource::Missing {
                    proxy: proxy_symbol.as_ref(),
                },
                skippable: *class == SymbolClass::Index,
            },
        };
        *last_volume = Some(VolumeSnapshot {
            start: bar.start,
            relative: stats.relative_volume,
            volume: bar.volume,
        });
        let ctx = BarContext {
            symbol,
            class: *class,
            bar,
            previous: stats.previous,
            session: day_session,
            minute,
            index: stats.index,
            atr1m: stats.atr1m,
            average_range: stats.average_range,
            volume,
            high_before: stats.high_before,
            low_before: stats.low_before,
            session_open: stats.session_open,
            vwap: stats.vwap,
            market,
            gamma: gamma.as_ref(),
            config,
        };
        // re-arm what price has moved away from (this bar included), then detect
        dedup.on_bar(bar.high, bar.low);
        let first_new = out.len();
        let mut emitter = Emitter::new(out, dedup);
        detectors.on_bar(&ctx, &mut emitter);
        // The one place a detection learns the GEX profile known when it fired (SPEC 18):
        // its regime and distances from the signal bar's close, for every detector. Known
        // means as gamma_squeeze reads it: computed at most `max_age_minutes` before the
        // bar's end, never after it.
        if out.len() > first_new
            && let Some(levels) = gamma.as_ref()
        {
            let age = bar.start + Duration::minutes(1) - levels.as_of;
            let max_age = Duration::minutes(i64::from(config.gamma_squeeze.max_age_minutes));
            if age >= Duration::zero() && age <= max_age {
                let context = GexContext::at(levels, bar.close);
                for d in &mut out[first_new..] {
                    d.gex = context.clone();
                }
            }
        }
        BarOutcome::Regular
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;
    use crate::detect::testkit::{Scenario, at, sym};
    use crate::domain::SetupKind;
    use crate::market::calendar;

    fn bar(start: DateTime<Utc>, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
        Bar {
            start,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        }
    }

    #[test]
    fn a_symbol_primed_apart_and_adopted_carries_on_as_if_primed_with_the_rest() {
        let (spx, spy, qqq) = (sym("SPX"), sym("SPY"), sym("QQQ"));
        let day = NaiveDate::from_ymd_opt(2024, 11, 26).unwrap();
        let t = |m: u32| {
            calendar::ny_instant(
                day,
                NaiveTime::from_hms_opt(9 + (30 + m) / 60, (30 + m) % 60, 0).unwrap(),
            )
        };
        let feed = |engine: &mut Engine, symbols: &[&Symbol], minutes: std::ops::Range<u32>| {
            let mut out = Vec::new();
            for m in minutes {
                for s in symbols {
                    let p = 100.0 + f64::from(m % 7);
                    let volume = if s.as_str() == "SPX" {
                        0.0
                    } else {
                        1000.0 + f64::from(m)
                    };
                    engine.on_bar(
                        s,
                        &bar(t(m), p, p + 0.5, p - 0.5, p + 0.1, volume),
                        &mut out,
                    );
                }
            }
            out
        };
        let config = DetectorsConfig::default();
        let mut whole = Engine::new(config.clone()).unwrap();
        feed(&mut whole, &[&spy, &spx, &qqq], 0..40);
        // SPY and SPX from the start; QQQ primed apart (its history came later) and adopted
        let mut engine = Engine::new(config.clone()).unwrap();
        feed(&mut engine, &[&spy, &spx], 0..40);
        let mut fresh = Engine::new(config).unwrap();
        feed(&mut fresh, &[&qqq], 0..40);
        engine.adopt(fresh);
        for s in [&spy, &spx, &qqq] {
            assert_eq!(
                format!("{:?}", engine.market(s).unwrap().vwap()),
                format!("{:?}", whole.market(s).unwrap().vwap()),
                "{s}"
            );
        }
        // and on: the same detections, SPX still reading SPY's volume
        let later = feed(&mut engine, &[&spy, &spx, &qqq], 40..90);
        let expected = feed(&mut whole, &[&spy, &spx, &qqq], 40..90);
        assert_eq!(later, expected);
        assert_eq!(engine.symbols().count(), 3);
    }

    #[test]
    fn after_hours_and_holiday_bars_never_reach_the_detectors() {
        let mut engine = Engine::new(DetectorsConfig::default()).unwrap();
        let spy = sym("SPY");
        let mut out = Vec::new();
        let date = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        let after = calendar::ny_instant(date, NaiveTime::from_hms_opt(16, 0, 0).unwrap());
        assert_eq!(
            engine.on_bar(&spy, &bar(after, 1.0, 1.0, 1.0, 1.0, 1.0), &mut out),
            BarOutcome::OutsideSession
        );
        let good_friday = calendar::ny_instant(
            NaiveDate::from_ymd_opt(2024, 3, 29).unwrap(),
            NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        );
        assert_eq!(
            engine.on_bar(&spy, &bar(good_friday, 1.0, 1.0, 1.0, 1.0, 1.0), &mut out),
            BarOutcome::OutsideSession
        );
        // the day after Thanksgiving closes at 13:00
        let friday = NaiveDate::from_ymd_opt(2024, 11, 29).unwrap();
        let t = |h, m| calendar::ny_instant(friday, NaiveTime::from_hms_opt(h, m, 0).unwrap());
        assert_eq!(
            engine.on_bar(&spy, &bar(t(12, 59), 1.0, 1.0, 1.0, 1.0, 1.0), &mut out),
            BarOutcome::Regular
        );
        assert_eq!(
            engine.on_bar(&spy, &bar(t(13, 0), 1.0, 1.0, 1.0, 1.0, 1.0), &mut out),
            BarOutcome::OutsideSession
        );
        assert!(out.is_empty());
    }

    fn spy_profile(as_of: DateTime<Utc>) -> GammaLevels {
        GammaLevels {
            symbol: sym("SPY"),
            spot: 100.3,
            as_of,
            total_gex: -2e9,
            zero_gamma: Some(99.0),
            call_wall: Some(102.0),
            put_wall: Some(98.0),
            max_call_gex_strike: Some(100.5),
            max_put_gex_strike: Some(99.5),
        }
    }

    /// A quiet morning, then a close at 100.60 above the 100.50 call-GEX strike on 2.5×
    /// volume: gamma_squeeze (with a profile) and the opening-range breakout fire.
    fn squeeze_morning(profile_age_minutes: Option<i64>) -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.3, 0.05, 1000.0);
        if let Some(age) = profile_age_minutes {
            let as_of = at(s.date, 21) - chrono::Duration::minutes(age);
            s.engine.set_gamma_levels(spy_profile(as_of));
        }
        s.bar(100.35, 100.65, 100.34, 100.60, 2500.0);
        s
    }

    #[test]
    fn detections_carry_the_regime_and_signed_distances_of_the_profile_known_when_they_fired() {
        let s = squeeze_morning(Some(6));
        assert!(!s.detections.is_empty());
        for d in &s.detections {
            let gex = d
                .gex
                .as_ref()
                .unwrap_or_else(|| panic!("{} has no GEX context", d.kind));
            assert_eq!(gex.regime, crate::gex::Regime::Negative);
            assert_eq!(gex.price, 100.60, "measured from the signal bar's close");
            // zero gamma 99.00 is 1.60 below 100.60: −1.60 points, −1.5905 %
            let z = gex.zero_gamma.unwrap();
            assert!((z.points + 1.60).abs() < 1e-9, "{z:?}");
            assert!((z.percent + 1.60 / 100.60 * 100.0).abs() < 1e-9, "{z:?}");
            assert!((z.percent + 1.5905).abs() < 1e-4);
            // call wall 102 is 1.40 above, put wall 98 is 2.60 below: the call wall
            let w = gex.nearest_wall.unwrap();
            assert_eq!(w.side, crate::gex::WallSide::Call);
            assert!((w.distance.points - 1.40).abs() < 1e-9, "{w:?}");
            assert!((w.distance.percent - 1.3917).abs() < 1e-4, "{w:?}");
        }
    }

    #[test]
    fn without_a_fresh_profile_detections_carry_no_gex_context() {
        // the opening-range breakout of `a_bar_fed_twice_is_counted_once`, with no profile,
        // a profile two hours old (stale) and one from ten minutes after the bar (unknown)
        for age in [None, Some(120), Some(-10)] {
            let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
            s.quiet(20, 100.0, 0.4, 1000.0);
            if let Some(age) = age {
                let as_of = at(s.date, 21) - chrono::Duration::minutes(age);
                s.engine.set_gamma_levels(spy_profile(as_of));
            }
            s.bar(100.3, 100.9, 100.25, 100.8, 2000.0);
            assert_eq!(s.of_kind(SetupKind::OrbBreakout).len(), 1, "{age:?}");
            assert!(s.detections.iter().all(|d| d.gex.is_none()), "{age:?}");
        }
    }

    #[test]
    fn a_bar_fed_twice_is_counted_once() {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.0, 0.4, 1000.0);
        let breakout = bar(at(s.date, 20), 100.3, 100.9, 100.25, 100.8, 2000.0);
        let mut out = Vec::new();
        let spy = sym("SPY");
        assert_eq!(
            s.engine.on_bar(&spy, &breakout, &mut out),
            BarOutcome::Regular
        );
        assert_eq!(
            s.engine.on_bar(&spy, &breakout, &mut out),
            BarOutcome::NotAfterPrevious
        );
        assert_eq!(
            out.iter()
                .filter(|d| d.kind == SetupKind::OrbBreakout)
                .count(),
            1
        );
    }

    #[test]
    fn nan_bars_are_refused_and_nothing_nan_comes_out() {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.0, 0.4, 1000.0);
        let mut out = Vec::new();
        let spy = sym("SPY");
        let broken = bar(at(s.date, 20), f64::NAN, 100.9, 100.25, 100.8, 2000.0);
        assert_eq!(
            s.engine.on_bar(&spy, &broken, &mut out),
            BarOutcome::Invalid
        );
        let inf_volume = bar(at(s.date, 20), 100.3, 100.9, 100.25, 100.8, f64::INFINITY);
        assert_eq!(
            s.engine.on_bar(&spy, &inf_volume, &mut out),
            BarOutcome::Invalid
        );
        assert!(out.is_empty());
        let market = s.engine.market(&spy).unwrap();
        assert!(market.vwap().unwrap().vwap.is_finite());
    }

    #[test]
    fn the_next_session_starts_clean_with_the_prior_day_from_minute_bars() {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(390, 100.0, 0.4, 1000.0);
        s.date = NaiveDate::from_ymd_opt(2024, 3, 6).unwrap();
        s.minute = 0;
        s.bar(100.0, 100.1, 99.9, 100.0, 1000.0);
        let market = s.engine.market(&sym("SPY")).unwrap();
        let prior = market.prior_day().unwrap();
        assert_eq!(prior.date, NaiveDate::from_ymd_opt(2024, 3, 5).unwrap());
        assert_eq!((prior.high, prior.low, prior.close), (100.4, 99.6, 100.0));
        assert_eq!(market.vwap().unwrap().vwap, 100.0);
    }

    #[test]
    fn an_index_without_its_proxy_skips_volume_tests_and_says_so() {
        let mut s = Scenario::new("SPX").prior_day(5040.0, 4960.0, 5000.0, 80.0);
        s.quiet(20, 5000.0, 8.0, 0.0);
        // a breakout of the 15-minute range 4992–5008 on no volume at all
        s.bar(5006.0, 5020.0, 5005.0, 5018.0, 0.0);
        let found = s.of_kind(SetupKind::OrbBreakout);
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        assert!(
            found[0].rationale.contains(
                "volume test skipped (no volume of its own; proxy SPY not fed this minute)"
            ),
            "{}",
            found[0].rationale
        );
    }
}
