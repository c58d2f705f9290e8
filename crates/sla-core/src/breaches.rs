//! Breaches: the visits that missed an objective, for `sla breaches`.

use std::collections::HashMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::model::Format;
use crate::model::{
    AbandonPolicy, FlowOutPolicy, Formula, MediaType, Objective, ObjectiveThreshold, QueueId,
    QueueInfo, Threshold, TimeWindow, Zone,
};
use crate::ports::{OutcomeKind, Visit, VisitSink};
use crate::render::csv_field;

/// One visit that missed an objective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The conversation.
    pub conversation_id: String,
    /// The queue's id.
    pub queue_id: String,
    /// The queue's name.
    pub queue_name: String,
    /// The media type.
    #[serde(serialize_with = "display")]
    pub media_type: MediaType,
    /// When the visit entered the queue.
    #[serde(serialize_with = "display")]
    pub entered_at: Timestamp,
    /// How the visit ended: `answered`, `abandoned` or `flow_out`.
    #[serde(serialize_with = "outcome")]
    pub outcome: OutcomeKind,
    /// The wait in milliseconds.
    pub wait_ms: u64,
    /// The objective missed.
    pub objective: String,
    /// Its threshold for this visit.
    pub threshold_ms: u64,
}

fn display<S: Serializer, T: std::fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn outcome_name(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Answered => "answered",
        OutcomeKind::Abandoned => "abandoned",
        OutcomeKind::FlowOut => "flow_out",
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with passes a reference"
)]
fn outcome<S: Serializer>(kind: &OutcomeKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(outcome_name(*kind))
}

/// Whether a visit that ended as `kind` after `wait_ms` missed `threshold` under `formula`:
/// the visits a formula's denominator counts and its numerator does not.
#[must_use]
pub fn missed(kind: OutcomeKind, wait_ms: u64, threshold: Threshold, formula: &Formula) -> bool {
    let late = wait_ms > threshold.as_millis();
    match kind {
        OutcomeKind::Answered => late,
        OutcomeKind::Abandoned => {
            let short = formula
                .short_abandon
                .is_some_and(|s| wait_ms < s.as_millis());
            !short
                && match formula.abandons {
                    AbandonPolicy::Ignore => false,
                    AbandonPolicy::Against => true,
                    AbandonPolicy::AfterThreshold | AbandonPolicy::For => late,
                }
        }
        OutcomeKind::FlowOut => formula.flowouts == FlowOutPolicy::Against,
    }
}

/// Collects breaches from streamed visits: those whose outcome falls in the window and that
/// missed one of the objectives, each objective listed separately.
#[derive(Debug)]
pub struct BreachFinder {
    window: TimeWindow,
    objectives: Vec<Objective>,
    formula: Formula,
    queues: HashMap<QueueId, QueueInfo>,
    found: Vec<Breach>,
}

impl BreachFinder {
    /// A finder for `objectives` under `formula` over `queues`.
    #[must_use]
    pub fn new(
        window: TimeWindow,
        objectives: &[Objective],
        formula: Formula,
        queues: &[QueueInfo],
    ) -> Self {
        Self {
            window,
            objectives: objectives.to_vec(),
            formula,
            queues: queues
                .iter()
                .map(|q| (q.queue.id.clone(), q.clone()))
                .collect(),
            found: Vec::new(),
        }
    }

    /// The breaches found, ordered by entry, then conversation, then objective.
    #[must_use]
    pub fn finish(mut self) -> Vec<Breach> {
        self.found.sort_by(|a, b| {
            (a.entered_at, &a.conversation_id, &a.queue_id).cmp(&(
                b.entered_at,
                &b.conversation_id,
                &b.queue_id,
            ))
        });
        self.found
    }
}

impl VisitSink for BreachFinder {
    fn visit(&mut self, visit: Visit) {
        let Some(end) = visit.outcome.filter(|o| self.window.contains(o.at)) else {
            return;
        };
        let Some(queue) = self.queues.get(&visit.queue) else {
            return;
        };
        for objective in &self.objectives {
            if !objective.applies_to(&queue.queue) {
                continue;
            }
            let threshold = match objective.threshold {
                ObjectiveThreshold::Fixed(t) => t,
                ObjectiveThreshold::Configured => match queue.service_levels.get(&visit.media) {
                    Some(target) => target.threshold,
                    None => continue,
                },
            };
            if missed(end.kind, end.wait_ms, threshold, &self.formula) {
                self.found.push(Breach {
                    conversation_id: visit.conversation_id.clone(),
                    queue_id: queue.queue.id.to_string(),
                    queue_name: queue.queue.name.clone(),
                    media_type: visit.media,
                    entered_at: visit.entered,
                    outcome: end.kind,
                    wait_ms: end.wait_ms,
                    objective: objective.name.clone(),
                    threshold_ms: threshold.as_millis(),
                });
            }
        }
    }
}

/// Renders breaches as a table (entry times in `zone`), JSON (`{"breaches": [...]}`, instants in
/// UTC), or CSV (UTC); Markdown is the table.
#[must_use]
pub fn render_breaches(breaches: &[Breach], format: Format, zone: &Zone) -> String {
    match format {
        Format::Json => {
            let value = serde_json::json!({ "count": breaches.len(), "breaches": breaches });
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut out = String::from(
                "conversation_id,queue_id,queue_name,media_type,entered_at,outcome,wait_ms,objective,threshold_ms\n",
            );
            for b in breaches {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    b.conversation_id,
                    b.queue_id,
                    csv_field(&b.queue_name),
                    b.media_type,
                    b.entered_at,
                    outcome_name(b.outcome),
                    b.wait_ms,
                    csv_field(&b.objective),
                    b.threshold_ms
                );
            }
            out
        }
        Format::Table | Format::Markdown => table(breaches, zone),
    }
}

fn table(breaches: &[Breach], zone: &Zone) -> String {
    let entered = format!("Entered ({})", zone.name());
    let header = [
        entered.as_str(),
        "Queue",
        "Media",
        "Outcome",
        "Wait",
        "Objective",
        "Conversation",
    ];
    let rows: Vec<[String; 7]> = breaches
        .iter()
        .map(|b| {
            [
                b.entered_at
                    .to_zoned(zone.tz().clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                b.queue_name.clone(),
                b.media_type.to_string(),
                outcome_name(b.outcome).to_owned(),
                wait_text(b.wait_ms),
                b.objective.clone(),
                b.conversation_id.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 7]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let _ = write!(text, "{cell:w$}", w = widths[i]);
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header);
    for row in &rows {
        line([
            &row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6],
        ]);
    }
    let _ = writeln!(
        out,
        "{} {}",
        rows.len(),
        if rows.len() == 1 {
            "breach"
        } else {
            "breaches"
        }
    );
    out
}

/// A wait as people read it: seconds with a tenth under a minute (`23.4s`), whole units above
/// (`4m12s`, `1d6h20s`).
fn wait_text(ms: u64) -> String {
    if ms < 60_000 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else {
        Threshold::from_millis(ms / 1000 * 1000).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(kind: OutcomeKind, wait_ms: u64, formula: Formula, expect: bool) {
        let threshold = Threshold::from_millis(20_000);
        assert_eq!(
            missed(kind, wait_ms, threshold, &formula),
            expect,
            "{kind:?} {wait_ms} ms {formula:?}"
        );
    }

    #[test]
    fn waits_read_as_people_read_them() {
        assert_eq!(wait_text(23_456), "23.4s");
        assert_eq!(wait_text(252_900), "4m12s");
        assert_eq!(wait_text(108_020_000), "1d6h20s");
    }

    #[test]
    fn a_visit_misses_when_the_formula_counts_it_against() {
        let ignore = Formula::default();
        let against = Formula {
            abandons: AbandonPolicy::Against,
            ..ignore
        };
        let after = Formula {
            abandons: AbandonPolicy::AfterThreshold,
            ..ignore
        };
        let short = Formula {
            short_abandon: Some(Threshold::from_millis(5_000)),
            ..against
        };
        let flowouts = Formula {
            flowouts: FlowOutPolicy::Against,
            ..ignore
        };
        check(OutcomeKind::Answered, 20_000, ignore, false);
        check(OutcomeKind::Answered, 20_001, ignore, true);
        check(OutcomeKind::Abandoned, 90_000, ignore, false);
        check(OutcomeKind::Abandoned, 1_000, against, true);
        check(OutcomeKind::Abandoned, 1_000, short, false);
        check(OutcomeKind::Abandoned, 6_000, short, true);
        check(OutcomeKind::Abandoned, 20_000, after, false);
        check(OutcomeKind::Abandoned, 20_001, after, true);
        check(OutcomeKind::FlowOut, 1_000, ignore, false);
        check(OutcomeKind::FlowOut, 1_000, flowouts, true);
    }
}
