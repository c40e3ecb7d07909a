//! The Coach pane (`7`, SPEC 16): its state (the prompt, the transcript of questions,
//! streamed answers and tool calls, what `c` pointed at), its title and footer keys.
//! The conversation itself runs in the shell (`Effect::CoachAsk`); its events come back
//! through `App::on_coach`, which also closes the coach's confirmation popup.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::editor::TextInput;
use crate::tui::app::{App, Effect, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};

/// Longest question, in characters.
const QUESTION_CHARS: usize = 2000;
/// Transcript entries kept (older ones scroll away).
const TRANSCRIPT_ENTRIES: usize = 400;

#[derive(Clone, Debug, PartialEq)]
pub enum CoachLine {
    Question(String),
    /// The model's text, growing while it streams.
    Answer(String),
    ToolCall {
        name: String,
        arguments: String,
    },
    ToolResult {
        summary: String,
        is_error: bool,
    },
    Error(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CoachPane {
    /// Whether `[llm]` is configured; without it the pane explains how.
    pub configured: bool,
    pub input: TextInput,
    /// Keys go to the prompt.
    pub editing: bool,
    /// A question is being answered (Esc cancels).
    pub running: bool,
    pub transcript: Vec<CoachLine>,
    /// The item `c` was pressed on: (a short label, the facts sent with the next question).
    pub context: Option<(String, String)>,
    /// Lines scrolled back from the newest (`k`/`j` with the prompt closed); 0 follows
    /// the answer as it streams.
    pub scroll: usize,
}

impl Default for CoachPane {
    fn default() -> Self {
        CoachPane {
            configured: false,
            input: TextInput::new("", QUESTION_CHARS),
            editing: false,
            running: false,
            transcript: Vec::new(),
            context: None,
            scroll: 0,
        }
    }
}

impl CoachPane {
    pub(crate) fn push(&mut self, line: CoachLine) {
        self.transcript.push(line);
        if self.transcript.len() > TRANSCRIPT_ENTRIES {
            let extra = self.transcript.len() - TRANSCRIPT_ENTRIES;
            self.transcript.drain(..extra);
        }
    }
}

impl Pane for CoachPane {
    fn id(&self) -> PaneId {
        PaneId::Coach
    }

    fn title(&self, _app: &App) -> String {
        draw::title(self)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        let mut hints = Vec::new();
        if self.configured {
            hints.push((format!("{}/{}", k(Action::Up), k(Action::Down)), "scroll"));
        }
        if self.running {
            hints.push((k(Action::Back), "cancel"));
        } else if self.configured {
            hints.push((k(Action::Details), "ask"));
        }
        hints
    }

    /// `k`/`j` scroll the transcript back and forward, Enter opens the prompt, Esc
    /// cancels the answer being written (without one, Esc is the App's: it clears the
    /// status line). The prompt's own keys are the App's (`App::on_key`).
    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        match action {
            Action::Up => self.scroll = self.scroll.saturating_add(1),
            Action::Down => self.scroll = self.scroll.saturating_sub(1),
            Action::Details => self.editing = self.configured && !self.running,
            Action::Back if self.running => {
                ctx.say("cancelling the coach's answer…");
                ctx.effect(Effect::CoachCancel);
            }
            _ => return Handled::No,
        }
        Handled::Yes
    }
}

#[cfg(test)]
mod tests;
