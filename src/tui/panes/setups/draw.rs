//! The Setups pane: the trader's tracked setups under the status filter, with plan,
//! status in words, realised R and age on the market clock.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::SetupsPane;
use crate::setups::{Outcome, SetupStatus};
use crate::store::SetupRow;
use crate::tui::app::App;
use crate::tui::app::setups_view::status_label;
use crate::tui::format::span;
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;

/// ` · active (3) · 2 live`, for the pane title.
pub fn title(pane: &SetupsPane) -> String {
    let live = pane
        .rows
        .iter()
        .filter(|r| {
            r.setup.status == SetupStatus::Active
                || (r.setup.status == SetupStatus::Triggered
                    && r.setup.outcome == Some(Outcome::Open))
        })
        .count();
    format!(
        " · {} ({}) · {live} live",
        pane.filter.as_str(),
        pane.visible().len()
    )
}

fn row<'a>(r: &'a SetupRow, app: &App, theme: &Theme, wide: bool) -> Row<'a> {
    let s = &r.setup;
    let status_style = match (s.status, s.outcome) {
        (SetupStatus::Triggered, Some(Outcome::TargetHit)) => theme.up,
        (SetupStatus::Triggered, Some(Outcome::StoppedOut)) => theme.down,
        (SetupStatus::Triggered, _) => theme.warn,
        (SetupStatus::Active, _) => theme.text,
        _ => theme.dim,
    };
    let r_text = s.realised_r.map(|r| format!("{r:+.1}")).unwrap_or_default();
    let age = app
        .market()
        .now
        .map(|now| span(now - s.tracked_at))
        .unwrap_or_default();
    let mut cells = crate::tui::panes::plan_cells(
        &s.symbol,
        s.kind,
        s.direction,
        s.entry,
        s.stop,
        s.target,
        theme,
    );
    cells.push(Cell::from(Span::styled(status_label(r), status_style)));
    if wide {
        cells.push(Cell::from(Line::from(r_text).right_aligned()));
        cells.push(Cell::from(Line::from(age).right_aligned()));
    }
    Row::new(cells)
}

/// Columns of the table; R and age only where the pane is wide enough for them.
fn widths(wide: bool) -> Vec<Constraint> {
    let mut w = vec![
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Min(9),
    ];
    if wide {
        w[6] = Constraint::Length(9);
        w.push(Constraint::Length(5));
        w.push(Constraint::Min(5));
    }
    w
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    pane: &SetupsPane,
    ctx: &DrawCtx,
) {
    let (app, theme) = (ctx.app, ctx.theme);
    let visible = pane.visible();
    if visible.is_empty() {
        let text = if pane.rows.is_empty() {
            "No tracked setups yet. Select an opportunity in the Scanner and press t to track it."
                .to_string()
        } else {
            format!("No {} setups; f cycles the filter.", pane.filter.as_str())
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let wide = area.width >= 66;
    let selected = ctx.focused.then(|| pane.selected_row());
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = row(r, app, theme, wide);
            if Some(i) == selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let mut titles = vec![
        Cell::from("Sym"),
        Cell::from("Setup"),
        Cell::from(""),
        Cell::from(Line::from("Entry").right_aligned()),
        Cell::from(Line::from("Stop").right_aligned()),
        Cell::from(Line::from("Target").right_aligned()),
        Cell::from("Status"),
    ];
    if wide {
        titles.push(Cell::from(Line::from("R").right_aligned()));
        titles.push(Cell::from(Line::from("Age").right_aligned()));
    }
    let header = Row::new(titles).style(theme.dim);
    let table = Table::new(rows, widths(wide))
        .header(header)
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}
