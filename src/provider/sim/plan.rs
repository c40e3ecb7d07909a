//! One simulated session's shared part: the three factor paths every symbol follows
//! (broad market, tech, small caps), drawn once per session and small (one f64 per
//! 15-second step per factor: about 3 × 3,841 values), plus the session's clock.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;

use super::{EXTENDED_MINUTES, STEPS_PER_MINUTE, Spec, normal, rng_for};
use crate::market::calendar::Session;

#[derive(Clone, Debug)]
pub(super) struct SessionPlan {
    pub seed: u64,
    pub session: Session,
    /// 04:00 New York: minute 0 and step boundary 0.
    pub pre_open: DateTime<Utc>,
    /// 20:00 New York (after hours end).
    pub after_close: DateTime<Utc>,
    /// Minutes of the regular session (390, 210 on an early close).
    pub regular_minutes: f64,
    /// Minutes from the pre-market open to the after-hours close.
    pub total_minutes: usize,
    /// Log levels of the broad, tech and small-cap factors at each 15-second step
    /// boundary (index 0 = 04:00), `total_minutes × 4 + 1` each.
    pub factors: [Vec<f64>; 3],
}

impl SessionPlan {
    /// The session's clock and factor paths. Model: GARCH(1,1) shocks with an intraday
    /// U-shaped volatility multiplier, a trend or range character drawn per day, and an
    /// overnight gap split between the 04:00 pre-market open and the 09:30 open.
    pub fn new(seed: u64, session: Session) -> SessionPlan {
        let mut rng = rng_for(seed, session.date, 0x5eed);
        let pre_open = session.pre_market_open();
        let regular_minutes = (session.close - session.open).num_minutes().max(1) as f64;
        let after_close = session.after_hours_close();
        let total_minutes =
            ((after_close - pre_open).num_minutes()).clamp(0, EXTENDED_MINUTES + 60) as usize;

        // The day's character: a trend day drifts one way, a range day pulls back to its open.
        let trend = if rng.random::<f64>() < 0.4 {
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            sign * (0.004 + 0.006 * rng.random::<f64>())
        } else {
            0.0
        };
        let gap = 0.0035 * normal(&mut rng);
        let base_step_vol = 0.010 / (regular_minutes * STEPS_PER_MINUTE as f64).sqrt();

        let steps = total_minutes * STEPS_PER_MINUTE;
        let mut factors = [
            vec![0.0f64; steps + 1],
            vec![0.0f64; steps + 1],
            vec![0.0f64; steps + 1],
        ];
        // GARCH(1,1) on the deseasonalised shock, so the open's higher volatility and the
        // gap do not feed back into the variance (which would make it explode).
        let mut garch_var = base_step_vol * base_step_vol;
        let mut last_shock = 0.0f64;
        let (alpha, beta) = (0.08, 0.90);
        for i in 0..steps {
            let at = pre_open + Duration::seconds(15 * i as i64);
            let regular = at >= session.open && at < session.close;
            let t = (at - session.open).num_seconds() as f64 / 60.0;
            let u_shape = if regular {
                1.0 + 1.4 * (-t / 20.0).exp() + 0.5 * (-(regular_minutes - t) / 30.0).exp()
            } else {
                0.3
            };
            garch_var = base_step_vol * base_step_vol * (1.0 - alpha - beta)
                + alpha * last_shock * last_shock
                + beta * garch_var;
            let shock = garch_var.sqrt() * normal(&mut rng);
            last_shock = shock;
            let sigma = garch_var.sqrt() * u_shape;
            let mut drift = 0.0;
            if regular {
                drift += trend / (regular_minutes * STEPS_PER_MINUTE as f64);
                if trend == 0.0 {
                    // Range day: mean reversion of the broad factor toward the session open.
                    let open_level =
                        factors[0][minute_index(session.open, pre_open) * STEPS_PER_MINUTE];
                    drift -= 0.002 * (factors[0][i] - open_level);
                }
            }
            if i == 0 {
                drift += 0.6 * gap;
            }
            if at == session.open {
                drift += 0.4 * gap;
            }
            let market = drift + shock * u_shape;
            let tech = 1.15 * market + 0.6 * sigma * normal(&mut rng);
            let small = 1.1 * market + 0.7 * sigma * normal(&mut rng);
            factors[0][i + 1] = factors[0][i] + market;
            factors[1][i + 1] = factors[1][i] + tech;
            factors[2][i + 1] = factors[2][i] + small;
        }
        SessionPlan {
            seed,
            session,
            pre_open,
            after_close,
            regular_minutes,
            total_minutes,
            factors,
        }
    }

    /// 15-second steps in the session (the factor paths have one more boundary).
    pub fn steps(&self) -> usize {
        self.total_minutes * STEPS_PER_MINUTE
    }

    /// The start of minute `m` (0 = 04:00 New York).
    pub fn minute_start(&self, m: usize) -> DateTime<Utc> {
        self.pre_open + Duration::minutes(m as i64)
    }

    /// The end of the session's last minute: every bar is final then.
    pub fn end(&self) -> DateTime<Utc> {
        self.minute_start(self.total_minutes)
    }

    /// How many final bars `spec` has by `until`: its minutes with a bar that ended by
    /// then (what a tape played to `until` has made).
    pub fn bars_until(&self, spec: &Spec, until: DateTime<Utc>) -> usize {
        (0..self.total_minutes)
            .map(|m| self.minute_start(m))
            .take_while(|start| *start + Duration::minutes(1) <= until)
            .filter(|start| self.has_bar(spec, *start))
            .count()
    }

    /// Whether the minute starting at `start` has a bar for `spec`: an index trades only
    /// in regular hours, and nothing trades after the after-hours close.
    pub fn has_bar(&self, spec: &Spec, start: DateTime<Utc>) -> bool {
        self.session.contains(start) || (!spec.is_index && start < self.after_close)
    }
}

fn minute_index(at: DateTime<Utc>, pre_open: DateTime<Utc>) -> usize {
    (at - pre_open).num_minutes().max(0) as usize
}
