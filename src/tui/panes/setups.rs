//! The Setups pane: the trader's tracked setups under the status filter, with plan,
//! status in words, realised R and age on the market clock.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::scanner::price;
use crate::domain::Direction;
use crate::setups::{Outcome, SetupStatus};
use crate::store::SetupRow;
use crate::tui::app::setups_view::status_label;
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;
use crate::tui::view::span;

/// ` · active (3) · 2 live`, for the pane title.
pub fn title(app: &App) -> String {
    let live = app
        .setups
        .iter()
        .filter(|r| {
            r.setup.status == SetupStatus::Active
                || (r.setup.status == SetupStatus::Triggered
                    && r.setup.outcome == Some(Outcome::Open))
        })
        .count();
    format!(
        " · {} ({}) · {live} live",
        app.setup_filter.as_str(),
        app.visible_setups().len()
    )
}

fn row<'a>(r: &'a SetupRow, app: &App, theme: &Theme) -> Row<'a> {
    let s = &r.setup;
    let (arrow, dir_style) = match s.direction {
        Direction::Long => ("▲", theme.up),
        Direction::Short => ("▼", theme.down),
    };
    let status_style = match (s.status, s.outcome) {
        (SetupStatus::Triggered, Some(Outcome::TargetHit)) => theme.up,
        (SetupStatus::Triggered, Some(Outcome::StoppedOut)) => theme.down,
        (SetupStatus::Triggered, _) => theme.warn,
        (SetupStatus::Active, _) => theme.text,
        _ => theme.dim,
    };
    let r_text = s.realised_r.map(|r| format!("{r:+.1}")).unwrap_or_default();
    let age = app
        .market_now
        .map(|now| span(now - s.tracked_at))
        .unwrap_or_default();
    Row::new(vec![
        Cell::from(s.symbol.as_str()),
        Cell::from(s.kind.short_label()),
        Cell::from(Span::styled(arrow, dir_style)),
        Cell::from(Line::from(price(s.entry)).right_aligned()),
        Cell::from(Line::from(price(s.stop)).right_aligned()),
        Cell::from(Line::from(price(s.target)).right_aligned()),
        Cell::from(Span::styled(status_label(r), status_style)),
        Cell::from(Line::from(r_text).right_aligned()),
        Cell::from(Line::from(age).right_aligned()),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, app: &App, theme: &Theme) {
    let visible = app.visible_setups();
    if visible.is_empty() {
        let text = if app.setups.is_empty() {
            "No tracked setups yet. Select an opportunity in the Scanner and press t to track it."
                .to_string()
        } else {
            format!(
                "No {} setups; f cycles the filter.",
                app.setup_filter.as_str()
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let selected = (app.focus == Pane::Setups).then(|| app.selected(Pane::Setups));
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = row(r, app, theme);
            if Some(i) == selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(vec![
        Cell::from("Sym"),
        Cell::from("Setup"),
        Cell::from(""),
        Cell::from(Line::from("Entry").right_aligned()),
        Cell::from(Line::from("Stop").right_aligned()),
        Cell::from(Line::from("Target").right_aligned()),
        Cell::from("Status"),
        Cell::from(Line::from("R").right_aligned()),
        Cell::from(Line::from("Age").right_aligned()),
    ])
    .style(theme.dim);
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(1),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(4),
            Constraint::Min(4),
        ],
    )
    .header(header)
    .column_spacing(1)
    .block(block);
    frame.render_widget(table, area);
}
