//! Draws the whole screen from the `App`: header, panes (all at ≥ 120×40, one with a tab
//! bar at ≥ 80×24, a "too small" notice below), status line, footer and overlays.
//! Pure: the same state and clock give the same frame.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Overlay, Pane};
use super::panes;
use super::theme::Theme;
use crate::market::calendar::{self, NEW_YORK, Phase};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
pub const GRID_WIDTH: u16 = 120;
pub const GRID_HEIGHT: u16 = 40;

/// Draws a frame. `now` is the wall clock (for ages in Health and the header).
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area, theme);
        return;
    }
    let grid = area.width >= GRID_WIDTH && area.height >= GRID_HEIGHT;
    let [header, tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if grid { 0 } else { 1 }),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, app, theme, now);
    if grid {
        for (pane, rect) in grid_areas(body) {
            panes::draw(frame, rect, pane, app, theme, now);
        }
    } else {
        draw_tabs(frame, tabs, app, theme);
        panes::draw(frame, body, app.focus, app, theme, now);
    }
    draw_status(frame, status, app, theme);
    draw_footer(frame, footer, app, theme);
    match &app.overlay {
        Some(Overlay::Help) => draw_help(frame, area, app, theme),
        Some(Overlay::ConfirmQuit) => draw_confirm_quit(frame, area, app, theme),
        Some(Overlay::EditWatchlist { input, error }) => draw_editor(
            frame,
            area,
            theme,
            " Watchlist ",
            &input.text,
            error.as_deref(),
            "symbols separated by spaces or commas, at most 50 · Enter saves · Esc cancels",
        ),
        None => {}
    }
}

/// The full layout: Brief left, Scanner over Setups in the middle, GEX right; Health and
/// Logs share the bottom. Reading order follows the pane numbers.
fn grid_areas(body: Rect) -> [(Pane, Rect); 6] {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(70), Constraint::Percentage(30)]).areas(body);
    let [brief, middle, gex] = Layout::horizontal([
        Constraint::Percentage(28),
        Constraint::Percentage(44),
        Constraint::Percentage(28),
    ])
    .areas(top);
    let [scanner, setups] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(middle);
    let [health, logs] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    [
        (Pane::Brief, brief),
        (Pane::Scanner, scanner),
        (Pane::Setups, setups),
        (Pane::Gex, gex),
        (Pane::Health, health),
        (Pane::Logs, logs),
    ]
}

fn draw_too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let text = vec![
        Line::styled(
            format!("terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT})"),
            theme.warn,
        ),
        Line::styled(
            format!("now {}×{}; q quits", area.width, area.height),
            theme.dim,
        ),
    ];
    let top = area.height.saturating_sub(2) / 2;
    let inner = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}

/// `Tue 24 Nov 10:31 ET · OPEN · closes in 5h29m`, from the market clock.
pub fn session_line(app: &App) -> String {
    let Some(now) = app.market_now else {
        return "waiting for market data".into();
    };
    let local = now.with_timezone(&NEW_YORK);
    let clock = local.format("%a %d %b %H:%M ET");
    let today = calendar::session(local.date_naive());
    let (state, countdown) = match (calendar::phase(now), today) {
        (Phase::PreMarket, Some(s)) => ("PRE-MARKET", format!("opens in {}", span(s.open - now))),
        (Phase::Regular, Some(s)) => (
            if s.early_close {
                "OPEN (early close)"
            } else {
                "OPEN"
            },
            format!(
                "closes {} in {}",
                s.close.with_timezone(&NEW_YORK).format("%H:%M"),
                span(s.close - now)
            ),
        ),
        (Phase::AfterHours, _) => ("AFTER-HOURS", "closed for the day".to_string()),
        _ => {
            let next = calendar::next_session(local.date_naive());
            (
                "CLOSED",
                format!(
                    "opens {} in {}",
                    next.open.with_timezone(&NEW_YORK).format("%a %H:%M"),
                    span(next.open - now)
                ),
            )
        }
    };
    format!("{clock} · {state} · {countdown}")
}

/// `5h29m`, `12m`, `2d3h`.
pub fn span(d: chrono::Duration) -> String {
    let mins = d.num_minutes().max(0);
    let (days, hours, minutes) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, h) => format!("{h}h{minutes:02}m"),
        (d, h) => format!("{d}d{h}h"),
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let feed_stale = app
        .workers
        .iter()
        .find(|w| w.name == "feed")
        .is_none_or(|w| w.is_stale(now) || w.state != crate::runtime::health::WorkerState::Running);
    let freshness = if app.market_now.is_none() {
        Span::styled("no data", theme.warn)
    } else if feed_stale {
        Span::styled("STALE", theme.error)
    } else {
        Span::styled("live", theme.up)
    };
    // Segments in priority order; the ones that do not fit the width are left out.
    let segments: Vec<Vec<Span>> = vec![
        vec![Span::styled("coach", theme.header)],
        vec![Span::styled(session_line(app), theme.text)],
        vec![
            Span::styled(app.source.provider.clone(), theme.text),
            Span::raw(" "),
            freshness,
        ],
        vec![Span::styled(app.source.user.clone(), theme.dim)],
        vec![Span::styled(app.source.database.clone(), theme.dim)],
    ];
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0usize;
    for segment in segments {
        let width: usize =
            segment.iter().map(Span::width).sum::<usize>() + if spans.is_empty() { 0 } else { 3 };
        if used + width > area.width as usize {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        spans.extend(segment);
        used += width;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for pane in Pane::ALL {
        let label = format!(" {} {} ", pane.number(), pane.title());
        if pane == app.focus {
            spans.push(Span::styled(
                format!("[{}]", label.trim()),
                theme.focus_title.patch(theme.selected),
            ));
        } else {
            spans.push(Span::styled(label, theme.dim));
        }
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = match &app.status {
        Some(s) if s.is_error => Line::styled(format!("✗ {}", s.text), theme.error),
        Some(s) => Line::styled(format!("✓ {}", s.text), theme.text),
        None => Line::default(),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys that work now, from the live keymap.
pub fn footer_hints(app: &App) -> Vec<(String, &'static str)> {
    let k = |a: Action| app.keymap.label(a);
    match app.overlay {
        Some(Overlay::EditWatchlist { .. }) => vec![
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
            ("Ctrl-U".into(), "clear"),
        ],
        Some(Overlay::Help) => vec![(k(Action::Back), "close help")],
        Some(Overlay::ConfirmQuit) => vec![("y".into(), "quit"), ("any other key".into(), "stay")],
        None => {
            let mut hints = vec![
                (
                    format!("{}/{}", k(Action::FocusNext), k(Action::FocusPrev)),
                    "focus",
                ),
                (
                    format!("{}…{}", k(Action::FocusBrief), k(Action::FocusLogs)),
                    "panes",
                ),
            ];
            if matches!(app.focus, Pane::Scanner | Pane::Health) {
                hints.push((format!("{}/{}", k(Action::Down), k(Action::Up)), "move"));
            }
            match app.focus {
                Pane::Scanner => hints.push((k(Action::EditWatchlist), "watchlist")),
                Pane::Gex => {
                    hints.push((k(Action::GexSymbol), "symbol"));
                    hints.push((k(Action::GexExpiry), "expiry"));
                    hints.push((k(Action::Refresh), "refresh"));
                }
                _ => {}
            }
            hints.push((k(Action::Help), "help"));
            hints.push((k(Action::Quit), "quit"));
            hints
        }
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (keys, what) in footer_hints(app) {
        spans.push(Span::styled(keys, theme.header));
        spans.push(Span::styled(format!(" {what}  "), theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The help text, generated from the live keymap so it can never go stale.
pub fn help_lines(app: &App) -> Vec<(String, &'static str)> {
    Action::ALL
        .into_iter()
        .map(|a| (app.keymap.label(a), a.describe()))
        .collect()
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let entries = help_lines(app);
    let mut lines: Vec<Line> = entries
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:>16}  "), theme.header),
                Span::styled(*what, theme.text),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        "Keys are remappable in the [keys] section of the config file.",
        theme.dim,
    ));
    let rect = centered(area, 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus_border)
                .title(Span::styled(" Help ", theme.focus_title)),
        ),
        rect,
    );
}

/// A one-line editor in a box: the text with a block cursor, an error line, a hint line.
fn draw_editor(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    text: &str,
    error: Option<&str>,
    hint: &str,
) {
    let width = area.width.saturating_sub(4).min(100);
    let rect = centered(area, width, 5);
    frame.render_widget(Clear, rect);
    let inner_width = rect.width.saturating_sub(3) as usize;
    // Show the end of a long text, where the typing happens.
    let chars: Vec<char> = text.chars().collect();
    let visible: String = chars[chars.len().saturating_sub(inner_width)..]
        .iter()
        .collect();
    let lines = vec![
        Line::from(vec![
            Span::styled(visible, theme.text),
            Span::styled("█", theme.focus_title),
        ]),
        match error {
            Some(e) => Line::styled(format!("✗ {e}"), theme.error),
            None => Line::default(),
        },
        Line::styled(hint.to_string(), theme.dim),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.focus_border)
                .title(Span::styled(title.to_string(), theme.focus_title)),
        ),
        rect,
    );
}

fn draw_confirm_quit(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rect = centered(area, 52, 5);
    frame.render_widget(Clear, rect);
    let text = vec![
        Line::styled(
            format!("{} tracked setups are still active.", app.active_setups),
            theme.text,
        ),
        Line::styled("Quit? y = quit, any other key = stay", theme.header),
    ];
    frame.render_widget(
        Paragraph::new(text).alignment(Alignment::Center).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.warn)
                .title(Span::styled(" Quit ", theme.warn)),
        ),
        rect,
    );
}
