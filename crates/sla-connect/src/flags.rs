//! Flags both binaries take the same way: which queues, which window, which objectives, which
//! formula. Every value is read once, through the `FromStr` of its sla-core type, the same
//! parser the service uses for its query parameters.

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use sla_core::{
    AbandonPolicy, FlowOutPolicy, MediaType, Period, QueryInput, SlaError, Threshold, ThresholdArg,
    TimeArg, Zone,
};

/// Which queues, as `sla report` and `sla-http` take them.
#[derive(Clone, Debug, Default, Args)]
pub struct QueueArgs {
    /// A queue by id (a UUID) or exact name, ignoring case; repeatable.
    #[arg(long = "queue", value_name = "ID_OR_NAME")]
    pub queue: Vec<String>,
    /// Queues whose name matches a pattern with `*` wildcards, such as 'Sales*'; repeatable.
    #[arg(long = "queue-name", value_name = "PATTERN")]
    pub queue_name: Vec<String>,
    /// Every queue in the org.
    #[arg(long)]
    pub all_queues: bool,
    /// Only these media types (voice, callback, chat, email, message, ...), comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse::<MediaType>)]
    pub media: Vec<MediaType>,
}

impl QueueArgs {
    /// Whether no queue is named.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.queue_name.is_empty() && !self.all_queues
    }

    /// Copies the selection into `input`.
    pub fn apply(&self, input: &mut QueryInput) {
        input.queues.clone_from(&self.queue);
        input.queue_names.clone_from(&self.queue_name);
        input.all_queues = self.all_queues;
        input.media.clone_from(&self.media);
    }
}

/// The window of a report: dates, instants or a period, in a zone.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Window")]
pub struct WindowArgs {
    /// Start: a date (the whole local day) or an RFC 3339 instant.
    #[arg(long, value_name = "DATE|INSTANT", value_parser = parse::<TimeArg>)]
    pub from: Option<TimeArg>,
    /// End: a date (inclusive: up to the end of that local day) or an RFC 3339 instant
    /// (exclusive); now when absent.
    #[arg(long, value_name = "DATE|INSTANT", requires = "from", value_parser = parse::<TimeArg>)]
    pub to: Option<TimeArg>,
    /// A calendar period in the time zone, ending at local midnight, or a rolling
    /// `last-<duration>` ending now [default: last-7-days].
    #[arg(long, conflicts_with_all = ["from", "to"], value_parser = parse::<Period>, long_help = period_help())]
    pub period: Option<Period>,
    /// IANA time zone for dates, periods and intervals [default: the system zone].
    #[arg(long, value_name = "ZONE", value_parser = parse::<Zone>)]
    pub tz: Option<Zone>,
}

impl WindowArgs {
    /// Copies the window into `input`.
    pub fn apply(&self, input: &mut QueryInput) {
        input.from = self.from;
        input.to = self.to;
        input.period = self.period;
        input.tz.clone_from(&self.tz);
    }
}

/// The long help of `--period`, listing every name it takes.
pub fn period_help() -> String {
    format!(
        "A calendar period in the time zone, ending at local midnight (so the last 7 days end \
         where today begins), or a rolling last-<duration> ending now, such as last-15m or \
         last-2h [default: last-7-days]\n\n[possible values: {}]",
        Period::names().collect::<Vec<_>>().join(", ")
    )
}

/// What to measure: thresholds and a config file of named objectives.
#[derive(Clone, Debug, Default, Args)]
pub struct ObjectiveArgs {
    /// A threshold every queue is measured at (20s, 1m30s, 45000ms), or `configured` for each
    /// queue's own Genesys target; repeatable [default: 20s, unless --config names objectives].
    #[arg(long, value_name = "DURATION|configured", allow_hyphen_values = true, value_parser = parse::<ThresholdArg>)]
    pub threshold: Vec<ThresholdArg>,
    /// A TOML file of named objectives, each with a threshold, an optional target and queues.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// How counts become a service level.
#[derive(Clone, Debug, Args)]
pub struct FormulaArgs {
    /// How abandons count: ignore (aw/a), against (aw/(a+ab)), after-threshold
    /// (aw/(a+ab-abw)) or for ((aw+abw)/(a+ab)).
    #[arg(long, default_value_t, value_parser = named(AbandonPolicy::ALL, AbandonPolicy::as_str))]
    pub abandons: AbandonPolicy,
    /// Abandons with a shorter wait leave numerator and denominator.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = parse::<Threshold>)]
    pub short_abandon: Option<Threshold>,
    /// Whether flow-outs join the denominator as misses.
    #[arg(long, default_value_t, value_parser = named(FlowOutPolicy::ALL, FlowOutPolicy::as_str))]
    pub flowouts: FlowOutPolicy,
}

impl FormulaArgs {
    /// Copies the formula into `input`.
    pub fn apply(&self, input: &mut QueryInput) {
        input.abandons = self.abandons;
        input.short_abandon = self.short_abandon;
        input.flowouts = self.flowouts;
    }
}

/// Reads an option value through its sla-core type's `FromStr`: the message names the value
/// and what is expected.
pub fn parse<T: FromStr<Err = SlaError>>(text: &str) -> Result<T, SlaError> {
    text.parse()
}

/// Reads one of a fixed set of names into its sla-core type, listing the names in help texts
/// and in the error for any other value.
pub fn named<T>(all: &'static [T], name: fn(T) -> &'static str) -> impl TypedValueParser<Value = T>
where
    T: Copy + FromStr<Err = SlaError> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(all.iter().map(|v| name(*v))).try_map(|text| text.parse::<T>())
}

/// A duration option (`20s`, `1m30s`) that must be longer than zero.
pub fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    let threshold = Threshold::parse(text).map_err(|e| e.to_string())?;
    if threshold.as_millis() == 0 {
        return Err(format!("'{text}' must be longer than zero"));
    }
    Ok(std::time::Duration::from_millis(threshold.as_millis()))
}
