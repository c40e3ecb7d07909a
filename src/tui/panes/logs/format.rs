//! How a log line reads in the Logs pane (issue 22 item 10): its time in New York, like
//! the rest of the screen (the machine's clock may be UTC), the level's letter, and the
//! message wrapped at word boundaries under an indent, never cut inside a word.

use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::Line;
use tui_logger::{ExtLogRecord, LogFormatter};

use crate::market::calendar::NEW_YORK;

/// `HH:MM:SS L ` before the message; continuation lines are indented as wide.
const PREFIX_WIDTH: usize = 11;

/// The Logs pane's formatter: one style per level.
pub struct NewYorkFormatter {
    pub text: Style,
    pub error: Style,
    pub warn: Style,
    pub dim: Style,
}

impl LogFormatter for NewYorkFormatter {
    fn min_width(&self) -> u16 {
        PREFIX_WIDTH as u16 + 8
    }

    fn format(&self, width: usize, evt: &ExtLogRecord) -> Vec<Line<'_>> {
        let level = evt.level.as_str();
        let style = match level {
            "ERROR" => self.error,
            "WARN" => self.warn,
            "INFO" => self.text,
            _ => self.dim,
        };
        let prefix = format!(
            "{} {} ",
            ny_clock(evt.timestamp.timestamp().as_millisecond()),
            &level[..1]
        );
        let text = crate::text::printable_lines(evt.msg());
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let first = if i == 0 { prefix.as_str() } else { "" };
            for (j, piece) in wrap_words(line, width.saturating_sub(PREFIX_WIDTH).max(1))
                .into_iter()
                .enumerate()
            {
                let lead = if i == 0 && j == 0 {
                    first.to_string()
                } else {
                    " ".repeat(PREFIX_WIDTH)
                };
                out.push(Line::styled(format!("{lead}{piece}"), style));
            }
        }
        out
    }
}

/// A Unix time in milliseconds as New York `HH:MM:SS`.
pub fn ny_clock(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis).map_or_else(
        || "--:--:--".to_string(),
        |t| t.with_timezone(&NEW_YORK).format("%H:%M:%S").to_string(),
    )
}

/// `text` in lines of at most `width` characters, broken at spaces; a word longer than a
/// line is cut (nothing else can fit it).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        while word.len() > width {
            let rest = word.split_off(width);
            if len > 0 {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.iter().collect());
            len = 0;
            word = rest;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        line.extend(word.iter());
        len += word.len();
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{ny_clock, wrap_words};

    #[test]
    fn log_times_are_new_york_times_in_summer_and_winter() {
        // 2026-07-01 14:31:05 UTC is 10:31:05 EDT; 2026-12-01 14:31:05 UTC is 09:31:05 EST.
        assert_eq!(ny_clock(1_782_916_265_000), "10:31:05");
        assert_eq!(ny_clock(1_796_135_465_000), "09:31:05");
    }

    #[test]
    fn lines_break_between_words_never_inside_one() {
        assert_eq!(
            wrap_words("watching the 4 symbols of the bar files", 16),
            ["watching the 4", "symbols of the", "bar files"]
        );
        assert_eq!(wrap_words("", 10), [""]);
        assert_eq!(wrap_words("short", 10), ["short"]);
        assert_eq!(
            wrap_words("a supercalifragilistic word", 8),
            ["a", "supercal", "ifragili", "stic", "word"]
        );
        for line in wrap_words(
            "the detect worker keeps gamma_squeeze silent: no GEX profile",
            20,
        ) {
            assert!(line.chars().count() <= 20, "{line}");
        }
    }
}
