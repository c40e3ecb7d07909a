//! The Setups pane (`3`): the trader's tracked setups under the status filter, and the
//! lifecycle keys on the selected one (trigger, invalidate, archive, reopen, note,
//! delete, details, filter). Every change is done by the store (an `Effect`) and shown as
//! the store confirmed it (`AppEvent::SetupChanged`).

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::runtime::AppEvent;
use crate::setups::{ManualAction, SetupStatus, StatusFilter, Transition};
use crate::store::{MAX_NOTES_CHARS, SetupRow, TrackResult};
use crate::tui::action::Action;
use crate::tui::app::editor::TextInput;
use crate::tui::app::setups_view::status_label;
use crate::tui::app::{App, Effect, Overlay, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;

/// The Setups pane's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetupsPane {
    /// The trader's tracked setups, newest first, as the store confirmed them.
    pub(crate) rows: Vec<SetupRow>,
    pub(crate) filter: StatusFilter,
    /// The selected setup, by id: the list re-sorts and grows under the cursor.
    selected: Option<i64>,
    /// Detector rationales read from the store by setup id, for the details of setups
    /// whose detection is no longer on the Scanner (after a restart).
    pub(crate) rationales: std::collections::HashMap<i64, String>,
}

impl SetupsPane {
    pub fn rows(&self) -> &[SetupRow] {
        &self.rows
    }

    pub fn filter(&self) -> StatusFilter {
        self.filter
    }

    /// The setups the filter admits, in list order.
    pub fn visible(&self) -> Vec<&SetupRow> {
        self.rows
            .iter()
            .filter(|r| self.filter.admits(r.setup.status))
            .collect()
    }

    /// The row of the selected setup among the visible ones (the first when none is).
    pub fn selected_row(&self) -> usize {
        self.selected
            .and_then(|id| self.visible().iter().position(|r| r.setup.id == id))
            .unwrap_or(0)
    }

    pub fn selected_setup(&self) -> Option<&SetupRow> {
        self.visible().get(self.selected_row()).copied()
    }

    /// Active setups: quitting asks first while there are any.
    pub fn active(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.setup.status == SetupStatus::Active)
            .count()
    }

    fn select_row(&mut self, row: usize) {
        self.selected = self.visible().get(row).map(|r| r.setup.id);
    }

    fn move_selection(&mut self, step: Move) {
        if let Some(next) = step.apply(self.selected_row(), self.visible().len()) {
            self.select_row(next);
        }
    }

    /// A setup as the store has it now; an older version never replaces a newer one
    /// (events can cross). The status line says a change of status.
    pub(crate) fn on_changed(
        &mut self,
        row: SetupRow,
        transition: Option<&Transition>,
        ctx: &mut Ctx,
    ) {
        let s = &row.setup;
        if let Some(t) = transition {
            ctx.say(format!(
                "{} {} {}: {} → {} ({})",
                s.symbol,
                s.kind.short_label(),
                s.direction,
                t.from.as_str(),
                status_label(&row),
                t.reason.as_str()
            ));
        } else if let Some(old) = self
            .rows
            .iter()
            .find(|r| r.setup.id == s.id && r.setup.version < s.version)
            .filter(|old| status_label(old) != status_label(&row))
        {
            // Read back from the store (an attached screen): the change without its reason.
            ctx.say(format!(
                "{} {} {}: {} → {}",
                s.symbol,
                s.kind.short_label(),
                s.direction,
                status_label(old),
                status_label(&row)
            ));
        }
        match self.rows.iter_mut().find(|r| r.setup.id == row.setup.id) {
            Some(existing) if existing.setup.version > row.setup.version => {}
            Some(existing) => *existing = row,
            None => self.rows.insert(0, row),
        }
    }

    /// A setup deleted: the selection stays on its row (the next setup moves into it).
    fn on_deleted(&mut self, id: i64, ctx: &mut Ctx) {
        let row = self.selected_row();
        self.rows.retain(|r| r.setup.id != id);
        if self.selected == Some(id) || self.selected.is_none() {
            let len = self.visible().len();
            self.select_row(row.min(len.saturating_sub(1)));
        }
        ctx.say(format!("setup {id} deleted"));
    }

    /// The lifecycle keys on the selected setup.
    fn lifecycle(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        let Some(at) = ctx.market.now else {
            ctx.say_error("no market time yet; wait for the feed");
            return Handled::Yes;
        };
        if action == Action::Filter {
            self.filter = self.filter.next();
            self.selected = None;
            ctx.say(format!("showing {} setups", self.filter.as_str()));
            return Handled::Yes;
        }
        let Some(row) = self.selected_setup() else {
            ctx.say_error(format!("no {} setup to act on", self.filter.as_str()));
            return Handled::Yes;
        };
        let id = row.setup.id;
        let manual = |action| Effect::Manual { id, action, at };
        match action {
            Action::Trigger => ctx.effect(manual(ManualAction::Trigger)),
            Action::Invalidate => ctx.effect(manual(ManualAction::Invalidate)),
            Action::Archive => ctx.effect(manual(ManualAction::Archive)),
            Action::Reopen => ctx.effect(manual(ManualAction::Reopen)),
            Action::Note => ctx.open(Overlay::EditNote {
                id,
                input: TextInput::new(row.notes.clone(), MAX_NOTES_CHARS),
            }),
            Action::Delete => ctx.open(Overlay::ConfirmDelete { id }),
            Action::Details => {
                ctx.open(Overlay::Details { id, history: None });
                ctx.effect(Effect::LoadHistory { id });
            }
            _ => return Handled::No,
        }
        Handled::Yes
    }
}

impl Pane for SetupsPane {
    fn id(&self) -> PaneId {
        PaneId::Setups
    }

    fn title(&self, _app: &App) -> String {
        draw::title(self)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        let mut hints = vec![(format!("{}/{}", k(Action::Down), k(Action::Up)), "move")];
        for (action, what) in [
            (Action::Trigger, "trig"),
            (Action::Invalidate, "inval"),
            (Action::Archive, "arch"),
            (Action::Reopen, "reopen"),
            (Action::Note, "note"),
            (Action::Delete, "del"),
            (Action::Snooze, "snooze"),
            (Action::Filter, "filter"),
            (Action::Details, "details"),
            (Action::AskCoach, "coach"),
        ] {
            hints.push((k(action), what));
        }
        hints
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        match action {
            Action::Up
            | Action::Down
            | Action::First
            | Action::Last
            | Action::HalfPageUp
            | Action::HalfPageDown => {
                if let Some(step) = Move::from_action(action) {
                    self.move_selection(step);
                }
                if let Some(row) = self.selected_setup() {
                    ctx.focus_symbol(row.setup.symbol.clone());
                }
                Handled::Yes
            }
            Action::Trigger
            | Action::Invalidate
            | Action::Archive
            | Action::Reopen
            | Action::Note
            | Action::Delete
            | Action::Filter
            | Action::Details => self.lifecycle(action, ctx),
            _ => Handled::No,
        }
    }

    fn on_event(&mut self, event: &AppEvent, ctx: &mut Ctx) -> bool {
        match event {
            AppEvent::SetupsLoaded(rows) => self.rows = rows.clone(),
            AppEvent::SetupChanged {
                row, transition, ..
            } => self.on_changed(row.clone(), transition.as_ref(), ctx),
            AppEvent::Tracked {
                result: Ok(TrackResult::Tracked(row) | TrackResult::AlreadyTracked(row)),
                ..
            } => self.on_changed(row.clone(), None, ctx),
            AppEvent::SetupDeleted(id) => self.on_deleted(*id, ctx),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests;
