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
