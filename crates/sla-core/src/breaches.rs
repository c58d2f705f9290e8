//! Breaches: the visits that missed an objective, for `sla breaches`.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::model::Format;
use crate::model::{
    AbandonPolicy, FlowOutPolicy, Formula, MediaType, Objective, QueueId, QueueInfo, Threshold,
    TimeWindow, Zone,
};
use crate::ports::{OutcomeKind, Visit, VisitSink};
use crate::render::grid::{Align, Table};
use crate::render::{csv, json, layout};

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
            (a.entered_at, &a.conversation_id, &a.queue_id)
                .cmp(&(b.entered_at, &b.conversation_id, &b.queue_id))
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
            let Some(threshold) = objective.threshold.for_visit(queue, visit.media) else {
                continue;
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

/// Renders breaches as a table (entry times in `zone`, grouped under their local date), as
/// Markdown (the same columns, each row with its date), as JSON (`{"count", "breaches": [...]}`,
/// instants in UTC), or as CSV (UTC).
#[must_use]
pub fn render_breaches(breaches: &[Breach], format: Format, zone: &Zone) -> String {
    match format {
        Format::Json => {
            json::pretty(&serde_json::json!({ "count": breaches.len(), "breaches": breaches }))
        }
        Format::Csv => csv::write(
            &[
                "conversation_id", "queue_id", "queue_name", "media_type", "entered_at", "outcome",
                "wait_ms", "objective", "threshold_ms",
            ],
            breaches.iter().map(|b| {
                vec![
                    b.conversation_id.clone(),
                    b.queue_id.clone(),
                    b.queue_name.clone(),
                    b.media_type.to_string(),
                    b.entered_at.to_string(),
                    outcome_name(b.outcome).to_owned(),
                    b.wait_ms.to_string(),
                    b.objective.clone(),
                    b.threshold_ms.to_string(),
                ]
            }),
        ),
        Format::Table => table(breaches, zone, Layout::Terminal),
        Format::Markdown => table(breaches, zone, Layout::Markdown),
    }
}

/// Where a breach table goes: a terminal, where every column costs width, or Markdown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Terminal,
    Markdown,
}

fn table(breaches: &[Breach], zone: &Zone, layout: Layout) -> String {
    // With one objective the threshold alone says what was missed; with several, the
    // objective's name comes first where the threshold does not already name it.
    let one_objective = breaches
        .iter()
        .all(|b| breaches.first().is_some_and(|f| f.objective == b.objective));
    let missed = |b: &Breach| {
        if one_objective {
            Threshold::from_millis(b.threshold_ms).to_string()
        } else {
            layout::objective_label(&b.objective, Some(b.threshold_ms), true)
        }
    };
    let entered = format!("Entered ({})", zone.name());
    let mut table = Table::new([
        (
            if layout == Layout::Terminal {
                "Entered"
            } else {
                entered.as_str()
            },
            Align::Left,
        ),
        ("Queue", Align::Left),
        ("Media", Align::Left),
        ("Outcome", Align::Left),
        ("Wait", Align::Right),
        ("Missed", Align::Left),
        ("Conversation", Align::Left),
    ]);
    let mut day = None;
    for b in breaches {
        let local = b.entered_at.to_zoned(zone.tz().clone());
        let time = match layout {
            // The date heads the rows of its day, which keeps 11 columns off every row.
            Layout::Terminal => {
                if day != Some(local.date()) {
                    day = Some(local.date());
                    table.heading(format!("{} ({})", local.strftime("%Y-%m-%d"), zone.name()));
                }
                local.strftime("%H:%M:%S").to_string()
            }
            Layout::Markdown => local.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        };
        table.row(vec![
            time,
            b.queue_name.clone(),
            b.media_type.to_string(),
            outcome_name(b.outcome).to_owned(),
            wait_text(b.wait_ms, b.threshold_ms),
            missed(b),
            b.conversation_id.clone(),
        ]);
    }
    let count = format!(
        "{} {}\n",
        breaches.len(),
        if breaches.len() == 1 {
            "breach"
        } else {
            "breaches"
        }
    );
    match layout {
        Layout::Terminal => table.text() + &count,
        Layout::Markdown => format!("## Breaches\n\n{}\n{count}", table.markdown()),
    }
}

/// A wait as people read it, cut short rather than rounded up: tenths of a second under a
/// minute (`23.4s`), whole seconds under an hour (`4m12s`), whole minutes above (`13h28m`).
/// A wait is never shown at or below the threshold it missed: it then gets as much precision as
/// that takes, as decimals under a minute (`20.001s` for 20,001 ms against 20 s) and as a
/// duration down to the millisecond above (`10m1ms` against 10 m).
fn wait_text(ms: u64, threshold_ms: u64) -> String {
    let reads_above = |u: u64| {
        let shown = ms / u * u;
        shown == ms || shown > threshold_ms || ms <= threshold_ms
    };
    if ms < 60_000 {
        let (unit, digits) = [(100, 1), (10, 2), (1, 3)]
            .into_iter()
            .find(|(u, _)| reads_above(*u))
            .unwrap_or((1, 3));
        return format!("{}.{:0digits$}s", ms / 1000, ms % 1000 / unit);
    }
    let units: &[u64] = if ms < 3_600_000 {
        &[1_000]
    } else {
        &[60_000, 1_000]
    };
    let unit = units.iter().copied().find(|u| reads_above(*u)).unwrap_or(1);
    Threshold::from_millis(ms / unit * unit).to_string()
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
        let threshold = 20_000;
        assert_eq!(wait_text(23_456, threshold), "23.4s");
        assert_eq!(wait_text(252_900, threshold), "4m12s");
        assert_eq!(wait_text(108_020_000, threshold), "1d6h");
        assert_eq!(wait_text(47_506_000, threshold), "13h11m");
        // An abandon counted against the objective may be well within the threshold.
        assert_eq!(wait_text(1_234, threshold), "1.2s");
    }

    #[test]
    fn a_wait_never_reads_as_within_the_threshold_it_missed() {
        assert_eq!(wait_text(20_001, 20_000), "20.001s");
        assert_eq!(wait_text(20_010, 20_000), "20.01s");
        assert_eq!(wait_text(20_099, 20_000), "20.09s");
        assert_eq!(wait_text(20_100, 20_000), "20.1s");
        assert_eq!(wait_text(60_001, 60_000), "1m1ms");
        assert_eq!(wait_text(600_001, 600_000), "10m1ms");
        assert_eq!(wait_text(60_500, 60_000), "1m500ms");
        assert_eq!(wait_text(3_600_999, 3_600_000), "1h999ms");
        assert_eq!(wait_text(3_659_000, 3_600_000), "1h59s");
        assert_eq!(wait_text(86_400_001, 86_400_000), "1d1ms");
        // Every wait above a threshold reads above it, and never above the wait itself.
        for threshold in [1_000, 20_000, 59_999, 60_000, 3_600_000, 86_400_000] {
            for late in [1, 9, 10, 99, 100, 999, 1_000, 59_999, 60_000, 3_600_000] {
                let text = wait_text(threshold + late, threshold);
                let shown = shown_millis(&text);
                assert!(shown > threshold, "{text} for {threshold} + {late}");
                assert!(shown <= threshold + late, "{text} for {threshold} + {late}");
            }
        }
    }

    /// The milliseconds a wait's text says: decimal seconds, or a duration.
    fn shown_millis(text: &str) -> u64 {
        match text.strip_suffix('s').and_then(|t| t.split_once('.')) {
            Some((seconds, digits)) => {
                seconds.parse::<u64>().unwrap() * 1000
                    + format!("{digits:0<3}").parse::<u64>().unwrap()
            }
            None => Threshold::parse(text).unwrap().as_millis(),
        }
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
