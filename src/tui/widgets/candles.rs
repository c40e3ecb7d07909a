//! The Chart pane's price chart (SPEC 17): intraday candles in half-block characters, so
//! each terminal row holds two price steps (`▀` top half, `▄` bottom half, `█` both; `╵`
//! `╷` `│` wicks), or a line of closes for narrow areas. Labelled horizontal lines mark
//! levels (VWAP and bands, prior day, opening range, gamma, a setup's plan, alerts); a
//! line outside the bars' range is listed at the top (`↑`) or bottom (`↓`) edge of the
//! axis instead of squeezing the candles. A cursor column marks one bar.
//!
//! One column per bar, newest at the right (a few bars get up to three columns each, the
//! candle in the middle); the window follows the cursor. Plan lines (setup, alert) are
//! solid `─`, other levels dotted `┈`; a label whose row is taken moves to the nearest
//! free row within two. Direction is
//! in the colour and in the readout above the chart (the pane's), never in colour alone.
//! Zero gamma can also be a step line through the day (`━`, `┃` where it moved): the value
//! each refresh had, from its instant to the next refresh's; the level of the same label is
//! then only named on the axis, not drawn across the whole day.
//! Any area, down to 0×0, no bars, and a flat day render without panicking.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

use chrono::{DateTime, Utc};

use crate::domain::Bar;
use crate::tui::format::price;

/// What a horizontal line is, for its style and its place in the label order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// A setup's entry, stop or target: always inside the price range.
    Setup,
    /// A price alert's level: always inside the price range.
    Alert,
    Vwap,
    Band,
    PriorDay,
    OpeningRange,
    Gamma,
}

/// A labelled level: `label` is short (`VWAP`, `CW`, `E`).
#[derive(Clone, Debug, PartialEq)]
pub struct ChartLine {
    pub label: String,
    pub price: f64,
    pub kind: LineKind,
}

/// How bars are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartMode {
    Candles,
    Line,
}

/// Styles the theme supplies.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CandleStyles {
    pub up: Style,
    pub down: Style,
    /// Level lines and their labels.
    pub level: Style,
    /// Setup and alert lines, which matter most.
    pub plan: Style,
    pub axis: Style,
}

/// Narrower plots than this draw a line of closes.
pub const LINE_MODE_BELOW: u16 = 40;

/// A level that steps through the day: (from this instant, the value; `None`: undefined).
pub type StepPoints = [(DateTime<Utc>, Option<f64>)];

pub struct CandleChart<'a> {
    bars: &'a [Bar],
    lines: &'a [ChartLine],
    /// The label of the line drawn as steps, and its points in time order.
    step: Option<(&'a str, &'a StepPoints)>,
    cursor: Option<usize>,
    mode: Option<ChartMode>,
    styles: CandleStyles,
}

impl<'a> CandleChart<'a> {
    pub fn new(bars: &'a [Bar], lines: &'a [ChartLine]) -> Self {
        CandleChart {
            bars,
            lines,
            step: None,
            cursor: None,
            mode: None,
            styles: CandleStyles::default(),
        }
    }

    /// Draws the line labelled `label` as the step line of `points` (time order) instead
    /// of across the whole chart at its latest value; nothing changes without points.
    pub fn step_line(mut self, label: &'a str, points: &'a StepPoints) -> Self {
        if !points.is_empty() {
            self.step = Some((label, points));
        }
        self
    }

    /// The bar under the cursor (an index into `bars`).
    pub fn cursor(mut self, cursor: Option<usize>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Forces a mode; by default candles, or a line below `LINE_MODE_BELOW` columns.
    pub fn mode(mut self, mode: ChartMode) -> Self {
        self.mode = Some(mode);
        self
    }

    pub fn styles(mut self, styles: CandleStyles) -> Self {
        self.styles = styles;
        self
    }
}

/// Width of the price axis on the right: `VWAP 6812.25`.
fn axis_width(area: Rect) -> u16 {
    14.min(area.width / 3)
}

/// Maps prices to half-rows: 0 is the top half of the first row.
#[derive(Clone, Copy)]
struct Scale {
    low: f64,
    high: f64,
    halves: usize,
}

impl Scale {
    fn half(&self, price: f64) -> usize {
        let frac = ((self.high - price) / (self.high - self.low)).clamp(0.0, 1.0);
        (frac * (self.halves - 1) as f64).round() as usize
    }

    fn contains(&self, price: f64) -> bool {
        price >= self.low && price <= self.high
    }
}

impl Widget for CandleChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        (&self).render(area, buf);
    }
}

impl Widget for &CandleChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let axis = axis_width(area);
        if area.height < 2 || area.width < 8 || self.bars.is_empty() {
            return;
        }
        let plot = Rect {
            width: area.width - axis,
            ..area
        };
        let axis_x = plot.x + plot.width;
        let len = self.bars.len();
        // Columns per bar: 1, or up to 3 when few bars would leave the plot mostly empty.
        let step = (plot.width as usize / len).clamp(1, 3);
        let cols = plot.width as usize / step;
        let mut start = len.saturating_sub(cols);
        if let Some(c) = self.cursor.filter(|c| *c < len) {
            start = start.min(c.saturating_sub(cols / 4));
        }
        let visible = &self.bars[start..(start + cols).min(len)];
        let Some(scale) = self.scale(visible, plot.height) else {
            return;
        };
        let mode = self.mode.unwrap_or(if plot.width < LINE_MODE_BELOW {
            ChartMode::Line
        } else {
            ChartMode::Candles
        });
        // Levels first, so the bars draw over them; the plan's lines last among them.
        let mut by_weight: Vec<&ChartLine> = self
            .lines
            .iter()
            .filter(|l| scale.contains(l.price))
            .filter(|l| self.step.is_none_or(|(label, _)| l.label != label))
            .collect();
        by_weight.sort_by_key(|l| std::cmp::Reverse(l.kind as u8));
        for line in by_weight {
            let y = plot.y + (scale.half(line.price) / 2) as u16;
            let style = self.line_style(line.kind);
            let glyph = match line.kind {
                LineKind::Setup | LineKind::Alert => '─',
                _ => '┈',
            };
            for x in plot.x..axis_x {
                buf[(x, y)].set_char(glyph).set_style(style);
            }
        }
        if let Some((_, points)) = self.step {
            let style = self.styles.level.add_modifier(Modifier::BOLD);
            let mut previous: Option<u16> = None;
            for (i, bar) in visible.iter().enumerate() {
                let Some(value) = step_value(points, bar.start).filter(|v| scale.contains(*v))
                else {
                    previous = None;
                    continue;
                };
                let y = plot.y + (scale.half(value) / 2) as u16;
                let x0 = plot.x + (i * step) as u16;
                for x in x0..(x0 + step as u16).min(axis_x) {
                    buf[(x, y)].set_char('━').set_style(style);
                }
                if let Some(p) = previous.filter(|p| *p != y) {
                    for yy in p.min(y)..=p.max(y) {
                        let glyph = if yy == y { '━' } else { '┃' };
                        buf[(x0, yy)].set_char(glyph).set_style(style);
                    }
                }
                previous = Some(y);
            }
        }
        if let Some(c) = self
            .cursor
            .filter(|c| (start..start + visible.len()).contains(c))
        {
            let x = plot.x + ((c - start) * step + step / 2) as u16;
            for y in plot.y..plot.y + plot.height {
                buf[(x, y)].set_char('┊').set_style(self.styles.axis);
            }
        }
        let mut previous_close: Option<usize> = None;
        for (i, bar) in visible.iter().enumerate() {
            let x = plot.x + (i * step + step / 2) as u16;
            let mut style = if bar.close >= bar.open {
                self.styles.up
            } else {
                self.styles.down
            };
            if self.cursor == Some(start + i) {
                style = style.add_modifier(Modifier::REVERSED);
            }
            match mode {
                ChartMode::Candles => draw_candle(buf, x, plot, scale, bar, style),
                ChartMode::Line => {
                    let y = scale.half(bar.close);
                    draw_line_step(buf, x, plot, previous_close, y, style);
                    previous_close = Some(y);
                }
            }
        }
        self.draw_axis(
            buf,
            Rect {
                x: axis_x,
                width: axis,
                ..area
            },
            scale,
            visible,
        );
    }
}

impl CandleChart<'_> {
    /// The price range of the visible bars and the lines that must show (setup, alert),
    /// padded so a flat day still has a range.
    fn scale(&self, visible: &[Bar], rows: u16) -> Option<Scale> {
        let prices = visible
            .iter()
            .flat_map(|b| [b.high, b.low])
            .chain(
                self.lines
                    .iter()
                    .filter(|l| matches!(l.kind, LineKind::Setup | LineKind::Alert))
                    .map(|l| l.price),
            )
            .filter(|p| p.is_finite());
        let (mut low, mut high) = prices.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p), hi.max(p))
        });
        if !(low.is_finite() && high.is_finite()) {
            return None;
        }
        let pad = ((high - low) * 0.05).max(high.abs() * 0.0005).max(0.01);
        low -= pad;
        high += pad;
        Some(Scale {
            low,
            high,
            halves: rows as usize * 2,
        })
    }

    fn line_style(&self, kind: LineKind) -> Style {
        match kind {
            LineKind::Setup | LineKind::Alert => self.styles.plan,
            _ => self.styles.level,
        }
    }

    /// The axis labels, top to bottom in price order (issue 22 item 3): the lines above
    /// the bars' range stacked at the top edge (`↑`, highest first), those below at the
    /// bottom edge (`↓`, lowest last), and between them the last close (`▶`) and the
    /// in-range lines, each within two rows of its line. When rows run out, the least
    /// important labels give way (setup and alert first, then VWAP, prior day, gamma,
    /// opening range, bands), never the order.
    fn draw_axis(&self, buf: &mut Buffer, axis: Rect, scale: Scale, visible: &[Bar]) {
        let rows = axis.height as usize;
        let mut labels: Vec<AxisLabel> = Vec::new();
        if let Some(last) = visible.last().filter(|b| b.close.is_finite()) {
            labels.push(AxisLabel {
                text: format!("▶{}", price(last.close)),
                price: last.close,
                place: Place::Near(scale.half(last.close) / 2),
                rank: 0,
                style: self.styles.axis,
            });
        }
        for line in self.lines.iter().filter(|l| l.price.is_finite()) {
            let (text, place) = if scale.contains(line.price) {
                (
                    format!("{} {}", line.label, price(line.price)),
                    Place::Near(scale.half(line.price) / 2),
                )
            } else if line.price > scale.high {
                (format!("↑{} {}", line.label, price(line.price)), Place::Top)
            } else {
                (
                    format!("↓{} {}", line.label, price(line.price)),
                    Place::Bottom,
                )
            };
            labels.push(AxisLabel {
                text,
                price: line.price,
                place,
                rank: label_rank(line.kind),
                style: self.line_style(line.kind),
            });
        }
        let width = axis.width as usize;
        for (label, row) in layout_labels(labels, rows) {
            buf.set_stringn(axis.x, axis.y + row as u16, &label.text, width, label.style);
        }
    }
}

/// Where an axis label belongs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    /// Within two rows of this row.
    Near(usize),
    /// Stacked at the top edge (its line is above the range).
    Top,
    /// Stacked at the bottom edge (its line is below the range).
    Bottom,
}

#[derive(Clone, Debug)]
struct AxisLabel {
    text: String,
    price: f64,
    place: Place,
    /// 0 is kept longest.
    rank: u8,
    style: Style,
}

/// Which labels keep their row when rows run out: 0 first.
fn label_rank(kind: LineKind) -> u8 {
    match kind {
        LineKind::Setup => 1,
        LineKind::Alert => 2,
        LineKind::Vwap => 3,
        LineKind::PriorDay => 4,
        LineKind::Gamma => 5,
        LineKind::OpeningRange => 6,
        LineKind::Band => 7,
    }
}

/// How far a label may sit from its line's row.
const LABEL_SLACK: usize = 2;

/// Rows for the labels that fit, in price order top to bottom: labels are taken most
/// important first, each kept only if every kept label still has a row (edge labels
/// stacked from their edge, the others within [`LABEL_SLACK`] of their line).
fn layout_labels(labels: Vec<AxisLabel>, rows: usize) -> Vec<(AxisLabel, usize)> {
    let mut by_rank: Vec<AxisLabel> = labels;
    by_rank.sort_by_key(|l| l.rank);
    let mut kept: Vec<AxisLabel> = Vec::new();
    let mut placed: Vec<(AxisLabel, usize)> = Vec::new();
    for label in by_rank {
        kept.push(label);
        match place_in_order(&kept, rows) {
            Some(rows_of) => {
                placed = rows_of;
            }
            None => {
                kept.pop();
            }
        }
    }
    placed
}

/// Top-to-bottom key: edge labels at their edges, the others by their row, then by price
/// (higher first).
fn order_key(l: &AxisLabel) -> (u8, usize, std::cmp::Reverse<i64>) {
    let cents = std::cmp::Reverse((l.price * 100.0).round() as i64);
    match l.place {
        Place::Top => (0, 0, cents),
        Place::Near(row) => (1, row, cents),
        Place::Bottom => (2, 0, cents),
    }
}

/// One row per label in order, or `None` when they do not fit.
fn place_in_order(labels: &[AxisLabel], rows: usize) -> Option<Vec<(AxisLabel, usize)>> {
    if labels.len() > rows {
        return None;
    }
    let mut sorted: Vec<AxisLabel> = labels.to_vec();
    sorted.sort_by(|a, b| {
        order_key(a)
            .partial_cmp(&order_key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // The lowest row each may take, top down; then the highest, bottom up.
    let ideal = |l: &AxisLabel| match l.place {
        Place::Top => 0,
        Place::Near(row) => row.min(rows - 1),
        Place::Bottom => rows - 1,
    };
    let mut at: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, l) in sorted.iter().enumerate() {
        let floor = if i == 0 { 0 } else { at[i - 1] + 1 };
        at.push(ideal(l).max(floor));
    }
    for i in (0..sorted.len()).rev() {
        let ceiling = if i + 1 == sorted.len() {
            rows - 1
        } else {
            at[i + 1].checked_sub(1)?
        };
        at[i] = at[i].min(ceiling);
    }
    let fits = sorted
        .iter()
        .zip(&at)
        .enumerate()
        .all(|(i, (l, &row))| match l.place {
            // Edge labels form an unbroken stack from their edge.
            Place::Top => row == i,
            Place::Bottom => row == rows - (sorted.len() - i),
            Place::Near(want) => row.abs_diff(want.min(rows - 1)) <= LABEL_SLACK,
        });
    fits.then(|| sorted.into_iter().zip(at).collect())
}

/// The value in effect at `t`: the latest point at or before it.
fn step_value(points: &StepPoints, t: DateTime<Utc>) -> Option<f64> {
    let after = points.partition_point(|(at, _)| *at <= t);
    points
        .get(after.checked_sub(1)?)?
        .1
        .filter(|v| v.is_finite())
}

fn draw_candle(buf: &mut Buffer, x: u16, plot: Rect, scale: Scale, bar: &Bar, style: Style) {
    let (wick_top, wick_bottom) = (scale.half(bar.high), scale.half(bar.low));
    let (body_top, body_bottom) = (
        scale.half(bar.open.max(bar.close)),
        scale.half(bar.open.min(bar.close)),
    );
    for row in wick_top / 2..=wick_bottom / 2 {
        let (top, bottom) = (row * 2, row * 2 + 1);
        let body = |h: usize| h >= body_top && h <= body_bottom;
        let wick = |h: usize| h >= wick_top && h <= wick_bottom;
        let glyph = match (body(top), body(bottom)) {
            (true, true) => '█',
            (true, false) => '▀',
            (false, true) => '▄',
            _ => match (wick(top), wick(bottom)) {
                (true, true) => '│',
                (true, false) => '╵',
                (false, true) => '╷',
                _ => continue,
            },
        };
        let y = plot.y + row as u16;
        if y < plot.y + plot.height {
            buf[(x, y)].set_char(glyph).set_style(style);
        }
    }
}

/// One step of the close line: the close in its half row, joined to the previous close
/// by a vertical run.
fn draw_line_step(
    buf: &mut Buffer,
    x: u16,
    plot: Rect,
    previous: Option<usize>,
    half: usize,
    style: Style,
) {
    let row = half / 2;
    if let Some(p) = previous {
        let prow = p / 2;
        let (from, to) = (prow.min(row), prow.max(row));
        for r in from..=to {
            if r != row {
                buf[(x, plot.y + r as u16)].set_char('│').set_style(style);
            }
        }
    }
    let glyph = if half.is_multiple_of(2) { '▀' } else { '▄' };
    buf[(x, plot.y + row as u16)]
        .set_char(glyph)
        .set_style(style);
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn bars(closes: &[f64]) -> Vec<Bar> {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap();
        closes
            .iter()
            .enumerate()
            .map(|(i, c)| Bar {
                start: t0 + chrono::Duration::minutes(i as i64),
                open: c - 0.1,
                high: c + 0.3,
                low: c - 0.3,
                close: *c,
                volume: 1000.0,
            })
            .collect()
    }

    fn render(chart: &CandleChart, w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        chart.render(buf.area, &mut buf);
        buf
    }

    #[test]
    fn any_area_and_empty_or_bad_data_render_without_panicking() {
        let b = bars(&[100.0, 101.0]);
        let lines = [ChartLine {
            label: "VWAP".into(),
            price: f64::NAN,
            kind: LineKind::Vwap,
        }];
        for (w, h) in [(0, 0), (1, 1), (7, 2), (8, 2), (30, 3), (200, 60)] {
            render(&CandleChart::new(&b, &lines), w, h);
            render(&CandleChart::new(&[], &lines), w, h);
        }
        let nan = vec![Bar {
            close: f64::NAN,
            high: f64::NAN,
            low: f64::NAN,
            open: f64::NAN,
            ..b[0]
        }];
        render(&CandleChart::new(&nan, &[]), 40, 10);
    }

    #[test]
    fn a_rising_day_puts_the_last_candle_higher_than_the_first() {
        let b = bars(&(0..30).map(|i| 100.0 + i as f64).collect::<Vec<_>>());
        let buf = render(&CandleChart::new(&b, &[]), 60, 20);
        let row_of = |x: u16| (0..20).find(|y| buf[(x, *y)].symbol() != " ").unwrap();
        assert!(row_of(29) < row_of(0), "newest bar at the right, higher up");
        assert!(
            buf[(46, row_of(29))].symbol() == "▶" || (0..20).any(|y| buf[(46, y)].symbol() == "▶")
        );
    }

    #[test]
    fn zero_gamma_steps_where_each_refresh_put_it_and_is_not_drawn_across_the_day() {
        // 40 flat minutes at 100 (lows 99.7, highs 100.3); the flip was 99.8 from 14:30,
        // 100.2 from 14:50.
        let b = bars(&[100.0; 40]);
        let t0 = b[0].start;
        let points = [
            (t0, Some(99.8)),
            (t0 + chrono::Duration::minutes(20), Some(100.2)),
        ];
        let lines = [ChartLine {
            label: "ZG".into(),
            price: 100.2,
            kind: LineKind::Gamma,
        }];
        let chart = CandleChart::new(&b, &lines)
            .step_line("ZG", &points)
            .mode(ChartMode::Line);
        let buf = render(&chart, 60, 20);
        let rows_with =
            |x: u16| -> Vec<u16> { (0..20).filter(|y| buf[(x, *y)].symbol() == "━").collect() };
        let (early, late) = (rows_with(5), rows_with(30));
        assert_eq!(early.len(), 1, "one step row at 14:35");
        assert_eq!(late.len(), 1, "one step row at 15:00");
        assert!(late[0] < early[0], "100.2 is drawn above 99.8");
        // The joint where it moved, and no dotted ZG line across the early part.
        assert!((0..20).any(|y| buf[(20, y)].symbol() == "┃"));
        assert!((0..20).all(|y| buf[(5, y)].symbol() != "┈"));
        // The axis still names it.
        let axis: String = (0..20)
            .map(|y| (46..60).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect();
        assert!(axis.contains("ZG 100.2"), "{axis}");
        // Before the first refresh nothing is drawn.
        let late_points = [(t0 + chrono::Duration::minutes(30), Some(99.8))];
        let buf = render(
            &CandleChart::new(&b, &lines).step_line("ZG", &late_points),
            60,
            20,
        );
        assert!((0..20).all(|y| buf[(5, y)].symbol() != "━"));
    }

    /// The axis labels read top to bottom: (text, row).
    fn axis_labels(buf: &Buffer, w: u16, h: u16) -> Vec<(String, u16)> {
        let x0 = w - axis_width(Rect::new(0, 0, w, h));
        (0..h)
            .filter_map(|y| {
                let text: String = (x0..w).map(|x| buf[(x, y)].symbol()).collect();
                let text = text.trim().to_string();
                (!text.is_empty()).then_some((text, y))
            })
            .collect()
    }

    fn label_price(text: &str) -> f64 {
        text.rsplit([' ', '▶'])
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no price in {text:?}"))
    }

    #[test]
    fn axis_labels_read_in_price_order_with_off_chart_levels_at_the_edges() {
        // Bars 6800–6810; ZG just under +2σ (same row), PW and CW off the chart.
        let b = bars(
            &(0..40)
                .map(|i| 6800.0 + (i % 11) as f64)
                .collect::<Vec<_>>(),
        );
        let line = |label: &str, price: f64, kind: LineKind| ChartLine {
            label: label.into(),
            price,
            kind,
        };
        let lines = [
            line("VWAP", 6805.0, LineKind::Vwap),
            line("+2σ", 6806.39, LineKind::Band),
            line("+1σ", 6805.7, LineKind::Band),
            line("-1σ", 6803.1, LineKind::Band),
            line("-2σ", 6799.9, LineKind::Band),
            line("ZG", 6805.84, LineKind::Gamma),
            line("PW", 6750.0, LineKind::Gamma),
            line("CW", 6900.0, LineKind::Gamma),
            line("PDH", 6812.0, LineKind::PriorDay),
            line("PDL", 6790.0, LineKind::PriorDay),
        ];
        for (w, h) in [(60, 12), (60, 20), (80, 8)] {
            let buf = render(&CandleChart::new(&b, &lines), w, h);
            let labels = axis_labels(&buf, w, h);
            let prices: Vec<f64> = labels.iter().map(|(t, _)| label_price(t)).collect();
            assert!(
                prices.windows(2).all(|p| p[0] >= p[1]),
                "{w}x{h}: labels out of price order: {labels:?}"
            );
            for (i, (text, row)) in labels.iter().enumerate() {
                if text.starts_with('↑') {
                    assert_eq!(*row as usize, i, "{w}x{h}: ↑ only at the top: {labels:?}");
                }
                if text.starts_with('↓') {
                    assert_eq!(
                        (h - row) as usize,
                        labels.len() - i,
                        "{w}x{h}: ↓ only at the bottom: {labels:?}"
                    );
                }
            }
            assert!(labels.iter().any(|(t, _)| t.starts_with('▶')), "{labels:?}");
        }
        let buf = render(&CandleChart::new(&b, &lines), 60, 20);
        let text: Vec<String> = axis_labels(&buf, 60, 20).into_iter().map(|l| l.0).collect();
        for needle in ["↑CW", "↓PW", "PDH", "↓PDL", "ZG", "+2σ", "VWAP"] {
            assert!(
                text.iter().any(|t| t.starts_with(needle)),
                "{needle}: {text:?}"
            );
        }
    }
}
