//! Queries as users give them, and their reading into a validated [`ReportRequest`]; shared by
//! the CLI and the HTTP service so both read options the same way.

use jiff::Timestamp;

use crate::error::SlaError;
use crate::limits::Limits;
use crate::live::LiveWindow;
use crate::model::{
    AbandonPolicy, FlowOutPolicy, Formula, Granularity, MediaType, Objective, QueueId, SourceKind,
    Threshold, ThresholdArg, TimeWindow, Zone,
};
use crate::window::{Period, TimeArg, resolve_window};

/// Which queues a report covers, as the user named them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueSelection {
    /// Queues by id.
    pub ids: Vec<QueueId>,
    /// Queues by exact name, matched ignoring case.
    pub names: Vec<String>,
    /// Name patterns with `*` wildcards.
    pub patterns: Vec<String>,
    /// Every queue.
    pub all: bool,
}

impl QueueSelection {
    /// Whether no queue was named.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.all && self.ids.is_empty() && self.names.is_empty() && self.patterns.is_empty()
    }
}

/// A validated report query.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRequest {
    /// The queues.
    pub queues: QueueSelection,
    /// Only these media types; all when empty.
    pub media: Vec<MediaType>,
    /// One row per media type instead of one per queue.
    pub by_media: bool,
    /// The window.
    pub window: TimeWindow,
    /// The zone of the calendar that intervals follow.
    pub zone: Zone,
    /// The interval size.
    pub granularity: Granularity,
    /// What to measure, in report order; names are unique.
    pub objectives: Vec<Objective>,
    /// How counts become service levels.
    pub formula: Formula,
    /// Where counts come from.
    pub source: SourceKind,
    /// Bounds the report must stay within.
    pub limits: Limits,
}

/// A report query as given: the CLI's flags or the HTTP API's parameters, each value already
/// read into its type, before the window is resolved and the whole is checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryInput {
    /// `--queue`: an id (a UUID) or an exact name, per entry.
    pub queues: Vec<String>,
    /// `--queue-name`: name patterns with `*` wildcards.
    pub queue_names: Vec<String>,
    /// `--all-queues`.
    pub all_queues: bool,
    /// `--media`: only these media types; all when empty.
    pub media: Vec<MediaType>,
    /// `--by-media`.
    pub by_media: bool,
    /// `--from`.
    pub from: Option<TimeArg>,
    /// `--to`.
    pub to: Option<TimeArg>,
    /// `--period`.
    pub period: Option<Period>,
    /// `--tz`; the context's zone when absent.
    pub tz: Option<Zone>,
    /// `--granularity`.
    pub granularity: Granularity,
    /// `--threshold`: `20s` when neither this nor `objectives` names an objective.
    pub thresholds: Vec<ThresholdArg>,
    /// Named objectives from a config file, measured after the thresholds.
    pub objectives: Vec<Objective>,
    /// `--abandons`.
    pub abandons: AbandonPolicy,
    /// `--short-abandon`.
    pub short_abandon: Option<Threshold>,
    /// `--flowouts`.
    pub flowouts: FlowOutPolicy,
    /// `--source`.
    pub source: SourceKind,
}

/// What a query is read against.
#[derive(Clone, Debug)]
pub struct QueryContext {
    /// The current instant: periods and an open `--from` end here.
    pub now: Timestamp,
    /// The zone when the query names none.
    pub zone: Zone,
    /// Bounds on the report.
    pub limits: Limits,
    /// Whether a query naming no queue covers every queue, as the demo org does.
    pub all_queues_by_default: bool,
}

/// The threshold used when no objective is given.
pub const DEFAULT_THRESHOLD: Threshold = Threshold::from_millis(20_000);

/// The longest queue id, name or pattern a query may name: far beyond any real queue name, so
/// that a pasted file or a runaway variable is a usage error naming its length rather than a
/// name lookup whose URL fails to send.
const MAX_QUEUE_NAME_CHARS: usize = 1_000;

/// Refuses a queue id, name or pattern longer than [`MAX_QUEUE_NAME_CHARS`].
pub(crate) fn check_queue_name(name: &str) -> Result<(), SlaError> {
    let chars = name.chars().count();
    if chars > MAX_QUEUE_NAME_CHARS {
        return Err(SlaError::QueueNameTooLong {
            start: name.chars().take(20).collect(),
            chars,
            max: MAX_QUEUE_NAME_CHARS,
        });
    }
    Ok(())
}

impl QueryInput {
    /// This query over a rolling live window ending now, as one interval: what `sla now` and
    /// the service's live figures count.
    #[must_use]
    pub fn over_live_window(self, window: LiveWindow) -> QueryInput {
        QueryInput {
            from: None,
            to: None,
            period: Some(window.period()),
            granularity: Granularity::Total,
            ..self
        }
    }

    /// Resolves the window and checks the query against the context's limits.
    pub fn parse(&self, context: &QueryContext) -> Result<ReportRequest, SlaError> {
        let zone = self.tz.clone().unwrap_or_else(|| context.zone.clone());
        let window = resolve_window(self.from, self.to, self.period, context.now, &zone)?;
        let mut objectives: Vec<Objective> = self
            .thresholds
            .iter()
            .map(ThresholdArg::objective)
            .collect();
        objectives.extend(self.objectives.iter().cloned());
        if objectives.is_empty() {
            objectives.push(Objective::fixed(DEFAULT_THRESHOLD));
        }
        for (i, objective) in objectives.iter().enumerate() {
            if objectives[..i].iter().any(|o| o.name == objective.name) {
                return Err(SlaError::DuplicateObjective(objective.name.clone()));
            }
        }
        let mut media: Vec<MediaType> = Vec::new();
        for m in &self.media {
            if !media.contains(m) {
                media.push(*m);
            }
        }
        if self.all_queues && !(self.queues.is_empty() && self.queue_names.is_empty()) {
            return Err(SlaError::AllQueuesAndNamed);
        }
        for name in self.queues.iter().chain(&self.queue_names) {
            check_queue_name(name)?;
        }
        let mut queues = self.queue_selection();
        if context.all_queues_by_default && queues.is_empty() {
            queues.all = true;
        }
        let request = ReportRequest {
            queues,
            media,
            by_media: self.by_media,
            window,
            zone,
            granularity: self.granularity,
            objectives,
            formula: Formula {
                abandons: self.abandons,
                short_abandon: self.short_abandon,
                flowouts: self.flowouts,
            },
            source: self.source,
            limits: context.limits,
        };
        context.limits.check_request(&request)?;
        Ok(request)
    }

    fn queue_selection(&self) -> QueueSelection {
        let mut selection = QueueSelection {
            all: self.all_queues,
            patterns: self.queue_names.clone(),
            ..QueueSelection::default()
        };
        for queue in &self.queues {
            if is_uuid(queue) {
                selection.ids.push(QueueId::new(queue.to_ascii_lowercase()));
            } else {
                selection.names.push(queue.clone());
            }
        }
        selection
    }
}

/// Whether `text` is a queue id: a UUID in its hyphenated form, as Genesys writes them.
pub(crate) fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}
