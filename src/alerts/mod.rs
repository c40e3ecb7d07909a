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
//! An alert fires once and is done, or re-arms (`repeat`): a crossing alert then waits for
//! the price to cross again (back and over), a move alert measures from the price it
//! fired at, a volume alert waits for a bar back under N.

mod condition;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

pub use condition::{Condition, ConditionError, MAX_MOVE_PCT, MAX_REL_VOLUME};

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
    /// Whether the previous final bar was above each volume alert's ratio (by alert id).
    was_above: HashMap<i64, bool>,
    alerts: Vec<PriceAlert>,
}

/// The armed alerts, indexed by symbol so one price update looks only at its symbol's.
#[derive(Clone, Debug, Default)]
pub struct AlertBook {
    by_symbol: HashMap<Symbol, SymbolAlerts>,
    symbol_of: HashMap<i64, Symbol>,
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
                Condition::RelVolumeAbove(_) => false,
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
        self.drop_finished(before, out);
        self.on_price(
            symbol,
            bar.close,
            bar.start + chrono::Duration::minutes(1),
            out,
        );
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

#[cfg(test)]
mod tests;
