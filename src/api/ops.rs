//! Operational endpoints: liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::AppJson;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/csp-reports", post(csp_report).layer(DefaultBodyLimit::max(CSP_REPORT_LIMIT)))
}

/// The largest CSP report taken (browsers send well under 2 KiB).
const CSP_REPORT_LIMIT: usize = 16 * 1024;

/// The directives a violation is counted under; any other name is `other`
/// (the label's values stay few whatever a sender writes).
const CSP_DIRECTIVES: [&str; 10] = [
    "script-src",
    "style-src",
    "img-src",
    "connect-src",
    "default-src",
    "object-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
    "font-src",
];

/// A browser's report of something the Content-Security-Policy blocked
/// (the `report-uri` format, `{"csp-report": {…}}`, or the Reporting API's
/// list of `{"type": "csp-violation", "body": {…}}`): counted in `/metrics`
/// as `gaic_csp_violations_total` by directive and logged, so a page the
/// policy breaks is seen by whoever runs the site.
#[utoipa::path(post, path = "/csp-reports", tag = "ops",
    request_body(content = Value, content_type = "application/json",
        description = "the browser's report (sent as `application/csp-report` or `application/reports+json`; any type is read as JSON)"),
    responses((status = 204, description = "counted"), (status = 400, body = crate::http::ErrorBody),
              (status = 413, body = crate::http::ErrorBody)))]
pub async fn csp_report(body: axum::body::Bytes) -> Result<axum::http::StatusCode, AppError> {
    let report: Value =
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(format!("a CSP report is JSON: {e}").into()))?;
    let reports: Vec<&Value> = match &report {
        Value::Array(list) => list.iter().filter_map(|r| r.get("body")).collect(),
        one => one.get("csp-report").into_iter().collect(),
    };
    if reports.is_empty() {
        return Err(AppError::BadRequest("no `csp-report` or report `body` in the JSON".into()));
    }
    for r in reports {
        let field = |names: &[&str]| {
            let v = names.iter().find_map(|n| r.get(*n).and_then(Value::as_str)).unwrap_or("");
            v.chars().take(200).collect::<String>()
        };
        let directive = field(&["effective-directive", "effectiveDirective", "violated-directive"]);
        let name = directive.split_whitespace().next().unwrap_or("");
        // `script-src-elem` and `script-src-attr` are parts of `script-src`.
        let known = CSP_DIRECTIVES
            .iter()
            .find(|d| name == **d || name.strip_prefix(**d).is_some_and(|rest| rest.starts_with('-')));
        let label = known.copied().unwrap_or("other");
        metrics::counter!("gaic_csp_violations_total", "directive" => label).increment(1);
        tracing::warn!(
            directive = %directive,
            page = %field(&["document-uri", "documentURL"]),
            blocked = %field(&["blocked-uri", "blockedURL"]),
            "the Content-Security-Policy blocked something on a page"
        );
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
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
