//! Async details jobs: one per queue batch, submitted, polled with backoff until fulfilled (or
//! cancelled at the timeout), then read cursor page by cursor page.

use std::time::Duration;

use sla_core::QueueId;
use sla_core::ports::VisitQuery;
use url::Url;

use crate::aggregates::interval;
use crate::client::Inner;
use crate::details::Reading;
use crate::error::GenesysError;
use crate::pagination::{CursorStep, MAX_PAGES, next_cursor};
use crate::selection::{distinct, finished_conversations, segment_filters};
use crate::wire::{AsyncDetailsQuery, JobStatus, JobSubmitted};

/// Where details jobs are submitted; a job's status and results are below it.
pub(crate) const JOBS_PATH: &str = "/api/v2/analytics/conversations/details/jobs";

/// Where a details job stands, from its `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobStep {
    /// `FULFILLED`: its results can be read.
    Ready,
    /// `FAILED`, `EXPIRED` or `CANCELLED`: it never will have results.
    Failed,
    /// `QUEUED`, `PENDING`, or a state this client does not know: wait and ask again.
    Running,
}

pub(crate) fn job_step(state: &str) -> JobStep {
    match state {
        "FULFILLED" => JobStep::Ready,
        "FAILED" | "EXPIRED" | "CANCELLED" => JobStep::Failed,
        _ => JobStep::Running,
    }
}

/// The wait after the `poll`-th status check (1 for the first) of a running job: a second,
/// doubling up to ten.
pub(crate) fn poll_wait(poll: u32) -> Duration {
    Duration::from_secs(1u64 << poll.saturating_sub(1).min(4)).min(Duration::from_secs(10))
}

/// The URL of a job, or of something below it (`results`).
fn job_url(inner: &Inner, job_id: &str, below: Option<&str>) -> Url {
    let mut url = inner.endpoints.api_url(JOBS_PATH);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.push(job_id);
        if let Some(below) = below {
            segments.push(below);
        }
    }
    url
}

/// Reads the window through one details job per queue batch: submit, wait, follow the cursor.
pub(crate) async fn read(
    inner: &Inner,
    query: &VisitQuery,
    reading: &mut Reading<'_>,
) -> Result<(), GenesysError> {
    let (queues, media) = distinct(&query.queues, &query.media);
    let batches: Vec<&[&QueueId]> = queues.chunks(inner.queues_per_request.max(1)).collect();
    reading.progress.planned(batches.len());
    for batch in batches {
        // Jobs select conversations with activity in the interval, so no lookback is needed.
        let body = AsyncDetailsQuery {
            interval: interval(query.window.start(), query.window.end()),
            order: "asc",
            order_by: "conversationStart",
            conversation_filters: finished_conversations(),
            segment_filters: segment_filters(batch, &media),
        };
        let submitted: JobSubmitted = inner.post_json(JOBS_PATH, &body).await?;
        let job_id = submitted
            .job_id
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| GenesysError::Decode {
                request: format!("POST {JOBS_PATH}"),
                reason: "the answer has no jobId".to_owned(),
            })?;
        tracing::debug!(%job_id, "details job submitted");
        wait_for_job(inner, &job_id).await?;
        let describe = format!("GET {JOBS_PATH}/{{jobId}}/results");
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = job_url(inner, &job_id, Some("results"));
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let page = inner.send_raw(&Inner::get_request(url)).await?;
            let read = reading.page(&page, &describe, false)?;
            match next_cursor(cursor.as_deref(), read.summary.cursor.as_deref()) {
                CursorStep::Next(next) => cursor = Some(next),
                CursorStep::End => break,
                CursorStep::Repeated => {
                    return Err(GenesysError::Decode {
                        request: describe,
                        reason: format!("details job {job_id} returned the same cursor twice"),
                    });
                }
            }
        }
        reading.progress.piece_done();
    }
    Ok(())
}

/// Polls a job until it is fulfilled, backing off between checks through the Sleep seam. A job
/// that ends otherwise is an error; one still running at the timeout is cancelled.
async fn wait_for_job(inner: &Inner, job_id: &str) -> Result<(), GenesysError> {
    let clock = &inner.sender.clock;
    let started = clock.now();
    let mut polls = 0;
    loop {
        let status: JobStatus = inner.get_json(job_url(inner, job_id, None)).await?;
        polls += 1;
        let state = status.state.unwrap_or_default();
        match job_step(&state) {
            JobStep::Ready => return Ok(()),
            JobStep::Failed => {
                return Err(GenesysError::JobFailed {
                    job_id: job_id.to_owned(),
                    state,
                    message: status.error_message,
                });
            }
            JobStep::Running => {}
        }
        let wait = poll_wait(polls);
        let waited = clock.now().saturating_duration_since(started);
        if waited + wait > inner.job_timeout {
            // Cancelling frees Genesys's resources; failing to is not worth a second error.
            if let Err(error) = inner.delete(job_url(inner, job_id, None)).await {
                tracing::warn!(%job_id, %error, "could not cancel a details job");
            }
            return Err(GenesysError::JobTimedOut {
                job_id: job_id.to_owned(),
                state,
                waited,
                polls,
            });
        }
        tracing::debug!(%job_id, %state, wait_ms = wait.as_millis(), "details job not ready yet");
        inner.sender.sleep.sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_states_and_poll_waits() {
        assert_eq!(job_step("FULFILLED"), JobStep::Ready);
        for state in ["FAILED", "EXPIRED", "CANCELLED"] {
            assert_eq!(job_step(state), JobStep::Failed);
        }
        for state in ["QUEUED", "PENDING", "", "SOMETHING_NEW"] {
            assert_eq!(job_step(state), JobStep::Running);
        }
        let waits: Vec<u64> = (1..=7).map(|p| poll_wait(p).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10, 10]);
    }
}
