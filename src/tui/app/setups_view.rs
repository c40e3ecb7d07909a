//! Tracked setups on the screen, beyond the Setups pane's own keys (`panes::setups`):
//! what a status is called, the note editor and the delete confirmation (popups the
//! `App` owns), and the setups other panes read.

use crossterm::event::KeyEvent;

use super::editor::InputOutcome;
use super::{App, Effect, Overlay};
use crate::setups::{Outcome, SetupStatus};
use crate::store::SetupRow;

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
    /// The setups the Setups pane's filter admits, in list order.
    pub fn visible_setups(&self) -> Vec<&SetupRow> {
        self.panes.setups.visible()
    }

    pub fn selected_setup(&self) -> Option<&SetupRow> {
        self.panes.setups.selected_setup()
    }

    /// Active setups: quitting asks first while there are any.
    pub fn active_setups(&self) -> usize {
        self.panes.setups.active()
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
}
