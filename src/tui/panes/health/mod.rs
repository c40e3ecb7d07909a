//! The Health pane (`5`): every background worker of this process, then (attached) the
//! servers' workers, with state, ages, counts and the last error. It keeps both lists;
//! the header reads the combined one for its feed and database warnings.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::runtime::AppEvent;
use crate::runtime::health::{WorkerRecord, WorkerState};
use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;

/// The Health pane's state: the workers as last reported, and the selected one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthPane {
    /// This process's workers (from its `Health` registry).
    local: Vec<WorkerRecord>,
    /// The `coach serve` instances' workers, when attached (from `worker_status`).
    remote: Vec<WorkerRecord>,
    /// What the pane lists: the local workers, then the remote ones.
    workers: Vec<WorkerRecord>,
    /// The selected worker, by name: the list may change under the cursor.
    selected: Option<String>,
}

impl HealthPane {
    /// Every worker, this process's first.
    pub fn workers(&self) -> &[WorkerRecord] {
        &self.workers
    }

    /// This process's workers changed; `true` when the list shown differs.
    pub fn set_local(&mut self, workers: Vec<WorkerRecord>) -> bool {
        self.local = workers;
        self.combine()
    }

    /// The servers' workers changed; `true` when the list shown differs.
    pub fn set_remote(&mut self, workers: Vec<WorkerRecord>) -> bool {
        self.remote = workers;
        self.combine()
    }

    fn combine(&mut self) -> bool {
        let workers: Vec<WorkerRecord> = self.local.iter().chain(&self.remote).cloned().collect();
        let changed = workers != self.workers;
        self.workers = workers;
        changed
    }

    /// The row of the selected worker (the first when none is, or it is gone).
    pub fn selected_row(&self) -> usize {
        self.selected
            .as_ref()
            .and_then(|name| self.workers.iter().position(|w| &w.name == name))
            .unwrap_or(0)
    }

    fn move_selection(&mut self, step: Move) {
        if let Some(next) = step.apply(self.selected_row(), self.workers.len()) {
            self.selected = Some(self.workers[next].name.clone());
        }
    }

    fn failing(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| w.state == WorkerState::Failed)
            .count()
    }
}

impl Pane for HealthPane {
    fn id(&self) -> PaneId {
        PaneId::Health
    }

    fn title(&self, _app: &App) -> String {
        match self.failing() {
            0 => String::new(),
            n => format!(" · {n} failing"),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        vec![(format!("{}/{}", k(Action::Down), k(Action::Up)), "move")]
    }

    fn on_action(&mut self, action: Action, _ctx: &mut Ctx) -> Handled {
        match Move::from_action(action) {
            Some(step) => {
                self.move_selection(step);
                Handled::Yes
            }
            None => Handled::No,
        }
    }

    fn on_event(&mut self, event: &AppEvent, _ctx: &mut Ctx) -> bool {
        match event {
            AppEvent::RemoteWorkers(remote) => self.set_remote(remote.clone()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
