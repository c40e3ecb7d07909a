//! The Chart pane (`8`, SPEC 17): the focused symbol's candles with its levels, setup and
//! alerts, or (`v`) the list of every alert.

mod draw;

pub use draw::{chart_lines, render_chart};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The Chart pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartPane;

impl Pane for ChartPane {
    fn id(&self) -> PaneId {
        PaneId::Chart
    }

    fn title(&self, app: &App) -> String {
        draw::title(app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap.label(a);
        // The first key only: the footer is tight here.
        let k1 = |a: Action| {
            app.keymap
                .keys_for(a)
                .first()
                .map_or_else(String::new, ToString::to_string)
        };
        if app.chart.show_alerts {
            return vec![
                (
                    format!(
                        "{}/{}",
                        app.keymap.label(Action::Down),
                        app.keymap.label(Action::Up)
                    ),
                    "move",
                ),
                (k(Action::Delete), "remove"),
                (k(Action::AlertsView), "chart"),
            ];
        }
        vec![
            (
                format!("{}{}", k1(Action::TimeframeDown), k1(Action::TimeframeUp)),
                "1/5/15m",
            ),
            (
                format!("{}/{}", k1(Action::CursorLeft), k1(Action::CursorRight)),
                "cursor",
            ),
            (k(Action::AlertsView), "alerts"),
        ]
    }

    fn wide_hints(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
