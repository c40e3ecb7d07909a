//! The Stats pane (`9`, SPEC 18): does a setup pay? Two tabs of group statistics —
//! *Backtest* (the stored backtest's groups) and *Journal* (the trader's own ended
//! setups) — each a table sortable by a column (`s` cycles it), with the selected
//! group's R histogram. The pane only draws: the statistics are `stats`'s, computed by
//! the shell (`runtime::journal_stats`, the backtest store) and handed in with
//! [`StatsPane::set_journal`] and [`StatsPane::set_backtest`].

mod draw;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::runtime::AppEvent;
use crate::stats::{GroupKey, GroupRow, RHistogram};
use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;

/// One group of a tab, with the R histogram of its filled trades when known (the
/// journal's always; stored backtest rows may come without).
#[derive(Clone, Debug, PartialEq)]
pub struct StatsRow {
    pub row: GroupRow,
    pub histogram: Option<RHistogram>,
}

impl From<GroupRow> for StatsRow {
    fn from(row: GroupRow) -> Self {
        StatsRow {
            row,
            histogram: None,
        }
    }
}

/// The two tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Backtest,
    Journal,
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Backtest => "Backtest",
            Tab::Journal => "Journal",
        }
    }

    fn other(self) -> Tab {
        match self {
            Tab::Backtest => Tab::Journal,
            Tab::Journal => Tab::Backtest,
        }
    }
}

/// What a tab's table is sorted by; `s` cycles in this order. Numbers sort largest
/// first, unknown values (no filled trade, no loss) last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Kind, then its symbols, the all-kinds total last.
    #[default]
    Group,
    /// Filled trades (n).
    Trades,
    WinRate,
    AvgR,
    ProfitFactor,
    Drawdown,
}

impl SortKey {
    const ORDER: [SortKey; 6] = [
        SortKey::Group,
        SortKey::Trades,
        SortKey::WinRate,
        SortKey::AvgR,
        SortKey::ProfitFactor,
        SortKey::Drawdown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Group => "kind",
            SortKey::Trades => "n",
            SortKey::WinRate => "win %",
            SortKey::AvgR => "avg R",
            SortKey::ProfitFactor => "PF",
            SortKey::Drawdown => "max DD",
        }
    }

    fn next(self) -> SortKey {
        let i = SortKey::ORDER.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ORDER[(i + 1) % SortKey::ORDER.len()]
    }

    /// The value a numeric sort compares; `None` sorts last.
    fn value(self, r: &GroupRow) -> Option<f64> {
        let s = &r.stats;
        match self {
            SortKey::Group => None,
            SortKey::Trades => Some(s.triggered as f64),
            SortKey::WinRate => s.win_rate,
            SortKey::AvgR => s.avg_r,
            SortKey::ProfitFactor => s.profit_factor,
            SortKey::Drawdown => (s.triggered > 0).then_some(s.max_drawdown_r),
        }
    }
}

/// The group order: by kind (the all-kinds rows last), the kind's own row before its
/// symbols'.
fn group_order(a: &GroupKey, b: &GroupKey) -> Ordering {
    let kind = |k: &GroupKey| (k.kind.is_none(), k.kind.clone());
    kind(a).cmp(&kind(b)).then_with(|| a.cmp(b))
}

/// One tab's rows, sort and selection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TabState {
    rows: Vec<StatsRow>,
    sort: SortKey,
    /// The selected group, by its key: rows are replaced and re-sorted under the cursor.
    selected: Option<GroupKey>,
}

impl TabState {
    /// The rows in display order.
    pub fn sorted(&self) -> Vec<&StatsRow> {
        let mut rows: Vec<&StatsRow> = self.rows.iter().collect();
        let key = self.sort;
        rows.sort_by(|a, b| {
            let by_value = match (key.value(&a.row), key.value(&b.row)) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_value.then_with(|| group_order(&a.row.key, &b.row.key))
        });
        rows
    }

    pub fn sort(&self) -> SortKey {
        self.sort
    }

    /// Whether there is anything to show: a group with at least one detection.
    pub fn is_empty(&self) -> bool {
        self.rows.iter().all(|r| r.row.stats.detections == 0)
    }

    /// The row of the selected group in display order (the first when none is, or it
    /// is gone).
    pub fn selected_row(&self) -> usize {
        self.selected
            .as_ref()
            .and_then(|key| self.sorted().iter().position(|r| &r.row.key == key))
            .unwrap_or(0)
    }

    /// The selected group, if any row is shown.
    pub fn selected(&self) -> Option<&StatsRow> {
        self.sorted().get(self.selected_row()).copied()
    }

    fn set(&mut self, rows: Vec<StatsRow>) -> bool {
        let changed = rows != self.rows;
        self.rows = rows;
        changed
    }

    fn move_selection(&mut self, step: Move) {
        let sorted = self.sorted();
        if let Some(next) = step.apply(self.selected_row(), sorted.len()) {
            self.selected = Some(sorted[next].row.key.clone());
        }
    }

    /// The next sort key; the selected group stays selected.
    fn cycle_sort(&mut self) {
        if self.selected.is_none() {
            self.selected = self.selected().map(|r| r.row.key.clone());
        }
        self.sort = self.sort.next();
    }
}

/// The Stats pane's state: both tabs and which one shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsPane {
    tab: Tab,
    backtest: TabState,
    journal: TabState,
}

impl StatsPane {
    /// The stored backtest's groups; `true` when they changed.
    pub fn set_backtest(&mut self, rows: Vec<StatsRow>) -> bool {
        self.backtest.set(rows)
    }

    /// The journal's groups; `true` when they changed.
    pub fn set_journal(&mut self, rows: Vec<StatsRow>) -> bool {
        self.journal.set(rows)
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The tab on screen.
    pub fn shown(&self) -> &TabState {
        match self.tab {
            Tab::Backtest => &self.backtest,
            Tab::Journal => &self.journal,
        }
    }

    fn shown_mut(&mut self) -> &mut TabState {
        match self.tab {
            Tab::Backtest => &mut self.backtest,
            Tab::Journal => &mut self.journal,
        }
    }

    pub fn selected_row(&self) -> usize {
        self.shown().selected_row()
    }
}

impl Pane for StatsPane {
    fn id(&self) -> PaneId {
        PaneId::Stats
    }

    fn title(&self, _app: &App) -> String {
        format!(" · {}", self.tab.title())
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        vec![
            (format!("{}/{}", k(Action::Down), k(Action::Up)), "move"),
            (
                format!("{}/{}", k(Action::TimeframeDown), k(Action::TimeframeUp)),
                "tab",
            ),
            (k(Action::GexSymbol), "sort"),
        ]
    }

    fn wide_hints(&self) -> bool {
        true
    }

    fn on_action(&mut self, action: Action, _ctx: &mut Ctx) -> Handled {
        if let Some(step) = Move::from_action(action) {
            self.shown_mut().move_selection(step);
            return Handled::Yes;
        }
        match action {
            Action::TimeframeDown | Action::TimeframeUp => self.tab = self.tab.other(),
            Action::GexSymbol => self.shown_mut().cycle_sort(),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    fn on_event(&mut self, event: &AppEvent, _ctx: &mut Ctx) -> bool {
        match event {
            AppEvent::JournalStats(rows) => self.set_journal(
                rows.iter()
                    .map(|(row, h)| StatsRow {
                        row: row.clone(),
                        histogram: Some(*h),
                    })
                    .collect(),
            ),
            AppEvent::BacktestStats(stored) => {
                self.set_backtest(stored.rows.iter().cloned().map(StatsRow::from).collect())
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
