//! The Coach across panes (its state and keys are `panes::coach`): `7` and `c` on a
//! Scanner or Setups row with that row's facts, the prompt editor, and the coach's events,
//! which may open or close the App's confirmation popup. The conversation itself runs in
//! the shell (`Effect::CoachAsk`); its events come back through `on_coach`.

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::InputOutcome;
use super::{App, Effect, Opportunity, Overlay, PaneId};
use crate::coach::CoachEvent;
use crate::gex::ExpiryFilter;
use crate::tui::panes::coach::CoachLine;

impl App {
    /// `7`: focus the Coach with the prompt open.
    pub(super) fn open_coach(&mut self) {
        self.focus = PaneId::Coach;
        self.focus_chosen = true;
        self.panes.coach.editing = self.panes.coach.configured && !self.panes.coach.running;
    }

    /// A key while the prompt is open. `None`: not the prompt's key (Tab moves focus).
    pub(super) fn coach_prompt_key(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        if matches!(key.code, KeyCode::Tab | KeyCode::BackTab) {
            self.panes.coach.editing = false;
            return None;
        }
        Some(match self.panes.coach.input.on_key(key) {
            InputOutcome::Editing => vec![],
            InputOutcome::Cancel => {
                self.panes.coach.editing = false;
                self.say("prompt closed; Enter opens it again");
                vec![]
            }
            InputOutcome::Submit(text) => self.submit_question(text.trim()),
        })
    }

    fn submit_question(&mut self, question: &str) -> Vec<Effect> {
        if question.is_empty() {
            return vec![];
        }
        if self.panes.coach.running {
            self.say_error("the coach is still answering; Esc cancels it");
            return vec![];
        }
        let context = self.panes.coach.context.take();
        self.panes.coach.scroll = 0;
        self.panes.coach.input.text.clear();
        self.panes.coach.editing = false;
        self.panes.coach.running = true;
        let shown = match &context {
            Some((label, _)) => format!("{question}  [{label}]"),
            None => question.to_string(),
        };
        self.panes.coach.push(CoachLine::Question(shown));
        vec![Effect::CoachAsk {
            question: question.to_string(),
            context: context.map(|(_, facts)| facts),
        }]
    }

    /// `c` on a Scanner or Setups row: the Coach, with that item's facts attached to the
    /// next question and a question ready in the prompt.
    pub(super) fn ask_about_selected(&mut self) -> Vec<Effect> {
        let item = match self.focus {
            PaneId::Scanner => self.scanner_item(),
            PaneId::Setups => self.setup_item(),
            _ => Err("c asks the coach about a Scanner or Setups row".to_string()),
        };
        match item {
            Ok((label, facts, question)) => {
                self.panes.coach.context = Some((label, facts));
                self.panes.coach.input.text = question;
                self.open_coach();
                if !self.panes.coach.configured {
                    self.say_error("the AI coach is not configured; see the Coach pane");
                }
            }
            Err(why) => self.say_error(why),
        }
        vec![]
    }

    fn scanner_item(&self) -> Result<(String, String, String), String> {
        let selected = self.selected(PaneId::Scanner);
        if let Some(row) = self.market.watchlist.get(selected) {
            let facts = self.symbol_facts(&row.symbol);
            return Ok((
                row.symbol.to_string(),
                facts,
                format!("What stands out on {} right now?", row.symbol),
            ));
        }
        let rows = self.opportunity_rows();
        match rows.get(selected - self.market.watchlist.len()) {
            Some(Opportunity::Detection(d)) => {
                let x = &d.detection;
                let facts = format!(
                    "Scanner detection id {}: {} {} {} (score {}), entry {:.2}, stop {:.2}, \
                     target {:.2}, detected {}. Rationale: {}\n{}",
                    d.id,
                    x.symbol,
                    x.kind.as_str(),
                    x.direction.as_str(),
                    x.confidence,
                    x.entry,
                    x.stop,
                    x.target,
                    x.detected_at.to_rfc3339(),
                    x.rationale,
                    self.symbol_facts(&x.symbol)
                );
                Ok((
                    format!(
                        "{} {} {} #{}",
                        x.symbol,
                        x.kind.short_label(),
                        x.direction.as_str(),
                        d.id
                    ),
                    facts,
                    format!(
                        "Is this {} {} {} worth taking here?",
                        x.symbol,
                        x.kind.as_str(),
                        x.direction.as_str()
                    ),
                ))
            }
            Some(Opportunity::Signal(s)) => Ok((
                format!("{} {}", s.symbol, s.describe()),
                format!(
                    "Scanner signal: {} {} (score {}).\n{}",
                    s.symbol,
                    s.describe(),
                    s.score,
                    self.symbol_facts(&s.symbol)
                ),
                format!("What does {} {} mean for a trade?", s.symbol, s.describe()),
            )),
            None => Err("select a Scanner row to ask the coach about it".into()),
        }
    }

    fn setup_item(&self) -> Result<(String, String, String), String> {
        let row = self
            .selected_setup()
            .ok_or_else(|| "select a tracked setup to ask the coach about it".to_string())?;
        let s = &row.setup;
        let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or("—".to_string(), |t| t.to_rfc3339())
        };
        let facts = format!(
            "Tracked setup id {}: {} {} {}, entry {:.2}, stop {:.2}, target {:.2}, status {}, \
             outcome {}, tracked {}, triggered {}, invalidated {}, resolved {}. Note: {}\n{}",
            s.id,
            s.symbol,
            s.kind.as_str(),
            s.direction.as_str(),
            s.entry,
            s.stop,
            s.target,
            s.status.as_str(),
            s.outcome.map_or("—", |o| o.as_str()),
            s.tracked_at.to_rfc3339(),
            when(s.triggered_at),
            when(s.invalidated_at),
            when(s.resolved_at),
            if row.notes.is_empty() {
                "—"
            } else {
                &row.notes
            },
            self.symbol_facts(&s.symbol)
        );
        Ok((
            format!(
                "{} {} {} setup #{}",
                s.symbol,
                s.kind.short_label(),
                s.direction.as_str(),
                s.id
            ),
            facts,
            format!(
                "How is my {} {} {} setup doing, and what would you watch now?",
                s.symbol,
                s.kind.as_str(),
                s.direction.as_str()
            ),
        ))
    }

    /// What the screen knows about a symbol: last price, change, levels, GEX summary.
    fn symbol_facts(&self, symbol: &crate::domain::Symbol) -> String {
        let mut facts = Vec::new();
        if let Some(row) = self.market.watchlist.iter().find(|r| &r.symbol == symbol) {
            if let Some(last) = row.last {
                facts.push(format!("{symbol} last {last:.2}"));
            }
            if let Some((points, pct)) = row.change() {
                facts.push(format!("change {points:+.2} ({pct:+.2} %) vs prior close"));
            }
        }
        if let Some(levels) = self.market.levels.get(symbol) {
            let list: Vec<String> = levels.iter().map(|(l, p)| format!("{l} {p:.2}")).collect();
            facts.push(format!("levels: {}", list.join(", ")));
        }
        if let Some(p) = self
            .panes
            .gex
            .board()
            .get(&(symbol.clone(), ExpiryFilter::All))
        {
            facts.push(format!(
                "GEX: spot {:.2}, flip {}, {:?} gamma, call wall {}, put wall {}",
                p.spot,
                p.zero_gamma.map_or("none".into(), |z| format!("{z:.2}")),
                p.regime,
                p.call_wall.map_or("—".into(), |w| format!("{w:.2}")),
                p.put_wall.map_or("—".into(), |w| format!("{w:.2}")),
            ));
        }
        facts.join("; ")
    }

    /// An event of the running question.
    pub(super) fn on_coach(&mut self, event: CoachEvent) {
        let pane = &mut self.panes.coach;
        match event {
            CoachEvent::Text(text) => match pane.transcript.last_mut() {
                Some(CoachLine::Answer(answer)) => answer.push_str(&text),
                _ => pane.push(CoachLine::Answer(text)),
            },
            CoachEvent::ToolCall { name, arguments } => {
                pane.push(CoachLine::ToolCall { name, arguments })
            }
            CoachEvent::ToolResult {
                summary, is_error, ..
            } => pane.push(CoachLine::ToolResult { summary, is_error }),
            CoachEvent::Answer(text) => {
                pane.running = false;
                if !matches!(pane.transcript.last(), Some(CoachLine::Answer(_))) {
                    pane.push(CoachLine::Answer(text));
                }
                pane.editing = self.focus == PaneId::Coach && self.overlay.is_none();
            }
            CoachEvent::Failed(reason) => {
                // A question still open for the trader is moot once its answer failed.
                if matches!(self.overlay, Some(Overlay::ConfirmCoach { .. })) {
                    self.overlay = None;
                }
                let pane = &mut self.panes.coach;
                pane.running = false;
                pane.push(CoachLine::Error(reason.clone()));
                pane.editing = self.focus == PaneId::Coach && self.overlay.is_none();
                self.say_error(format!("coach: {reason}"));
            }
            CoachEvent::Confirm { question, reply } => {
                if self.overlay.is_some() {
                    // Another popup is open: never stack a confirmation behind it.
                    reply.answer(false);
                    self.panes.coach.push(CoachLine::Error(
                        "track_setup declined: another popup was open".into(),
                    ));
                    return;
                }
                self.panes.coach.editing = false;
                self.overlay = Some(Overlay::ConfirmCoach { question, reply });
            }
        }
    }

    /// `y` on the coach's question tracks; any other key declines.
    pub(super) fn confirm_coach(&mut self, yes: bool) -> Vec<Effect> {
        if let Some(Overlay::ConfirmCoach { reply, .. }) = self.overlay.take() {
            reply.answer(yes);
            self.say(if yes {
                "tracking the coach's setup…"
            } else {
                "not tracked; nothing changed"
            });
        }
        vec![]
    }
}
