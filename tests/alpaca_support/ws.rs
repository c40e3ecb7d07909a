//! A local stand-in for Alpaca's market data stream at `ws://127.0.0.1:port`, speaking the
//! documented protocol: `connected`, auth with both keys (402 otherwise), one subscribe
//! answered with a `subscription`; then the script's frames, and on a connection left
//! open, live `subscribe` / `unsubscribe` messages applied to the connection's trade set
//! (more than 30 trade symbols: `405 symbol limit exceeded`, as the free plan answers).
//! Trades are sent only for subscribed symbols: one per symbol with a scripted price, when
//! its subscription starts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use coach::provider::alpaca::stream::{MAX_TRADE_SYMBOLS, StreamTimings};
use coach::provider::alpaca::{AlpacaConnection, Feed, Secret};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::{KEY_ID, SECRET_KEY};

/// What one connection of the stand-in does after the handshake: frames to send, then
/// whether to drop the connection (else it stays open and takes subscription changes).
#[derive(Clone, Default)]
pub struct Script {
    /// Sent instead of `authenticated` (e.g. a 402 error), ending the connection.
    pub auth_answer: Option<Value>,
    /// Sent instead of the subscription answer.
    pub subscribe_answer: Option<Value>,
    pub frames: Vec<Value>,
    pub drop_after: bool,
    /// A trade (`t`) at this price, at `trades_at`, for each of these symbols when its
    /// trade subscription starts on this connection (at the handshake or later).
    pub trade_prices: BTreeMap<String, f64>,
    pub trades_at: Option<DateTime<Utc>>,
    /// Drop the connection after this many live subscription changes.
    pub drop_after_changes: Option<usize>,
}

/// The stand-in: connections counted, every client message recorded with the number of
/// its connection (from 1).
pub struct WsServer {
    pub base: String,
    pub connections: Arc<AtomicUsize>,
    pub received: Arc<Mutex<Vec<(usize, Value)>>>,
}

impl WsServer {
    /// The client's messages on connection `n` (from 1).
    pub fn received_on(&self, n: usize) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == n)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The client's next text message, recorded.
async fn read(ws: &mut Ws, n: usize, seen: &Mutex<Vec<(usize, Value)>>) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).ok()?;
                seen.lock().unwrap().push((n, v.clone()));
                return Some(v);
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn send(v: Value) -> Message {
    Message::text(json!([v]).to_string())
}

/// Each accepted connection plays the next script (the last one repeats).
pub async fn ws_server(scripts: Vec<Script>) -> WsServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("ws://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (connections.clone(), received.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let script = scripts[n.min(scripts.len() - 1)].clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                    play(ws, n + 1, script, &seen).await;
                }
            });
        }
    });
    WsServer {
        base,
        connections,
        received,
    }
}

/// One connection of the stand-in.
async fn play(mut ws: Ws, n: usize, script: Script, seen: &Mutex<Vec<(usize, Value)>>) {
    let _ = ws
        .send(send(json!({"T":"success","msg":"connected"})))
        .await;
    let Some(auth) = read(&mut ws, n, seen).await else {
        return;
    };
    let keys_ok = auth["key"] == KEY_ID && auth["secret"] == SECRET_KEY;
    let answer = match (&script.auth_answer, keys_ok) {
        (Some(a), _) => a.clone(),
        (None, false) => json!({"T":"error","code":402,"msg":"auth failed"}),
        (None, true) => json!({"T":"success","msg":"authenticated"}),
    };
    let _ = ws.send(send(answer.clone())).await;
    if answer["T"] == "error" {
        return;
    }
    let Some(sub) = read(&mut ws, n, seen).await else {
        return;
    };
    let answer = script.subscribe_answer.clone().unwrap_or_else(
        || json!({"T":"subscription","trades":sub["trades"],"quotes":[],"bars":sub["bars"]}),
    );
    let _ = ws.send(send(answer.clone())).await;
    if answer["T"] == "error" {
        return;
    }
    let mut trades: BTreeSet<String> = names(&sub, "trades").into_iter().collect();
    send_trades(&mut ws, &script, &trades).await;
    for frame in &script.frames {
        let _ = ws.send(send(frame.clone())).await;
    }
    if script.drop_after {
        return;
    }
    let mut changes = 0;
    while let Some(message) = read(&mut ws, n, seen).await {
        let started: BTreeSet<String> = match message["action"].as_str() {
            Some("subscribe") => names(&message, "trades")
                .into_iter()
                .filter(|s| trades.insert(s.clone()))
                .collect(),
            Some("unsubscribe") => {
                for s in names(&message, "trades") {
                    trades.remove(&s);
                }
                BTreeSet::new()
            }
            _ => continue,
        };
        if trades.len() > MAX_TRADE_SYMBOLS {
            let limit = json!({"T":"error","code":405,"msg":"symbol limit exceeded"});
            let _ = ws.send(send(limit)).await;
            return;
        }
        let answer = json!({"T":"subscription","trades":trades,"quotes":[],"bars":sub["bars"]});
        let _ = ws.send(send(answer)).await;
        send_trades(&mut ws, &script, &started).await;
        changes += 1;
        if script.drop_after_changes == Some(changes) {
            return;
        }
    }
}

/// The script's trade of each symbol in `symbols` that has a price.
async fn send_trades(ws: &mut Ws, script: &Script, symbols: &BTreeSet<String>) {
    let at = script.trades_at.unwrap_or_else(Utc::now).to_rfc3339();
    for (symbol, price) in &script.trade_prices {
        if symbols.contains(symbol) {
            let trade = json!({"T":"t","S":symbol,"i":1,"x":"V","p":price,"s":100,
                "c":["@"],"t":at,"z":"C"});
            let _ = ws.send(send(trade)).await;
        }
    }
}

/// A connection to the stand-ins with the test keys on the free IEX feed.
pub fn connection(data_url: &str, stream_url: &str) -> AlpacaConnection {
    AlpacaConnection {
        data_url: data_url.into(),
        stream_url: stream_url.into(),
        trading_url: data_url.into(),
        feed: Feed::Iex,
        key_id: Secret::new(KEY_ID),
        secret_key: Secret::new(SECRET_KEY),
    }
}

/// Protocol timings with a reconnect backoff of milliseconds.
pub fn fast_timings() -> StreamTimings {
    StreamTimings {
        ping_every: Duration::from_secs(25),
        read_deadline: Duration::from_secs(30),
        handshake_timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        connection_limit_backoff: Duration::from_secs(60),
    }
}
