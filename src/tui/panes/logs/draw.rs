//! The Logs pane: the tracing log of this process (tui-logger's buffer).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, theme: &Theme) {
    let widget = TuiLoggerWidget::default()
        .block(block)
        .output_timestamp(Some("%H:%M:%S".into()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false)
        .style(theme.text)
        .style_error(theme.error)
        .style_warn(theme.warn)
        .style_info(theme.text)
        .style_debug(theme.dim)
        .style_trace(theme.dim);
    frame.render_widget(widget, area);
}
