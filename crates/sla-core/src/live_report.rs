//! The live document (`sla-live/v1`): a rolling window's service levels beside the live state,
//! and where each service level lands if everyone waiting past its threshold is a miss.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::formula::percent;
use crate::live::{LiveState, MediaState};
use crate::model::{Granularity, MediaType, QueueInfo, SourceKind, Threshold};
use crate::query::ReportRequest;
use crate::report::{
    Counts, Kpis, ReportFormula, ReportWindow, ServiceLevel, build_report, instant, opt_as_str,
};
use crate::service::Counted;
use crate::tally::{Tally, TallyKey};

/// The `schema` of a live document.
pub const LIVE_SCHEMA: &str = "sla-live/v1";

/// The live figures of a row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveFigures {
    /// Conversations waiting now.
    pub waiting: u64,
    /// How long the longest-waiting conversation has waited, in ms; 0 when none waits.
    pub longest_waiting_ms: u64,
    /// Conversations being handled now.
    pub interacting: u64,
    /// Agents on queue, any routing status.
    pub on_queue_agents: u64,
    /// Whether a waiting list was cut short, making `waiting_over_threshold` a lower bound.
    pub truncated: bool,
}

impl LiveFigures {
    fn add(&mut self, other: &LiveFigures) {
        self.waiting = self.waiting.saturating_add(other.waiting);
        self.longest_waiting_ms = self.longest_waiting_ms.max(other.longest_waiting_ms);
        self.interacting = self.interacting.saturating_add(other.interacting);
        self.truncated |= other.truncated;
    }
}

/// One objective's rolling service level, with who is waiting past its threshold now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveServiceLevel {
    /// The rolling window's service level.
    #[serde(flatten)]
    pub level: ServiceLevel,
    /// Conversations waiting now for longer than the threshold: each is already a miss however
    /// it ends. A lower bound when a waiting list was cut short.
    pub waiting_over_threshold: u64,
    /// The service level if every conversation waiting past the threshold is counted as a
    /// miss: 100 × numerator / (denominator + waiting over threshold).
    pub projected_percent: Option<f64>,
}

/// One queue's (or queue and media type's) live row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveRow {
    /// The queue id.
    pub queue_id: String,
    /// The queue name.
    pub queue_name: String,
    /// The media type, with `by_media`.
    #[serde(serialize_with = "opt_as_str")]
    pub media_type: Option<MediaType>,
    /// Now.
    pub live: LiveFigures,
    /// Counts over the rolling window.
    pub counts: Counts,
    /// Companion KPIs over the rolling window.
    pub kpis: Kpis,
    /// Service levels over the rolling window, one per objective that applies to the queue.
    pub service_levels: Vec<LiveServiceLevel>,
}

/// The sums of every row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveTotal {
    /// Sums; the longest wait is the longest of all.
    pub live: LiveFigures,
    /// Counts over the rolling window.
    pub counts: Counts,
    /// Companion KPIs over the rolling window.
    pub kpis: Kpis,
    /// Service levels per objective over the rows that have it.
    pub service_levels: Vec<LiveServiceLevel>,
}

/// The live document (`sla-live/v1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveReport {
    /// Always [`LIVE_SCHEMA`].
    pub schema: &'static str,
    /// When the state was observed.
    #[serde(serialize_with = "instant")]
    pub as_of: Timestamp,
    /// The rolling window.
    pub window: ReportWindow,
    /// The formula.
    pub formula: ReportFormula,
    /// Where the rolling window's counts came from.
    #[serde(serialize_with = "crate::report::as_str")]
    pub source: SourceKind,
    /// One row per queue (per queue and media type with `by_media`).
    pub queues: Vec<LiveRow>,
    /// Sums over every row.
    pub total: LiveTotal,
}

/// The live document: `request` is the rolling window's (see [`crate::LiveWindow`]), `counted`
/// its queues and their counts over the window, and `state` what was observed at `as_of`.
#[must_use]
pub fn build_live(
    request: &ReportRequest,
    counted: &Counted,
    state: &LiveState,
    as_of: Timestamp,
) -> LiveReport {
    let request = &live_request(request);
    // A media type with conversations now but no visit in the window still gets its row.
    let mut tallies = counted.tallies.clone();
    for (queue, media) in state.media.keys() {
        let key = TallyKey {
            queue: queue.clone(),
            media: *media,
            bucket: request.window.start(),
        };
        tallies.add(key, &Tally::default());
    }
    let report = &build_report(request, &counted.queues, &tallies);
    let by_id: BTreeMap<&str, &QueueInfo> = counted
        .queues
        .iter()
        .map(|q| (q.queue.id.as_str(), q))
        .collect();
    let mut rows = Vec::with_capacity(report.queues.len());
    // Waiting conversations past each objective's threshold, summed for the total by name.
    let mut total_over: BTreeMap<&str, u64> = BTreeMap::new();
    let mut total_live = LiveFigures::default();
    let mut agents_counted: Vec<&str> = Vec::new();
    for row in &report.queues {
        let Some(queue) = by_id.get(row.queue_id.as_str()) else {
            continue;
        };
        let id = &queue.queue.id;
        let media: Vec<(MediaType, &MediaState)> = state
            .media
            .range((id.clone(), MediaType::ALL[0])..)
            .take_while(|((q, _), _)| q == id)
            .filter(|((_, m), _)| row.media_type.is_none_or(|r| r == *m))
            .filter(|((_, m), _)| request.media.is_empty() || request.media.contains(m))
            .map(|((_, m), s)| (*m, s))
            .collect();
        let mut live = LiveFigures {
            on_queue_agents: state.on_queue_agents.get(id).copied().unwrap_or(0),
            ..LiveFigures::default()
        };
        for (_, s) in &media {
            live.add(&figures_of(s, as_of));
        }
        total_live.add(&live);
        // Agents serve every media type of their queue: counted once per queue in the total.
        if !agents_counted.contains(&row.queue_id.as_str()) {
            agents_counted.push(&row.queue_id);
            total_live.on_queue_agents = total_live
                .on_queue_agents
                .saturating_add(live.on_queue_agents);
        }
        let service_levels = row
            .service_levels
            .iter()
            .map(|level| {
                let over = waiting_over_objective(request, queue, &media, &level.objective, as_of);
                let slot = total_over.entry(level.objective.as_str()).or_default();
                *slot = slot.saturating_add(over);
                live_level(level, over)
            })
            .collect();
        rows.push(LiveRow {
            queue_id: row.queue_id.clone(),
            queue_name: row.queue_name.clone(),
            media_type: row.media_type,
            live,
            counts: row.counts,
            kpis: row.kpis,
            service_levels,
        });
    }
    let total = LiveTotal {
        live: total_live,
        counts: report.total.counts,
        kpis: report.total.kpis,
        service_levels: report
            .total
            .service_levels
            .iter()
            .map(|level| {
                let over = total_over
                    .get(level.objective.as_str())
                    .copied()
                    .unwrap_or(0);
                live_level(level, over)
            })
            .collect(),
    };
    LiveReport {
        schema: LIVE_SCHEMA,
        as_of,
        window: report.window.clone(),
        formula: report.formula,
        source: report.source,
        queues: rows,
        total,
    }
}

/// The rolling window's request as live figures are built from: one interval, counted from
/// the aggregates.
#[must_use]
pub fn live_request(request: &ReportRequest) -> ReportRequest {
    ReportRequest {
        granularity: Granularity::Total,
        source: SourceKind::Aggregates,
        ..request.clone()
    }
}

/// How many of `media`'s listed conversations have waited past the threshold of the objective
/// named `objective`: its fixed one, or the queue's configured one per media type (a media type
/// without one is not measured).
fn waiting_over_objective(
    request: &ReportRequest,
    queue: &QueueInfo,
    media: &[(MediaType, &MediaState)],
    objective: &str,
    as_of: Timestamp,
) -> u64 {
    let Some(objective) = request.objectives.iter().find(|o| o.name == objective) else {
        return 0;
    };
    media
        .iter()
        .filter_map(|(m, s)| {
            let threshold = objective.threshold.for_visit(queue, *m)?;
            Some(waiting_over(s, threshold, as_of))
        })
        .sum()
}

fn live_level(level: &ServiceLevel, over: u64) -> LiveServiceLevel {
    LiveServiceLevel {
        level: level.clone(),
        waiting_over_threshold: over,
        projected_percent: percent(level.numerator, level.denominator.saturating_add(over)),
    }
}

fn wait_ms(since: Timestamp, now: Timestamp) -> u64 {
    u64::try_from(now.duration_since(since).as_millis()).unwrap_or(0)
}

fn figures_of(state: &MediaState, now: Timestamp) -> LiveFigures {
    LiveFigures {
        waiting: state.waiting,
        longest_waiting_ms: state
            .waiting_since
            .iter()
            .map(|since| wait_ms(*since, now))
            .max()
            .unwrap_or(0),
        interacting: state.interacting,
        on_queue_agents: 0,
        truncated: state.truncated,
    }
}

/// Listed conversations that have waited longer than `threshold` at `now`: each is a miss
/// whenever it ends, as "met" is a wait of at most the threshold.
fn waiting_over(state: &MediaState, threshold: Threshold, now: Timestamp) -> u64 {
    let count = state
        .waiting_since
        .iter()
        .filter(|since| wait_ms(**since, now) > threshold.as_millis())
        .count();
    u64::try_from(count).unwrap_or(u64::MAX)
}
