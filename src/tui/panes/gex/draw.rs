//! The GEX pane: net gamma exposure per strike around spot as diverging bars, with spot,
//! zero-gamma and the walls marked; regime, total and the profile's age in the title.
//! Above the bars, a line with total vanna and charm (their signs are explained in `?`
//! help) and a line with the walls' roles (a level's side of spot and its gamma sign).
//! When the chain has a 0DTE expiry, the all-expirations and 0DTE profiles stand side by
//! side from [`SIDE_BY_SIDE_WIDTH`] columns; narrower, a footer line says `e` shows 0DTE.
//! Below them, when the day has two refreshes or more, sparklines of total GEX and of
//! spot's distance to zero gamma (percent of spot) through the session.
//! Conventions (also in help): dealers long calls and short puts; dollars per 1 % move;
//! every price with two decimals.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::GexPane;
use crate::gex::display::{abbreviate_dollars, price2};
use crate::gex::history::{GexPoint, sparkline};
use crate::gex::role::LevelRole;
use crate::gex::{ExpiryFilter, GexProfile, Regime};
use crate::tui::app::App;
use crate::tui::format::span;
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;
use crate::tui::widgets::gex_bars::{GexBarStyles, GexBars};

/// The pane's inner width from which 0DTE and all expirations are drawn side by side.
pub const SIDE_BY_SIDE_WIDTH: u16 = 100;

/// `SPY all · NEG −$4.28B · flip 668.14 · 3m`, for the pane title.
pub fn title(pane: &GexPane, app: &App) -> String {
    let symbol = app.focus_symbol().map(|s| s.as_str()).unwrap_or("—");
    match pane.profile(app.focus_symbol()) {
        Some(p) => {
            let regime = match p.regime {
                Regime::Positive => "POS",
                Regime::Negative => "NEG",
            };
            let flip = p
                .zero_gamma
                .map(|z| format!(" · flip {}", price2(z)))
                .unwrap_or_default();
            let age = app
                .market()
                .now
                .map(|now| format!(" · {}", span(now - p.as_of)))
                .unwrap_or_default();
            format!(
                " · {symbol} {} · {regime} {}{flip}{age}",
                pane.filter(),
                abbreviate_dollars(p.total_gex)
            )
        }
        None => format!(" · {symbol} {}", pane.filter()),
    }
}

fn styles(theme: &Theme) -> GexBarStyles {
    GexBarStyles {
        positive: theme.up,
        negative: theme.down,
        marker: theme.warn,
        text: theme.text,
        axis: theme.dim,
    }
}

/// Dollars with an explicit sign: `+$1.2B`, `-$340M`.
fn signed_dollars(value: f64) -> String {
    let text = abbreviate_dollars(value);
    if value > 0.0 && text != "$0" {
        format!("+{text}")
    } else {
        text
    }
}

/// `(3m old, last 674.35)` when the profile lags the focused symbol's last price (computed
/// at another price or before the last trade), else nothing.
pub fn spot_lag(profile: &GexProfile, app: &App) -> Option<String> {
    let row = app
        .market()
        .watchlist
        .iter()
        .find(|r| r.symbol == profile.symbol)?;
    let (last, last_at) = (row.last?, row.last_at?);
    let moved = (last - profile.spot).abs() >= 0.005;
    let later = last_at - profile.as_of >= chrono::Duration::minutes(1);
    if !(moved || later) {
        return None;
    }
    let now = app.market().now.unwrap_or(last_at).max(last_at);
    Some(format!(
        "({} old, last {})",
        span(now - profile.as_of),
        price2(last)
    ))
}

/// `vanna +$1.2B/vol pt · charm -$340M/day · 0DTE 38% of |γ|`, or without the units and
/// the share (`vanna +$1.2B · charm -$340M`) when that does not fit in `width` columns.
fn greeks_line(p: &GexProfile, width: u16, theme: &Theme) -> Line<'static> {
    let tone = |v: f64| if v < 0.0 { theme.down } else { theme.up };
    let (vanna, charm) = (signed_dollars(p.total_vanna), signed_dollars(p.total_charm));
    let share = format!("{:.0}%", p.zero_dte_share * 100.0);
    let full = format!("vanna {vanna}/vol pt · charm {charm}/day · 0DTE {share} of |γ|");
    if full.chars().count() > usize::from(width) {
        return Line::from(vec![
            Span::styled("vanna ", theme.dim),
            Span::styled(vanna, tone(p.total_vanna)),
            Span::styled(" · charm ", theme.dim),
            Span::styled(charm, tone(p.total_charm)),
        ]);
    }
    Line::from(vec![
        Span::styled("vanna ", theme.dim),
        Span::styled(vanna, tone(p.total_vanna)),
        Span::styled("/vol pt · charm ", theme.dim),
        Span::styled(charm, tone(p.total_charm)),
        Span::styled("/day · 0DTE ", theme.dim),
        Span::styled(share, theme.text),
        Span::styled(" of |γ|", theme.dim),
    ])
}

/// The net GEX at `strike`, if it is listed.
fn net_at(p: &GexProfile, strike: f64) -> Option<f64> {
    p.strikes
        .iter()
        .find(|s| (s.strike - strike).abs() < 1e-9)
        .map(|s| s.net_gex)
}

/// `C 680.00 resistance/pin · P 665.00 acceleration ↓ · abs-γ 675.00 support/pin`, as many
/// of the three as fit in `width` columns (never one cut in the middle).
fn roles_line(p: &GexProfile, width: u16, theme: &Theme) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for (name, level) in [
        ("C", p.call_wall),
        ("P", p.put_wall),
        ("abs-γ", p.abs_gamma_strike),
    ] {
        let Some(level) = level else { continue };
        let role = LevelRole::of(level, net_at(p, level).unwrap_or(0.0), p.spot);
        let head = format!("{name} {} ", price2(level));
        let sep = if spans.is_empty() { "" } else { " · " };
        let cost = sep.chars().count() + head.chars().count() + role.label().chars().count();
        if used + cost > usize::from(width) {
            break;
        }
        used += cost;
        if !sep.is_empty() {
            spans.push(Span::styled(sep, theme.dim));
        }
        spans.push(Span::styled(head, theme.warn));
        spans.push(Span::styled(role.label(), theme.text));
    }
    if spans.is_empty() {
        spans.push(Span::styled("no walls in this profile", theme.dim));
    }
    Line::from(spans)
}

/// `total GEX ▁▂▅▇ -$6.25B (12 refreshes)` and `spot−flip ▇▅▂▁ -0.37%`: the session
/// through the refreshes so far, latest value last.
fn history_lines(points: &[GexPoint], width: u16, theme: &Theme) -> [Line<'static>; 2] {
    let width = usize::from(width);
    let row = |label: &str, values: Vec<f64>, last: String| -> Line<'static> {
        let room = width.saturating_sub(label.chars().count() + last.chars().count() + 2);
        Line::from(vec![
            Span::styled(format!("{label} "), theme.dim),
            Span::styled(sparkline(&values, room), theme.text),
            Span::styled(format!(" {last}"), theme.text),
        ])
    };
    let totals: Vec<f64> = points.iter().map(|p| p.total_gex).collect();
    let distances: Vec<f64> = points
        .iter()
        .filter_map(GexPoint::flip_distance_pct)
        .collect();
    let last_total = points
        .last()
        .map(|p| abbreviate_dollars(p.total_gex))
        .unwrap_or_default();
    let last_distance = points
        .last()
        .and_then(GexPoint::flip_distance_pct)
        .map_or("no flip".to_string(), |d| format!("{d:+.2}%"));
    [
        row("total GEX", totals, last_total),
        row("spot−flip", distances, last_distance),
    ]
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block<'static>, pane: &GexPane, ctx: &DrawCtx) {
    let (app, theme) = (ctx.app, ctx.theme);
    let Some(profile) = pane.profile(app.focus_symbol()) else {
        let why = if !app.settings().has_chains {
            "No options chain from this provider, so no GEX profile (coach never invents one)."
                .to_string()
        } else {
            match app.focus_symbol() {
                Some(s) => format!(
                    "Computing the {s} profile ({})… profiles refresh every 5 market minutes; s: next symbol, e: expiry filter, r: now.",
                    pane.filter()
                ),
                None => "The watchlist is empty.".into(),
            }
        };
        frame.render_widget(
            Paragraph::new(Line::styled(why, theme.dim))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // 0DTE beside all expirations: only under the all-expirations filter, when computed.
    let zero_dte = (pane.filter() == ExpiryFilter::All)
        .then(|| pane.profile_under(app.focus_symbol(), ExpiryFilter::ZeroDte))
        .flatten();
    let side_by_side = zero_dte.is_some() && inner.width >= SIDE_BY_SIDE_WIDTH;
    let note_rows = u16::from(zero_dte.is_some() && !side_by_side);
    let history = pane.history(app.focus_symbol());
    // The history is of all expirations: under another filter it would mislead.
    let history_rows =
        if history.len() >= 2 && inner.height >= 14 && pane.filter() == ExpiryFilter::All {
            2
        } else {
            0
        };
    let [greeks, roles, bars, trend, note] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(history_rows),
        Constraint::Length(note_rows),
    ])
    .areas(inner);
    if history_rows > 0 {
        frame.render_widget(
            Paragraph::new(Vec::from(history_lines(history, trend.width, theme))),
            trend,
        );
    }
    frame.render_widget(
        Paragraph::new(greeks_line(profile, greeks.width, theme)),
        greeks,
    );
    frame.render_widget(
        Paragraph::new(roles_line(profile, roles.width, theme)),
        roles,
    );
    let lag = spot_lag(profile, app);
    match zero_dte {
        Some(today) if side_by_side => {
            let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
                .spacing(2)
                .areas(bars);
            for (half, p, name) in [
                (left, profile, "all expirations".to_string()),
                (
                    right,
                    today,
                    format!("0DTE ({:.0}% of |γ|)", profile.zero_dte_share * 100.0),
                ),
            ] {
                let [heading, chart] =
                    Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(half);
                frame.render_widget(Paragraph::new(Line::styled(name, theme.header)), heading);
                frame.render_widget(
                    GexBars::new(p)
                        .styles(styles(theme))
                        .spot_note(spot_lag(p, app)),
                    chart,
                );
            }
        }
        _ => {
            frame.render_widget(
                GexBars::new(profile).styles(styles(theme)).spot_note(lag),
                bars,
            );
            if note_rows > 0 {
                let e = app.keymap().label(crate::tui::action::Action::GexExpiry);
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        format!(
                            "0DTE holds {:.0}% of |γ|: {e} shows it alone (side by side from {SIDE_BY_SIDE_WIDTH} columns)",
                            profile.zero_dte_share * 100.0
                        ),
                        theme.dim,
                    )),
                    note,
                );
            }
        }
    }
}
