//! Operational endpoints: liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::AppJson;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "alive")))]
pub async fn healthz() -> AppJson<Value> {
    AppJson(json!({ "status": "ok" }))
}

/// The process can serve: the database and the blob store answer. A
/// replica that is not ready should get no traffic (and its workers take no
/// jobs while the database is away).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "ready"), (status = 503, description = "database or blob store unavailable")))]
pub async fn readyz(State(state): State<AppState>) -> Result<AppJson<Value>, AppError> {
    crate::db::ping(&state.db).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        AppError::Unavailable("the database does not answer".into())
    })?;
    state.blobs.check().await.map_err(|e| {
        tracing::warn!(error = format!("{e:#}"), "readiness check failed");
        AppError::Unavailable("the blob store does not answer".into())
    })?;
    Ok(AppJson(json!({
        "status": "ready",
        "database": format!("{:?}", state.db.backend).to_lowercase(),
        "blobs": state.blobs.location().kind(),
    })))
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
