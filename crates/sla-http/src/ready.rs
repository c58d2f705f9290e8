//! The token half of `/readyz`: one check at a time, answered within a short deadline, its
//! outcome reused for a few seconds.
//!
//! Obtaining a token goes through the client's whole retry policy, which takes most of a minute
//! when the login host is unreachable. A probe must answer quickly and must not start such a
//! loop each time it is asked, so a check runs in a task of its own that later probes join, and
//! a probe that has waited [`DEADLINE`] answers "not ready" while the check carries on.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::redact_urls;
use crate::state::Upstream;

/// How long a probe waits for the token check.
pub(crate) const DEADLINE: Duration = Duration::from_secs(2);

/// How long a finished check's outcome answers probes.
pub(crate) const REUSE_FOR: Duration = Duration::from_secs(5);

type Outcome = Result<(), String>;

#[derive(Default)]
struct Inner {
    /// The last finished check and when it finished.
    last: Option<(Instant, Outcome)>,
    /// The check in flight, if any.
    pending: Option<watch::Receiver<Option<Outcome>>>,
}

/// Shared state of the token check.
#[derive(Default)]
pub(crate) struct TokenCheck {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCheck").finish_non_exhaustive()
    }
}

impl TokenCheck {
    /// Whether a token can be had, as a reason fit to show a client when not: the upstream's
    /// addresses are left out, and the full reason is logged at WARN.
    pub(crate) async fn check(self: &Arc<Self>, upstream: &Arc<dyn Upstream>) -> Outcome {
        let mut receiver = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, outcome)) = &inner.last
                && at.elapsed() < REUSE_FOR
            {
                return outcome.clone();
            }
            if let Some(pending) = &inner.pending {
                pending.clone()
            } else {
                let (sender, receiver) = watch::channel(None);
                inner.pending = Some(receiver.clone());
                let (this, upstream) = (Arc::clone(self), Arc::clone(upstream));
                tokio::spawn(async move {
                    let outcome = upstream.check_token().await.map_err(|reason| {
                        tracing::warn!(%reason, "no access token can be obtained");
                        redact_urls(&reason)
                    });
                    {
                        let mut inner = this.inner.lock().unwrap_or_else(PoisonError::into_inner);
                        inner.last = Some((Instant::now(), outcome.clone()));
                        inner.pending = None;
                    }
                    let _ = sender.send(Some(outcome));
                });
                receiver
            }
        };
        match tokio::time::timeout(DEADLINE, receiver.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => outcome
                .clone()
                .unwrap_or_else(|| Err("the token check ended without an answer".to_owned())),
            Ok(Err(_)) => Err("the token check ended without an answer".to_owned()),
            Err(_) => Err(format!(
                "the token check has not finished after {} s",
                DEADLINE.as_secs()
            )),
        }
    }
}
