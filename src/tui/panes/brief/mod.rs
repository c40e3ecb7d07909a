//! The Brief pane (`1`, SPEC 8 and 11): the morning brief in readable sections; `j`/`k`
//! scroll (the section's symbol becomes the focus), `r` regenerates, `v` previews the
//! next watchlist (a global key: it opens this pane from anywhere).

mod draw;

use std::cell::Cell;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::brief::Brief;
use crate::brief::render::{TextLine, text_lines};
use crate::domain::Symbol;
use crate::market::calendar::NEW_YORK;
use crate::runtime::AppEvent;
use crate::runtime::brief::BriefRequest;
use crate::tui::action::Action;
use crate::tui::app::{App, Effect, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;

/// The Brief pane's state: the brief shown, whether it is a preview (not stored), and
/// the brief line scrolled to the top.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BriefPane {
    brief: Option<Arc<Brief>>,
    preview: bool,
    /// Index into the brief's text lines (`brief::render::text_lines`).
    top: usize,
    /// The last line that may be at the top, as of the last drawing: the brief's end is
    /// then at the pane's bottom (`None` before the first drawing).
    last_top: Cell<Option<usize>>,
}

impl BriefPane {
    pub fn brief(&self) -> Option<&Arc<Brief>> {
        self.brief.as_ref()
    }

    pub fn is_preview(&self) -> bool {
        self.preview
    }

    /// The brief line at the top of the pane (never past its end).
    pub fn top_line(&self) -> usize {
        self.last_top
            .get()
            .map_or(self.top, |last| self.top.min(last))
    }

    /// The drawing says how far the brief can scroll at the pane's size.
    pub(crate) fn set_last_top(&self, last: usize) {
        self.last_top.set(Some(last));
    }

    /// The symbol whose section the top line is in (its heading or a line below it).
    pub fn section_symbol(&self) -> Option<Symbol> {
        let brief = self.brief.as_ref()?;
        let mut section = None;
        for line in text_lines(brief).into_iter().take(self.top_line() + 1) {
            if let TextLine::Heading(title) = line {
                section = brief
                    .symbols
                    .iter()
                    .any(|s| s.symbol == title)
                    .then(|| Symbol::parse(&title).ok())
                    .flatten();
            }
        }
        section
    }

    fn scroll(&mut self, step: Move) {
        let len = self.brief.as_ref().map_or(0, |b| text_lines(b).len());
        let len = self.last_top.get().map_or(len, |last| len.min(last + 1));
        if let Some(top) = step.apply(self.top_line(), len) {
            self.top = top;
        }
    }

    /// A brief arrived: the status line says what it is; a new one (or a switch between
    /// preview and stored) starts from the top.
    fn show(&mut self, brief: &Arc<Brief>, preview: bool, ctx: &mut Ctx) {
        let generated = brief.generated_at.with_timezone(&NEW_YORK).format("%H:%M");
        let changed = self
            .brief
            .as_ref()
            .is_none_or(|b| b.generated_at != brief.generated_at || b.watchlist != brief.watchlist);
        if preview {
            ctx.say(format!(
                "preview of the brief for watchlist {} (not stored)",
                crate::text::printable(&brief.watchlist)
            ));
        } else if changed {
            ctx.say(format!(
                "brief of {} generated {generated} ET",
                brief.market_date
            ));
        }
        if changed || preview != self.preview {
            self.top = 0;
        }
        self.brief = Some(brief.clone());
        self.preview = preview;
    }
}

impl Pane for BriefPane {
    fn id(&self) -> PaneId {
        PaneId::Brief
    }

    fn title(&self, _app: &App) -> String {
        draw::title(self)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        vec![
            (k(Action::Down), "scroll"),
            (k(Action::Refresh), "regenerate"),
            (k(Action::BriefPreview), "preview"),
        ]
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
                    self.scroll(step);
                }
                if let Some(symbol) = self.section_symbol() {
                    ctx.focus_symbol(symbol);
                }
            }
            Action::Refresh => {
                ctx.say("regenerating the brief…");
                ctx.effect(Effect::Brief(BriefRequest::Regenerate));
            }
            _ => return Handled::No,
        }
        Handled::Yes
    }

    fn on_event(&mut self, event: &AppEvent, ctx: &mut Ctx) -> bool {
        match event {
            AppEvent::Brief { brief, preview } => {
                self.show(brief, *preview, ctx);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
