//! The ports: the traits the frontends call and the Genesys adapter implements.
//!
//! They speak domain types only, so the core, the binaries and their tests never see HTTP or
//! Genesys JSON.

use std::error::Error as StdError;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::live::{LiveQuery, LiveState};
use crate::model::{Granularity, MediaType, QueueId, QueueInfo, Threshold, TimeWindow, Zone};
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

/// Observes what is happening now in queues: waiting and handled conversations and agents on
/// queue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LiveSource: Send + Sync {
    /// The state of the queries' queues now.
    async fn observe(&self, query: &LiveQuery) -> Result<LiveState, SourceError>;
}
