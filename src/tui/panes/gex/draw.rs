//! The GEX pane: net gamma exposure per strike around spot as diverging bars, with spot,
//! zero-gamma and the walls marked; regime, total and the profile's age in the title.
//! Conventions (also in help): dealers long calls and short puts; dollars per 1 % move.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::GexPane;
use crate::gex::Regime;
use crate::gex::display::abbreviate_dollars;
use crate::tui::app::App;
use crate::tui::format::span;
use crate::tui::pane::DrawCtx;
use crate::tui::theme::Theme;
use crate::tui::widgets::gex_bars::{GexBarStyles, GexBars};

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
                .map(|z| format!(" · flip {}", crate::gex::display::price(z)))
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
    frame.render_widget(GexBars::new(profile).styles(styles(theme)), inner);
}
