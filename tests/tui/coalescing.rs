//! Prices are coalesced per frame (issue 25 item 6): the real UI loop, drawing into a
//! buffer through the crossterm backend on tokio's paused clock, gets a burst of 1,000
//! prices published on the market bus and draws it as one frame, showing the last one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::Symbol;
use coach::provider::sim::{DEFAULT_SYMBOLS, SimMarket};
use coach::provider::{MarketEvent, Quote};
use coach::runtime::AppEvent;
use coach::runtime::alert_changes::AlertChanges;
use coach::runtime::bus::MarketBus;
use coach::runtime::feed::Playable;
use coach::runtime::gex::GexChannels;
use coach::runtime::health::Health;
use coach::runtime::setup_changes::SetupChanges;
use coach::store::Store;
use coach::tui::actions::{ActionContext, ActionRunner};
use coach::tui::app::{App, Source, Startup};
use coach::tui::event_loop::{self, Exit, Frames, Inputs};
use coach::tui::keymap::Keymap;
use coach::tui::lean_backend::LeanBackend;
use coach::tui::theme::Theme;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use crate::written::Written;

/// 10:30 ET on Tuesday 2026-11-24 (15:30 UTC).
fn market_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
}

/// Frames drawn in `bytes`: each one is a synchronized update.
fn frames(bytes: &[u8]) -> usize {
    bytes.windows(8).filter(|w| w == b"\x1b[?2026h").count()
}

/// The screen `bytes` draw at 120×40.
fn screen(bytes: &[u8]) -> String {
    let mut parser = vt100::Parser::new(40, 120, 0);
    parser.process(bytes);
    parser.screen().contents()
}

/// Polls `done` every millisecond of the paused clock, at most `limit`.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

#[tokio::test]
async fn a_burst_of_1000_prices_draws_one_frame_showing_the_last_price() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/coach.db", home.path().display()))
        .await
        .unwrap();
    let user = store.ensure_user("local", market_time()).await.unwrap();
    // The database is open (its pool's timeouts run on the real clock); from here on
    // the loop's frame deadlines and ticks run on the paused one.
    tokio::time::pause();
    let symbols: Vec<Symbol> = DEFAULT_SYMBOLS
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let spy = Symbol::parse("SPY").unwrap();
    let market = SimMarket::new(42, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let (bus, _requests) = MarketBus::new(4096);
    let market_rx = bus.subscribe();
    let (events_tx, events) = mpsc::channel::<AppEvent>(64);
    let gex = GexChannels::new();
    let (brief_tx, _brief_rx) = mpsc::channel(4);
    let actions = ActionRunner::spawn(ActionContext {
        store: store.clone(),
        user,
        bus: bus.clone(),
        events: events_tx.clone(),
        gex: gex.requests.clone(),
        changes: SetupChanges::default(),
        coach: None,
        patience: Duration::from_secs(1),
        alert_changes: AlertChanges::default(),
        brief: brief_tx,
    });
    let mut app = App::new(Startup::new(
        Keymap::default(),
        Source {
            provider: "massive".into(),
            database: "sqlite".into(),
            user: "local".into(),
        },
        &symbols[..4],
    ));
    app.on_market(&MarketEvent::Snapshot(Arc::new(
        market.snapshot(market_time()),
    )));
    let written = Written::default();
    let mut terminal = Terminal::with_options(
        LeanBackend::new(written.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 120, 40)),
        },
    )
    .unwrap();
    let (keys, key_stream) = futures::channel::mpsc::unbounded::<std::io::Result<Event>>();
    let theme = Theme::from_config("16", false);

    let run = event_loop::run_on(
        Frames {
            terminal: &mut terminal,
            app: &mut app,
            theme: &theme,
            max_fps: 30,
        },
        Inputs {
            market: market_rx,
            bus: bus.clone(),
            actions,
            events,
            gex: gex.subscribe(),
            gex_history: gex.subscribe_history(),
            health: Health::default(),
            focus: tokio::sync::watch::channel(None).0,
        },
        key_stream,
        std::future::pending::<i32>(),
    );
    let burst = async {
        assert!(
            wait_until(Duration::from_secs(1), || frames(&written.bytes()) >= 1).await,
            "the first frame"
        );
        let before = written.bytes().len();
        // 1,000 prices in a row, as a flood of WebSocket frames would publish them:
        // 500.00, 500.01, … 509.99.
        for i in 0..1000_u32 {
            let at = market_time() + chrono::Duration::milliseconds(i64::from(i) + 1);
            bus.publish(MarketEvent::Step {
                at,
                quotes: vec![Quote {
                    symbol: spy.clone(),
                    price: 500.0 + f64::from(i) / 100.0,
                    at,
                }],
                bars: vec![],
            });
        }
        // Well inside the 1 s tick, so only the burst owes a frame.
        let shown = wait_until(Duration::from_millis(500), || {
            screen(&written.bytes()).contains("509.99")
        })
        .await;
        let after = written.bytes()[before..].to_vec();
        keys.unbounded_send(Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        ))))
        .unwrap();
        (shown, after)
    };
    let (exit, (shown, after)) = tokio::join!(run, burst);
    assert_eq!(exit.unwrap(), Exit::Quit);
    assert!(
        shown,
        "the last price is on screen:\n{}",
        screen(&written.bytes())
    );
    assert_eq!(frames(&after), 1, "the burst drew one frame");
    let text = String::from_utf8_lossy(&after);
    for earlier in ["500.00", "505.00", "509.98"] {
        assert!(!text.contains(earlier), "{earlier} was never drawn");
    }
}
