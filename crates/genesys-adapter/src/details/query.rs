//! The synchronous details query: piece by piece, each paged through (a few pages at once), a
//! piece whose `totalHits` passes the result cap split in two, and lookback pieces read newest end
//! first only until their conversations end before the window.

use std::collections::VecDeque;

use futures_util::StreamExt as _;
use jiff::Timestamp;
use sla_core::ports::VisitQuery;
use sla_core::{MediaType, QueueId};

use crate::aggregates::interval;
use crate::client::Inner;
use crate::details::Reading;
use crate::details::pieces::{Piece, plan, split, utc_midnight};
use crate::details::reader::Ends;
use crate::error::GenesysError;
use crate::pagination::{
    DETAILS_MAX_RESULTS, DETAILS_PAGE_SIZE, DetailsStep, details_batch, next_details_page,
};
use crate::selection::{distinct, finished_conversations, segment_filters};
use crate::wire::{DetailsQuery, Paging};

/// Where the synchronous details query goes.
pub(crate) const QUERY_PATH: &str = "/api/v2/analytics/conversations/details/query";

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

/// Reads the synchronous query piece by piece, splitting a piece whose `totalHits` passes the
/// result cap.
pub(crate) async fn read(
    inner: &Inner,
    query: &VisitQuery,
    reading: &mut Reading<'_>,
) -> Result<(), GenesysError> {
    let (queues, media) = distinct(&query.queues, &query.media);
    let mut pending: VecDeque<Piece> = plan(
        query,
        queues.len(),
        inner.details_lookback,
        inner.queues_per_request,
    )
    .into();
    reading.progress.planned(pending.len());
    while let Some(piece) = pending.pop_front() {
        match read_piece(inner, &piece, &queues, &media, reading).await? {
            None => reading.progress.piece_done(),
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
                reading.progress.split();
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
    media: &[MediaType],
    reading: &mut Reading<'_>,
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
        conversation_filters: finished_conversations(),
        segment_filters: segment_filters(&queues[piece.queues.clone()], media),
    };
    let describe = format!("POST {QUERY_PATH}");
    let mut tail = Tail::new(reading.window().start());
    let first = inner
        .send_raw(&inner.post_request(QUERY_PATH, &body)?)
        .await?;
    let read = reading.page(&first, &describe, piece.tail)?;
    drop(first);
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
            let read = reading.page(&page?, &describe, piece.tail)?;
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
}
