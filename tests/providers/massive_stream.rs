//! The Massive WebSocket client against scripted local servers: the exact handshake,
//! batched frames built from the spec's own example messages, auth_failed, evictions,
//! resubscribing after a drop, the read deadline, and a slow consumer.

use crate::massive_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use coach::provider::massive::MassiveError;
use coach::provider::massive::Secret;
use coach::provider::massive::wire::{AggKind, StreamMessage};
use coach::provider::massive::ws::{
    Cluster, StreamCommand, StreamConfig, StreamEvent, StreamStats, spawn_stream,
};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const KEY: &str = "WSKEY_abcdef_123456";

type Ws = WebSocketStream<tokio::net::TcpStream>;

/// Accepts connections forever; each is handed to `serve` with its 1-based number.
async fn ws_server<F, Fut>(serve: F) -> String
where
    F: Fn(u32, Ws) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                tokio::spawn(serve(n, ws));
            }
        }
    });
    url
}

fn status(status: &str, message: &str) -> Message {
    Message::text(
        serde_json::json!([{ "ev": "status", "status": status, "message": message }]).to_string(),
    )
}

/// Reads client text frames until one parses as an action object.
async fn expect_action(ws: &mut Ws) -> Option<(String, String)> {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).ok()?;
            return Some((
                v["action"].as_str()?.to_string(),
                v["params"].as_str()?.to_string(),
            ));
        }
    }
    None
}

/// The server side of the handshake; returns the subscribe params.
async fn handshake(ws: &mut Ws) -> Option<String> {
    ws.send(status("connected", "Connected Successfully"))
        .await
        .ok()?;
    let (action, key) = expect_action(ws).await?;
    assert_eq!(action, "auth");
    if key != KEY {
        ws.send(status("auth_failed", "authentication failed"))
            .await
            .ok()?;
        return None;
    }
    ws.send(status("auth_success", "authenticated"))
        .await
        .ok()?;
    let (action, params) = expect_action(ws).await?;
    assert_eq!(action, "subscribe");
    let acks: Vec<Value> = params
        .split(',')
        .map(|p| serde_json::json!({"ev":"status","status":"success","message":format!("subscribed to: {p}")}))
        .collect();
    ws.send(Message::text(Value::Array(acks).to_string()))
        .await
        .ok()?;
    Some(params)
}

fn config(url: &str, key: &str) -> StreamConfig {
    let mut c = StreamConfig::new(url, Secret::new(key));
    c.backoff_base = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(40);
    c
}

struct Client {
    events: mpsc::Receiver<(Cluster, StreamEvent)>,
    commands: mpsc::Sender<StreamCommand>,
    task: tokio::task::JoinHandle<Result<(), MassiveError>>,
    stats: Arc<StreamStats>,
    cancel: CancellationToken,
}

fn start(config: StreamConfig, params: &[&str], capacity: usize) -> Client {
    let (tx, events) = mpsc::channel(capacity);
    let stats = Arc::new(StreamStats::default());
    let cancel = CancellationToken::new();
    let handle = spawn_stream(
        config,
        Cluster::Stocks,
        params.iter().map(|p| p.to_string()).collect(),
        tx,
        stats.clone(),
        cancel.clone(),
    );
    Client {
        events,
        commands: handle.commands,
        task: handle.task,
        stats,
        cancel,
    }
}

async fn next(client: &mut Client) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), client.events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the stream is running")
        .1
}

/// The spec's example message of a channel, from the shared websocket.json.
fn spec_example(spec: &Value, path: &str) -> Value {
    spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["example"].clone()
}

#[tokio::test]
async fn the_handshake_is_exact_and_a_batched_frame_of_spec_examples_is_parsed() {
    let Some(fixtures) = massive_support::fixtures_dir() else {
        return;
    };
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("spec/websocket.json")).unwrap(),
    )
    .unwrap();
    let mut frame: Vec<Value> = [
        "/stocks/AM",
        "/stocks/A",
        "/stocks/T",
        "/stocks/Q",
        "/indices/V",
        "/indices/AM",
        "/stocks/LULD",
    ]
    .iter()
    .map(|p| spec_example(&spec, p))
    .collect();
    assert!(
        frame.iter().all(|v| v.is_object()),
        "the spec has every example"
    );
    frame.push(serde_json::json!({"ev":"AM","sym":"SPY","o":"not a price"}));
    frame.push(serde_json::json!("junk"));
    let frame = Value::Array(frame).to_string();
    let (subs_tx, mut subs) = mpsc::channel(4);
    let url = ws_server(move |_, mut ws| {
        let (frame, subs_tx) = (frame.clone(), subs_tx.clone());
        async move {
            if let Some(params) = handshake(&mut ws).await {
                let _ = subs_tx.send(params).await;
                let _ = ws.send(Message::text(frame)).await;
                let _ = ws.send(Message::text("this is not json")).await;
                while ws.next().await.is_some() {}
            }
        }
    })
    .await;
    let mut client = start(config(&url, KEY), &["AM.SPY", "A.SPY"], 64);
    assert_eq!(next(&mut client).await, StreamEvent::Live { connection: 1 });
    assert_eq!(
        subs.recv().await.unwrap(),
        "A.SPY,AM.SPY",
        "one subscribe with every param"
    );
    let mut messages = Vec::new();
    while messages.len() < 4 {
        if let StreamEvent::Message(m) = next(&mut client).await {
            messages.push(m);
        }
    }
    let StreamMessage::Agg(am) = &messages[0] else {
        panic!("{messages:?}")
    };
    assert_eq!(
        (am.kind, am.ticker.as_str(), am.close),
        (AggKind::Minute, "GTE", 0.4486)
    );
    assert!(
        matches!(&messages[1], StreamMessage::Agg(a) if a.kind == AggKind::Second && a.ticker == "SPCE")
    );
    assert!(
        matches!(&messages[2], StreamMessage::Value { ticker, value, .. } if ticker == "I:SPX" && *value == 3988.5)
    );
    assert!(
        matches!(&messages[3], StreamMessage::Agg(a) if a.ticker == "I:SPX" && a.volume.is_none())
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        client.stats.unknown.load(Ordering::Relaxed),
        3,
        "T, Q, LULD"
    );
    assert_eq!(
        client.stats.malformed.load(Ordering::Relaxed),
        3,
        "the broken AM, the string, the non-JSON frame"
    );
    client.cancel.cancel();
    assert!(client.task.await.unwrap().is_ok());
}

#[tokio::test]
async fn auth_failed_is_fatal_and_never_retried() {
    let connections = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = connections.clone();
    let url = ws_server(move |_, mut ws| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let _ = handshake(&mut ws).await;
            while ws.next().await.is_some() {}
        }
    })
    .await;
    let (logs, _guard) = massive_support::capture_logs();
    let client = start(config(&url, "WRONG_KEY_000"), &["AM.SPY"], 8);
    let result = tokio::time::timeout(Duration::from_secs(10), client.task)
        .await
        .expect("ends")
        .unwrap();
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the Massive stream refused the API key: authentication failed"
    );
    assert!(err.is_fatal());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 1, "no reconnect loop");
    assert!(!logs.text().contains("WRONG_KEY_000"));
}

#[tokio::test]
async fn max_connections_backs_off_at_least_a_minute() {
    let url = ws_server(move |_, mut ws| async move {
        if handshake(&mut ws).await.is_some() {
            let _ = ws
                .send(status(
                    "max_connections",
                    "Maximum number of websocket connections exceeded.",
                ))
                .await;
            let _ = ws.close(None).await;
        }
    })
    .await;
    let mut c = config(&url, KEY);
    c.eviction_backoff = StreamConfig::new("", Secret::default()).eviction_backoff;
    let mut client = start(c, &["AM.SPY"], 8);
    assert!(matches!(next(&mut client).await, StreamEvent::Live { .. }));
    match next(&mut client).await {
        StreamEvent::Down { reason, retry_in } => {
            assert!(retry_in >= Duration::from_secs(60), "{retry_in:?}");
            assert!(reason.contains("max_connections"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    client.cancel.cancel();
    assert!(client.task.await.unwrap().is_ok());
}

#[tokio::test]
async fn repeated_evictions_end_the_stream_so_two_instances_do_not_ping_pong() {
    let url = ws_server(move |_, mut ws| async move {
        if handshake(&mut ws).await.is_some() {
            let _ = ws.send(status("force_disconnect", "another session")).await;
        }
    })
    .await;
    let mut c = config(&url, KEY);
    c.eviction_backoff = Duration::from_millis(10);
    c.max_evictions = 3;
    let client = start(c, &["AM.SPY"], 64);
    let err = tokio::time::timeout(Duration::from_secs(10), client.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, MassiveError::Evicted(3, _)), "{err}");
}

#[tokio::test]
async fn after_a_drop_the_client_reconnects_and_resubscribes_the_same_set() {
    let (subs_tx, mut subs) = mpsc::channel(8);
    let url = ws_server(move |n, mut ws| {
        let subs_tx = subs_tx.clone();
        async move {
            let Some(params) = handshake(&mut ws).await else {
                return;
            };
            let _ = subs_tx.send((n, params)).await;
            if n == 1 {
                // A later subscribe on the live socket, then the TCP connection drops.
                if let Some((action, params)) = expect_action(&mut ws).await {
                    let _ = subs_tx.send((n, format!("{action} {params}"))).await;
                }
                drop(ws);
                return;
            }
            while ws.next().await.is_some() {}
        }
    })
    .await;
    let mut client = start(config(&url, KEY), &["AM.SPY"], 64);
    assert_eq!(next(&mut client).await, StreamEvent::Live { connection: 1 });
    assert_eq!(subs.recv().await.unwrap(), (1, "AM.SPY".to_string()));
    client
        .commands
        .send(StreamCommand::Subscribe(vec!["AM.QQQ".into()]))
        .await
        .unwrap();
    assert_eq!(
        subs.recv().await.unwrap(),
        (1, "subscribe AM.QQQ".to_string())
    );
    assert!(matches!(next(&mut client).await, StreamEvent::Down { .. }));
    assert_eq!(next(&mut client).await, StreamEvent::Live { connection: 2 });
    assert_eq!(
        subs.recv().await.unwrap(),
        (2, "AM.QQQ,AM.SPY".to_string()),
        "the whole desired set again, in one message"
    );
    client.cancel.cancel();
}

#[tokio::test]
async fn a_silent_server_is_declared_dead_at_the_read_deadline() {
    let url = ws_server(move |_, mut ws| async move {
        if handshake(&mut ws).await.is_some() {
            // Say nothing more and ignore pings (never read, so no pong is sent).
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    })
    .await;
    let mut c = config(&url, KEY);
    c.read_deadline = Duration::from_millis(300);
    c.ping_every = Duration::from_millis(100);
    let mut client = start(c, &["AM.SPY"], 8);
    assert!(matches!(next(&mut client).await, StreamEvent::Live { .. }));
    match next(&mut client).await {
        StreamEvent::Down { reason, .. } => assert!(reason.contains("read deadline"), "{reason}"),
        other => panic!("{other:?}"),
    }
    client.cancel.cancel();
}

#[tokio::test]
async fn a_slow_consumer_loses_frames_not_the_socket_and_is_told_to_backfill() {
    let url = ws_server(move |_, mut ws| async move {
        if handshake(&mut ws).await.is_some() {
            for i in 0..3000u64 {
                let am = serde_json::json!([{"ev":"AM","sym":"SPY","o":1.0,"h":1.0,"l":1.0,"c":1.0,"v":1,
                    "s":1_700_000_000_000u64 + i * 60_000,"e":1_700_000_060_000u64 + i * 60_000}]);
                if ws.send(Message::text(am.to_string())).await.is_err() {
                    return;
                }
            }
            while ws.next().await.is_some() {}
        }
    })
    .await;
    let mut c = config(&url, KEY);
    c.frame_buffer = 4;
    let mut client = start(c, &["AM.SPY"], 1);
    assert!(matches!(next(&mut client).await, StreamEvent::Live { .. }));
    // Do not read for a while: the parser blocks on us, the reader keeps reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut overflow = None;
    for _ in 0..3000 {
        match next(&mut client).await {
            StreamEvent::Overflow { dropped } => {
                overflow = Some(dropped);
                break;
            }
            StreamEvent::Down { reason, .. } => panic!("the socket must survive: {reason}"),
            _ => {}
        }
    }
    assert!(overflow.is_some_and(|d| d > 0), "{overflow:?}");
    assert!(client.stats.dropped.load(Ordering::Relaxed) > 0);
    client.cancel.cancel();
}
