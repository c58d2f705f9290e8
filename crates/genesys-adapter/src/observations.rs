//! Core live query → queue observations queries, one per batch of queues, fetched concurrently
//! into one live state.

use futures_util::{StreamExt as _, TryStreamExt as _};
use sla_core::{LiveQuery, LiveState};

use crate::client::Inner;
use crate::convert;
use crate::error::GenesysError;
use crate::selection::{distinct, observations_filter};
use crate::wire::{ObservationQuery, ObservationResponse};

/// Where observations queries go.
pub(crate) const PATH: &str = "/api/v2/analytics/queues/observations/query";

/// What is waiting and being handled per queue and media type, and the agents on queue.
pub(crate) const METRICS: [&str; 3] = ["oWaiting", "oInteracting", "oOnQueueUsers"];

/// The metric whose conversations are listed: when each waiting conversation started waiting
/// gives the longest wait and the waits past a threshold.
pub(crate) const DETAIL_METRICS: [&str; 1] = ["oWaiting"];

/// The queries for `query`: one per batch of at most `queues_per_request` distinct queues,
/// each filtered on its queues and on the query's media types, if it names any.
///
/// The batch is the client's `queues_per_request` (default and most: 100 ids). Genesys documents
/// no cap on the queues one observations query names, and leaves the limits of its filters
/// unconfirmed, so the bound is the one every other queue filter of this client keeps, which a
/// queue listing page (where the ids come from) also holds. It keeps answers bounded too: a
/// batch answers at most one agents group and one group per media type for each of its queues,
/// each listing at most 100 waiting conversations (Genesys truncates past that). And it keeps
/// polling cheap: up to 100 queues cost one request per refresh, 12 a minute at a 5 s refresh,
/// well inside the 240 a minute the client allows itself.
pub(crate) fn plan(query: &LiveQuery, queues_per_request: usize) -> Vec<ObservationQuery> {
    let (queues, media) = distinct(&query.queues, &query.media);
    queues
        .chunks(queues_per_request.max(1))
        .map(|batch| ObservationQuery {
            filter: observations_filter(batch, &media),
            metrics: METRICS.to_vec(),
            detail_metrics: DETAIL_METRICS.to_vec(),
        })
        .collect()
}

/// Runs every batch's query, at most `concurrency` at once, and merges their answers. Each
/// goes through the same rate limit, token and retry loop as every other request: it only
/// reads, so it is retried like the aggregates query.
pub(crate) async fn observe(inner: &Inner, query: &LiveQuery) -> Result<LiveState, GenesysError> {
    if query.queues.is_empty() {
        return Ok(LiveState::default());
    }
    let bodies = plan(query, inner.queues_per_request);
    tracing::debug!(queries = bodies.len(), "observing queues");
    // The futures are made up front, as in the aggregates path, to keep the `Send` inference
    // of `async_trait` futures simple.
    let requests: Vec<_> = bodies
        .iter()
        .map(|body| inner.post_json::<_, ObservationResponse>(PATH, body))
        .collect();
    futures_util::stream::iter(requests)
        .buffer_unordered(inner.concurrency)
        .try_fold(LiveState::default(), |mut state, response| async move {
            convert::add_observations(&mut state, response)?;
            Ok(state)
        })
        .await
}
