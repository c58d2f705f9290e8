//! The queue observations query: its body and its answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::{QueryFilter, Stats};

/// `QueueObservationQuery`, the body of the observations query.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObservationQuery {
    /// `QueueObservationQueryFilter`, shaped as the aggregates query's filter.
    pub(crate) filter: QueryFilter,
    pub(crate) metrics: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) detail_metrics: Vec<&'static str>,
}

/// `QueueObservationQueryResponse`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObservationResponse {
    #[serde(default)]
    pub(crate) results: Option<Vec<ObservationGroup>>,
}

/// `QueueObservationDataContainer`: a queue (and media type) and its metrics.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObservationGroup {
    #[serde(default)]
    pub(crate) group: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) data: Option<Vec<ObservationMetric>>,
}

/// `ObservationMetricData`: one metric and the conversations behind it when details were asked
/// for. Its `qualifier` (a routing status for `oOnQueueUsers`) is not read: the figures the
/// core wants are sums over every qualifier.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObservationMetric {
    #[serde(default)]
    pub(crate) metric: Option<String>,
    #[serde(default)]
    /// Only the count is read.
    pub(crate) stats: Option<Stats>,
    #[serde(default)]
    pub(crate) truncated: Option<bool>,
    #[serde(default)]
    pub(crate) observations: Option<Vec<ObservationValue>>,
}

/// `ObservationValue`: one conversation; only when it began to be observed matters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObservationValue {
    #[serde(default)]
    pub(crate) observation_date: Option<String>,
}
