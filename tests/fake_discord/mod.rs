//! A local HTTP server standing in for Discord's webhook endpoint: it records every
//! message body and answers from a script (then 204 No Content, as Discord does).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The token in the webhook URL: a secret that must never show up in logs or errors.
pub const TOKEN: &str = "T0KEN-never-log-me";

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP answer: the status, a JSON body and the extra headers.
    pub fn into_response(self) -> Response {
        let mut response = (
            StatusCode::from_u16(self.status).unwrap(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body,
        )
            .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).unwrap(),
            );
        }
        response
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub webhook_id: String,
    pub token: String,
    pub body: serde_json::Value,
}

impl Received {
    pub fn title(&self) -> &str {
        self.body["embeds"][0]["title"].as_str().unwrap_or_default()
    }

    /// The value of the embed field called `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        self.body["embeds"][0]["fields"]
            .as_array()?
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["value"].as_str().map(str::to_string))
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
    /// The full webhook URL, token included.
    pub url: String,
    pub addr: std::net::SocketAddr,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = FakeDiscord {
            inner: Arc::default(),
            arrived: Arc::new(Notify::new()),
            url: format!("http://{addr}/api/webhooks/1234567890/{TOKEN}"),
            addr,
        };
        let app = Router::new()
            .route("/api/webhooks/{id}/{token}", post(execute))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// The next replies, in order; after them every message gets 204.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits until `n` messages arrived (panics after `limit`), and returns them all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let arrived = self.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {n} messages, got {}: {got:#?}", got.len());
            }
        }
    }
}

async fn execute(
    State(fake): State<FakeDiscord>,
    Path((webhook_id, token)): Path<(String, String)>,
    body: String,
) -> Response {
    let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    let reply = {
        let mut inner = fake.inner.lock().unwrap();
        inner.received.push(Received {
            at: Instant::now(),
            webhook_id,
            token,
            body,
        });
        inner.script.pop_front()
    };
    fake.arrived.notify_waiters();
    match reply {
        Some(reply) => reply.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Everything logged through `tracing` on this thread while the guard lives (use a
/// current-thread runtime so spawned tasks log here too).
///
/// One global subscriber, installed once for the whole test binary, hands each event to
/// the capture installed on the thread that logged it. (A per-thread `set_default`
/// subscriber misses events when other tests of the binary run in parallel: tracing
/// caches each call site's interest and the level hint globally.)
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// The capture events of this thread go to, if any.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Restores the thread's previous capture (normally none) when dropped.
pub struct CaptureGuard(Option<Captured>);

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        CAPTURE.with(|c| *c.borrow_mut() = previous);
    }
}

/// Where the global subscriber writes an event: the logging thread's capture, or nowhere.
struct ThreadSink(Option<Captured>);

impl Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(captured) => captured.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn install(&self) -> CaptureGuard {
        static GLOBAL: OnceLock<bool> = OnceLock::new();
        let installed = *GLOBAL.get_or_init(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadSink(CAPTURE.with(|c| c.borrow().clone())))
                .finish();
            tracing::subscriber::set_global_default(subscriber).is_ok()
        });
        assert!(
            installed,
            "another global tracing subscriber is installed in this test binary: \
             Captured cannot see the logs"
        );
        CaptureGuard(CAPTURE.with(|c| c.borrow_mut().replace(self.clone())))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
