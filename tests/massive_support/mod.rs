//! Local stand-ins for Massive: an HTTP server on 127.0.0.1:0 that serves the shared
//! recorded payloads (laid out by URL: `&` for `?`, `;` for `:`), scripted answers and
//! computed answers; a WebSocket listener; a log capture. Nothing leaves the machine.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

/// `../shared/fixtures/massive`, or `None` with a printed reason (a failure instead when
/// `COACH_REQUIRE_SHARED=1`).
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/massive");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("COACH_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("COACH_REQUIRE_SHARED=1 but {} is missing", dir.display());
    }
    eprintln!("skipping: {} is missing", dir.display());
    None
}

/// `../shared/data`, like `fixtures_dir`.
pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("COACH_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("COACH_REQUIRE_SHARED=1 but {} is missing", dir.display());
    }
    eprintln!("skipping: {} is missing", dir.display());
    None
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path_and_query: String,
    pub authorization: Option<String>,
    /// Every header, names in lower case (Alpaca's keys travel in `apca-api-*` headers).
    pub headers: Vec<(String, String)>,
}

/// A canned answer.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Canned {
    pub fn new(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![],
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Canned {
        self.headers.push((name, value.into()));
        self
    }
}

/// Computes an answer from the path and query, or `None` to fall through.
pub type Dynamic = Arc<dyn Fn(&str) -> Option<Canned> + Send + Sync>;

/// How long the server takes before answering a request (by path and query); the
/// requests waiting meanwhile count as in flight.
pub type Delay = Arc<dyn Fn(&str) -> std::time::Duration + Send + Sync>;

/// Requests that wait until the test opens their gate (by path and query): `None` for
/// those answered at once.
pub type Gate = Arc<dyn Fn(&str) -> Option<tokio::sync::watch::Receiver<bool>> + Send + Sync>;

/// Requests being answered now, and the most there ever were at once.
#[derive(Default)]
pub struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

#[derive(Clone, Default)]
struct State {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Canned>>>,
    fixtures: Option<PathBuf>,
    dynamic: Option<Dynamic>,
    delay: Option<Delay>,
    gate: Option<Gate>,
    in_flight: Arc<InFlight>,
}

/// A running HTTP stand-in.
pub struct HttpServer {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Canned>>>,
    in_flight: Arc<InFlight>,
}

impl HttpServer {
    /// Like `start`, each answer sent after `delay` (a slow server).
    pub async fn start_slow(
        fixtures: Option<PathBuf>,
        dynamic: Option<Dynamic>,
        delay: Delay,
    ) -> HttpServer {
        Self::serve(State {
            fixtures,
            dynamic,
            delay: Some(delay),
            ..State::default()
        })
        .await
    }

    /// Like `start`, each answer held until its gate is open (a history that lands only
    /// when the test says so).
    pub async fn start_gated(dynamic: Option<Dynamic>, gate: Gate) -> HttpServer {
        Self::serve(State {
            dynamic,
            gate: Some(gate),
            ..State::default()
        })
        .await
    }

    /// The most requests that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.in_flight
            .peak
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Serves, in this order: the scripted answers (one per request), the dynamic
    /// handler, the recorded fixture files, else a 404 JSON error.
    pub async fn start(fixtures: Option<PathBuf>, dynamic: Option<Dynamic>) -> HttpServer {
        Self::serve(State {
            fixtures,
            dynamic,
            ..State::default()
        })
        .await
    }

    async fn serve(state: State) -> HttpServer {
        use std::sync::atomic::Ordering;
        let (seen, script) = (state.seen.clone(), state.script.clone());
        let in_flight = state.in_flight.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let state = state.clone();
            async move {
                let now = state.in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
                state.in_flight.peak.fetch_max(now, Ordering::SeqCst);
                let pq = req.uri().path_and_query().map(|p| p.as_str().to_string());
                let pq = pq.unwrap_or_default();
                if let Some(delay) = &state.delay {
                    tokio::time::sleep(delay(&pq)).await;
                }
                if let Some(mut open) = state.gate.as_ref().and_then(|gate| gate(&pq)) {
                    let _ = open.wait_for(|open| *open).await;
                }
                let response = answer(&state, req);
                state.in_flight.now.fetch_sub(1, Ordering::SeqCst);
                response
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HttpServer {
            base,
            seen,
            script,
            in_flight,
        }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Canned>) {
        self.script.lock().unwrap().extend(answers);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn answer(state: &State, req: Request) -> Response {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    state.seen.lock().unwrap().push(Seen {
        path_and_query: path_and_query.clone(),
        authorization,
        headers,
    });
    let canned = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| state.dynamic.as_ref().and_then(|d| d(&path_and_query)))
        .or_else(|| fixture(state.fixtures.as_ref()?, &path_and_query))
        .unwrap_or_else(|| {
            Canned::new(
                404,
                r#"{"status":"NOT_FOUND","request_id":"t","message":"no fixture for this request"}"#,
            )
        });
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() = StatusCode::from_u16(canned.status).unwrap_or(StatusCode::OK);
    let looks_json = response.status().is_success();
    for (name, value) in canned.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    if looks_json && !response.headers().contains_key("content-type") {
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    response
}

/// The recorded file for a request: `rest/<path>&<query>.json`, else `rest/<path>.json`,
/// else `rest/<path>/index.json` (`;` stands for `:` in file names).
fn fixture(dir: &std::path::Path, path_and_query: &str) -> Option<Canned> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = path
        .trim_start_matches('/')
        .replace(':', ";")
        .replace("%3A", ";");
    let rest = dir.join("rest");
    let mut candidates = Vec::new();
    if !query.is_empty() {
        candidates.push(rest.join(format!("{path}&{query}.json")));
    }
    candidates.push(rest.join(format!("{path}.json")));
    candidates.push(rest.join(&path).join("index.json"));
    candidates
        .into_iter()
        .find_map(|file| std::fs::read_to_string(file).ok())
        .map(|body| Canned::new(200, &body))
}

/// Captured log output of the current thread (install with `capture_logs`).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Routes every tracing event of the test binary (all levels) into one shared buffer,
/// installed once as the global subscriber. (A per-thread subscriber misses events when
/// tests run in parallel: tracing caches interest and the level hint globally.) Tests
/// assert on lines only they produce, and that no key appears anywhere.
pub fn capture_logs() -> (LogBuffer, ()) {
    static BUFFER: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    let buffer = BUFFER
        .get_or_init(|| {
            let buffer = LogBuffer::default();
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            buffer
        })
        .clone();
    (buffer, ())
}

/// Starts the Massive feed worker as the supervisor would: named "feed" in a Health of its
/// own (a 1 s heartbeat), stopped by `cancel`. Returns that Health and the worker's task.
pub fn spawn_feed_worker(
    config: coach::provider::massive::feed::MassiveFeedConfig,
    bus: coach::runtime::bus::MarketBus,
    requests: coach::runtime::bus::SnapshotRequests,
    cancel: &tokio_util::sync::CancellationToken,
) -> (
    coach::runtime::health::Health,
    tokio::task::JoinHandle<Result<(), String>>,
) {
    let health = coach::runtime::health::Health::default();
    health.register("feed", std::time::Duration::from_secs(1));
    let ctx = coach::runtime::supervisor::WorkerCtx {
        name: "feed",
        health: health.clone(),
        cancel: cancel.clone(),
    };
    let feed = tokio::spawn(coach::runtime::massive_feed::run_massive_feed(
        ctx, config, bus, requests,
    ));
    (health, feed)
}
