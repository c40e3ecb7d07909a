//! The Alpaca market data stream (`/v2/iex` or `/v2/sip`): `connected` → auth → one
//! subscribe (minute bars of the watchlist, trades of at most 30 symbols on the free
//! plan, the focused one among them: `subscriptions`), then minute bars `b`, corrected
//! bars `u` and trades `t`; a focus change while live is sent as `unsubscribe` and
//! `subscribe` on the same connection. Pings every 25 s and a
//! read deadline; on a drop it reconnects with exponential backoff and full jitter (the
//! shared [`RetryPolicy`]) and subscribes again, and the feed backfills the missed
//! minutes over REST.
//!
//! Errors: 402 (auth failed) and 409 (insufficient subscription, e.g. `sip` on a free
//! plan) end the stream with a clear message; 405 (symbol limit) too, since the same
//! subscription would fail again; 406 (connection limit: another client holds the one
//! connection of the feed) backs off at least 60 s and says so; 407 (slow client) and
//! anything else reconnects.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

pub use super::subscriptions::{MAX_TRADE_SYMBOLS, Subscriptions, Watched};
use super::wire::{BarWire, parse_instant, to_bar};
use super::{AlpacaConnection, AlpacaError};
use crate::domain::{Bar, Symbol};
use crate::provider::backoff::RetryPolicy;

/// The stream's timings. Defaults are the protocol's; tests shorten them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamTimings {
    pub ping_every: Duration,
    /// No frame (or pong) for this long: the socket is dead.
    pub read_deadline: Duration,
    /// Connect plus handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Reconnect backoff: full jitter below `min(max, base · 2^n)`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Wait after a 406 (another client holds the connection); at least 60 s live.
    pub connection_limit_backoff: Duration,
}

impl Default for StreamTimings {
    fn default() -> Self {
        StreamTimings {
            ping_every: Duration::from_secs(25),
            read_deadline: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(15),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            connection_limit_backoff: Duration::from_secs(60),
        }
    }
}

/// What the stream tells its consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// Authenticated and subscribed; `connection` counts from 1. Anything after a
    /// `Down` may have been missed: backfill.
    Live { connection: u64 },
    /// The connection ended; the next attempt starts in `retry_in`.
    Down { reason: String, retry_in: Duration },
    /// A minute bar (`b`), or a correction of one already sent (`u`).
    Bar {
        symbol: Symbol,
        bar: Bar,
        corrected: bool,
    },
    /// A trade (`t`): price in dollars at its exchange time.
    Trade {
        symbol: Symbol,
        price: f64,
        at: DateTime<Utc>,
    },
}

/// A parsed element.
#[derive(Clone, Debug, PartialEq)]
enum Element {
    Success(String),
    Error(u16, String),
    Subscription,
    Data(StreamEvent),
    Other,
}

fn parse_frame(text: &str) -> Vec<Element> {
    let Ok(elements) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        tracing::debug!("Alpaca stream: a frame that is not a JSON array skipped");
        return Vec::new();
    };
    elements.iter().map(element).collect()
}

/// One element of a frame, by its type `T`. A trade's `c` is its conditions (a list),
/// a bar's `c` its close: each type is read with its own fields.
fn element(v: &serde_json::Value) -> Element {
    let text = |key: &str| v.get(key).and_then(serde_json::Value::as_str);
    let symbol = || text("S").and_then(|s| Symbol::parse(s).ok());
    match text("T") {
        Some("success") => Element::Success(text("msg").unwrap_or_default().to_string()),
        Some("error") => Element::Error(
            v.get("code")
                .and_then(serde_json::Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0),
            crate::text::printable(text("msg").unwrap_or_default()),
        ),
        Some("subscription") => Element::Subscription,
        Some(kind @ ("b" | "u")) => {
            let bar = serde_json::from_value::<BarWire>(v.clone())
                .ok()
                .and_then(|w| to_bar(&w));
            match (symbol(), bar) {
                (Some(symbol), Some(bar)) => Element::Data(StreamEvent::Bar {
                    symbol,
                    bar,
                    corrected: kind == "u",
                }),
                _ => Element::Other,
            }
        }
        Some("t") => {
            let price = v.get("p").and_then(serde_json::Value::as_f64);
            match (symbol(), price, text("t").and_then(parse_instant)) {
                (Some(symbol), Some(price), Some(at)) if price.is_finite() && price > 0.0 => {
                    Element::Data(StreamEvent::Trade { symbol, price, at })
                }
                _ => Element::Other,
            }
        }
        _ => Element::Other,
    }
}

/// How one connection ended.
enum Ended {
    Cancelled,
    ConsumerGone,
    Fatal(AlpacaError),
    Dropped {
        reason: String,
        was_live: bool,
        /// 406: another client holds the connection.
        limited: bool,
    },
}

fn dropped(reason: String) -> Ended {
    Ended::Dropped {
        reason,
        was_live: false,
        limited: false,
    }
}

/// What an error element means for the connection.
fn on_error(code: u16, message: &str, was_live: bool, connection: &AlpacaConnection) -> Ended {
    let message = connection.redact(message);
    match code {
        402 => Ended::Fatal(AlpacaError::StreamAuthFailed(message)),
        409 => Ended::Fatal(AlpacaError::InsufficientSubscription {
            feed: connection.feed.as_str().to_string(),
            message,
        }),
        405 => Ended::Fatal(AlpacaError::SymbolLimit(message)),
        406 => Ended::Dropped {
            reason: format!(
                "another client holds the Alpaca {} stream connection (406 {message}); the plan allows one connection per feed: close the other client",
                connection.feed.as_str()
            ),
            was_live,
            limited: true,
        },
        407 => Ended::Dropped {
            reason: format!("Alpaca found this client too slow (407 {message})"),
            was_live,
            limited: false,
        },
        _ => Ended::Dropped {
            reason: format!("Alpaca stream error {code}: {message}"),
            was_live,
            limited: false,
        },
    }
}

/// Starts the stream; it reconnects by itself until `cancel` fires or a fatal error.
pub fn spawn_stream(
    connection: AlpacaConnection,
    timings: StreamTimings,
    mut watched: Watched,
    events: mpsc::Sender<StreamEvent>,
    cancel: CancellationToken,
) -> JoinHandle<Result<(), AlpacaError>> {
    tokio::spawn(async move {
        let backoff = RetryPolicy {
            base_delay: timings.backoff_base,
            max_delay: timings.backoff_max,
            ..RetryPolicy::default()
        };
        let mut failures: u32 = 0;
        let mut connection_count: u64 = 0;
        loop {
            connection_count += 1;
            let ended = tokio::select! {
                ended = connect_once(&connection, &timings, &mut watched, &events, connection_count) => ended,
                _ = cancel.cancelled() => Ended::Cancelled,
            };
            let (reason, delay) = match ended {
                Ended::Cancelled | Ended::ConsumerGone => return Ok(()),
                Ended::Fatal(e) => return Err(e),
                Ended::Dropped {
                    reason,
                    was_live,
                    limited,
                } => {
                    if was_live {
                        failures = 0;
                    }
                    failures += 1;
                    let delay = backoff.jittered(failures);
                    if limited {
                        (reason, delay.max(timings.connection_limit_backoff))
                    } else {
                        (reason, delay)
                    }
                }
            };
            tracing::warn!(
                "Alpaca stream down: {reason}; reconnecting in {:.1} s",
                delay.as_secs_f64()
            );
            let down = StreamEvent::Down {
                reason,
                retry_in: delay,
            };
            if events.send(down).await.is_err() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => return Ok(()),
            }
        }
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The stream URL: the base with `/v2/<feed>`.
pub fn stream_url(connection: &AlpacaConnection) -> String {
    format!(
        "{}/v2/{}",
        connection.stream_url.trim_end_matches('/'),
        connection.feed.as_str()
    )
}

/// The next frame's text; `Err` with why the socket ended.
async fn next_text(socket: &mut Socket, deadline: Duration) -> Result<String, String> {
    loop {
        let message = match tokio::time::timeout(deadline, socket.next()).await {
            Err(_) => {
                return Err(format!(
                    "no message for {} s (read deadline)",
                    deadline.as_secs_f64()
                ));
            }
            Ok(None) => return Err("the server closed the connection".into()),
            Ok(Some(Err(e))) => return Err(format!("read failed: {e}")),
            Ok(Some(Ok(m))) => m,
        };
        match message {
            Message::Text(t) => return Ok(t.to_string()),
            Message::Binary(b) => return Ok(String::from_utf8_lossy(&b).into_owned()),
            Message::Close(Some(f)) => {
                return Err(format!(
                    "the server closed the connection (code {}: {})",
                    u16::from(f.code),
                    crate::text::printable(&f.reason)
                ));
            }
            Message::Close(None) => return Err("the server closed the connection".into()),
            _ => continue,
        }
    }
}

/// Waits for a `success` element with `msg` (`connected`, `authenticated`) or, when
/// `msg` is empty, a `subscription` answer.
async fn expect(
    socket: &mut Socket,
    msg: &str,
    timings: &StreamTimings,
    connection: &AlpacaConnection,
) -> Result<(), Ended> {
    loop {
        let text = next_text(socket, timings.handshake_timeout)
            .await
            .map_err(dropped)?;
        for element in parse_frame(&text) {
            match element {
                Element::Success(m) if m == msg => return Ok(()),
                Element::Subscription if msg.is_empty() => return Ok(()),
                Element::Error(code, message) => {
                    return Err(on_error(code, &message, false, connection));
                }
                _ => {}
            }
        }
    }
}

async fn handshake(
    connection: &AlpacaConnection,
    timings: &StreamTimings,
    subscriptions: &Subscriptions,
) -> Result<Socket, Ended> {
    let url = stream_url(connection);
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| dropped(format!("cannot connect to {url}: {e}")))?;
    expect(&mut socket, "connected", timings, connection).await?;
    let auth = serde_json::json!({
        "action": "auth",
        "key": connection.key_id.expose(),
        "secret": connection.secret_key.expose(),
    });
    socket
        .send(Message::text(auth.to_string()))
        .await
        .map_err(|_| dropped("sending auth failed".into()))?;
    expect(&mut socket, "authenticated", timings, connection).await?;
    socket
        .send(subscriptions.message())
        .await
        .map_err(|e| dropped(format!("sending subscribe failed: {e}")))?;
    expect(&mut socket, "", timings, connection).await?;
    Ok(socket)
}

/// One connection: subscribes the set of the moment's focus, then follows the focus on
/// the live socket until it drops.
async fn connect_once(
    connection: &AlpacaConnection,
    timings: &StreamTimings,
    watched: &mut Watched,
    events: &mpsc::Sender<StreamEvent>,
    count: u64,
) -> Ended {
    let mut subscriptions = watched.current();
    let mut socket = match tokio::time::timeout(
        timings.handshake_timeout,
        handshake(connection, timings, &subscriptions),
    )
    .await
    {
        Ok(Ok(socket)) => socket,
        Ok(Err(ended)) => return ended,
        Err(_) => {
            return dropped(format!(
                "no handshake within {} s",
                timings.handshake_timeout.as_secs()
            ));
        }
    };
    if events
        .send(StreamEvent::Live { connection: count })
        .await
        .is_err()
    {
        return Ended::ConsumerGone;
    }
    tracing::info!(
        "Alpaca {} stream live ({} bar and {} trade subscriptions)",
        connection.feed.as_str(),
        subscriptions.bars.len(),
        subscriptions.trades.len()
    );
    let live_drop = |reason: String| Ended::Dropped {
        reason,
        was_live: true,
        limited: false,
    };
    let mut ping = tokio::time::interval(timings.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    // Without a screen the focus sender is gone: stop polling it.
    let mut focus_open = true;
    loop {
        tokio::select! {
            text = next_text(&mut socket, timings.read_deadline) => {
                let text = match text {
                    Ok(t) => t,
                    Err(reason) => return live_drop(reason),
                };
                for element in parse_frame(&text) {
                    if let Element::Error(code, message) = &element {
                        return on_error(*code, message, true, connection);
                    }
                    if let Element::Data(event) = element
                        && events.send(event).await.is_err()
                    {
                        return Ended::ConsumerGone;
                    }
                }
            }
            changed = watched.focus.changed(), if focus_open => {
                if changed.is_err() {
                    focus_open = false;
                    continue;
                }
                let next = watched.current();
                for message in subscriptions.changes_to(&next) {
                    if let Err(e) = socket.send(message).await {
                        return live_drop(format!("sending a focus subscription failed: {e}"));
                    }
                }
                if next.trades != subscriptions.trades {
                    tracing::debug!(
                        "Alpaca trades follow the focus: {:?}",
                        next.trades.last().map(Symbol::as_str)
                    );
                }
                subscriptions = next;
            }
            _ = ping.tick() => {
                if let Err(e) = socket.send(Message::Ping(Vec::new().into())).await {
                    return live_drop(format!("ping failed: {e}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_corrections_and_trades_are_read_from_a_frame() {
        let frame = r#"[{"T":"b","S":"SPY","o":600.1,"h":600.5,"l":599.9,"c":600.2,"v":1200,"t":"2026-02-02T14:30:00Z","n":3,"vw":600.2},
            {"T":"u","S":"SPY","o":600.1,"h":600.6,"l":599.9,"c":600.3,"v":1300,"t":"2026-02-02T14:30:00Z"},
            {"T":"t","S":"SPY","i":1,"x":"V","p":600.25,"s":100,"c":["@"],"t":"2026-02-02T14:31:02.5Z","z":"B"},
            {"T":"q","S":"SPY","bp":600.2},
            {"T":"error","code":406,"msg":"connection limit exceeded"}]"#;
        let elements = parse_frame(frame);
        assert_eq!(elements.len(), 5);
        let Element::Data(StreamEvent::Bar { bar, corrected, .. }) = &elements[1] else {
            panic!("{:?}", elements[1]);
        };
        assert!(*corrected);
        assert_eq!((bar.high, bar.close, bar.volume), (600.6, 600.3, 1300.0));
        let Element::Data(StreamEvent::Trade { price, at, .. }) = &elements[2] else {
            panic!("{:?}", elements[2]);
        };
        assert_eq!(*price, 600.25);
        assert_eq!(at.timestamp_millis() % 60_000, 2_500);
        assert_eq!(elements[3], Element::Other);
        assert_eq!(
            elements[4],
            Element::Error(406, "connection limit exceeded".into())
        );
        assert!(parse_frame("not json").is_empty());
    }
}
