//! The Logs pane: the tracing log of this process (tui-logger's buffer), in New York
//! time, wrapped at words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;
use tui_logger::TuiLoggerWidget;

use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, theme: &Theme) {
    let widget = TuiLoggerWidget::default()
        .block(block)
        .formatter(Box::new(super::format::NewYorkFormatter {
            text: theme.text,
            error: theme.error,
            warn: theme.warn,
            dim: theme.dim,
        }))
        .style(theme.text)
        .style_error(theme.error)
        .style_warn(theme.warn)
        .style_info(theme.text)
        .style_debug(theme.dim)
        .style_trace(theme.dim);
    frame.render_widget(widget, area);
}
