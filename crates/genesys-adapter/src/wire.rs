//! Serde types matching Genesys JSON: camelCase, optional wherever Genesys may leave a field
//! out, unknown fields ignored. The observations query's types are in `wire/observations.rs`.

mod observations;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};

pub(crate) use crate::wire::observations::{
    ObservationMetric, ObservationQuery, ObservationResponse,
};

/// `ConversationAggregationQuery`, the body of the aggregates query.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AggregationQuery {
    pub(crate) interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) granularity: Option<&'static str>,
    pub(crate) time_zone: String,
    pub(crate) group_by: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) filter: Option<QueryFilter>,
    pub(crate) metrics: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) views: Vec<AggregationView>,
}

/// `ConversationAggregateQueryFilter` and `QueueObservationQueryFilter`, which share a shape:
/// predicates, clauses or both.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct QueryFilter {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) predicates: Vec<QueryPredicate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) clauses: Vec<QueryClause>,
}

/// `ConversationAggregateQueryClause` and `QueueObservationQueryClause`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct QueryClause {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) predicates: Vec<QueryPredicate>,
}

impl QueryClause {
    pub(crate) fn or(predicates: Vec<QueryPredicate>) -> Self {
        Self {
            kind: "or",
            predicates,
        }
    }
}

/// `ConversationAggregateQueryPredicate` on a dimension.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct QueryPredicate {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) dimension: &'static str,
    pub(crate) operator: &'static str,
    pub(crate) value: String,
}

impl QueryPredicate {
    pub(crate) fn matches(dimension: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind: "dimension",
            dimension,
            operator: "matches",
            value: value.into(),
        }
    }
}

/// `ConversationAggregationView`: a `rangeBound` view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct AggregationView {
    pub(crate) name: String,
    pub(crate) target: &'static str,
    pub(crate) function: &'static str,
    pub(crate) range: AggregationRange,
}

/// `AggregationRange`: only `gte` and an exclusive `lt` exist.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct AggregationRange {
    pub(crate) lt: u64,
}

/// `ConversationAggregateQueryResponse`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AggregateResponse {
    #[serde(default)]
    pub(crate) results: Option<Vec<AggregateGroup>>,
}

/// `ConversationAggregateDataContainer`.
#[derive(Debug, Deserialize)]
pub(crate) struct AggregateGroup {
    #[serde(default)]
    pub(crate) group: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) data: Option<Vec<AggregateBucket>>,
}

/// `StatisticalResponse`: one bucket.
#[derive(Debug, Deserialize)]
pub(crate) struct AggregateBucket {
    #[serde(default)]
    pub(crate) interval: Option<String>,
    #[serde(default)]
    pub(crate) metrics: Option<Vec<MetricData>>,
    #[serde(default)]
    pub(crate) views: Option<Vec<ViewData>>,
}

/// `AggregateMetricData`.
#[derive(Debug, Deserialize)]
pub(crate) struct MetricData {
    #[serde(default)]
    pub(crate) metric: Option<String>,
    #[serde(default)]
    pub(crate) stats: Option<Stats>,
}

/// `AggregateViewData`.
#[derive(Debug, Deserialize)]
pub(crate) struct ViewData {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) stats: Option<Stats>,
}

/// `StatisticalSummary`, in aggregates and observations answers alike: the count, and for timers
/// (`tAnswered`, `tAbandon`) the sum and the maximum in ms. Kept as JSON numbers so that a count
/// written as `12.0` still reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Stats {
    #[serde(default)]
    pub(crate) count: Option<serde_json::Number>,
    #[serde(default)]
    pub(crate) sum: Option<serde_json::Number>,
    #[serde(default)]
    pub(crate) max: Option<serde_json::Number>,
}

/// `QueueEntityListing`: one page of queues.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueueListing {
    #[serde(default)]
    pub(crate) entities: Option<Vec<Queue>>,
    #[serde(default)]
    pub(crate) page_count: Option<u32>,
    #[serde(default)]
    pub(crate) next_uri: Option<String>,
}

/// `Queue`: the fields reports need.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Queue {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) division: Option<Division>,
    #[serde(default)]
    pub(crate) media_settings: Option<QueueMediaSettings>,
}

/// `Division`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Division {
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// `QueueMediaSettings`: settings per configured media (`call` is analytics' `voice`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueMediaSettings {
    #[serde(default)]
    pub(crate) call: Option<MediaSettings>,
    #[serde(default)]
    pub(crate) callback: Option<MediaSettings>,
    #[serde(default)]
    pub(crate) chat: Option<MediaSettings>,
    #[serde(default)]
    pub(crate) email: Option<MediaSettings>,
    #[serde(default)]
    pub(crate) message: Option<MediaSettings>,
}

/// `MediaSettings` and its per-media variants: only the service level.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MediaSettings {
    #[serde(default)]
    pub(crate) service_level: Option<ServiceLevel>,
}

/// `ServiceLevel`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceLevel {
    #[serde(default)]
    pub(crate) percentage: Option<f64>,
    #[serde(default)]
    pub(crate) duration_ms: Option<i64>,
}

/// `ConversationQuery`, the body of the synchronous details query.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailsQuery {
    pub(crate) interval: String,
    pub(crate) order: &'static str,
    pub(crate) order_by: &'static str,
    pub(crate) paging: Paging,
    pub(crate) conversation_filters: Vec<DetailFilter>,
    pub(crate) segment_filters: Vec<DetailFilter>,
}

/// `PagingSpec`: 1-based page numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Paging {
    pub(crate) page_size: u32,
    pub(crate) page_number: u32,
}

/// `AsyncConversationQuery`, the body that submits a details job.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AsyncDetailsQuery {
    pub(crate) interval: String,
    pub(crate) order: &'static str,
    pub(crate) order_by: &'static str,
    pub(crate) conversation_filters: Vec<DetailFilter>,
    pub(crate) segment_filters: Vec<DetailFilter>,
}

/// `ConversationDetailQueryFilter` and `SegmentDetailQueryFilter`, which share a shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct DetailFilter {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) predicates: Vec<DetailPredicate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) clauses: Vec<DetailClause>,
}

/// `ConversationDetailQueryClause` and `SegmentDetailQueryClause`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct DetailClause {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) predicates: Vec<DetailPredicate>,
}

impl DetailClause {
    pub(crate) fn or(predicates: Vec<DetailPredicate>) -> Self {
        Self {
            kind: "or",
            predicates,
        }
    }
}

/// `ConversationDetailQueryPredicate` and `SegmentDetailQueryPredicate` on a dimension.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct DetailPredicate {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) dimension: &'static str,
    pub(crate) operator: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}

impl DetailPredicate {
    pub(crate) fn matches(dimension: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind: "dimension",
            dimension,
            operator: "matches",
            value: Some(value.into()),
        }
    }

    pub(crate) fn exists(dimension: &'static str) -> Self {
        Self {
            kind: "dimension",
            dimension,
            operator: "exists",
            value: None,
        }
    }
}

/// A JSON string, borrowed from the page when it holds no escapes. Details pages are large and
/// most of their strings are skipped, so the few we read are not copied either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl Text<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A page of conversation details: `AnalyticsConversationQueryResponse` from the query, or
/// `AnalyticsConversationAsyncQueryResponse` from a job's results. Only what visits need is
/// read; everything else in these large pages is skipped unread.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailsPage<'a> {
    /// Absent past the last page of the query.
    #[serde(default, borrow)]
    pub(crate) conversations: Option<Vec<DetailConversation<'a>>>,
    /// The query's count of matching conversations, which may change between pages.
    #[serde(default)]
    pub(crate) total_hits: Option<u64>,
    /// A job's cursor to the next page; absent on the last one.
    #[serde(default, borrow)]
    pub(crate) cursor: Option<Text<'a>>,
}

/// `AnalyticsConversationWithoutAttributes` / `AnalyticsConversation`: id, end and participants.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailConversation<'a> {
    #[serde(default, borrow)]
    pub(crate) conversation_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) conversation_end: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) participants: Option<Vec<DetailParticipant<'a>>>,
}

/// `AnalyticsParticipantWithoutAttributes`: its purpose (`acd` for a queue) and sessions.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailParticipant<'a> {
    #[serde(default, borrow)]
    pub(crate) purpose: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) sessions: Option<Vec<DetailSession<'a>>>,
}

/// `AnalyticsSession`: media type, metrics and segments.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailSession<'a> {
    #[serde(default, borrow)]
    pub(crate) media_type: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) metrics: Option<Vec<DetailMetric<'a>>>,
    #[serde(default, borrow)]
    pub(crate) segments: Option<Vec<DetailSegment<'a>>>,
}

/// `AnalyticsSessionMetric`: `{name, value, emitDate}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailMetric<'a> {
    #[serde(default, borrow)]
    pub(crate) name: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) value: Option<serde_json::Number>,
    #[serde(default, borrow)]
    pub(crate) emit_date: Option<Text<'a>>,
}

/// `AnalyticsConversationSegment`: the queue and when the segment started.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailSegment<'a> {
    #[serde(default, borrow)]
    pub(crate) queue_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) segment_start: Option<Text<'a>>,
}

/// `AsyncQueryResponse`: a submitted job.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobSubmitted {
    #[serde(default)]
    pub(crate) job_id: Option<String>,
}

/// `AsyncQueryStatus`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobStatus {
    #[serde(default)]
    pub(crate) state: Option<String>,
    #[serde(default)]
    pub(crate) error_message: Option<String>,
}

/// `DataAvailabilityResponse`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DataAvailability {
    #[serde(default)]
    pub(crate) data_availability_date: Option<String>,
}
