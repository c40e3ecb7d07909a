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

/// `12s provider closed the stream`: how long ago, then what; for a worker that stopped
/// on its own with a reason, that reason instead (`recording finished`), as a note.
fn last_error(w: &WorkerRecord, theme: &Theme, now: DateTime<Utc>) -> Line<'static> {
    if let Some(note) = stopped_note(w) {
        return Line::from(Span::styled(note.to_string(), theme.dim));
    }
    match &w.last_error {
        Some(message) => Line::from(vec![
            Span::styled(format!("{} ", age(w.last_error_at, now)), theme.dim),
            Span::styled(message.clone(), theme.error),
        ]),
        None => Line::default(),
    }
}

/// The note of a stopped worker, the one thing its last-error cell then says.
fn stopped_note(w: &WorkerRecord) -> Option<&str> {
    (w.state == WorkerState::Stopped)
        .then_some(w.note.as_deref())
        .flatten()
}

/// The last column's header: it says "note" too when a stopped worker's note shows there.
fn last_error_header(workers: &[WorkerRecord]) -> &'static str {
    if workers.iter().any(|w| stopped_note(w).is_some()) {
        "Last error / note"
    } else {
        "Last error"
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
    let columns = columns(pane.workers(), theme, now, block.inner(area).width);
    let rows: Vec<Row> = pane
        .workers()
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let cells: Vec<Cell> = columns
                .iter()
                .map(|c| match c.kind {
                    Column::Worker => Cell::from(w.name.clone()),
                    Column::State => Cell::from(state_cell(w, theme, now)),
                    Column::OkAgo => Cell::from(age(w.last_success, now)),
                    Column::Cycles => Cell::from(w.cycles.to_string()),
                    Column::Errors => Cell::from(w.errors.to_string()),
                    Column::Restarts => Cell::from(w.restarts.to_string()),
                    Column::LastError => Cell::from(last_error(w, theme, now)),
                })
                .collect();
            let row = Row::new(cells);
            if i == selected && ctx.focused {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let last_header = last_error_header(pane.workers());
    let header = Row::new(columns.iter().map(|c| match c.kind {
        Column::LastError => last_header,
        other => other.header(),
    }))
    .style(theme.dim);
    let table = Table::new(rows, columns.iter().map(|c| Constraint::Length(c.width)))
        .header(header)
        .block(block);
    frame.render_widget(table, area);
}

/// A column of the Health table, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Worker,
    State,
    OkAgo,
    Cycles,
    Errors,
    Restarts,
    LastError,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Worker => "Worker",
            Column::State => "State",
            Column::OkAgo => "OK ago",
            Column::Cycles => "Cycles",
            Column::Errors => "Err",
            Column::Restarts => "Rst",
            Column::LastError => "Last error",
        }
    }
}

/// A column and its width in cells.
struct Sized {
    kind: Column,
    width: u16,
}

/// The narrowest a last error is cut to before the counts make way for it, in cells.
const LAST_ERROR_MIN: usize = 16;

/// The columns that fit `width` cells, each as wide as its widest cell or header, so
/// names and states are never cut: the worker, its state and the age of its last success
/// always; the last error (only as wide as its text, absent when no worker has one)
/// next; the counts (cycles, errors, restarts) while room is left, the restarts first
/// to go. A last error longer than what is left is cut at the pane's edge.
fn columns(workers: &[WorkerRecord], theme: &Theme, now: DateTime<Utc>, width: u16) -> Vec<Sized> {
    let widest = |kind: Column, cell: &dyn Fn(&WorkerRecord) -> usize| {
        workers
            .iter()
            .map(cell)
            .chain([kind.header().chars().count()])
            .max()
            .unwrap_or(0)
    };
    let error_width = workers
        .iter()
        .map(|w| last_error(w, theme, now).width())
        .max()
        .unwrap_or(0);
    let mut shown: Vec<(Column, usize)> = vec![
        (
            Column::Worker,
            widest(Column::Worker, &|w| w.name.chars().count()),
        ),
        (
            Column::State,
            widest(Column::State, &|w| state_cell(w, theme, now).width()),
        ),
        (
            Column::OkAgo,
            widest(Column::OkAgo, &|w| age(w.last_success, now).chars().count()),
        ),
        (
            Column::Cycles,
            widest(Column::Cycles, &|w| w.cycles.to_string().len()),
        ),
        (
            Column::Errors,
            widest(Column::Errors, &|w| w.errors.to_string().len()),
        ),
        (
            Column::Restarts,
            widest(Column::Restarts, &|w| w.restarts.to_string().len()),
        ),
    ];
    let error =
        (error_width > 0).then(|| error_width.max(last_error_header(workers).chars().count()));
    let width = usize::from(width);
    // one space between columns
    let used = |cols: &[(Column, usize)], error: usize| {
        cols.iter().map(|(_, w)| w + 1).sum::<usize>() + error
    };
    while shown.len() > 3 && used(&shown, error.map_or(0, |e| e.min(LAST_ERROR_MIN))) > width {
        shown.pop();
    }
    let mut out: Vec<Sized> = shown
        .into_iter()
        .map(|(kind, w)| Sized {
            kind,
            width: u16::try_from(w).unwrap_or(u16::MAX),
        })
        .collect();
    if let Some(e) = error {
        let left = width.saturating_sub(out.iter().map(|c| usize::from(c.width) + 1).sum());
        out.push(Sized {
            kind: Column::LastError,
            width: u16::try_from(e.min(left)).unwrap_or(u16::MAX),
        });
    }
    out
}
