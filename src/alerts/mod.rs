//! Price alerts (SPEC 17): what a trader waits for on one symbol, and the pure rules that
//! decide, update by update, whether it happened. No I/O: the evaluator worker owns an
//! [`AlertBook`], feeds it every price and final bar, and writes each firing through the
//! store's guard before announcing it.
//!
//! Rules, with `prev` the symbol's previous price (or, before any, the alert's
//! reference: the price when it was set):
//! - crosses above `L` fires when `prev < L ≤ price`: a jump over the level fires, and a
//!   price that touches `L` exactly fires once (the next price at `L` has `prev = L`);
//! - crosses below `L` fires when `prev > L ≥ price`;
//! - moves ± X % fires when `|price / reference − 1| ≥ X / 100`;
//! - relative volume above N fires on a final minute bar whose volume is more than N
//!   times the mean of the 20 bars before it (at least 5), when the bar before was not.
//!
//! - flip cross fires when the side of the latest zero gamma the price is on (at or above,
//!   or below) changes: a price that moves over the flip, or a refresh that moves the flip
//!   over a still price. The side before is the reference price's against the first flip
//!   the alert sees; without a flip (none in range) nothing is judged;
//! - wall break X fires on a final minute bar that closes above the latest call wall, or
//!   below the latest put wall, by ≥ X % of the close, when the bar before was not beyond
//!   (the reference price stands for that bar at first); a wall that moves is judged where
//!   it is at each close;
//! - regime change fires when a refresh's regime (total GEX ≥ 0) differs from the one
//!   before it that the alert saw; the first refresh it sees sets it.
//!
//! An alert fires once and is done, or re-arms (`repeat`): a crossing alert then waits for
//! the price to cross again (back and over), a move alert measures from the price it
//! fired at, a volume alert waits for a bar back under N, a gamma alert for the next
//! change. A refresh seen twice is judged once.

mod condition;
pub mod gamma;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

pub use condition::{Condition, ConditionError, MAX_MOVE_PCT, MAX_REL_VOLUME, MAX_WALL_BREAK_PCT};
pub use gamma::GammaState;

use crate::domain::{Bar, Symbol};

/// Where an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStatus {
    Armed,
    Fired,
    Disabled,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Armed => "armed",
            AlertStatus::Fired => "fired",
            AlertStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<AlertStatus> {
        match text {
            "armed" => Some(AlertStatus::Armed),
            "fired" => Some(AlertStatus::Fired),
            "disabled" => Some(AlertStatus::Disabled),
            _ => None,
        }
    }
}

/// One price alert as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceAlert {
    pub id: i64,
    pub symbol: Symbol,
    pub condition: Condition,
    pub note: String,
    pub status: AlertStatus,
    /// Re-arm after firing instead of being done.
    pub repeat: bool,
    /// The price when the alert was set (or last fired, for a repeating move alert):
    /// the base of a move, and the "previous price" before the evaluator saw any.
    pub reference: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
    /// The price of the latest firing.
    pub fired_price: Option<f64>,
}

impl PriceAlert {
    /// The condition as a trader reads it, a move with the price it is measured from:
    /// `moves ±2 % from 680.12`, `crosses above 450.50`.
    pub fn condition_text(&self) -> String {
        match (self.condition, self.reference) {
            (Condition::MovesPercent(_), Some(from)) => {
                format!("{} from {from:.2}", self.condition)
            }
            _ => self.condition.to_string(),
        }
    }
}

/// An alert's condition was met: the store records it (once), then it is announced.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub id: i64,
    pub symbol: Symbol,
    pub condition: Condition,
    /// The price (or, for volume, the bar's close) that met the condition.
    pub price: f64,
    /// The relative volume that met a volume condition.
    pub rel_volume: Option<f64>,
    pub at: DateTime<Utc>,
    /// Stays armed (`repeat`); otherwise it is done.
    pub rearmed: bool,
    /// The reference the alert measures from after this firing.
    pub reference: Option<f64>,
}

impl Firing {
    /// `SPY crosses above 450.00 at 450.12`, for the status line and Discord.
    pub fn describe(&self, note: &str) -> String {
        let what = match self.rel_volume {
            Some(r) => format!(
                "{} {}: {r:.1}× at {:.2}",
                self.symbol, self.condition, self.price
            ),
            None => format!("{} {} at {:.2}", self.symbol, self.condition, self.price),
        };
        let note = crate::text::printable(note.trim());
        let again = if self.rearmed { " (re-armed)" } else { "" };
        if note.is_empty() {
            format!("alert {}: {what}{again}", self.id)
        } else {
            format!("alert {}: {what} — {note}{again}", self.id)
        }
    }
}

/// Minutes of volume a relative-volume alert compares a bar with.
pub const VOLUME_BASELINE: usize = 20;
/// Fewest minutes of baseline before a volume alert can fire.
pub const VOLUME_MIN_BASELINE: usize = 5;

/// One symbol's armed alerts with the state their rules need.
#[derive(Clone, Debug, Default)]
struct SymbolAlerts {
    /// The latest price seen, and when it was made.
    last: Option<f64>,
    last_at: Option<DateTime<Utc>>,
    /// The last `VOLUME_BASELINE + 1` final minute volumes, oldest first.
    volumes: Vec<f64>,
    /// Whether the previous final bar was above each volume alert's ratio, or beyond a
    /// wall for each wall-break alert (by alert id).
    was_above: HashMap<i64, bool>,
    /// Each flip-cross alert's side of zero gamma at its last judgment (true: at or above).
    flip_side: HashMap<i64, bool>,
    /// Each regime-change alert's regime at the last refresh it saw (true: positive).
    regime: HashMap<i64, bool>,
    alerts: Vec<PriceAlert>,
}

/// The armed alerts, indexed by symbol so one price update looks only at its symbol's.
#[derive(Clone, Debug, Default)]
pub struct AlertBook {
    by_symbol: HashMap<Symbol, SymbolAlerts>,
    symbol_of: HashMap<i64, Symbol>,
    /// Each symbol's latest GEX refresh (kept for symbols without alerts too, so an alert
    /// added later is judged against it).
    gamma: HashMap<Symbol, GammaState>,
}

impl AlertBook {
    pub fn new() -> AlertBook {
        AlertBook::default()
    }

    /// Puts an alert in the book, replacing the one with the same id; an alert that is not
    /// armed is taken out instead.
    pub fn upsert(&mut self, alert: PriceAlert) {
        self.remove(alert.id);
        if alert.status != AlertStatus::Armed {
            return;
        }
        self.symbol_of.insert(alert.id, alert.symbol.clone());
        self.by_symbol
            .entry(alert.symbol.clone())
            .or_default()
            .alerts
            .push(alert);
    }

    pub fn remove(&mut self, id: i64) -> Option<PriceAlert> {
        let symbol = self.symbol_of.remove(&id)?;
        let entry = self.by_symbol.get_mut(&symbol)?;
        let index = entry.alerts.iter().position(|a| a.id == id)?;
        entry.was_above.remove(&id);
        entry.flip_side.remove(&id);
        entry.regime.remove(&id);
        Some(entry.alerts.swap_remove(index))
    }

    pub fn get(&self, id: i64) -> Option<&PriceAlert> {
        let symbol = self.symbol_of.get(&id)?;
        self.by_symbol
            .get(symbol)?
            .alerts
            .iter()
            .find(|a| a.id == id)
    }

    /// Number of armed alerts.
    pub fn len(&self) -> usize {
        self.symbol_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbol_of.is_empty()
    }

    /// Whether any alert watches `symbol`.
    pub fn watches(&self, symbol: &Symbol) -> bool {
        self.by_symbol
            .get(symbol)
            .is_some_and(|s| !s.alerts.is_empty())
    }

    /// The latest price seen of `symbol`.
    pub fn last_price(&self, symbol: &Symbol) -> Option<f64> {
        self.by_symbol.get(symbol)?.last
    }

    /// Sets the latest price without judging anything: a snapshot after a restart, so
    /// crossings from before are not replayed as new.
    pub fn prime(&mut self, symbol: &Symbol, price: f64) {
        if price.is_finite()
            && price > 0.0
            && let Some(entry) = self.by_symbol.get_mut(symbol)
        {
            entry.last = Some(price);
        }
    }

    /// A new price of `symbol` made at `at`: pushes the firings to `out`. A firing alert
    /// that does not repeat leaves the book; one that does stays with its new reference.
    /// A price that is not a finite positive number, or older than the latest one seen
    /// (a minute bar's close arriving after later quotes), is ignored and does not
    /// become `prev`: an old price would "cross back" over a level it never recrossed.
    pub fn on_price(
        &mut self,
        symbol: &Symbol,
        price: f64,
        at: DateTime<Utc>,
        out: &mut Vec<Firing>,
    ) {
        if !(price.is_finite() && price > 0.0) {
            return;
        }
        let Some(entry) = self.by_symbol.get_mut(symbol) else {
            return;
        };
        if entry.last_at.is_some_and(|t| at < t) {
            return;
        }
        entry.last_at = Some(at);
        let last = entry.last.replace(price);
        let before = out.len();
        for alert in &mut entry.alerts {
            let prev = last.or(alert.reference);
            let fires = match alert.condition {
                Condition::CrossesAbove(level) => prev.is_some_and(|p| p < level && price >= level),
                Condition::CrossesBelow(level) => prev.is_some_and(|p| p > level && price <= level),
                Condition::MovesPercent(pct) => alert
                    .reference
                    .is_some_and(|r| r > 0.0 && (price / r - 1.0).abs() * 100.0 >= pct),
                Condition::FlipCross => {
                    flip_crossed(&mut entry.flip_side, alert, self.gamma.get(symbol), price)
                }
                Condition::RelVolumeAbove(_)
                | Condition::WallBreak(_)
                | Condition::RegimeChange => false,
            };
            if fires {
                if alert.repeat && matches!(alert.condition, Condition::MovesPercent(_)) {
                    alert.reference = Some(price);
                }
                out.push(Firing {
                    id: alert.id,
                    symbol: symbol.clone(),
                    condition: alert.condition,
                    price,
                    rel_volume: None,
                    at,
                    rearmed: alert.repeat,
                    reference: alert.reference,
                });
            }
        }
        self.drop_finished(before, out);
    }

    /// A final minute bar of `symbol`: its close is a price, and its volume is judged by
    /// the relative-volume alerts.
    pub fn on_bar(&mut self, symbol: &Symbol, bar: &Bar, out: &mut Vec<Firing>) {
        let Some(entry) = self.by_symbol.get_mut(symbol) else {
            return;
        };
        let before = out.len();
        if bar.volume.is_finite() && bar.volume >= 0.0 {
            let ratio = {
                let window = &entry.volumes[entry.volumes.len().saturating_sub(VOLUME_BASELINE)..];
                let mean = window.iter().sum::<f64>() / window.len().max(1) as f64;
                (window.len() >= VOLUME_MIN_BASELINE && mean > 0.0).then(|| bar.volume / mean)
            };
            if entry.volumes.len() > VOLUME_BASELINE {
                entry.volumes.remove(0);
            }
            entry.volumes.push(bar.volume);
            if let Some(ratio) = ratio {
                for alert in &entry.alerts {
                    let Condition::RelVolumeAbove(n) = alert.condition else {
                        continue;
                    };
                    let above = ratio > n;
                    let was = entry.was_above.insert(alert.id, above).unwrap_or(false);
                    if above && !was {
                        out.push(Firing {
                            id: alert.id,
                            symbol: symbol.clone(),
                            condition: alert.condition,
                            price: bar.close,
                            rel_volume: Some(ratio),
                            at: bar.start + chrono::Duration::minutes(1),
                            rearmed: alert.repeat,
                            reference: alert.reference,
                        });
                    }
                }
            }
        }
        let gamma = self.gamma.get(symbol).copied();
        if let Some(gamma) = gamma.filter(|_| bar.close.is_finite() && bar.close > 0.0) {
            let at = bar.start + chrono::Duration::minutes(1);
            for alert in &entry.alerts {
                let Condition::WallBreak(pct) = alert.condition else {
                    continue;
                };
                let beyond = gamma.beyond_wall(bar.close, pct);
                let was = match entry.was_above.insert(alert.id, beyond) {
                    Some(was) => was,
                    None => alert.reference.is_some_and(|r| gamma.beyond_wall(r, pct)),
                };
                if beyond && !was {
                    out.push(Firing {
                        id: alert.id,
                        symbol: symbol.clone(),
                        condition: alert.condition,
                        price: bar.close,
                        rel_volume: None,
                        at,
                        rearmed: alert.repeat,
                        reference: alert.reference,
                    });
                }
            }
        }
        self.drop_finished(before, out);
        self.on_price(
            symbol,
            bar.close,
            bar.start + chrono::Duration::minutes(1),
            out,
        );
    }

    /// A GEX refresh of `symbol` (its all-expirations profile): flip-cross alerts judge
    /// the last price against the new flip, regime-change alerts the new regime. A refresh
    /// no newer than the last one seen changes nothing (the board is republished whole).
    pub fn on_gex(&mut self, symbol: &Symbol, gamma: GammaState, out: &mut Vec<Firing>) {
        if self
            .gamma
            .get(symbol)
            .is_some_and(|seen| gamma.at <= seen.at)
        {
            return;
        }
        self.gamma.insert(symbol.clone(), gamma);
        let Some(entry) = self.by_symbol.get_mut(symbol) else {
            return;
        };
        let before = out.len();
        let price = entry.last;
        for alert in &mut entry.alerts {
            let fires = match alert.condition {
                Condition::FlipCross => match price {
                    Some(p) => flip_crossed(&mut entry.flip_side, alert, Some(&gamma), p),
                    None => false,
                },
                Condition::RegimeChange => {
                    let was = entry.regime.insert(alert.id, gamma.positive);
                    was.is_some_and(|was| was != gamma.positive)
                }
                _ => false,
            };
            if fires {
                out.push(Firing {
                    id: alert.id,
                    symbol: symbol.clone(),
                    condition: alert.condition,
                    price: price.unwrap_or(gamma.spot),
                    rel_volume: None,
                    at: gamma.at.max(entry.last_at.unwrap_or(gamma.at)),
                    rearmed: alert.repeat,
                    reference: alert.reference,
                });
            }
        }
        self.drop_finished(before, out);
    }

    /// Takes the alerts that fired for good (`out[from..]`, not re-armed) out of the book.
    fn drop_finished(&mut self, from: usize, out: &[Firing]) {
        for firing in &out[from..] {
            if !firing.rearmed {
                self.remove(firing.id);
            }
        }
    }

    /// Makes the book hold exactly the `armed` alerts (the store's): the ones it lacks are
    /// added, the ones no longer armed are taken out, and the ones it has keep their state
    /// (an alert is never edited, only added, fired and removed). Returns the ids added or
    /// taken out.
    pub fn sync(&mut self, armed: &[PriceAlert]) -> Vec<i64> {
        let wanted: HashSet<i64> = armed.iter().map(|a| a.id).collect();
        let mut changed: Vec<i64> = self
            .symbol_of
            .keys()
            .filter(|id| !wanted.contains(id))
            .copied()
            .collect();
        for &id in &changed {
            self.remove(id);
        }
        for alert in armed {
            if !self.symbol_of.contains_key(&alert.id) {
                changed.push(alert.id);
                self.upsert(alert.clone());
            }
        }
        changed
    }

    /// The symbols with armed alerts.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.by_symbol
            .iter()
            .filter(|(_, s)| !s.alerts.is_empty())
            .map(|(symbol, _)| symbol)
    }
}

/// Judges a flip-cross alert at `price` against `gamma`'s flip: remembers the side and says
/// whether it changed. The first judgment takes the side before from the alert's reference
/// price (the price when it was set), else from `price` itself (no firing). Without a flip
/// the memory is dropped: the next flip starts afresh.
fn flip_crossed(
    sides: &mut HashMap<i64, bool>,
    alert: &PriceAlert,
    gamma: Option<&GammaState>,
    price: f64,
) -> bool {
    let Some(now) = gamma.and_then(|g| g.above_flip(price)) else {
        sides.remove(&alert.id);
        return false;
    };
    let before = sides.insert(alert.id, now).or_else(|| {
        alert
            .reference
            .and_then(|r| gamma.and_then(|g| g.above_flip(r)))
    });
    before.is_some_and(|b| b != now)
}

#[cfg(test)]
mod gamma_tests;
#[cfg(test)]
mod tests;
