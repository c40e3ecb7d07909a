//! The Coach pane: the transcript (questions, streamed answers, one line per tool call
//! and per result) above the prompt. Every model and tool text is sanitized before it is
//! drawn; the newest lines stay in view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{CoachLine, CoachPane};
use crate::config::HOW_TO_CONFIGURE;
use crate::text::printable;
use crate::tui::theme::Theme;

pub fn title(coach: &CoachPane) -> String {
    let scrolled = if coach.scroll > 0 {
        " · scrolled back (j: newer)"
    } else {
        ""
    };
    let state = match (&coach.context, coach.running) {
        (_, true) => " · answering… (Esc cancels)".into(),
        (Some((label, _)), false) => format!(" · about {}", printable(label)),
        (None, false) => String::new(),
    };
    format!("{state}{scrolled}")
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, coach: &CoachPane, theme: &Theme) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !coach.configured {
        frame.render_widget(
            Paragraph::new(HOW_TO_CONFIGURE)
                .style(theme.text)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let [transcript, prompt] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(inner);
    let width = transcript.width.max(1) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if coach.transcript.is_empty() {
        for text in [
            "Ask about the market on your screen: \"where is the SPX flip and how far is price from it?\"",
            "c on a Scanner or Setups row asks about that row. The coach reads the live data through tools; each call shows here.",
        ] {
            push_wrapped(&mut lines, text, width, theme.dim, "");
        }
    }
    for entry in &coach.transcript {
        match entry {
            CoachLine::Question(q) => {
                lines.push(Line::default());
                push_wrapped(&mut lines, q, width, theme.focus_title, "› ");
            }
            CoachLine::Answer(a) => {
                for paragraph in a.lines() {
                    push_wrapped(&mut lines, paragraph, width, theme.text, "");
                }
            }
            CoachLine::ToolCall { name, arguments } => push_wrapped(
                &mut lines,
                &format!("{name} {arguments}"),
                width,
                theme.dim,
                "⚙ ",
            ),
            CoachLine::ToolResult { summary, is_error } => push_wrapped(
                &mut lines,
                summary,
                width,
                if *is_error { theme.warn } else { theme.dim },
                if *is_error { "  ✗ " } else { "  ↳ " },
            ),
            CoachLine::Error(e) => push_wrapped(&mut lines, e, width, theme.error, "✗ "),
        }
    }
    // The newest lines, or further back by the scroll (never past the first line).
    let height = transcript.height as usize;
    let back = coach.scroll.min(lines.len().saturating_sub(height));
    let skip = lines.len().saturating_sub(height + back);
    lines.truncate(skip + height);
    frame.render_widget(
        Paragraph::new(lines.split_off(skip.min(lines.len()))),
        transcript,
    );
    let prompt_line = if coach.running {
        Line::styled("… the coach is answering (Esc cancels)", theme.dim)
    } else if coach.editing {
        Line::from(vec![
            Span::styled("› ", theme.focus_title),
            Span::styled(
                printable(&tail(&coach.input.text, width.saturating_sub(3))),
                theme.text,
            ),
            Span::styled("█", theme.text),
        ])
    } else {
        Line::styled("Enter opens the prompt", theme.dim)
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled("─".repeat(width), theme.border),
            prompt_line,
        ]),
        prompt,
    );
}

/// The last `n` characters (the cursor end of a long question stays visible).
fn tail(text: &str, n: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(n)).collect()
}

/// Sanitizes `text` and wraps it at `width` characters (words kept whole when they fit),
/// the first line after `prefix`, the rest indented to match.
fn push_wrapped(
    lines: &mut Vec<Line<'static>>,
    text: &str,
    width: usize,
    style: Style,
    prefix: &str,
) {
    let clean = printable(text);
    let indent = " ".repeat(prefix.chars().count());
    let room = width.saturating_sub(prefix.chars().count()).max(1);
    let mut current = String::new();
    let mut first = true;
    let mut flush = |current: &mut String, first: &mut bool| {
        let lead = if *first { prefix } else { indent.as_str() };
        lines.push(Line::styled(format!("{lead}{current}"), style));
        current.clear();
        *first = false;
    };
    for word in clean.split(' ') {
        let (cur, w) = (current.chars().count(), word.chars().count());
        if cur > 0 && cur + 1 + w > room {
            flush(&mut current, &mut first);
        }
        if !current.is_empty() {
            current.push(' ');
        }
        let mut rest: &str = word;
        loop {
            let space = room.saturating_sub(current.chars().count());
            if rest.chars().count() <= space {
                current.push_str(rest);
                break;
            }
            if space == 0 {
                flush(&mut current, &mut first);
                continue;
            }
            let cut: String = rest.chars().take(space).collect();
            current.push_str(&cut);
            rest = &rest[cut.len()..];
            flush(&mut current, &mut first);
        }
    }
    flush(&mut current, &mut first);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, width: usize, prefix: &str) -> Vec<String> {
        let mut lines = Vec::new();
        push_wrapped(&mut lines, text, width, Style::default(), prefix);
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrapping_keeps_words_and_strips_escapes() {
        assert_eq!(
            texts("the flip is at 6973.15\u{1b}[2J now", 12, "› "),
            vec!["› the flip", "  is at", "  6973.15", "  now"]
        );
        assert_eq!(texts("abcdefghij", 4, ""), vec!["abcd", "efgh", "ij"]);
        assert_eq!(texts("", 10, ""), vec![""]);
    }
}
