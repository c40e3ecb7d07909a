//! What every pane is to the screen: a title, a drawing, its footer keys, and its share
//! of the actions and worker events. The `App` keeps what all panes share (the market
//! view, the focus, the overlay, the status line, the keymap) and the global actions;
//! anything else goes to the focused pane through `on_action`, and every pane sees the
//! worker events through `on_event`. A pane's state lives in its own folder under
//! `panes/`, next to its drawing and its snapshot tests.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use super::action::Action;
use super::app::{App, Effect, Overlay, PaneId, Status};
use super::theme::Theme;
use crate::domain::Symbol;
use crate::runtime::AppEvent;

/// A footer or help entry: the keys (as the keymap labels them) and what they do.
pub type Hint = (String, &'static str);

/// What a pane draws from: the whole screen's state (read only), the theme, the wall
/// clock (ages in Health) and whether this pane has the focus.
pub struct DrawCtx<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub now: DateTime<Utc>,
    pub focused: bool,
}

/// Whether a pane took an action. An action no pane takes falls back to the `App`
/// (which says the key does nothing here, or ignores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    Yes,
    No,
}

/// What a pane may read of the shared state while it handles an action or an event, and
/// what it asks of the `App` in return (a status message, shell effects, another focus).
/// The `App` applies the requests after the pane returns, so a pane never reaches into
/// another pane's state.
pub struct Ctx<'a> {
    pub market: &'a super::app::MarketView,
    /// The focused symbol (SPEC 17): GEX and the Chart follow it.
    pub symbol: Option<&'a Symbol>,
    pub focused: bool,
    /// Whether the provider has options chains at all.
    pub has_chains: bool,
    pub(crate) status: Option<Status>,
    pub(crate) effects: Vec<Effect>,
    pub(crate) focus_pane: Option<PaneId>,
    /// A symbol to focus, and whether the `App` asks the GEX worker for it.
    pub(crate) focus_symbol: Option<(Symbol, bool)>,
    pub(crate) overlay: Option<Overlay>,
}

/// What a pane asked of the `App` while it handled something.
pub(crate) struct Requests {
    pub status: Option<Status>,
    pub effects: Vec<Effect>,
    pub focus_pane: Option<PaneId>,
    pub focus_symbol: Option<(Symbol, bool)>,
    pub overlay: Option<Overlay>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        market: &'a super::app::MarketView,
        symbol: Option<&'a Symbol>,
        focused: bool,
        has_chains: bool,
    ) -> Ctx<'a> {
        Ctx {
            market,
            symbol,
            focused,
            has_chains,
            status: None,
            effects: Vec::new(),
            focus_pane: None,
            focus_symbol: None,
            overlay: None,
        }
    }

    pub(crate) fn into_requests(self) -> Requests {
        Requests {
            status: self.status,
            effects: self.effects,
            focus_pane: self.focus_pane,
            focus_symbol: self.focus_symbol,
            overlay: self.overlay,
        }
    }
}

impl Ctx<'_> {
    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status::new(text, false));
    }

    pub fn say_error(&mut self, text: impl Into<String>) {
        self.status = Some(Status::new(text, true));
    }

    /// A request for the shell (a store write, a worker request).
    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// Moves the focus to `pane` once the action is handled.
    pub fn focus_pane(&mut self, pane: PaneId) {
        self.focus_pane = Some(pane);
    }

    /// Opens a popup over the panes (it takes the keys while open).
    pub fn open(&mut self, overlay: Overlay) {
        self.overlay = Some(overlay);
    }

    /// Focuses `symbol` once the action is handled: the header, GEX and the Chart follow,
    /// and the GEX worker is asked for its profile if it changed (`App::set_focus`).
    pub fn focus_symbol(&mut self, symbol: Symbol) {
        self.focus_symbol = Some((symbol, true));
    }

    /// Focuses `symbol` without asking the GEX worker: for the GEX pane, which makes
    /// its own request.
    pub fn show_symbol(&mut self, symbol: Symbol) {
        self.focus_symbol = Some((symbol, false));
    }
}

/// A pane of the screen. Every method but `draw` has a default: a pane that only shows
/// something implements `id` and `draw`.
pub trait Pane {
    fn id(&self) -> PaneId;

    /// What the frame's title adds after the pane's number and name (` · 3 failing`).
    fn title(&self, _app: &App) -> String {
        String::new()
    }

    /// Draws the pane inside `block` (its frame, already titled) over `area`.
    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx);

    /// The pane's own footer keys, shown between the global ones while it has the focus.
    fn hints(&self, _app: &App) -> Vec<Hint> {
        Vec::new()
    }

    /// The footer leaves out the focus-cycling hint to make room for this pane's keys.
    fn wide_hints(&self) -> bool {
        false
    }

    /// An action while this pane has the focus (and no overlay is open).
    fn on_action(&mut self, _action: Action, _ctx: &mut Ctx) -> Handled {
        Handled::No
    }

    /// A worker event; `true` when what the pane shows changed (the screen redraws).
    /// A pane may set the status line here, but asks the shell for nothing.
    fn on_event(&mut self, _event: &AppEvent, _ctx: &mut Ctx) -> bool {
        false
    }
}
