//! The `sla-http` binary: reads its configuration, connects to Genesys Cloud (or the built-in
//! simulator with `--demo`), serves the API, dashboard and metrics, refreshes the watched
//! queues in the background, and shuts down gracefully on SIGTERM or SIGINT.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod alerts;
mod app;
mod auth;
mod cache;
mod config;
mod dashboard;
mod error;
mod fetch;
mod genesys;
mod live;
mod metrics;
mod notify;
mod params;
mod ready;
mod routes;
mod state;
mod stream;
#[cfg(test)]
mod tests;
mod watch;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use jiff::Timestamp;
use sla_connect::process::{self, UsageError};
use sla_connect::{Access, ConnectError, HistoryStore, OpenStoreError};
use sla_core::{AlertRule, ServiceError, SlaError, check_alert_objectives};

use crate::alerts::Alerts;
use crate::config::{Cli, METRICS_TOKEN_VAR, TOKEN_VAR};
use crate::genesys::ClientUpstream;
use crate::notify::{Notifier, NotifySettings, Webhook};
use crate::state::{AppState, Ports, Settings, StorePorts, SystemClock};

/// Request logs name method, path and status; never a header, so never a token.
const DEFAULT_LOG: &str = "info";

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

fn main() -> ExitCode {
    let (cli, runtime) = match process::start::<Cli>(DEFAULT_LOG) {
        Ok(started) => started,
        Err(status) => return status,
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            process::failure_status(e.chain())
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let zone = cli.tz.clone().unwrap_or_else(process::system_zone);
    let config_path = cli.watch.objectives.config.as_deref();
    let config = config::read_service_config(config_path)?;
    // Webhooks read their URLs and secrets from the environment now, so that a missing
    // variable stops the service at start rather than the first alert.
    let webhooks = config
        .webhooks
        .iter()
        .map(|spec| {
            Webhook::from_spec(spec, |var| std::env::var(var).ok()).map_err(|e| match config_path {
                Some(path) => UsageError(format!("{}: {e}", path.display())),
                None => e,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let watch = cli.watch_input(config.objectives);
    let token = config::client_token(std::env::var(TOKEN_VAR).ok());
    let metrics_token = config::client_token(std::env::var(METRICS_TOKEN_VAR).ok());

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
        live: connection.live(),
        upstream: Arc::new(ClientUpstream(Arc::clone(connection.client()))),
    };
    let settings = Settings {
        zone,
        demo: connection.is_demo(),
        token,
        metrics_token,
        watch,
        refresh_interval: cli.refresh_interval,
        request_timeout: cli.request_timeout,
        live_window: cli.live.live_window,
        live_interval: cli.live.live_interval,
        live_recount_interval: cli.live.live_recount_interval,
        max_live_subscribers: usize::try_from(cli.live.max_live_subscribers).unwrap_or(usize::MAX),
        ..Settings::default()
    };
    let protected = settings.token.is_some();
    let metrics_protected = settings.metrics_token.is_some();
    let mut state = AppState::new(ports, Arc::new(SystemClock), settings);
    if let Some(url) = &cli.store {
        state = state.with_store(open_store(url).await?);
    }
    check_watched(&state, &config.alerts, config_path).await?;
    let (notifier, sender) = start_notifier(webhooks, cli.alerts.webhook_timeout)?;
    let rules = config.alerts.len();
    let draining = notifier.clone();
    let state = state.with_alerts(Alerts::new(config.alerts, notifier));

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
    tracing::info!(
        %addr,
        demo = connection.is_demo(),
        protected,
        metrics_protected,
        alert_rules = rules,
        "serving"
    );

    let refresher = state.is_watching().then(|| watch::spawn(state.clone()));
    let poller = state.is_watching().then(|| live::spawn(state.clone()));
    let watchdog = (state.is_watching() && !state.alerts.is_empty())
        .then(|| alerts::spawn_watchdog(state.clone()));
    let hub = Arc::clone(&state.live);
    let served = axum::serve(listener, app::app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Open streams would keep the server waiting for ever: end them.
            hub.close();
        })
        .await
        .context("the server failed");
    wind_down([refresher, poller, watchdog], draining, sender).await;
    connection.close().await;
    tracing::info!("stopped");
    served
}

/// Stops the background tasks. Once nothing decides an alert any more, what was decided gets a
/// moment to go out before the webhook sender stops.
async fn wind_down(
    background: [Option<tokio::task::JoinHandle<()>>; 3],
    notifier: Option<Notifier>,
    sender: Option<tokio::task::JoinHandle<()>>,
) {
    for task in background.into_iter().flatten() {
        task.abort();
        // An aborted task stops at its next await: wait for that, so that no evaluation still
        // running queues an event after the drain below has found the queue empty.
        let _ = task.await;
    }
    if let Some(notifier) = notifier {
        let left = notifier.drain(NOTIFY_GRACE).await;
        if left > 0 {
            tracing::warn!(
                undelivered = left,
                grace_s = NOTIFY_GRACE.as_secs(),
                "alert notifications still undelivered at shutdown"
            );
        }
    }
    if let Some(sender) = sender {
        sender.abort();
    }
}

/// How long queued alert notifications may take to go out at shutdown: well inside the 30 s a
/// container runtime usually allows between SIGTERM and SIGKILL.
const NOTIFY_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The history store of `source=store`, opened to read: a missing `SQLite` file is refused rather
/// than created empty.
async fn open_store(url: &str) -> anyhow::Result<StorePorts> {
    let store = HistoryStore::open(url, Access::Read)
        .await
        .map_err(|e| match e {
            OpenStoreError::Usage(message) => usage(message),
            OpenStoreError::Store(e) => anyhow::Error::new(e).context("cannot open the store"),
        })?;
    tracing::info!(
        store = store.url(),
        "reports with source=store read the store"
    );
    Ok(StorePorts {
        directory: store.directory(),
        visits: store.visits(),
        store: store.writer(),
    })
}

/// The notifier of the webhooks and its sender task; none without webhooks.
fn start_notifier(
    webhooks: Vec<Webhook>,
    timeout: std::time::Duration,
) -> anyhow::Result<(Option<Notifier>, Option<tokio::task::JoinHandle<()>>)> {
    if webhooks.is_empty() {
        return Ok((None, None));
    }
    let settings = NotifySettings {
        request_timeout: timeout,
        ..NotifySettings::default()
    };
    let (notifier, task) =
        Notifier::start(webhooks, settings).context("cannot build the webhook client")?;
    Ok((Some(notifier), Some(task)))
}

/// Refuses to start with watched queues or objectives that `sla report` would refuse, with the
/// same message: a misspelt queue would otherwise leave `/readyz` failing for ever and
/// `/metrics` silently without it. Alert rules are checked alike: the objectives they read must
/// be measured (from the config file, `--threshold` or the demo's defaults), the queues they name
/// must exist, and there must be watched queues for them to watch. When Genesys cannot be
/// reached, the service starts anyway and says so, since readiness reports it until Genesys
/// answers.
async fn check_watched(
    state: &AppState,
    rules: &[AlertRule],
    config: Option<&Path>,
) -> anyhow::Result<()> {
    let request = watch::watched(state, Timestamp::now()).map_err(|e| usage(e.to_string()))?;
    let in_file = |e: &dyn std::fmt::Display| match config {
        Some(path) => usage(format!("{}: {e}", path.display())),
        None => usage(e.to_string()),
    };
    if !rules.is_empty() {
        if request.queues.is_empty() {
            return Err(in_file(&SlaError::InvalidConfig(
                "the alert rules have nothing to watch: name the watched queues with --queue, \
                 --queue-name or --all-queues"
                    .to_owned(),
            )));
        }
        check_alert_objectives(rules, &request.objectives).map_err(|e| in_file(&e))?;
    }
    if request.queues.is_empty() {
        return Ok(());
    }
    let directory = state.ports.directory.as_ref();
    // Whether a refusal is about the alert rules, whose messages name the config file.
    let checked = match sla_core::resolve(&request, directory).await {
        Ok(queues) => alerts::check_queues(rules, &queues, directory)
            .await
            .map_err(|e| (true, e)),
        Err(e) => Err((false, e)),
    };
    match checked {
        Ok(()) => Ok(()),
        Err((true, ServiceError::Input(e))) => Err(in_file(&e)),
        Err((false, ServiceError::Input(e))) => Err(usage(e.to_string())),
        Err((_, ServiceError::Source(e))) => {
            tracing::warn!(error = %error::chain(&e), "cannot check the watched queues yet");
            Ok(())
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM; open requests then finish before the server stops.
async fn shutdown_signal() {
    match process::stop_signal().await {
        process::Stop::Interrupt => tracing::info!("SIGINT received: shutting down"),
        process::Stop::Terminate => tracing::info!("SIGTERM received: shutting down"),
    }
}
