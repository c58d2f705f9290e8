//! Conversation details: the synchronous query, filters shared with details jobs, and the
//! conversation JSON (customer, one `acd` participant per queue visit, an agent when answered).

use serde::{Deserialize, Serialize};

use crate::{
    dataset::{ConvRef, Dataset},
    error::ApiError,
    org::{Conversation, MediaType, Org, Outcome, Visit, mix, uuid_from_bits},
    wire::{Filter, NumericRange, Operator, PredicateType, format_ms, parse_interval},
};

const DAY_MS: i64 = 86_400_000;
/// Genesys refuses sync details intervals longer than a week.
const MAX_INTERVAL_MS: i64 = 7 * DAY_MS;
const MAX_PAGE_SIZE: i64 = 100;
const DEFAULT_PAGE_SIZE: i64 = 25;
/// Paging past this many results is refused; clients must split the interval.
const MAX_RESULTS: i64 = 100_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ConversationQuery {
    interval: String,
    conversation_filters: Option<Vec<Filter<ConversationPredicate>>>,
    segment_filters: Option<Vec<Filter<SegmentPredicate>>>,
    evaluation_filters: Option<Vec<serde_json::Value>>,
    resolution_filters: Option<Vec<serde_json::Value>>,
    survey_filters: Option<Vec<serde_json::Value>>,
    aggregations: Option<Vec<serde_json::Value>>,
    order: Option<Order>,
    order_by: Option<OrderBy>,
    paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AsyncConversationQuery {
    interval: String,
    conversation_filters: Option<Vec<Filter<ConversationPredicate>>>,
    segment_filters: Option<Vec<Filter<SegmentPredicate>>>,
    evaluation_filters: Option<Vec<serde_json::Value>>,
    resolution_filters: Option<Vec<serde_json::Value>>,
    survey_filters: Option<Vec<serde_json::Value>>,
    order: Option<Order>,
    order_by: Option<OrderBy>,
    limit: Option<i64>,
    start_of_day_interval_matching: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Paging {
    page_size: i64,
    page_number: i64,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
enum Order {
    #[default]
    Asc,
    Desc,
    Unordered,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
enum OrderBy {
    #[default]
    ConversationStart,
    ConversationEnd,
    SegmentStart,
    SegmentEnd,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConversationPredicate {
    #[serde(rename = "type")]
    kind: Option<PredicateType>,
    dimension: Option<String>,
    metric: Option<String>,
    operator: Option<Operator>,
    value: Option<String>,
    range: Option<NumericRange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SegmentPredicate {
    #[serde(rename = "type")]
    kind: Option<PredicateType>,
    dimension: Option<String>,
    metric: Option<String>,
    operator: Option<Operator>,
    value: Option<String>,
    range: Option<NumericRange>,
    property: Option<String>,
    property_type: Option<PropertyType>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
enum PropertyType {
    Bool,
    Integer,
    Real,
    Date,
    String,
    Uuid,
}

/// A conversation-level predicate, ready to evaluate.
enum ConvPred {
    Constant(bool),
    Id(String),
    Division(String),
    Direction(String),
    Metric {
        name: String,
        operator: Operator,
        range: Option<NumericRange>,
        value: Option<f64>,
    },
}

/// A segment-level predicate, evaluated on each queue visit's `acd` segment.
enum SegPred {
    Constant(bool),
    Queue(Option<usize>),
    Media(Option<MediaType>),
    Text(SegmentText, String),
    Duration(NumericRange),
}

#[derive(Clone, Copy)]
enum SegmentText {
    Purpose,
    SegmentType,
    Direction,
    DisconnectType,
}

/// Filters and ordering common to the sync query and jobs.
pub(crate) struct Selection {
    conversation_filters: Vec<Filter<ConvPred>>,
    segment_filters: Vec<Filter<SegPred>>,
    order: Order,
    order_by: OrderBy,
}

fn unsupported_filters(
    lists: [(&str, Option<&Vec<serde_json::Value>>); 3],
) -> Result<(), ApiError> {
    for (name, list) in lists {
        if list.is_some_and(|l| !l.is_empty()) {
            return Err(ApiError::bad_request(format!(
                "{name} are not supported by the simulator"
            )));
        }
    }
    Ok(())
}

impl Selection {
    fn compile(
        org: &Org,
        conversation_filters: Option<&Vec<Filter<ConversationPredicate>>>,
        segment_filters: Option<&Vec<Filter<SegmentPredicate>>>,
        order: Option<Order>,
        order_by: Option<OrderBy>,
    ) -> Result<Selection, ApiError> {
        Ok(Selection {
            conversation_filters: conversation_filters
                .into_iter()
                .flatten()
                .map(|f| f.try_map(compile_conversation_predicate))
                .collect::<Result<_, _>>()?,
            segment_filters: segment_filters
                .into_iter()
                .flatten()
                .map(|f| f.try_map(|p| compile_segment_predicate(org, p)))
                .collect::<Result<_, _>>()?,
            order: order.unwrap_or_default(),
            order_by: order_by.unwrap_or_default(),
        })
    }

    fn matches(&self, org: &Org, hit: &ConvRef, short_abandon_ms: u64) -> bool {
        let (conv, visits) = hit.get(org);
        let conv_ok = self.conversation_filters.iter().all(|f| {
            f.eval(&|p: &ConvPred| eval_conversation(org, conv, visits, p, short_abandon_ms))
        });
        conv_ok
            && self.segment_filters.iter().all(|f| {
                visits
                    .iter()
                    .any(|v| f.eval(&|p: &SegPred| eval_segment(v, p)))
            })
    }

    /// Sorts conversations as the query asked.
    fn sort(&self, org: &Org, hits: &mut [ConvRef]) {
        let key = |hit: &ConvRef| {
            let c = hit.get(org).0;
            match self.order_by {
                OrderBy::ConversationStart | OrderBy::SegmentStart => c.start,
                OrderBy::ConversationEnd | OrderBy::SegmentEnd => c.end,
            }
        };
        // The history is stored by start already, and live conversations follow it; a stable
        // sort keeps ties in that order.
        hits.sort_by_key(key);
        if self.order == Order::Desc {
            hits.reverse();
        }
    }
}

fn compile_conversation_predicate(p: &ConversationPredicate) -> Result<ConvPred, ApiError> {
    let operator = p.operator.unwrap_or_default();
    if let Some(metric) = &p.metric {
        if matches!(
            p.kind,
            Some(PredicateType::Dimension | PredicateType::Property)
        ) {
            return Err(ApiError::bad_request(
                "A predicate with a metric must have type metric",
            ));
        }
        if !matches!(
            metric.as_str(),
            "nOffered"
                | "nOverSla"
                | "tAcd"
                | "tAnswered"
                | "tAbandon"
                | "tShortAbandon"
                | "tFlowOut"
        ) {
            return Err(ApiError::bad_request(format!(
                "Conversation filter metric '{metric}' is not supported by the simulator"
            )));
        }
        let value = match &p.value {
            None => None,
            Some(v) => Some(v.parse::<f64>().map_err(|_| {
                ApiError::bad_request(format!("Invalid value '{v}' for metric '{metric}'"))
            })?),
        };
        if operator == Operator::Matches && value.is_none() && p.range.is_none() {
            return Err(ApiError::bad_request(format!(
                "A metric predicate on '{metric}' requires a value or a range"
            )));
        }
        return Ok(ConvPred::Metric {
            name: metric.clone(),
            operator,
            range: p.range,
            value,
        });
    }
    let dimension = p
        .dimension
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("A predicate requires a dimension or a metric"))?;
    if p.kind == Some(PredicateType::Property) {
        return Err(ApiError::bad_request(
            "Property predicates are not supported by the simulator",
        ));
    }
    let value = || {
        p.value.clone().ok_or_else(|| {
            ApiError::bad_request(format!(
                "A matches predicate on '{dimension}' requires a value"
            ))
        })
    };
    match (dimension, operator) {
        // Every simulated conversation has ended and has all of these.
        (
            "conversationEnd"
            | "conversationStart"
            | "conversationId"
            | "divisionId"
            | "originatingDirection",
            Operator::Exists,
        ) => Ok(ConvPred::Constant(true)),
        (
            "conversationEnd"
            | "conversationStart"
            | "conversationId"
            | "divisionId"
            | "originatingDirection",
            Operator::NotExists,
        ) => Ok(ConvPred::Constant(false)),
        ("conversationId", Operator::Matches) => Ok(ConvPred::Id(value()?)),
        ("divisionId", Operator::Matches) => Ok(ConvPred::Division(value()?)),
        ("originatingDirection", Operator::Matches) => Ok(ConvPred::Direction(value()?)),
        (other, _) => Err(ApiError::bad_request(format!(
            "Conversation filter on dimension '{other}' with this operator is not supported by the simulator"
        ))),
    }
}

fn compile_segment_predicate(org: &Org, p: &SegmentPredicate) -> Result<SegPred, ApiError> {
    if p.property.is_some() || p.property_type.is_some() || p.kind == Some(PredicateType::Property)
    {
        return Err(ApiError::bad_request(
            "Property predicates are not supported by the simulator",
        ));
    }
    let operator = p.operator.unwrap_or_default();
    if let Some(metric) = &p.metric {
        if metric != "tSegmentDuration" {
            return Err(ApiError::bad_request(format!(
                "Invalid segment filter metric '{metric}'"
            )));
        }
        return match (operator, p.range) {
            (Operator::Exists, _) => Ok(SegPred::Constant(true)),
            (Operator::NotExists, _) => Ok(SegPred::Constant(false)),
            (Operator::Matches, Some(range)) => Ok(SegPred::Duration(range)),
            (Operator::Matches, None) => Err(ApiError::bad_request(
                "A tSegmentDuration predicate requires a range",
            )),
        };
    }
    let dimension = p
        .dimension
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("A predicate requires a dimension or a metric"))?;
    let text = match dimension {
        "queueId" | "mediaType" => None,
        "purpose" => Some(SegmentText::Purpose),
        "segmentType" => Some(SegmentText::SegmentType),
        "direction" => Some(SegmentText::Direction),
        "disconnectType" => Some(SegmentText::DisconnectType),
        other => {
            return Err(ApiError::bad_request(format!(
                "Segment filter dimension '{other}' is not supported by the simulator"
            )));
        }
    };
    match operator {
        Operator::Exists => return Ok(SegPred::Constant(true)),
        Operator::NotExists => return Ok(SegPred::Constant(false)),
        Operator::Matches => {}
    }
    let value = p.value.as_deref().ok_or_else(|| {
        ApiError::bad_request(format!(
            "A matches predicate on '{dimension}' requires a value"
        ))
    })?;
    Ok(match (dimension, text) {
        ("queueId", _) => SegPred::Queue(org.queues.iter().position(|q| q.id == value)),
        ("mediaType", _) => SegPred::Media(MediaType::from_analytics(value)),
        (_, Some(text)) => SegPred::Text(text, value.to_owned()),
        _ => SegPred::Constant(false),
    })
}

fn eval_conversation(
    org: &Org,
    conv: &Conversation,
    visits: &[Visit],
    p: &ConvPred,
    short_abandon_ms: u64,
) -> bool {
    match p {
        ConvPred::Constant(b) => *b,
        ConvPred::Id(id) => conv.id == *id,
        ConvPred::Division(id) => visits
            .iter()
            .any(|v| org.queues[v.queue_idx].division.id == *id),
        ConvPred::Direction(d) => d == "inbound",
        ConvPred::Metric {
            name,
            operator,
            range,
            value,
        } => {
            let mut found = visits
                .iter()
                .flat_map(|v| session_metrics(org, v, short_abandon_ms))
                .filter(|m| m.name == name);
            match operator {
                Operator::Exists => found.next().is_some(),
                Operator::NotExists => found.next().is_none(),
                #[expect(clippy::cast_precision_loss, reason = "metric values are small")]
                Operator::Matches => found.any(|m| {
                    let x = m.value as f64;
                    range.is_none_or(|r| r.contains(x)) && value.is_none_or(|v| (v - x).abs() < 0.5)
                }),
            }
        }
    }
}

fn eval_segment(v: &Visit, p: &SegPred) -> bool {
    match p {
        SegPred::Constant(b) => *b,
        SegPred::Queue(q) => *q == Some(v.queue_idx),
        SegPred::Media(m) => *m == Some(v.media_type),
        SegPred::Text(kind, value) => {
            let actual = match kind {
                SegmentText::Purpose => "acd",
                SegmentText::SegmentType => "interact",
                SegmentText::Direction => "inbound",
                SegmentText::DisconnectType => disconnect_type(v),
            };
            actual == value
        }
        #[expect(clippy::cast_precision_loss, reason = "waits are small")]
        SegPred::Duration(range) => range.contains(v.wait_ms as f64),
    }
}

fn disconnect_type(v: &Visit) -> &'static str {
    match v.outcome {
        // Answered and flowed-out visits are handed on by ACD; an abandon is the customer hanging up.
        Outcome::Answered | Outcome::FlowOut => "transfer",
        Outcome::Abandoned => "peer",
    }
}

/// The synchronous details query, over the history and the finished live conversations.
pub(crate) fn query(
    data: &Dataset,
    q: &ConversationQuery,
    short_abandon_ms: u64,
) -> Result<DetailsResponse, ApiError> {
    let org = &*data.org;
    let (start, end) = parse_interval(&q.interval)?;
    if end - start > MAX_INTERVAL_MS {
        return Err(ApiError::bad_request(
            "Interval may not exceed 7 days for a conversation details query",
        ));
    }
    let (page_size, page_number) = q
        .paging
        .as_ref()
        .map_or((DEFAULT_PAGE_SIZE, 1), |p| (p.page_size, p.page_number));
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::bad_request(format!(
            "paging.pageSize must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"
        )));
    }
    if page_number < 1 {
        return Err(ApiError::bad_request(format!(
            "paging.pageNumber must be at least 1, got {page_number}"
        )));
    }
    if page_number.saturating_mul(page_size) > MAX_RESULTS {
        return Err(ApiError::bad_request(
            "Pagination may not exceed 100000 results.",
        ));
    }
    unsupported_filters([
        ("evaluationFilters", q.evaluation_filters.as_ref()),
        ("resolutionFilters", q.resolution_filters.as_ref()),
        ("surveyFilters", q.survey_filters.as_ref()),
    ])?;
    if q.aggregations.as_ref().is_some_and(|a| !a.is_empty()) {
        return Err(ApiError::bad_request(
            "aggregations are not supported by the simulator",
        ));
    }
    let selection = Selection::compile(
        org,
        q.conversation_filters.as_ref(),
        q.segment_filters.as_ref(),
        q.order,
        q.order_by,
    )?;
    let mut hits = started_on_days_touched(data, start, end);
    hits.retain(|hit| selection.matches(org, hit, short_abandon_ms));
    selection.sort(org, &mut hits);
    let total_hits = hits.len();
    let (page_size, page_number) = (
        usize::try_from(page_size).unwrap_or(0),
        usize::try_from(page_number).unwrap_or(0),
    );
    let from = (page_number - 1) * page_size;
    let page: Vec<ConversationOut> = hits
        .iter()
        .skip(from)
        .take(page_size)
        .map(|hit| render_conversation(org, hit, short_abandon_ms))
        .collect();
    Ok(DetailsResponse {
        // Past the last page Genesys leaves `conversations` out entirely; clients stop on that.
        conversations: (!page.is_empty()).then_some(page),
        total_hits,
    })
}

/// Conversations that started on a UTC day touched by `[start, end)`, as the sync query selects.
fn started_on_days_touched(data: &Dataset, start: i64, end: i64) -> Vec<ConvRef> {
    let day_start = start.div_euclid(DAY_MS) * DAY_MS;
    let day_end = (end - 1).div_euclid(DAY_MS) * DAY_MS + DAY_MS;
    data.started_between(day_start, day_end)
}

/// What a details job selects: matching conversations in the requested order.
pub(crate) fn job_selection(
    data: &Dataset,
    q: &AsyncConversationQuery,
    short_abandon_ms: u64,
) -> Result<Vec<ConvRef>, ApiError> {
    let org = &*data.org;
    let (start, end) = parse_interval(&q.interval)?;
    unsupported_filters([
        ("evaluationFilters", q.evaluation_filters.as_ref()),
        ("resolutionFilters", q.resolution_filters.as_ref()),
        ("surveyFilters", q.survey_filters.as_ref()),
    ])?;
    if q.limit.is_some_and(|l| l < 1) {
        return Err(ApiError::bad_request("limit must be at least 1"));
    }
    let selection = Selection::compile(
        org,
        q.conversation_filters.as_ref(),
        q.segment_filters.as_ref(),
        q.order,
        q.order_by,
    )?;
    let mut hits = if q.start_of_day_interval_matching == Some(true) {
        started_on_days_touched(data, start, end)
    } else {
        // Jobs return conversations with activity in the interval.
        data.active_between(start, end)
    };
    hits.retain(|hit| selection.matches(org, hit, short_abandon_ms));
    selection.sort(org, &mut hits);
    if let Some(limit) = q.limit {
        hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(hits)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    conversations: Option<Vec<ConversationOut>>,
    total_hits: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationOut {
    conversation_id: String,
    conversation_start: String,
    conversation_end: String,
    originating_direction: &'static str,
    division_ids: Vec<String>,
    participants: Vec<ParticipantOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParticipantOut {
    participant_id: String,
    participant_name: String,
    purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    sessions: Vec<SessionOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionOut {
    session_id: String,
    media_type: &'static str,
    direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    selected_agent_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics: Vec<MetricOut>,
    segments: Vec<SegmentOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricOut {
    name: &'static str,
    value: u64,
    emit_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentOut {
    segment_start: String,
    segment_end: String,
    segment_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue_id: Option<String>,
    disconnect_type: &'static str,
}

struct SessionMetric {
    name: &'static str,
    value: u64,
    emit_ms: i64,
}

/// The metrics on a visit's `acd` session, in emit order; the aggregates use the same rules.
fn session_metrics(org: &Org, v: &Visit, short_abandon_ms: u64) -> Vec<SessionMetric> {
    let (entered, out, wait) = (v.entered_ms(), v.outcome_ms(), v.wait_ms);
    let at_out = |name, value| SessionMetric {
        name,
        value,
        emit_ms: out,
    };
    let mut metrics = vec![
        SessionMetric {
            name: "nOffered",
            value: 1,
            emit_ms: entered,
        },
        at_out("tAcd", wait),
    ];
    match v.outcome {
        Outcome::Answered => {
            metrics.push(at_out("tAnswered", wait));
            let level = org.queues[v.queue_idx].service_level(v.media_type);
            if wait > level.duration_ms {
                metrics.push(at_out("nOverSla", 1));
            }
        }
        Outcome::Abandoned => {
            metrics.push(at_out("tAbandon", wait));
            if wait < short_abandon_ms {
                metrics.push(at_out("tShortAbandon", wait));
            }
        }
        Outcome::FlowOut => metrics.push(at_out("tFlowOut", wait)),
    }
    metrics
}

/// A stable UUID for the `k`-th participant or session of a conversation (the first `acd`
/// session is the 4th: customer participant, customer session, `acd` participant).
#[expect(
    clippy::cast_possible_truncation,
    reason = "splitting 128 bits in halves"
)]
pub(crate) fn derived_id(bits: u128, k: u64) -> String {
    let (hi, lo) = ((bits >> 64) as u64, bits as u64);
    uuid_from_bits((u128::from(mix(hi, k)) << 64) | u128::from(mix(lo, k))).to_string()
}

pub(crate) fn render_conversation(
    org: &Org,
    hit: &ConvRef,
    short_abandon_ms: u64,
) -> ConversationOut {
    let (conv, visits) = hit.get(org);
    let media = visits.first().map_or("voice", |v| v.media_type.as_str());
    let (start, end) = (
        format_ms(conv.start.as_millisecond()),
        format_ms(conv.end.as_millisecond()),
    );
    let mut k = 0;
    let mut next_id = || {
        k += 1;
        derived_id(conv.id_bits, k)
    };
    let mut participants = vec![ParticipantOut {
        participant_id: next_id(),
        participant_name: "Customer".to_owned(),
        purpose: "customer",
        user_id: None,
        sessions: vec![SessionOut {
            session_id: next_id(),
            media_type: media,
            direction: "inbound",
            selected_agent_id: None,
            metrics: Vec::new(),
            segments: vec![SegmentOut {
                segment_start: start.clone(),
                segment_end: end.clone(),
                segment_type: "interact",
                queue_id: None,
                disconnect_type: "endpoint",
            }],
        }],
    }];
    let mut division_ids: Vec<String> = Vec::new();
    for v in visits {
        let queue = &org.queues[v.queue_idx];
        if !division_ids.contains(&queue.division.id) {
            division_ids.push(queue.division.id.clone());
        }
        let agent = (v.outcome == Outcome::Answered).then(|| &org.agents[v.agent]);
        let metrics = session_metrics(org, v, short_abandon_ms)
            .into_iter()
            .map(|m| MetricOut {
                name: m.name,
                value: m.value,
                emit_date: format_ms(m.emit_ms),
            })
            .collect();
        let outcome_at = format_ms(v.outcome_ms());
        participants.push(ParticipantOut {
            participant_id: next_id(),
            participant_name: queue.name.clone(),
            purpose: "acd",
            user_id: None,
            sessions: vec![SessionOut {
                session_id: next_id(),
                media_type: v.media_type.as_str(),
                direction: "inbound",
                selected_agent_id: agent.map(|a| a.0.clone()),
                metrics,
                segments: vec![SegmentOut {
                    segment_start: format_ms(v.entered_ms()),
                    segment_end: outcome_at.clone(),
                    segment_type: "interact",
                    queue_id: Some(queue.id.clone()),
                    disconnect_type: disconnect_type(v),
                }],
            }],
        });
        if let Some((agent_id, agent_name)) = agent {
            participants.push(ParticipantOut {
                participant_id: next_id(),
                participant_name: agent_name.clone(),
                purpose: "agent",
                user_id: Some(agent_id.clone()),
                sessions: vec![SessionOut {
                    session_id: next_id(),
                    media_type: v.media_type.as_str(),
                    direction: "inbound",
                    selected_agent_id: None,
                    metrics: Vec::new(),
                    segments: vec![SegmentOut {
                        segment_start: outcome_at,
                        segment_end: format_ms(v.outcome_ms() + v.handle_ms),
                        segment_type: "interact",
                        queue_id: Some(queue.id.clone()),
                        disconnect_type: "client",
                    }],
                }],
            });
        }
    }
    ConversationOut {
        conversation_id: conv.id.clone(),
        conversation_start: start,
        conversation_end: end,
        originating_direction: "inbound",
        division_ids,
        participants,
    }
}
