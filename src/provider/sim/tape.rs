//! One symbol's minutes of one session, generated as the session's clock reaches them
//! instead of all at once (issue 25 item 5: two whole sessions of 8,000 symbols held
//! 1.4 GB). The tape draws from the symbol's own random streams in exactly the order a
//! whole-session generation would, so every price is bit-identical to it.
//!
//! The symbol's stream gives first one normal per 15-second step boundary (its own noise
//! walk), then per minute with a bar two uniforms (wicks) and, unless an index, a normal
//! (volume noise). The tape holds two cursors into it: `noise` at the next boundary, and
//! `minutes` past every boundary's normal.
//!
//! Memory (issue 25 item 5): a tape holds no bars, only its random streams, the latest
//! minute, the last close and the regular session's running daily bar (under a kilobyte
//! a symbol). A consumer's bars are made again from a fresh tape ([`Tape::bars_until`]): the
//! same streams give the same bars.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::plan::SessionPlan;
use super::{STEPS_PER_MINUTE, SimMinute, Spec, fnv, normal, rng_for, step_instant};
use crate::domain::{Bar, DailyBar};
use crate::market::calendar::Session;

#[derive(Clone, Debug)]
pub(super) struct Tape {
    /// The previous session's last price as given (NaN when unknown): to start over.
    given_close: f64,
    /// The price the symbol's log path starts from (the given close, else its base price).
    anchor: f64,
    /// Own noise per 15-second step, as a log return.
    noise_step: f64,
    noise: ChaCha8Rng,
    /// The symbol's own log noise accumulated so far.
    own: f64,
    minutes: ChaCha8Rng,
    /// The next minute to generate (0 = 04:00 New York) and its opening price.
    next_minute: usize,
    next_open: f64,
    /// The close of the last final bar.
    last_close: Option<f64>,
    /// The regular session's daily bar from its final minutes so far.
    regular: Option<DailyBar>,
    /// The latest minute generated, and whether its bar is still to become final.
    latest: Option<SimMinute>,
    latest_pending: bool,
    /// The instant the tape has been played to.
    position: DateTime<Utc>,
}

impl Tape {
    pub fn new(plan: &SessionPlan, spec: &Spec, given_close: f64) -> Tape {
        let noise = rng_for(
            plan.seed,
            plan.session.date,
            fnv(spec.symbol.as_str().as_bytes()),
        );
        let mut minutes = noise.clone();
        for _ in 0..=plan.steps() {
            normal(&mut minutes);
        }
        let mut tape = Tape {
            given_close,
            anchor: if given_close.is_finite() {
                given_close
            } else {
                spec.base_price
            },
            noise_step: spec.idio_daily_vol
                / (plan.regular_minutes * STEPS_PER_MINUTE as f64).sqrt(),
            noise,
            own: 0.0,
            minutes,
            next_minute: 0,
            next_open: 0.0,
            last_close: None,
            regular: None,
            latest: None,
            latest_pending: false,
            position: DateTime::<Utc>::MIN_UTC,
        };
        tape.next_open = tape.price_at(plan, spec, 0);
        tape
    }

    /// Plays the tape to `now`, starting over when `now` is earlier than where it is (a
    /// past step's prices are not kept): afterwards `latest` is the minute in progress or
    /// last traded at `now`.
    pub fn seek(&mut self, plan: &SessionPlan, spec: &Spec, now: DateTime<Utc>) {
        if now < self.position {
            *self = Tape::new(plan, spec, self.given_close);
        }
        self.advance(plan, spec, now);
    }

    /// Plays the tape forward to `now` (nothing when it is already there or past it):
    /// every minute whose first 15-second price is known by `now` is generated, and every
    /// bar whose minute has ended by `now` is final.
    pub fn advance(&mut self, plan: &SessionPlan, spec: &Spec, now: DateTime<Utc>) {
        self.advance_with(plan, spec, now, |_| ());
    }

    /// [`Tape::advance`], showing each bar that becomes final to `on_final`, in order.
    fn advance_with(
        &mut self,
        plan: &SessionPlan,
        spec: &Spec,
        now: DateTime<Utc>,
        mut on_final: impl FnMut(&Bar),
    ) {
        if now <= self.position {
            return;
        }
        self.position = now;
        loop {
            if let (true, Some(minute)) = (self.latest_pending, self.latest) {
                if minute.bar.start + Duration::minutes(1) > now {
                    return;
                }
                self.finalize(plan.session, &minute.bar);
                on_final(&minute.bar);
                self.latest_pending = false;
            }
            if self.next_minute >= plan.total_minutes
                || step_instant(plan.minute_start(self.next_minute), 0) > now
            {
                return;
            }
            self.generate_minute(plan, spec);
        }
    }

    /// The final bars whose minute ended by `until` of the tape that starts from
    /// `given_close`, made by a fresh tape (bit-identical to those any such tape made).
    pub fn bars_until(
        plan: &SessionPlan,
        spec: &Spec,
        given_close: f64,
        until: DateTime<Utc>,
    ) -> Vec<Bar> {
        let mut bars = Vec::new();
        Tape::new(plan, spec, given_close).advance_with(plan, spec, until, |b| bars.push(*b));
        bars
    }

    /// The previous session's last price this tape starts from (NaN when unknown).
    pub fn given_close(&self) -> f64 {
        self.given_close
    }

    fn finalize(&mut self, session: Session, bar: &Bar) {
        self.last_close = Some(bar.close);
        if session.contains(bar.start) {
            self.regular = Some(match self.regular {
                None => DailyBar::of_minute(session.date, bar),
                Some(day) => day.with_minute(bar),
            });
        }
    }

    /// The latest 15-second price at or before `now` (the tape played to `now`); `None`
    /// before the symbol's first minute of the session.
    pub fn last_step(&self, now: DateTime<Utc>) -> Option<f64> {
        let minute = self.latest?;
        (0..STEPS_PER_MINUTE)
            .rev()
            .find(|&i| step_instant(minute.bar.start, i) <= now)
            .map(|i| minute.steps[i])
    }

    /// The latest minute generated (the tape played to the instant asked about).
    pub fn latest(&self) -> Option<&SimMinute> {
        self.latest.as_ref()
    }

    /// The close of the last final bar.
    pub fn last_close(&self) -> Option<f64> {
        self.last_close
    }

    /// The regular session's daily bar from the final bars so far (as
    /// [`DailyBar::from_minutes`] makes it from them).
    pub fn regular_daily(&self) -> Option<DailyBar> {
        self.regular
    }

    /// The price at step boundary `i`, the next one in the noise stream.
    fn price_at(&mut self, plan: &SessionPlan, spec: &Spec, i: usize) -> f64 {
        let level = plan.factors[spec.factor as usize][i];
        let price = self.anchor * (spec.beta * level + self.own).exp();
        self.own += self.noise_step * normal(&mut self.noise);
        price
    }

    fn generate_minute(&mut self, plan: &SessionPlan, spec: &Spec) {
        let m = self.next_minute;
        let mut points = [self.next_open; STEPS_PER_MINUTE + 1];
        for (k, point) in points.iter_mut().enumerate().skip(1) {
            *point = self.price_at(plan, spec, m * STEPS_PER_MINUTE + k);
        }
        self.next_open = points[STEPS_PER_MINUTE];
        self.next_minute += 1;
        let start = plan.minute_start(m);
        if plan.has_bar(spec, start) {
            self.latest = Some(build_minute(
                &mut self.minutes,
                spec,
                plan.session,
                start,
                &points,
                plan.regular_minutes,
            ));
            self.latest_pending = true;
        }
    }
}

/// A minute's bar from its five step-boundary prices (open, then the four 15-second
/// prices): wicks beyond the steps, U-shaped regular-session volume scaled by the move.
fn build_minute(
    rng: &mut ChaCha8Rng,
    spec: &Spec,
    session: Session,
    start: DateTime<Utc>,
    points: &[f64],
    regular_minutes: f64,
) -> SimMinute {
    let open = points[0];
    let mut steps = [0.0; STEPS_PER_MINUTE];
    steps.copy_from_slice(&points[1..=STEPS_PER_MINUTE]);
    let close = steps[STEPS_PER_MINUTE - 1];
    let step_size = points
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    let wick = || 0.35 * step_size;
    let high = steps.iter().copied().fold(open, f64::max) + wick() * rng.random::<f64>();
    let low = steps.iter().copied().fold(open, f64::min) - wick() * rng.random::<f64>();
    let regular = start >= session.open && start < session.close;
    let volume = if spec.is_index {
        0.0
    } else {
        let t = (start - session.open).num_minutes() as f64;
        let per_minute = spec.daily_volume / regular_minutes;
        let shape = if regular {
            0.55 + 2.2 * (-t / 25.0).exp() + 1.6 * (-(regular_minutes - 1.0 - t) / 25.0).exp()
        } else {
            0.02
        };
        let activity = 0.7 + 60.0 * ((close - open) / open).abs();
        let noise = (0.3 * normal(rng)).exp();
        (per_minute * shape * activity.min(4.0) * noise).round()
    };
    SimMinute {
        bar: Bar {
            start,
            open,
            high,
            low,
            close,
            volume,
        },
        steps,
    }
}
