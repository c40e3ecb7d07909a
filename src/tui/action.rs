//! Named actions: what a key means. Keys map to actions through the keymap, actions
//! change state through `App::update`, so every key is testable without a terminal.

use serde::{Deserialize, Serialize};

/// Every action a key can be bound to. The string names are the `[keys]` config names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    FocusNext,
    FocusPrev,
    FocusBrief,
    FocusScanner,
    FocusSetups,
    FocusGex,
    FocusHealth,
    FocusLogs,
    Up,
    Down,
    EditWatchlist,
    Track,
    Trigger,
    Invalidate,
    Archive,
    Reopen,
    Note,
    Delete,
    Filter,
    Details,
    GexSymbol,
    GexExpiry,
    Refresh,
    BriefPreview,
    Help,
    Back,
    Quit,
    ForceQuit,
    Redraw,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::FocusNext,
        Action::FocusPrev,
        Action::FocusBrief,
        Action::FocusScanner,
        Action::FocusSetups,
        Action::FocusGex,
        Action::FocusHealth,
        Action::FocusLogs,
        Action::Up,
        Action::Down,
        Action::EditWatchlist,
        Action::Track,
        Action::Trigger,
        Action::Invalidate,
        Action::Archive,
        Action::Reopen,
        Action::Note,
        Action::Delete,
        Action::Filter,
        Action::Details,
        Action::GexSymbol,
        Action::GexExpiry,
        Action::Refresh,
        Action::BriefPreview,
        Action::Help,
        Action::Back,
        Action::Quit,
        Action::ForceQuit,
        Action::Redraw,
    ];

    /// The config name, e.g. `focus_next`.
    pub fn name(self) -> &'static str {
        match self {
            Action::FocusNext => "focus_next",
            Action::FocusPrev => "focus_prev",
            Action::FocusBrief => "focus_brief",
            Action::FocusScanner => "focus_scanner",
            Action::FocusSetups => "focus_setups",
            Action::FocusGex => "focus_gex",
            Action::FocusHealth => "focus_health",
            Action::FocusLogs => "focus_logs",
            Action::Up => "up",
            Action::Down => "down",
            Action::EditWatchlist => "edit_watchlist",
            Action::Track => "track",
            Action::Trigger => "trigger",
            Action::Invalidate => "invalidate",
            Action::Archive => "archive",
            Action::Reopen => "reopen",
            Action::Note => "note",
            Action::Delete => "delete",
            Action::Filter => "filter",
            Action::Details => "details",
            Action::GexSymbol => "gex_symbol",
            Action::GexExpiry => "gex_expiry",
            Action::Refresh => "refresh",
            Action::BriefPreview => "brief_preview",
            Action::Help => "help",
            Action::Back => "back",
            Action::Quit => "quit",
            Action::ForceQuit => "force_quit",
            Action::Redraw => "redraw",
        }
    }

    /// What the action does, for the help overlay and the footer.
    pub fn describe(self) -> &'static str {
        match self {
            Action::FocusNext => "focus next pane",
            Action::FocusPrev => "focus previous pane",
            Action::FocusBrief => "Brief pane",
            Action::FocusScanner => "Scanner pane",
            Action::FocusSetups => "Setups pane",
            Action::FocusGex => "GEX pane",
            Action::FocusHealth => "Health pane",
            Action::FocusLogs => "Logs pane",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::EditWatchlist => "edit the watchlist",
            Action::Track => "track opportunity",
            Action::Trigger => "mark setup triggered",
            Action::Invalidate => "invalidate setup",
            Action::Archive => "archive setup",
            Action::Reopen => "reopen setup",
            Action::Note => "edit setup note",
            Action::Delete => "delete setup (asks)",
            Action::Filter => "setup status filter",
            Action::Details => "setup details, history",
            Action::GexSymbol => "GEX: next symbol",
            Action::GexExpiry => "GEX: expiry filter",
            Action::Refresh => "refresh/regenerate",
            Action::BriefPreview => "brief: next watchlist",
            Action::Help => "help (this screen)",
            Action::Back => "close popup, cancel",
            Action::Quit => "quit (asks if active)",
            Action::ForceQuit => "quit at once",
            Action::Redraw => "redraw the screen",
        }
    }

    /// Default keys (SPEC 11).
    pub fn default_keys(self) -> &'static [&'static str] {
        match self {
            Action::FocusNext => &["tab"],
            Action::FocusPrev => &["shift-tab"],
            Action::FocusBrief => &["1"],
            Action::FocusScanner => &["2"],
            Action::FocusSetups => &["3"],
            Action::FocusGex => &["4"],
            Action::FocusHealth => &["5"],
            Action::FocusLogs => &["6"],
            Action::Up => &["k", "up"],
            Action::Down => &["j", "down"],
            Action::EditWatchlist => &["w"],
            Action::Track => &["t"],
            Action::Trigger => &["x"],
            Action::Invalidate => &["i"],
            Action::Archive => &["a"],
            Action::Reopen => &["o"],
            Action::Note => &["n"],
            Action::Delete => &["d"],
            Action::Filter => &["f"],
            Action::Details => &["enter"],
            Action::GexSymbol => &["s"],
            Action::GexExpiry => &["e"],
            Action::Refresh => &["r"],
            Action::BriefPreview => &["v"],
            Action::Help => &["?"],
            Action::Back => &["esc"],
            Action::Quit => &["q"],
            Action::ForceQuit => &["ctrl-c"],
            Action::Redraw => &["ctrl-l"],
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}
