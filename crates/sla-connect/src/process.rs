//! Process plumbing both binaries share: `.env` and the command line, logging, the runtime, the
//! system zone, the config file, and the usage errors that exit with status 2.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use sla_core::{Objective, Zone, parse_config};

/// Exit status of a runtime failure (network, API, bad response).
pub const EXIT_RUNTIME: u8 = 1;
/// Exit status of a usage or input error.
pub const EXIT_USAGE: u8 = 2;

/// An input the user can fix: the process exits with [`EXIT_USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Everything before the work starts: loads `.env`, parses the command line (printing help,
/// the version or a usage error and giving the exit status when that is all there is to do),
/// starts logging at `SLA_LOG` or `default_log`, and builds the async runtime.
pub fn start<C: Parser>(default_log: &str) -> Result<(C, tokio::runtime::Runtime), ExitCode> {
    // Loaded before parsing, so that settings read from the environment (the region, the API
    // base) can come from `.env` too. Variables already set win. A `.env` that cannot be read
    // is named with its line rather than reported later as missing credentials.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        #[expect(
            clippy::print_stderr,
            reason = "logging starts after the command line is read"
        )]
        {
            eprintln!("error: cannot read .env: {}", dotenv_problem(&e));
        }
        return Err(ExitCode::from(EXIT_USAGE));
    }
    let cli = C::try_parse().map_err(|e| {
        // clap prints help and version to stdout with status 0, and usage errors with 2.
        let _ = e.print();
        ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE))
    })?;
    let filter = log_filter(std::env::var("SLA_LOG").ok().as_deref(), default_log);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            tracing::error!("cannot start the async runtime: {e}");
            ExitCode::from(EXIT_RUNTIME)
        })?;
    Ok((cli, runtime))
}

/// The HTTP plumbing's own crates say what they do with every connection at debug level, which
/// drowns what `sla` says; they stay at info unless `SLA_LOG` names them.
const QUIET_CRATES: &[&str] = &["hyper", "hyper_util", "reqwest", "h2", "rustls", "tower"];

/// The log filter: `SLA_LOG` when set and valid, otherwise `default_log`, with the HTTP
/// plumbing kept at info unless named.
fn log_filter(sla_log: Option<&str>, default_log: &str) -> tracing_subscriber::EnvFilter {
    let mut directives = sla_log
        .filter(|v| tracing_subscriber::EnvFilter::try_new(v).is_ok())
        .unwrap_or(default_log)
        .to_owned();
    for name in QUIET_CRATES {
        if !directives.split(',').any(|d| d.trim().starts_with(name)) {
            directives.push(',');
            directives.push_str(name);
            directives.push_str("=info");
        }
    }
    tracing_subscriber::EnvFilter::new(directives)
}

/// What is wrong with a `.env` file, naming the line at fault by its number: never its text,
/// which may hold the client secret.
fn dotenv_problem(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, at) => {
            let number = std::fs::read_to_string(".env").ok().and_then(|text| {
                text.lines()
                    .position(|l| l.contains(line.trim()))
                    .map(|i| i + 1)
            });
            let place = number.map_or_else(String::new, |n| format!("line {n}, "));
            format!(
                "{place}character {}: expected NAME=value (quote a value holding spaces or #)",
                at + 1
            )
        }
        dotenvy::Error::Io(e) => e.to_string(),
        _ => "cannot parse it".to_owned(),
    }
}

/// The exit status of a failed run: [`EXIT_USAGE`] when a [`UsageError`] is in the chain.
pub fn failure_status<'a>(
    mut chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> ExitCode {
    let usage = chain.any(<dyn std::error::Error>::is::<UsageError>);
    ExitCode::from(if usage { EXIT_USAGE } else { EXIT_RUNTIME })
}

/// The system's zone, or UTC (with a warning) when the system's has no IANA name.
pub fn system_zone() -> Zone {
    Zone::from_time_zone(jiff::tz::TimeZone::system()).unwrap_or_else(|| {
        tracing::warn!("the system time zone has no IANA name; using UTC (set --tz to choose)");
        Zone::utc()
    })
}

/// The objectives of the config file, when one is named; none otherwise.
pub fn read_objectives(path: Option<&Path>) -> Result<Vec<Objective>, UsageError> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read config file {}: {e}", path.display())))?;
    parse_config(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))
}

/// Which signal asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupt,
    /// `kill` or a service manager.
    Terminate,
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM, saying which. A signal that cannot be listened for
/// never completes, so the other still works.
pub async fn stop_signal() -> Stop {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => Stop::Interrupt,
        () = terminate => Stop::Terminate,
    }
}
