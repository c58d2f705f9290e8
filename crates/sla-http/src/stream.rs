//! `GET /api/v1/live/stream`: the watched queues' live documents as Server-Sent Events, one
//! event per refresh, each with an id, read from what the background task published, never
//! fetched per subscriber.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::error::ApiError;
use crate::live::Subscription;
use crate::state::AppState;

/// How long a client that lost the stream waits before reconnecting (the `retry:` hint).
pub(crate) const RETRY: Duration = Duration::from_secs(3);

/// How often a comment line is sent while nothing else is, so that proxies and load balancers
/// do not close an idle stream (many close after 30 or 60 s).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The stream, or 503 when it already has as many subscribers as it may.
pub(crate) async fn live_stream(State(state): State<AppState>) -> Result<Response, ApiError> {
    if !state.is_watching() {
        return Err(ApiError::not_watching());
    }
    let subscription = state
        .live
        .subscribe()
        .map_err(|full| ApiError::too_many_subscribers(full.max))?;
    // The reconnection hint comes first, before any document: a client that connects before
    // the first refresh, and loses the stream, knows it too.
    let hello = Event::default().retry(RETRY).comment("sla-live/v1");
    let documents =
        futures_util::stream::unfold(subscription, |mut subscription: Subscription| async move {
            let event = subscription.next().await?;
            let sse = Event::default()
                .id(event.id.to_string())
                .data(event.compact.as_str());
            Some((sse, subscription))
        });
    let events = futures_util::stream::once(std::future::ready(hello))
        .chain(documents)
        .map(Ok::<_, Infallible>);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx not to buffer the stream, which would hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
