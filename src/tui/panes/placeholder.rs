//! A pane whose content arrives with a later part of the product: it says what will be there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, theme: &Theme, what: &str) {
    frame.render_widget(
        Paragraph::new(what.to_string())
            .style(theme.dim)
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}
