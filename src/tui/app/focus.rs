//! The focused symbol and what follows it (SPEC 17): selecting a Scanner, Setups or Brief
//! row focuses its symbol, `/` focuses any valid symbol (the watchlist's rule,
//! `Symbol::parse`), GEX and the Chart follow; the intraday bars every pane reads; `A`
//! with its prefilled alert and the alert events. The Chart's own keys are its pane's.

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::{InputOutcome, TextInput};
use super::{App, Effect, Overlay, PaneId};
use crate::alerts::{Condition, PriceAlert};
use crate::domain::{Bar, Symbol};
use crate::market::intraday::{self, PriorHlc};
use crate::provider::{MarketSnapshot, Quote};
use crate::store::{MAX_ALERT_NOTE_CHARS, NewAlert};

/// One symbol's intraday data as the screen keeps it. Every fed symbol has one, but only
/// the watchlist's and the focused symbol's keep their minute bars (issue 25: with a
/// 500-symbol universe the others would hold megabytes nobody draws); the rest keep the
/// small state (prior day, last price). A symbol focused later has its bars loaded from a
/// snapshot (`Effect::LoadBars`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Intraday {
    /// Today's final regular-session minute bars, in time order (empty for a symbol off
    /// the watchlist and not focused).
    pub bars: Vec<Bar>,
    /// The prior session's high, low and close.
    pub prior: Option<PriorHlc>,
    /// The latest quote.
    pub last: Option<f64>,
}

/// A price `A` can prefill an alert with: `label` says where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertCandidate {
    pub label: String,
    pub condition: Condition,
}

/// Longest text the alert editor takes.
const ALERT_CHARS: usize = 40 + MAX_ALERT_NOTE_CHARS;
/// Longest text the symbol search takes.
const SEARCH_CHARS: usize = Symbol::MAX_LEN + 4;

impl App {
    /// Focuses `symbol`: the header shows it, the GEX pane and the Chart follow. Returns
    /// the GEX request for it when the provider has chains.
    pub fn set_focus(&mut self, symbol: Symbol) -> Vec<Effect> {
        if self.focus_symbol.as_ref() == Some(&symbol) {
            return vec![];
        }
        let mut effects: Vec<Effect> = self.show_symbol(symbol).into_iter().collect();
        effects.extend(self.gex_effect(false));
        effects
    }

    /// Focuses `symbol` without asking for its GEX profile: the Chart starts at its
    /// latest bar. The symbol focused before drops its bars unless it is watched; the new
    /// one, when fed but not watched, has none kept: the returned effect loads them.
    pub fn show_symbol(&mut self, symbol: Symbol) -> Option<Effect> {
        if self.focus_symbol.as_ref() == Some(&symbol) {
            return None;
        }
        self.panes.chart.reset_cursor();
        if let Some(old) = self.focus_symbol.take()
            && !self.watches(&old)
            && let Some(data) = self.market.intraday.get_mut(&old)
        {
            data.bars = Vec::new();
        }
        let load = (!self.watches(&symbol) && self.market.intraday.contains_key(&symbol))
            .then(|| Effect::LoadBars(symbol.clone()));
        self.focus_symbol = Some(symbol);
        load
    }

    /// Whether `symbol` is on the watchlist.
    fn watches(&self, symbol: &Symbol) -> bool {
        self.market.watchlist.iter().any(|r| &r.symbol == symbol)
    }

    /// Whether the screen keeps `symbol`'s minute bars: watched or focused.
    fn keeps_bars(&self, symbol: &Symbol) -> bool {
        self.focus_symbol.as_ref() == Some(symbol) || self.watches(symbol)
    }

    /// The symbol of the selected row of `pane` (Scanner: watchlist rows, then the
    /// opportunities; Setups: the visible setups; Brief: the symbol whose section the
    /// scrolled-to line is in).
    pub fn selected_symbol(&self, pane: PaneId) -> Option<Symbol> {
        match pane {
            PaneId::Scanner => self.panes.scanner.selected_symbol(&self.market),
            PaneId::Setups => self.selected_setup().map(|r| r.setup.symbol.clone()),
            PaneId::Brief => self.panes.brief.section_symbol(),
            _ => None,
        }
    }

    pub(super) fn record_snapshot(&mut self, snapshot: &MarketSnapshot) {
        let session = snapshot.session;
        let previous = crate::market::calendar::previous_session(session.date);
        for s in &snapshot.symbols {
            let keep = self.keeps_bars(&s.symbol);
            let regular = |bars: &[Bar], open, close| -> Vec<Bar> {
                bars.iter()
                    .filter(|b| b.start >= open && b.start < close)
                    .copied()
                    .collect()
            };
            let bars = if keep {
                regular(&s.bars.load(), session.open, session.close)
            } else {
                Vec::new()
            };
            let prior = intraday::prior_hlc(&regular(
                &s.previous_bars.load(),
                previous.open,
                previous.close,
            ))
            .or_else(|| {
                s.daily.last().map(|d| PriorHlc {
                    high: d.high,
                    low: d.low,
                    close: d.close,
                })
            });
            self.market.intraday.insert(
                s.symbol.clone(),
                Intraday {
                    bars,
                    prior,
                    last: s.last.as_ref().map(|q| q.price),
                },
            );
        }
    }

    pub(super) fn record_intraday(&mut self, quotes: &[Quote], bars: &[(Symbol, Bar)]) {
        for quote in quotes {
            self.market
                .intraday
                .entry(quote.symbol.clone())
                .or_default()
                .last = Some(quote.price);
        }
        let Some(session) = self.market.session else {
            return;
        };
        for (symbol, bar) in bars {
            if session.contains(bar.start) && self.keeps_bars(symbol) {
                self.market
                    .intraday
                    .entry(symbol.clone())
                    .or_default()
                    .bars
                    .push(*bar);
            }
        }
    }

    /// The focused symbol's bars in the Chart's timeframe.
    pub fn chart_bars(&self) -> Vec<Bar> {
        self.panes
            .chart
            .bars(&self.market, self.focus_symbol.as_ref())
    }

    /// The setup the Chart draws: the Setups pane's selection when it is on the focused
    /// symbol, else that symbol's newest live setup.
    pub fn chart_setup(&self) -> Option<&crate::store::SetupRow> {
        let symbol = self.focus_symbol.as_ref()?;
        self.selected_setup()
            .filter(|r| &r.setup.symbol == symbol)
            .or_else(|| {
                self.panes
                    .setups
                    .rows()
                    .iter()
                    .find(|r| &r.setup.symbol == symbol && r.setup.is_live())
            })
    }

    /// The armed alerts of the focused symbol.
    pub fn focus_alerts(&self) -> impl Iterator<Item = &PriceAlert> {
        self.panes.chart.alerts.iter().filter(|a| {
            Some(&a.symbol) == self.focus_symbol.as_ref()
                && a.status == crate::alerts::AlertStatus::Armed
        })
    }

    pub(super) fn open_search(&mut self) {
        self.overlay = Some(Overlay::Search {
            input: TextInput::new("", SEARCH_CHARS),
            error: None,
        });
    }

    pub(super) fn search_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(Overlay::Search { input, error }) = &mut self.overlay else {
            return vec![];
        };
        match input.on_key(key) {
            InputOutcome::Editing => {
                *error = None;
                vec![]
            }
            InputOutcome::Cancel => {
                self.overlay = None;
                vec![]
            }
            InputOutcome::Submit(text) => match Symbol::parse(&text) {
                Ok(symbol) => {
                    self.overlay = None;
                    let fed = self.market.intraday.contains_key(&symbol);
                    let effects = self.set_focus(symbol.clone());
                    if fed {
                        self.say(format!("focus: {symbol}"));
                    } else {
                        self.say(format!(
                            "focus: {symbol} (not in this session's feed: no prices until it is \
                             on the watchlist or has an alert, from the next start)"
                        ));
                    }
                    effects
                }
                Err(e) => {
                    *error = Some(e.to_string());
                    vec![]
                }
            },
        }
    }

    /// The prices `A` offers for the focused symbol, the most likely first for the pane
    /// the trader is in.
    pub fn alert_candidates(&self) -> Vec<AlertCandidate> {
        let Some(symbol) = &self.focus_symbol else {
            return Vec::new();
        };
        let last = self.market.intraday.get(symbol).and_then(|d| d.last);
        let side = |price: f64| match last {
            Some(l) if price < l => Condition::CrossesBelow(price),
            _ => Condition::CrossesAbove(price),
        };
        let mut cursor = Vec::new();
        let mut setup = Vec::new();
        let mut gex = Vec::new();
        let mut levels = Vec::new();
        if let Some(i) = self.panes.chart.view.cursor
            && let Some(bar) = self.chart_bars().get(i)
        {
            cursor.push(AlertCandidate {
                label: "cursor bar close".into(),
                condition: side(bar.close),
            });
        }
        if let Some(row) = self.chart_setup() {
            let s = &row.setup;
            for (what, price) in [("entry", s.entry), ("stop", s.stop), ("target", s.target)] {
                setup.push(AlertCandidate {
                    label: format!("setup #{} {what}", s.id),
                    condition: side(price),
                });
            }
        }
        // The pane's profile, else all expirations (the board holds 0DTE beside it).
        if let Some(profile) = self.panes.gex.profile(Some(symbol)).or_else(|| {
            self.panes
                .gex
                .profile_under(Some(symbol), crate::gex::ExpiryFilter::All)
        }) {
            for (what, price) in [
                ("GEX call wall", profile.call_wall),
                ("GEX put wall", profile.put_wall),
                ("zero gamma", profile.zero_gamma),
            ] {
                if let Some(price) = price {
                    gex.push(AlertCandidate {
                        label: what.into(),
                        condition: side(price),
                    });
                }
            }
            // The gamma conditions (SPEC 20): they follow the refreshes, not one price.
            if profile.zero_gamma.is_some() {
                gex.push(AlertCandidate {
                    label: "spot crosses the latest zero gamma".into(),
                    condition: Condition::FlipCross,
                });
            }
            if profile.call_wall.is_some() || profile.put_wall.is_some() {
                gex.push(AlertCandidate {
                    label: "a minute closes beyond a wall".into(),
                    condition: Condition::WallBreak(0.1),
                });
            }
            gex.push(AlertCandidate {
                label: "total GEX changes sign".into(),
                condition: Condition::RegimeChange,
            });
        }
        for (label, price) in self.market.levels.get(symbol).into_iter().flatten() {
            levels.push(AlertCandidate {
                label: (*label).into(),
                condition: side(*price),
            });
        }
        let mut out = match self.focus {
            PaneId::Gex => [gex, setup, cursor, levels].concat(),
            PaneId::Setups => [setup, gex, cursor, levels].concat(),
            _ => [cursor, setup, gex, levels].concat(),
        };
        if let Some(l) = last {
            out.push(AlertCandidate {
                label: format!("±1 % from the last price {l:.2}"),
                condition: Condition::MovesPercent(1.0),
            });
        }
        out
    }

    /// `A`: the alert editor, prefilled with the first candidate.
    pub(super) fn open_alert_editor(&mut self) {
        let Some(symbol) = self.focus_symbol.clone() else {
            self.say_error("no focused symbol: select a row or press / first");
            return;
        };
        let candidates = self.alert_candidates();
        let text = candidates.first().map_or_else(String::new, alert_text);
        self.overlay = Some(Overlay::NewAlert {
            symbol,
            input: TextInput::new(text, ALERT_CHARS),
            candidates,
            pick: 0,
            error: None,
        });
    }

    pub(super) fn alert_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let last = self
            .focus_symbol
            .as_ref()
            .and_then(|s| self.market.intraday.get(s))
            .and_then(|d| d.last);
        let Some(Overlay::NewAlert {
            symbol,
            input,
            candidates,
            pick,
            error,
        }) = &mut self.overlay
        else {
            return vec![];
        };
        if matches!(key.code, KeyCode::Up | KeyCode::Down) && !candidates.is_empty() {
            let n = candidates.len();
            *pick = if key.code == KeyCode::Down {
                (*pick + 1) % n
            } else {
                (*pick + n - 1) % n
            };
            input.text = alert_text(&candidates[*pick]);
            *error = None;
            return vec![];
        }
        match input.on_key(key) {
            InputOutcome::Editing => {
                *error = None;
                vec![]
            }
            InputOutcome::Cancel => {
                self.overlay = None;
                self.say("no alert set");
                vec![]
            }
            InputOutcome::Submit(text) => match parse_alert(symbol, &text, last) {
                Ok(alert) => {
                    self.overlay = None;
                    self.say(format!(
                        "saving the alert: {} {}…",
                        alert.symbol, alert.condition
                    ));
                    vec![Effect::AddAlert(alert)]
                }
                Err(message) => {
                    *error = Some(message);
                    vec![]
                }
            },
        }
    }

    pub(super) fn confirm_remove_alert(&mut self, yes: bool) -> Vec<Effect> {
        let Some(Overlay::ConfirmRemoveAlert { id }) = self.overlay.take() else {
            return vec![];
        };
        if yes {
            self.say(format!("removing alert {id}…"));
            vec![Effect::RemoveAlert { id }]
        } else {
            self.say(format!("alert {id} kept"));
            vec![]
        }
    }

    /// The trader's alerts as the store has them after a change made elsewhere (another
    /// terminal; for an attached screen, the server's evaluator): a firing new to this
    /// screen is announced as the evaluator's own would be, anything else in a word.
    /// `true` when they differ from the ones shown.
    pub(super) fn on_alerts_changed(&mut self, alerts: Vec<PriceAlert>) -> bool {
        if alerts == self.panes.chart.alerts {
            return false;
        }
        let fired: Vec<String> = alerts
            .iter()
            .filter(|a| {
                a.fired_at.is_some()
                    && self
                        .panes
                        .chart
                        .alerts
                        .iter()
                        .any(|held| held.id == a.id && held.fired_at != a.fired_at)
            })
            .filter_map(firing_text)
            .collect();
        let armed = alerts
            .iter()
            .filter(|a| a.status == crate::alerts::AlertStatus::Armed)
            .count();
        self.panes.chart.alerts = alerts;
        if fired.is_empty() {
            self.say(format!("alerts updated: {armed} armed"));
        } else {
            self.ring_bell = self.settings.bell;
            self.say(format!("🔔 {}", fired.join(" · ")));
        }
        true
    }

    pub(super) fn on_alert_fired(&mut self, alert: PriceAlert, text: String) {
        match self
            .panes
            .chart
            .alerts
            .iter_mut()
            .find(|a| a.id == alert.id)
        {
            Some(held) => *held = alert,
            None => self.panes.chart.alerts.insert(0, alert),
        }
        self.ring_bell = self.settings.bell;
        self.say(format!("🔔 {text}"));
    }
}

/// What the status line says of a stored alert's latest firing (the stored row keeps no
/// relative volume, so a volume alert is told by its price).
fn firing_text(a: &PriceAlert) -> Option<String> {
    let firing = crate::alerts::Firing {
        id: a.id,
        symbol: a.symbol.clone(),
        condition: a.condition,
        price: a.fired_price?,
        rel_volume: None,
        at: a.fired_at?,
        rearmed: a.repeat,
        reference: a.reference,
    };
    Some(firing.describe(&a.note))
}

/// The editor text for a candidate: `above 451.20 GEX call wall`.
fn alert_text(c: &AlertCandidate) -> String {
    let note = &c.label;
    match c.condition {
        Condition::CrossesAbove(p) => format!("above {p:.2} {note}"),
        Condition::CrossesBelow(p) => format!("below {p:.2} {note}"),
        Condition::MovesPercent(p) => format!("move {p}% {note}"),
        Condition::RelVolumeAbove(n) => format!("relvol {n} {note}"),
        Condition::FlipCross => format!("flip_cross {note}"),
        Condition::WallBreak(p) => format!("wall_break {p}% {note}"),
        Condition::RegimeChange => format!("regime_change {note}"),
    }
}

/// `above 451.20 [repeat] [note…]` into an alert on `symbol`; `last` is the reference.
pub fn parse_alert(symbol: &Symbol, text: &str, last: Option<f64>) -> Result<NewAlert, String> {
    let mut words = text.split_whitespace();
    let usage = "write a condition and a value: above 450, below 440, move 2%, relvol 3, \
                 wall_break 0.1%; or flip_cross, regime_change";
    let Some(kind) = words.next() else {
        return Err(usage.into());
    };
    // flip_cross and regime_change take no value: the next word is `repeat` or the note.
    let value = if Condition::takes_no_value(kind) {
        ""
    } else {
        words.next().ok_or(usage)?
    };
    let condition = Condition::parse(kind, value).map_err(|e| e.to_string())?;
    let mut rest: Vec<&str> = words.collect();
    let repeat = rest
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("repeat"));
    if repeat {
        rest.remove(0);
    }
    if matches!(condition, Condition::MovesPercent(_)) && last.is_none() {
        return Err(format!("no price of {symbol} yet to measure a move from"));
    }
    Ok(NewAlert {
        symbol: symbol.clone(),
        condition,
        note: rest.join(" "),
        repeat,
        reference: last,
    })
}
