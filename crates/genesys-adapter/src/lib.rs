//! The Genesys Cloud client behind sla-core's ports: counts from the analytics aggregates query
//! ([`TallySource`]), queue visits from conversation details ([`VisitSource`]), queues with
//! their configured service levels ([`QueueDirectory`]), and what is waiting and being handled
//! now, with the agents on queue, from the queue observations query ([`LiveSource`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use genesys_adapter::{GenesysClient, GenesysConfig};
//! use secrecy::SecretString;
//! use sla_core::ports::{QueueDirectory, QueueSelector, TallySource};
//!
//! let region = "eu-west-1".parse()?;
//! let config = GenesysConfig::new(region, "client-id", SecretString::from("client-secret"));
//! let client = GenesysClient::new(config)?;
//! let queues = client.queues(&QueueSelector::Name("Support".to_owned())).await?;
//! let source: Arc<dyn TallySource> = Arc::new(client);
//! # let _ = (queues, source);
//! # Ok(())
//! # }
//! ```
//!
//! The client authenticates with the client-credentials grant and keeps its token fresh,
//! retries what is worth retrying (honouring `Retry-After` up to a ceiling), paces itself below
//! Genesys's per-token rate limit, and splits long windows into chunks fetched concurrently.
//!
//! Visits come from the synchronous details query, in pieces of at most a week (split further
//! when a piece selects more than its 100,000 pageable results), or from async details jobs
//! for long windows the data lake already holds ([`DetailsMode`]). Pages are folded into the
//! sink as they arrive, each conversation once, so memory does not grow with the number of
//! conversations beyond a 16-byte id per conversation. [`GenesysClient::with_progress`] reports
//! how far the reading has got.

mod aggregates;
mod auth;
mod chunking;
mod client;
mod config;
mod convert;
mod details;
mod error;
mod metrics;
mod observations;
mod pagination;
mod queues;
mod rate_limit;
mod retry;
mod seams;
mod selection;
#[cfg(feature = "test-util")]
mod test_util;
#[cfg(test)]
mod tests;
mod transport;
mod wire;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sla_core::ports::{
    LiveSource, QueueDirectory, QueueSelector, SourceError, TallyQuery, TallySource, VisitQuery,
    VisitSink, VisitSource,
};
use sla_core::{LiveQuery, LiveState, QueueInfo, TallySet};
use tracing::Instrument as _;

use crate::client::Inner;

pub use crate::config::{DetailsMode, GenesysConfig, Region};
pub use crate::details::{DetailsProgress, DetailsReader, PageSummary};
pub use crate::error::GenesysError;
pub use crate::metrics::UpstreamStats;
#[cfg(feature = "test-util")]
pub use crate::seams::{
    Clock, HttpRequest, HttpResponse, Method, Seams, Sleep, Transport, TransportError,
    TransportErrorKind,
};
#[cfg(feature = "test-util")]
pub use crate::test_util::{InstantSleep, ManualClock, Reply, ScriptedTransport};

/// A Genesys Cloud client. Cheap to clone; clones share the token, the rate limit, the
/// connection pool and the counters.
///
/// `Debug` shows the hosts and the client id, never the secret or a token.
#[derive(Clone)]
pub struct GenesysClient {
    inner: Arc<Inner>,
    progress: Option<details::Observer>,
}

impl fmt::Debug for GenesysClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl GenesysClient {
    /// A client for `config`, talking HTTP through reqwest. Nothing is sent until first use.
    pub fn new(config: GenesysConfig) -> Result<Self, GenesysError> {
        Self::build(config, seams::Seams::real())
    }

    /// A client whose transport, clock, sleep and jitter are the given ones.
    #[cfg(feature = "test-util")]
    pub fn with_seams(config: GenesysConfig, seams: Seams) -> Result<Self, GenesysError> {
        Self::build(config, seams)
    }

    fn build(config: GenesysConfig, seams: seams::Seams) -> Result<Self, GenesysError> {
        Ok(Self {
            inner: Arc::new(Inner::build(config, seams)?),
            progress: None,
        })
    }

    /// A clone of this client whose details path ([`VisitSource::visits`]) calls `observer`
    /// with its progress: once the pieces are planned, after every page, and as each piece
    /// ends. The observer runs on the task reading the pages, so it should return quickly
    /// (update a progress bar, not print a report).
    ///
    /// ```no_run
    /// # fn demo(client: genesys_adapter::GenesysClient) {
    /// let client = client.with_progress(|p: &genesys_adapter::DetailsProgress| {
    ///     eprintln!("{}/{} pieces, {} conversations", p.pieces_done, p.pieces_total, p.conversations);
    /// });
    /// # let _ = client;
    /// # }
    /// ```
    #[must_use]
    pub fn with_progress(
        &self,
        observer: impl Fn(&DetailsProgress) + Send + Sync + 'static,
    ) -> GenesysClient {
        GenesysClient {
            inner: Arc::clone(&self.inner),
            progress: Some(Arc::new(observer)),
        }
    }

    /// How much longer a request is waiting for the client-side request budget
    /// ([`GenesysConfig::max_requests_per_minute`]); `None` when none is waiting. A progress
    /// display shows it, so that a run paced by its budget does not look stuck.
    pub fn budget_wait(&self) -> Option<std::time::Duration> {
        self.inner.sender.limiter.budget_wait()
    }

    /// Obtains a token (or finds the cached one still fresh): a readiness check that the
    /// credentials work.
    pub async fn check_credentials(&self) -> Result<(), GenesysError> {
        self.inner.tokens.token().await.map(|_| ())
    }

    /// The counters of upstream requests so far.
    pub fn upstream_stats(&self) -> UpstreamStats {
        self.inner.counters.snapshot()
    }
}

#[async_trait]
impl TallySource for GenesysClient {
    async fn tallies(&self, query: &TallyQuery) -> Result<TallySet, SourceError> {
        let span = tracing::info_span!(
            "genesys_tallies",
            queues = query.queues.len(),
            granularity = %query.granularity,
            start = %query.window.start(),
            end = %query.window.end(),
        );
        aggregates::fetch(&self.inner, query)
            .instrument(span)
            .await
            .map_err(SourceError::from)
    }
}

#[async_trait]
impl VisitSource for GenesysClient {
    async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut (dyn VisitSink + 'static),
    ) -> Result<(), SourceError> {
        let span = tracing::info_span!(
            "genesys_visits",
            queues = query.queues.len(),
            start = %query.window.start(),
            end = %query.window.end(),
        );
        details::stream(&self.inner, query, sink, self.progress.as_deref())
            .instrument(span)
            .await
            .map_err(SourceError::from)
    }
}

#[async_trait]
impl QueueDirectory for GenesysClient {
    async fn queues(&self, selector: &QueueSelector) -> Result<Vec<QueueInfo>, SourceError> {
        let span = tracing::info_span!("genesys_queues", ?selector);
        queues::queues(&self.inner, selector)
            .instrument(span)
            .await
            .map_err(SourceError::from)
    }
}

#[async_trait]
impl LiveSource for GenesysClient {
    async fn observe(&self, query: &LiveQuery) -> Result<LiveState, SourceError> {
        let span = tracing::info_span!(
            "genesys_observe",
            queues = query.queues.len(),
            media = query.media.len(),
        );
        observations::observe(&self.inner, query)
            .instrument(span)
            .await
            .map_err(SourceError::from)
    }
}
