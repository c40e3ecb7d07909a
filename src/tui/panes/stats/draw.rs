//! The Stats pane: the tab line (which tab, the sort column), the groups' table (n beside
//! the rates it counts), the selected group's line in words, and its R histogram in block
//! characters (▁▂▃▄▅▆▇█, three rows: 24 steps), with each bin's count and lower edge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::{SortKey, StatsPane, StatsRow, Tab};
use crate::stats::histogram::BINS;
use crate::stats::{GroupRow, RHistogram};
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;

/// Rows of block characters the histogram's bars are drawn with.
const BAR_ROWS: u16 = 3;
/// The histogram: a title, the bars, the counts, the bin labels.
const HISTOGRAM_HEIGHT: u16 = BAR_ROWS + 3;
/// Cells per bin (bar and gap).
const BIN_WIDTH: usize = 6;
/// Eighths of a cell, from empty to full.
const BLOCKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, pane: &StatsPane, ctx: &DrawCtx) {
    let theme = ctx.theme;
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let tab = pane.shown();
    let [tabs, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(tab_line(pane, theme)), tabs);
    if tab.is_empty() {
        let text = match pane.tab() {
            Tab::Backtest => vec![
                Line::styled("no backtest statistics stored yet", theme.text),
                Line::styled(
                    "run coach backtest --store over the bars you keep (coach bars downloads them)",
                    theme.dim,
                ),
            ],
            Tab::Journal => vec![
                Line::styled("no closed setups yet", theme.text),
                Line::styled(
                    "track setups (t on a Scanner row): each one that ends (target, stop, invalidated, expired) counts here",
                    theme.dim,
                ),
            ],
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), body);
        return;
    }
    // The histogram when there is room for it and at least three table rows.
    let histogram = body.height >= HISTOGRAM_HEIGHT + 2 + 4;
    let [table_area, detail, histogram_area] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(2),
        Constraint::Length(if histogram { HISTOGRAM_HEIGHT } else { 0 }),
    ])
    .areas(body);
    draw_table(frame, table_area, pane, ctx);
    let selected = tab.selected();
    if let Some(row) = selected {
        frame.render_widget(
            Paragraph::new(detail_lines(&row.row, theme)).wrap(Wrap { trim: true }),
            detail,
        );
        if histogram {
            draw_histogram(frame, histogram_area, row, theme);
        }
    }
}

/// `[Backtest]  Journal   sorted by avg R ▼`: the tab on screen in brackets and bold,
/// so it shows without colour.
fn tab_line(pane: &StatsPane, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for tab in [Tab::Backtest, Tab::Journal] {
        if tab == pane.tab() {
            spans.push(Span::styled(
                format!("[{}]", tab.title()),
                theme.focus_title.patch(theme.selected),
            ));
        } else {
            spans.push(Span::styled(format!(" {} ", tab.title()), theme.dim));
        }
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        format!("  sorted by {} ▼", pane.shown().sort().label()),
        theme.dim,
    ));
    Line::from(spans)
}

fn all(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "all".into())
}

fn signed(v: f64) -> String {
    format!("{v:+.2}")
}

/// A column's header, marked ▼ when the table is sorted by it.
fn header(label: &'static str, key: SortKey, sort: SortKey) -> String {
    if key == sort {
        format!("{label}▼")
    } else {
        label.to_string()
    }
}

fn right(text: String) -> Cell<'static> {
    Cell::from(Line::from(text).right_aligned())
}

fn draw_table(frame: &mut Frame, area: Rect, pane: &StatsPane, ctx: &DrawCtx) {
    let theme = ctx.theme;
    let tab = pane.shown();
    let sort = tab.sort();
    // The symbol column only when some group is split by symbol.
    let symbols = tab.sorted().iter().any(|r| r.row.key.symbol.is_some());
    let mut headers = vec![Cell::from(header("kind", SortKey::Group, sort))];
    let mut widths = vec![Constraint::Length(13)];
    if symbols {
        headers.push(Cell::from("symbol"));
        widths.push(Constraint::Length(6));
    }
    // (header, the sort key it shows, width); the intervals are not sort keys.
    for (label, key, width) in [
        ("n", Some(SortKey::Trades), 5),
        ("win %", Some(SortKey::WinRate), 6),
        ("95% CI", None, 9),
        ("avg R", Some(SortKey::AvgR), 6),
        ("95% CI", None, 14),
        ("PF", Some(SortKey::ProfitFactor), 5),
        ("max DD", Some(SortKey::Drawdown), 7),
    ] {
        let text = match key {
            Some(key) => header(label, key, sort),
            None => label.to_string(),
        };
        headers.push(right(text));
        widths.push(Constraint::Length(width));
    }
    let rows: Vec<Row> = tab
        .sorted()
        .iter()
        .map(|r| {
            let (k, s) = (&r.row.key, &r.row.stats);
            let mut cells = vec![Cell::from(
                k.kind.clone().unwrap_or_else(|| "all kinds".into()),
            )];
            if symbols {
                cells.push(Cell::from(all(&k.symbol)));
            }
            let dash = || "–".to_string();
            cells.push(right(s.triggered.to_string()));
            cells.push(right(
                s.win_rate
                    .map_or_else(dash, |w| format!("{:.0}%", w * 100.0)),
            ));
            cells.push(right(s.win_rate_ci95.map_or_else(dash, |[lo, hi]| {
                format!("{:.0}–{:.0}%", lo * 100.0, hi * 100.0)
            })));
            let avg_style = match s.avg_r {
                Some(a) if a > 0.0 => theme.up,
                Some(a) if a < 0.0 => theme.down,
                _ => theme.text,
            };
            cells.push(Cell::from(
                Line::styled(s.avg_r.map_or_else(dash, signed), avg_style).right_aligned(),
            ));
            cells.push(right(s.avg_r_ci95.map_or_else(dash, |[lo, hi]| {
                format!("{}…{}", signed(lo), signed(hi))
            })));
            cells.push(right(
                s.profit_factor.map_or_else(dash, |p| format!("{p:.2}")),
            ));
            cells.push(right(if s.triggered > 0 {
                format!("{:.2}", s.max_drawdown_r)
            } else {
                dash()
            }));
            Row::new(cells)
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(headers).style(theme.dim))
        .column_spacing(1)
        .highlight_symbol("▶")
        .row_highlight_style(if ctx.focused {
            theme.selected
        } else {
            Style::default()
        });
    let mut state = TableState::default().with_selected(Some(tab.selected_row()));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The selected group in words, every rate with its n: "orb_breakout SPY: 60 detected
/// · 48 filled (30 target, 15 stop, 3 close) · 8 expired · 4 invalidated",
/// then "win 42% of 48 · avg R +0.06 over 48 · total +2.90 R".
fn detail_lines(row: &GroupRow, theme: &Theme) -> Vec<Line<'static>> {
    let (k, s) = (&row.key, &row.stats);
    let mut name = k.kind.clone().unwrap_or_else(|| "all kinds".into());
    for part in [&k.symbol, &k.hour, &k.regime, &k.confidence]
        .into_iter()
        .flatten()
    {
        name.push(' ');
        name.push_str(part);
    }
    // Zero counts are left out, so the line fits 80 columns.
    let some = |n: u64, what: &str| (n > 0).then(|| format!("{n} {what}"));
    let exits: Vec<String> = [
        some(s.target_hit, "target"),
        some(s.stopped_out, "stop"),
        some(s.time_exit, "close"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut counts = format!("{name}: {} detected · {} filled", s.detections, s.triggered);
    if !exits.is_empty() {
        counts.push_str(&format!(" ({})", exits.join(", ")));
    }
    for part in [
        some(s.expired, "expired"),
        some(s.invalidated, "invalidated"),
    ]
    .into_iter()
    .flatten()
    {
        counts.push_str(&format!(" · {part}"));
    }
    let rates = match (s.win_rate, s.avg_r) {
        (Some(w), Some(a)) => format!(
            "win {:.0}% of {n} · avg R {} over {n} · total {} R",
            w * 100.0,
            signed(a),
            signed(s.total_r),
            n = s.triggered,
        ),
        _ => "nothing filled: no win rate, no R".into(),
    };
    vec![
        Line::styled(counts, theme.text),
        Line::styled(rates, theme.text),
    ]
}

/// The bar of one bin in one of the bar rows (0 = top): full cells below its height,
/// an eighth-block at its top, blank above.
fn bar_cell(height_eighths: u64, row_from_top: u16) -> char {
    let floor = u64::from(BAR_ROWS - 1 - row_from_top) * 8;
    BLOCKS[height_eighths.saturating_sub(floor).min(8) as usize]
}

fn draw_histogram(frame: &mut Frame, area: Rect, row: &StatsRow, theme: &Theme) {
    let Some(h) = &row.histogram else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "R histogram: not stored with these statistics",
                theme.dim,
            )),
            area,
        );
        return;
    };
    let mut lines = vec![Line::styled(
        format!(
            "R histogram of the selected group · n {} filled · bins of 0.5 R by lower edge",
            h.total()
        ),
        theme.dim,
    )];
    let peak = h.peak();
    let steps = u64::from(BAR_ROWS) * 8;
    // A bin with a trade shows at least an eighth, so one trade is never invisible.
    let heights: Vec<u64> = h
        .counts
        .iter()
        .map(|&c| match c {
            0 => 0,
            c => ((c * steps + peak / 2) / peak.max(1)).max(1),
        })
        .collect();
    for r in 0..BAR_ROWS {
        let spans: Vec<Span> = (0..BINS)
            .map(|b| {
                let c = bar_cell(heights[b], r);
                // Losing bins (below 0 R) in the down colour; the labels say it too.
                let style = if b < 4 { theme.down } else { theme.up };
                Span::styled(
                    format!("{}{}", c.to_string().repeat(BIN_WIDTH - 1), " "),
                    style,
                )
            })
            .collect();
        lines.push(Line::from(spans));
    }
    let cells = |text: &dyn Fn(usize) -> String| -> String {
        (0..BINS)
            .map(|b| format!("{:<w$}", text(b), w = BIN_WIDTH))
            .collect()
    };
    lines.push(Line::styled(
        cells(&|b| match h.counts[b] {
            0 => "·".into(),
            c => c.to_string(),
        }),
        theme.text,
    ));
    lines.push(Line::styled(cells(&RHistogram::label), theme.dim));
    frame.render_widget(Paragraph::new(lines), area);
}
