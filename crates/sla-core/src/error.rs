//! `SlaError`: invalid input a caller can fix, naming the bad value.

use std::fmt::Display;

use jiff::Timestamp;

use crate::model::{
    AbandonPolicy, CalendarPeriod, FlowOutPolicy, Format, Granularity, MediaType, SourceKind,
};

/// Invalid input: a value the user typed or configured that cannot be used as it is.
///
/// Every variant names the offending value, so the message alone tells the user what to fix.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SlaError {
    /// A duration that is not like `20s`, `1m30s` or `45000ms`.
    #[error("invalid duration '{0}': expected a number with units, like 20s, 1m30s or 45000ms")]
    InvalidDuration(String),
    /// A threshold that is neither a duration nor `configured`.
    #[error(
        "invalid threshold '{0}': expected a duration like 20s, 1m30s or 45000ms, or 'configured'"
    )]
    InvalidThreshold(String),
    /// A threshold of zero.
    #[error(
        "threshold '{0}' is zero: only a visit answered in the millisecond it arrived would meet it; give a duration like 20s"
    )]
    ZeroThreshold(String),
    /// A live window outside 5 minutes to 24 hours.
    #[error("invalid window '{0}': expected a duration from 5m to 24h, like 30m")]
    InvalidLiveWindow(String),
    /// An unknown media type.
    #[error("unknown media type '{0}': expected one of {expected}", expected = one_of(MediaType::ALL))]
    InvalidMediaType(String),
    /// An unknown `--abandons` value.
    #[error("unknown abandon policy '{0}': expected {expected}", expected = one_of(AbandonPolicy::ALL))]
    InvalidAbandonPolicy(String),
    /// An unknown `--flowouts` value.
    #[error("unknown flow-out policy '{0}': expected {expected}", expected = one_of(FlowOutPolicy::ALL))]
    InvalidFlowOutPolicy(String),
    /// An unknown `--granularity` value.
    #[error("unknown granularity '{0}': expected {expected}", expected = one_of(Granularity::ALL))]
    InvalidGranularity(String),
    /// An unknown `--source` value.
    #[error("unknown source '{0}': expected {expected}", expected = one_of(SourceKind::ALL))]
    InvalidSource(String),
    /// An unknown `--period` value.
    #[error(
        "unknown period '{0}': expected {expected}, or a rolling last-<duration> such as last-15m or last-2h", expected = one_of(CalendarPeriod::ALL)
    )]
    InvalidPeriod(String),
    /// A `--from` or `--to` value that is neither a date nor an RFC 3339 instant, or a date
    /// outside the calendar's range.
    #[error(
        "invalid date or instant '{0}': expected a date like 2024-05-01 or an RFC 3339 instant like 2024-05-01T08:00:00Z"
    )]
    InvalidTime(String),
    /// Window options that cannot be combined.
    #[error("{0}")]
    ConflictingWindow(String),
    /// A window whose end is not after its start.
    #[error("empty window: the end {end} is not after the start {start}")]
    EmptyWindow {
        /// The start asked for.
        start: Timestamp,
        /// The end asked for.
        end: Timestamp,
    },
    /// A window longer than a caller allows.
    #[error("window too long: {days} days, at most {max_days} are allowed")]
    WindowTooLong {
        /// The window's length in whole days, rounded up.
        days: i64,
        /// The limit.
        max_days: i64,
    },
    /// An IANA time-zone name that is not known.
    #[error("unknown time zone '{0}': expected an IANA name like Europe/London or UTC")]
    UnknownTimeZone(String),
    /// A percentage outside 0 to 100.
    #[error("invalid percent '{0}': expected a number from 0 to 100")]
    InvalidPercent(String),
    /// A queue name that matched no queue.
    #[error("unknown queue '{0}': no queue has that name (see `sla queues`)")]
    UnknownQueue(String),
    /// A queue id that matched no queue.
    #[error("unknown queue id '{0}': no queue has that id (see `sla queues`)")]
    UnknownQueueId(String),
    /// A queue an objective names that does not exist.
    #[error(
        "objective '{objective}' names queue '{queue}', which does not exist (see `sla queues`)"
    )]
    UnknownObjectiveQueue {
        /// The objective's name.
        objective: String,
        /// The queue as named.
        queue: String,
    },
    /// A queue wildcard that matched no queue.
    #[error("no queue matches '{0}'")]
    NoMatchingQueue(String),
    /// A blank name pattern.
    #[error("the name pattern is empty: give a name or a pattern like 'Sales*'")]
    EmptyPattern,
    /// A queue id, name or pattern longer than any queue name: a pasted file or a runaway
    /// variable, refused before it is sent anywhere (and not echoed back whole).
    #[error(
        "a queue name of {chars} characters ('{start}…'): a queue id, name or pattern is at most {max} characters"
    )]
    QueueNameTooLong {
        /// Its first few characters.
        start: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Named queues beside every queue.
    #[error("--all-queues already covers every queue: drop it, or drop --queue and --queue-name")]
    AllQueuesAndNamed,
    /// A query that names no queues.
    #[error("no queues selected: name them with --queue, --queue-name or --all-queues")]
    NoQueues,
    /// Too many queues or objectives for a caller's bounds.
    #[error("too many {what}: {count}, at most {max} are allowed")]
    TooMany {
        /// What was counted (`queues`, `objectives`).
        what: &'static str,
        /// How many were asked for.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A report with more cells than the caller allows.
    #[error(
        "report too large: {cells} cells (rows × intervals × objectives), at most {max}: choose a coarser granularity, a shorter window, fewer queues or objectives"
    )]
    ReportTooLarge {
        /// The cells the report would have.
        cells: usize,
        /// The limit.
        max: usize,
    },
    /// Two objectives with the same name.
    #[error("duplicate objective name '{0}'")]
    DuplicateObjective(String),
    /// An unknown output format.
    #[error("unknown format '{0}': expected {expected}", expected = one_of(Format::ALL))]
    InvalidFormat(String),
    /// A malformed objectives config file.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
}

/// `a, b, c or d`: the names of every value, for messages that list what is expected.
fn one_of<T: Display>(all: &[T]) -> String {
    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
