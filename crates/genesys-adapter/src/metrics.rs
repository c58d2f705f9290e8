//! Counters of upstream requests, read by a metrics endpoint.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// What the client has sent upstream since it was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamStats {
    /// Responses received, by HTTP status (token requests included).
    pub requests_by_status: BTreeMap<u16, u64>,
    /// Requests that got no response (timeouts, refused or broken connections).
    pub transport_errors: u64,
    /// Attempts repeated after a throttling, server or transport failure, or a refused token.
    pub retries: u64,
    /// Token requests sent to the login host.
    pub token_requests: u64,
}

/// The live counters behind [`UpstreamStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    inner: Mutex<UpstreamStats>,
}

impl Counters {
    fn update(&self, f: impl FnOnce(&mut UpstreamStats)) {
        // A poisoned lock only means a panic elsewhere mid-increment; counts stay usable.
        let mut stats = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut stats);
    }

    pub(crate) fn response(&self, status: u16) {
        self.update(|s| *s.requests_by_status.entry(status).or_default() += 1);
    }

    pub(crate) fn transport_error(&self) {
        self.update(|s| s.transport_errors += 1);
    }

    pub(crate) fn retry(&self) {
        self.update(|s| s.retries += 1);
    }

    pub(crate) fn token_request(&self) {
        self.update(|s| s.token_requests += 1);
    }

    pub(crate) fn snapshot(&self) -> UpstreamStats {
        let mut out = UpstreamStats::default();
        self.update(|s| out = s.clone());
        out
    }
}
