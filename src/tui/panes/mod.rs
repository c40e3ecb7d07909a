//! One draw function per pane, fed from the `App`. A pane never computes market data;
//! it formats what the state already holds.

mod brief;
pub mod chart;
mod gex;
mod health;
mod logs;
pub mod scanner;
mod setups;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use super::app::{App, Pane};
use super::theme::Theme;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    pane: Pane,
    app: &App,
    theme: &Theme,
    now: DateTime<Utc>,
) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let focused = app.focus == pane;
    let block = pane_block(pane, focused, theme, title_extra(pane, app));
    match pane {
        Pane::Brief => brief::draw(frame, area, block, app, theme),
        Pane::Scanner => scanner::draw(frame, area, block, app, theme),
        Pane::Setups => setups::draw(frame, area, block, app, theme),
        Pane::Gex => gex::draw(frame, area, block, app, theme, now),
        Pane::Health => health::draw(frame, area, block, app, theme, now),
        Pane::Logs => logs::draw(frame, area, block, theme),
        Pane::Chart => chart::draw(frame, area, block, app, theme),
    }
}

fn title_extra(pane: Pane, app: &App) -> String {
    match pane {
        Pane::Scanner => format!(" · watchlist ({})", app.watchlist.len()),
        Pane::Gex => gex::title(app),
        Pane::Brief => brief::title(app),
        Pane::Setups => setups::title(app),
        Pane::Chart => chart::title(app),
        Pane::Health => {
            let failing = app
                .workers
                .iter()
                .filter(|w| w.state == crate::runtime::health::WorkerState::Failed)
                .count();
            if failing > 0 {
                format!(" · {failing} failing")
            } else {
                String::new()
            }
        }
        _ => String::new(),
    }
}

/// The frame of a pane: `[2 Scanner]` with a bold title and marker when focused, so focus
/// shows without colour.
fn pane_block(pane: Pane, focused: bool, theme: &Theme, extra: String) -> Block<'static> {
    let (title, style, border) = if focused {
        (
            format!("▶ {} {}{} ", pane.number(), pane.title(), extra),
            theme.focus_title,
            theme.focus_border,
        )
    } else {
        (
            format!(" {} {}{} ", pane.number(), pane.title(), extra),
            theme.title,
            theme.border,
        )
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, style))
}

/// The cells of a trade plan as the Scanner and Setups tables show it: symbol, setup,
/// direction arrow (▲ long, ▼ short: never colour alone), entry, stop, target.
fn plan_cells<'a>(
    symbol: &'a crate::domain::Symbol,
    kind: crate::domain::SetupKind,
    direction: crate::domain::Direction,
    entry: f64,
    stop: f64,
    target: f64,
    theme: &Theme,
) -> Vec<ratatui::widgets::Cell<'a>> {
    use ratatui::text::Line;
    use ratatui::widgets::Cell;
    let (arrow, style) = match direction {
        crate::domain::Direction::Long => ("▲", theme.up),
        crate::domain::Direction::Short => ("▼", theme.down),
    };
    let price = |p: f64| Cell::from(Line::from(scanner::price(p)).right_aligned());
    vec![
        Cell::from(symbol.as_str()),
        Cell::from(kind.short_label()),
        Cell::from(Span::styled(arrow, style)),
        price(entry),
        price(stop),
        price(target),
    ]
}
