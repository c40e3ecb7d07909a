//! The Health pane: every background worker's state, age of its last success, cycles,
//! errors, restarts and last error (with its age).

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::HealthPane;
use crate::runtime::health::{WorkerRecord, WorkerState};
use crate::tui::format::age;
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;

fn state_cell(w: &WorkerRecord, theme: &Theme, now: DateTime<Utc>) -> Span<'static> {
    match w.state {
        WorkerState::Running if w.is_stale(now) => Span::styled("STALE", theme.warn),
        WorkerState::Running => Span::styled("running", theme.up),
        WorkerState::Failed => Span::styled("FAILED", theme.error),
        other => Span::styled(other.as_str(), theme.dim),
    }
}

/// `12s provider closed the stream`: how long ago, then what.
fn last_error(w: &WorkerRecord, theme: &Theme, now: DateTime<Utc>) -> Line<'static> {
    match &w.last_error {
        Some(message) => Line::from(vec![
            Span::styled(format!("{} ", age(w.last_error_at, now)), theme.dim),
            Span::styled(message.clone(), theme.error),
        ]),
        None => Line::default(),
    }
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    pane: &HealthPane,
    ctx: &DrawCtx,
) {
    let (theme, now) = (ctx.theme, ctx.now);
    if pane.workers().is_empty() {
        frame.render_widget(
            Paragraph::new("no workers running")
                .style(theme.dim)
                .block(block),
            area,
        );
        return;
    }
    let selected = pane.selected_row();
    let rows: Vec<Row> = pane
        .workers()
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let row = Row::new(vec![
                Cell::from(w.name.clone()),
                Cell::from(state_cell(w, theme, now)),
                Cell::from(age(w.last_success, now)),
                Cell::from(w.cycles.to_string()),
                Cell::from(w.errors.to_string()),
                Cell::from(w.restarts.to_string()),
                Cell::from(last_error(w, theme, now)),
            ]);
            if i == selected && ctx.focused {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "Worker",
        "State",
        "OK ago",
        "Cycles",
        "Err",
        "Rst",
        "Last error",
    ])
    .style(theme.dim);
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Min(10),
        ],
    )
    .header(header)
    .block(block);
    frame.render_widget(table, area);
}
