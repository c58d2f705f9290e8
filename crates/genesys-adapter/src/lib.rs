//! The Genesys Cloud client behind sla-core's ports: counts from the analytics aggregates query
//! ([`TallySource`]) and queues with their configured service levels ([`QueueDirectory`]).
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

mod aggregates;
mod auth;
mod chunking;
mod client;
mod config;
mod convert;
mod error;
mod metrics;
mod pagination;
mod queues;
mod rate_limit;
mod retry;
mod seams;
#[cfg(feature = "test-util")]
mod test_util;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sla_core::ports::{QueueDirectory, QueueSelector, SourceError, TallyQuery, TallySource};
use sla_core::{QueueInfo, TallySet};
use tracing::Instrument as _;

use crate::client::Inner;

pub use crate::config::{GenesysConfig, Region};
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
        })
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
impl QueueDirectory for GenesysClient {
    async fn queues(&self, selector: &QueueSelector) -> Result<Vec<QueueInfo>, SourceError> {
        let span = tracing::info_span!("genesys_queues", ?selector);
        queues::queues(&self.inner, selector)
            .instrument(span)
            .await
            .map_err(SourceError::from)
    }
}
