//! A local HTTP server standing in for an alert channel (ntfy, a JSON webhook, Slack,
//! Telegram's Bot API): it records every POST (path, headers, body) and answers from a
//! script (the Discord stand-in's [`Reply`]; then 200 `{"ok":true}`).
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tokio::sync::Notify;
use tokio::time::Instant;

/// A token in every channel URL: it must never show up in logs, errors or /metrics.
pub const TOKEN: &str = "chan-T0KEN-never-log-me";

pub use crate::fake_discord::Reply;

#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct FakeChannel {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
    pub addr: std::net::SocketAddr,
}

impl FakeChannel {
    pub async fn start() -> FakeChannel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = FakeChannel {
            inner: Arc::default(),
            arrived: Arc::new(Notify::new()),
            addr,
        };
        let app = Router::new().fallback(record).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next replies, in order; after them every request gets 200.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits until `n` requests arrived (panics after `limit`), and returns them all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let arrived = self.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {n} requests, got {}: {got:#?}", got.len());
            }
        }
    }
}

async fn record(
    State(fake): State<FakeChannel>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let reply = {
        let mut inner = fake.inner.lock().unwrap();
        inner.received.push(Received {
            at: Instant::now(),
            path: uri.path().to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        });
        inner.script.pop_front()
    };
    fake.arrived.notify_waiters();
    reply
        .unwrap_or_else(|| Reply::status(200, r#"{"ok":true}"#))
        .into_response()
}
