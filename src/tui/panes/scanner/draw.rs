//! The Scanner pane: the watchlist with last price, change against the prior close and a
//! sparkline of today's regular-session minute closes; below it today's detections on the
//! watchlist, best score first, with their plan, their edge from the stored backtest
//! statistics and their age on the market clock.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::ScannerPane;
use crate::domain::Direction;
use crate::market::calendar::Session;
use crate::setups::scanner::{ScanSignal, Signal};
use crate::stats::{EdgeBook, EdgeScope};
use crate::store::StoredDetection;
use crate::tui::app::{App, Opportunity, SymbolRow, TrackState};
use crate::tui::format::{price, span};
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The whole series in at most `width` block characters (the last value of each equal
/// bucket, so the day's shape shows), scaled between the min and max.
pub fn sparkline(values: &[f64], width: usize) -> String {
    let tail: Vec<f64> = if values.len() > width && width > 0 {
        (0..width)
            .map(|i| values[(i + 1) * values.len() / width - 1])
            .collect()
    } else {
        values.to_vec()
    };
    let finite = tail.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    tail.iter()
        .map(|v| {
            if !v.is_finite() || hi <= lo {
                SPARK[3]
            } else {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                SPARK[i.min(7)]
            }
        })
        .collect()
}

fn row<'a>(
    r: &'a SymbolRow,
    theme: &Theme,
    spark_width: usize,
    market_now: Option<DateTime<Utc>>,
    session: Option<Session>,
) -> Row<'a> {
    let (chg, pct, style) = match r.change() {
        Some((points, percent)) => {
            let style = if points > 0.0 {
                theme.up
            } else if points < 0.0 {
                theme.down
            } else {
                theme.text
            };
            let arrow = if points > 0.0 {
                "▲"
            } else if points < 0.0 {
                "▼"
            } else {
                " "
            };
            (
                format!("{arrow}{:+.2}", points),
                format!("{percent:+.2}%"),
                style,
            )
        }
        None => ("—".into(), "—".into(), theme.dim),
    };
    let last = r.last.map(price).unwrap_or_else(|| "no data".into());
    // A stale quote says so in words (in place of its change), not only by colour.
    let (pct, style) = if r.is_stale(market_now, session) {
        ("STALE".to_string(), theme.warn)
    } else {
        (pct, style)
    };
    let (rvol, rvol_style) = match r.relative_volume() {
        Some(v) if v >= 2.0 => (format!("{v:.1}×"), theme.warn),
        Some(v) => (format!("{v:.1}×"), theme.text),
        None => ("—".into(), theme.dim),
    };
    Row::new(vec![
        Cell::from(r.symbol.as_str()),
        Cell::from(Line::from(last).right_aligned()),
        Cell::from(Line::from(Span::styled(chg, style)).right_aligned()),
        Cell::from(Line::from(Span::styled(pct, style)).right_aligned()),
        Cell::from(Line::from(Span::styled(rvol, rvol_style)).right_aligned()),
        Cell::from(Span::styled(sparkline(&r.closes, spark_width), style)),
    ])
}

/// `12m`, `1h05m` between a detection and the market clock.
fn age(found: &StoredDetection, now: Option<DateTime<Utc>>) -> String {
    now.map(|n| span(n - found.detection.detected_at))
        .unwrap_or_else(|| "—".into())
}

/// The edge text of `kind` on `symbol` and whether it is the kind's over every symbol:
/// "42 % · +0.06 R · n 193" (win rate, mean R per filled trade, filled trades);
/// "negative edge −0.48 R n 212" (the kind's numbers) for a kind with a negative edge;
/// `None` without stored history.
pub fn edge_text(edges: &EdgeBook, kind: &str, symbol: &str) -> Option<(String, EdgeScope, bool)> {
    let edge = edges.edge(kind, symbol)?;
    if edge.negative
        && let Some(s) = edges.kind(kind)
    {
        let text = format!(
            "negative edge {} R n {}",
            signed_r(s.avg_r.unwrap_or(f64::NAN)),
            s.triggered
        );
        return Some((text, EdgeScope::Kind, true));
    }
    let text = format!(
        "{:.0} % · {} R · n {}",
        edge.win_rate * 100.0,
        signed_r(edge.avg_r),
        edge.n
    );
    Some((text, edge.scope, false))
}

/// "+0.06", "−0.48" (a real minus sign).
fn signed_r(r: f64) -> String {
    format!("{r:+.2}").replace('-', "−")
}

fn edge_cell(edges: &EdgeBook, found: &StoredDetection, theme: &Theme) -> Cell<'static> {
    let d = &found.detection;
    match edge_text(edges, d.kind.as_str(), d.symbol.as_str()) {
        None => Cell::from(Span::styled("—", theme.dim)),
        Some((text, _, true)) => Cell::from(Span::styled(text, theme.warn)),
        Some((text, EdgeScope::KindSymbol, false)) => Cell::from(text),
        // the kind's numbers over every symbol stand in: marked "all"
        Some((text, EdgeScope::Kind, false)) => Cell::from(Line::from(vec![
            Span::raw(text),
            Span::styled(" all", theme.dim),
        ])),
    }
}

/// A detection's row; `score` is what the Scr column shows (calibrated or raw).
fn opportunity_row<'a>(
    found: &'a StoredDetection,
    score: u8,
    theme: &Theme,
    now: Option<DateTime<Utc>>,
    state: Option<&TrackState>,
    edges: Option<&EdgeBook>,
) -> Row<'a> {
    let d = &found.detection;
    let mut cells = vec![Cell::from(Line::from(score.to_string()).right_aligned())];
    cells.extend(crate::tui::panes::plan_cells(
        &d.symbol,
        d.kind,
        d.direction,
        d.entry,
        d.stop,
        d.target,
        theme,
    ));
    if let Some(edges) = edges {
        cells.push(edge_cell(edges, found, theme));
    }
    // While tracking is under way, or once done, the row says so instead of its age.
    cells.push(Cell::from(match state {
        Some(TrackState::Error(_)) => Line::from(Span::styled("ERR", theme.error)).right_aligned(),
        Some(s) => Line::from(Span::styled(s.label(), theme.header)).right_aligned(),
        None => Line::from(age(found, now)).right_aligned(),
    }));
    Row::new(cells)
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    block: Block<'static>,
    pane: &ScannerPane,
    ctx: &DrawCtx,
) {
    let (app, theme) = (ctx.app, ctx.theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let watch_height = (app.market().watchlist.len() as u16 + 1).min(inner.height);
    let [watch_area, _, opp_area] = Layout::vertical([
        Constraint::Length(watch_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let selected = ctx.focused.then(|| pane.selected_row(app.market()));
    draw_watchlist(frame, watch_area, app, theme, selected);
    draw_opportunities(
        frame,
        opp_area,
        app,
        theme,
        selected.and_then(|s| s.checked_sub(app.market().watchlist.len())),
    );
}

/// Columns (with their one-column gaps) of a plan without its edge: score, symbol,
/// setup, arrow, entry, stop, target, age.
const PLAN_COLUMNS_WIDTH: u16 = 3 + 5 + 8 + 1 + 7 + 7 + 7 + 5 + 8;
/// The narrowest edge column worth drawing ("42 % · +0.06 R" and a gap).
const MIN_EDGE_WIDTH: u16 = 16;

/// A level or volume signal: what it is in the setup column, the level as the price.
fn signal_row(s: &ScanSignal, theme: &Theme, with_edge: bool) -> Row<'static> {
    let (what, level) = match &s.signal {
        Signal::NearLevel { label, level, .. } => (format!("at {label}"), price(*level)),
        Signal::VolumeSpike { ratio } => (format!("vol {ratio:.1}×"), String::new()),
    };
    let (arrow, style) = match s.direction {
        Direction::Long => ("▲", theme.up),
        Direction::Short => ("▼", theme.down),
    };
    let mut cells = vec![
        // ○ before the score: a heads-up, no plan to track (help and the title say so)
        Cell::from(Line::from(format!("○{}", s.score)).right_aligned()),
        Cell::from(s.symbol.as_str().to_string()),
        Cell::from(what),
        Cell::from(Span::styled(arrow, style)),
        Cell::from(Line::from(level).right_aligned()),
        Cell::from(""),
        Cell::from(""),
    ];
    if with_edge {
        cells.push(Cell::from(""));
    }
    cells.push(Cell::from(Line::from("now").right_aligned()));
    Row::new(cells).style(theme.dim)
}

fn draw_opportunities(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    selected: Option<usize>,
) {
    if area.height == 0 {
        return;
    }
    let opportunities = app.panes().scanner.rows(app.market());
    if opportunities.is_empty() {
        let closed = app
            .market()
            .session
            .zip(app.market().now)
            .is_some_and(|(s, now)| now >= s.close);
        let text = if closed {
            "The session is closed: its opportunities are over (`coach replay` keeps them)."
        } else {
            "No setups detected on the watchlist yet today."
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), area);
        return;
    }
    // The edge column only where the plan's own columns keep their width (a squeezed
    // table cuts "lvl-test" to "lvl-tes").
    let with_edge = area.width >= PLAN_COLUMNS_WIDTH + MIN_EDGE_WIDTH;
    let edges = with_edge.then_some(&app.panes().scanner.edges);
    let rows: Vec<Row> = opportunities
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let row = match o {
                Opportunity::Detection(d) => opportunity_row(
                    d,
                    app.panes().scanner.score(&d.detection),
                    theme,
                    app.market().now,
                    app.panes().scanner.track_state(d.id),
                    edges,
                ),
                Opportunity::Signal(s) => signal_row(s, theme, with_edge),
            };
            if Some(i) == selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let mut header = vec![
        Cell::from(Line::from("Scr").right_aligned()),
        Cell::from("Sym"),
        Cell::from("Setup"),
        Cell::from(""),
        Cell::from(Line::from("Entry").right_aligned()),
        Cell::from(Line::from("Stop").right_aligned()),
        Cell::from(Line::from("Target").right_aligned()),
    ];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    if with_edge {
        header.push(Cell::from("Edge (win · avg R · n)"));
        widths.push(Constraint::Fill(1));
    }
    header.push(Cell::from(Line::from("Age").right_aligned()));
    widths.push(Constraint::Length(5));
    let table = Table::new(rows, widths).header(Row::new(header).style(theme.dim));
    frame.render_widget(table, area);
}

fn draw_watchlist(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    selected: Option<usize>,
) {
    let inner_width = area.width as usize;
    let fixed = 6 + 10 + 9 + 8 + 5 + 5;
    let spark_width = inner_width.saturating_sub(fixed).max(1);
    let rows: Vec<Row> = app
        .market()
        .watchlist
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = row(
                r,
                theme,
                spark_width,
                app.market().now,
                app.market().session,
            );
            if Some(i) == selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(vec![
        Cell::from("Symbol"),
        Cell::from(Line::from("Last").right_aligned()),
        Cell::from(Line::from("Chg").right_aligned()),
        Cell::from(Line::from("Chg%").right_aligned()),
        Cell::from(Line::from("RVol").right_aligned()),
        Cell::from("Today"),
    ])
    .style(theme.dim);
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Min(1),
        ],
    )
    .header(header);
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_the_lowest_to_the_highest_block() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0], 10), "▁▂▃█");
        assert_eq!(
            sparkline(&[5.0, 5.0], 10),
            "▄▄",
            "a flat line sits in the middle"
        );
        assert_eq!(
            sparkline(&[1.0, 2.0, 3.0], 2),
            "▁█",
            "only the last `width` values"
        );
        assert_eq!(sparkline(&[], 5), "");
        assert_eq!(sparkline(&[1.0, f64::NAN, 2.0], 5), "▁▄█");
    }

    #[test]
    fn index_prices_drop_to_one_decimal() {
        assert_eq!(price(683.456), "683.46");
        assert_eq!(price(25312.04), "25312.0");
    }
}
