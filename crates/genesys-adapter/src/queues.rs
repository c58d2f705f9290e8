//! The queue directory: every queue page by page (a stream of pages), queues by name (exact or
//! wildcard) and by id.

use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use sla_core::QueueInfo;
use sla_core::ports::QueueSelector;
use url::Url;

use crate::client::Inner;
use crate::convert;
use crate::error::GenesysError;
use crate::pagination::next_page;
use crate::wire::QueueListing;

/// Where queues are listed.
pub(crate) const PATH: &str = "/api/v2/routing/queues";

/// Entries per page: the most Genesys documents for listings.
const PAGE_SIZE: u32 = 100;

/// The queues `selector` names, each once, in Genesys's order.
pub(crate) async fn queues(
    inner: &Inner,
    selector: &QueueSelector,
) -> Result<Vec<QueueInfo>, GenesysError> {
    let found = match selector {
        QueueSelector::All => list(inner, Vec::new()).await?,
        QueueSelector::Name(pattern) => {
            let found = list(inner, vec![("name", pattern.clone())]).await?;
            if pattern.contains('*') {
                found
            } else {
                // Genesys's `name` filter may also match longer names; an exact name means
                // that name only, ignoring case.
                let wanted = pattern.to_lowercase();
                found
                    .into_iter()
                    .filter(|q| q.queue.name.to_lowercase() == wanted)
                    .collect()
            }
        }
        QueueSelector::Ids(ids) => {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            // The futures are made up front: a stream mapping borrowed items through a closure
            // trips the compiler's `Send` inference inside `async_trait` futures.
            let batches: Vec<_> = ids
                .chunks(inner.queues_per_request)
                .map(|batch| {
                    let params: Vec<(&'static str, String)> = batch
                        .iter()
                        .map(|id| ("id", id.as_str().to_owned()))
                        .collect();
                    list(inner, params)
                })
                .collect();
            futures_util::stream::iter(batches)
                .buffered(inner.concurrency)
                .try_concat()
                .await?
        }
    };
    let mut unique: Vec<QueueInfo> = Vec::with_capacity(found.len());
    for queue in found {
        if !unique.iter().any(|q| q.queue.id == queue.queue.id) {
            unique.push(queue);
        }
    }
    Ok(unique)
}

/// Every queue the listing with `params` holds, page after page.
async fn list(
    inner: &Inner,
    params: Vec<(&'static str, String)>,
) -> Result<Vec<QueueInfo>, GenesysError> {
    pages(inner, &params).try_concat().await
}

/// The pages of the listing with `params`, as a stream that asks for the next page only when
/// the previous one says there is one.
fn pages<'a>(
    inner: &'a Inner,
    params: &'a [(&'static str, String)],
) -> impl Stream<Item = Result<Vec<QueueInfo>, GenesysError>> + Send + 'a {
    futures_util::stream::try_unfold(Some(1), move |page| async move {
        let Some(page) = page else {
            return Ok(None);
        };
        let listing: QueueListing = inner.get_json(page_url(inner, page, params)).await?;
        let entities = listing.entities.unwrap_or_default();
        let next = next_page(
            page,
            listing.page_count,
            listing.next_uri.as_deref(),
            entities.len(),
        );
        let queues = entities
            .into_iter()
            .filter_map(convert::queue_info)
            .collect();
        Ok(Some((queues, next)))
    })
}

/// The URL of page `page` of the listing with `params`.
fn page_url(inner: &Inner, page: u32, params: &[(&'static str, String)]) -> Url {
    let mut url = inner.endpoints.api_url(PATH);
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("pageSize", &PAGE_SIZE.to_string())
            .append_pair("pageNumber", &page.to_string());
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    url
}
