//! Serde types matching Genesys JSON: camelCase, optional wherever Genesys may leave a field
//! out, unknown fields ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// `ConversationAggregateQueryFilter`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct QueryFilter {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) clauses: Vec<QueryClause>,
}

/// `ConversationAggregateQueryClause`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct QueryClause {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) predicates: Vec<QueryPredicate>,
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

/// `StatisticalSummary`: only the count matters to us. Kept as a JSON number so that a count
/// written as `12.0` still reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Stats {
    #[serde(default)]
    pub(crate) count: Option<serde_json::Number>,
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
