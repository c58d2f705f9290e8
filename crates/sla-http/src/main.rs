//! The `sla-http` binary: reads its configuration, connects to Genesys Cloud (or the built-in
//! simulator with `--demo`), serves the API, dashboard and metrics, refreshes the watched
//! queues in the background, and shuts down gracefully on SIGTERM or SIGINT.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod app;
mod auth;
mod cache;
mod config;
mod dashboard;
mod error;
mod fetch;
mod genesys;
mod metrics;
mod params;
mod ready;
mod routes;
mod state;
#[cfg(test)]
mod tests;
mod watch;

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sla_connect::ConnectError;
use sla_core::Zone;

use crate::config::{Cli, TOKEN_VAR};
use crate::genesys::ClientUpstream;
use crate::state::{AppState, Ports, Settings, SystemClock};

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// A setting the user can fix: the process exits with status 2.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

fn main() -> ExitCode {
    // Loaded before parsing, so settings read from the environment can come from `.env` too.
    let _ = dotenvy::dotenv();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let is_usage = e.chain().any(<dyn std::error::Error>::is::<UsageError>);
            ExitCode::from(if is_usage { EXIT_USAGE } else { EXIT_RUNTIME })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let zone = match &cli.tz {
        Some(name) => Zone::get(name).map_err(|e| usage(e.to_string()))?,
        None => Zone::from_time_zone(TimeZone::system()).unwrap_or_else(Zone::utc),
    };
    let config = match &cli.watch.objectives.config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read config file {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let watch = cli.watch_input(config);
    // A typo in the watched flags fails now rather than at every refresh.
    watch
        .parse(Timestamp::now(), &zone)
        .map_err(|e| usage(e.to_string()))?;
    let token = config::client_token(std::env::var(TOKEN_VAR).ok());

    let connection = sla_connect::connect(&cli.connection)
        .await
        .map_err(|e| match e {
            ConnectError::Usage(message) => usage(message),
            other @ ConnectError::Demo(_) => anyhow::Error::new(other),
        })?;
    let ports = Ports {
        directory: connection.directory(),
        tallies: connection.tallies(),
        visits: Some(connection.visits()),
        upstream: Arc::new(ClientUpstream(Arc::clone(connection.client()))),
    };
    let settings = Settings {
        zone,
        demo: connection.is_demo(),
        token,
        watch,
        refresh_interval: cli.refresh_interval,
        request_timeout: cli.request_timeout,
        ..Settings::default()
    };
    let protected = settings.token.is_some();
    let state = AppState::new(ports, Arc::new(SystemClock), settings);

    let listener = tokio::net::TcpListener::bind(cli.bind)
        .await
        .with_context(|| format!("cannot listen on {}", cli.bind))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    // The first stdout line is a contract: scripts and tests read the address from it.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "sla-http listening on http://{addr}")
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")?;
    drop(stdout);
    tracing::info!(%addr, demo = connection.is_demo(), protected, "serving");

    let refresher = watch::is_watching(&state).then(|| watch::spawn(state.clone()));
    let served = axum::serve(listener, app::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed");
    if let Some(refresher) = refresher {
        refresher.abort();
    }
    connection.close().await;
    tracing::info!("stopped");
    served
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM; open requests then finish before the server stops.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received: shutting down"),
        () = terminate => tracing::info!("SIGTERM received: shutting down"),
    }
}

/// Logs go to stderr, at the level `SLA_LOG` names (`info` by default), in colour only on a
/// terminal. Request logs name method, path and status; never a header, so never a token.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
