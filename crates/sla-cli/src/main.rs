//! The `sla` binary: parses the command line, connects to Genesys Cloud (or the built-in
//! simulator with `--demo`), runs the subcommand and maps the outcome to an exit status.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod progress;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sla_core::Zone;

use crate::cli::{Cli, Command};
use sla_connect::ConnectError;

use crate::run::{Context, Outcome, Ports, UsageError};

/// Exit statuses, as documented in the README.
const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_BELOW: u8 = 3;

fn main() -> ExitCode {
    // Loaded before parsing, so that settings read from the environment (the region, the API
    // base) can come from `.env` too. Variables already set win.
    let _ = dotenvy::dotenv();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with status 0, and usage errors with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::BelowThreshold) => ExitCode::from(EXIT_BELOW),
        Err(e) => {
            eprintln!("error: {e:#}");
            let usage = e.chain().any(<dyn std::error::Error>::is::<UsageError>);
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_RUNTIME })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let mut stdout = std::io::stdout().lock();
    let connection_args = match &cli.command {
        Command::Report(args) => &args.connection,
        Command::Queues(args) => &args.connection,
        Command::Breaches(args) => &args.connection,
    };
    let connection = sla_connect::connect(connection_args)
        .await
        .map_err(|e| match e {
            ConnectError::Usage(message) => anyhow::Error::new(UsageError(message)),
            other @ ConnectError::Demo(_) => anyhow::Error::new(other),
        })?;
    let (visits, _bar) = progress::visits_with_progress(connection.client());
    let ports = Ports {
        directory: connection.directory(),
        tallies: connection.tallies(),
        visits: Some(visits),
    };
    let result = match &cli.command {
        Command::Report(args) => {
            let context = Context {
                now: Timestamp::now(),
                zone: system_zone(),
            };
            run::report(args, &ports, &context, &mut stdout).await
        }
        Command::Queues(args) => run::queues(args, ports.directory.as_ref(), &mut stdout).await,
        Command::Breaches(args) => {
            let context = Context {
                now: Timestamp::now(),
                zone: system_zone(),
            };
            run::breaches(args, &ports, &context, &mut stdout).await
        }
    };
    connection.close().await;
    result
}

/// The system's zone, or UTC (with a warning) when the system's has no IANA name.
fn system_zone() -> Zone {
    Zone::from_time_zone(TimeZone::system()).unwrap_or_else(|| {
        tracing::warn!("the system time zone has no IANA name; using UTC (set --tz to choose)");
        Zone::utc()
    })
}

/// Logs go to stderr, at the level `SLA_LOG` names, in colour only on a terminal. By default
/// only warnings show, except the retries the client makes under throttling or server errors:
/// those are routine, and a run that finally fails says how many attempts it made.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLA_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,genesys_adapter::retry=error")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
