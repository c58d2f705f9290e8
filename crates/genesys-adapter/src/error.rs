//! `GenesysError`, the adapter's detailed error, and its conversion into the core's `SourceError`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Duration;

use sla_core::ports::SourceError;

/// What went wrong talking to Genesys Cloud.
///
/// Messages name the HTTP status, Genesys's error code, message and context id where there are
/// some, and never contain the client secret or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenesysError {
    /// Genesys answered with an error status.
    #[error("{}", api_text(*.status, .code.as_deref(), .message, .context_id.as_deref()))]
    Api {
        /// The HTTP status.
        status: u16,
        /// Genesys's error code, such as `bad.request`.
        code: Option<String>,
        /// Genesys's message, or the start of the body when it was not Genesys's error JSON.
        message: String,
        /// Genesys's `contextId`, or else the `ININ-Correlation-Id` header.
        context_id: Option<String>,
    },
    /// The login host refused the client credentials, or issued an unusable token.
    #[error("{}", auth_text(*.status, .message))]
    Auth {
        /// The HTTP status, when the login host answered.
        status: Option<u16>,
        /// The login host's description of the problem; for refused credentials, with a hint
        /// to check them and Genesys's correlation id when the answer had one.
        message: String,
    },
    /// Genesys asked for a longer pause than the client is willing to wait.
    // The attempts are left out of the message: the port's `Unavailable` states them, and the
    // chain would otherwise count them twice.
    #[error(
        "throttled: genesys asked to retry after {} s, more than the {} s the client waits",
        .retry_after.as_secs(), .limit.as_secs()
    )]
    Throttled {
        /// The `Retry-After` Genesys sent.
        retry_after: Duration,
        /// The longest `Retry-After` the client waits for.
        limit: Duration,
        /// How many attempts were made.
        attempts: u32,
        /// The throttling response.
        #[source]
        last: Box<GenesysError>,
    },
    /// The retry budget (attempts or total wait) ran out.
    // The attempts are in the message for those who print this error alone (a credentials
    // check). Through a port the wrapper is dropped: `Unavailable` states the attempts and holds
    // the last failure itself, so the chain reads "... after N attempts: <cause>".
    #[error("{}", exhausted_text(*.attempts))]
    RetriesExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<GenesysError>,
    },
    /// A response could not be read.
    #[error("could not read the response to {request}: {reason}")]
    Decode {
        /// The request, as `METHOD /path`.
        request: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The request could not even be built (a URL longer than HTTP allows, say), so it was
    /// neither sent nor retried.
    #[error("cannot send {request}: {reason}")]
    InvalidRequest {
        /// The request, as `METHOD /path`.
        request: String,
        /// What is wrong with it, with any long value cut short.
        reason: String,
    },
    /// The request could not be sent or its response not received.
    #[error("request {request} failed: {reason}")]
    Transport {
        /// The request, as `METHOD /path`.
        request: String,
        /// The transport's description (timeout, connection refused or reset, ...).
        reason: String,
    },
    /// A details job ended without results: `FAILED`, `EXPIRED` or `CANCELLED`.
    #[error("{}", job_text(.job_id, .state, .message.as_deref()))]
    JobFailed {
        /// The job's id.
        job_id: String,
        /// The state it ended in.
        state: String,
        /// Genesys's `errorMessage`, when it gave one.
        message: Option<String>,
    },
    /// A details job was still running when the client stopped waiting; it has been cancelled.
    // The status checks are left out of the message: they are the attempts the port's
    // `Unavailable` states.
    #[error(
        "details job {job_id} was still {state} after {} s, so it was cancelled",
        .waited.as_secs()
    )]
    JobTimedOut {
        /// The job's id.
        job_id: String,
        /// Its last state.
        state: String,
        /// How long the client waited.
        waited: Duration,
        /// How many times its status was asked for.
        polls: u32,
    },
    /// The details query cannot page through everything one piece selects, and the piece cannot
    /// be split further (one queue, one day).
    #[error(
        "the details query for queue {queue} on {day} matches {total_hits} conversations, more than \
         the {limit} genesys pages through; use details jobs for this window"
    )]
    TooManyResults {
        /// The queue.
        queue: String,
        /// The UTC day, as `YYYY-MM-DD`.
        day: String,
        /// Genesys's `totalHits`.
        total_hits: u64,
        /// The most results paging reaches.
        limit: u64,
    },
    /// The configuration cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
}

fn job_text(job_id: &str, state: &str, message: Option<&str>) -> String {
    let mut text = format!("details job {job_id} ended {state}");
    match state {
        "EXPIRED" => text.push_str(", its results are no longer available"),
        "CANCELLED" => text.push_str(", it was cancelled before it finished"),
        _ => {}
    }
    if let Some(message) = message.filter(|m| !m.trim().is_empty()) {
        let _ = write!(text, ": {message}");
    }
    text
}

/// `text` cut after `max` characters, with an ellipsis when it was longer: messages quote what
/// they are about, but never at length.
pub(crate) fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

fn exhausted_text(attempts: u32) -> String {
    if attempts == 1 {
        "the only attempt failed".to_owned()
    } else {
        format!("the last of {attempts} attempts failed")
    }
}

fn api_text(status: u16, code: Option<&str>, message: &str, context_id: Option<&str>) -> String {
    let mut text = format!("genesys cloud answered {status}");
    if let Some(code) = code {
        let _ = write!(text, " ({code})");
    }
    if !message.is_empty() {
        let _ = write!(text, ": {message}");
    }
    if let Some(id) = context_id {
        let _ = write!(text, " [contextId {id}]");
    }
    text
}

fn auth_text(status: Option<u16>, message: &str) -> String {
    match status {
        Some(status) => format!("authentication failed with status {status}: {message}"),
        None => format!("authentication failed: {message}"),
    }
}

impl GenesysError {
    /// How many attempts the error reports, for the core's `Unavailable { attempts }`.
    fn attempts(&self) -> u32 {
        match self {
            GenesysError::Throttled { attempts, .. }
            | GenesysError::RetriesExhausted { attempts, .. } => *attempts,
            GenesysError::JobTimedOut { polls, .. } => *polls,
            _ => 1,
        }
    }
}

impl From<GenesysError> for SourceError {
    fn from(error: GenesysError) -> Self {
        match error {
            GenesysError::Auth { .. }
            | GenesysError::Api {
                status: 401 | 403, ..
            } => SourceError::Unauthorized(Box::new(error)),
            GenesysError::Api {
                status: 400..=499, ..
            }
            | GenesysError::TooManyResults { .. }
            | GenesysError::InvalidRequest { .. } => SourceError::Rejected(Box::new(error)),
            // The wrapper only counts attempts, which `Unavailable` states; its last failure
            // becomes the source, so the chain does not say the count twice.
            GenesysError::RetriesExhausted { attempts, last } => SourceError::Unavailable {
                attempts,
                source: last,
            },
            GenesysError::Api { .. }
            | GenesysError::Throttled { .. }
            | GenesysError::Transport { .. }
            | GenesysError::JobTimedOut { .. } => SourceError::Unavailable {
                attempts: error.attempts(),
                source: Box::new(error),
            },
            GenesysError::Decode { .. } => SourceError::InvalidResponse(Box::new(error)),
            GenesysError::JobFailed { .. } | GenesysError::Config(_) => {
                SourceError::Other(Box::new(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
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
                reason: "its URL is 100059 characters long, more than the 65534 HTTP allows"
                    .to_owned(),
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
        // FIXME: sla-core's `Unavailable` says "after 1 attempts"; it should say "after 1 attempt".
        check(
            GenesysError::RetriesExhausted {
                attempts: 1,
                last: Box::new(api(503)),
            },
            "upstream unavailable after 1 attempts: genesys cloud answered 503 (bad.request): The interval is invalid [contextId ctx-1]",
        );
        check(
            GenesysError::Throttled {
                retry_after: Duration::from_hours(1),
                limit: Duration::from_mins(3),
                attempts: 1,
                last: Box::new(api(429)),
            },
            "upstream unavailable after 1 attempts: throttled: genesys asked to retry after 3600 s, more than the 180 s the client waits: genesys cloud answered 429 (bad.request): The interval is invalid [contextId ctx-1]",
        );
        check(
            GenesysError::Transport {
                request: "GET /api/v2/routing/queues".to_owned(),
                reason: "connection refused".to_owned(),
            },
            "upstream unavailable after 1 attempts: request GET /api/v2/routing/queues failed: connection refused",
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
}
