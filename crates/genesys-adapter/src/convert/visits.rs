//! Conversation details into queue visits: one per session of an `acd` participant, kept when
//! it is to a queue and of a media type the query asks for, with a metric inside its window.

use std::collections::HashMap;

use jiff::Timestamp;
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome, VisitQuery};
use sla_core::{MediaType, QueueId, TimeWindow};

use crate::convert::instant::instant;
use crate::convert::whole;
use crate::wire::{DetailConversation, Text};

/// Which visits a details read keeps: those to the query's queues, of its media types, with a
/// metric emitted inside its window.
#[derive(Debug)]
pub(crate) struct VisitFilter {
    /// The queue ids as Genesys writes them, each with the core's id to hand out.
    queues: HashMap<Box<str>, QueueId>,
    media: Vec<MediaType>,
    window: TimeWindow,
}

impl VisitFilter {
    pub(crate) fn new(query: &VisitQuery) -> Self {
        Self {
            queues: query
                .queues
                .iter()
                .map(|q| (Box::from(q.as_str()), q.clone()))
                .collect(),
            media: query.media.clone(),
            window: query.window,
        }
    }

    pub(crate) fn window(&self) -> TimeWindow {
        self.window
    }
}

/// The visits `filter` keeps among one conversation's, one per session of an `acd` participant,
/// handed to `emit`; returns how many there were. `Err` holds what was wrong with the JSON.
///
/// A visit's queue is the first `queueId` on its segments and its media type the session's; it
/// entered at its first segment's start (else when it was offered); `nOffered` says when it was
/// offered, and the first of `tAnswered`, `tAbandon` and `tFlowOut` how it ended, after what
/// wait (the metric's value in ms) and when (the metric's emit date). Only the emit dates of
/// these metrics are read.
pub(crate) fn visits(
    conversation_id: &str,
    conversation: &DetailConversation<'_>,
    filter: &VisitFilter,
    mut emit: impl FnMut(Visit),
) -> Result<usize, String> {
    let mut kept = 0;
    let participants = conversation.participants.as_deref().unwrap_or_default();
    for participant in participants {
        if participant.purpose.as_ref().map(Text::as_str) != Some("acd") {
            continue;
        }
        for session in participant.sessions.as_deref().unwrap_or_default() {
            let segments = session.segments.as_deref().unwrap_or_default();
            let Some(queue) = segments
                .iter()
                .find_map(|s| s.queue_id.as_ref())
                .and_then(|id| filter.queues.get(id.as_str()))
            else {
                continue;
            };
            let media = media_type(session.media_type.as_ref());
            if !filter.media.is_empty() && !filter.media.contains(&media) {
                continue;
            }
            let mut offered_at = None;
            let mut outcome = None;
            for metric in session.metrics.as_deref().unwrap_or_default() {
                let Some(name) = &metric.name else { continue };
                let kind = match name.as_str() {
                    "nOffered" => {
                        if offered_at.is_none() {
                            offered_at = Some(emitted(name, metric.emit_date.as_ref())?);
                        }
                        continue;
                    }
                    "tAnswered" => OutcomeKind::Answered,
                    "tAbandon" => OutcomeKind::Abandoned,
                    "tFlowOut" => OutcomeKind::FlowOut,
                    _ => continue,
                };
                if outcome.is_none() {
                    let value = metric
                        .value
                        .as_ref()
                        .ok_or_else(|| format!("metric {} has no value", name.as_str()))?;
                    outcome = Some(VisitOutcome {
                        kind,
                        wait_ms: wait_ms(name.as_str(), value)?,
                        at: emitted(name, metric.emit_date.as_ref())?,
                    });
                }
            }
            let window = filter.window;
            if !(offered_at.is_some_and(|t| window.contains(t))
                || outcome.is_some_and(|o: VisitOutcome| window.contains(o.at)))
            {
                continue;
            }
            let entered = match segments.first().and_then(|s| s.segment_start.as_ref()) {
                Some(start) => instant(start.as_str())?,
                None => match offered_at.or(outcome.map(|o| o.at)) {
                    Some(t) => t,
                    None => continue,
                },
            };
            emit(Visit {
                conversation_id: conversation_id.to_owned(),
                queue: queue.clone(),
                media,
                entered,
                offered_at,
                outcome,
            });
            kept += 1;
        }
    }
    Ok(kept)
}

/// A session's media type; one the core does not know counts as unknown.
fn media_type(text: Option<&Text<'_>>) -> MediaType {
    let Some(text) = text else {
        return MediaType::Unknown;
    };
    // An exact match first: the core's parser lower-cases into a new string.
    MediaType::ALL
        .iter()
        .copied()
        .find(|m| m.as_str() == text.as_str())
        .or_else(|| text.as_str().parse().ok())
        .unwrap_or_else(|| {
            tracing::debug!(
                media_type = text.as_str(),
                "unknown media type, counted as unknown"
            );
            MediaType::Unknown
        })
}

fn emitted(name: &Text<'_>, emit_date: Option<&Text<'_>>) -> Result<Timestamp, String> {
    let date = emit_date.ok_or_else(|| format!("metric {} has no emitDate", name.as_str()))?;
    instant(date.as_str())
}

/// A wait in whole, non-negative milliseconds.
fn wait_ms(name: &str, value: &serde_json::Number) -> Result<u64, String> {
    whole(value).ok_or_else(|| {
        format!("metric {name} has a value of {value}, not a whole number of milliseconds")
    })
}
