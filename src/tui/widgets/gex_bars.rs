//! The GEX pane's chart: horizontal diverging bars of net GEX per strike (SPEC 11).
//!
//! One row per strike, highest at the top; when the display range holds more strikes than
//! there are rows, neighbouring strikes are summed into bins of a round width (1, 2, 2.5, 5,
//! 10, … price units) labelled by their centre strike. Negative net GEX grows left of the
//! centre axis, positive right, scaled to the largest |net| shown. Spot, zero gamma and the
//! walls are marked with glyphs in a column beside the strike (`▶` spot, `◆` zero gamma,
//! `C` call wall, `P` put wall) and named in the legend, so nothing depends on colour.
//! Values are dollars per 1 % move, abbreviated ($1.2B, -$350M). Any area, down to 0×0, and
//! an empty profile render without panicking.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;

use crate::gex::display::{abbreviate_dollars, price, price2};
use crate::gex::{GexProfile, Regime};

/// Styles the theme supplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GexBarStyles {
    /// Bars and values of positive net GEX.
    pub positive: Style,
    /// Bars and values of negative net GEX.
    pub negative: Style,
    /// Marker glyphs and the legend's names for them.
    pub marker: Style,
    /// Strike labels and other text.
    pub text: Style,
    /// The centre axis and dim text.
    pub axis: Style,
}

impl Default for GexBarStyles {
    /// The 16-colour defaults.
    fn default() -> Self {
        GexBarStyles {
            positive: Style::new().fg(Color::Green),
            negative: Style::new().fg(Color::Red),
            marker: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            text: Style::new(),
            axis: Style::new().fg(Color::DarkGray),
        }
    }
}

impl GexBarStyles {
    /// No colour at all (`NO_COLOR`): the glyphs still carry every mark.
    pub fn plain() -> Self {
        GexBarStyles {
            positive: Style::new(),
            negative: Style::new(),
            marker: Style::new().add_modifier(Modifier::BOLD),
            text: Style::new(),
            axis: Style::new(),
        }
    }
}

/// The widget: borrow a profile, pick the display range, render.
#[derive(Clone, Debug)]
pub struct GexBars<'a> {
    profile: &'a GexProfile,
    range_percent: f64,
    styles: GexBarStyles,
    /// Said after spot in the legend (how old the profile is when it lags the last price).
    spot_note: Option<String>,
}

/// Default display range: ± this many percent of spot.
pub const DEFAULT_RANGE_PERCENT: f64 = 3.0;

pub const SPOT_GLYPH: &str = "▶";
pub const ZERO_GAMMA_GLYPH: &str = "◆";
pub const CALL_WALL_GLYPH: &str = "C";
pub const PUT_WALL_GLYPH: &str = "P";

impl<'a> GexBars<'a> {
    pub fn new(profile: &'a GexProfile) -> Self {
        GexBars {
            profile,
            range_percent: DEFAULT_RANGE_PERCENT,
            styles: GexBarStyles::default(),
            spot_note: None,
        }
    }

    /// Text said right after the spot price in the legend, e.g. `(3m old, last 674.35)`.
    pub fn spot_note(mut self, note: Option<String>) -> Self {
        self.spot_note = note;
        self
    }

    /// Show strikes within ± `percent` % of spot (clamped to 0.1–50).
    pub fn range_percent(mut self, percent: f64) -> Self {
        self.range_percent = if percent.is_finite() {
            percent.abs().clamp(0.1, 50.0)
        } else {
            DEFAULT_RANGE_PERCENT
        };
        self
    }

    pub fn styles(mut self, styles: GexBarStyles) -> Self {
        self.styles = styles;
        self
    }
}

/// One displayed row: a strike or a bin of strikes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    strike: f64,
    net: f64,
    /// The bin's half width (0 for a single strike): what the markers are matched against.
    half_width: f64,
}

/// Round bin widths, in price units, tried smallest first; only multiples of the strike
/// spacing are used, so every bin holds the same number of listed strikes. No 2s: a bin
/// labelled 656 that holds the 655 put wall would mislead; with 5s and 10s the round
/// strikes where walls sit are the labels.
const BIN_STEPS: [f64; 17] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10_000.0,
    25_000.0, 50_000.0, 100_000.0,
];

/// The smallest gap between neighbouring strikes (the listing's spacing near the money).
fn strike_spacing(strikes: &[crate::gex::StrikeGex]) -> f64 {
    strikes
        .windows(2)
        .map(|w| w[1].strike - w[0].strike)
        .filter(|d| *d > 1e-9)
        .fold(f64::INFINITY, f64::min)
}

fn is_multiple(step: f64, spacing: f64) -> bool {
    if !spacing.is_finite() {
        return true;
    }
    let ratio = step / spacing;
    ratio >= 1.0 - 1e-9 && (ratio - ratio.round()).abs() < 1e-6
}

/// The rows to draw (highest strike first), at most `max_rows`: one per strike when they
/// fit, else bins of the smallest round width that fits. When that leaves more than half of
/// the pane empty, the next finer width is used instead, cropped to the rows nearest spot.
fn rows(profile: &GexProfile, range_percent: f64, max_rows: usize) -> Vec<Row> {
    let strikes = profile.strikes_within(range_percent);
    if strikes.is_empty() || max_rows == 0 {
        return Vec::new();
    }
    let per_strike = || -> Vec<Row> {
        strikes
            .iter()
            .rev()
            .map(|s| Row {
                strike: s.strike,
                net: s.net_gex,
                half_width: 0.0,
            })
            .collect()
    };
    if strikes.len() <= max_rows {
        return per_strike();
    }
    let spacing = strike_spacing(strikes);
    let mut finer = per_strike();
    for step in BIN_STEPS.into_iter().filter(|s| is_multiple(*s, spacing)) {
        let bins = bin(strikes, step);
        if bins.len() > max_rows {
            finer = bins;
            continue;
        }
        if bins.len() * 2 < max_rows {
            return crop_around(finer, profile.spot, max_rows);
        }
        return bins;
    }
    crop_around(finer, profile.spot, max_rows)
}

/// Strikes summed into bins `step` wide centred on multiples of `step`, highest first.
fn bin(strikes: &[crate::gex::StrikeGex], step: f64) -> Vec<Row> {
    let (low, high) = (strikes[0].strike, strikes[strikes.len() - 1].strike);
    let first = (low / step).round() as i64;
    let last = (high / step).round() as i64;
    let mut bins: Vec<Row> = (first..=last)
        .rev()
        .map(|i| Row {
            strike: i as f64 * step,
            net: 0.0,
            half_width: step / 2.0,
        })
        .collect();
    for s in strikes {
        let i = (s.strike / step).round() as i64;
        if let Some(bin) = usize::try_from(last - i).ok().and_then(|k| bins.get_mut(k)) {
            bin.net += s.net_gex;
        }
    }
    bins
}

/// At most `max_rows` consecutive rows, centred on the row nearest `spot`.
fn crop_around(rows: Vec<Row>, spot: f64, max_rows: usize) -> Vec<Row> {
    if rows.len() <= max_rows {
        return rows;
    }
    let centre = rows
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| (a.strike - spot).abs().total_cmp(&(b.strike - spot).abs()))
        .map_or(0, |(i, _)| i);
    let start = centre
        .saturating_sub(max_rows / 2)
        .min(rows.len() - max_rows);
    rows[start..start + max_rows].to_vec()
}

/// Index of the row a price falls in: the nearest row centre, when within the drawn rows.
fn row_of(rows: &[Row], level: f64) -> Option<usize> {
    if rows.is_empty() || !level.is_finite() {
        return None;
    }
    let top = rows[0].strike + rows[0].half_width.max(gap(rows) / 2.0);
    let last = rows[rows.len() - 1];
    let bottom = last.strike - last.half_width.max(gap(rows) / 2.0);
    if level > top || level < bottom {
        return None;
    }
    rows.iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            (a.strike - level)
                .abs()
                .total_cmp(&(b.strike - level).abs())
        })
        .map(|(i, _)| i)
}

/// Typical distance between neighbouring rows (for the edge rows' reach).
fn gap(rows: &[Row]) -> f64 {
    if rows.len() < 2 {
        return 0.0;
    }
    (rows[0].strike - rows[rows.len() - 1].strike) / (rows.len() - 1) as f64
}

/// Writes `text` at (x, y) clipped to `area`; returns the column after it.
fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, text: &str, style: Style) -> u16 {
    if y < area.top() || y >= area.bottom() || x < area.left() || x >= area.right() {
        return x;
    }
    let width = usize::from(area.right() - x);
    buf.set_stringn(x, y, text, width, style).0
}

impl Widget for GexBars<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        (&self).render(area, buf);
    }
}

impl Widget for &GexBars<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let p = self.profile;
        let st = &self.styles;
        // Legend on top and the scale line at the bottom when there is room for bars too.
        let chrome = area.height >= 5;
        let bar_top = if chrome { area.top() + 1 } else { area.top() };
        let bar_rows = usize::from(if chrome { area.height - 2 } else { area.height });
        let rows = rows(p, self.range_percent, bar_rows);
        if chrome {
            draw_legend(buf, area, p, self.spot_note.as_deref(), st);
        }
        if rows.is_empty() {
            let y = bar_top + (bar_rows as u16) / 2;
            let message = if p.strikes.is_empty() {
                "no GEX data".to_string()
            } else {
                format!("no strikes within ±{}% of spot", price(self.range_percent))
            };
            put(
                buf,
                area,
                area.left(),
                y.min(area.bottom().saturating_sub(1)),
                &message,
                st.axis,
            );
            return;
        }

        let scale = rows.iter().map(|r| r.net.abs()).fold(0.0, f64::max);
        let label_width = rows
            .iter()
            .map(|r| price2(r.strike).chars().count())
            .max()
            .unwrap_or(0) as u16;
        let value_width = rows
            .iter()
            .map(|r| abbreviate_dollars(r.net).chars().count())
            .max()
            .unwrap_or(0) as u16;
        let width = area.width;
        // [label][space][markers 2][space][bars][space][value]; values go first when short.
        let lead = label_width + 4;
        let show_value = width > lead + 11 + value_width;
        let value_cols = if show_value { value_width + 1 } else { 0 };
        let bars_left = area.left() + lead;
        let bars_width = width.saturating_sub(lead + value_cols);
        let half_left = bars_width.saturating_sub(1) / 2;
        let axis_x = bars_left + half_left;
        let half_right = bars_width.saturating_sub(1 + half_left);

        let offset = (bar_rows - rows.len()) / 2; // centre the rows vertically
        let spot_row = row_of(&rows, p.spot);
        let flip_row = p.zero_gamma.and_then(|z| row_of(&rows, z));
        let call_row = p.call_wall.and_then(|k| row_of(&rows, k));
        let put_row = p.put_wall.and_then(|k| row_of(&rows, k));

        for (i, row) in rows.iter().enumerate() {
            let y = bar_top + (offset + i) as u16;
            let label_style = if Some(i) == spot_row {
                st.text.add_modifier(Modifier::BOLD)
            } else {
                st.text
            };
            let label = format!("{:>w$}", price2(row.strike), w = usize::from(label_width));
            put(buf, area, area.left(), y, &label, label_style);
            let mut marks = String::new();
            for (hit, glyph) in [
                (spot_row, SPOT_GLYPH),
                (flip_row, ZERO_GAMMA_GLYPH),
                (call_row, CALL_WALL_GLYPH),
                (put_row, PUT_WALL_GLYPH),
            ] {
                if hit == Some(i) && marks.chars().count() < 2 {
                    marks.push_str(glyph);
                }
            }
            put(
                buf,
                area,
                area.left() + label_width + 1,
                y,
                &marks,
                st.marker,
            );
            if bars_width == 0 {
                continue;
            }
            put(buf, area, axis_x, y, "│", st.axis);
            let (half, style) = if row.net < 0.0 {
                (half_left, st.negative)
            } else {
                (half_right, st.positive)
            };
            let cells = bar_cells(row.net, scale, half);
            if row.net < 0.0 {
                let start = axis_x.saturating_sub(cells);
                let glyphs = if cells == 1 && row.net.abs() / scale * f64::from(half) < 0.5 {
                    "▕".to_string()
                } else {
                    "█".repeat(usize::from(cells))
                };
                put(buf, area, start, y, &glyphs, style);
            } else if row.net > 0.0 {
                let glyphs = if cells == 1 && row.net / scale * f64::from(half) < 0.5 {
                    "▏".to_string()
                } else {
                    "█".repeat(usize::from(cells))
                };
                put(buf, area, axis_x + 1, y, &glyphs, style);
            }
            if show_value {
                let text = abbreviate_dollars(row.net);
                let x = area.right().saturating_sub(text.chars().count() as u16);
                put(
                    buf,
                    area,
                    x,
                    y,
                    &text,
                    if row.net < 0.0 {
                        st.negative
                    } else {
                        st.positive
                    },
                );
            }
        }
        if chrome {
            draw_footer(buf, area, p, scale, st);
        }
    }
}

/// Cells for a bar of |value| on a half of `half` cells: at least one when non-zero.
fn bar_cells(value: f64, scale: f64, half: u16) -> u16 {
    if value == 0.0 || scale <= 0.0 || half == 0 || !value.is_finite() {
        return 0;
    }
    let cells = (value.abs() / scale * f64::from(half)).round() as u16;
    cells.clamp(1, half)
}

/// `▶ spot 674.10  ◆ flip 671.35  C call wall 680.00  P put wall 665.00`, or without the
/// names (`▶ 674.10  ◆ 671.35  C 680.00  P 665.00`) when that does not fit, and without the
/// last marks when even that does not.
fn draw_legend(
    buf: &mut Buffer,
    area: Rect,
    p: &GexProfile,
    spot_note: Option<&str>,
    st: &GexBarStyles,
) {
    let y = area.top();
    let opt = |v: Option<f64>| v.map(price2).unwrap_or_else(|| "none".into());
    let spot = match spot_note {
        Some(note) => format!("{} {note}", price2(p.spot)),
        None => price2(p.spot),
    };
    let items = [
        (SPOT_GLYPH, "spot ", spot),
        (ZERO_GAMMA_GLYPH, "flip ", opt(p.zero_gamma)),
        (CALL_WALL_GLYPH, "call wall ", opt(p.call_wall)),
        (PUT_WALL_GLYPH, "put wall ", opt(p.put_wall)),
    ];
    let full: usize = items
        .iter()
        .map(|(g, n, v)| g.chars().count() + 1 + n.chars().count() + v.chars().count() + 2)
        .sum::<usize>()
        - 2;
    let named = full <= usize::from(area.width);
    let mut x = area.left();
    for (i, (glyph, name, value)) in items.into_iter().enumerate() {
        let text = if named {
            format!(" {name}{value}  ")
        } else {
            format!(" {value}  ")
        };
        // A mark whose price does not fit is left out whole, never cut (spot always shows).
        let needed = glyph.chars().count() + text.trim_end().chars().count();
        if i > 0 && usize::from(area.right().saturating_sub(x)) < needed {
            break;
        }
        x = put(buf, area, x, y, glyph, st.marker);
        x = put(buf, area, x, y, &text, st.text);
    }
}

fn draw_footer(buf: &mut Buffer, area: Rect, p: &GexProfile, scale: f64, st: &GexBarStyles) {
    let y = area.bottom() - 1;
    let regime = match p.regime {
        Regime::Positive => ("positive γ", st.positive),
        Regime::Negative => ("negative γ", st.negative),
    };
    let mut x = area.left();
    x = put(
        buf,
        area,
        x,
        y,
        &format!("total {} ", abbreviate_dollars(p.total_gex)),
        st.text,
    );
    x = put(
        buf,
        area,
        x,
        y,
        regime.0,
        regime.1.add_modifier(Modifier::BOLD),
    );
    put(
        buf,
        area,
        x,
        y,
        &format!("  bar = {} per 1% move", abbreviate_dollars(scale)),
        st.axis,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Symbol;
    use crate::gex::{ExpiryFilter, GexParams, compute_profile};
    use crate::provider::sim_chain::synthetic_chain;
    use chrono::{DateTime, Utc};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn demo_profile() -> GexProfile {
        let at = DateTime::parse_from_rfc3339("2025-09-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chain = synthetic_chain(&Symbol::parse("SPY").unwrap(), 661.2, at, 1);
        compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).unwrap()
    }

    fn empty_profile() -> GexProfile {
        GexProfile {
            strikes: vec![],
            key_levels: vec![],
            crossings: vec![],
            zero_gamma: None,
            call_wall: None,
            put_wall: None,
            max_gex_strike: None,
            total_gex: 0.0,
            regime: Regime::Positive,
            ..demo_profile()
        }
    }

    fn draw(widget: &GexBars<'_>, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| f.render_widget(widget, f.area()))
            .unwrap();
        terminal
    }

    #[test]
    fn pane_at_80x24() {
        let p = demo_profile();
        let t = draw(&GexBars::new(&p), 78, 18);
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn pane_at_120x40() {
        let p = demo_profile();
        let t = draw(&GexBars::new(&p).range_percent(4.0), 118, 36);
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn empty_profile_says_so() {
        let p = empty_profile();
        let t = draw(&GexBars::new(&p), 60, 8);
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn every_area_size_renders_without_panic() {
        let p = demo_profile();
        let e = empty_profile();
        for w in 0..=40u16 {
            for h in 0..=12u16 {
                for profile in [&p, &e] {
                    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
                    GexBars::new(profile).render(Rect::new(0, 0, w, h), &mut buf);
                    // An area larger than the buffer, or offset, is clipped too.
                    let mut small = Buffer::empty(Rect::new(2, 1, w / 2, h / 2));
                    GexBars::new(profile)
                        .range_percent(0.0)
                        .render(Rect::new(0, 0, w, h), &mut small);
                }
            }
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, 400, 120));
        GexBars::new(&p)
            .range_percent(50.0)
            .render(buf.area, &mut buf);
        GexBars::new(&p)
            .range_percent(f64::NAN)
            .render(buf.area, &mut buf);
    }

    #[test]
    fn markers_are_glyphs_on_the_right_rows_and_bars_diverge_by_sign() {
        let p = demo_profile();
        let t = draw(&GexBars::new(&p).styles(GexBarStyles::plain()), 78, 18);
        let buf = t.backend().buffer();
        let line = |y: u16| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        };
        let lines: Vec<String> = (0..buf.area.height).map(line).collect();
        assert!(lines[0].contains("▶ spot 661.20"), "{}", lines[0]);
        let cw = price2(p.call_wall.unwrap());
        let row_of_label =
            |label: &str| lines.iter().position(|l| l.trim_start().starts_with(label));
        let call_row = row_of_label(&cw).expect("the call wall strike is a row");
        assert!(lines[call_row].contains('C'), "{}", lines[call_row]);
        // The call wall's bar is right of the axis, the put wall's left of it.
        let axis = lines[call_row].find('│').unwrap();
        let bar = lines[call_row].find('█').unwrap();
        assert!(bar > axis, "{}", lines[call_row]);
        let pw = price2(p.put_wall.unwrap());
        let put_row = row_of_label(&pw).expect("the put wall strike is a row");
        assert!(lines[put_row].contains('P'));
        assert!(lines[put_row].find('█').unwrap() < lines[put_row].find('│').unwrap());
        // The highest strike is on top.
        let strikes: Vec<f64> = lines[1..17]
            .iter()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        assert!(strikes.windows(2).all(|w| w[0] > w[1]), "{strikes:?}");
    }

    #[test]
    fn theme_styles_colour_the_bars() {
        let p = demo_profile();
        let styles = GexBarStyles {
            positive: Style::new().fg(Color::Blue),
            negative: Style::new().fg(Color::Magenta),
            ..GexBarStyles::default()
        };
        let t = draw(&GexBars::new(&p).styles(styles), 78, 18);
        let buf = t.backend().buffer();
        let cells: Vec<_> = buf.content().iter().filter(|c| c.symbol() == "█").collect();
        assert!(cells.iter().any(|c| c.fg == Color::Blue));
        assert!(cells.iter().any(|c| c.fg == Color::Magenta));
    }

    #[test]
    fn crowded_ranges_are_binned_on_round_widths() {
        let p = demo_profile();
        // ±10 % of 661.2 holds 133 one-dollar strikes: 5-dollar bins give 27 rows.
        let rows = rows(&p, 10.0, 30);
        assert_eq!(rows.len(), 27);
        assert_eq!(rows[0].strike - rows[1].strike, 5.0);
        let shown: f64 = rows.iter().map(|r| r.net).sum();
        let all: f64 = p.strikes_within(10.0).iter().map(|s| s.net_gex).sum();
        assert!(
            (shown - all).abs() <= 1e-6 * all.abs().max(1.0),
            "bins keep every dollar"
        );
        // ±3 % (40 strikes) in 16 rows: 5-dollar bins, 9 rows.
        let rows = super::rows(&p, 3.0, 16);
        assert_eq!(rows.len(), 9);
        assert_eq!(rows[0].strike - rows[1].strike, 5.0);
        // ±4 % in 34 rows: 5-dollar bins would leave most of it empty, so single strikes
        // are cropped around spot.
        let rows = super::rows(&p, 4.0, 34);
        assert_eq!(rows.len(), 34);
        assert_eq!(rows[0].strike - rows[1].strike, 1.0);
        assert!(rows.iter().any(|r| (r.strike - p.spot).abs() <= 0.5));
        // A step that is not a multiple of the spacing is never used (no uneven bins).
        assert!(!is_multiple(2.5, 1.0) && is_multiple(25.0, 5.0) && is_multiple(2.5, 0.5));
    }

    #[test]
    fn a_narrow_legend_leaves_marks_out_whole_never_cut() {
        let p = demo_profile();
        for width in 12..60u16 {
            let t = draw(&GexBars::new(&p).styles(GexBarStyles::plain()), width, 10);
            let buf = t.backend().buffer();
            let legend: String = (0..width).map(|x| buf[(x, 0)].symbol()).collect();
            assert!(legend.starts_with("▶ "), "{width}: {legend}");
            for word in legend.split_whitespace() {
                let is_glyph = [
                    SPOT_GLYPH,
                    ZERO_GAMMA_GLYPH,
                    CALL_WALL_GLYPH,
                    PUT_WALL_GLYPH,
                ]
                .contains(&word);
                let named = ["spot", "flip", "call", "put", "wall", "none"].contains(&word);
                let two_decimals = word.split_once('.').is_some_and(|(_, d)| d.len() == 2);
                assert!(
                    is_glyph || named || two_decimals,
                    "{width}: {word:?} cut in {legend:?}"
                );
            }
        }
    }
}
