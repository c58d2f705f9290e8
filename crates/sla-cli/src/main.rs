//! The `sla` binary: parses the command line, connects to Genesys Cloud (or the built-in
//! simulator with `--demo`), runs the subcommand and maps the outcome to an exit status.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod out;
mod progress;
mod run;

use std::process::ExitCode;

use jiff::Timestamp;
use sla_connect::ConnectError;
use sla_connect::process::{self, UsageError};

use crate::cli::{Cli, Command};
use crate::run::{Context, Outcome, Ports};

/// The exit status of a report below `--fail-below`, as documented in the README.
const EXIT_BELOW: u8 = 3;

/// By default only warnings show, except the retries the client makes under throttling or
/// server errors: those are routine, and a run that finally fails says how many attempts it
/// made.
const DEFAULT_LOG: &str = "warn,genesys_adapter::retry=error";

fn main() -> ExitCode {
    let (cli, runtime) = match process::start::<Cli>(DEFAULT_LOG) {
        Ok(started) => started,
        Err(status) => return status,
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::BelowThreshold) => ExitCode::from(EXIT_BELOW),
        Err(e) => {
            eprintln!("error: {e:#}");
            process::failure_status(e.chain())
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut io = run::Io {
        out: &mut stdout,
        err: &mut stderr,
    };
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
    let context = Context {
        now: Timestamp::now(),
        zone: process::system_zone(),
    };
    let result = match &cli.command {
        Command::Report(args) => run::report(args, &ports, &context, &mut io).await,
        Command::Queues(args) => run::queues(args, ports.directory.as_ref(), &mut io).await,
        Command::Breaches(args) => run::breaches(args, &ports, &context, &mut io).await,
    };
    connection.close().await;
    result
}
