//! Flags both binaries take the same way: which queues, which objectives, which formula.

use std::path::PathBuf;

use clap::Args;
use clap::builder::PossibleValuesParser;
use sla_core::{AbandonPolicy, FlowOutPolicy, QueryInput, Threshold, parse_objective_threshold};

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
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub media: Vec<String>,
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

/// What to measure: thresholds and a config file of named objectives.
#[derive(Clone, Debug, Default, Args)]
pub struct ObjectiveArgs {
    /// A threshold every queue is measured at (20s, 1m30s, 45000ms), or `configured` for each
    /// queue's own Genesys target; repeatable [default: 20s, unless --config names objectives].
    #[arg(long, value_name = "DURATION|configured", value_parser = threshold_arg)]
    pub threshold: Vec<String>,
    /// A TOML file of named objectives, each with a threshold, an optional target and queues.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// How counts become a service level.
#[derive(Clone, Debug, Args)]
pub struct FormulaArgs {
    /// How abandons count: ignore (aw/a), against (aw/(a+ab)), after-threshold
    /// (aw/(a+ab-abw)) or for ((aw+abw)/(a+ab)).
    #[arg(long, default_value = "ignore", value_parser = names(AbandonPolicy::ALL, AbandonPolicy::as_str))]
    pub abandons: String,
    /// Abandons with a shorter wait leave numerator and denominator.
    #[arg(long, value_name = "DURATION", value_parser = threshold_duration_arg)]
    pub short_abandon: Option<String>,
    /// Whether flow-outs join the denominator as misses.
    #[arg(long, default_value = "ignore", value_parser = names(FlowOutPolicy::ALL, FlowOutPolicy::as_str))]
    pub flowouts: String,
}

impl FormulaArgs {
    /// Copies the formula into `input`.
    pub fn apply(&self, input: &mut QueryInput) {
        input.abandons = Some(self.abandons.clone());
        input.short_abandon.clone_from(&self.short_abandon);
        input.flowouts = Some(self.flowouts.clone());
    }
}

/// The possible values of an option, from the names of its type's values.
pub fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> PossibleValuesParser {
    PossibleValuesParser::new(all.iter().map(|v| name(*v)))
}

/// A `--threshold` value: a duration or `configured`.
pub fn threshold_arg(text: &str) -> Result<String, String> {
    parse_objective_threshold(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn threshold_duration_arg(text: &str) -> Result<String, String> {
    Threshold::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// A duration option (`20s`, `1m30s`) that must be longer than zero.
pub fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    let threshold = Threshold::parse(text).map_err(|e| e.to_string())?;
    if threshold.as_millis() == 0 {
        return Err(format!("'{text}' must be longer than zero"));
    }
    Ok(std::time::Duration::from_millis(threshold.as_millis()))
}
