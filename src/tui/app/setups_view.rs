//! Tracked setups on the screen: the status filter, the Scanner's `t` with its
//! saving → saved | duplicate | error states, the Setups pane's lifecycle keys, notes,
//! delete with confirmation, and the details view. Every change is done by the store and
//! shown as the store confirmed it.

use crossterm::event::KeyEvent;

use super::editor::{InputOutcome, TextInput};
use super::{App, Effect, Opportunity, Overlay, PaneId};
use crate::setups::{ManualAction, Outcome, SetupStatus, Transition};
use crate::store::{MAX_NOTES_CHARS, SetupRow, TrackResult};
use crate::tui::action::Action;

/// Where tracking a Scanner row stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackState {
    Saving,
    Saved,
    Duplicate,
    Error(String),
}

impl TrackState {
    pub fn label(&self) -> &'static str {
        match self {
            TrackState::Saving => "save…",
            TrackState::Saved => "saved",
            TrackState::Duplicate => "dup",
            TrackState::Error(_) => "ERR",
        }
    }
}

/// `triggered`, `target ✓`, `stopped ✗`… as the Setups pane says a status in words.
pub fn status_label(row: &SetupRow) -> &'static str {
    match (row.setup.status, row.setup.outcome) {
        (SetupStatus::Active, _) => "active",
        (SetupStatus::Triggered, Some(Outcome::TargetHit)) => "target ✓",
        (SetupStatus::Triggered, Some(Outcome::StoppedOut)) => "stopped ✗",
        (SetupStatus::Triggered, _) => "triggered",
        (SetupStatus::Invalidated, _) => "invalid",
        (SetupStatus::Archived, _) => "archived",
    }
}

impl App {
    /// The setups the filter admits, in list order.
    pub fn visible_setups(&self) -> Vec<&SetupRow> {
        self.setups
            .iter()
            .filter(|r| self.setup_filter.admits(r.setup.status))
            .collect()
    }

    pub fn selected_setup(&self) -> Option<&SetupRow> {
        self.visible_setups()
            .get(self.selected(PaneId::Setups))
            .copied()
    }

    /// Active setups: quitting asks first while there are any.
    pub fn active_setups(&self) -> usize {
        self.setups
            .iter()
            .filter(|r| r.setup.status == SetupStatus::Active)
            .count()
    }

    /// The keys of the setup lifecycle (`t x i a o n d f Enter`).
    pub(super) fn setup_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(at) = self.market.now else {
            self.say_error("no market time yet; wait for the feed");
            return vec![];
        };
        if action == Action::Track {
            return self.track_selected(at);
        }
        if self.focus != PaneId::Setups {
            let keys = self.keymap.label(Action::FocusSetups);
            self.say_error(format!(
                "that key works on a tracked setup: focus Setups ({keys})"
            ));
            return vec![];
        }
        if action == Action::Filter {
            self.setup_filter = self.setup_filter.next();
            self.selection.remove(&PaneId::Setups);
            self.say(format!("showing {} setups", self.setup_filter.as_str()));
            return vec![];
        }
        let Some(row) = self.selected_setup() else {
            self.say_error(format!("no {} setup to act on", self.setup_filter.as_str()));
            return vec![];
        };
        let id = row.setup.id;
        let manual = |action| vec![Effect::Manual { id, action, at }];
        match action {
            Action::Trigger => manual(ManualAction::Trigger),
            Action::Invalidate => manual(ManualAction::Invalidate),
            Action::Archive => manual(ManualAction::Archive),
            Action::Reopen => manual(ManualAction::Reopen),
            Action::Note => {
                let text = row.notes.clone();
                self.overlay = Some(Overlay::EditNote {
                    id,
                    input: TextInput::new(text, MAX_NOTES_CHARS),
                });
                vec![]
            }
            Action::Delete => {
                self.overlay = Some(Overlay::ConfirmDelete { id });
                vec![]
            }
            Action::Details => {
                self.overlay = Some(Overlay::Details { id, history: None });
                vec![Effect::LoadHistory { id }]
            }
            _ => vec![],
        }
    }

    fn track_selected(&mut self, at: chrono::DateTime<chrono::Utc>) -> Vec<Effect> {
        let index = self
            .selected(PaneId::Scanner)
            .checked_sub(self.market.watchlist.len());
        let found = match (
            self.focus,
            index.and_then(|i| self.opportunity_rows().get(i).cloned()),
        ) {
            (PaneId::Scanner, Some(Opportunity::Detection(d))) => Ok(d.clone()),
            (PaneId::Scanner, Some(Opportunity::Signal(s))) => Err(format!(
                "{} {} is a heads-up without a plan; track a detection",
                s.symbol,
                s.describe()
            )),
            _ => Err("select an opportunity in the Scanner to track it".to_string()),
        };
        let detection = match found {
            Ok(d) => d,
            Err(why) => {
                self.say_error(why);
                return vec![];
            }
        };
        if self.track_states.get(&detection.id) == Some(&TrackState::Saving) {
            return vec![];
        }
        self.track_states.insert(detection.id, TrackState::Saving);
        vec![Effect::Track { detection, at }]
    }

    /// Keys while the note editor is open.
    pub(super) fn note_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(Overlay::EditNote { id, input }) = &mut self.overlay else {
            return vec![];
        };
        let id = *id;
        match input.on_key(key) {
            InputOutcome::Editing => vec![],
            InputOutcome::Cancel => {
                self.overlay = None;
                self.say("note unchanged");
                vec![]
            }
            InputOutcome::Submit(text) => {
                self.overlay = None;
                match self.market.now {
                    Some(at) => {
                        self.say("saving note…");
                        vec![Effect::SaveNote { id, text, at }]
                    }
                    None => {
                        self.say_error("no market time yet; the note was not saved");
                        vec![]
                    }
                }
            }
        }
    }

    /// `y` deletes; any other key keeps the setup.
    pub(super) fn confirm_delete(&mut self, yes: bool) -> Vec<Effect> {
        let Some(Overlay::ConfirmDelete { id }) = self.overlay else {
            return vec![];
        };
        self.overlay = None;
        if yes {
            self.say(format!("deleting setup {id}…"));
            vec![Effect::Delete { id }]
        } else {
            self.say("delete cancelled");
            vec![]
        }
    }

    pub(super) fn on_setup_changed(&mut self, row: SetupRow, transition: Option<Transition>) {
        let s = &row.setup;
        if let Some(t) = &transition {
            self.say(format!(
                "{} {} {}: {} → {} ({})",
                s.symbol,
                s.kind.short_label(),
                s.direction,
                t.from.as_str(),
                status_label(&row),
                t.reason.as_str()
            ));
        } else if let Some(old) = self
            .setups
            .iter()
            .find(|r| r.setup.id == s.id && r.setup.version < s.version)
            .filter(|old| status_label(old) != status_label(&row))
        {
            // Read back from the store (an attached screen): the change without its reason.
            self.say(format!(
                "{} {} {}: {} → {}",
                s.symbol,
                s.kind.short_label(),
                s.direction,
                status_label(old),
                status_label(&row)
            ));
        }
        match self.setups.iter_mut().find(|r| r.setup.id == row.setup.id) {
            // An older version never replaces a newer one (events can cross).
            Some(existing) if existing.setup.version > row.setup.version => {}
            Some(existing) => *existing = row,
            None => self.setups.insert(0, row),
        }
    }

    pub(super) fn on_tracked(&mut self, detection_id: i64, result: Result<TrackResult, String>) {
        match result {
            Ok(TrackResult::Tracked(row)) => {
                self.track_states.insert(detection_id, TrackState::Saved);
                self.say(format!("tracked {} {}", row.setup.symbol, row.setup.kind));
                self.on_setup_changed(row, None);
            }
            Ok(TrackResult::AlreadyTracked(row)) => {
                self.track_states
                    .insert(detection_id, TrackState::Duplicate);
                self.say_error(format!(
                    "already tracked as setup {} ({})",
                    row.setup.id,
                    status_label(&row)
                ));
                self.on_setup_changed(row, None);
            }
            Err(reason) => {
                self.say_error(format!("not tracked: {reason}"));
                self.track_states
                    .insert(detection_id, TrackState::Error(reason));
            }
        }
    }

    pub(super) fn on_setup_deleted(&mut self, id: i64) {
        self.setups.retain(|r| r.setup.id != id);
        let len = self.visible_setups().len();
        if self.selected(PaneId::Setups) >= len && len > 0 {
            self.selection.insert(PaneId::Setups, len - 1);
        }
        self.say(format!("setup {id} deleted"));
    }
}
