//! Domain types: queues, media types, thresholds, objectives, formulas, windows and granularities.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::SlaError;

/// A Genesys queue id (normally a UUID), compared exactly.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(String);

impl QueueId {
    /// Wraps an id as given by the directory or the user.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for QueueId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A queue as reports show it: id and display name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QueueRef {
    /// The queue's id.
    pub id: QueueId,
    /// The queue's name.
    pub name: String,
}

impl QueueInfo {
    /// The queues in report order: by name ignoring case, then by id, each queue once.
    pub(crate) fn in_report_order(queues: &[QueueInfo]) -> Vec<&QueueInfo> {
        let mut sorted: Vec<&QueueInfo> = queues.iter().collect();
        sorted.sort_by(|a, b| {
            a.queue
                .name
                .to_lowercase()
                .cmp(&b.queue.name.to_lowercase())
                .then_with(|| a.queue.id.cmp(&b.queue.id))
        });
        sorted.dedup_by(|a, b| a.queue.id == b.queue.id);
        sorted
    }
}

/// A configured service-level target of one queue for one media type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServiceLevelTarget {
    /// The threshold: a visit meets it when its wait is at most this long.
    pub threshold: Threshold,
    /// The target share in percent (Genesys's `percentage` × 100).
    pub target_percent: f64,
}

/// Everything the queue directory knows about a queue that reports need.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueInfo {
    /// Id and name.
    pub queue: QueueRef,
    /// The division's name, when known.
    pub division: Option<String>,
    /// Configured service levels per media type (Genesys's `call` settings are [`MediaType::Voice`]).
    pub service_levels: BTreeMap<MediaType, ServiceLevelTarget>,
}

macro_rules! media_types {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A Genesys analytics media type.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum MediaType {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl MediaType {
            /// Every media type, in the order reports list them.
            pub const ALL: &'static [MediaType] = &[$(MediaType::$variant),*];

            /// The analytics wire name (`voice`, `chat`, ...).
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(MediaType::$variant => $name,)*
                }
            }
        }

        impl FromStr for MediaType {
            type Err = SlaError;

            fn from_str(s: &str) -> Result<Self, SlaError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($name => Ok(MediaType::$variant),)*
                    // Genesys's queue settings call voice `call`; accept it as users will type it.
                    "call" => Ok(MediaType::Voice),
                    _ => Err(SlaError::InvalidMediaType(s.to_owned())),
                }
            }
        }
    };
}

media_types! {
    Voice => "voice",
    Callback => "callback",
    Chat => "chat",
    Email => "email",
    Message => "message",
    Cobrowse => "cobrowse",
    Video => "video",
    Screenshare => "screenshare",
    Screenmonitoring => "screenmonitoring",
    Internalmessage => "internalmessage",
    Unknown => "unknown",
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A wait threshold in whole milliseconds. A visit meets it when its wait is at most this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u64);

impl Threshold {
    /// A threshold of `ms` milliseconds.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// The threshold in milliseconds.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Parses a duration such as `20s`, `1m30s`, `45000ms`, `2h` or `1h30m15s500ms`.
    ///
    /// Units must appear from largest to smallest, each at most once; a bare number is refused
    /// because `20` could mean seconds or milliseconds.
    pub fn parse(text: &str) -> Result<Self, SlaError> {
        parse_duration_ms(text)
            .map(Self)
            .ok_or_else(|| SlaError::InvalidDuration(text.to_owned()))
    }
}

impl FromStr for Threshold {
    type Err = SlaError;

    fn from_str(s: &str) -> Result<Self, SlaError> {
        Self::parse(s)
    }
}

impl fmt::Display for Threshold {
    /// Writes the shortest form that [`Threshold::parse`] reads back: `20s`, `1m30s`, `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            let n = rest / size;
            if n > 0 {
                write!(f, "{n}{unit}")?;
                rest %= size;
            }
        }
        Ok(())
    }
}

const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    // Index into UNITS of the smallest unit used so far: units must strictly decrease.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let position = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        total = total.checked_add(n.checked_mul(UNITS[position].1)?)?;
        next_unit = position + 1;
    }
    Some(total)
}

/// What an objective measures each queue against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectiveThreshold {
    /// One threshold for every queue.
    Fixed(Threshold),
    /// Each queue's own configured target for the media type of each visit.
    Configured,
}

impl ObjectiveThreshold {
    /// The threshold a visit of `media` to `queue` is measured against: the fixed one, or the
    /// queue's configured one for that media type (`None` when it has none: not measured).
    pub(crate) fn for_visit(self, queue: &QueueInfo, media: MediaType) -> Option<Threshold> {
        match self {
            ObjectiveThreshold::Fixed(t) => Some(t),
            ObjectiveThreshold::Configured => queue.service_levels.get(&media).map(|t| t.threshold),
        }
    }
}

impl FromStr for ObjectiveThreshold {
    type Err = SlaError;

    /// Reads a `--threshold`: a duration longer than zero, or `configured`.
    fn from_str(text: &str) -> Result<Self, SlaError> {
        if text.trim().eq_ignore_ascii_case("configured") {
            return Ok(ObjectiveThreshold::Configured);
        }
        match Threshold::parse(text) {
            // Only a visit answered in the very millisecond it arrived meets 0 s: a slip, not
            // an objective.
            Ok(t) if t.as_millis() == 0 => Err(SlaError::ZeroThreshold(text.to_owned())),
            Ok(t) => Ok(ObjectiveThreshold::Fixed(t)),
            Err(_) => Err(SlaError::InvalidThreshold(text.to_owned())),
        }
    }
}

/// A `--threshold` value as typed. The objective it adds is named as typed: `--threshold 60s`
/// reports an objective `60s`, not `1m`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThresholdArg {
    name: String,
    threshold: ObjectiveThreshold,
}

impl ThresholdArg {
    /// The objective this value adds.
    #[must_use]
    pub fn objective(&self) -> Objective {
        match self.threshold {
            ObjectiveThreshold::Fixed(t) => Objective {
                name: self.name.clone(),
                ..Objective::fixed(t)
            },
            ObjectiveThreshold::Configured => Objective::configured(),
        }
    }
}

impl FromStr for ThresholdArg {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, SlaError> {
        Ok(Self {
            threshold: text.parse()?,
            name: text.trim().to_owned(),
        })
    }
}

/// A named service-level objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The name reports show (`20s`, `configured`, or a config file's name).
    pub name: String,
    /// The threshold, or each queue's configured one.
    pub threshold: ObjectiveThreshold,
    /// Target percent; `met_target` is reported when set. Ignored for `configured`,
    /// whose targets come from each queue.
    pub target_percent: Option<f64>,
    /// The queues (ids or names, names matched ignoring case) the objective applies to; all when `None`.
    pub queues: Option<Vec<String>>,
}

impl Objective {
    /// An objective of one threshold for every queue, named after the duration in its
    /// shortest form (`20s`, `1m30s`).
    #[must_use]
    pub fn fixed(threshold: Threshold) -> Self {
        Self {
            name: threshold.to_string(),
            threshold: ObjectiveThreshold::Fixed(threshold),
            target_percent: None,
            queues: None,
        }
    }

    /// The objective `--threshold configured` adds.
    #[must_use]
    pub fn configured() -> Self {
        Self {
            name: "configured".to_owned(),
            threshold: ObjectiveThreshold::Configured,
            target_percent: None,
            queues: None,
        }
    }

    /// Whether the objective applies to `queue`.
    #[must_use]
    pub fn applies_to(&self, queue: &QueueRef) -> bool {
        self.queues
            .as_deref()
            .is_none_or(|list| names_queue(list, queue.id.as_str(), &queue.name))
    }
}

/// Whether `list`, as objectives and alert rules name their queues, names the queue `id` called
/// `name`: by its id (a UUID, whose hex digits may be typed in either case), or by its name
/// ignoring case, beyond ASCII too ("ventes été" names "Ventes Été").
pub(crate) fn names_queue(list: &[impl AsRef<str>], id: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    list.iter()
        .map(AsRef::as_ref)
        .any(|q| q.eq_ignore_ascii_case(id) || q.to_lowercase() == name)
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $err:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in the order help texts list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as the CLI, the HTTP API and the JSON report spell it.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl FromStr for $name {
            type Err = SlaError;

            fn from_str(s: &str) -> Result<Self, SlaError> {
                match s.trim() {
                    $($text => Ok($name::$variant),)*
                    _ => Err(SlaError::$err(s.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// How abandoned visits count (`--abandons`).
    AbandonPolicy, InvalidAbandonPolicy {
        /// aw / a (ICMI F2): abandons are left out.
        #[default]
        Ignore => "ignore",
        /// aw / (a + ab) (ICMI F3): every abandon is a miss.
        Against => "against",
        /// aw / (a + ab − abw) (ICMI F4): only abandons after the threshold are misses.
        AfterThreshold => "after-threshold",
        /// (aw + abw) / (a + ab) (ICMI F1): abandons within the threshold count as met.
        For => "for",
    }
}

text_enum! {
    /// How flow-outs count (`--flowouts`).
    FlowOutPolicy, InvalidFlowOutPolicy {
        /// Flow-outs are left out.
        #[default]
        Ignore => "ignore",
        /// Flow-outs join the denominator as misses.
        Against => "against",
    }
}

text_enum! {
    /// The size of a report's intervals (`--granularity`).
    Granularity, InvalidGranularity {
        /// One interval: the whole window (reports list no intervals).
        #[default]
        Total => "total",
        /// Half hours.
        HalfHour => "30m",
        /// Hours.
        Hour => "hour",
        /// Local days.
        Day => "day",
        /// ISO weeks starting on local Monday midnight.
        Week => "week",
        /// Local calendar months.
        Month => "month",
    }
}

text_enum! {
    /// Where counts come from (`--source`).
    SourceKind, InvalidSource {
        /// The aggregates query with range-bound views.
        #[default]
        Aggregates => "aggregates",
        /// Conversation details, per visit.
        Details => "details",
        /// Visits synced into a history store (`sla sync`), counted as conversation details are.
        Store => "store",
    }
}

text_enum! {
    /// A calendar period in a time zone (`--period`); see [`crate::Period`] for rolling ones.
    CalendarPeriod, InvalidPeriod {
        /// From local midnight today to the next.
        Today => "today",
        /// The local day before today.
        Yesterday => "yesterday",
        /// The ISO week (from Monday) holding today.
        ThisWeek => "this-week",
        /// The ISO week before this one.
        LastWeek => "last-week",
        /// The calendar month holding today.
        ThisMonth => "this-month",
        /// The calendar month before this one.
        LastMonth => "last-month",
        /// The seven whole days before today.
        #[default]
        Last7Days => "last-7-days",
        /// The thirty whole days before today.
        Last30Days => "last-30-days",
    }
}

text_enum! {
    /// An output format (`--format`).
    Format, InvalidFormat {
        /// An aligned text table for terminals.
        #[default]
        Table => "table",
        /// JSON: the `sla-report/v1` document for reports.
        Json => "json",
        /// Tidy CSV: for reports, one row per queue × media type × interval × objective, then
        /// the totals, told apart by the column `scope`.
        Csv => "csv",
        /// A GitHub-flavoured Markdown table.
        Markdown => "markdown",
    }
}

/// The formula that turns counts into a service level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Formula {
    /// How abandons count.
    pub abandons: AbandonPolicy,
    /// Abandons with a wait below this bound leave numerator and denominator.
    pub short_abandon: Option<Threshold>,
    /// How flow-outs count.
    pub flowouts: FlowOutPolicy,
}

/// A half-open span of time `[start, end)` with `start < end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    start: Timestamp,
    end: Timestamp,
}

impl TimeWindow {
    /// A window from `start` (inclusive) to `end` (exclusive); refused unless `start < end`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, SlaError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(SlaError::EmptyWindow { start, end })
        }
    }

    /// The first instant in the window.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The first instant after the window.
    #[must_use]
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Whether `t` lies in the window.
    #[must_use]
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// An IANA time zone with the name the time-zone database gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Looks up an IANA zone name such as `Europe/London` or `UTC`.
    pub fn get(name: &str) -> Result<Self, SlaError> {
        let tz = TimeZone::get(name).map_err(|_| SlaError::UnknownTimeZone(name.to_owned()))?;
        // The lookup ignores case; reports and Genesys get the database's own spelling.
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    /// UTC.
    #[must_use]
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// Wraps a zone the caller resolved (for example the system zone); `None` when it has no
    /// IANA name, since a zone must be named to be sent to Genesys and shown in reports.
    #[must_use]
    pub fn from_time_zone(tz: TimeZone) -> Option<Self> {
        let name = tz.iana_name()?.to_owned();
        Some(Self { name, tz })
    }

    /// The IANA name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The jiff time zone.
    #[must_use]
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl FromStr for Zone {
    type Err = SlaError;

    fn from_str(name: &str) -> Result<Self, SlaError> {
        Self::get(name)
    }
}
