//! `GenesysError`: its messages, and what the core's `SourceError` makes of each, chain and all.

use std::error::Error as _;
use std::time::Duration;

use sla_core::ports::SourceError;

use crate::error::GenesysError;
use crate::tests::chain;

fn api(status: u16) -> GenesysError {
    GenesysError::Api {
        status,
        code: Some("bad.request".to_owned()),
        message: "The interval is invalid".to_owned(),
        context_id: Some("ctx-1".to_owned()),
    }
}

#[track_caller]
fn check(error: GenesysError, expect: &str) {
    let source: SourceError = error.into();
    assert_eq!(chain(&source), expect);
}

#[test]
fn conversion_into_source_error_keeps_the_details() {
    check(
        api(400),
        "request rejected: genesys cloud answered 400 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        api(404),
        "request rejected: genesys cloud answered 404 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        api(401),
        "not authorized: genesys cloud answered 401 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        api(403),
        "not authorized: genesys cloud answered 403 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        GenesysError::Auth {
            status: Some(400),
            message: "invalid client credentials".to_owned(),
        },
        "not authorized: authentication failed with status 400: invalid client credentials",
    );
    check(
        GenesysError::Decode {
            request: "GET /api/v2/routing/queues".to_owned(),
            reason: "expected value at line 1 column 1".to_owned(),
        },
        "invalid response: could not read the response to GET /api/v2/routing/queues: expected value at line 1 column 1",
    );
    check(
        GenesysError::Config("concurrency must be above zero".to_owned()),
        "source failed: invalid configuration: concurrency must be above zero",
    );
    check(
        GenesysError::JobFailed {
            job_id: "job-1".to_owned(),
            state: "FAILED".to_owned(),
            message: Some("The query timed out".to_owned()),
        },
        "source failed: details job job-1 ended FAILED: The query timed out",
    );
    check(
        GenesysError::JobFailed {
            job_id: "job-2".to_owned(),
            state: "EXPIRED".to_owned(),
            message: None,
        },
        "source failed: details job job-2 ended EXPIRED, its results are no longer available",
    );
    check(
        GenesysError::JobFailed {
            job_id: "job-3".to_owned(),
            state: "CANCELLED".to_owned(),
            message: Some(" ".to_owned()),
        },
        "source failed: details job job-3 ended CANCELLED, it was cancelled before it finished",
    );
    check(
        GenesysError::TooManyResults {
            queue: "q-1".to_owned(),
            day: "2026-03-23".to_owned(),
            total_hits: 123_456,
            limit: 100_000,
        },
        "request rejected: the details query for queue q-1 on 2026-03-23 matches 123456 conversations, more than the 100000 genesys pages through; use details jobs for this window",
    );
    check(
        GenesysError::InvalidRequest {
            request: "GET /api/v2/routing/queues".to_owned(),
            reason: "its URL is 100059 characters long, more than the 65534 HTTP allows".to_owned(),
        },
        "request rejected: cannot send GET /api/v2/routing/queues: its URL is 100059 characters long, more than the 65534 HTTP allows",
    );
}

#[test]
fn through_the_port_the_attempts_are_stated_once() {
    check(
        GenesysError::RetriesExhausted {
            attempts: 8,
            last: Box::new(api(503)),
        },
        "upstream unavailable after 8 attempts: genesys cloud answered 503 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        GenesysError::RetriesExhausted {
            attempts: 1,
            last: Box::new(api(503)),
        },
        "upstream unavailable after 1 attempt: genesys cloud answered 503 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        GenesysError::Throttled {
            retry_after: Duration::from_hours(1),
            limit: Duration::from_mins(3),
            attempts: 1,
            last: Box::new(api(429)),
        },
        "upstream unavailable after 1 attempt: throttled: genesys asked to retry after 3600 s, more than the 180 s the client waits: genesys cloud answered 429 (bad.request): The interval is invalid [contextId ctx-1]",
    );
    check(
        GenesysError::Transport {
            request: "GET /api/v2/routing/queues".to_owned(),
            reason: "connection refused".to_owned(),
        },
        "upstream unavailable after 1 attempt: request GET /api/v2/routing/queues failed: connection refused",
    );
    check(
        GenesysError::JobTimedOut {
            job_id: "job-4".to_owned(),
            state: "PENDING".to_owned(),
            waited: Duration::from_mins(30),
            polls: 185,
        },
        "upstream unavailable after 185 attempts: details job job-4 was still PENDING after 1800 s, so it was cancelled",
    );
    // The last failure itself is the source, so Genesys's status and contextId stay in
    // reach of whoever walks the chain.
    let source: SourceError = GenesysError::RetriesExhausted {
        attempts: 8,
        last: Box::new(api(503)),
    }
    .into();
    let last = source
        .source()
        .and_then(|e| e.downcast_ref::<GenesysError>());
    assert!(
        matches!(last, Some(GenesysError::Api { status: 503, .. })),
        "{last:?}"
    );
}

#[test]
fn a_spent_budget_printed_alone_counts_its_attempts() {
    let exhausted = |attempts| GenesysError::RetriesExhausted {
        attempts,
        last: Box::new(api(503)),
    };
    assert_eq!(exhausted(1).to_string(), "the only attempt failed");
    assert_eq!(exhausted(2).to_string(), "the last of 2 attempts failed");
}

#[test]
fn api_text_leaves_out_what_is_missing() {
    let e = GenesysError::Api {
        status: 502,
        code: None,
        message: String::new(),
        context_id: None,
    };
    assert_eq!(e.to_string(), "genesys cloud answered 502");
    assert!(e.source().is_none());
}
