//! Keys and actions: `on_key` routes a key to the open editor or through the keymap;
//! `update` applies a named action.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::{InputOutcome, TextInput};
use super::{App, Effect, Overlay, PaneId};
use crate::runtime::brief::BriefRequest;
use crate::store::parse_symbols;
use crate::tui::action::Action;
use crate::tui::pane::{Ctx, Handled};
use crate::tui::selection::Move;

/// Longest watchlist text the editor takes (50 symbols of up to 12 characters).
const WATCHLIST_CHARS: usize = 50 * 13;

impl App {
    /// A key press. An open editor takes every key but Ctrl-C; otherwise the keymap
    /// decides, and an unbound key is reported.
    pub fn on_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        // An error stays until the next key: this one (its own result, if any, follows).
        if self.status.as_ref().is_some_and(|s| s.is_error) {
            self.set_status(None);
        }
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(Overlay::EditWatchlist { input, error }) = &mut self.overlay
            && !ctrl_c
        {
            return match input.on_key(key) {
                InputOutcome::Editing => {
                    *error = None;
                    vec![]
                }
                InputOutcome::Cancel => {
                    self.overlay = None;
                    self.say("watchlist unchanged");
                    vec![]
                }
                InputOutcome::Submit(text) => self.submit_watchlist(&text),
            };
        }
        if matches!(self.overlay, Some(Overlay::EditNote { .. })) && !ctrl_c {
            return self.note_key(key);
        }
        if matches!(self.overlay, Some(Overlay::ConfirmDelete { .. })) && !ctrl_c {
            return self.confirm_delete(key.code == KeyCode::Char('y'));
        }
        if matches!(self.overlay, Some(Overlay::ConfirmCoach { .. })) && !ctrl_c {
            return self.confirm_coach(key.code == KeyCode::Char('y'));
        }
        if self.overlay.is_none()
            && self.focus == PaneId::Coach
            && self.panes.coach.editing
            && !ctrl_c
            && let Some(effects) = self.coach_prompt_key(key)
        {
            return effects;
        }
        if matches!(self.overlay, Some(Overlay::ConfirmRemoveAlert { .. })) && !ctrl_c {
            return self.confirm_remove_alert(key.code == KeyCode::Char('y'));
        }
        if matches!(self.overlay, Some(Overlay::Snooze { .. })) && !ctrl_c {
            return self.snooze_key(key);
        }
        if matches!(self.overlay, Some(Overlay::Search { .. })) && !ctrl_c {
            return self.search_key(key);
        }
        if matches!(self.overlay, Some(Overlay::NewAlert { .. })) && !ctrl_c {
            return self.alert_key(key);
        }
        match self.keymap.action(key) {
            Some(action) => self.update(action),
            None => match key.code {
                KeyCode::Char(c) => self.unbound_key(c),
                _ => vec![],
            },
        }
    }

    fn submit_watchlist(&mut self, text: &str) -> Vec<Effect> {
        let words: Vec<&str> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        let parsed = if words.is_empty() {
            Err("a watchlist needs at least one symbol".to_string())
        } else {
            parse_symbols(&words).map_err(|e| e.to_string())
        };
        match parsed {
            Ok(symbols) => {
                self.overlay = None;
                self.say(format!("saving watchlist ({} symbols)…", symbols.len()));
                vec![Effect::SaveWatchlist(symbols)]
            }
            Err(message) => {
                if let Some(Overlay::EditWatchlist { error, .. }) = &mut self.overlay {
                    *error = Some(message);
                }
                vec![]
            }
        }
    }

    fn open_watchlist_editor(&mut self) {
        let text = self
            .market
            .watchlist
            .iter()
            .map(|r| r.symbol.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.overlay = Some(Overlay::EditWatchlist {
            input: TextInput::new(text, WATCHLIST_CHARS),
            error: None,
        });
    }

    /// Applies a named action; returns what the shell must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match &self.overlay {
            Some(Overlay::ConfirmQuit) => {
                self.overlay = None;
                return match action {
                    Action::Quit | Action::ForceQuit => vec![Effect::Quit],
                    _ => {
                        self.say("quit cancelled");
                        vec![]
                    }
                };
            }
            Some(Overlay::Help) => {
                if matches!(action, Action::Help | Action::Back | Action::Quit) {
                    self.overlay = None;
                    return vec![];
                }
                if let Some(step) = Move::from_action(action) {
                    let len = self.help_last_top.get() + 1;
                    self.help_top = step.apply(self.help_top(), len).unwrap_or(0);
                    return vec![];
                }
                if action != Action::ForceQuit {
                    return vec![];
                }
            }
            Some(Overlay::Details { .. }) => {
                if matches!(action, Action::Back | Action::Details | Action::Quit) {
                    self.overlay = None;
                    return vec![];
                }
                if action != Action::ForceQuit {
                    return vec![];
                }
            }
            Some(
                Overlay::EditWatchlist { .. }
                | Overlay::EditNote { .. }
                | Overlay::ConfirmDelete { .. }
                | Overlay::ConfirmCoach { .. }
                | Overlay::Search { .. }
                | Overlay::NewAlert { .. }
                | Overlay::ConfirmRemoveAlert { .. }
                | Overlay::Snooze { .. },
            ) if action != Action::ForceQuit => {
                return vec![];
            }
            _ => {}
        }
        let before = self.focus;
        match action {
            Action::FocusNext => self.focus = self.focus.offset(1),
            Action::FocusPrev => self.focus = self.focus.offset(-1),
            Action::FocusBrief => self.focus = PaneId::Brief,
            Action::FocusScanner => self.focus = PaneId::Scanner,
            Action::FocusSetups => self.focus = PaneId::Setups,
            Action::FocusGex => self.focus = PaneId::Gex,
            Action::FocusHealth => self.focus = PaneId::Health,
            Action::FocusLogs => self.focus = PaneId::Logs,
            Action::FocusCoach => self.open_coach(),
            Action::AskCoach => return self.ask_about_selected(),
            Action::Back | Action::Details if self.focus == PaneId::Coach => {
                let (handled, effects) =
                    self.pane_call(PaneId::Coach, |p, ctx| p.on_action(action, ctx));
                if handled == Handled::No {
                    self.set_status(None);
                }
                return effects;
            }
            Action::FocusChart => self.focus = PaneId::Chart,
            Action::FocusStats => self.focus = PaneId::Stats,
            // In the Stats pane: `[`/`]` switch its tabs, `s` sorts its table.
            Action::TimeframeDown | Action::TimeframeUp | Action::GexSymbol
                if self.focus == PaneId::Stats =>
            {
                return self
                    .pane_call(PaneId::Stats, |p, ctx| p.on_action(action, ctx))
                    .1;
            }
            Action::Up
            | Action::Down
            | Action::First
            | Action::Last
            | Action::HalfPageUp
            | Action::HalfPageDown => {
                // The focused pane's: a list moves, the Coach scrolls; a pane without
                // one ignores them.
                return self
                    .pane_call(self.focus, |p, ctx| p.on_action(action, ctx))
                    .1;
            }
            Action::Search => self.open_search(),
            Action::NewAlert => self.open_alert_editor(),
            Action::Snooze => return self.snooze(),
            Action::Delete if self.focus == PaneId::Chart => {
                let (handled, effects) =
                    self.pane_call(PaneId::Chart, |p, ctx| p.on_action(action, ctx));
                if handled == Handled::Yes {
                    return effects;
                }
                return self.setup_key(action);
            }
            // The Chart's keys work from any pane (the cursor keys say where they work).
            Action::TimeframeDown
            | Action::TimeframeUp
            | Action::CursorLeft
            | Action::CursorRight
            | Action::AlertsView => {
                return self
                    .pane_call(PaneId::Chart, |p, ctx| p.on_action(action, ctx))
                    .1;
            }
            Action::Help => {
                self.help_top = 0;
                self.overlay = Some(Overlay::Help);
            }
            Action::Back => self.set_status(None),
            Action::EditWatchlist => {
                self.focus = PaneId::Scanner;
                self.open_watchlist_editor();
            }
            Action::Track
            | Action::Trigger
            | Action::Invalidate
            | Action::Archive
            | Action::Reopen
            | Action::Note
            | Action::Delete
            | Action::Filter
            | Action::Details => return self.setup_key(action),
            Action::GexSymbol | Action::GexExpiry => {
                // From any pane: the GEX pane opens and takes the key.
                self.focus = PaneId::Gex;
                return self
                    .pane_call(PaneId::Gex, |p, ctx| p.on_action(action, ctx))
                    .1;
            }
            Action::Refresh => return self.refresh(),
            Action::BriefPreview => {
                self.focus = PaneId::Brief;
                self.say("building a preview for the next watchlist…");
                let after = self.brief().map(|b| b.watchlist.clone());
                return vec![Effect::Brief(BriefRequest::PreviewNext { after })];
            }
            Action::Quit => {
                if self.settings.confirm_quit && self.active_setups() > 0 {
                    self.overlay = Some(Overlay::ConfirmQuit);
                } else {
                    return vec![Effect::Quit];
                }
            }
            Action::ForceQuit => return vec![Effect::Quit],
            Action::Redraw => return vec![Effect::FullRedraw],
        }
        if self.focus != before {
            self.focus_chosen = true;
        }
        if self.focus == PaneId::Brief && before != PaneId::Brief {
            // a brief older than its freshness window is rebuilt on opening
            return vec![Effect::Brief(BriefRequest::Opened)];
        }
        vec![]
    }

    /// The setup keys (`t x i a o n d f Enter`): the focused pane's (Scanner tracks,
    /// Setups runs the lifecycle), else where they work is said.
    /// `z`: the alerts list's selected alert (Chart), or the selected tracked setup.
    fn snooze(&mut self) -> Vec<Effect> {
        use crate::notify::snooze::SnoozeTarget;
        let target = match self.focus {
            PaneId::Chart if self.panes.chart.view.show_alerts => self
                .panes
                .chart
                .selected_alert()
                .map(|a| SnoozeTarget::Alert(a.id)),
            PaneId::Setups => self
                .panes
                .setups
                .selected_setup()
                .map(|r| SnoozeTarget::Setup(r.setup.id)),
            _ => {
                let (alerts, setups) = (
                    self.keymap.label(Action::AlertsView),
                    self.keymap.label(Action::FocusSetups),
                );
                self.say_error(format!(
                    "snooze works on an alert (alerts list, {alerts}) or a tracked setup (Setups, {setups})"
                ));
                return vec![];
            }
        };
        match target {
            Some(target) => self.overlay = Some(Overlay::Snooze { target }),
            None => self.say_error("nothing selected to snooze"),
        }
        vec![]
    }

    /// A key in the snooze popup: 1, 2 or 3 picks; any other key cancels.
    fn snooze_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        use crate::notify::snooze::SnoozeFor;
        let Some(Overlay::Snooze { target }) = self.overlay.take() else {
            return vec![];
        };
        let choice = match key.code {
            KeyCode::Char('1') => SnoozeFor::Minutes15,
            KeyCode::Char('2') => SnoozeFor::Hour,
            KeyCode::Char('3') => SnoozeFor::RestOfSession,
            _ => {
                self.say(format!("{target} not snoozed"));
                return vec![];
            }
        };
        self.say(format!("snoozing {target} for {}…", choice.label()));
        vec![Effect::Snooze { target, choice }]
    }

    fn setup_key(&mut self, action: Action) -> Vec<Effect> {
        if self.market.now.is_none() {
            self.say_error("no market time yet; wait for the feed");
            return vec![];
        }
        let (handled, effects) = self.pane_call(self.focus, |p, ctx| p.on_action(action, ctx));
        if handled == Handled::Yes {
            return effects;
        }
        if action == Action::Track {
            self.say_error("select an opportunity in the Scanner to track it");
        } else {
            let keys = self.keymap.label(Action::FocusSetups);
            self.say_error(format!(
                "that key works on a tracked setup: focus Setups ({keys})"
            ));
        }
        vec![]
    }

    /// The GEX worker request for the focused symbol under the GEX pane's filter (the
    /// focus stays where it is).
    pub(super) fn gex_effect(&mut self, force: bool) -> Vec<Effect> {
        let mut ctx = Ctx::new(
            &self.market,
            self.focus_symbol.as_ref(),
            self.focus == PaneId::Gex,
            self.settings.has_chains,
        );
        self.panes
            .gex
            .request(self.focus_symbol.as_ref(), force, &mut ctx);
        let requests = ctx.into_requests();
        self.apply(requests)
    }

    /// `r`: recompute what the focused pane shows (GEX, the brief), if it can.
    fn refresh(&mut self) -> Vec<Effect> {
        let (handled, effects) =
            self.pane_call(self.focus, |p, ctx| p.on_action(Action::Refresh, ctx));
        if handled == Handled::No {
            self.say_error(format!("nothing to refresh in {}", self.focus.title()));
        }
        effects
    }

    /// A key with no bound action: `y` answers the quit question, anything else is
    /// reported so no key fails silently.
    pub fn unbound_key(&mut self, key: char) -> Vec<Effect> {
        if self.overlay == Some(Overlay::ConfirmQuit) {
            self.overlay = None;
            if key == 'y' || key == 'Y' {
                return vec![Effect::Quit];
            }
            self.say("quit cancelled");
            return vec![];
        }
        if self.overlay == Some(Overlay::Help) {
            return vec![];
        }
        let help = self.keymap.label(Action::Help);
        self.say_error(format!(
            "key {key:?} does nothing here; {help} lists the keys"
        ));
        vec![]
    }
}
