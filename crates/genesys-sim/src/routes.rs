//! The router: the token endpoint, queue listing, aggregates and details queries, details jobs,
//! queue observations, and the middleware every response passes through (correlation id, error
//! bodies, counters, gzip).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        Arc, Mutex, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;

use jiff::Timestamp;

use crate::{
    SimConfig, aggregate,
    dataset::Dataset,
    details,
    error::{self, ApiError},
    fallback,
    faults::{self, Clock, Tokens},
    jobs::{self, Jobs},
    live::LiveOrg,
    observations,
    org::{MediaType, Org, Queue, mix, uuid_from_bits},
    wire::{parse_body, parse_urlencoded, url_encode},
};

const QUEUES_PATH: &str = "/api/v2/routing/queues";
/// The queue observations query's path.
pub(crate) const OBSERVATIONS_PATH: &str = "/api/v2/analytics/queues/observations/query";
const MAX_QUEUE_PAGE_SIZE: usize = 500;

/// Request and response counts, for tests that assert how many calls a client made.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) api: AtomicU64,
    pub(crate) token: AtomicU64,
    pub(crate) by_path: Mutex<BTreeMap<String, u64>>,
    pub(crate) by_status: Mutex<BTreeMap<u16, u64>>,
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: SimConfig,
    /// The history as generated: its queues never change.
    pub(crate) org: Arc<Org>,
    /// The history as the analytics endpoints serve it now: the generated one until a visit is
    /// restated, then a corrected copy.
    history: RwLock<Arc<Org>>,
    /// Requests still answered before every request is refused, when the org is set to stop.
    pub(crate) answers_left: Mutex<Option<u64>>,
    pub(crate) live: Option<LiveOrg>,
    pub(crate) clock: Clock,
    pub(crate) tokens: Tokens,
    pub(crate) jobs: Jobs,
    pub(crate) fault_rng: Mutex<fastrand::Rng>,
    pub(crate) counters: Counters,
    correlation: AtomicU64,
}

impl AppState {
    pub(crate) fn new(config: SimConfig, org: Org, live: Option<LiveOrg>) -> Self {
        let fault_rng = Mutex::new(fastrand::Rng::with_seed(mix(config.seed, 0x4641_554C)));
        let org = Arc::new(org);
        AppState {
            config,
            history: RwLock::new(Arc::clone(&org)),
            org,
            answers_left: Mutex::new(None),
            live,
            clock: Clock::default(),
            tokens: Tokens::new(),
            jobs: Jobs::default(),
            fault_rng,
            counters: Counters::default(),
            correlation: AtomicU64::new(0),
        }
    }

    /// What the analytics endpoints read now: the history as served (see
    /// [`AppState::restate`]) and the live conversations finished by now (none without a live
    /// org).
    pub(crate) fn dataset(&self) -> Dataset {
        Dataset {
            org: self.history(),
            live: self
                .live
                .as_ref()
                .map_or_else(|| Arc::new(Vec::new()), LiveOrg::finished),
        }
    }

    /// Whether to answer this request, counting it against the answers left when the org is
    /// set to stop answering.
    fn answers(&self) -> bool {
        let mut left = self
            .answers_left
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match left.as_mut() {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }

    /// The history as served now (see [`AppState::restate`]).
    pub(crate) fn history(&self) -> Arc<Org> {
        Arc::clone(&self.history.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Serves, from now on, a copy of the history that `edit` corrected; when `edit` fails, the
    /// history stays as it was. Requests already running keep the history they started with.
    pub(crate) fn restate<T, E>(
        &self,
        edit: impl FnOnce(&mut Org) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut history = self.history.write().unwrap_or_else(PoisonError::into_inner);
        let mut copy = Org::clone(&history);
        let out = edit(&mut copy)?;
        *history = Arc::new(copy);
        Ok(out)
    }

    /// Now, on the live org's clock when it runs.
    pub(crate) fn now(&self) -> Timestamp {
        self.live.as_ref().map_or_else(Timestamp::now, LiveOrg::now)
    }

    fn next_correlation_id(&self) -> String {
        let n = self.correlation.fetch_add(1, Ordering::Relaxed);
        let bits = (u128::from(mix(self.config.seed, n)) << 64) | u128::from(mix(n, 0x0043_4944));
        uuid_from_bits(bits).to_string()
    }
}

pub(crate) fn app(state: Arc<AppState>) -> Router {
    let details_jobs = "/api/v2/analytics/conversations/details/jobs";
    let api = Router::new()
        .route(QUEUES_PATH, get(queues))
        .route("/api/v2/routing/queues/{queue_id}", get(queue))
        .route(
            "/api/v2/analytics/conversations/aggregates/query",
            post(aggregates),
        )
        .route(
            "/api/v2/analytics/conversations/details/query",
            post(details_query),
        )
        .route(OBSERVATIONS_PATH, post(queue_observations))
        .route(details_jobs, post(jobs::submit))
        .route(
            &format!("{details_jobs}/availability"),
            get(jobs::availability),
        )
        .route(
            &format!("{details_jobs}/{{job_id}}"),
            get(jobs::status).delete(jobs::cancel),
        )
        .route(
            &format!("{details_jobs}/{{job_id}}/results"),
            get(jobs::results),
        )
        // `route_layer`: the guard covers real API routes only, so unknown paths answer 404
        // whatever the token, and the token endpoint is never throttled.
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            faults::guard,
        ));
    Router::new()
        .route("/oauth/token", post(token))
        .merge(api)
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            correlate,
        ))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Gives every response an `ININ-Correlation-Id`, writes pending error bodies with the same id as
/// `contextId`, and counts requests and statuses.
async fn correlate(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let id = state.next_correlation_id();
    let path = request.uri().path().to_owned();
    let counters = &state.counters;
    if path.starts_with("/api/v2/") {
        counters.api.fetch_add(1, Ordering::Relaxed);
    } else if path == "/oauth/token" {
        counters.token.fetch_add(1, Ordering::Relaxed);
    }
    *counters
        .by_path
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(format!("{} {path}", request.method()))
        .or_default() += 1;
    let mut response = if state.answers() {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service.unavailable",
            "The service is unavailable.",
        )
        .into_response()
    };
    error::render(&mut response, &id);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("inin-correlation-id", value);
    }
    *counters
        .by_status
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(response.status().as_u16())
        .or_default() += 1;
    response
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({
        "error": error,
        "description": description,
        "error_description": description,
    });
    (status, Json(body)).into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth/token`: the client-credentials grant, with credentials in HTTP Basic only.
async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let config = &state.config;
    let authenticated = basic_credentials(&headers)
        .is_some_and(|(id, secret)| id == config.client_id && secret == config.client_secret);
    if !authenticated {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed: send the client id and secret with HTTP Basic",
        );
    }
    let form = parse_urlencoded(&String::from_utf8_lossy(&body));
    let grant = form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v);
    if grant.map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let ttl = Duration::from_secs(config.token_ttl_s);
    let access_token = state.tokens.issue(state.clock.now(), ttl);
    Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": config.token_ttl_s,
    }))
    .into_response()
}

fn queue_json(queue: &Queue) -> Value {
    let mut media = serde_json::Map::new();
    for m in MediaType::ALL {
        let level = queue.service_level(m);
        let alerting = match m {
            MediaType::Voice => 8,
            MediaType::Email => 300,
            _ => 30,
        };
        media.insert(
            m.settings_key().to_owned(),
            json!({
                "alertingTimeoutSeconds": alerting,
                "enableAutoAnswer": false,
                "serviceLevel": {"percentage": level.percentage, "durationMs": level.duration_ms},
            }),
        );
    }
    json!({
        "id": queue.id,
        "name": queue.name,
        "division": {
            "id": queue.division.id,
            "name": queue.division.name,
            "selfUri": format!("/api/v2/authorization/divisions/{}", queue.division.id),
        },
        "description": format!("Simulated {} queue", queue.name),
        "memberCount": queue.member_count,
        "userMemberCount": queue.member_count,
        "joinedMemberCount": queue.member_count,
        "mediaSettings": media,
        "acwSettings": {"wrapupPrompt": "OPTIONAL", "timeoutMs": 30_000},
        "skillEvaluationMethod": "ALL",
        "autoAnswerOnly": false,
        "enableTranscription": false,
        "enableManualAssignment": false,
        "selfUri": format!("{QUEUES_PATH}/{}", queue.id),
    })
}

/// Genesys's queue name filter: exact and case-insensitive, with leading and trailing `*` wildcards.
fn name_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_lowercase(), name.to_lowercase());
    let (lead, rest) = match pattern.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, pattern.as_str()),
    };
    let (trail, core) = match rest.strip_suffix('*') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    match (lead, trail) {
        (false, false) => name == core,
        (true, false) => name.ends_with(core),
        (false, true) => name.starts_with(core),
        (true, true) => name.contains(core),
    }
}

fn positive(key: &str, value: &str, max: usize) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(format!("{key} must be between 1 and {max}, got '{value}'"))
        })
}

/// `GET /api/v2/routing/queues`.
async fn queues(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (mut page_size, mut page_number, mut descending) = (25, 1, false);
    let (mut name, mut ids, mut divisions) = (None, Vec::new(), Vec::new());
    for (key, value) in parse_urlencoded(raw.as_deref().unwrap_or_default()) {
        match key.as_str() {
            "pageSize" => page_size = positive("pageSize", &value, MAX_QUEUE_PAGE_SIZE)?,
            "pageNumber" => page_number = positive("pageNumber", &value, usize::MAX)?,
            "sortOrder" => match value.to_ascii_lowercase().as_str() {
                "asc" => descending = false,
                "desc" => descending = true,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid sortOrder '{value}' (asc, desc)"
                    )));
                }
            },
            "name" => name = Some(value),
            // Repeated (`id=a&id=b`, as most clients send) or comma-separated (`id=a,b`, as the
            // official Python SDK sends lists); Genesys takes both.
            "id" => ids.extend(value.split(',').map(str::to_owned)),
            "divisionId" => divisions.extend(value.split(',').map(str::to_owned)),
            // Other parameters Genesys knows (expand, peerId, hasPeer, ...) do not narrow this org.
            _ => {}
        }
    }
    let mut matching: Vec<&Queue> = state
        .org
        .queues
        .iter()
        .filter(|q| name.as_deref().is_none_or(|n| name_matches(n, &q.name)))
        .filter(|q| ids.is_empty() || ids.contains(&q.id))
        .filter(|q| divisions.is_empty() || divisions.contains(&q.division.id))
        .collect();
    matching.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    if descending {
        matching.reverse();
    }
    let total = matching.len();
    let page_count = total.div_ceil(page_size);
    let entities: Vec<Value> = matching
        .iter()
        .skip((page_number - 1).saturating_mul(page_size))
        .take(page_size)
        .map(|q| queue_json(q))
        .collect();
    let mut filters = String::new();
    if let Some(n) = &name {
        let _ = write!(filters, "&name={}", url_encode(n));
    }
    for id in &ids {
        let _ = write!(filters, "&id={}", url_encode(id));
    }
    for d in &divisions {
        let _ = write!(filters, "&divisionId={}", url_encode(d));
    }
    if descending {
        filters.push_str("&sortOrder=desc");
    }
    let uri = |n: usize| format!("{QUEUES_PATH}?pageSize={page_size}&pageNumber={n}{filters}");
    let mut body = json!({
        "entities": entities,
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "pageCount": page_count,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(page_count.max(1)),
    });
    if page_number < page_count {
        body["nextUri"] = json!(uri(page_number + 1));
    }
    if page_number > 1 {
        body["previousUri"] = json!(uri(page_number - 1));
    }
    Ok(Json(body).into_response())
}

/// `GET /api/v2/routing/queues/{queueId}`.
async fn queue(
    State(state): State<Arc<AppState>>,
    Path(queue_id): Path<String>,
) -> Result<Response, ApiError> {
    let queue = state
        .org
        .queues
        .iter()
        .find(|q| q.id == queue_id)
        .ok_or_else(|| ApiError::not_found(format!("Queue {queue_id} was not found")))?;
    Ok(Json(queue_json(queue)).into_response())
}

async fn aggregates(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let query: aggregate::AggregationQuery = parse_body(&body)?;
    let response = aggregate::run(&state.dataset(), &query, state.config.short_abandon_ms)?;
    Ok(Json(response).into_response())
}

async fn details_query(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query: details::ConversationQuery = parse_body(&body)?;
    let response = details::query(&state.dataset(), &query, state.config.short_abandon_ms)?;
    Ok(Json(response).into_response())
}

/// `POST /api/v2/analytics/queues/observations/query`: the live org at the request's instant.
async fn queue_observations(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query: observations::ObservationQuery = parse_body(&body)?;
    let response = observations::run(&state.org, state.live.as_ref(), &query)?;
    Ok(Json(response).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filter_wildcards() {
        let check = |pattern, name, expected| {
            assert_eq!(name_matches(pattern, name), expected, "{pattern} vs {name}");
        };
        check("sales", "Sales", true);
        check("Sales", "Sales Priority", false);
        check("Sales*", "Sales Priority", true);
        check("*priority", "Sales Priority", true);
        check("*ES PRI*", "Sales Priority", true);
        check("*", "anything", true);
        check("Support*", "Sales", false);
    }
}
