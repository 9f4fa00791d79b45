//! The HTTP endpoints, for probes, dashboards and Prometheus:
//!
//! - `GET /healthz`: 200 while the process serves.
//! - `GET /readyz`: 200 when the last cycle succeeded, 503 with the reason otherwise (before
//!   the first cycle too).
//! - `GET /status`: the [`Status`](crate::Status) as JSON.
//! - `GET /metrics`: the metrics in the OpenMetrics text format.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::error::AgentError;
use crate::metrics::CONTENT_TYPE;
use crate::state::Shared;

/// Listens on `address`, so that a port already taken stops the start.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, AgentError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| AgentError::Listen {
            address: address.to_string(),
            source,
        })
}

/// The endpoints' routes over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

/// Serves the endpoints on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: CancellationToken) {
    let served = axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
    if let Err(error) = served {
        tracing::error!("the HTTP endpoints stopped: {error}");
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    match shared.readiness() {
        Ok(reason) => (StatusCode::OK, format!("ready: {reason}\n")).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        )
            .into_response(),
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.status()).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        shared.metrics().encode(),
    )
        .into_response()
}
