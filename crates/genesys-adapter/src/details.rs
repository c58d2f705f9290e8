//! The per-visit path: conversation details from the synchronous query (in pieces of at most a
//! week, split further when one selects more than paging reaches) or from async details jobs,
//! streamed page by page into a visit sink, each conversation once.
//!
//! Memory stays bounded by a few pages in flight and the set of conversation ids already seen
//! (16 bytes per UUID), whatever the number of conversations.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use jiff::{SignedDuration, Timestamp};
use sla_core::QueueId;
use sla_core::ports::{VisitQuery, VisitSink};
use url::Url;

use crate::aggregates::interval;
use crate::chunking::{Piece, split, utc_midnight, utc_pieces};
use crate::client::Inner;
use crate::config::DetailsMode;
use crate::convert::{self, VisitFilter};
use crate::error::GenesysError;
use crate::pagination::{
    CursorStep, DETAILS_MAX_RESULTS, DETAILS_PAGE_SIZE, DetailsStep, JobStep, MAX_PAGES,
    details_batch, job_step, next_cursor, next_details_page, poll_wait,
};
use crate::wire::{
    AsyncDetailsQuery, DataAvailability, DetailClause, DetailFilter, DetailPredicate, DetailsPage,
    DetailsQuery, JobStatus, JobSubmitted, Paging, Text,
};

/// Where the synchronous details query goes.
pub(crate) const QUERY_PATH: &str = "/api/v2/analytics/conversations/details/query";
/// Where details jobs are submitted; a job's status and results are below it.
pub(crate) const JOBS_PATH: &str = "/api/v2/analytics/conversations/details/jobs";
/// Where the data lake says how far its data reaches.
pub(crate) const AVAILABILITY_PATH: &str =
    "/api/v2/analytics/conversations/details/jobs/availability";

/// Genesys refuses synchronous details intervals longer than this many days.
const MAX_PIECE_DAYS: i64 = 7;

/// How far the details path has got, as reported to a progress observer (see
/// [`crate::GenesysClient::with_progress`]).
///
/// A *piece* is one synchronous query paged to its end, or one details job read to its last
/// cursor. `pieces_total` is known from the start but may grow: a piece that selects more than
/// Genesys pages through is split in two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DetailsProgress {
    /// The API being read: [`DetailsMode::Query`] or [`DetailsMode::Jobs`].
    pub mode: DetailsMode,
    /// Pieces read to their end.
    pub pieces_done: usize,
    /// Pieces planned so far.
    pub pieces_total: usize,
    /// Pages read.
    pub pages: u64,
    /// Distinct conversations read.
    pub conversations: u64,
    /// Visits delivered to the sink.
    pub visits: u64,
}

/// A progress observer, as [`crate::GenesysClient::with_progress`] takes it.
pub(crate) type Observer = Arc<dyn Fn(&DetailsProgress) + Send + Sync>;

/// What one page of conversation details held. See [`DetailsReader::read_page`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageSummary {
    /// Conversations on the page.
    pub conversations: usize,
    /// Those not seen on an earlier page.
    pub new_conversations: usize,
    /// Visits delivered to the sink.
    pub visits: usize,
    /// The query's `totalHits`, when the page is the query's.
    pub total_hits: Option<u64>,
    /// The cursor to a job's next page of results; `None` on its last.
    pub cursor: Option<String>,
}

/// A page read, with what paging needs beyond the summary.
#[derive(Debug)]
struct PageRead {
    summary: PageSummary,
    /// The `conversationEnd`s on the page, when asked for.
    ends: Ends,
}

/// The `conversationEnd`s of a page, in order: the earliest, and whether they never rise.
#[derive(Clone, Copy, Debug, Default)]
struct Ends {
    earliest: Option<Timestamp>,
    latest: Option<Timestamp>,
    rising: bool,
}

impl Ends {
    fn add(&mut self, end: Timestamp) {
        self.rising |= self.earliest.is_some_and(|e| end > e);
        self.earliest = Some(self.earliest.map_or(end, |e| e.min(end)));
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
    }
}

/// Reads a lookback piece, newest end first, and says when the rest cannot matter.
#[derive(Debug)]
struct Tail {
    window_start: Timestamp,
    /// The earliest end read so far; `None` before the first page.
    earliest: Option<Timestamp>,
    /// Whether every page so far came newest end first. If Genesys did not sort as asked, no
    /// early stop is safe and the piece is read to its end.
    sorted: bool,
}

impl Tail {
    fn new(window_start: Timestamp) -> Self {
        Self {
            window_start,
            earliest: None,
            sorted: true,
        }
    }

    /// Takes a page's ends; true once a conversation ended before the window, in a listing
    /// sorted newest end first, so that no later page holds a metric inside the window.
    fn done_after(&mut self, ends: Ends) -> bool {
        let continues = match (self.earliest, ends.latest) {
            (Some(before), Some(latest)) => latest <= before,
            _ => true,
        };
        self.sorted &= !ends.rising && continues;
        if let Some(e) = ends.earliest {
            self.earliest = Some(self.earliest.map_or(e, |x| x.min(e)));
        }
        self.sorted && self.earliest.is_some_and(|e| e < self.window_start)
    }
}

/// Reads pages of Genesys conversation details (the details query's
/// `AnalyticsConversationQueryResponse` or a job's `AnalyticsConversationAsyncQueryResponse`)
/// into queue visits, each conversation once however many pages repeat it.
///
/// This is what the client does with every page it fetches; it is public for details JSON
/// obtained otherwise, such as saved pages. Only the fields visits need are read, borrowed from
/// the page; everything else is skipped.
///
/// ```
/// use genesys_adapter::DetailsReader;
/// use sla_core::QueueId;
/// use sla_core::TimeWindow;
/// use sla_core::ports::{Visit, VisitQuery, VisitSink};
///
/// struct Collect(Vec<Visit>);
/// impl VisitSink for Collect {
///     fn visit(&mut self, visit: Visit) {
///         self.0.push(visit);
///     }
/// }
///
/// let query = VisitQuery {
///     queues: vec![QueueId::new("11111111-1111-1111-1111-111111111111")],
///     media: Vec::new(),
///     window: TimeWindow::new(
///         "2024-05-01T00:00:00Z".parse()?,
///         "2024-05-02T00:00:00Z".parse()?,
///     )?,
/// };
/// let page = br#"{"totalHits": 1, "conversations": [{
///     "conversationId": "c0c0c0c0-0000-0000-0000-000000000001",
///     "participants": [{"purpose": "acd", "sessions": [{"mediaType": "voice",
///         "metrics": [{"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:20.000Z"},
///                     {"name": "tAnswered", "value": 25000, "emitDate": "2024-05-01T09:00:45.000Z"}],
///         "segments": [{"queueId": "11111111-1111-1111-1111-111111111111",
///                       "segmentStart": "2024-05-01T09:00:20.000Z"}]}]}]}]}"#;
/// let mut reader = DetailsReader::new(&query);
/// let mut sink = Collect(Vec::new());
/// let summary = reader.read_page(page, &mut sink)?;
/// assert_eq!((summary.conversations, summary.visits), (1, 1));
/// assert_eq!(sink.0[0].outcome.unwrap().wait_ms, 25_000);
/// // The same page again delivers nothing new.
/// assert_eq!(reader.read_page(page, &mut sink)?.visits, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DetailsReader {
    filter: VisitFilter,
    seen: Seen,
}

impl DetailsReader {
    /// A reader keeping the visits `query` asks for: to its queues, of its media types (all
    /// when empty), with `nOffered` or the outcome emitted inside its window.
    pub fn new(query: &VisitQuery) -> Self {
        Self {
            filter: VisitFilter::new(query),
            seen: Seen::default(),
        }
    }

    /// Reads one page, delivering the visits of conversations not seen before to `sink`.
    ///
    /// A page that is not details JSON, or whose metrics lack what a visit needs (an emit date,
    /// a whole non-negative wait), is a [`GenesysError::Decode`].
    pub fn read_page(
        &mut self,
        page: &[u8],
        sink: &mut dyn VisitSink,
    ) -> Result<PageSummary, GenesysError> {
        self.read(page, sink, "details page", false)
            .map(|read| read.summary)
    }

    /// How many distinct conversations have been read.
    pub fn conversations_seen(&self) -> usize {
        self.seen.len()
    }

    fn read(
        &mut self,
        page: &[u8],
        sink: &mut dyn VisitSink,
        request: &str,
        want_ends: bool,
    ) -> Result<PageRead, GenesysError> {
        let decode = |reason: String| GenesysError::Decode {
            request: request.to_owned(),
            reason,
        };
        // One UTF-8 check of the whole page is cheaper than serde_json's check of every string
        // (keys included) when reading from bytes.
        let text = std::str::from_utf8(page).map_err(|e| decode(format!("not UTF-8: {e}")))?;
        let parsed: DetailsPage<'_> =
            serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
        let conversations = parsed.conversations.unwrap_or_default();
        let mut summary = PageSummary {
            conversations: conversations.len(),
            total_hits: parsed.total_hits,
            cursor: parsed.cursor.map(|c| c.0.into_owned()),
            ..PageSummary::default()
        };
        let mut ends = Ends::default();
        for conversation in &conversations {
            if want_ends && let Some(end) = &conversation.conversation_end {
                ends.add(convert::instant(end.as_str()).map_err(decode)?);
            }
            let Some(id) = conversation.conversation_id.as_ref().map(Text::as_str) else {
                tracing::warn!("a conversation without a conversationId, skipped");
                continue;
            };
            if !self.seen.insert(id) {
                continue;
            }
            summary.new_conversations += 1;
            summary.visits += convert::visits(id, conversation, &self.filter, |visit| {
                sink.visit(visit);
            })
            .map_err(|reason| decode(format!("conversation {id}: {reason}")))?;
        }
        Ok(PageRead { summary, ends })
    }
}

/// The conversation ids already read. UUIDs (every Genesys id) are kept as 16-byte keys; any
/// other id as text.
#[derive(Debug, Default)]
struct Seen {
    uuids: HashSet<u128, BuildHasherDefault<UuidHasher>>,
    others: HashSet<Box<str>>,
}

impl Seen {
    /// Records `id`; false when it was already there.
    fn insert(&mut self, id: &str) -> bool {
        match parse_uuid(id) {
            Some(key) => self.uuids.insert(key),
            None => self.others.insert(Box::from(id)),
        }
    }

    fn len(&self) -> usize {
        self.uuids.len() + self.others.len()
    }
}

/// A canonical `8-4-4-4-12` hex UUID as a number, ignoring the case of its digits.
fn parse_uuid(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut value: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        value = (value << 4) | u128::from(digit);
    }
    Some(value)
}

/// Hashes UUID keys by folding their halves and multiplying. Genesys's ids are random, and they
/// come from Genesys rather than an adversary, so `SipHash`'s flooding resistance buys nothing
/// here and costs as much as the rest of reading a conversation's id.
#[derive(Default)]
struct UuidHasher(u64);

impl Hasher for UuidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    #[expect(clippy::cast_possible_truncation, reason = "folding 128 bits into 64")]
    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(32);
        self.0 = (self.0 ^ folded).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Progress so far, and who to tell.
struct Progress<'a> {
    state: DetailsProgress,
    observer: Option<&'a (dyn Fn(&DetailsProgress) + Send + Sync)>,
}

impl Progress<'_> {
    fn report(&self) {
        if let Some(observer) = self.observer {
            observer(&self.state);
        }
    }

    fn page(&mut self, summary: &PageSummary) {
        self.state.pages += 1;
        self.state.conversations += summary.new_conversations as u64;
        self.state.visits += summary.visits as u64;
        self.report();
    }
}

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
    let mut progress = Progress {
        state: DetailsProgress {
            mode,
            ..DetailsProgress::default()
        },
        observer,
    };
    let mut reader = DetailsReader::new(query);
    let result = match mode {
        DetailsMode::Jobs => from_jobs(inner, query, &mut reader, sink, &mut progress).await,
        _ => from_query(inner, query, &mut reader, sink, &mut progress).await,
    };
    tracing::debug!(
        %mode,
        pages = progress.state.pages,
        conversations = progress.state.conversations,
        visits = progress.state.visits,
        ok = result.is_ok(),
        "details read"
    );
    result
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

/// The query's distinct queues and media types, in its order.
fn distinct(query: &VisitQuery) -> (Vec<&QueueId>, Vec<sla_core::MediaType>) {
    let mut queues: Vec<&QueueId> = Vec::with_capacity(query.queues.len());
    for queue in &query.queues {
        if !queues.contains(&queue) {
            queues.push(queue);
        }
    }
    let mut media = Vec::with_capacity(query.media.len());
    for m in &query.media {
        if !media.contains(m) {
            media.push(*m);
        }
    }
    (queues, media)
}

/// `conversationEnd exists`: finished conversations only, whose details no longer change.
fn conversation_filters() -> Vec<DetailFilter> {
    vec![DetailFilter {
        kind: "and",
        predicates: vec![DetailPredicate::exists("conversationEnd")],
        clauses: Vec::new(),
    }]
}

/// A segment on one of `queues` (and of one of `media`, when given).
fn segment_filters(queues: &[&QueueId], media: &[sla_core::MediaType]) -> Vec<DetailFilter> {
    let mut clauses = vec![DetailClause {
        kind: "or",
        predicates: queues
            .iter()
            .map(|q| DetailPredicate::matches("queueId", q.as_str()))
            .collect(),
    }];
    if !media.is_empty() {
        clauses.push(DetailClause {
            kind: "or",
            predicates: media
                .iter()
                .map(|m| DetailPredicate::matches("mediaType", m.as_str()))
                .collect(),
        });
    }
    vec![DetailFilter {
        kind: "and",
        predicates: Vec::new(),
        clauses,
    }]
}

/// The pieces of the synchronous query for `query`: the window and, before it, the lookback
/// days, each cut into weeks of UTC days, times the batches of queues.
pub(crate) fn plan(
    query: &VisitQuery,
    queue_count: usize,
    lookback: Duration,
    queues_per_request: usize,
) -> Vec<Piece> {
    let window = query.window;
    let mut spans: Vec<(Timestamp, Timestamp, bool)> = Vec::new();
    let first_day = utc_midnight(window.start());
    let lookback = SignedDuration::try_from(lookback).unwrap_or(SignedDuration::ZERO);
    if let Ok(from) = window.start().checked_sub(lookback)
        && from < first_day
    {
        spans.extend(
            utc_pieces(from, first_day, MAX_PIECE_DAYS)
                .into_iter()
                .map(|(s, e)| (s, e, true)),
        );
    }
    spans.extend(
        utc_pieces(window.start(), window.end(), MAX_PIECE_DAYS)
            .into_iter()
            .map(|(s, e)| (s, e, false)),
    );
    let per_request = queues_per_request.max(1);
    let mut pieces = Vec::new();
    for (start, end, tail) in spans {
        let mut first = 0;
        while first < queue_count {
            let last = (first + per_request).min(queue_count);
            pieces.push(Piece {
                start,
                end,
                queues: first..last,
                tail,
            });
            first = last;
        }
    }
    pieces
}

/// Reads the synchronous query piece by piece, splitting a piece whose `totalHits` passes the
/// result cap.
async fn from_query(
    inner: &Inner,
    query: &VisitQuery,
    reader: &mut DetailsReader,
    sink: &mut dyn VisitSink,
    progress: &mut Progress<'_>,
) -> Result<(), GenesysError> {
    let (queues, media) = distinct(query);
    let mut pending: VecDeque<Piece> = plan(
        query,
        queues.len(),
        inner.details_lookback,
        inner.queues_per_request,
    )
    .into();
    progress.state.pieces_total = pending.len();
    progress.report();
    while let Some(piece) = pending.pop_front() {
        match read_piece(inner, &piece, &queues, &media, reader, sink, progress).await? {
            None => {
                progress.state.pieces_done += 1;
                progress.report();
            }
            Some(total_hits) => {
                let Some((first, second)) = split(&piece) else {
                    return Err(GenesysError::TooManyResults {
                        queue: queues[piece.queues.start].as_str().to_owned(),
                        day: utc_midnight(piece.start).strftime("%Y-%m-%d").to_string(),
                        total_hits,
                        limit: DETAILS_MAX_RESULTS,
                    });
                };
                tracing::debug!(
                    total_hits,
                    start = %piece.start,
                    end = %piece.end,
                    queues = piece.queues.len(),
                    "a details piece selects more than paging reaches, split in two"
                );
                pending.push_front(second);
                pending.push_front(first);
                progress.state.pieces_total += 1;
                progress.report();
            }
        }
    }
    Ok(())
}

/// Pages through one piece. `Some(totalHits)` when it selects more than the result cap allows,
/// so it must be split; what was read of it by then was delivered, and is not delivered again.
async fn read_piece(
    inner: &Inner,
    piece: &Piece,
    queues: &[&QueueId],
    media: &[sla_core::MediaType],
    reader: &mut DetailsReader,
    sink: &mut dyn VisitSink,
    progress: &mut Progress<'_>,
) -> Result<Option<u64>, GenesysError> {
    // A lookback piece is read newest end first: once a page reaches conversations that ended
    // before the window, no later page holds a metric inside it.
    let (order, order_by) = if piece.tail {
        ("desc", "conversationEnd")
    } else {
        ("asc", "conversationStart")
    };
    let mut body = DetailsQuery {
        interval: interval(piece.start, piece.end),
        order,
        order_by,
        paging: Paging {
            page_size: DETAILS_PAGE_SIZE,
            page_number: 1,
        },
        conversation_filters: conversation_filters(),
        segment_filters: segment_filters(&queues[piece.queues.clone()], media),
    };
    let describe = format!("POST {QUERY_PATH}");
    let mut tail = Tail::new(reader.filter.window().start());
    let first = inner
        .send_raw(&inner.post_request(QUERY_PATH, &body)?)
        .await?;
    let read = reader.read(&first, sink, &describe, piece.tail)?;
    drop(first);
    progress.page(&read.summary);
    let mut total_hits = read.summary.total_hits;
    if let Some(total) = total_hits.filter(|n| *n > DETAILS_MAX_RESULTS) {
        return Ok(Some(total));
    }
    if piece.tail && tail.done_after(read.ends) {
        return Ok(None);
    }
    let (mut current, mut on_page) = (1, read.summary.conversations);
    loop {
        let next = match next_details_page(current, on_page) {
            DetailsStep::End => return Ok(None),
            DetailsStep::Capped => {
                // `totalHits` grew past the cap while the piece was paged.
                let total = total_hits.unwrap_or(0).max(DETAILS_MAX_RESULTS + 1);
                return Ok(Some(total));
            }
            DetailsStep::Next(next) => next,
        };
        // A lookback piece usually ends on its first page, so it is not read ahead.
        let concurrency = if piece.tail { 1 } else { inner.concurrency };
        let count = details_batch(next, total_hits, concurrency);
        let mut requests = Vec::with_capacity(count as usize);
        for number in next..next + count {
            body.paging.page_number = number;
            requests.push(inner.post_request(QUERY_PATH, &body)?);
        }
        // The futures are made up front: a stream mapping borrowed items through a closure
        // trips the compiler's `Send` inference inside `async_trait` futures.
        let fetches: Vec<_> = requests.iter().map(|r| inner.send_raw(r)).collect();
        let mut pages = futures_util::stream::iter(fetches).buffered(count as usize);
        let mut number = next;
        while let Some(page) = pages.next().await {
            let read = reader.read(&page?, sink, &describe, piece.tail)?;
            progress.page(&read.summary);
            total_hits = read.summary.total_hits.or(total_hits);
            (current, on_page) = (number, read.summary.conversations);
            number += 1;
            // Pages asked for beyond the end are dropped unread.
            if on_page == 0 || (piece.tail && tail.done_after(read.ends)) {
                return Ok(None);
            }
        }
    }
}

/// The URL of a job, or of something below it (`results`).
fn job_url(inner: &Inner, job_id: &str, below: Option<&str>) -> Url {
    let mut url = inner.endpoints.api_url(JOBS_PATH);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.push(job_id);
        if let Some(below) = below {
            segments.push(below);
        }
    }
    url
}

/// Reads the window through one details job per queue batch: submit, wait, follow the cursor.
async fn from_jobs(
    inner: &Inner,
    query: &VisitQuery,
    reader: &mut DetailsReader,
    sink: &mut dyn VisitSink,
    progress: &mut Progress<'_>,
) -> Result<(), GenesysError> {
    let (queues, media) = distinct(query);
    let batches: Vec<&[&QueueId]> = queues.chunks(inner.queues_per_request.max(1)).collect();
    progress.state.pieces_total = batches.len();
    progress.report();
    for batch in batches {
        // Jobs select conversations with activity in the interval, so no lookback is needed.
        let body = AsyncDetailsQuery {
            interval: interval(query.window.start(), query.window.end()),
            order: "asc",
            order_by: "conversationStart",
            conversation_filters: conversation_filters(),
            segment_filters: segment_filters(batch, &media),
        };
        let submitted: JobSubmitted = inner.post_json(JOBS_PATH, &body).await?;
        let job_id = submitted
            .job_id
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| GenesysError::Decode {
                request: format!("POST {JOBS_PATH}"),
                reason: "the answer has no jobId".to_owned(),
            })?;
        tracing::debug!(%job_id, "details job submitted");
        wait_for_job(inner, &job_id).await?;
        let describe = format!("GET {JOBS_PATH}/{{jobId}}/results");
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = job_url(inner, &job_id, Some("results"));
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let page = inner.send_raw(&Inner::get_request(url)).await?;
            let read = reader.read(&page, sink, &describe, false)?;
            progress.page(&read.summary);
            match next_cursor(cursor.as_deref(), read.summary.cursor.as_deref()) {
                CursorStep::Next(next) => cursor = Some(next),
                CursorStep::End => break,
                CursorStep::Repeated => {
                    return Err(GenesysError::Decode {
                        request: describe,
                        reason: format!("details job {job_id} returned the same cursor twice"),
                    });
                }
            }
        }
        progress.state.pieces_done += 1;
        progress.report();
    }
    Ok(())
}

/// Polls a job until it is fulfilled, backing off between checks through the Sleep seam. A job
/// that ends otherwise is an error; one still running at the timeout is cancelled.
async fn wait_for_job(inner: &Inner, job_id: &str) -> Result<(), GenesysError> {
    let clock = &inner.sender.clock;
    let started = clock.now();
    let mut polls = 0;
    loop {
        let status: JobStatus = inner.get_json(job_url(inner, job_id, None)).await?;
        polls += 1;
        let state = status.state.unwrap_or_default();
        match job_step(&state) {
            JobStep::Ready => return Ok(()),
            JobStep::Failed => {
                return Err(GenesysError::JobFailed {
                    job_id: job_id.to_owned(),
                    state,
                    message: status.error_message,
                });
            }
            JobStep::Running => {}
        }
        let wait = poll_wait(polls);
        let waited = clock.now().saturating_duration_since(started);
        if waited + wait > inner.job_timeout {
            // Cancelling frees Genesys's resources; failing to is not worth a second error.
            if let Err(error) = inner.delete(job_url(inner, job_id, None)).await {
                tracing::warn!(%job_id, %error, "could not cancel a details job");
            }
            return Err(GenesysError::JobTimedOut {
                job_id: job_id.to_owned(),
                state,
                waited,
                polls,
            });
        }
        tracing::debug!(%job_id, %state, wait_ms = wait.as_millis(), "details job not ready yet");
        inner.sender.sleep.sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(list: &[&str]) -> Ends {
        let mut ends = Ends::default();
        for t in list {
            ends.add(t.parse().unwrap());
        }
        ends
    }

    #[test]
    fn a_lookback_stops_only_once_sorted_ends_reach_before_the_window() {
        let start: Timestamp = "2024-05-02T00:00:00Z".parse().unwrap();
        // Still inside the window on the first page; before it on the second.
        let mut tail = Tail::new(start);
        assert!(!tail.done_after(ends(&["2024-05-02T03:00:00Z", "2024-05-02T00:00:00Z"])));
        assert!(tail.done_after(ends(&["2024-05-01T23:59:59Z", "2024-05-01T20:00:00Z"])));
        // A page out of order: never stop early.
        let mut tail = Tail::new(start);
        assert!(!tail.done_after(ends(&["2024-05-01T20:00:00Z", "2024-05-02T01:00:00Z"])));
        assert!(!tail.done_after(ends(&["2024-05-01T10:00:00Z"])));
        // Pages out of order with each other: never stop early either.
        let mut tail = Tail::new(start);
        assert!(!tail.done_after(ends(&["2024-05-02T01:00:00Z", "2024-05-02T00:30:00Z"])));
        assert!(!tail.done_after(ends(&["2024-05-02T02:00:00Z", "2024-05-01T10:00:00Z"])));
        // A page without ends (or empty) changes nothing.
        let mut tail = Tail::new(start);
        assert!(!tail.done_after(Ends::default()));
        assert!(tail.done_after(ends(&["2024-05-01T23:00:00Z"])));
    }

    #[test]
    fn uuids_parse_into_keys_ignoring_case() {
        let id = "c0c0c0c0-0000-0000-0000-00000000000a";
        assert_eq!(
            parse_uuid(id),
            Some(0xc0c0_c0c0_0000_0000_0000_0000_0000_000a)
        );
        assert_eq!(parse_uuid(&id.to_uppercase()), parse_uuid(id));
        for bad in [
            "",
            "c0c0c0c0-0000-0000-0000-00000000000",
            "c0c0c0c0-0000-0000-0000-00000000000g",
            "c0c0c0c0x0000-0000-0000-00000000000a",
            "c0c0c0c000000-0000-0000-00000000000a",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
        let mut seen = Seen::default();
        assert!(seen.insert(id));
        assert!(!seen.insert(&id.to_uppercase()));
        assert!(seen.insert("not-a-uuid"));
        assert!(!seen.insert("not-a-uuid"));
        assert_eq!(seen.len(), 2);
    }
}
