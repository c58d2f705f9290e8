//! The `sla` binary: parses the command line, connects to Genesys Cloud (or the built-in
//! simulator with `--demo`), runs the subcommand and maps the outcome to an exit status.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod out;
mod progress;
mod run;
mod watch;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use jiff::Timestamp;
use sla_connect::process::{self, UsageError};
use sla_connect::{Access, ConnectError, HistoryStore, OpenStoreError};
use sla_core::SourceKind;

use crate::cli::{Cli, Command};
use crate::run::{Context, Live, Origin, Outcome, Ports, StorePorts, SyncPorts};
use crate::watch::{SystemClock, stdout_width};

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
    let terminal = std::io::stdout()
        .is_terminal()
        .then_some(stdout_width as fn() -> usize);
    // Stderr stays unlocked between writes: the progress bars draw on it from the runtime's
    // worker threads, and a lock held for the whole run would stop them (and the run) for good.
    let progress = progress::Progress::new();
    let mut stdout = progress.writer(std::io::stdout().lock());
    let mut stderr = progress.writer(std::io::stderr());
    let mut io = run::Io {
        out: &mut stdout,
        err: &mut stderr,
    };
    let context = Context {
        now: Timestamp::now(),
        zone: process::system_zone(),
    };
    // A report or a breach list from a history store makes no Genesys connection at all: no
    // credentials, no region, no demo org.
    match &cli.command {
        Command::Report(args) if args.source == SourceKind::Store => {
            let store = open_store(&args.store.store, Access::Read).await?;
            return run::report(args, Origin::Store(&store), &context, &mut io).await;
        }
        Command::Breaches(args) if args.source == SourceKind::Store => {
            let store = open_store(&args.store.store, Access::Read).await?;
            return run::breaches(args, Origin::Store(&store), &context, &mut io).await;
        }
        _ => {}
    }
    let connection_args = match &cli.command {
        Command::Report(args) => &args.connection,
        Command::Queues(args) => &args.connection,
        Command::Breaches(args) => &args.connection,
        Command::Now(args) => &args.connection,
        Command::Sync(args) => &args.connection,
    };
    let connection = sla_connect::connect(connection_args)
        .await
        .map_err(|e| match e {
            ConnectError::Usage(message) => anyhow::Error::new(UsageError(message)),
            other @ ConnectError::Demo(_) => anyhow::Error::new(other),
        })?;
    // The Genesys ports, with the details progress bar that clears itself when dropped.
    let genesys = || {
        let (visits, bar) = progress::visits_with_progress(&progress, connection.client());
        let ports = Ports {
            directory: connection.directory(),
            tallies: connection.tallies(),
            visits: Some(visits),
            live: connection.live(),
        };
        (ports, bar)
    };
    let result = match &cli.command {
        Command::Report(args) => {
            let (ports, _bar) = genesys();
            run::report(args, Origin::Genesys(&ports), &context, &mut io).await
        }
        Command::Queues(args) => run::queues(args, connection.directory().as_ref(), &mut io).await,
        Command::Breaches(args) => {
            let (ports, _bar) = genesys();
            run::breaches(args, Origin::Genesys(&ports), &context, &mut io).await
        }
        Command::Now(args) => {
            let (ports, _bar) = genesys();
            let live = Live {
                clock: &SystemClock,
                terminal,
            };
            run::now(args, &ports, &context, &live, &mut io, async {
                process::stop_signal().await;
            })
            .await
        }
        Command::Sync(args) => match open_store(&args.store.store, Access::Write).await {
            Ok(store) => {
                let (visits, on_sync, _bar) =
                    progress::sync_with_progress(&progress, connection.client());
                let directory = connection.directory();
                let sync = SyncPorts {
                    directory: directory.as_ref(),
                    visits: visits.as_ref(),
                    store: &store,
                    progress: &on_sync,
                };
                run::sync(args, &sync, &context, &mut io).await
            }
            Err(e) => Err(e),
        },
    };
    connection.close().await;
    result
}

/// Opens the history store `url` names; a bad URL or a missing SQLite file to read is a usage
/// error.
async fn open_store(url: &str, access: Access) -> anyhow::Result<StorePorts> {
    let store = HistoryStore::open(url, access).await.map_err(|e| match e {
        OpenStoreError::Usage(message) => anyhow::Error::new(UsageError(message)),
        OpenStoreError::Store(e) => anyhow::Error::new(e).context("cannot open the store"),
    })?;
    Ok(StorePorts {
        url: store.url().to_owned(),
        directory: store.directory(),
        visits: store.visits(),
        store: store.writer(),
    })
}
