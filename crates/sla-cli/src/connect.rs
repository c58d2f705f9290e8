//! The connection a run reads from: Genesys Cloud with credentials from the environment, or the
//! built-in simulated org with `--demo`.

use std::sync::Arc;

use genesys_adapter::{GenesysClient, GenesysConfig, Region};
use genesys_sim::{SimConfig, SimServer};
use secrecy::SecretString;

use crate::cli::ConnectionArgs;
use crate::run::{Ports, UsageError};

const CLIENT_ID: &str = "GENESYSCLOUD_OAUTHCLIENT_ID";
const CLIENT_SECRET: &str = "GENESYSCLOUD_OAUTHCLIENT_SECRET";

/// A client, and the simulator it talks to under `--demo`.
pub(crate) struct Connection {
    client: Arc<GenesysClient>,
    sim: Option<SimServer>,
}

impl Connection {
    /// The ports over this connection.
    pub(crate) fn ports(&self) -> Ports {
        Ports {
            directory: self.client.clone(),
            tallies: self.client.clone(),
            visits: None,
        }
    }

    /// Stops the simulator, if one runs.
    pub(crate) async fn close(self) {
        if let Some(sim) = self.sim {
            sim.stop().await;
        }
    }
}

/// Connects as `args` say. Credentials come only from the environment (a `.env` file in the
/// working directory has been loaded into it), never from a flag, since flags show in `ps`.
pub(crate) async fn connect(args: &ConnectionArgs) -> anyhow::Result<Connection> {
    let (mut config, sim) = if args.demo {
        let sim = SimServer::start(SimConfig::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the demo org: {e}"))?;
        let sim_config = sim.config();
        let mut config = GenesysConfig::new(
            Region::default(),
            sim_config.client_id.clone(),
            SecretString::from(sim_config.client_secret.clone()),
        );
        config.api_base = sim.base_url();
        (config, Some(sim))
    } else {
        let region: Region = match &args.region {
            Some(r) => r.parse().map_err(|e: genesys_adapter::GenesysError| UsageError(e.to_string()))?,
            None => Region::default(),
        };
        let (Some(id), Some(secret)) = (non_empty_var(CLIENT_ID), non_empty_var(CLIENT_SECRET))
        else {
            return Err(UsageError(format!(
                "missing credentials: set {CLIENT_ID} and {CLIENT_SECRET} in the environment or a .env file (or try --demo)"
            ))
            .into());
        };
        let mut config = GenesysConfig::new(region, id, SecretString::from(secret));
        if let Some(base) = &args.api_base {
            config.api_base.clone_from(base);
        }
        config.login_base.clone_from(&args.login_base);
        (config, None)
    };
    config.max_requests_per_minute = args.max_requests_per_minute;
    config.concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    let client = GenesysClient::new(config).map_err(|e| UsageError(e.to_string()))?;
    Ok(Connection {
        client: Arc::new(client),
        sim,
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
