//! The Genesys client as the service's `Upstream`: its request counters and token check.

use std::sync::Arc;

use async_trait::async_trait;
use genesys_adapter::GenesysClient;

use crate::error::chain;
use crate::state::{Upstream, UpstreamCounts};

/// The client behind the ports, seen for what `/metrics` and `/readyz` need.
#[derive(Debug)]
pub(crate) struct ClientUpstream(pub(crate) Arc<GenesysClient>);

#[async_trait]
impl Upstream for ClientUpstream {
    fn stats(&self) -> UpstreamCounts {
        let stats = self.0.upstream_stats();
        let mut counts = UpstreamCounts {
            retries: stats.retries,
            ..UpstreamCounts::default()
        };
        for (status, n) in &stats.requests_by_status {
            counts.requests_by_status.insert(status.to_string(), *n);
        }
        if stats.transport_errors > 0 {
            counts
                .requests_by_status
                .insert("error".to_owned(), stats.transport_errors);
        }
        counts
    }

    async fn check_token(&self) -> Result<(), String> {
        // The adapter's errors never carry the secret or a token. The whole chain, because a
        // retry wrapper alone says only how many attempts were made.
        self.0.check_credentials().await.map_err(|e| chain(&e))
    }
}
