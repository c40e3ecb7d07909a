//! `coach --provider alpaca` in a pseudo-terminal against the local Alpaca stand-ins (REST
//! and the stream): the header says `alpaca IEX`, a live trade is the focused symbol's
//! price, and focusing a watched symbol outside the free plan's 30 trade symbols (`/S35`)
//! subscribes its trades on the live connection, one other's freed first, so its trade
//! price shows too.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::alpaca_support::ws::{Script, ws_server};
use crate::alpaca_support::{HttpServer, KEY_ID, SECRET_KEY, market};
use crate::support::pty::Tui;
use serde_json::Value;

#[test]
fn the_alpaca_dashboard_shows_the_trades_of_a_focused_35th_symbol() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let prices: BTreeMap<String, f64> = [("S01".to_string(), 101.5), ("S35".to_string(), 123.45)]
        .into_iter()
        .collect();
    let (rest, ws) = runtime.block_on(async {
        let ws = ws_server(vec![Script {
            trade_prices: prices,
            ..Script::default()
        }])
        .await;
        // A market without bars: the prices come from the stream's trades.
        let rest = HttpServer::start(None, Some(market(BTreeMap::new(), 150))).await;
        (rest, ws)
    });

    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/coach.db", home.path().display());
    let watchlist: Vec<String> = (1..=35).map(|i| format!("S{i:02}")).collect();
    let mut set = vec!["--db", db.as_str(), "watchlist", "set"];
    set.extend(watchlist.iter().map(String::as_str));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(&set)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("COACH_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "watchlist set: {out:?}");

    let mut app = Tui::start_with_env(
        home,
        &["--db", db.as_str(), "--provider", "alpaca"],
        120,
        40,
        &[
            ("COACH_ALPACA_DATA_URL", rest.base.as_str()),
            ("COACH_ALPACA_TRADING_URL", rest.base.as_str()),
            ("COACH_ALPACA_STREAM_URL", ws.base.as_str()),
            ("APCA_API_KEY_ID", KEY_ID),
            ("APCA_API_SECRET_KEY", SECRET_KEY),
        ],
    );
    let screen = app.wait_for("◆ S01 101.5", Duration::from_secs(20));
    assert!(
        screen.contains("alpaca IEX"),
        "the header says IEX:\n{screen}"
    );
    assert!(!screen.contains(SECRET_KEY) && !screen.contains(KEY_ID));

    app.press("/");
    app.press("S35\r");
    app.wait_for("◆ S35 123.45", Duration::from_secs(20));
    app.quit();

    let messages = ws.received_on(1);
    let trades = |v: &Value| -> Vec<String> {
        v["trades"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        messages.len(),
        4,
        "auth, subscribe, then the focus change: {messages:?}"
    );
    assert_eq!(
        trades(&messages[1]).len(),
        30,
        "the free plan's 30 trade symbols"
    );
    assert!(!trades(&messages[1]).contains(&"S35".to_string()));
    assert_eq!(messages[2]["action"], "unsubscribe");
    let freed = trades(&messages[2]);
    assert_eq!(freed.len(), 1, "one trade slot freed: {freed:?}");
    assert!(trades(&messages[1]).contains(&freed[0]));
    assert_eq!(messages[3]["action"], "subscribe");
    assert_eq!(trades(&messages[3]), vec!["S35".to_string()]);
    drop(runtime);
}
