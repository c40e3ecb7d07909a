//! The HTTP endpoint of `coach serve` (SPEC 9, 12): `GET /health/workers` (JSON) and
//! `GET /metrics` (Prometheus text); every other path is 404. Read-only, no secrets, no
//! calls to anything external, so it is safe to expose to a monitoring network.

pub mod connections;
pub mod metrics;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::runtime::health::{Health, Overall};
use crate::runtime::metrics::Metrics;

/// What the handlers read.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub health: Health,
    pub metrics: Arc<Metrics>,
}

/// The routes.
pub fn router(endpoint: Endpoint) -> Router {
    Router::new()
        .route("/health/workers", get(health_workers))
        .route("/metrics", get(prometheus))
        .fallback(not_found)
        .with_state(endpoint)
}

/// 200 with the document while `ok` or `degraded`; 503 when `down`, so a plain HTTP
/// probe notices.
async fn health_workers(State(e): State<Endpoint>) -> Response {
    let doc = workers::document(&e.health.snapshot(), Utc::now());
    let code = if doc.status == Overall::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, axum::Json(doc)).into_response()
}

async fn prometheus(State(e): State<Endpoint>) -> Response {
    let body = metrics::render(&e.health.snapshot(), &e.metrics.snapshot(), Utc::now());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

async fn not_found() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "not found: coach serves GET /health/workers and GET /metrics\n",
    )
}

/// Binds the listening socket (port 0 picks a free port; see `local_addr`).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves until `shutdown` is cancelled, then finishes the requests in flight; slow,
/// idle and surplus connections are cut ([`connections`]).
pub async fn run(
    listener: TcpListener,
    endpoint: Endpoint,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    connections::serve(listener, router(endpoint), shutdown).await
}

/// The warning for an endpoint reachable from other machines (`None` on loopback): the
/// documents are unauthenticated.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "the HTTP endpoint listens on {addr}, reachable from other machines: \
             /health/workers and /metrics have no authentication; bind 127.0.0.1 \
             or keep it behind a firewall"
        )
    })
}
