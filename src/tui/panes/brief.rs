//! The Brief pane. For now: the session line (date, hours, early close, countdown).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::market::calendar::NEW_YORK;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::view::session_line;

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, app: &App, theme: &Theme) {
    let mut lines = Vec::new();
    if let Some(s) = app.session {
        let fmt = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&NEW_YORK).format("%H:%M").to_string()
        };
        lines.push(Line::styled(
            format!(
                "Session {} · {}–{} ET{}",
                s.date.format("%a %Y-%m-%d"),
                fmt(s.open),
                fmt(s.close),
                if s.early_close { " · EARLY CLOSE" } else { "" }
            ),
            theme.header,
        ));
        lines.push(Line::styled(session_line(app), theme.text));
        lines.push(Line::default());
    }
    lines.push(Line::styled(
        "Levels per watchlist symbol, economic events, open-position risk and watch items appear here with the morning brief.",
        theme.dim,
    ));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}
