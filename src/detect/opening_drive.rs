//! `opening_drive`, on index symbols (SPX, NDX and any symbol configured as an index):
//! the first 15 minutes (by clock) drive ≥ max(0.25 % of the open, 0.15 daily ATR) from
//! the open to their extreme, the last close gives back ≤ 25 % of that drive, and
//! ≥ 65 % of the bars that moved (close ≠ open) close in the drive direction. Fires on the bar that ends the window
//! (09:44); when that bar is missing the window is not judged. Volume is read from the
//! ETF proxy (SPX→SPY) for confidence and named in the rationale.
//!
//! Plan (up drive): entry one tick above the drive's high; stop below the drive's
//! midpoint minus the stop buffer (a drive that gives back half has failed); target the
//! measured move (high + drive) or 1.5 R, whichever is further.

use super::Detector;
use super::context::{BarContext, SymbolClass};
use super::plan::{Description, Emitter, Plan, dist, px, tick};
use crate::domain::{Direction, SetupKind};

#[derive(Clone, Debug, Default)]
pub struct OpeningDrive {
    open: f64,
    high: f64,
    low: f64,
    bars: u32,
    up: u32,
    down: u32,
    volume_sum: f64,
    volume_bars: u32,
    done: bool,
}

impl Detector for OpeningDrive {
    fn start_session(&mut self) {
        *self = OpeningDrive::default();
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.opening_drive;
        if !cfg.enabled || ctx.class != SymbolClass::Index || self.done {
            return;
        }
        let bar = ctx.bar;
        let last = cfg.drive_minutes - 1;
        if ctx.minute > last {
            self.done = true;
            return;
        }
        if self.bars == 0 {
            self.open = ctx.session_open;
            self.high = bar.high;
            self.low = bar.low;
        }
        self.high = self.high.max(bar.high);
        self.low = self.low.min(bar.low);
        self.bars += 1;
        if bar.close > bar.open {
            self.up += 1;
        } else if bar.close < bar.open {
            self.down += 1;
        }
        if let Some(r) = ctx.volume.ratio() {
            self.volume_sum += r;
            self.volume_bars += 1;
        }
        if ctx.minute < last {
            return;
        }
        self.done = true;
        let (Some(daily_atr), Some(buffer)) = (ctx.daily_atr(), ctx.stop_buffer()) else {
            return;
        };
        // the drive runs from the open to its extreme; the last close says how much it kept
        let direction = if bar.close >= self.open {
            Direction::Long
        } else {
            Direction::Short
        };
        let min_move =
            (cfg.min_move_pct / 100.0 * self.open).max(cfg.min_move_daily_atr * daily_atr);
        let (extreme, with_drive) = match direction {
            Direction::Long => (self.high, self.up),
            Direction::Short => (self.low, self.down),
        };
        let extent = (extreme - self.open).abs();
        let retrace = if extent > 0.0 {
            (extreme - bar.close).abs() / extent
        } else {
            1.0
        };
        // a bar closing at its open moves neither way: it does not count against the drive
        let moving = self.up + self.down;
        let share = if moving > 0 {
            f64::from(with_drive) / f64::from(moving)
        } else {
            0.0
        };
        if extent < min_move || retrace > cfg.max_retrace || share < cfg.min_directional_share {
            return;
        }
        let mid = self.open + (extreme - self.open) / 2.0;
        let plan = match direction {
            Direction::Long => Plan::build(
                direction,
                extreme + tick(extreme),
                mid - buffer,
                Some(extreme + extent),
                ctx.config.min_reward_risk,
            ),
            Direction::Short => Plan::build(
                direction,
                extreme - tick(extreme),
                mid + buffer,
                Some(extreme - extent),
                ctx.config.min_reward_risk,
            ),
        };
        let Some(plan) = plan else { return };
        let average_volume =
            (self.volume_bars > 0).then(|| self.volume_sum / f64::from(self.volume_bars));
        let confidence = 60.0
            + ((extent / min_move - 1.0) * 10.0).clamp(0.0, 12.0)
            + ((cfg.max_retrace - retrace) * 20.0).clamp(0.0, 5.0)
            + average_volume.map_or(0.0, |v| ((v - 1.0) * 8.0).clamp(0.0, 8.0));
        let (moving, open, close) = (moving, self.open, bar.close);
        out.emit(ctx, SetupKind::OpeningDrive, plan, 0, confidence, |_| {
            let (way, ext_name) = if direction == Direction::Long { ("up", "high") } else { ("down", "low") };
            let volume = match (average_volume, ctx.volume.source) {
                (Some(v), super::context::VolumeSource::Proxy(p)) => format!("{p} (volume proxy) averaged {v:.1}× relative volume over the drive"),
                (Some(v), _) => format!("relative volume averaged {v:.1}× over the drive"),
                (None, _) => ctx.volume.describe(),
            };
            Description {
                dedup_key: format!("drive {way} from {}", px(open)),
                rationale: format!(
                    "First {} minutes drove {way} {} ({:.2} %) from the open {} to the {ext_name} {} (minimum {} = max({} %, {} × daily ATR {})), closed {} giving back {:.0} %, {with_drive} of {moving} moving bars closed {way}; {volume}.",
                    cfg.drive_minutes,
                    dist(extent),
                    extent / open * 100.0,
                    px(open),
                    px(extreme),
                    dist(min_move),
                    cfg.min_move_pct,
                    cfg.min_move_daily_atr,
                    dist(daily_atr),
                    px(close),
                    retrace * 100.0,
                ),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound, at, sym};
    use crate::domain::{Bar, Direction, SetupKind};

    /// Fifteen bars from 09:30, each one point higher: open 5000, close 5015.
    fn drive_bar(i: f64) -> (f64, f64, f64, f64) {
        (5000.0 + i, 5001.1 + i, 4999.9 + i, 5001.0 + i)
    }

    #[test]
    fn fifteen_minutes_straight_up_on_an_index_is_a_long_opening_drive() {
        let mut s = Scenario::new("SPX").prior_day(5020.0, 4980.0, 5000.0, 40.0);
        for i in 0..15 {
            let (o, h, l, c) = drive_bar(f64::from(i));
            s.bar(o, h, l, c, 0.0);
        }
        let found = s.of_kind(SetupKind::OpeningDrive);
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.bar_time, at(s.date, 14), "the 09:44 bar ends the window");
        assert_eq!(d.entry, 5015.11);
        assert_eq!(
            d.stop, 5007.25,
            "drive midpoint 5007.55 minus 0.25 ATR1m (1.2)"
        );
        assert_eq!(d.target, 5030.20, "the measured move");
        assert!(
            d.rationale
                .contains("drove up 15.10 (0.30 %) from the open 5000.00"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale.contains("volume test skipped"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn the_index_reads_its_etf_proxy_volume() {
        let mut s = Scenario::new("SPX").prior_day(5020.0, 4980.0, 5000.0, 40.0);
        let spy = sym("SPY");
        let mut ignored = Vec::new();
        for i in 0..15 {
            let start = at(s.date, i64::from(i));
            // the proxy's bar of the same minute comes first, on rising volume
            let proxy = Bar {
                start,
                open: 500.0,
                high: 500.1,
                low: 499.9,
                close: 500.0,
                volume: 1000.0 * f64::from(i + 1),
            };
            s.engine.on_bar(&spy, &proxy, &mut ignored);
            let (o, h, l, c) = drive_bar(f64::from(i));
            s.bar(o, h, l, c, 0.0);
        }
        let found = s.of_kind(SetupKind::OpeningDrive);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].rationale.contains("SPY (volume proxy) averaged"),
            "{}",
            found[0].rationale
        );
    }

    #[test]
    fn a_choppy_open_is_not_a_drive() {
        let mut s = Scenario::new("SPX").prior_day(5020.0, 4980.0, 5000.0, 40.0);
        for i in 0..15 {
            let up = i % 2 == 0;
            let base = 5000.0 + f64::from(i) * 0.5;
            if up {
                s.bar(base, base + 3.1, base - 0.1, base + 3.0, 0.0);
            } else {
                s.bar(base + 3.0, base + 3.1, base - 0.6, base - 0.5, 0.0);
            }
        }
        assert!(s.of_kind(SetupKind::OpeningDrive).is_empty());
    }

    #[test]
    fn a_stock_never_gets_an_opening_drive() {
        let mut s = Scenario::new("ACME").prior_day(5020.0, 4980.0, 5000.0, 40.0);
        for i in 0..15 {
            let (o, h, l, c) = drive_bar(f64::from(i));
            s.bar(o, h, l, c, 1000.0);
        }
        assert!(s.of_kind(SetupKind::OpeningDrive).is_empty());
    }
}
