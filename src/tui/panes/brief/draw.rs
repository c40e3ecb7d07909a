//! The Brief pane (SPEC 8, 11): the session line, then the morning brief in readable
//! sections (summary, levels per symbol with their sources, economic events, open
//! positions, watch items); `j`/`k` scroll, `r` regenerates, `v` previews the next
//! watchlist. Every line goes through the text sanitizer (symbols, watchlist and
//! calendar names come from the user).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::BriefPane;
use crate::brief::render::{TextLine, text_lines};
use crate::market::calendar::NEW_YORK;
use crate::text::printable;
use crate::tui::format::session_line;
use crate::tui::pane::DrawCtx;

/// ` · preview` or ` · 2026-11-25 07:00`: what the pane shows.
pub fn title(pane: &BriefPane) -> String {
    match pane.brief() {
        Some(b) if pane.is_preview() => {
            format!(" · preview {} (not stored)", printable(&b.watchlist))
        }
        Some(b) => format!(
            " · {} {}",
            b.market_date,
            b.generated_at.with_timezone(&NEW_YORK).format("%H:%M")
        ),
        None => String::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, pane: &BriefPane, ctx: &DrawCtx) {
    let (market, theme) = (ctx.app.market(), ctx.theme);
    let mut lines = Vec::new();
    match pane.brief() {
        Some(brief) => {
            for line in text_lines(brief) {
                lines.push(match line {
                    TextLine::Heading(t) => {
                        Line::styled(printable(&t), theme.header.add_modifier(Modifier::BOLD))
                    }
                    TextLine::Text(t) => Line::styled(printable(&t), theme.text),
                    TextLine::Dim(t) => Line::styled(printable(&t), theme.dim),
                    TextLine::Warn(t) => Line::styled(printable(&t), theme.warn),
                    TextLine::Blank => Line::default(),
                });
            }
            // the session line runs live (the stored one is as of generated_at)
            if market.session.is_some_and(|s| s.date == brief.market_date) && lines.len() > 1 {
                lines[1] = Line::styled(session_line(market.now), theme.text);
            }
        }
        None => {
            if let Some(s) = market.session {
                lines.push(Line::styled(
                    format!(
                        "Session {} · {}–{} ET{}",
                        s.date.format("%a %Y-%m-%d"),
                        s.open.with_timezone(&NEW_YORK).format("%H:%M"),
                        s.close.with_timezone(&NEW_YORK).format("%H:%M"),
                        if s.early_close { " · EARLY CLOSE" } else { "" }
                    ),
                    theme.header,
                ));
                lines.push(Line::styled(session_line(market.now), theme.text));
                lines.push(Line::default());
            }
            lines.push(Line::styled(
                "No brief yet: it is built on trading days from the configured time \
                 ([brief] at, 07:00 ET by default), with levels per watchlist symbol, \
                 economic events, open-position risk and watch items.",
                theme.dim,
            ));
        }
    }
    // j/k move by brief lines; the paragraph scrolls by screen rows, so the rows of the
    // lines above are summed (word wrapping may add a row the estimate misses)
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let heights: Vec<usize> = lines
        .iter()
        .map(|l| l.width().div_ceil(inner).max(1))
        .collect();
    // The brief stops at its end: the last top line is the one from which the rest fills
    // the pane; `j` goes no further (the pane keeps it for its keys).
    let visible = usize::from(area.height.saturating_sub(2));
    pane.set_last_top(last_top(&heights, visible));
    let first = pane.top_line();
    let rows: usize = heights.iter().take(first).sum();
    let scroll = u16::try_from(rows).unwrap_or(u16::MAX);
    frame.render_widget(
        Paragraph::new(lines)
            .style(Style::default())
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        area,
    );
}

/// The last line that may be at the top of a pane `visible` rows high, over lines of
/// `heights` rows each: from it to the end, the lines fill the pane (or all fit).
pub fn last_top(heights: &[usize], visible: usize) -> usize {
    let mut below = 0;
    for (i, h) in heights.iter().enumerate().rev() {
        below += h;
        if below > visible {
            return i + 1;
        }
    }
    0
}

#[cfg(test)]
mod scroll_tests {
    use super::last_top;

    #[test]
    fn the_brief_scrolls_until_its_last_line_is_at_the_bottom() {
        // ten one-row lines in a four-row pane: lines 6..=9 fill it
        assert_eq!(last_top(&[1; 10], 4), 6);
        // a two-row line at the end counts twice
        assert_eq!(last_top(&[1, 1, 1, 1, 2], 3), 3);
        // a brief that fits never scrolls
        assert_eq!(last_top(&[1; 3], 10), 0);
        assert_eq!(last_top(&[], 10), 0);
    }
}
