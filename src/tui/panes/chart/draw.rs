//! The Chart pane (`8`, SPEC 17): the focused symbol's intraday candles with VWAP and its
//! bands, the prior day, the opening range, zero gamma and the walls, the chart setup's
//! entry/stop/target and the symbol's armed alerts; a cursor with an OHLCV readout. `v`
//! swaps the chart for the list of every alert with its state.
//!
//! The chart is drawn into a cached buffer keyed by everything it is drawn from
//! (`ChartKey`: symbol, view, bars, lines, setup, size), so the 1 Hz tick, key presses
//! and other panes' updates copy it instead of redrawing.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Widget};

use super::ChartKey;
use crate::alerts::{AlertStatus, Condition};
use crate::market::calendar::NEW_YORK;
use crate::market::intraday::{self, CHART_OPENING_RANGE_MINUTES};
use crate::tui::app::{App, PaneId};
use crate::tui::format::{price, volume};
use crate::tui::theme::Theme;
use crate::tui::widgets::candles::{CandleChart, CandleStyles, ChartLine, LineKind};

/// `SPY 5m`, or `alerts (3 armed)`.
pub fn title(app: &App) -> String {
    if app.panes().chart.view.show_alerts {
        let armed = app
            .panes()
            .chart
            .alerts
            .iter()
            .filter(|a| a.status == AlertStatus::Armed)
            .count();
        return format!(" · alerts ({armed} armed)");
    }
    match app.focus_symbol() {
        Some(s) => format!(" · {s} {}", app.panes().chart.view.timeframe.label()),
        None => String::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, app: &App, theme: &Theme) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.panes().chart.view.show_alerts {
        draw_alerts(frame, inner, app, theme);
        return;
    }
    let key = ChartKey {
        symbol: app.focus_symbol().cloned(),
        fed: app
            .focus_symbol()
            .as_ref()
            .is_some_and(|s| app.market().intraday.contains_key(s)),
        view: app.panes().chart.view.clone(),
        bars: app.chart_bars(),
        lines: chart_lines(app),
        flip_path: flip_path(app),
        setup: app.chart_setup().map(|r| r.setup.id),
        area: inner,
        monochrome: *theme == Theme::monochrome(),
    };
    let mut cache = app.panes().chart.cache.borrow_mut();
    match cache.as_ref() {
        Some((k, buffer)) if *k == key => copy(buffer, frame.buffer_mut()),
        _ => {
            let mut buffer = Buffer::empty(inner);
            render_chart(&mut buffer, inner, app, theme);
            copy(&buffer, frame.buffer_mut());
            *cache = Some((key, buffer));
        }
    }
}

fn copy(from: &Buffer, to: &mut Buffer) {
    let area = from.area.intersection(to.area);
    for y in area.y..area.y + area.height {
        for x in area.x..area.x + area.width {
            to[(x, y)] = from[(x, y)].clone();
        }
    }
}

/// Draws the readout, the chart and the legend into `buf` over `area`.
pub fn render_chart(buf: &mut Buffer, area: Rect, app: &App, theme: &Theme) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    let [readout, chart, legend] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let Some(symbol) = app.focus_symbol() else {
        Paragraph::new(Line::styled(
            "No focused symbol: select a row in Scanner or Setups, or press / to search.",
            theme.dim,
        ))
        .render(area, buf);
        return;
    };
    let bars = app.chart_bars();
    if bars.is_empty() {
        let why = if app.market().intraday.contains_key(symbol) {
            format!("{symbol}: no regular-session bars yet (the chart starts at 09:30 ET).")
        } else {
            format!(
                "{symbol} is not in this session's feed: put it on the watchlist (w) or set an \
                 alert on it (A), and it is quoted from the next start."
            )
        };
        Paragraph::new(Line::styled(why, theme.dim))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .render(area, buf);
        return;
    }
    let cursor = app.panes().chart.view.cursor.filter(|c| *c < bars.len());
    let bar = bars[cursor.unwrap_or(bars.len() - 1)];
    let arrow = if bar.close >= bar.open { "▲" } else { "▼" };
    let when = bar.start.with_timezone(&NEW_YORK).format("%H:%M");
    let head = format!("{symbol} {} ", app.panes().chart.view.timeframe.label());
    let (o, h, l, c, v) = (
        price(bar.open),
        price(bar.high),
        price(bar.low),
        price(bar.close),
        volume(bar.volume),
    );
    let full = format!("{when} {arrow} O {o} H {h} L {l} C {c} V {v}");
    let marker = if cursor.is_some() { " (cursor)" } else { "" };
    // The whole readout when it fits; else without the symbol (the title has it) and
    // with tighter spacing, so O H L C V are all there in a narrow pane (issue 22 item 3).
    let width = readout.width as usize;
    let spans = if head.chars().count() + full.chars().count() + marker.len() <= width {
        vec![
            Span::styled(head, theme.header),
            Span::styled(full, theme.text),
            Span::styled(marker, theme.dim),
        ]
    } else {
        let compact = format!("{when}{arrow} O{o} H{h} L{l} C{c} V{v}");
        let marker = if cursor.is_some() { " ◆" } else { "" };
        vec![
            Span::styled(compact, theme.text),
            Span::styled(marker, theme.dim),
        ]
    };
    Paragraph::new(Line::from(spans)).render(readout, buf);
    let lines = chart_lines(app);
    let path = flip_path(app);
    CandleChart::new(&bars, &lines)
        .step_line("ZG", &path)
        .cursor(cursor)
        .styles(CandleStyles {
            up: theme.up,
            down: theme.down,
            level: theme.dim,
            plan: theme.warn,
            axis: theme.text,
        })
        .render(chart, buf);
    let setup = app
        .chart_setup()
        .map(|r| format!("E/S/T setup #{} · ", r.setup.id))
        .unwrap_or_default();
    Paragraph::new(Line::styled(
        format!(
            "{setup}A alert · VWAP ±1σ ±2σ · PD prior day · OR {CHART_OPENING_RANGE_MINUTES}m · ZG/CW/PW gamma"
        ),
        theme.dim,
    ))
    .render(legend, buf);
}

/// Zero gamma through the day (SPEC 20): each GEX refresh of the focused symbol today and
/// the flip it found, drawn as a step line. Only under the all-expirations filter, the one
/// the history keeps; empty otherwise.
pub fn flip_path(app: &App) -> Vec<(chrono::DateTime<chrono::Utc>, Option<f64>)> {
    if app.panes().gex.filter() != crate::gex::ExpiryFilter::All {
        return Vec::new();
    }
    app.gex_history()
        .iter()
        .map(|p| (p.at, p.zero_gamma))
        .collect()
}

/// Every level the Chart draws for the focused symbol.
pub fn chart_lines(app: &App) -> Vec<ChartLine> {
    let mut out = Vec::new();
    let mut add = |label: &str, price: Option<f64>, kind: LineKind| {
        if let Some(price) = price.filter(|p| p.is_finite()) {
            out.push(ChartLine {
                label: label.into(),
                price,
                kind,
            });
        }
    };
    if let Some(row) = app.chart_setup() {
        add("E", Some(row.setup.entry), LineKind::Setup);
        add("S", Some(row.setup.stop), LineKind::Setup);
        add("T", Some(row.setup.target), LineKind::Setup);
    }
    for alert in app.focus_alerts() {
        if let Some(level) = alert.condition.price_level() {
            let label = match alert.condition {
                Condition::CrossesAbove(_) => "A↑",
                _ => "A↓",
            };
            add(label, Some(level), LineKind::Alert);
        }
    }
    let (Some(symbol), Some(session)) = (app.focus_symbol(), app.market().session) else {
        return out;
    };
    if let Some(data) = app.market().intraday.get(symbol) {
        if let Some(v) = intraday::session_vwap(&data.bars) {
            add("VWAP", Some(v.vwap), LineKind::Vwap);
            if v.sigma > 0.0 {
                add("+1σ", Some(v.band(1.0)), LineKind::Band);
                add("-1σ", Some(v.band(-1.0)), LineKind::Band);
                add("+2σ", Some(v.band(2.0)), LineKind::Band);
                add("-2σ", Some(v.band(-2.0)), LineKind::Band);
            }
        }
        if let Some(p) = data.prior {
            add("PDH", Some(p.high), LineKind::PriorDay);
            add("PDL", Some(p.low), LineKind::PriorDay);
            add("PDC", Some(p.close), LineKind::PriorDay);
        }
        if let Some(r) =
            intraday::opening_range(&data.bars, session.open, CHART_OPENING_RANGE_MINUTES)
        {
            add("ORH", Some(r.high), LineKind::OpeningRange);
            add("ORL", Some(r.low), LineKind::OpeningRange);
        }
    }
    if let Some(profile) = app
        .panes()
        .gex
        .board()
        .iter()
        .filter(|((s, f), _)| s == symbol && *f == app.panes().gex.filter())
        .map(|(_, p)| p)
        .next()
    {
        add("ZG", profile.zero_gamma, LineKind::Gamma);
        add("CW", profile.call_wall, LineKind::Gamma);
        add("PW", profile.put_wall, LineKind::Gamma);
    }
    out
}

/// The alerts list: id, symbol, condition, state, repeat, last firing, note.
fn draw_alerts(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.panes().chart.alerts.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "No alerts. A sets one from the focus (cursor, level, setup, GEX wall); v: back to the chart.",
                theme.dim,
            )),
            area,
        );
        return;
    }
    let selected = (app.focus() == PaneId::Chart).then(|| app.panes().chart.selected_row());
    let rows = app.panes().chart.alerts.iter().enumerate().map(|(i, a)| {
        let fired = match (a.fired_at, a.fired_price) {
            // An alert's price to the cent, an index's too (its level was set to it).
            (Some(at), Some(p)) => format!(
                "{} @ {p:.2}",
                at.with_timezone(&NEW_YORK).format("%m-%d %H:%M")
            ),
            _ => "—".into(),
        };
        let state = match a.status {
            AlertStatus::Armed if a.repeat => "armed ↻",
            AlertStatus::Armed => "armed",
            AlertStatus::Fired => "fired ✓",
            AlertStatus::Disabled => "off",
        };
        let row = Row::new(vec![
            Cell::from(a.id.to_string()),
            Cell::from(a.symbol.as_str().to_string()),
            Cell::from(a.condition_text()),
            Cell::from(state),
            Cell::from(fired),
            Cell::from(crate::text::printable(&a.note)),
        ]);
        if Some(i) == selected {
            row.style(theme.selected)
        } else {
            row
        }
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(6),
            Constraint::Length(24),
            Constraint::Length(8),
            Constraint::Length(20),
            Constraint::Min(4),
        ],
    )
    .header(Row::new(["id", "symbol", "condition", "state", "fired", "note"]).style(theme.header));
    frame.render_widget(table, area);
}
