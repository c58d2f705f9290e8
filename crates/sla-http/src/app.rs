//! The router: routes, access control, and the timeout, body-limit and tracing layers.

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, routes, stream};

/// The largest body a request may carry: objectives in TOML, a few hundred bytes each.
const BODY_LIMIT: usize = 16 * 1024;

/// The whole service as a router over `state`.
pub(crate) fn app(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/api/v1/report",
            get(routes::report).post(routes::report_with_objectives),
        )
        .route("/api/v1/queues", get(routes::queues))
        .route("/api/v1/live", get(routes::live))
        .route("/api/v1/live/stream", get(stream::live_stream))
        .route("/api/v1/alerts", get(routes::alerts));
    let dashboard = Router::new()
        .route("/", get(routes::dashboard))
        .route("/dashboard.json", get(routes::dashboard_data))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::basic));
    let metrics = Router::new()
        .route("/metrics", get(routes::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::metrics));
    let timeout = state.settings.request_timeout;
    Router::new()
        .merge(api)
        .merge(dashboard)
        .merge(metrics)
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .fallback(not_found)
        // Around the whole router rather than the API's routes, and deciding by path: unknown
        // paths and wrong methods under /api answer 401 too, so a stranger learns nothing
        // about what is there.
        .layer(middleware::from_fn_with_state(state.clone(), auth::bearer))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        // Outside the timeout and the body limit, so their bare responses get JSON bodies too.
        .layer(middleware::map_response(json_errors))
        // One line per request at info: method, path with query, status and latency. Headers
        // stay out, so the token never reaches the log. A 5xx adds a line at warn, not error:
        // a probe told "not ready" or a failing upstream is a condition to watch, not a fault
        // of the service, and a real fault is logged at error where it happens.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    tracing::debug!(path = uri.path(), "no such route");
    ApiError::from_status(StatusCode::NOT_FOUND)
}

/// Gives error responses made outside the handlers (405 from the router, 413 from the body
/// limit, 504 from the timeout) the same JSON error body as every other error.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut replaced = ApiError::from_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            replaced.headers_mut().insert(name, value.clone());
        }
    }
    replaced
}
