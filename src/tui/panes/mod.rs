//! The panes, one folder each (its state, its `Pane` impl, its drawing, its snapshot
//! tests), and `Panes`, the registry the `App` holds: adding a pane is a folder here and
//! a line in `Panes`. A pane never computes market data; it formats what the state holds.

pub mod brief;
pub mod chart;
pub mod coach;
pub mod gex;
pub mod health;
pub mod logs;
pub mod scanner;
pub mod setups;
pub mod stats;
#[cfg(test)]
pub(crate) mod test_support;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use super::app::App;
use super::pane::{DrawCtx, Pane};
use super::theme::Theme;

/// Declares the panes from one list: the `PaneId` enum (in the order of the number keys),
/// each pane's name, and `Panes`, the state of every pane with `get`/`get_mut` by id.
macro_rules! registry {
    ($($(#[$doc:meta])* $field:ident: $ty:ty => $id:ident $title:literal,)*) => {
        /// The panes, in the order of their number keys (`1` Brief … `9` Stats).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PaneId {
            $($(#[$doc])* $id,)*
        }

        impl PaneId {
            pub const ALL: [PaneId; [$($title),*].len()] = [$(PaneId::$id),*];

            /// The name in the pane's frame and in the tab bar.
            pub fn title(self) -> &'static str {
                match self {
                    $(PaneId::$id => $title,)*
                }
            }
        }

        /// Every pane's state, one field per pane.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Panes {
            $(pub $field: $ty,)*
        }

        impl Panes {
            pub fn get(&self, id: PaneId) -> &dyn Pane {
                match id {
                    $(PaneId::$id => &self.$field,)*
                }
            }

            pub fn get_mut(&mut self, id: PaneId) -> &mut dyn Pane {
                match id {
                    $(PaneId::$id => &mut self.$field,)*
                }
            }
        }
    };
}

// The registry: adding a pane is its folder above and one line here (in key order).
registry! {
    brief: brief::BriefPane => Brief "Brief",
    scanner: scanner::ScannerPane => Scanner "Scanner",
    setups: setups::SetupsPane => Setups "Setups",
    gex: gex::GexPane => Gex "GEX",
    health: health::HealthPane => Health "Health",
    logs: logs::LogsPane => Logs "Logs",
    /// The AI coach (SPEC 16).
    coach: coach::CoachPane => Coach "Coach",
    chart: chart::ChartPane => Chart "Chart",
    /// Setup statistics (SPEC 18).
    stats: stats::StatsPane => Stats "Stats",
}

/// Draws `pane` in its frame over `area` (nothing below 3×3).
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    pane: PaneId,
    app: &App,
    theme: &Theme,
    now: DateTime<Utc>,
) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let focused = app.focus() == pane;
    let view = app.panes().get(pane);
    let block = pane_block(pane, focused, theme, view.title(app));
    let ctx = DrawCtx {
        app,
        theme,
        now,
        focused,
    };
    view.draw(frame, area, block, &ctx);
}

/// The frame of a pane: `[2 Scanner]` with a bold title and marker when focused, so focus
/// shows without colour.
fn pane_block(pane: PaneId, focused: bool, theme: &Theme, extra: String) -> Block<'static> {
    let (title, style, border) = if focused {
        (
            format!("▶ {} {}{} ", pane.number(), pane.title(), extra),
            theme.focus_title,
            theme.focus_border,
        )
    } else {
        (
            format!(" {} {}{} ", pane.number(), pane.title(), extra),
            theme.title,
            theme.border,
        )
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, style))
}

/// The cells of a trade plan as the Scanner and Setups tables show it: symbol, setup,
/// direction arrow (▲ long, ▼ short: never colour alone), entry, stop, target.
pub(crate) fn plan_cells<'a>(
    symbol: &'a crate::domain::Symbol,
    kind: crate::domain::SetupKind,
    direction: crate::domain::Direction,
    entry: f64,
    stop: f64,
    target: f64,
    theme: &Theme,
) -> Vec<ratatui::widgets::Cell<'a>> {
    use ratatui::text::Line;
    use ratatui::widgets::Cell;
    let (arrow, style) = match direction {
        crate::domain::Direction::Long => ("▲", theme.up),
        crate::domain::Direction::Short => ("▼", theme.down),
    };
    let price = |p: f64| Cell::from(Line::from(crate::tui::format::price(p)).right_aligned());
    vec![
        Cell::from(symbol.as_str()),
        Cell::from(kind.short_label()),
        Cell::from(Span::styled(arrow, style)),
        price(entry),
        price(stop),
        price(target),
    ]
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn every_pane_is_registered_under_its_own_id_and_number() {
        let panes = Panes::default();
        for (i, id) in PaneId::ALL.into_iter().enumerate() {
            assert_eq!(panes.get(id).id(), id, "{id:?}");
            assert_eq!(id.number(), i + 1, "{id:?} is key {}", i + 1);
        }
        assert_eq!(PaneId::Coach.number(), 7);
        assert_eq!(PaneId::Chart.number(), 8);
        assert_eq!(PaneId::Stats.number(), 9);
        assert_eq!(PaneId::Gex.title(), "GEX");
    }
}
