//! The command line: clap definitions, converted into sla-core's `QueryInput`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sla_connect::{
    ConnectionArgs, FormulaArgs, ObjectiveArgs, QueueArgs, WindowArgs, named, parse,
};
use sla_core::{FailBelow, Format, Granularity, Objective, QueryInput, SourceKind, ThresholdArg};

const EXAMPLES: &str = "\
Examples:
  sla report --demo
  sla report --queue Support --queue Sales --period last-week --threshold 20s --threshold 60s
  sla report --queue-name 'Sales*' --from 2024-05-01 --to 2024-05-31 --granularity day --tz Europe/London
  sla report --all-queues --threshold configured --abandons against --format csv --out sla.csv
  sla report --all-queues --config sla.toml --period yesterday --fail-below 80
  sla queues --name 'Support*'

Credentials come from GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET in the
environment or a .env file in the working directory, never from a flag.";

/// Custom service levels for Genesys Cloud queues.
#[derive(Debug, Parser)]
#[command(name = "sla", version, about, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Service levels per queue and overall, for any thresholds and formula.
    #[command(after_help = EXAMPLES)]
    Report(Box<ReportArgs>),
    /// List queues with their ids, divisions and configured service levels.
    #[command(after_help = QUEUE_EXAMPLES)]
    Queues(QueuesArgs),
    /// List every visit that missed an objective (from conversation details).
    #[command(after_help = BREACH_EXAMPLES)]
    Breaches(Box<BreachesArgs>),
}

const QUEUE_EXAMPLES: &str = "\
Examples:
  sla queues --demo
  sla queues --name 'Support*'
  sla queues --format csv --out queues.csv";

const BREACH_EXAMPLES: &str = "\
Examples:
  sla breaches --demo --queue Support --period yesterday --threshold 20s
  sla breaches --queue Sales --from 2024-05-01T08:00:00Z --to 2024-05-01T12:00:00Z --threshold 30s --abandons against --format csv";

#[derive(Debug, Args)]
pub(crate) struct BreachesArgs {
    #[command(flatten, next_help_heading = "Queues")]
    pub(crate) queues: QueueArgs,
    #[command(flatten)]
    pub(crate) window: WindowArgs,
    /// A threshold (20s, 1m30s, 45000ms), or `configured` for each queue's own target;
    /// repeatable.
    #[arg(long, required = true, value_name = "DURATION|configured", allow_hyphen_values = true, value_parser = parse::<ThresholdArg>, help_heading = "Objectives")]
    pub(crate) threshold: Vec<ThresholdArg>,
    #[command(flatten, next_help_heading = "Formula")]
    pub(crate) formula: FormulaArgs,
    /// Output format.
    #[arg(long, default_value_t, help_heading = "Output", value_parser = named(Format::ALL, Format::as_str))]
    pub(crate) format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten, next_help_heading = "Queues")]
    pub(crate) queues: QueueArgs,
    /// One row per queue and media type.
    #[arg(long, help_heading = "Queues")]
    pub(crate) by_media: bool,
    #[command(flatten)]
    pub(crate) window: WindowArgs,
    /// Interval size.
    #[arg(long, default_value_t, help_heading = "Window", value_parser = named(Granularity::ALL, Granularity::as_str))]
    pub(crate) granularity: Granularity,
    #[command(flatten, next_help_heading = "Objectives")]
    pub(crate) objectives: ObjectiveArgs,
    #[command(flatten, next_help_heading = "Formula")]
    pub(crate) formula: FormulaArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// Where counts come from.
    #[arg(long, default_value_t, help_heading = "Connection", value_parser = named(SourceKind::ALL, SourceKind::as_str))]
    pub(crate) source: SourceKind,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Output format.
    #[arg(long, default_value_t, value_parser = named(Format::ALL, Format::as_str))]
    pub(crate) format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Exit with status 3 when any queue's service level for any objective is below this
    /// percent, or below each objective's own target with `target` (n/a never fails); the
    /// report is still written in full, and stderr names what fell short.
    #[arg(long, value_name = "PERCENT|target", allow_hyphen_values = true, value_parser = parse::<FailBelow>)]
    pub(crate) fail_below: Option<FailBelow>,
    /// With --fail-below, each interval counts too, not only the whole window.
    #[arg(long, requires = "fail_below")]
    pub(crate) fail_intervals: bool,
}

#[derive(Debug, Args)]
pub(crate) struct QueuesArgs {
    /// Only queues whose name matches, with `*` wildcards.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) name: Option<String>,
    /// Output format.
    #[arg(long, default_value_t, value_parser = named(Format::ALL, Format::as_str))]
    pub(crate) format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

impl ReportArgs {
    /// The query as sla-core reads it; `objectives` are the config file's, already read.
    pub(crate) fn query_input(&self, objectives: Vec<Objective>) -> QueryInput {
        let mut input = QueryInput {
            by_media: self.by_media,
            granularity: self.granularity,
            thresholds: self.objectives.threshold.clone(),
            objectives,
            source: self.source,
            ..QueryInput::default()
        };
        self.window.apply(&mut input);
        self.queues.apply(&mut input);
        self.formula.apply(&mut input);
        input
    }
}

impl BreachesArgs {
    /// The query as sla-core reads it.
    pub(crate) fn query_input(&self) -> QueryInput {
        let mut input = QueryInput {
            thresholds: self.threshold.clone(),
            source: SourceKind::Details,
            ..QueryInput::default()
        };
        self.window.apply(&mut input);
        self.queues.apply(&mut input);
        self.formula.apply(&mut input);
        input
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
