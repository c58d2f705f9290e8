//! The pure retry policy, in the manner of smithy-rs: one classification of an attempt's
//! outcome, `Retry-After` parsing, backoff with full jitter, and the schedule that turns a
//! verdict, the budget and the waits so far into the next wait or a reason to stop.

use std::time::Duration;

use crate::config::GenesysConfig;
use crate::seams::{HttpResponse, TransportError, TransportErrorKind};

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A 2xx response: done.
    Success,
    /// The API refused the token: renew it once and try again.
    RenewToken,
    /// A failure worth repeating.
    Retry {
        /// Why.
        kind: RetryKind,
        /// The server's `Retry-After`, when it sent a readable one.
        retry_after: Option<Duration>,
    },
    /// A failure that repeating would not fix.
    Fail,
}

/// Why an attempt is worth repeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// 429: over a rate limit.
    Throttling,
    /// 5xx: the server failed or is unavailable.
    ServerError,
    /// No response: timeout, refused or broken connection.
    Transient,
}

/// Classifies one attempt's outcome. Pure: the loop decides what to do with the verdict.
pub(crate) fn classify(outcome: &Result<HttpResponse, TransportError>) -> Verdict {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            return match error.kind {
                TransportErrorKind::Timeout
                | TransportErrorKind::Connect
                | TransportErrorKind::Interrupted => Verdict::Retry {
                    kind: RetryKind::Transient,
                    retry_after: None,
                },
                TransportErrorKind::Invalid | TransportErrorKind::Other => Verdict::Fail,
            };
        }
    };
    let retry_after = || response.header("retry-after").and_then(parse_retry_after);
    match response.status {
        200..=299 => Verdict::Success,
        401 => Verdict::RenewToken,
        429 => Verdict::Retry {
            kind: RetryKind::Throttling,
            retry_after: retry_after(),
        },
        503 => Verdict::Retry {
            kind: RetryKind::ServerError,
            retry_after: retry_after(),
        },
        // 501 says the server will never do it; the other 5xx may pass on a later attempt.
        501 => Verdict::Fail,
        500..=599 => Verdict::Retry {
            kind: RetryKind::ServerError,
            retry_after: None,
        },
        _ => Verdict::Fail,
    }
}

/// Reads `Retry-After` as a number of seconds, as Genesys sends it. An HTTP date would need the
/// wall clock and Genesys does not send one, so it reads as absent and the loop backs off.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let secs = value.parse::<f64>().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// The wait before retry number `retry` (0 for the first): "full jitter" over an exponential
/// ceiling, `jitter × min(max, initial × 2^retry)`, with `jitter` in `[0, 1]`.
pub(crate) fn backoff(retry: u32, initial: Duration, max: Duration, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(31));
    let ceiling = initial.saturating_mul(factor).min(max);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// The retry budget and waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) max_total_wait: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

impl RetryPolicy {
    pub(crate) fn from_config(config: &GenesysConfig) -> Self {
        Self {
            max_attempts: config.max_attempts,
            max_total_wait: config.max_retry_wait,
            max_retry_after: config.max_retry_after,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        }
    }
}

/// Why the loop stops retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The server's `Retry-After` is above the ceiling.
    Throttled(Duration),
    /// No attempts or waiting time left.
    Exhausted,
}

/// The wait before the next attempt, after `attempts` attempts and `waited` spent waiting.
///
/// A `Retry-After` is honoured, plus up to a tenth of it (at most a second) of jitter so that
/// requests throttled together do not return together; without one the wait is a backoff.
pub(crate) fn schedule(
    policy: &RetryPolicy,
    retry_after: Option<Duration>,
    attempts: u32,
    waited: Duration,
    jitter: f64,
) -> Result<Duration, Stop> {
    if let Some(retry_after) = retry_after
        && retry_after > policy.max_retry_after
    {
        return Err(Stop::Throttled(retry_after));
    }
    if attempts >= policy.max_attempts {
        return Err(Stop::Exhausted);
    }
    let wait = match retry_after {
        Some(retry_after) => {
            retry_after
                + (retry_after / 10)
                    .min(Duration::from_secs(1))
                    .mul_f64(jitter.clamp(0.0, 1.0))
        }
        None => backoff(
            attempts.saturating_sub(1),
            policy.initial_backoff,
            policy.max_backoff,
            jitter,
        ),
    };
    if waited + wait > policy.max_total_wait {
        return Err(Stop::Exhausted);
    }
    Ok(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::retry::policy;

    #[expect(clippy::unnecessary_wraps, reason = "rows of a table of outcomes")]
    fn response(status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        })
    }

    fn transport(kind: TransportErrorKind) -> Result<HttpResponse, TransportError> {
        Err(TransportError {
            kind,
            message: "x".to_owned(),
        })
    }

    fn retry(kind: RetryKind, secs: Option<u64>) -> Verdict {
        Verdict::Retry {
            kind,
            retry_after: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn classification_table() {
        use RetryKind::{ServerError, Throttling, Transient};
        let table = [
            (response(200, &[]), Verdict::Success),
            (response(204, &[]), Verdict::Success),
            (response(401, &[]), Verdict::RenewToken),
            (
                response(429, &[("Retry-After", "7")]),
                retry(Throttling, Some(7)),
            ),
            (response(429, &[]), retry(Throttling, None)),
            (
                response(429, &[("retry-after", "soon")]),
                retry(Throttling, None),
            ),
            (
                response(503, &[("retry-after", "2")]),
                retry(ServerError, Some(2)),
            ),
            (response(503, &[]), retry(ServerError, None)),
            (response(500, &[]), retry(ServerError, None)),
            (response(502, &[]), retry(ServerError, None)),
            // Retry-After is only honoured on 429 and 503.
            (
                response(504, &[("retry-after", "9")]),
                retry(ServerError, None),
            ),
            (response(501, &[]), Verdict::Fail),
            (response(400, &[]), Verdict::Fail),
            (response(403, &[]), Verdict::Fail),
            (response(404, &[]), Verdict::Fail),
            (response(408, &[]), Verdict::Fail),
            (response(302, &[]), Verdict::Fail),
            (
                transport(TransportErrorKind::Timeout),
                retry(Transient, None),
            ),
            (
                transport(TransportErrorKind::Connect),
                retry(Transient, None),
            ),
            (
                transport(TransportErrorKind::Interrupted),
                retry(Transient, None),
            ),
            (transport(TransportErrorKind::Invalid), Verdict::Fail),
            (transport(TransportErrorKind::Other), Verdict::Fail),
        ];
        for (outcome, expect) in table {
            assert_eq!(classify(&outcome), expect, "{outcome:?}");
        }
    }

    #[test]
    fn retry_after_parsing() {
        let table = [
            ("0", Some(Duration::ZERO)),
            ("1", Some(Duration::from_secs(1))),
            (" 42 ", Some(Duration::from_secs(42))),
            ("181", Some(Duration::from_secs(181))),
            ("1.5", Some(Duration::from_millis(1500))),
            ("-1", None),
            ("", None),
            ("NaN", None),
            ("inf", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ];
        for (text, expect) in table {
            assert_eq!(parse_retry_after(text), expect, "{text:?}");
        }
    }

    #[test]
    fn backoff_stays_within_its_exponential_ceiling() {
        let initial = Duration::from_millis(500);
        let max = Duration::from_secs(30);
        let ceilings = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
        for (retry, ceiling) in ceilings.iter().enumerate() {
            let retry = u32::try_from(retry).unwrap();
            let ceiling = Duration::from_millis(*ceiling);
            assert_eq!(backoff(retry, initial, max, 1.0), ceiling);
            assert_eq!(backoff(retry, initial, max, 0.0), Duration::ZERO);
            assert_eq!(backoff(retry, initial, max, 0.5), ceiling / 2);
            for _ in 0..100 {
                assert!(backoff(retry, initial, max, fastrand::f64()) <= ceiling);
            }
        }
        // Out-of-range factors and huge retry counts neither overflow nor exceed the cap.
        assert_eq!(backoff(u32::MAX, initial, max, 7.0), max);
        assert_eq!(backoff(3, initial, max, -1.0), Duration::ZERO);
    }

    #[test]
    fn scheduling_honours_retry_after_and_the_budget() {
        let p = policy();
        let secs = Duration::from_secs;
        // Retry-After wins over backoff, and jitter adds at most a tenth (capped at 1 s).
        assert_eq!(schedule(&p, Some(secs(5)), 1, secs(0), 0.0), Ok(secs(5)));
        assert_eq!(
            schedule(&p, Some(secs(5)), 1, secs(0), 1.0),
            Ok(Duration::from_millis(5500))
        );
        assert_eq!(schedule(&p, Some(secs(30)), 1, secs(0), 1.0), Ok(secs(31)));
        // Exactly the ceiling is still waited for; above it is refused at once.
        assert_eq!(
            schedule(&p, Some(secs(180)), 1, secs(0), 0.0),
            Err(Stop::Exhausted),
            "180 s is within the ceiling but beyond this policy's 60 s of waiting"
        );
        let generous = RetryPolicy {
            max_total_wait: secs(600),
            ..p
        };
        assert_eq!(
            schedule(&generous, Some(secs(180)), 1, secs(0), 0.0),
            Ok(secs(180))
        );
        assert_eq!(
            schedule(&generous, Some(secs(181)), 1, secs(0), 0.0),
            Err(Stop::Throttled(secs(181)))
        );
        // The ceiling check comes first, even with no attempts left.
        assert_eq!(
            schedule(&p, Some(secs(3600)), 4, secs(0), 0.0),
            Err(Stop::Throttled(secs(3600)))
        );
        // Backoff without Retry-After: initial × 2^(attempts − 1).
        assert_eq!(schedule(&p, None, 1, secs(0), 1.0), Ok(secs(1)));
        assert_eq!(schedule(&p, None, 2, secs(0), 1.0), Ok(secs(2)));
        assert_eq!(schedule(&p, None, 3, secs(0), 1.0), Ok(secs(4)));
        // Out of attempts, or the wait would overrun the total.
        assert_eq!(schedule(&p, None, 4, secs(0), 1.0), Err(Stop::Exhausted));
        assert_eq!(
            schedule(&p, Some(secs(10)), 2, secs(55), 0.0),
            Err(Stop::Exhausted)
        );
        assert_eq!(schedule(&p, Some(secs(5)), 2, secs(55), 0.0), Ok(secs(5)));
    }
}
