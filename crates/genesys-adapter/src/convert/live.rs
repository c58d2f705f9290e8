//! Observations answers into the live state: waiting and interacting conversations per queue
//! and media type, and agents on queue per queue.

use std::str::FromStr;

use sla_core::{LiveState, MediaState, MediaType, QueueId};

use crate::convert::{instant, whole};
use crate::error::{GenesysError, shorten};
use crate::observations::PATH;
use crate::wire::{ObservationMetric, ObservationResponse};

fn decode(reason: String) -> GenesysError {
    GenesysError::Decode {
        request: format!("POST {PATH}"),
        reason,
    }
}

/// A metric's count as a whole, non-negative number; `None` when Genesys left it out.
fn count(entry: &ObservationMetric, queue: &str) -> Result<Option<u64>, GenesysError> {
    let Some(number) = entry.stats.as_ref().and_then(|s| s.count.as_ref()) else {
        return Ok(None);
    };
    let metric = entry.metric.as_deref().unwrap_or_default();
    whole(number).map(Some).ok_or_else(|| {
        decode(format!(
            "{metric} of queue {queue} counts {number}, not a whole number"
        ))
    })
}

/// Adds one observations answer to `state`.
///
/// Per (queue, media type): `oWaiting` gives the waiting count and, from its details, when each
/// listed conversation started waiting (sorted, oldest first) and whether the list was
/// truncated (as Genesys marks it, or because it lists fewer than it counts); `oInteracting` gives the conversations being handled. `oOnQueueUsers` comes per
/// queue, once per routing status (its qualifier), and is summed over all of them. Entries of
/// the same metric in the same place add up, so answers of disjoint queue batches merge into one
/// state. Groups Genesys leaves out stay absent; other metrics and unknown fields are ignored.
pub(crate) fn add_observations(
    state: &mut LiveState,
    response: ObservationResponse,
) -> Result<(), GenesysError> {
    for group in response.results.unwrap_or_default() {
        let dims = group.group.unwrap_or_default();
        let Some(queue) = dims.get("queueId").filter(|q| !q.is_empty()) else {
            return Err(decode(format!(
                "a result group has no queueId: {}",
                describe(&dims)
            )));
        };
        let media = dims.get("mediaType").map(|name| {
            MediaType::from_str(name).unwrap_or_else(|_| {
                tracing::warn!(media_type = %name, "unknown media type, observed as unknown");
                MediaType::Unknown
            })
        });
        for entry in group.data.unwrap_or_default() {
            match entry.metric.as_deref() {
                Some("oOnQueueUsers") => {
                    let n = count(&entry, queue)?.unwrap_or(0);
                    let agents = state
                        .on_queue_agents
                        .entry(QueueId::new(queue.clone()))
                        .or_default();
                    *agents = agents.saturating_add(n);
                }
                Some("oWaiting") => {
                    let since = waiting_since(&entry, queue)?;
                    let listed = u64::try_from(since.len()).unwrap_or(u64::MAX);
                    // Genesys always counts; should it not, what it lists is what waits.
                    let n = count(&entry, queue)?.unwrap_or(listed);
                    let slot = media_state(state, queue, media);
                    slot.waiting = slot.waiting.saturating_add(n);
                    // The core reads `truncated` as "fewer listed than wait", which a list
                    // Genesys did not mark (or did not send) can be too.
                    slot.truncated |= entry.truncated.unwrap_or(false) || listed < n;
                    slot.waiting_since.extend(since);
                    slot.waiting_since.sort_unstable();
                }
                Some("oInteracting") => {
                    let n = count(&entry, queue)?.unwrap_or(0);
                    let slot = media_state(state, queue, media);
                    slot.interacting = slot.interacting.saturating_add(n);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The state of `queue` and `media` (unknown when the group names none), made on first use.
fn media_state<'s>(
    state: &'s mut LiveState,
    queue: &str,
    media: Option<MediaType>,
) -> &'s mut MediaState {
    state
        .media
        .entry((QueueId::new(queue), media.unwrap_or(MediaType::Unknown)))
        .or_default()
}

/// When each listed waiting conversation started waiting.
fn waiting_since(
    entry: &ObservationMetric,
    queue: &str,
) -> Result<Vec<jiff::Timestamp>, GenesysError> {
    entry
        .observations
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let date = o.observation_date.as_deref().ok_or_else(|| {
                decode(format!(
                    "a waiting conversation of queue {queue} has no observationDate"
                ))
            })?;
            instant(date)
                .map_err(|e| decode(format!("a waiting conversation of queue {queue} has a {e}")))
        })
        .collect()
}

/// A group's dimensions as `{key: value, ...}`, for messages.
fn describe(dims: &std::collections::BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = dims.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    shorten(&format!("{{{}}}", pairs.join(", ")), 200).into_owned()
}
