//! The per-visit path: conversation details from the synchronous query or from async details
//! jobs, streamed page by page into a visit sink, each conversation once.
//!
//! Memory stays bounded by a few pages in flight and the set of conversation ids already seen
//! (16 bytes per UUID), whatever the number of conversations.

mod jobs;
pub(crate) mod pieces;
mod progress;
mod query;
mod reader;

use jiff::SignedDuration;
use sla_core::TimeWindow;
use sla_core::ports::{VisitQuery, VisitSink};

use crate::client::Inner;
use crate::config::DetailsMode;
use crate::convert;
use crate::details::pieces::MAX_PIECE_DAYS;
use crate::error::GenesysError;
use crate::wire::DataAvailability;

pub use crate::details::progress::DetailsProgress;
pub(crate) use crate::details::progress::Observer;
use crate::details::progress::Progress;
use crate::details::reader::PageRead;
pub use crate::details::reader::{DetailsReader, PageSummary};

/// Where the data lake says how far its data reaches.
pub(crate) const AVAILABILITY_PATH: &str =
    "/api/v2/analytics/conversations/details/jobs/availability";

/// Streams the visits `query` asks for into `sink`, from the API the configuration and the
/// window call for.
pub(crate) async fn stream(
    inner: &Inner,
    query: &VisitQuery,
    sink: &mut dyn VisitSink,
    observer: Option<&(dyn Fn(&DetailsProgress) + Send + Sync)>,
) -> Result<(), GenesysError> {
    if query.queues.is_empty() {
        return Ok(());
    }
    let mode = choose(inner, query).await?;
    let mut reading = Reading {
        reader: DetailsReader::new(query),
        sink,
        progress: Progress::new(mode, observer),
    };
    let result = match mode {
        DetailsMode::Jobs => jobs::read(inner, query, &mut reading).await,
        _ => query::read(inner, query, &mut reading).await,
    };
    let done = reading.progress.state;
    tracing::debug!(
        %mode,
        pages = done.pages,
        conversations = done.conversations,
        visits = done.visits,
        ok = result.is_ok(),
        "details read"
    );
    result
}

/// Where the pages of one query go: the reader that turns them into visits (each conversation
/// once), the sink that takes the visits, and the progress reported along the way.
pub(crate) struct Reading<'a> {
    reader: DetailsReader,
    sink: &'a mut dyn VisitSink,
    pub(crate) progress: Progress<'a>,
}

impl Reading<'_> {
    /// Reads a page fetched by `request` (as `METHOD /path`, for errors) into the sink, collecting
    /// its `conversationEnd`s when `want_ends`, and reports it.
    pub(crate) fn page(
        &mut self,
        page: &[u8],
        request: &str,
        want_ends: bool,
    ) -> Result<PageRead, GenesysError> {
        let read = self.reader.read(page, self.sink, request, want_ends)?;
        self.progress.page(&read.summary);
        Ok(read)
    }

    /// The window whose visits are kept.
    pub(crate) fn window(&self) -> TimeWindow {
        self.reader.window()
    }
}

/// Jobs for long windows (or when asked for) that the data lake already holds; the query
/// otherwise.
async fn choose(inner: &Inner, query: &VisitQuery) -> Result<DetailsMode, GenesysError> {
    let window = query.window;
    let wants_jobs = match inner.details_mode {
        DetailsMode::Query => false,
        DetailsMode::Jobs => true,
        DetailsMode::Auto => {
            window.end().duration_since(window.start())
                > SignedDuration::from_hours(24 * MAX_PIECE_DAYS)
        }
    };
    if !wants_jobs {
        return Ok(DetailsMode::Query);
    }
    let url = inner.endpoints.api_url(AVAILABILITY_PATH);
    let availability: DataAvailability = inner.get_json(url).await?;
    let available = match availability.data_availability_date.as_deref() {
        Some(text) => Some(
            convert::instant(text).map_err(|reason| GenesysError::Decode {
                request: format!("GET {AVAILABILITY_PATH}"),
                reason,
            })?,
        ),
        None => None,
    };
    if available.is_some_and(|date| window.end() <= date) {
        return Ok(DetailsMode::Jobs);
    }
    tracing::info!(
        window_end = %window.end(),
        data_availability_date = ?available,
        "the data lake does not hold the whole window yet, reading the details query instead of jobs"
    );
    Ok(DetailsMode::Query)
}
