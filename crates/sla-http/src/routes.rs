//! Handlers: extract, hand over to sla-core, answer with JSON, text or HTML.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use sla_core::{Format, QueryInput, SourceKind, list_queues, parse_config, queues_json, render};

use crate::dashboard::{self, PageContext};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{fetch, metrics, params, watch};

/// Query pairs as given, in order, repeated names included.
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs(query: Pairs) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| ApiError::parameter("invalid_query", e.body_text()))
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /api/v1/report`: the `sla-report/v1` JSON, byte for byte what `sla report --format
/// json` prints for the same query.
pub(crate) async fn report(
    State(state): State<AppState>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let input = params::report_input(&pairs(query)?)?;
    report_for(state, input).await
}

/// `POST /api/v1/report`: as `GET`, with named objectives in the body, in the format of
/// `sla report --config` (TOML).
pub(crate) async fn report_with_objectives(
    State(state): State<AppState>,
    query: Pairs,
    body: String,
) -> Result<Response, ApiError> {
    let mut input = params::report_input(&pairs(query)?)?;
    input.objectives = parse_config(&body).map_err(|e| ApiError::input(&e))?;
    report_for(state, input).await
}

async fn report_for(state: AppState, input: QueryInput) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let request = state
        .request(&input, now, state.settings.limits)
        .map_err(|e| ApiError::input(&e))?;
    if request.source == SourceKind::Details && state.ports.visits.is_none() {
        return Err(ApiError::parameter(
            "unsupported_source",
            "source 'details' is not available from this service: use source=aggregates",
        ));
    }
    // The validated request is the key: periods and dates are resolved to instants, so
    // different spellings of one query share an entry.
    let key = format!("report {request:?}");
    let ttl = if fetch::touches_present(request.window.end(), now) {
        state.settings.open_ttl
    } else {
        state.settings.closed_ttl
    };
    let fetch_state = state.clone();
    let body = state
        .cache
        .get_or_fetch(key, ttl, move || async move {
            let counted = sla_core::count(&request, fetch_state.sources())
                .await
                .map_err(|e| ApiError::service(&e))?;
            // Building and rendering a large report is CPU work for a while; keep it off the
            // threads that serve requests.
            let rendered = tokio::task::spawn_blocking(move || {
                Bytes::from(render(&counted.report(&request), Format::Json))
            });
            rendered.await.map_err(|e| ApiError::internal(&e))
        })
        .await?;
    Ok(json_body(body))
}

/// `GET /api/v1/queues`: the queues with their ids, divisions and configured service levels;
/// `name` filters with `*` wildcards.
pub(crate) async fn queues(
    State(state): State<AppState>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let pattern = params::queues_pattern(&pairs(query)?)?;
    let key = format!("queues {pattern:?}");
    let fetch_state = state.clone();
    let body = state
        .cache
        .get_or_fetch(key, state.settings.open_ttl, move || async move {
            let queues = list_queues(pattern.as_deref(), fetch_state.ports.directory.as_ref())
                .await
                .map_err(|e| ApiError::service(&e))?;
            let mut text = serde_json::to_string_pretty(&queues_json(&queues))
                .map_err(|e| ApiError::internal(&e))?;
            text.push('\n');
            Ok(Bytes::from(text))
        })
        .await?;
    Ok(json_body(body))
}

/// `GET /metrics`: the last refresh of the watched queues, never a fetch of its own.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::exposition(&state),
    )
        .into_response()
}

/// `GET /`: the wallboard. Right after start it waits briefly for the first refresh, so the
/// first page shown has figures.
pub(crate) async fn dashboard(State(state): State<AppState>) -> Html<String> {
    let watching = watch::is_watching(&state);
    if watching {
        state
            .wait_for_first_refresh(state.settings.first_refresh_wait)
            .await;
    }
    let context = PageContext {
        zone: &state.settings.zone,
        now: state.clock.now(),
        refresh_secs: state.settings.refresh_interval.as_secs(),
        watching,
        period: state.settings.watch.period,
    };
    Html(dashboard::page(&state.watch_status(), &context))
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: ready when a token can be obtained and the last refresh of the watched queues
/// (if any are watched) succeeded. The token check answers within a couple of seconds and is
/// shared between probes (see `ready.rs`).
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let mut reasons = Vec::new();
    if let Err(reason) = state.token_check.check(&state.ports.upstream).await {
        reasons.push(format!("no access token: {reason}"));
    }
    if watch::is_watching(&state) {
        let status = state.watch_status();
        if let Some(error) = status.last_error {
            reasons.push(format!("the last refresh failed: {error}"));
        } else if !status.attempted {
            reasons.push("the watched queues have not been refreshed yet".to_owned());
        }
    }
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
    } else {
        // A probe may ask every few seconds, and the request log already has a warning for the
        // 503; the causes were logged at warn where they arose (the token check, the refresh).
        tracing::debug!(?reasons, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reasons": reasons })),
        )
            .into_response()
    }
}
