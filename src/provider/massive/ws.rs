//! The Massive WebSocket stream (market-data.md §2): one connection per cluster
//! (`/stocks`, `/indices`), the handshake (`connected` → auth → `auth_success` → one
//! subscribe message with every param), pings every 25 s and a 30 s read deadline,
//! reconnect with exponential backoff and full jitter, and the same subscriptions again.
//!
//! A reader task reads the socket as fast as it can into a bounded channel; the parser
//! takes frames from there. When the consumer is slow the channel fills and the reader
//! drops frames instead of stalling the socket (which would get us disconnected as a
//! `slow_consumer`); the drop is reported as [`StreamEvent::Overflow`] so the feed can
//! backfill the minutes over REST. `auth_failed` is fatal; `max_connections` and
//! `force_disconnect` (another session took the connection) back off at least 60 s and
//! end the stream after a few evictions in a row, so two instances never ping-pong.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rand::RngExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::wire::{self, StreamMessage};
use super::{MassiveError, Secret};

/// A Massive stream cluster; indices (`I:SPX`, `V` values) have their own socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cluster {
    Stocks,
    Indices,
}

impl Cluster {
    pub fn path(self) -> &'static str {
        match self {
            Cluster::Stocks => "stocks",
            Cluster::Indices => "indices",
        }
    }
}

/// The stream's URL and timings. Defaults are the protocol's; tests shorten them.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// The WebSocket base (`wss://socket.massive.com`); the cluster path is appended.
    pub base_url: String,
    pub key: Secret,
    pub ping_every: Duration,
    /// No frame (or pong) for this long: the socket is dead.
    pub read_deadline: Duration,
    /// Connect plus handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Reconnect backoff: full jitter below `min(backoff_max, backoff_base · 2^n)`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Wait after an eviction (`max_connections`, `force_disconnect`); at least 60 s live.
    pub eviction_backoff: Duration,
    /// Evictions in a row after which the stream gives up.
    pub max_evictions: u32,
    /// Frames held between the socket reader and the parser.
    pub frame_buffer: usize,
}

impl StreamConfig {
    pub fn new(base_url: &str, key: Secret) -> StreamConfig {
        StreamConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            ping_every: Duration::from_secs(25),
            read_deadline: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(15),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            eviction_backoff: Duration::from_secs(60),
            max_evictions: 5,
            frame_buffer: 4096,
        }
    }

    pub fn url(&self, cluster: Cluster) -> String {
        format!("{}/{}", self.base_url, cluster.path())
    }
}

/// Changes to the subscriptions, e.g. `Subscribe(vec!["AM.SPY".into()])`.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamCommand {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
}

/// What the stream tells its consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// Authenticated and subscribed; `connection` counts from 1. Anything after a
    /// `Down` may have been missed: backfill.
    Live { connection: u64 },
    /// The connection ended; the next attempt starts in `retry_in`.
    Down { reason: String, retry_in: Duration },
    /// A usable event (aggregate or index value), in stream order.
    Message(StreamMessage),
    /// The parser fell behind and `dropped` frames were discarded: backfill.
    Overflow { dropped: u64 },
}

/// A running stream: send commands here; it stops on cancellation.
pub struct StreamHandle {
    pub commands: mpsc::Sender<StreamCommand>,
    /// Ends with `Err` on a fatal condition (bad key, repeated evictions).
    pub task: JoinHandle<Result<(), MassiveError>>,
}

/// Counters of one stream, shared with whoever wants to show them.
#[derive(Debug, Default)]
pub struct StreamStats {
    pub frames: AtomicU64,
    pub unknown: AtomicU64,
    pub malformed: AtomicU64,
    pub dropped: AtomicU64,
    pub reconnects: AtomicU64,
}

/// Starts the stream of `cluster` with the `initial` subscription params.
pub fn spawn_stream(
    config: StreamConfig,
    cluster: Cluster,
    initial: Vec<String>,
    events: mpsc::Sender<(Cluster, StreamEvent)>,
    stats: Arc<StreamStats>,
    cancel: CancellationToken,
) -> StreamHandle {
    let (commands, commands_rx) = mpsc::channel(64);
    let task = tokio::spawn(run_stream(
        config,
        cluster,
        initial.into_iter().collect(),
        events,
        commands_rx,
        stats,
        cancel,
    ));
    StreamHandle { commands, task }
}

/// How one connection ended.
enum Ended {
    Cancelled,
    ConsumerGone,
    Fatal(MassiveError),
    Dropped {
        reason: String,
        was_live: bool,
        evicted: bool,
    },
}

struct Ctx<'a> {
    config: &'a StreamConfig,
    cluster: Cluster,
    events: &'a mpsc::Sender<(Cluster, StreamEvent)>,
    commands: &'a mut mpsc::Receiver<StreamCommand>,
    /// False once every command sender is gone (the subscriptions then stay as they are).
    commands_open: &'a mut bool,
    desired: &'a mut BTreeSet<String>,
    stats: &'a StreamStats,
    cancel: &'a CancellationToken,
}

async fn run_stream(
    config: StreamConfig,
    cluster: Cluster,
    mut desired: BTreeSet<String>,
    events: mpsc::Sender<(Cluster, StreamEvent)>,
    mut commands: mpsc::Receiver<StreamCommand>,
    stats: Arc<StreamStats>,
    cancel: CancellationToken,
) -> Result<(), MassiveError> {
    let mut failures: u32 = 0;
    let mut evictions: u32 = 0;
    let mut connection: u64 = 0;
    let mut commands_open = true;
    loop {
        connection += 1;
        let ended = {
            let mut ctx = Ctx {
                config: &config,
                cluster,
                events: &events,
                commands: &mut commands,
                commands_open: &mut commands_open,
                desired: &mut desired,
                stats: &stats,
                cancel: &cancel,
            };
            connect_once(&mut ctx, connection).await
        };
        let (reason, delay) = match ended {
            Ended::Cancelled | Ended::ConsumerGone => return Ok(()),
            Ended::Fatal(e) => return Err(e),
            Ended::Dropped {
                reason,
                was_live,
                evicted,
            } => {
                if evicted {
                    evictions += 1;
                    if evictions >= config.max_evictions {
                        return Err(MassiveError::Evicted(evictions, reason));
                    }
                    (reason, config.eviction_backoff)
                } else {
                    if was_live {
                        failures = 0;
                        evictions = 0;
                    }
                    failures += 1;
                    (reason, full_jitter(&config, failures))
                }
            }
        };
        stats.reconnects.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "Massive {} stream down: {reason}; reconnecting in {:.1} s",
            cluster.path(),
            delay.as_secs_f64()
        );
        let down = StreamEvent::Down {
            reason,
            retry_in: delay,
        };
        if events.send((cluster, down)).await.is_err() {
            return Ok(());
        }
        let wake = tokio::time::sleep(delay);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                _ = cancel.cancelled() => return Ok(()),
                command = commands.recv(), if commands_open => match command {
                    Some(c) => apply(&mut desired, &c),
                    None => commands_open = false,
                },
            }
        }
    }
}

/// A random delay in `0 ..= min(max, base · 2^(failures−1))`.
fn full_jitter(config: &StreamConfig, failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    let ceiling = config
        .backoff_base
        .saturating_mul(factor)
        .min(config.backoff_max);
    let nanos = ceiling.as_nanos().min(u128::from(u64::MAX)) as u64;
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

fn apply(desired: &mut BTreeSet<String>, command: &StreamCommand) {
    match command {
        StreamCommand::Subscribe(params) => desired.extend(params.iter().cloned()),
        StreamCommand::Unsubscribe(params) => {
            for p in params {
                desired.remove(p);
            }
        }
    }
}

fn action(action: &str, params: &str) -> Message {
    Message::text(serde_json::json!({ "action": action, "params": params }).to_string())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads frames until one holds a status; returns the statuses of that frame.
async fn next_statuses(socket: &mut Socket) -> Result<Vec<(String, String)>, String> {
    loop {
        let message = match socket.next().await {
            Some(Ok(m)) => m,
            Some(Err(e)) => return Err(format!("read failed: {e}")),
            None => return Err("the server closed the connection".into()),
        };
        let text = match message {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(frame) => return Err(close_reason(frame)),
            _ => continue,
        };
        let statuses: Vec<(String, String)> = wire::parse_frame(&text)
            .messages
            .into_iter()
            .filter_map(|m| match m {
                StreamMessage::Status { status, message } => Some((status, message)),
                _ => None,
            })
            .collect();
        if !statuses.is_empty() {
            return Ok(statuses);
        }
    }
}

fn close_reason(frame: Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match frame {
        Some(f) => format!(
            "the server closed the connection (code {}: {})",
            u16::from(f.code),
            crate::text::printable(&f.reason)
        ),
        None => "the server closed the connection".into(),
    }
}

fn is_eviction(status: &str) -> bool {
    matches!(status, "max_connections" | "force_disconnect")
}

/// Connects, authenticates and subscribes; `Ok(socket)` when live.
async fn handshake(ctx: &mut Ctx<'_>) -> Result<Socket, Ended> {
    let url = ctx.config.url(ctx.cluster);
    let dropped = |reason: String| Ended::Dropped {
        reason,
        was_live: false,
        evicted: false,
    };
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| dropped(format!("cannot connect to {url}: {e}")))?;
    // 1. connected
    let statuses = next_statuses(&mut socket).await.map_err(dropped)?;
    if !statuses
        .iter()
        .any(|(s, _)| s == "connected" || s == "success")
    {
        return Err(status_failure(&statuses, "connected"));
    }
    // 2. auth
    socket
        .send(action("auth", ctx.config.key.expose()))
        .await
        .map_err(|e| dropped(format!("sending auth failed: {e}")))?;
    loop {
        let statuses = next_statuses(&mut socket).await.map_err(dropped)?;
        if statuses.iter().any(|(s, _)| s == "auth_success") {
            break;
        }
        if let Some((_, message)) = statuses.iter().find(|(s, _)| s == "auth_failed") {
            return Err(Ended::Fatal(MassiveError::AuthFailed(
                ctx.config.key.redact_in(message),
            )));
        }
        if statuses
            .iter()
            .any(|(s, _)| s.starts_with("auth_") || is_eviction(s) || s == "error")
        {
            return Err(status_failure(&statuses, "auth_success"));
        }
    }
    // 3. every subscription in one message
    if !ctx.desired.is_empty() {
        let params = ctx.desired.iter().cloned().collect::<Vec<_>>().join(",");
        socket
            .send(action("subscribe", &params))
            .await
            .map_err(|e| dropped(format!("sending subscribe failed: {e}")))?;
    }
    Ok(socket)
}

fn status_failure(statuses: &[(String, String)], expected: &str) -> Ended {
    let evicted = statuses.iter().any(|(s, _)| is_eviction(s));
    let (status, message) = statuses.first().cloned().unwrap_or_default();
    Ended::Dropped {
        reason: format!("expected {expected}, got {status}: {message}"),
        was_live: false,
        evicted,
    }
}

/// What the reader hands the parser.
enum Read {
    Frame(String),
    End(String),
}

async fn connect_once(ctx: &mut Ctx<'_>, connection: u64) -> Ended {
    let handshake_timeout = ctx.config.handshake_timeout;
    let cancel = ctx.cancel;
    let socket = tokio::select! {
        r = tokio::time::timeout(handshake_timeout, handshake(ctx)) => match r {
            Ok(Ok(socket)) => socket,
            Ok(Err(ended)) => return ended,
            Err(_) => return Ended::Dropped {
                reason: format!("no handshake within {} s", handshake_timeout.as_secs()),
                was_live: false,
                evicted: false,
            },
        },
        _ = cancel.cancelled() => return Ended::Cancelled,
    };
    if ctx
        .events
        .send((ctx.cluster, StreamEvent::Live { connection }))
        .await
        .is_err()
    {
        return Ended::ConsumerGone;
    }
    tracing::info!(
        "Massive {} stream live ({} subscriptions)",
        ctx.cluster.path(),
        ctx.desired.len()
    );
    let (mut sink, stream) = socket.split();
    let (frames_tx, mut frames) = mpsc::channel::<Read>(ctx.config.frame_buffer.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn(read_socket(
        stream,
        frames_tx,
        dropped.clone(),
        ctx.config.read_deadline,
    ));
    let _abort_reader = AbortOnDrop(reader);
    let mut ping = tokio::time::interval(ctx.config.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let live_drop = |reason: String, evicted: bool| Ended::Dropped {
        reason,
        was_live: true,
        evicted,
    };
    loop {
        tokio::select! {
            read = frames.recv() => {
                let text = match read {
                    Some(Read::Frame(text)) => text,
                    Some(Read::End(reason)) => return live_drop(reason, false),
                    None => return live_drop("the reader stopped".into(), false),
                };
                if let Some(ended) = report_overflow(ctx, &dropped).await {
                    return ended;
                }
                ctx.stats.frames.fetch_add(1, Ordering::Relaxed);
                let parsed = wire::parse_frame(&text);
                ctx.stats.unknown.fetch_add(parsed.unknown as u64, Ordering::Relaxed);
                ctx.stats.malformed.fetch_add(parsed.malformed as u64, Ordering::Relaxed);
                if parsed.malformed > 0 {
                    tracing::debug!(
                        "Massive {} stream: {} malformed elements skipped",
                        ctx.cluster.path(),
                        parsed.malformed
                    );
                }
                for message in parsed.messages {
                    if let StreamMessage::Status { status, message } = &message {
                        match status.as_str() {
                            "auth_failed" => {
                                return Ended::Fatal(MassiveError::AuthFailed(
                                    ctx.config.key.redact_in(message),
                                ));
                            }
                            s if is_eviction(s) => {
                                return live_drop(format!("{s}: {message}"), true);
                            }
                            "slow_consumer" => {
                                return live_drop(format!("slow_consumer: {message}"), false);
                            }
                            _ => {
                                tracing::debug!(
                                    "Massive {} stream status {status}: {message}",
                                    ctx.cluster.path()
                                );
                                continue;
                            }
                        }
                    }
                    if ctx.events.send((ctx.cluster, StreamEvent::Message(message))).await.is_err() {
                        return Ended::ConsumerGone;
                    }
                }
            }
            _ = ping.tick() => {
                if let Some(ended) = report_overflow(ctx, &dropped).await {
                    return ended;
                }
                if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                    return live_drop(format!("ping failed: {e}"), false);
                }
            }
            command = ctx.commands.recv(), if *ctx.commands_open => {
                let Some(command) = command else {
                    *ctx.commands_open = false;
                    continue;
                };
                apply(ctx.desired, &command);
                let (verb, params) = match &command {
                    StreamCommand::Subscribe(p) => ("subscribe", p),
                    StreamCommand::Unsubscribe(p) => ("unsubscribe", p),
                };
                if !params.is_empty()
                    && let Err(e) = sink.send(action(verb, &params.join(","))).await
                {
                    return live_drop(format!("sending {verb} failed: {e}"), false);
                }
            }
            _ = ctx.cancel.cancelled() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ended::Cancelled;
            }
        }
    }
}

async fn report_overflow(ctx: &Ctx<'_>, dropped: &AtomicU64) -> Option<Ended> {
    let n = dropped.swap(0, Ordering::Relaxed);
    if n == 0 {
        return None;
    }
    ctx.stats.dropped.fetch_add(n, Ordering::Relaxed);
    tracing::warn!(
        "Massive {} stream: the parser fell behind, {n} frames dropped; backfilling",
        ctx.cluster.path()
    );
    let event = StreamEvent::Overflow { dropped: n };
    match ctx.events.send((ctx.cluster, event)).await {
        Ok(()) => None,
        Err(_) => Some(Ended::ConsumerGone),
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads the socket as fast as it comes; a full channel drops the frame (counted) rather
/// than stalling the socket. Any frame or pong extends the read deadline.
async fn read_socket(
    mut stream: futures::stream::SplitStream<Socket>,
    frames: mpsc::Sender<Read>,
    dropped: Arc<AtomicU64>,
    deadline: Duration,
) {
    let end = loop {
        let message = match tokio::time::timeout(deadline, stream.next()).await {
            Err(_) => {
                break format!(
                    "no message for {} s (read deadline)",
                    deadline.as_secs_f64()
                );
            }
            Ok(None) => break "the server closed the connection".to_string(),
            Ok(Some(Err(e))) => break format!("read failed: {e}"),
            Ok(Some(Ok(m))) => m,
        };
        let text = match message {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(frame) => break close_reason(frame),
            _ => continue,
        };
        match frames.try_send(Read::Frame(text)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    };
    let _ = frames.send(Read::End(end)).await;
}

/// One short connection for `coach doctor`: connect, authenticate, subscribe to `param`
/// and wait for the answer; `Ok` with the server's message when subscribed. A refused
/// key is `AuthFailed`; a refused subscription is `NotEntitled`.
pub async fn probe(
    config: &StreamConfig,
    cluster: Cluster,
    param: &str,
) -> Result<String, MassiveError> {
    let url = config.url(cluster);
    let what = format!("the {} stream", cluster.path());
    let transport = |detail: String| MassiveError::Transport {
        what: what.clone(),
        detail,
    };
    let attempt = async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| transport(format!("cannot connect to {url}: {e}")))?;
        let statuses = next_statuses(&mut socket).await.map_err(transport)?;
        if !statuses
            .iter()
            .any(|(s, _)| s == "connected" || s == "success")
        {
            return Err(transport(format!("unexpected greeting {statuses:?}")));
        }
        socket
            .send(action("auth", config.key.expose()))
            .await
            .map_err(|e| transport(format!("sending auth failed: {e}")))?;
        loop {
            let statuses = next_statuses(&mut socket).await.map_err(transport)?;
            if statuses.iter().any(|(s, _)| s == "auth_success") {
                break;
            }
            if let Some((status, message)) = statuses
                .iter()
                .find(|(s, _)| s.starts_with("auth_") || is_eviction(s) || s == "error")
            {
                let message = config.key.redact_in(message);
                return Err(if status == "auth_failed" {
                    MassiveError::AuthFailed(message)
                } else {
                    transport(format!("{status}: {message}"))
                });
            }
        }
        socket
            .send(action("subscribe", param))
            .await
            .map_err(|e| transport(format!("sending subscribe failed: {e}")))?;
        let statuses = next_statuses(&mut socket).await.map_err(transport)?;
        let _ = socket.close(None).await;
        match statuses.first() {
            Some((status, message)) if status == "success" => Ok(message.clone()),
            Some((status, message)) => Err(MassiveError::NotEntitled {
                what: format!("{what} ({param})"),
                message: format!("{status}: {message}"),
            }),
            None => Err(transport("no answer to subscribe".into())),
        }
    };
    tokio::time::timeout(config.handshake_timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(transport(format!(
                "no answer within {} s",
                config.handshake_timeout.as_secs()
            )))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_are_jittered_below_a_doubling_ceiling() {
        let config = StreamConfig::new("ws://x", Secret::new("k"));
        for failures in 1..10 {
            let ceiling =
                Duration::from_millis(500 * (1 << (failures - 1))).min(config.backoff_max);
            for _ in 0..50 {
                assert!(full_jitter(&config, failures) <= ceiling);
            }
        }
        assert_eq!(config.url(Cluster::Indices), "ws://x/indices");
        assert!(config.eviction_backoff >= Duration::from_secs(60));
    }

    #[test]
    fn subscription_commands_change_the_desired_set() {
        let mut desired = BTreeSet::from(["AM.SPY".to_string()]);
        apply(
            &mut desired,
            &StreamCommand::Subscribe(vec!["AM.QQQ".into(), "A.QQQ".into()]),
        );
        apply(
            &mut desired,
            &StreamCommand::Unsubscribe(vec!["AM.SPY".into()]),
        );
        assert_eq!(desired.into_iter().collect::<Vec<_>>(), ["A.QQQ", "AM.QQQ"]);
    }
}
