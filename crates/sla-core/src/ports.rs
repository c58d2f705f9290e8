//! The ports: the traits the frontends call and the Genesys adapter implements.
//!
//! They speak domain types only, so the core, the binaries and their tests never see HTTP or
//! Genesys JSON.

use std::error::Error as StdError;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::live::{LiveQuery, LiveState};
use crate::model::{
    Granularity, MediaType, QueueId, QueueInfo, QueueRef, Threshold, TimeWindow, Zone,
};
use crate::tally::TallySet;

/// A boxed error carried as the source of a [`SourceError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What a port may fail with. The adapter's detailed error rides along as the source, so
/// printing the whole chain shows the upstream status, message and correlation id.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The credentials were refused or a token could not be obtained.
    #[error("not authorized")]
    Unauthorized(#[source] BoxError),
    /// The upstream refused the request as invalid, or refused access to a resource.
    #[error("request rejected")]
    Rejected(#[source] BoxError),
    /// The upstream stayed unavailable (throttled, failing or unreachable) until the retry
    /// budget ran out.
    #[error(
        "upstream unavailable after {attempts} {}",
        if *attempts == 1 { "attempt" } else { "attempts" }
    )]
    Unavailable {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: BoxError,
    },
    /// A response could not be understood.
    #[error("invalid response")]
    InvalidResponse(#[source] BoxError),
    /// Anything else.
    #[error("source failed")]
    Other(#[source] BoxError),
}

/// Which queues a directory lookup asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueSelector {
    /// Every queue.
    All,
    /// Queues by id.
    Ids(Vec<QueueId>),
    /// Queues whose name matches, ignoring case, with `*` as a wildcard at either end.
    Name(String),
}

impl QueueSelector {
    /// Whether the selector picks `queue` as Genesys's directory does: by id, or by name
    /// ignoring case with `*` as a wildcard at either end. For directories other than Genesys
    /// (the history store) to answer alike.
    #[must_use]
    pub fn selects(&self, queue: &QueueRef) -> bool {
        match self {
            QueueSelector::All => true,
            QueueSelector::Ids(ids) => ids.contains(&queue.id),
            QueueSelector::Name(pattern) => {
                let name = queue.name.to_lowercase();
                let pattern = pattern.to_lowercase();
                let (starts, rest) = match pattern.strip_prefix('*') {
                    Some(rest) => (true, rest),
                    None => (false, pattern.as_str()),
                };
                let (ends, core) = match rest.strip_suffix('*') {
                    Some(core) => (true, core),
                    None => (false, rest),
                };
                match (starts, ends) {
                    (true, true) => name.contains(core),
                    (true, false) => name.ends_with(core),
                    (false, true) => name.starts_with(core),
                    (false, false) => name == core,
                }
            }
        }
    }
}

/// Lists queues with their configured service levels.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait QueueDirectory: Send + Sync {
    /// The queues the selector matches, in any order.
    async fn queues(&self, selector: &QueueSelector) -> Result<Vec<QueueInfo>, SourceError>;
}

/// What a [`TallySource`] is asked to count.
#[derive(Clone, Debug, PartialEq)]
pub struct TallyQuery {
    /// The queues to count; never empty.
    pub queues: Vec<QueueId>,
    /// Only these media types; all when empty.
    pub media: Vec<MediaType>,
    /// The window.
    pub window: TimeWindow,
    /// The zone whose calendar aligns the buckets.
    pub zone: Zone,
    /// The bucket size: [`Granularity::Total`], [`Granularity::HalfHour`], [`Granularity::Hour`]
    /// or [`Granularity::Day`] (weeks and months are rolled up from days by the core).
    pub granularity: Granularity,
    /// The thresholds to count `answered_within` and `abandoned_within` for, sorted and unique.
    pub thresholds: Vec<Threshold>,
    /// Count `short_abandoned` as abandons with a wait below this bound.
    pub short_abandon: Option<Threshold>,
}

/// Produces tallies per (queue, media type, bucket).
///
/// A source must key each tally by the start of the bucket of [`crate::BucketPlan`] (built from
/// the query's window, zone and granularity) that contains the instant the metric was emitted.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TallySource: Send + Sync {
    /// Counts what the query asks for.
    async fn tallies(&self, query: &TallyQuery) -> Result<TallySet, SourceError>;
}

/// How a queue visit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// Answered (`tAnswered`).
    Answered,
    /// Abandoned by the customer (`tAbandon`).
    Abandoned,
    /// Left the queue by other means (`tFlowOut`).
    FlowOut,
}

/// The end of a visit: how, after how long a wait, and when that was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VisitOutcome {
    /// How the visit ended.
    pub kind: OutcomeKind,
    /// The wait in milliseconds.
    pub wait_ms: u64,
    /// When the outcome metric was emitted; it counts in the bucket holding this instant.
    pub at: Timestamp,
}

/// One conversation's stay in one queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Visit {
    /// The conversation.
    pub conversation_id: String,
    /// The queue.
    pub queue: QueueId,
    /// The media type.
    pub media: MediaType,
    /// When the visit entered the queue.
    pub entered: Timestamp,
    /// When `nOffered` was emitted; `None` when the visit was not offered.
    pub offered_at: Option<Timestamp>,
    /// How it ended, when it has.
    pub outcome: Option<VisitOutcome>,
}

/// What a [`VisitSource`] is asked to list.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitQuery {
    /// The queues; never empty.
    pub queues: Vec<QueueId>,
    /// Only these media types; all when empty.
    pub media: Vec<MediaType>,
    /// Visits with a metric emitted in this window.
    pub window: TimeWindow,
}

/// Receives visits as a [`VisitSource`] streams them.
pub trait VisitSink: Send {
    /// Takes one visit. Sources deliver each visit once.
    fn visit(&mut self, visit: Visit);
}

/// Streams queue visits one by one, so memory stays bounded however many there are.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VisitSource: Send + Sync {
    /// Delivers every visit the query matches to `sink`.
    // The explicit `'static` object bound keeps mockall's generated signature in step with the
    // trait's; the parentheses it needs trip the lint inside the macro expansion.
    #[allow(unused_parens)]
    async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut (dyn VisitSink + 'static),
    ) -> Result<(), SourceError>;
}

/// One step of a sync: the queues and the span of emit instants whose stored visits a
/// [`VisitStore`] replaces as a unit, in one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncPiece {
    /// The queues, each once, sorted.
    pub queues: Vec<QueueId>,
    /// The span: visits with `nOffered` or the outcome emitted inside it belong to the piece.
    pub window: TimeWindow,
}

/// How writing visits changed a store, visit by visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WriteCounts {
    /// Visits the store did not hold.
    pub new: u64,
    /// Visits the store held with different values (a restatement), now corrected.
    pub updated: u64,
    /// Visits the store held exactly so.
    pub unchanged: u64,
    /// Stored visits the source no longer reports for the piece, deleted.
    pub removed: u64,
}

impl std::ops::AddAssign for WriteCounts {
    fn add_assign(&mut self, rhs: Self) {
        self.new += rhs.new;
        self.updated += rhs.updated;
        self.unchanged += rhs.unchanged;
        self.removed += rhs.removed;
    }
}

/// The spans of time over which each queue's visits have been synced into a store: the
/// union of the windows of the pieces it committed, per queue, as sorted disjoint windows
/// (windows that touch are merged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    spans: std::collections::BTreeMap<QueueId, Vec<TimeWindow>>,
}

impl Coverage {
    /// Nothing covered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `window` to the spans of `queue`, merging it with the spans it overlaps or touches.
    pub fn add(&mut self, queue: &QueueId, window: TimeWindow) {
        let spans = self.spans.entry(queue.clone()).or_default();
        let (mut start, mut end) = (window.start(), window.end());
        spans.retain(|span| {
            let apart = span.end() < start || end < span.start();
            if !apart {
                start = start.min(span.start());
                end = end.max(span.end());
            }
            apart
        });
        let at = spans.partition_point(|span| span.start() < start);
        // `start < end` holds: the merged span contains `window`, which is not empty.
        if let Ok(merged) = TimeWindow::new(start, end) {
            spans.insert(at, merged);
        }
    }

    /// The spans of `queue`, sorted and disjoint; empty when it was never synced.
    #[must_use]
    pub fn spans(&self, queue: &QueueId) -> &[TimeWindow] {
        self.spans.get(queue).map_or(&[], Vec::as_slice)
    }

    /// The end of the last span of `queue`: the latest instant its visits were synced up to.
    #[must_use]
    pub fn synced_until(&self, queue: &QueueId) -> Option<Timestamp> {
        self.spans(queue).last().map(TimeWindow::end)
    }

    /// How far a report over `queues` and `window` is covered without a gap from the window's
    /// start: the earliest instant, over the queues, where a queue's coverage stops (at most the
    /// window's end, which means the whole window is covered); `None` when some queue's coverage
    /// does not reach back to the window's start, or when `queues` is empty.
    #[must_use]
    pub fn complete_until(&self, queues: &[QueueId], window: TimeWindow) -> Option<Timestamp> {
        let mut until: Option<Timestamp> = None;
        for queue in queues {
            let span = self
                .spans(queue)
                .iter()
                .find(|span| span.contains(window.start()))?;
            let end = span.end().min(window.end());
            until = Some(until.map_or(end, |u| u.min(end)));
        }
        until
    }
}

/// A sync that ran to its end, as a store records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRecord {
    /// The queues synced.
    pub queues: Vec<QueueId>,
    /// The window asked for (its end capped at the time of the sync).
    pub window: TimeWindow,
    /// The time of the sync (the store stamps the time it records the end itself).
    pub started: Timestamp,
    /// How many pieces it read and wrote.
    pub pieces: usize,
    /// How it changed the store.
    pub written: WriteCounts,
}

/// A store of queue visits that a sync fills from a [`VisitSource`] and that serves them back
/// as a [`VisitSource`] itself (implementations implement both, and [`QueueDirectory`] for the
/// queues synced).
///
/// A stored visit is identified by its conversation and its visit index, the position of the
/// visit among its conversation's visits in the order the store first saw them: a visit
/// written again (same conversation, queue and entry instant) keeps its index and is updated
/// in place, so rewriting a piece, or pieces that overlap, never doubles a visit.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VisitStore: Send + Sync {
    /// Makes the stored visits of `piece` exactly `visits`, in one transaction: visits new to
    /// the store are added, those that changed are updated, and stored visits to the piece's
    /// queues with a metric emitted inside its window that `visits` no longer holds are deleted
    /// (Genesys restated them). The piece's window is added to the coverage of its queues in
    /// the same transaction, so a store is never covered where its visits were not written.
    ///
    /// `visits` must be what a [`VisitSource`] delivers for the piece's queues, every media
    /// type, and its window; instants are stored in whole milliseconds.
    async fn write_piece(
        &self,
        piece: &SyncPiece,
        visits: Vec<Visit>,
    ) -> Result<WriteCounts, SourceError>;

    /// Records the names, divisions and configured service levels of `queues`, replacing what
    /// was recorded for them, so that reports from the store need no queue directory upstream.
    async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), SourceError>;

    /// The coverage of `queues` (queues never synced have no spans).
    async fn coverage(&self, queues: &[QueueId]) -> Result<Coverage, SourceError>;

    /// Records a sync that ran to its end.
    async fn record_sync(&self, record: &SyncRecord) -> Result<(), SourceError>;
}

/// Observes what is happening now in queues: waiting and handled conversations and agents on
/// queue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LiveSource: Send + Sync {
    /// The state of the queries' queues now.
    async fn observe(&self, query: &LiveQuery) -> Result<LiveState, SourceError>;
}
