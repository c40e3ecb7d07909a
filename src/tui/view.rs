//! Draws the whole screen from the `App`: header, panes (all at ≥ 120×40, one with a tab
//! bar at ≥ 80×24, a "too small" notice below), status line, footer and overlays.
//! Pure: the same state and clock give the same frame.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Overlay, Pane};
use super::overlays;
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
        // The Coach has no cell of its own: focused, it takes the middle column (Scanner
        // and Setups), so Brief, GEX, Health and Logs stay in view while it answers.
        if app.focus == Pane::Coach {
            let [_, middle, _] = grid_columns(body);
            frame.render_widget(ratatui::widgets::Clear, middle);
            panes::draw(frame, middle, Pane::Coach, app, theme, now);
        }
    } else {
        draw_tabs(frame, tabs, app, theme);
        panes::draw(frame, body, app.focus, app, theme, now);
    }
    draw_status(frame, status, app, theme);
    draw_footer(frame, footer, app, theme);
    if let Some(overlay) = &app.overlay {
        overlays::draw(frame, area, overlay, app, theme);
    }
}

/// The full layout: Brief left, Scanner over Setups in the middle, GEX right; Health,
/// the Chart and Logs share the bottom. Reading order follows the pane numbers.
fn grid_areas(body: Rect) -> [(Pane, Rect); 7] {
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
        (Pane::Brief, brief),
        (Pane::Scanner, scanner),
        (Pane::Setups, setups),
        (Pane::Gex, gex),
        (Pane::Health, health),
        (Pane::Chart, chart),
        (Pane::Logs, logs),
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
    session_text(app, false)
}

/// `10:31 ET · OPEN · closes in 5h29m`: the header's fallback on narrow terminals.
pub fn session_line_compact(app: &App) -> String {
    session_text(app, true)
}

fn session_text(app: &App, compact: bool) -> String {
    let Some(now) = app.market_now else {
        return "waiting for market data".into();
    };
    let local = now.with_timezone(&NEW_YORK);
    let clock = local.format(if compact {
        "%H:%M ET"
    } else {
        "%a %d %b %H:%M ET"
    });
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

/// The header's warning when the database (SPEC 14) or, attached, every server is out
/// of reach; other workers' troubles are the Health pane's. `None` when both are fine.
pub fn health_warning(app: &App, now: DateTime<Utc>) -> Option<String> {
    let unwell = |name: &str| {
        app.workers
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
        .workers
        .iter()
        // Attached screens have no feed of their own: the server's ("instance feed").
        .find(|w| w.name == "feed" || w.name.ends_with(" feed"))
        .is_none_or(|w| w.is_stale(now) || w.state != crate::runtime::health::WorkerState::Running);
    let stale_symbols = app
        .watchlist
        .iter()
        .filter(|r| r.is_stale(app.market_now, app.session))
        .count();
    let freshness = if app.market_now.is_none() {
        Span::styled("no data", theme.warn)
    } else if feed_stale {
        Span::styled("STALE", theme.error)
    } else if stale_symbols > 0 {
        Span::styled(format!("live, {stale_symbols} STALE"), theme.warn)
    } else {
        Span::styled("live", theme.up)
    };
    let focus = match &app.focus_symbol {
        Some(s) => {
            let last = app
                .intraday
                .get(s)
                .and_then(|d| d.last)
                .map(|p| format!(" {}", crate::tui::widgets::candles::price(p)))
                .unwrap_or_default();
            format!("◆ {s}{last}")
        }
        None => "◆ no focus".into(),
    };
    // Segments in display order; the ones that do not fit the width are left out, from
    // the last. The session line has a compact form for 80 columns.
    let provider = vec![
        Span::styled(app.source.provider.clone(), theme.text),
        Span::raw(" "),
        freshness,
    ];
    let width_of = |segment: &[Span]| segment.iter().map(Span::width).sum::<usize>();
    let fixed = 5 + 3 + focus.chars().count() + 3 + width_of(&provider) + 3;
    let full = session_line(app);
    let session = if fixed + full.chars().count() <= area.width as usize {
        full
    } else {
        session_line_compact(app)
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
        vec![Span::styled(app.source.user.clone(), theme.dim)],
        vec![Span::styled(app.source.database.clone(), theme.dim)],
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
    // The first key only, where the footer is tight.
    let k1 = |a: Action| {
        app.keymap
            .keys_for(a)
            .first()
            .map_or_else(String::new, ToString::to_string)
    };
    match app.overlay {
        Some(Overlay::NewAlert { .. }) => vec![
            ("Enter".into(), "set"),
            ("Up/Down".into(), "other level"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::ConfirmRemoveAlert { .. }) => {
            vec![("y".into(), "remove"), ("any other key".into(), "keep")]
        }
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
        None if app.focus == Pane::Coach && app.coach.editing => vec![
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
            let mut hints = vec![
                (
                    format!("{}/{}", k(Action::FocusNext), k(Action::FocusPrev)),
                    "focus",
                ),
                (
                    format!("{}…{}", k(Action::FocusBrief), k(Action::FocusChart)),
                    "panes",
                ),
                (k(Action::Search), "symbol"),
            ];
            if app.focus == Pane::Chart {
                // Room for the Chart's own keys.
                hints.remove(0);
            }
            if matches!(app.focus, Pane::Scanner | Pane::Health | Pane::Setups)
                || (app.focus == Pane::Chart && app.chart.show_alerts)
            {
                hints.push((format!("{}/{}", k(Action::Down), k(Action::Up)), "move"));
            }
            if app.focus == Pane::Coach && app.coach.configured {
                hints.push((format!("{}/{}", k(Action::Up), k(Action::Down)), "scroll"));
            }
            match app.focus {
                Pane::Scanner => {
                    hints.push((k(Action::Track), "track"));
                    hints.push((k(Action::EditWatchlist), "watchlist"));
                    hints.push((k(Action::AskCoach), "coach"));
                }
                Pane::Coach if app.coach.running => hints.push((k(Action::Back), "cancel")),
                Pane::Coach if app.coach.configured => hints.push((k(Action::Details), "ask")),
                Pane::Setups => {
                    for (action, what) in [
                        (Action::Trigger, "trig"),
                        (Action::Invalidate, "inval"),
                        (Action::Archive, "arch"),
                        (Action::Reopen, "reopen"),
                        (Action::Note, "note"),
                        (Action::Delete, "del"),
                        (Action::Filter, "filter"),
                        (Action::Details, "details"),
                        (Action::AskCoach, "coach"),
                    ] {
                        hints.push((k(action), what));
                    }
                }
                Pane::Brief => {
                    hints.push((k(Action::Down), "scroll"));
                    hints.push((k(Action::Refresh), "regenerate"));
                    hints.push((k(Action::BriefPreview), "preview"));
                }
                Pane::Gex => {
                    hints.push((k(Action::GexSymbol), "symbol"));
                    hints.push((k(Action::GexExpiry), "expiry"));
                    hints.push((k(Action::Refresh), "refresh"));
                }
                Pane::Chart if app.chart.show_alerts => {
                    hints.push((k(Action::Delete), "remove"));
                    hints.push((k(Action::AlertsView), "chart"));
                }
                Pane::Chart => {
                    hints.push((
                        format!("{}{}", k1(Action::TimeframeDown), k1(Action::TimeframeUp)),
                        "1/5/15m",
                    ));
                    hints.push((
                        format!("{}/{}", k1(Action::CursorLeft), k1(Action::CursorRight)),
                        "cursor",
                    ));
                    hints.push((k(Action::AlertsView), "alerts"));
                }
                _ => {}
            }
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
    use crate::tui::app::Source;
    use crate::tui::keymap::Keymap;

    fn app_with(health: &Health) -> App {
        let mut app = App::new(
            Keymap::default(),
            Source {
                provider: "sim".into(),
                database: "postgres".into(),
                user: "ann".into(),
            },
            &[],
            false,
        );
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
