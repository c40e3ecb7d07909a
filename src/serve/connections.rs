//! The HTTP endpoint's connections, so no client can starve it (SPEC 9, issue 26 item 9):
//! a client has [`HEADER_READ_TIMEOUT`] to send a request's headers — on a fresh
//! connection (one that sends nothing or half a header) and between the requests of a
//! kept-alive one (an idle connection) alike; no connection lives longer than
//! [`MAX_CONNECTION_AGE`]; at most [`MAX_CONNECTIONS`] are open at once, and a connection
//! beyond them is closed as soon as it is accepted. HTTP/1.1 only.

use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Time a client has to send a request's headers, from when the connection opens or the
/// previous response was sent.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection stays open, however busy; a monitoring client reconnects.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(120);
/// Open connections at most. Monitoring needs a handful; the rest would be an attack or a
/// leak, and each costs a file descriptor.
pub const MAX_CONNECTIONS: usize = 64;
/// How long in-flight requests get at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Between two "too many connections" warnings.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets the requests in
/// flight finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let slots = std::sync::Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut last_warning: Option<Instant> = None;
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!("the HTTP endpoint cannot accept a connection: {e}");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                }
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                last_warning = Some(Instant::now());
                tracing::warn!(
                    "the HTTP endpoint has {MAX_CONNECTIONS} connections open; \
                     closing new ones (latest from {peer})"
                );
            }
            drop(stream);
            continue;
        };
        let _nodelay = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            match tokio::time::timeout(MAX_CONNECTION_AGE, connection).await {
                Ok(Err(e)) => tracing::debug!("HTTP connection from {peer}: {e}"),
                Ok(Ok(())) => {}
                Err(_) => tracing::debug!("HTTP connection from {peer} closed at its age limit"),
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::debug!("HTTP connections still open at shutdown are dropped");
        }
    }
    Ok(())
}
