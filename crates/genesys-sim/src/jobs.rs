//! Async conversation details jobs: submit, poll, page through results by cursor, cancel.
//!
//! A job selects its conversations when submitted. Its first status poll says `QUEUED`, every later
//! poll the configured final state, so clients exercise their polling loop without any waiting.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::{
    JobFinalState,
    dataset::ConvRef,
    details::{self, AsyncConversationQuery, ConversationOut},
    error::ApiError,
    org::{mix, uuid_from_bits},
    routes::AppState,
    wire::{format_ms, parse_body, parse_urlencoded},
};

const DEFAULT_RESULTS_PAGE: usize = 1_000;
const MAX_RESULTS_PAGE: usize = 10_000;

#[derive(Debug)]
struct Job {
    hits: Arc<Vec<ConvRef>>,
    polls: u32,
    cancelled: bool,
    submitted: Timestamp,
}

impl Job {
    fn state(&self, final_state: JobFinalState) -> &'static str {
        if self.cancelled {
            "CANCELLED"
        } else if self.polls == 0 {
            "QUEUED"
        } else {
            final_state.as_str()
        }
    }
}

/// The jobs submitted to this simulator.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    submitted: AtomicU64,
}

impl Jobs {
    /// The jobs by id. A handler that panicked while holding the lock left the map whole (each
    /// handler changes one job field or inserts one job), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the job `job_id` under the lock; an unknown id is Genesys's 404.
    fn with_job<T>(
        &self,
        job_id: &str,
        f: impl FnOnce(&mut Job) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut jobs = self.lock();
        let job = jobs.get_mut(job_id).ok_or_else(|| unknown_job(job_id))?;
        f(job)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobStatus {
    state: &'static str,
    submission_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_date: Option<String>,
    expiration_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobResults {
    conversations: Vec<ConversationOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    data_availability_date: String,
}

fn unknown_job(job_id: &str) -> ApiError {
    ApiError::not_found(format!("Job {job_id} was not found"))
}

fn ts_string(ts: Timestamp) -> String {
    format_ms(ts.as_millisecond())
}

/// Before this instant the simulated data lake holds everything: the dataset end, or now when the
/// dataset reaches into the future (the default dataset ends at the end of today); live
/// conversations join the lake as they end.
pub(crate) fn data_availability(state: &AppState) -> Timestamp {
    state.org.end.min(state.now())
}

pub(crate) async fn availability(State(state): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({
        "dataAvailabilityDate": ts_string(data_availability(&state)),
    }))
    .into_response()
}

pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query: AsyncConversationQuery = parse_body(&body)?;
    let hits = details::job_selection(&state.dataset(), &query, state.config.short_abandon_ms)?;
    let n = state.jobs.submitted.fetch_add(1, Ordering::Relaxed);
    let bits = (u128::from(mix(state.config.seed, n)) << 64) | u128::from(mix(n, 0x4A4F_4253));
    let job_id = uuid_from_bits(bits).to_string();
    let job = Job {
        hits: Arc::new(hits),
        polls: 0,
        cancelled: false,
        submitted: state.now(),
    };
    state.jobs.lock().insert(job_id.clone(), job);
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "jobId": job_id })),
    )
        .into_response())
}

pub(crate) async fn status(
    State(state): State<Arc<AppState>>,
    Path(job_id): Path<String>,
) -> Result<Response, ApiError> {
    let final_state = state.config.job_final_state;
    let body = state.jobs.with_job(&job_id, |job| {
        let current = job.state(final_state);
        job.polls += 1;
        let done = current != "QUEUED";
        Ok(JobStatus {
            state: current,
            submission_date: ts_string(job.submitted),
            completion_date: done.then(|| ts_string(job.submitted)),
            expiration_date: ts_string(
                job.submitted
                    .checked_add(24.hours())
                    .unwrap_or(job.submitted),
            ),
            error_message: (current == "FAILED")
                .then(|| "The simulated job failed as configured".to_owned()),
        })
    })?;
    Ok(Json(body).into_response())
}

pub(crate) async fn cancel(
    State(state): State<Arc<AppState>>,
    Path(job_id): Path<String>,
) -> Result<Response, ApiError> {
    state.jobs.with_job(&job_id, |job| {
        job.cancelled = true;
        Ok(())
    })?;
    Ok(StatusCode::ACCEPTED.into_response())
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

pub(crate) async fn results(
    State(state): State<Arc<AppState>>,
    Path(job_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (mut offset, mut page_size) = (0, DEFAULT_RESULTS_PAGE);
    for (key, value) in parse_urlencoded(raw.as_deref().unwrap_or_default()) {
        match key.as_str() {
            "cursor" if !value.is_empty() => {
                offset = decode_cursor(&value)
                    .ok_or_else(|| ApiError::bad_request(format!("Invalid cursor '{value}'")))?;
            }
            "pageSize" => {
                page_size = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_RESULTS_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "pageSize must be between 1 and {MAX_RESULTS_PAGE}, got '{value}'"
                        ))
                    })?;
            }
            _ => {}
        }
    }
    let hits = state.jobs.with_job(&job_id, |job| {
        let current = job.state(state.config.job_final_state);
        if current != "FULFILLED" {
            return Err(ApiError::bad_request(format!(
                "Job {job_id} is {current}; results are available once it is FULFILLED"
            )));
        }
        Ok(Arc::clone(&job.hits))
    })?;
    let end = (offset + page_size).min(hits.len());
    // Rendered from the history as it is now, so a visit restated after the job was submitted
    // comes out corrected, as Genesys's data lake would give it.
    let history = state.history();
    let conversations = hits
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|hit| details::render_conversation(&history, hit, state.config.short_abandon_ms))
        .collect();
    let body = JobResults {
        conversations,
        cursor: (end < hits.len()).then(|| encode_cursor(end)),
        data_availability_date: ts_string(data_availability(&state)),
    };
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        assert_eq!(decode_cursor(&encode_cursor(1234)), Some(1234));
        assert_eq!(decode_cursor("junk!"), None);
        assert_eq!(decode_cursor(&encode_cursor(0)), Some(0));
    }
}
