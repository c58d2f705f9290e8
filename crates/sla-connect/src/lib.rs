//! Command-line wiring shared by the `sla` and `sla-http` binaries: the queue, objective,
//! formula and connection flags, a Genesys Cloud client built from them and the environment (or
//! the built-in simulated org), the history store ([`HistoryStore`]), and the process plumbing
//! in [`process`].

use std::sync::Arc;

use clap::Args;
use genesys_adapter::{GenesysClient, GenesysConfig, GenesysError, Region};
use genesys_sim::{SimConfig, SimServer};
use secrecy::SecretString;
use sla_core::ports::{LiveSource, QueueDirectory, TallySource, VisitSource};

mod clock;
mod flags;
pub mod process;
mod store;

pub use crate::clock::{Clock, SystemClock};
pub use crate::flags::{
    FormulaArgs, ObjectiveArgs, QueueArgs, WindowArgs, duration_arg, named, parse, period_help,
};
pub use crate::store::{Access, DEFAULT_URL, HistoryStore, OpenStoreError};

/// The environment variable holding the OAuth client id.
pub const CLIENT_ID: &str = "GENESYSCLOUD_OAUTHCLIENT_ID";
/// The environment variable holding the OAuth client secret.
pub const CLIENT_SECRET: &str = "GENESYSCLOUD_OAUTHCLIENT_SECRET";

/// How to reach Genesys Cloud, as both binaries take it on the command line.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Genesys Cloud region: an SDK name (us-east-1, eu-west-1, ...) or a domain (mypurecloud.ie).
    #[arg(
        long,
        env = "GENESYSCLOUD_REGION",
        hide_env_values = true,
        value_name = "REGION"
    )]
    pub region: Option<String>,
    /// API base URL, overriding the region.
    #[arg(
        long,
        env = "GENESYSCLOUD_API_BASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub api_base: Option<String>,
    /// Login base URL [default: the API base with a leading `api.` replaced by `login.`].
    #[arg(
        long,
        env = "GENESYSCLOUD_LOGIN_BASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub login_base: Option<String>,
    /// Client-side request budget, below Genesys's 300 per minute per token [default: 240;
    /// none with --demo, whose org is on loopback].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_minute: Option<u32>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// How many times one request may be sent (throttling, server errors and network failures
    /// are retried) before the run fails.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Run against a built-in simulated org over loopback HTTP: no credentials needed.
    #[arg(long)]
    pub demo: bool,
}

/// The client-side request budget per minute, below Genesys's 300 per token.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 240;
/// Requests in flight at once.
pub const DEFAULT_CONCURRENCY: u32 = 4;
/// The budget of the demo org: in effect none.
const UNLIMITED_REQUESTS_PER_MINUTE: u32 = 1_000_000;
/// Sends of one request before giving up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

impl Default for ConnectionArgs {
    /// The same defaults as the command line's.
    fn default() -> Self {
        Self {
            region: None,
            api_base: None,
            login_base: None,
            max_requests_per_minute: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            demo: false,
        }
    }
}

/// Why no connection could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A setting the user can fix: a missing credential, an unknown region, a bad URL.
    #[error("{0}")]
    Usage(String),
    /// The demo org could not start.
    #[error("cannot start the demo org")]
    Demo(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A client, and the simulator it talks to under `--demo`.
pub struct Connection {
    client: Arc<GenesysClient>,
    sim: Option<SimServer>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("demo", &self.sim.is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The Genesys client.
    pub fn client(&self) -> &Arc<GenesysClient> {
        &self.client
    }

    /// The client as a queue directory.
    pub fn directory(&self) -> Arc<dyn QueueDirectory> {
        self.client.clone()
    }

    /// The client as a source of tallies.
    pub fn tallies(&self) -> Arc<dyn TallySource> {
        self.client.clone()
    }

    /// The client as a source of visits (conversation details).
    pub fn visits(&self) -> Arc<dyn VisitSource> {
        self.client.clone()
    }

    /// The client as a live source (queue observations: waiting, handled, agents on queue).
    pub fn live(&self) -> Arc<dyn LiveSource> {
        self.client.clone()
    }

    /// Whether this is the demo org.
    pub fn is_demo(&self) -> bool {
        self.sim.is_some()
    }

    /// Stops the simulator, if one runs.
    pub async fn close(self) {
        if let Some(sim) = self.sim {
            sim.stop().await;
        }
    }
}

/// Connects as `args` say. Credentials come only from the environment (load a `.env` file into
/// it first), never from a flag, since flags show in `ps`.
pub async fn connect(args: &ConnectionArgs) -> Result<Connection, ConnectError> {
    let (mut config, sim) = if args.demo {
        let ignored: Vec<&str> = [
            (args.region.is_some(), "--region (GENESYSCLOUD_REGION)"),
            (
                args.api_base.is_some(),
                "--api-base (GENESYSCLOUD_API_BASE)",
            ),
            (
                args.login_base.is_some(),
                "--login-base (GENESYSCLOUD_LOGIN_BASE)",
            ),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        if !ignored.is_empty() {
            // A warning, not an error: these are often set in the environment or a .env file
            // for real runs, and trying --demo beside them is reasonable.
            tracing::warn!(
                "--demo runs against the built-in org on loopback and ignores {}",
                ignored.join(", ")
            );
        }
        let sim = SimServer::start(SimConfig::default())
            .await
            .map_err(|e| ConnectError::Demo(Box::new(e)))?;
        let sim_config = sim.config();
        let mut config = GenesysConfig::new(
            Region::default(),
            sim_config.client_id.clone(),
            SecretString::from(sim_config.client_secret.clone()),
        );
        config.api_base = sim.base_url();
        (config, Some(sim))
    } else {
        let (Some(id), Some(secret)) = (non_empty_var(CLIENT_ID), non_empty_var(CLIENT_SECRET))
        else {
            return Err(ConnectError::Usage(format!(
                "missing credentials: set {CLIENT_ID} and {CLIENT_SECRET} in the environment or a .env file (or try --demo)"
            )));
        };
        let region: Region = match (&args.region, &args.api_base) {
            (Some(r), _) => r
                .parse()
                .map_err(|e: GenesysError| ConnectError::Usage(e.to_string()))?,
            // The API base names the host; the region only fills in what it leaves out.
            (None, Some(_)) => Region::default(),
            // Guessing the US would send the credentials to the wrong region and end, after
            // retries, in a login error that does not say why.
            (None, None) => {
                return Err(ConnectError::Usage(
                    "no region: set --region or GENESYSCLOUD_REGION to your org's region, an SDK name such as us-east-1 or eu-west-1, or a domain such as mypurecloud.ie".to_owned(),
                ));
            }
        };
        let mut config = GenesysConfig::new(region, id, SecretString::from(secret));
        if let Some(base) = &args.api_base {
            config.api_base.clone_from(base);
        }
        config.login_base.clone_from(&args.login_base);
        (config, None)
    };
    // Genesys's budget protects Genesys; the demo org on loopback needs none, and pacing it
    // would make a details demo take a minute instead of seconds.
    config.max_requests_per_minute = match (args.max_requests_per_minute, args.demo) {
        (Some(n), _) => n,
        (None, true) => UNLIMITED_REQUESTS_PER_MINUTE,
        (None, false) => DEFAULT_REQUESTS_PER_MINUTE,
    };
    config.concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    config.max_attempts = args.max_attempts;
    let client = GenesysClient::new(config).map_err(|e| ConnectError::Usage(e.to_string()))?;
    Ok(Connection {
        client: Arc::new(client),
        sim,
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
