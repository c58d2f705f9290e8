//! The command line: clap definitions, converted into sla-core's `QueryInput`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sla_connect::{
    ConnectionArgs, DEFAULT_URL, FormulaArgs, ObjectiveArgs, QueueArgs, WindowArgs, named, parse,
};
use sla_core::{
    FailBelow, Format, Granularity, LiveWindow, Objective, QueryInput, SourceKind, Threshold,
    ThresholdArg, Zone,
};

const EXAMPLES: &str = "\
Examples:
  sla report --demo
  sla report --queue Support --queue Sales --period last-week --threshold 20s --threshold 60s
  sla report --queue-name 'Sales*' --from 2024-05-01 --to 2024-05-31 --granularity day --tz Europe/London
  sla report --all-queues --threshold configured --abandons against --format csv --out sla.csv
  sla report --all-queues --config sla.toml --period yesterday --fail-below 80
  sla queues --name 'Support*'
  sla now --queue Support --threshold 20s --watch
  sla sync --all-queues --period last-30-days --store sqlite:sla.db
  sla report --source store --store sqlite:sla.db --all-queues --period last-month --granularity day

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
    /// What is happening now: who waits and for how long, agents on queue, and the service
    /// levels of a rolling window ending now.
    #[command(after_help = NOW_EXAMPLES)]
    Now(Box<NowArgs>),
    /// Copy queue visits from conversation details into a history store (SQLite or
    /// PostgreSQL), which `--source store` then reports from without asking Genesys.
    #[command(after_help = SYNC_EXAMPLES)]
    Sync(Box<SyncArgs>),
}

const SYNC_EXAMPLES: &str = "\
A sync reads conversation details (async jobs for long windows, the query otherwise) for the
queues and window chosen and stores one row per queue visit. It is incremental and idempotent:
it reads what the store does not hold yet, plus the last --restate of what it holds, because
Genesys rewrites conversation data up to 48 hours old; visits are upserted by conversation and
visit index, so re-running it or syncing overlapping windows never doubles a visit. Each piece
of the work (up to 8 UTC days) is committed in one transaction: a sync that fails midway exits
with status 1 saying what it stored, and the next one completes it.

Store URLs: sqlite:sla.db (a file in the working directory, the default), sqlite:///abs/path.db,
postgres://USER@HOST:PORT/DATABASE (the database must exist; sla creates the tables). A URL
holding a password is better given in SLA_STORE than on the command line, where ps shows it.
The schema, for BI tools, is in docs/STORE.md.

Examples:
  sla sync --demo --store sqlite:demo.db
  sla sync --all-queues --period last-30-days
  sla sync --queue Support --queue Sales --from 2026-01-01 --to 2026-03-31 --store postgres://sla@db.internal/sla
  sla sync --all-queues --period last-7-days --restate 48h    # hourly, from cron
  sla report --source store --all-queues --period last-month --granularity day";

/// The help of `--store`, written out rather than as a doc comment, whose URLs rustdoc would
/// read as links.
const STORE_HELP: &str = "The history store `sla sync` fills and `--source store` reads: \
    sqlite:PATH (relative to the working directory), sqlite:///ABSOLUTE/PATH or \
    postgres://USER@HOST:PORT/DATABASE";

/// How `sla sync` and `--source store` name the store.
#[derive(Debug, Args)]
#[command(next_help_heading = "Store")]
pub(crate) struct StoreArgs {
    #[arg(long, env = "SLA_STORE", hide_env_values = true, default_value = DEFAULT_URL, value_name = "URL", help = STORE_HELP)]
    pub(crate) store: String,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(flatten, next_help_heading = "Queues")]
    pub(crate) queues: QueueArgs,
    #[command(flatten)]
    pub(crate) window: WindowArgs,
    /// How much of what the store already holds is read again, from the end of what it holds:
    /// Genesys rewrites conversation data up to 48 hours old (0s reads only what is new).
    #[arg(long, default_value = "72h", value_name = "DURATION", help_heading = "Window", value_parser = restate_arg)]
    pub(crate) restate: Duration,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// Reads `--restate`: a duration, zero allowed.
fn restate_arg(text: &str) -> Result<Duration, String> {
    let restate = Threshold::parse(text).map_err(|e| e.to_string())?;
    Ok(Duration::from_millis(restate.as_millis()))
}

const QUEUE_EXAMPLES: &str = "\
Examples:
  sla queues --demo
  sla queues --name 'Support*'
  sla queues --format csv --out queues.csv";

const BREACH_EXAMPLES: &str = "\
Examples:
  sla breaches --demo --queue Support --period yesterday --threshold 20s
  sla breaches --queue Sales --from 2024-05-01T08:00:00Z --to 2024-05-01T12:00:00Z --threshold 30s --abandons against --format csv
  sla breaches --source store --store sqlite:sla.db --queue Sales --period last-week --threshold 20s";

const NOW_EXAMPLES: &str = "\
Per queue (per queue and media type with --by-media): conversations waiting now and the longest
wait, agents on queue and conversations being handled; over the rolling window, offered, ASA and
abandon %, and per objective the service level, the conversations waiting past its threshold now
(each already a miss) and the projected service level if they are counted as misses.

Examples:
  sla now --demo
  sla now --queue Support --queue Sales --threshold 20s --threshold 60s
  sla now --queue-name 'Sales*' --window 1h --abandons against --format json
  sla now --all-queues --by-media --watch --every 10s

With --watch on a terminal, the table is redrawn in place every --every until Ctrl-C; when a
refresh fails, the last good figures stay on screen with their age and the error on one line,
and the next tick tries again (a first refresh that fails ends the run, as without --watch). When standard output is not a terminal, --watch writes one
document per refresh instead: JSON lines with --format json, otherwise each document followed by
a blank line; failed refreshes are told on stderr. With --out, the file is replaced at each
refresh.";

/// The shortest `--every`: a refresh costs a few requests, and Genesys's own observations move
/// on a scale of seconds.
pub(crate) const MIN_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub(crate) struct NowArgs {
    #[command(flatten, next_help_heading = "Queues")]
    pub(crate) queues: QueueArgs,
    /// One row per queue and media type.
    #[arg(long, help_heading = "Queues")]
    pub(crate) by_media: bool,
    /// The rolling window of the service levels, ending now: from 5m to 24h.
    #[arg(long, default_value_t, value_name = "DURATION", help_heading = "Window", value_parser = parse::<LiveWindow>)]
    pub(crate) window: LiveWindow,
    /// IANA time zone for the times shown [default: the system zone].
    #[arg(long, value_name = "ZONE", help_heading = "Window", value_parser = parse::<Zone>)]
    pub(crate) tz: Option<Zone>,
    #[command(flatten, next_help_heading = "Objectives")]
    pub(crate) objectives: ObjectiveArgs,
    #[command(flatten, next_help_heading = "Formula")]
    pub(crate) formula: FormulaArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Refresh every --every until Ctrl-C: in place on a terminal, one document per refresh
    /// otherwise (JSON lines with --format json, a blank line after each document otherwise).
    #[arg(long, help_heading = "Output")]
    pub(crate) watch: bool,
    /// How often --watch refreshes: at least 2s.
    #[arg(long, default_value = "5s", value_name = "DURATION", requires = "watch", help_heading = "Output", value_parser = every_arg)]
    pub(crate) every: Duration,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// Reads `--every`: a duration of at least [`MIN_EVERY`].
fn every_arg(text: &str) -> Result<Duration, String> {
    let every = Threshold::parse(text).map_err(|e| e.to_string())?;
    let every = Duration::from_millis(every.as_millis());
    if every < MIN_EVERY {
        return Err(format!(
            "'{text}' is too short: refresh at most every {}s",
            MIN_EVERY.as_secs()
        ));
    }
    Ok(every)
}

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
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// Where visits come from: conversation details, or a history store filled by `sla sync`
    /// (no Genesys connection is made).
    #[arg(long, default_value = "details", help_heading = "Connection", value_parser = named(BREACH_SOURCES, SourceKind::as_str))]
    pub(crate) source: SourceKind,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// The sources that list visits, as `sla breaches` needs.
const BREACH_SOURCES: &[SourceKind] = &[SourceKind::Details, SourceKind::Store];

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
    pub(crate) fail: FailArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// Where counts come from: the aggregates query, conversation details, or a history store
    /// filled by `sla sync` (no Genesys connection is made; see --store).
    #[arg(long, default_value_t, help_heading = "Connection", value_parser = named(SourceKind::ALL, SourceKind::as_str))]
    pub(crate) source: SourceKind,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// Where and how every subcommand writes its result.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Output format.
    #[arg(long, default_value_t, value_parser = named(Format::ALL, Format::as_str))]
    pub(crate) format: Format,
    /// Write to this file instead of standard output: a regular file is replaced atomically
    /// (at each refresh with `sla now --watch`), a device or FIFO written in place.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `sla report`'s exit status 3.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct FailArgs {
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
    #[command(flatten)]
    pub(crate) output: OutputArgs,
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

impl NowArgs {
    /// The rolling window's query as sla-core reads it; `objectives` are the config file's,
    /// already read.
    pub(crate) fn query_input(&self, objectives: Vec<Objective>) -> QueryInput {
        let mut input = QueryInput {
            by_media: self.by_media,
            tz: self.tz.clone(),
            thresholds: self.objectives.threshold.clone(),
            objectives,
            ..QueryInput::default()
        };
        self.queues.apply(&mut input);
        self.formula.apply(&mut input);
        input.over_live_window(self.window)
    }
}

impl BreachesArgs {
    /// The query as sla-core reads it.
    pub(crate) fn query_input(&self) -> QueryInput {
        let mut input = QueryInput {
            thresholds: self.threshold.clone(),
            source: self.source,
            ..QueryInput::default()
        };
        self.window.apply(&mut input);
        self.queues.apply(&mut input);
        self.formula.apply(&mut input);
        input
    }
}

impl SyncArgs {
    /// The queues and window as sla-core reads a report's.
    pub(crate) fn query_input(&self) -> QueryInput {
        let mut input = QueryInput {
            source: SourceKind::Details,
            ..QueryInput::default()
        };
        self.window.apply(&mut input);
        self.queues.apply(&mut input);
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

    #[test]
    fn sync_restates_the_core_default_and_writes_the_default_store() {
        use clap::Parser as _;
        let cli = super::Cli::try_parse_from(["sla", "sync", "--all-queues"]).unwrap();
        let super::Command::Sync(args) = cli.command else {
            panic!("a sync was parsed");
        };
        assert_eq!(args.restate, sla_core::DEFAULT_RESTATE);
        assert_eq!(args.store.store, sla_connect::DEFAULT_URL);
        let cli = super::Cli::try_parse_from(["sla", "sync", "--all-queues", "--restate", "0s"]);
        let super::Command::Sync(args) = cli.unwrap().command else {
            panic!("a sync was parsed");
        };
        assert_eq!(args.restate, std::time::Duration::ZERO);
    }
}
