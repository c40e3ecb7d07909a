//! The UI loop: one `select!` over terminal input, market events, health changes,
//! signals, a 1 Hz tick, the status message's fade (one wake-up at its deadline) and
//! the render deadline. A frame is owed when a handler says
//! what it showed changed (every key press, a resize, the tick, or an event handler's
//! `true`), and drawn at most `max_fps` times a second.
//!
//! Prices are coalesced per frame: the market mailbox merges the steps not yet read
//! (latest price per symbol, every bar), and ready events are handled before a frame is
//! drawn, so a burst draws once, with its last price. The first price after a quiet spell
//! draws at once (the frame deadline is already past); within a busy spell a frame waits
//! at most one frame interval (1 / `max_fps`) after the previous one.

use std::future::Future;
use std::io::{self, Write};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use super::lean_backend::LeanBackend;
use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::actions::ActionRunner;
use super::app::{App, Effect, STATUS_FADE};
use super::terminal::{self, Term};
use super::theme::Theme;
use super::view;
use crate::domain::Symbol;
use crate::provider::{MarketEvent, MarketSnapshot};
use crate::runtime::AppEvent;
use crate::runtime::bus::{MarketBus, MarketReceiver};
use crate::runtime::gex::{GexBoard, GexHistoryBoard};
use crate::runtime::health::Health;

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// SIGTERM, SIGINT (an external `kill -INT`: in raw mode Ctrl-C is a key), SIGHUP or
    /// SIGQUIT, with its number.
    Signal(i32),
    /// The terminal went away: input closed or failed, or a write answered that the
    /// terminal is gone (a closed pseudo-terminal, as after an SSH drop).
    TerminalGone,
}

pub struct Inputs {
    pub market: MarketReceiver,
    /// Where `market` comes from: asked for a snapshot when the screen fell behind it.
    pub bus: MarketBus,
    pub actions: ActionRunner,
    pub events: mpsc::Receiver<AppEvent>,
    pub gex: watch::Receiver<GexBoard>,
    /// Today's GEX history per symbol (the GEX pane's sparklines, the Chart's flip path).
    pub gex_history: watch::Receiver<GexHistoryBoard>,
    pub health: Health,
    /// Where the focused symbol goes when it changes (the Alpaca feed follows its trades).
    pub focus: watch::Sender<Option<Symbol>>,
}

/// The dashboard's loop on the real terminal: keys from the terminal, and SIGTERM,
/// SIGINT, SIGHUP and SIGQUIT end it.
pub async fn run(
    terminal: &mut Term,
    app: &mut App,
    theme: &Theme,
    max_fps: u32,
    inputs: Inputs,
) -> io::Result<Exit> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut quit = signal(SignalKind::quit())?;
    let signals = async move {
        tokio::select! {
            biased;
            _ = term.recv() => 15,
            _ = interrupt.recv() => 2,
            _ = hangup.recv() => 1,
            _ = quit.recv() => 3,
        }
    };
    let frames = Frames {
        terminal,
        app,
        theme,
        max_fps,
    };
    run_on(frames, inputs, EventStream::new(), signals).await
}

/// What the loop draws, on what, and how often.
pub struct Frames<'a, W: Write> {
    pub terminal: &'a mut Terminal<LeanBackend<W>>,
    pub app: &'a mut App,
    pub theme: &'a Theme,
    pub max_fps: u32,
}

/// The loop itself over any terminal writer, key source and exit signal (`signal`
/// resolves to the number of the signal that ends it): the real terminal's in `run`,
/// a buffer and a channel in tests.
pub async fn run_on<W: Write>(
    frames: Frames<'_, W>,
    mut inputs: Inputs,
    mut events: impl Stream<Item = io::Result<Event>> + Unpin,
    signal: impl Future<Output = i32>,
) -> io::Result<Exit> {
    let Frames {
        terminal,
        app,
        theme,
        max_fps,
    } = frames;
    let mut signal = pin!(signal);
    let frame_interval = Duration::from_secs_f64(1.0 / f64::from(max_fps.max(1)));
    let mut health_changed = inputs.health.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last_frame = Instant::now() - frame_interval;
    let in_tmux = crate::notify::desktop::in_tmux(std::env::var_os("TMUX").as_deref());
    // A closed source never reopens; its branch is switched off instead of spinning.
    let (mut market_open, mut gex_open, mut history_open) = (true, true, true);
    // A frame is owed (the first one always is).
    let mut redraw = true;
    // The status message last seen, and when it fades (one wake-up, no ticking).
    let mut seen_status = app.status_seq();
    let mut fade: Option<(Instant, u64)> = None;
    // The snapshot asked for after the screen fell behind the market.
    let mut resync: Option<BoxFuture<'static, Option<Arc<MarketSnapshot>>>> = None;

    loop {
        publish_focus(app, &inputs.focus);
        if app.status_seq() != seen_status {
            seen_status = app.status_seq();
            fade = match app.status() {
                Some(s) if !s.is_error => Some((Instant::now() + STATUS_FADE, seen_status)),
                _ => None,
            };
        }
        let next_frame = last_frame + frame_interval;
        let fade_at = fade.map_or(next_frame, |(at, _)| at);
        tokio::select! {
            biased;
            number = &mut signal => return Ok(Exit::Signal(number)),
            input = events.next() => match input {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    // Every key shows something: a move, a popup, or the status line's
                    // word on an unbound key.
                    redraw = true;
                    for effect in app.on_key(&key) {
                        match effect {
                            Effect::Quit => return Ok(Exit::Quit),
                            Effect::FullRedraw => {
                                if let Err(e) = terminal::force_full_redraw(terminal) {
                                    return write_failed(e);
                                }
                            }
                            store_write => inputs.actions.submit(store_write).await,
                        }
                    }
                }
                Some(Ok(Event::Resize(_, _))) => redraw = true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ok(Exit::TerminalGone),
            },
            event = inputs.market.recv(), if market_open => match event {
                Ok(event) => redraw |= app.on_market(&event),
                Err(RecvError::Lagged(n)) => {
                    // Its bars were dropped: start again from the feed's snapshot.
                    tracing::warn!("the screen fell {n} market events behind; reloading the market");
                    let bus = inputs.bus.clone();
                    resync = Some(Box::pin(async move { bus.snapshot().await }));
                }
                Err(RecvError::Closed) => {
                    app.say_error("the market feed stopped; see Health");
                    redraw = true;
                    // Keep the UI alive; a closed bus never reopens, so stop polling it.
                    market_open = false;
                }
            },
            snapshot = resynced(&mut resync), if resync.is_some() => {
                resync = None;
                if let Some(snapshot) = snapshot {
                    redraw |= app.on_market(&MarketEvent::Snapshot(snapshot));
                }
            }
            Some(event) = inputs.events.recv() => redraw |= app.on_event(event),
            changed = inputs.gex.changed(), if gex_open => {
                if changed.is_ok() {
                    redraw |= app.on_gex(inputs.gex.borrow_and_update().clone());
                } else {
                    gex_open = false;
                }
            }
            changed = inputs.gex_history.changed(), if history_open => {
                if changed.is_ok() {
                    redraw |= app.on_gex_history(inputs.gex_history.borrow_and_update().clone());
                } else {
                    history_open = false;
                }
            }
            changed = health_changed.changed() => {
                if changed.is_ok() {
                    redraw |= app.on_health(inputs.health.snapshot());
                }
            }
            _ = tick.tick() => {
                // Ages in Health, freshness and the log pane move with the wall clock;
                // the diff sends only the cells that changed.
                tui_logger::move_events();
                redraw = true;
            }
            _ = tokio::time::sleep_until(fade_at), if fade.is_some() => {
                if let Some((_, seq)) = fade.take() {
                    redraw |= app.fade_status(seq);
                }
            }
            _ = tokio::time::sleep_until(next_frame), if redraw => {
                if app.take_bell()
                    && let Err(e) = terminal::bell(terminal)
                {
                    return write_failed(e);
                }
                let notes = app.take_desktop();
                if !notes.is_empty()
                    && let Err(e) = terminal::desktop_notifications(terminal, &notes, in_tmux)
                {
                    return write_failed(e);
                }
                if let Err(e) =
                    terminal::draw_synchronized(terminal, |f| view::draw(f, app, theme, Utc::now()))
                {
                    return write_failed(e);
                }
                redraw = false;
                last_frame = Instant::now();
            }
        }
    }
}

/// Publishes the app's focused symbol when it differs from the last one published
/// (receivers wake only on a change).
pub fn publish_focus(app: &App, focus: &watch::Sender<Option<Symbol>>) {
    focus.send_if_modified(|published| {
        let now = app.focus_symbol();
        if published.as_ref() == now {
            return false;
        }
        *published = now.cloned();
        true
    });
}

/// The snapshot asked for after a lag; never ready when none was asked for.
async fn resynced(
    resync: &mut Option<BoxFuture<'static, Option<Arc<MarketSnapshot>>>>,
) -> Option<Arc<MarketSnapshot>> {
    match resync {
        Some(snapshot) => snapshot.await,
        None => std::future::pending().await,
    }
}

/// A failed write to the terminal: the way out when the terminal is gone, an error otherwise.
fn write_failed(error: io::Error) -> io::Result<Exit> {
    if terminal::is_gone(&error) {
        Ok(Exit::TerminalGone)
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::test_support::{empty_app, symbol};

    #[test]
    fn the_focus_reaches_the_feed_once_per_change() {
        let mut app = empty_app();
        let (tx, mut rx) = watch::channel(None);
        publish_focus(&app, &tx);
        assert!(rx.has_changed().unwrap(), "the first focus is news");
        assert_eq!(*rx.borrow_and_update(), Some(symbol("SPX")));
        publish_focus(&app, &tx);
        assert!(!rx.has_changed().unwrap(), "the same focus wakes nobody");
        app.show_symbol(symbol("QQQ"));
        publish_focus(&app, &tx);
        assert_eq!(*rx.borrow_and_update(), Some(symbol("QQQ")));
    }
}
