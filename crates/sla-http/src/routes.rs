//! Handlers: extract, hand over to sla-core, answer with JSON, text or HTML.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use sla_core::{
    Format, QueryInput, SourceKind, fetch_live, list_queues, parse_config, queues_json, render,
    render_live,
};

use crate::cache::Fetched;
use crate::dashboard::{self, PageContext};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{fetch, metrics, params};

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

/// The body the cache holds under `key` for `ttl`; `fetch` is given a handle on the state and
/// runs only when no stored result or fetch in flight has that key.
async fn cached<F, Fut>(
    state: &AppState,
    key: String,
    ttl: Duration,
    fetch: F,
) -> Result<Bytes, ApiError>
where
    F: FnOnce(AppState) -> Fut,
    Fut: Future<Output = Fetched> + Send + 'static,
{
    let fetch_state = state.clone();
    state
        .cache
        .get_or_fetch(key, ttl, move || fetch(fetch_state))
        .await
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
    if request.source == SourceKind::Store && state.store.is_none() {
        return Err(ApiError::parameter(
            "unsupported_source",
            "source 'store' needs a history store, and this service has none: start it with --store URL",
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
    let body = cached(&state, key, ttl, move |fetch_state| async move {
        // Building and rendering a large report is CPU work for a while; keep it off the
        // threads that serve requests.
        let rendered = match &fetch_state.store {
            // A report from the store asks Genesys nothing, and says how far the store is
            // complete.
            Some(store) if request.source == SourceKind::Store => {
                let stored = sla_core::count_stored(&request, store.sources())
                    .await
                    .map_err(|e| ApiError::service(&e))?;
                tokio::task::spawn_blocking(move || {
                    Bytes::from(render(&stored.report(&request), Format::Json))
                })
            }
            _ => {
                let counted = sla_core::count(&request, fetch_state.sources())
                    .await
                    .map_err(|e| ApiError::service(&e))?;
                tokio::task::spawn_blocking(move || {
                    Bytes::from(render(&counted.report(&request), Format::Json))
                })
            }
        };
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
    let body = cached(
        &state,
        key,
        state.settings.open_ttl,
        move |fetch_state| async move {
            let queues = list_queues(pattern.as_deref(), fetch_state.ports.directory.as_ref())
                .await
                .map_err(|e| ApiError::service(&e))?;
            let mut text = serde_json::to_string_pretty(&queues_json(&queues))
                .map_err(|e| ApiError::internal(&e))?;
            text.push('\n');
            Ok(Bytes::from(text))
        },
    )
    .await?;
    Ok(json_body(body))
}

/// `GET /api/v1/live`: with no parameter, the watched queues' last live document (never a fetch
/// of its own; `x-sla-stale: true` when the last refresh failed and the figures are growing
/// older); with parameters, a document of its own for that query, as `sla now --format json`
/// prints it, cached for a live interval.
pub(crate) async fn live(
    State(state): State<AppState>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let pairs = pairs(query)?;
    if pairs.is_empty() {
        return watched_live(&state).await;
    }
    let input = params::live_input(&pairs)?;
    let now = state.clock.now();
    let request = state
        .request(&input, now, state.settings.limits)
        .map_err(|e| ApiError::input(&e))?;
    // The query as given is the key: its window ends at each request's now, so the resolved
    // request would never repeat.
    let key = format!("live {input:?}");
    let body = cached(
        &state,
        key,
        state.settings.live_interval,
        move |fetch_state| async move {
            let report = fetch_live(
                &request,
                fetch_state.sources(),
                fetch_state.ports.live.as_ref(),
                now,
            )
            .await
            .map_err(|e| ApiError::service(&e))?;
            Ok(Bytes::from(render_live(&report, Format::Json)))
        },
    )
    .await?;
    let mut response = json_body(body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn watched_live(state: &AppState) -> Result<Response, ApiError> {
    if !state.is_watching() {
        return Err(ApiError::not_watching());
    }
    state
        .live
        .wait_for_first(state.settings.first_refresh_wait)
        .await;
    let status = state.live.status();
    let Some(last) = &status.last else {
        return Err(ApiError::live_not_ready(status.last_error.as_deref()));
    };
    let is_stale = status.is_stale(state.clock.now(), state.settings.live_interval);
    let mut response = json_body(last.pretty.clone());
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        STALE_HEADER,
        HeaderValue::from_static(if is_stale { "true" } else { "false" }),
    );
    Ok(response)
}

/// `GET /api/v1/alerts`: the alerts pending or firing (`sla-alerts/v1`), as the last evaluation
/// left them; never an evaluation of its own.
pub(crate) async fn alerts(State(state): State<AppState>) -> Result<Response, ApiError> {
    let listing = state.alerts.listing(state.clock.now());
    let mut text = serde_json::to_string_pretty(&listing).map_err(|e| ApiError::internal(&e))?;
    text.push('\n');
    let mut response = json_body(Bytes::from(text));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Says whether the watched live document is older than it should be.
pub(crate) const STALE_HEADER: &str = "x-sla-stale";

/// `GET /metrics`: the last refresh of the watched queues, never a fetch of its own.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::exposition(&state),
    )
        .into_response()
}

/// `GET /`: the live wallboard. Right after start it waits briefly for the first refreshes, so
/// the first page shown has figures.
pub(crate) async fn dashboard(State(state): State<AppState>) -> Html<String> {
    if state.is_watching() {
        let wait = state.settings.first_refresh_wait;
        tokio::join!(
            state.wait_for_first_refresh(wait),
            state.live.wait_for_first(wait)
        );
    }
    let context = page_context(&state);
    Html(dashboard::page(
        &state.live.status(),
        &state.watch_status(),
        &context,
    ))
}

/// `GET /dashboard.json`: what the wallboard's script reads between two events of the stream:
/// today's figures of the rows on the board and how the last refreshes went.
pub(crate) async fn dashboard_data(State(state): State<AppState>) -> Response {
    let context = page_context(&state);
    let data = dashboard::data(&state.live.status(), &state.watch_status(), &context);
    let mut response = Json(data).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn page_context(state: &AppState) -> PageContext<'_> {
    let settings = &state.settings;
    PageContext {
        zone: &settings.zone,
        now: state.clock.now(),
        watching: state.is_watching(),
        period: settings.watch.period,
        live_interval_secs: settings.live_interval.as_secs().max(1),
        // Today's figures change on the refresh interval; their page of errors more often.
        data_every_secs: settings.refresh_interval.as_secs().clamp(2, 15),
        live_window: settings.live_window.to_string(),
    }
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
    if state.is_watching() {
        let status = state.watch_status();
        if let Some(error) = status.last_error {
            reasons.push(format!("the last refresh failed: {error}"));
        } else if !status.attempted() {
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
