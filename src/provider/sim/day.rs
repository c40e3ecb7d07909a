//! One session of the simulated market, every symbol's tape behind one lock: the market
//! answers through `&self` (a `Playable` is asked, never told, what time it is), and a
//! question about `now` plays the tapes to `now`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::Spec;
use super::plan::SessionPlan;
use super::tape::Tape;
use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::Session;
use crate::provider::bar_list::{BarList, MakeBars};

/// Every symbol's minutes of one session, 04:00–20:00 New York (regular hours only for
/// an index), generated as they are asked for.
pub struct SimDay {
    pub session: Session,
    plan: Arc<SessionPlan>,
    specs: Arc<[Spec]>,
    /// Each symbol's place in `specs` (its first, should a symbol be listed twice).
    index: Arc<HashMap<Symbol, usize>>,
    /// One tape per spec, in the same order.
    tapes: Mutex<Vec<Tape>>,
}

impl SimDay {
    /// The session's symbols, each starting from its previous session's last price
    /// (`prev_closes`, in `specs` order; NaN for none).
    pub(super) fn new(
        seed: u64,
        specs: Arc<[Spec]>,
        index: Arc<HashMap<Symbol, usize>>,
        session: Session,
        prev_closes: &[f64],
    ) -> SimDay {
        let plan = SessionPlan::new(seed, session);
        let tapes = specs
            .iter()
            .zip(prev_closes)
            .map(|(spec, close)| Tape::new(&plan, spec, *close))
            .collect();
        SimDay {
            session,
            plan: Arc::new(plan),
            specs,
            index,
            tapes: Mutex::new(tapes),
        }
    }

    /// Final bars of a symbol whose minute has ended by `now`.
    pub fn bars_until(&self, symbol: &Symbol, now: DateTime<Utc>) -> Vec<Bar> {
        self.index
            .get(symbol)
            .map(|&i| self.bar_list(i, now).load().to_vec())
            .unwrap_or_default()
    }

    /// The bars of the `i`-th symbol whose minute has ended by `until`, as a recipe that
    /// makes them when read (nothing held).
    pub(super) fn bar_list(&self, i: usize, until: DateTime<Utc>) -> BarList {
        match self.tapes().get(i).map(Tape::given_close) {
            Some(given_close) => self.bar_list_from(i, given_close, until),
            None => BarList::default(),
        }
    }

    /// [`SimDay::bar_list`] for the tape that starts from `given_close` (the caller
    /// holds the tapes).
    pub(super) fn bar_list_from(
        &self,
        i: usize,
        given_close: f64,
        until: DateTime<Utc>,
    ) -> BarList {
        BarList::Made(Arc::new(RemadeBars {
            plan: self.plan.clone(),
            specs: self.specs.clone(),
            i,
            given_close,
            until,
        }))
    }

    /// Plays every tape to `now` and shows each, in `specs` order, to `visit`.
    pub(super) fn visit(&self, now: DateTime<Utc>, mut visit: impl FnMut(usize, &Tape)) {
        let mut tapes = self.tapes();
        for (i, (tape, spec)) in tapes.iter_mut().zip(self.specs.iter()).enumerate() {
            tape.seek(&self.plan, spec, now);
            visit(i, tape);
        }
    }

    /// Plays the `i`-th tape to `now` and shows it to `visit`.
    pub(super) fn visit_one<R>(
        &self,
        i: usize,
        now: DateTime<Utc>,
        visit: impl FnOnce(&Tape) -> R,
    ) -> Option<R> {
        let mut tapes = self.tapes();
        let (tape, spec) = (tapes.get_mut(i)?, self.specs.get(i)?);
        tape.seek(&self.plan, spec, now);
        Some(visit(tape))
    }

    /// Plays every tape to the session's end: every bar final.
    pub(super) fn finish(&self) {
        self.visit(
            self.plan.end().max(self.session.after_hours_close()),
            |_, _| (),
        );
    }

    /// The regular-hours daily bar of the `i`-th symbol from its final bars.
    pub(super) fn daily_bar(&self, i: usize) -> Option<DailyBar> {
        self.tapes().get(i)?.regular_daily()
    }

    /// Each symbol's last final close (NaN for none), in `specs` order.
    pub(super) fn last_closes(&self) -> Vec<f64> {
        self.tapes()
            .iter()
            .map(|t| t.last_close().unwrap_or(f64::NAN))
            .collect()
    }

    /// The `i`-th symbol's last final close.
    pub(super) fn last_close(&self, i: usize) -> Option<f64> {
        self.tapes().get(i)?.last_close()
    }

    fn tapes(&self) -> MutexGuard<'_, Vec<Tape>> {
        // Nothing in a tape panics; should it ever, the next question still gets answered.
        self.tapes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One symbol's final bars of one session up to an instant, made again when read.
struct RemadeBars {
    plan: Arc<SessionPlan>,
    specs: Arc<[Spec]>,
    i: usize,
    given_close: f64,
    until: DateTime<Utc>,
}

impl MakeBars for RemadeBars {
    fn make(&self) -> Vec<Bar> {
        match self.specs.get(self.i) {
            Some(spec) => Tape::bars_until(&self.plan, spec, self.given_close, self.until),
            None => Vec::new(),
        }
    }
    fn count(&self) -> usize {
        self.specs
            .get(self.i)
            .map_or(0, |spec| self.plan.bars_until(spec, self.until))
    }
}

impl Clone for SimDay {
    fn clone(&self) -> Self {
        SimDay {
            session: self.session,
            plan: self.plan.clone(),
            specs: self.specs.clone(),
            index: self.index.clone(),
            tapes: Mutex::new(self.tapes().clone()),
        }
    }
}

impl fmt::Debug for SimDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimDay")
            .field("session", &self.session)
            .field("symbols", &self.specs.len())
            .finish()
    }
}
