//! Rows and values as both databases hold them: instants in whole milliseconds, outcomes and
//! media types as text, and the queue directory read back from its tables.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sla_core::ports::{OutcomeKind, QueueSelector, SyncRecord, Visit, VisitOutcome};
use sla_core::{
    MediaType, QueueId, QueueInfo, QueueRef, ServiceLevelTarget, Threshold, TimeWindow,
};

/// The columns of `visits`, in the order the readers below expect them.
pub(crate) const VISIT_COLUMNS: &str = "conversation_id, visit_index, queue_id, media_type, \
     entered_ms, offered_ms, outcome, ended_ms, wait_ms";

/// How many visits go into one message from a reading task to the sink.
pub(crate) const BATCH: usize = 2048;

/// An instant as stored: milliseconds since the epoch, rounded down.
pub(crate) fn ms(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// The first whole millisecond at or after `t`: a stored instant `m` lies at or after `t`
/// exactly when `m >= ceil_ms(t)`, so window bounds compare in whole milliseconds.
pub(crate) fn ceil_ms(t: Timestamp) -> i64 {
    let ns = t.as_nanosecond();
    let floor = ns.div_euclid(1_000_000);
    let ceil = if ns.rem_euclid(1_000_000) == 0 {
        floor
    } else {
        floor + 1
    };
    i64::try_from(ceil).unwrap_or(i64::MAX)
}

/// A stored instant.
pub(crate) fn instant(ms: i64) -> Result<Timestamp, String> {
    Timestamp::from_millisecond(ms).map_err(|_| format!("instant {ms} ms is out of range"))
}

/// How an outcome is stored.
pub(crate) fn outcome_name(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Answered => "answered",
        OutcomeKind::Abandoned => "abandoned",
        OutcomeKind::FlowOut => "flow_out",
    }
}

fn outcome_kind(name: &str) -> Result<OutcomeKind, String> {
    match name {
        "answered" => Ok(OutcomeKind::Answered),
        "abandoned" => Ok(OutcomeKind::Abandoned),
        "flow_out" => Ok(OutcomeKind::FlowOut),
        other => Err(format!("unknown outcome '{other}'")),
    }
}

/// A stored media type.
pub(crate) fn media(name: &str) -> Result<MediaType, String> {
    MediaType::ALL
        .iter()
        .copied()
        .find(|m| m.as_str() == name)
        .ok_or_else(|| format!("unknown media type '{name}'"))
}

/// A visit's values as stored, borrowed from it.
#[derive(Debug)]
pub(crate) struct VisitValues<'a> {
    pub(crate) conversation_id: &'a str,
    pub(crate) queue_id: &'a str,
    pub(crate) media_type: &'static str,
    pub(crate) entered_ms: i64,
    pub(crate) offered_ms: Option<i64>,
    pub(crate) outcome: Option<&'static str>,
    pub(crate) ended_ms: Option<i64>,
    pub(crate) wait_ms: Option<i64>,
}

impl<'a> VisitValues<'a> {
    pub(crate) fn of(visit: &'a Visit) -> Self {
        Self {
            conversation_id: &visit.conversation_id,
            queue_id: visit.queue.as_str(),
            media_type: visit.media.as_str(),
            entered_ms: ms(visit.entered),
            offered_ms: visit.offered_at.map(ms),
            outcome: visit.outcome.map(|o| outcome_name(o.kind)),
            ended_ms: visit.outcome.map(|o| ms(o.at)),
            wait_ms: visit
                .outcome
                .map(|o| i64::try_from(o.wait_ms).unwrap_or(i64::MAX)),
        }
    }
}

/// A visit from its stored values (the columns after the index, in [`VISIT_COLUMNS`] order).
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per column, read straight from a row"
)]
pub(crate) fn visit(
    conversation_id: String,
    queue: QueueId,
    media: MediaType,
    entered_ms: i64,
    offered_ms: Option<i64>,
    outcome: Option<&str>,
    ended_ms: Option<i64>,
    wait_ms: Option<i64>,
) -> Result<Visit, String> {
    let outcome = match (outcome, ended_ms, wait_ms) {
        (Some(kind), Some(at), Some(wait)) => Some(VisitOutcome {
            kind: outcome_kind(kind)?,
            wait_ms: u64::try_from(wait).map_err(|_| format!("negative wait {wait} ms"))?,
            at: instant(at)?,
        }),
        (None, None, None) => None,
        _ => {
            return Err(format!(
                "conversation {conversation_id}: an outcome without its instant or wait"
            ));
        }
    };
    Ok(Visit {
        media,
        entered: instant(entered_ms)?,
        offered_at: offered_ms.map(instant).transpose()?,
        outcome,
        queue,
        conversation_id,
    })
}

/// A stored synced span.
pub(crate) fn span(start_ms: i64, end_ms: i64) -> Result<TimeWindow, String> {
    TimeWindow::new(instant(start_ms)?, instant(end_ms)?)
        .map_err(|_| format!("synced span {start_ms}..{end_ms} ms is empty"))
}

/// A sync record's values as stored; the finish is stamped now.
#[derive(Debug)]
pub(crate) struct SyncValues {
    pub(crate) started_ms: i64,
    pub(crate) finished_ms: i64,
    pub(crate) window_start_ms: i64,
    pub(crate) window_end_ms: i64,
    /// The queue ids, separated by spaces.
    pub(crate) queue_ids: String,
    /// Pieces, then visits new, updated, unchanged and removed.
    pub(crate) counts: [i64; 5],
}

impl SyncValues {
    pub(crate) fn of(record: &SyncRecord) -> Self {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let ids: Vec<&str> = record.queues.iter().map(QueueId::as_str).collect();
        Self {
            started_ms: ms(record.started),
            finished_ms: ms(Timestamp::now()),
            window_start_ms: ms(record.window.start()),
            window_end_ms: ms(record.window.end()),
            queue_ids: ids.join(" "),
            counts: [
                i64::try_from(record.pieces).unwrap_or(i64::MAX),
                count(record.written.new),
                count(record.written.updated),
                count(record.written.unchanged),
                count(record.written.removed),
            ],
        }
    }
}

/// A queue's service levels as stored: media type, threshold in milliseconds and target.
pub(crate) fn levels(queue: &QueueInfo) -> impl Iterator<Item = (&'static str, i64, f64)> + '_ {
    queue.service_levels.iter().map(|(media, target)| {
        let threshold = i64::try_from(target.threshold.as_millis()).unwrap_or(i64::MAX);
        (media.as_str(), threshold, target.target_percent)
    })
}

/// `[start, end)` widened to the stored spans it overlaps or touches, whose earliest start and
/// latest end are `bounds` (both `None` when there are none).
pub(crate) fn merged_span(bounds: (Option<i64>, Option<i64>), start: i64, end: i64) -> (i64, i64) {
    let (first, last) = bounds;
    (
        first.map_or(start, |s| s.min(start)),
        last.map_or(end, |e| e.max(end)),
    )
}

/// A stored visit index.
pub(crate) fn index(value: i64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("visit index {value} is out of range"))
}

/// One row of `queues` joined with its service levels (absent for a queue without any).
#[derive(Debug)]
pub(crate) struct QueueRow {
    pub(crate) queue_id: String,
    pub(crate) name: String,
    pub(crate) division: Option<String>,
    pub(crate) level: Option<(String, i64, f64)>,
}

/// Folds joined rows into queues, keeping those `selector` picks.
pub(crate) fn queues(
    rows: Vec<QueueRow>,
    selector: &QueueSelector,
) -> Result<Vec<QueueInfo>, String> {
    let mut found: BTreeMap<String, QueueInfo> = BTreeMap::new();
    for row in rows {
        let info = found
            .entry(row.queue_id.clone())
            .or_insert_with(|| QueueInfo {
                queue: QueueRef {
                    id: QueueId::new(row.queue_id),
                    name: row.name,
                },
                division: row.division,
                service_levels: BTreeMap::new(),
            });
        if let Some((media_type, threshold_ms, target_percent)) = row.level {
            let threshold = u64::try_from(threshold_ms)
                .map_err(|_| format!("negative service-level threshold {threshold_ms} ms"))?;
            info.service_levels.insert(
                media(&media_type)?,
                ServiceLevelTarget {
                    threshold: Threshold::from_millis(threshold),
                    target_percent,
                },
            );
        }
    }
    Ok(found
        .into_values()
        .filter(|q| selector.selects(&q.queue))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bounds_round_up_to_whole_milliseconds() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(ceil_ms(t("1970-01-01T00:00:01Z")), 1000);
        assert_eq!(ceil_ms(t("1970-01-01T00:00:01.0000001Z")), 1001);
        assert_eq!(ms(t("1970-01-01T00:00:01.9999Z")), 1999);
        assert_eq!(ceil_ms(t("1969-12-31T23:59:59.9995Z")), 0);
        assert_eq!(ms(t("1969-12-31T23:59:59.9995Z")), -1);
    }

    #[test]
    fn stored_values_read_back_or_are_refused() {
        let id = || QueueId::new("q");
        let read = visit(
            "c".into(),
            id(),
            MediaType::Chat,
            1000,
            Some(1000),
            Some("flow_out"),
            Some(5000),
            Some(4000),
        )
        .unwrap();
        assert_eq!(read.media, MediaType::Chat);
        assert_eq!(read.outcome.unwrap().kind, OutcomeKind::FlowOut);
        let values = VisitValues::of(&read);
        assert_eq!(
            (values.outcome, values.ended_ms, values.wait_ms),
            (Some("flow_out"), Some(5000), Some(4000))
        );
        assert_eq!(media("fax"), Err("unknown media type 'fax'".to_owned()));
        for (outcome, ended, wait, reason) in [
            (Some("lost"), Some(1), Some(1), "unknown outcome 'lost'"),
            (Some("answered"), None, Some(1), "an outcome without"),
            (Some("answered"), Some(1), Some(-5), "negative wait -5 ms"),
        ] {
            let error = visit(
                "c".into(),
                id(),
                MediaType::Voice,
                0,
                None,
                outcome,
                ended,
                wait,
            )
            .unwrap_err();
            assert!(error.contains(reason), "{error}");
        }
        assert!(span(5, 5).is_err());
        assert!(index(-1).is_err());
        assert_eq!(index(3), Ok(3));
    }

    #[test]
    fn names_select_queues_ignoring_case_with_wildcards_at_either_end() {
        let row = |id: &str, name: &str| QueueRow {
            queue_id: id.into(),
            name: name.into(),
            division: None,
            level: None,
        };
        let rows = || {
            vec![
                row("1", "Sales EU"),
                row("2", "Support"),
                row("3", "Été Sales"),
            ]
        };
        let names = |selector: QueueSelector| -> Vec<String> {
            queues(rows(), &selector)
                .unwrap()
                .into_iter()
                .map(|q| q.queue.name)
                .collect()
        };
        assert_eq!(names(QueueSelector::Name("sales*".into())), ["Sales EU"]);
        assert_eq!(names(QueueSelector::Name("*SALES".into())), ["Été Sales"]);
        assert_eq!(
            names(QueueSelector::Name("*sales*".into())),
            ["Sales EU", "Été Sales"]
        );
        assert_eq!(
            names(QueueSelector::Name("été sales".into())),
            ["Été Sales"]
        );
        assert_eq!(
            names(QueueSelector::Name("sales".into())),
            Vec::<String>::new()
        );
        assert_eq!(
            names(QueueSelector::Ids(vec![QueueId::new("2")])),
            ["Support"]
        );
        assert_eq!(names(QueueSelector::All).len(), 3);
    }
}
