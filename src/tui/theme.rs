//! Colours. The default uses the 16 ANSI colours (they follow the user's palette and
//! survive tmux and SSH); truecolor is opt-in; `none` (or `NO_COLOR`) uses modifiers only.
//! Focus and state are never shown by colour alone: focused panes get a bold title and a
//! marker, selections are reversed.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub focus_title: Style,
    pub border: Style,
    pub focus_border: Style,
    pub up: Style,
    pub down: Style,
    pub warn: Style,
    pub error: Style,
    pub selected: Style,
    pub header: Style,
}

impl Theme {
    /// Picks the theme for `ui.color` (`auto` honours `NO_COLOR`).
    pub fn from_config(color: &str, no_color_env: bool) -> Theme {
        match color {
            "none" => Theme::monochrome(),
            "truecolor" => Theme::truecolor(),
            "auto" if no_color_env => Theme::monochrome(),
            _ => Theme::ansi16(),
        }
    }

    pub fn ansi16() -> Theme {
        Theme {
            text: Style::default(),
            dim: Style::default().fg(Color::DarkGray),
            title: Style::default(),
            focus_title: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            border: Style::default().fg(Color::DarkGray),
            focus_border: Style::default().fg(Color::Cyan),
            up: Style::default().fg(Color::Green),
            down: Style::default().fg(Color::Red),
            warn: Style::default().fg(Color::Yellow),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            header: Style::default().add_modifier(Modifier::BOLD),
        }
    }

    pub fn truecolor() -> Theme {
        Theme {
            dim: Style::default().fg(Color::Rgb(120, 120, 130)),
            focus_title: Style::default()
                .fg(Color::Rgb(110, 200, 250))
                .add_modifier(Modifier::BOLD),
            border: Style::default().fg(Color::Rgb(80, 80, 90)),
            focus_border: Style::default().fg(Color::Rgb(110, 200, 250)),
            up: Style::default().fg(Color::Rgb(80, 200, 120)),
            down: Style::default().fg(Color::Rgb(240, 90, 90)),
            warn: Style::default().fg(Color::Rgb(240, 190, 80)),
            ..Theme::ansi16()
        }
    }

    pub fn monochrome() -> Theme {
        let plain = Style::default();
        Theme {
            text: plain,
            dim: plain,
            title: plain,
            focus_title: plain.add_modifier(Modifier::BOLD),
            border: plain,
            focus_border: plain.add_modifier(Modifier::BOLD),
            up: plain,
            down: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD),
            selected: plain.add_modifier(Modifier::REVERSED),
            header: plain.add_modifier(Modifier::BOLD),
        }
    }
}
