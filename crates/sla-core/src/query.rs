//! Queries as users type them, and their parsing into a validated [`ReportRequest`]; shared by
//! the CLI and the HTTP service so both read options the same way.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use crate::error::SlaError;
use crate::model::{
    FlowOutPolicy, Formula, Granularity, MediaType, Objective, ObjectiveThreshold, QueueId,
    SourceKind, Threshold, TimeWindow, Zone,
};

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
    /// The most report cells (rows × intervals × objectives) a caller allows; unbounded when
    /// `None`. See [`crate::report_cells`].
    pub max_cells: Option<usize>,
}

/// A report query as typed: the CLI's flags or the HTTP API's parameters, before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryInput {
    /// `--queue`: an id (a UUID) or an exact name, per entry.
    pub queues: Vec<String>,
    /// `--queue-name`: name patterns with `*` wildcards.
    pub queue_names: Vec<String>,
    /// `--all-queues`.
    pub all_queues: bool,
    /// `--media`: media types, each entry possibly a comma-separated list.
    pub media: Vec<String>,
    /// `--by-media`.
    pub by_media: bool,
    /// `--from`: a date or an RFC 3339 instant.
    pub from: Option<String>,
    /// `--to`: a date (inclusive) or an RFC 3339 instant (exclusive).
    pub to: Option<String>,
    /// `--period`.
    pub period: Option<String>,
    /// `--tz`: an IANA zone name; the caller's default zone when absent.
    pub tz: Option<String>,
    /// `--granularity`.
    pub granularity: Option<String>,
    /// `--threshold`: durations or `configured`; `20s` when neither this nor a config file
    /// names an objective.
    pub thresholds: Vec<String>,
    /// The text of an objectives config file (TOML).
    pub config: Option<String>,
    /// `--abandons`.
    pub abandons: Option<String>,
    /// `--short-abandon`.
    pub short_abandon: Option<String>,
    /// `--flowouts`.
    pub flowouts: Option<String>,
    /// `--source`.
    pub source: Option<String>,
}

/// The period used when no window is given.
pub const DEFAULT_PERIOD: &str = "last-7-days";
/// The threshold used when no objective is given.
pub const DEFAULT_THRESHOLD: Threshold = Threshold::from_millis(20_000);

impl QueryInput {
    /// Validates the input. `now` anchors periods and an open `--from`; `default_zone` applies
    /// when no `tz` is given.
    pub fn parse(&self, now: Timestamp, default_zone: &Zone) -> Result<ReportRequest, SlaError> {
        let zone = match &self.tz {
            Some(name) => Zone::get(name)?,
            None => default_zone.clone(),
        };
        let window = parse_window(
            self.from.as_deref(),
            self.to.as_deref(),
            self.period.as_deref(),
            now,
            &zone,
        )?;
        let mut objectives = Vec::new();
        for text in &self.thresholds {
            objectives.push(match parse_objective_threshold(text)? {
                // Named as typed: `--threshold 60s` reports an objective `60s`, not `1m`.
                ObjectiveThreshold::Fixed(t) => Objective {
                    name: text.trim().to_owned(),
                    ..Objective::fixed(t)
                },
                ObjectiveThreshold::Configured => Objective::configured(),
            });
        }
        if let Some(config) = &self.config {
            objectives.extend(parse_config(config)?);
        }
        if objectives.is_empty() {
            objectives.push(Objective::fixed(DEFAULT_THRESHOLD));
        }
        for (i, objective) in objectives.iter().enumerate() {
            if objectives[..i].iter().any(|o| o.name == objective.name) {
                return Err(SlaError::DuplicateObjective(objective.name.clone()));
            }
        }
        let mut media = Vec::new();
        for entry in &self.media {
            for name in entry.split(',').filter(|s| !s.trim().is_empty()) {
                let m: MediaType = name.parse()?;
                if !media.contains(&m) {
                    media.push(m);
                }
            }
        }
        // A media option given but empty (`--media=`) is a mistake, not a request for all.
        if media.is_empty() && !self.media.is_empty() {
            return Err(SlaError::InvalidMediaType(self.media.join(",")));
        }
        let formula = Formula {
            abandons: parse_or_default(self.abandons.as_deref())?,
            short_abandon: self
                .short_abandon
                .as_deref()
                .map(Threshold::parse)
                .transpose()?,
            flowouts: parse_or_default::<FlowOutPolicy>(self.flowouts.as_deref())?,
        };
        Ok(ReportRequest {
            queues: self.queue_selection(),
            media,
            by_media: self.by_media,
            window,
            zone,
            granularity: parse_or_default(self.granularity.as_deref())?,
            objectives,
            formula,
            source: parse_or_default(self.source.as_deref())?,
            max_cells: None,
        })
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

fn parse_or_default<T: std::str::FromStr<Err = SlaError> + Default>(
    text: Option<&str>,
) -> Result<T, SlaError> {
    text.map_or_else(|| Ok(T::default()), str::parse)
}

/// Parses `--threshold`: a duration, or `configured`.
pub fn parse_objective_threshold(text: &str) -> Result<ObjectiveThreshold, SlaError> {
    if text.trim().eq_ignore_ascii_case("configured") {
        return Ok(ObjectiveThreshold::Configured);
    }
    Threshold::parse(text)
        .map(ObjectiveThreshold::Fixed)
        .map_err(|_| SlaError::InvalidThreshold(text.to_owned()))
}

pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A `--from`/`--to` value: a whole local day, or an instant.
enum TimeArg {
    Date(Date),
    Instant(Timestamp),
}

fn parse_time_arg(field: &'static str, text: &str) -> Result<TimeArg, SlaError> {
    let text = text.trim();
    // An instant first: a date parser would also read `2024-05-01 08:00:00+01:00` (RFC 3339
    // allows the space) as a date, silently dropping the time.
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(TimeArg::Instant(t));
    }
    match text.parse::<Date>() {
        Ok(date) if !text.contains(['T', 't', ' ']) => Ok(TimeArg::Date(date)),
        _ => Err(SlaError::InvalidTime {
            field,
            value: text.to_owned(),
        }),
    }
}

fn midnight(date: Date, zone: &Zone) -> Result<Timestamp, SlaError> {
    date.to_zoned(zone.tz().clone())
        .map(|z| z.timestamp())
        .map_err(|_| SlaError::InvalidTime {
            field: "date",
            value: date.to_string(),
        })
}

fn shift_days(date: Date, days: i64) -> Result<Date, SlaError> {
    date.checked_add(days.days())
        .map_err(|_| SlaError::InvalidTime {
            field: "date",
            value: date.to_string(),
        })
}

/// Resolves the window from `--from`/`--to` or `--period` (default [`DEFAULT_PERIOD`]).
pub fn parse_window(
    from: Option<&str>,
    to: Option<&str>,
    period: Option<&str>,
    now: Timestamp,
    zone: &Zone,
) -> Result<TimeWindow, SlaError> {
    if period.is_some() && (from.is_some() || to.is_some()) {
        return Err(SlaError::ConflictingWindow(
            "give either --period or --from/--to, not both".to_owned(),
        ));
    }
    let Some(from) = from else {
        if to.is_some() {
            return Err(SlaError::ConflictingWindow("--to needs --from".to_owned()));
        }
        return period_window(period.unwrap_or(DEFAULT_PERIOD), now, zone);
    };
    let start = match parse_time_arg("--from", from)? {
        TimeArg::Date(d) => midnight(d, zone)?,
        TimeArg::Instant(t) => t,
    };
    let end = match to.map(|t| parse_time_arg("--to", t)).transpose()? {
        // A date in --to is inclusive: the window runs to the end of that local day.
        Some(TimeArg::Date(d)) => midnight(shift_days(d, 1)?, zone)?,
        Some(TimeArg::Instant(t)) => t,
        // Whole seconds: the window is shown to users and sent upstream, where nanoseconds of
        // the clock would only make equal queries look different.
        None => Timestamp::from_second(now.as_second()).unwrap_or(now),
    };
    TimeWindow::new(start, end).map_err(|_| match to {
        // Name the values as typed: the instants they became are harder to recognise.
        Some(to) => SlaError::ConflictingWindow(format!(
            "--to {} is not after --from {}",
            to.trim(),
            from.trim()
        )),
        None => SlaError::ConflictingWindow(format!("--from {} is in the future", from.trim())),
    })
}

fn period_window(period: &str, now: Timestamp, zone: &Zone) -> Result<TimeWindow, SlaError> {
    let today = now.to_zoned(zone.tz().clone()).date();
    let monday = shift_days(today, -i64::from(today.weekday().to_monday_zero_offset()))?;
    let first = today.first_of_month();
    let month_shift = |d: Date, months: i32| {
        d.checked_add(months.months())
            .map_err(|_| SlaError::InvalidPeriod(period.to_owned()))
    };
    let (start, end) = match period.trim() {
        "today" => (today, shift_days(today, 1)?),
        "yesterday" => (shift_days(today, -1)?, today),
        "this-week" => (monday, shift_days(monday, 7)?),
        "last-week" => (shift_days(monday, -7)?, monday),
        "this-month" => (first, month_shift(first, 1)?),
        "last-month" => (month_shift(first, -1)?, first),
        "last-7-days" => (shift_days(today, -7)?, today),
        "last-30-days" => (shift_days(today, -30)?, today),
        _ => return Err(SlaError::InvalidPeriod(period.to_owned())),
    };
    TimeWindow::new(midnight(start, zone)?, midnight(end, zone)?)
}

/// The objectives config file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    objective: Vec<ConfigObjective>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigObjective {
    name: String,
    threshold: String,
    target: Option<f64>,
    queues: Option<Vec<String>>,
}

/// Parses an objectives config file:
///
/// ```toml
/// [[objective]]
/// name = "contract"
/// threshold = "30s"            # or "configured"
/// target = 90                  # percent, optional
/// queues = ["Sales", "Support"] # optional; all queues when absent
/// ```
pub fn parse_config(text: &str) -> Result<Vec<Objective>, SlaError> {
    let file: ConfigFile = toml::from_str(text)
        .map_err(|e| SlaError::InvalidConfig(e.to_string().trim().to_owned()))?;
    file.objective
        .into_iter()
        .map(|o| {
            let name = o.name.trim().to_owned();
            if name.is_empty() {
                return Err(SlaError::InvalidConfig(
                    "an objective has an empty name".to_owned(),
                ));
            }
            let threshold = parse_objective_threshold(&o.threshold)
                .map_err(|e| SlaError::InvalidConfig(format!("objective '{name}': {e}")))?;
            if let Some(target) = o.target
                && !(0.0..=100.0).contains(&target)
            {
                return Err(SlaError::InvalidConfig(format!(
                    "objective '{name}': {}",
                    SlaError::InvalidPercent(target.to_string())
                )));
            }
            if o.queues.as_ref().is_some_and(Vec::is_empty) {
                return Err(SlaError::InvalidConfig(format!(
                    "objective '{name}': the queues list is empty (leave it out for all queues)"
                )));
            }
            Ok(Objective {
                name,
                threshold,
                target_percent: o.target,
                queues: o.queues,
            })
        })
        .collect()
}

/// Parses a percentage from 0 to 100, as `--fail-below` takes it.
pub fn parse_percent(text: &str) -> Result<f64, SlaError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| SlaError::InvalidPercent(text.to_owned()))
}
