//! Draws the whole screen from the `App`: header, panes (all at ≥ 120×40, one with a tab
//! bar at ≥ 80×24, a "too small" notice below), status line, footer and overlays.
//! Pure: the same state and clock give the same frame.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Overlay, PaneId};
use super::format::{session_line, session_line_compact};
use super::overlays;
use super::pane::Hint;
use super::panes;
use super::theme::Theme;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
pub const GRID_WIDTH: u16 = 120;
pub const GRID_HEIGHT: u16 = 40;

/// Draws a frame. `now` is the wall clock (for ages in Health and the header).
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area, app, theme);
        // `?` and `q` still work here: their popups (help, the quit question) show over
        // the notice, cut to the screen
        if let Some(overlay @ (Overlay::Help | Overlay::ConfirmQuit)) = app.overlay() {
            overlays::draw(frame, area, overlay, app, theme);
        }
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
        // The Coach has no cell of its own: focused, it takes the middle column (Scanner
        // and Setups), so Brief, GEX, Health and Logs stay in view while it answers.
        if app.focus() == PaneId::Coach {
            let [_, middle, _] = grid_columns(body);
            frame.render_widget(ratatui::widgets::Clear, middle);
            panes::draw(frame, middle, PaneId::Coach, app, theme, now);
        }
        // Nor has Stats: focused, it takes the top (Brief, Scanner, Setups, GEX) for its
        // wide table, so Health, the Chart and Logs stay in view.
        if app.focus() == PaneId::Stats {
            let [top, _] =
                Layout::vertical([Constraint::Percentage(70), Constraint::Percentage(30)])
                    .areas(body);
            frame.render_widget(ratatui::widgets::Clear, top);
            panes::draw(frame, top, PaneId::Stats, app, theme, now);
        }
    } else {
        draw_tabs(frame, tabs, app, theme);
        panes::draw(frame, body, app.focus(), app, theme, now);
    }
    draw_status(frame, status, app, theme);
    draw_footer(frame, footer, app, theme);
    if let Some(overlay) = app.overlay() {
        overlays::draw(frame, area, overlay, app, theme);
    }
}

/// The full layout: Brief left, Scanner over Setups in the middle, GEX right; Health,
/// the Chart and Logs share the bottom. Reading order follows the pane numbers.
fn grid_areas(body: Rect) -> [(PaneId, Rect); 7] {
    let [_, bottom] =
        Layout::vertical([Constraint::Percentage(70), Constraint::Percentage(30)]).areas(body);
    let [brief, middle, gex] = grid_columns(body);
    let [scanner, setups] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(middle);
    let [health, chart, logs] = Layout::horizontal([
        Constraint::Percentage(30),
        Constraint::Percentage(40),
        Constraint::Percentage(30),
    ])
    .areas(bottom);
    [
        (PaneId::Brief, brief),
        (PaneId::Scanner, scanner),
        (PaneId::Setups, setups),
        (PaneId::Gex, gex),
        (PaneId::Health, health),
        (PaneId::Chart, chart),
        (PaneId::Logs, logs),
    ]
}

/// The three columns of the top 70 %: Brief, the middle (Scanner over Setups), GEX.
fn grid_columns(body: Rect) -> [Rect; 3] {
    let [top, _] =
        Layout::vertical([Constraint::Percentage(70), Constraint::Percentage(30)]).areas(body);
    Layout::horizontal([
        Constraint::Percentage(28),
        Constraint::Percentage(44),
        Constraint::Percentage(28),
    ])
    .areas(top)
}

fn draw_too_small(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let text = vec![
        Line::styled(
            format!("terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT})"),
            theme.warn,
        ),
        Line::styled(
            format!(
                "now {}×{}; {} help · {} quits",
                area.width,
                area.height,
                app.keymap().label(Action::Help),
                app.keymap().label(Action::Quit)
            ),
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

/// The header's warning when the database (SPEC 14) or, attached, every server is out
/// of reach; other workers' troubles are the Health pane's. `None` when both are fine.
pub fn health_warning(app: &App, now: DateTime<Utc>) -> Option<String> {
    let unwell = |name: &str| {
        app.workers()
            .iter()
            .any(|w| w.name == name && !w.is_healthy(now))
    };
    if unwell(crate::runtime::database::WORKER) {
        Some("DEGRADED: database unreachable, retrying".into())
    } else if unwell(crate::runtime::remote::WORKER) {
        Some("DEGRADED: no coach serve reporting".into())
    } else {
        None
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let feed_stale = app
        .workers()
        .iter()
        // Attached screens have no feed of their own: the server's ("instance feed").
        .find(|w| w.name == "feed" || w.name.ends_with(" feed"))
        .is_none_or(|w| w.is_stale(now) || w.state != crate::runtime::health::WorkerState::Running);
    let stale_symbols = app
        .market()
        .watchlist
        .iter()
        .filter(|r| r.is_stale(app.market().now, app.market().session))
        .count();
    let freshness = if app.market().now.is_none() {
        Span::styled("no data", theme.warn)
    } else if feed_stale {
        Span::styled("STALE", theme.error)
    } else if stale_symbols > 0 {
        Span::styled(format!("live, {stale_symbols} STALE"), theme.warn)
    } else {
        Span::styled("live", theme.up)
    };
    let focus = match app.focus_symbol() {
        Some(s) => {
            let last = app
                .market()
                .intraday
                .get(s)
                .and_then(|d| d.last)
                .map(|p| format!(" {}", super::format::price(p)))
                .unwrap_or_default();
            format!("◆ {s}{last}")
        }
        None => "◆ no focus".into(),
    };
    // Segments in display order; the ones that do not fit the width are left out, from
    // the last. The session line has a compact form for 80 columns.
    let provider = vec![
        Span::styled(app.source().provider.clone(), theme.text),
        Span::raw(" "),
        freshness,
    ];
    let width_of = |segment: &[Span]| segment.iter().map(Span::width).sum::<usize>();
    let fixed = 5 + 3 + focus.chars().count() + 3 + width_of(&provider) + 3;
    let full = session_line(app.market().now);
    let session = if fixed + full.chars().count() <= area.width as usize {
        full
    } else {
        session_line_compact(app.market().now)
    };
    // The database or server warning goes right after the name (SPEC 14).
    let mut segments: Vec<Vec<Span>> = vec![vec![Span::styled("coach", theme.header)]];
    if let Some(warning) = health_warning(app, now) {
        segments.push(vec![Span::styled(warning, theme.error)]);
    }
    segments.extend([
        vec![Span::styled(focus, theme.focus_title)],
        vec![Span::styled(session, theme.text)],
        provider,
        vec![Span::styled(app.source().user.clone(), theme.dim)],
        vec![Span::styled(app.source().database.clone(), theme.dim)],
    ]);
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0usize;
    for segment in segments {
        let width = width_of(&segment) + if spans.is_empty() { 0 } else { 3 };
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
    // " 1 Brief " per pane and a space between, or, when that does not fit the width,
    // "1 Brief" (the focused one stays in brackets either way).
    let full: usize = PaneId::ALL
        .iter()
        .map(|p| p.title().chars().count() + p.number().to_string().len() + 4)
        .sum::<usize>()
        - 1;
    let compact = full > area.width as usize;
    let mut spans = Vec::new();
    for pane in PaneId::ALL {
        let label = if compact {
            format!("{} {}", pane.number(), pane.title())
        } else {
            format!(" {} {} ", pane.number(), pane.title())
        };
        if pane == app.focus() {
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
    let line = match app.status() {
        Some(s) if s.is_error => Line::styled(format!("✗ {}", s.text), theme.error),
        Some(s) => Line::styled(format!("✓ {}", s.text), theme.text),
        None => Line::default(),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys that work now, from the live keymap: an overlay's own keys, or the global
/// keys around the focused pane's (`Pane::hints`).
pub fn footer_hints(app: &App) -> Vec<Hint> {
    let k = |a: Action| app.keymap().label(a);
    match app.overlay() {
        Some(Overlay::NewAlert { .. }) => vec![
            ("Enter".into(), "set"),
            ("Up/Down".into(), "other level"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::ConfirmRemoveAlert { .. }) => {
            vec![("y".into(), "remove"), ("any other key".into(), "keep")]
        }
        Some(Overlay::Snooze { .. }) => vec![
            ("1".into(), "15 min"),
            ("2".into(), "1 h"),
            ("3".into(), "rest of session"),
            ("any other key".into(), "cancel"),
        ],
        Some(Overlay::EditWatchlist { .. } | Overlay::EditNote { .. } | Overlay::Search { .. }) => {
            vec![
                ("Enter".into(), "save"),
                ("Esc".into(), "cancel"),
                ("Ctrl-U".into(), "clear"),
            ]
        }
        Some(Overlay::Help) => vec![(k(Action::Back), "close help")],
        Some(Overlay::ConfirmQuit) => vec![("y".into(), "quit"), ("any other key".into(), "stay")],
        Some(Overlay::ConfirmDelete { .. }) => {
            vec![("y".into(), "delete"), ("any other key".into(), "keep")]
        }
        Some(Overlay::ConfirmCoach { .. }) => {
            vec![("y".into(), "track it"), ("any other key".into(), "don't")]
        }
        None if app.focus() == PaneId::Coach && app.panes().coach.editing => vec![
            ("Enter".into(), "ask"),
            ("Esc".into(), "close prompt"),
            ("Ctrl-U".into(), "clear"),
            (
                format!("{}/{}", k(Action::FocusNext), k(Action::FocusPrev)),
                "focus",
            ),
        ],
        Some(Overlay::Details { .. }) => vec![(k(Action::Back), "close")],
        None => {
            let pane = app.panes().get(app.focus());
            let mut hints = vec![
                (
                    format!("{}/{}", k(Action::FocusNext), k(Action::FocusPrev)),
                    "focus",
                ),
                (
                    format!("{}…{}", k(Action::FocusBrief), k(Action::FocusStats)),
                    "panes",
                ),
                (k(Action::Search), "symbol"),
            ];
            if pane.wide_hints() {
                hints.remove(0);
            }
            hints.extend(pane.hints(app));
            hints.push((k(Action::NewAlert), "alert"));
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

#[cfg(test)]
mod health_warning_tests {
    use super::*;
    use crate::runtime::health::Health;
    use crate::tui::app::{Source, Startup};
    use crate::tui::keymap::Keymap;

    fn app_with(health: &Health) -> App {
        let mut app = App::new(Startup::new(
            Keymap::default(),
            Source {
                provider: "sim".into(),
                database: "postgres".into(),
                user: "ann".into(),
            },
            &[],
        ));
        app.on_health(health.snapshot());
        app
    }

    #[test]
    fn the_header_warns_of_a_lost_database_first() {
        let health = Health::default();
        for name in [
            crate::runtime::database::WORKER,
            crate::runtime::remote::WORKER,
        ] {
            health.register(name, std::time::Duration::from_secs(1));
        }
        let now = Utc::now();
        assert_eq!(health_warning(&app_with(&health), now), None);
        health.update(crate::runtime::remote::WORKER, |r| {
            r.consecutive_failures = 1
        });
        assert_eq!(
            health_warning(&app_with(&health), now).as_deref(),
            Some("DEGRADED: no coach serve reporting")
        );
        health.update(crate::runtime::database::WORKER, |r| {
            r.consecutive_failures = 3
        });
        assert_eq!(
            health_warning(&app_with(&health), now).as_deref(),
            Some("DEGRADED: database unreachable, retrying")
        );
    }
}
