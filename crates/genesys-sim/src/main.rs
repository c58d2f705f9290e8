//! The `genesys-sim` binary: serve a seeded simulated org and print how to point clients at it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{io::Write as _, net::SocketAddr, process::ExitCode};

use anyhow::Context as _;
use clap::Parser;
use genesys_sim::{JobFinalState, LiveConfig, SimConfig, SimServer};

/// Serve a simulated Genesys Cloud org on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "genesys-sim", version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated org and of random faults.
    #[arg(long, default_value_t = SimConfig::default().seed)]
    seed: u64,
    /// Number of queues.
    #[arg(long, default_value_t = SimConfig::default().queues)]
    queues: usize,
    /// Number of whole UTC days of data.
    #[arg(long, default_value_t = SimConfig::default().days)]
    days: u32,
    /// Average conversations entering each queue per day.
    #[arg(long, default_value_t = SimConfig::default().visits_per_day)]
    visits_per_day: u32,
    /// Last day of data, inclusive (YYYY-MM-DD); default today (UTC).
    #[arg(long)]
    end_date: Option<jiff::civil::Date>,
    /// Requests per minute allowed per token before answering 429.
    #[arg(long)]
    rate_limit_per_min: Option<u32>,
    /// Share of API requests answered 429 at random (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Retry-After seconds on random 429s.
    #[arg(long, default_value_t = SimConfig::default().retry_after_s)]
    retry_after_s: u64,
    /// Share of API requests answered 503/500 at random (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Delay before answering each API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = SimConfig::default().token_ttl_s)]
    token_ttl_s: u64,
    /// Accepted OAuth client id.
    #[arg(long, default_value_t = SimConfig::default().client_id)]
    client_id: String,
    /// Accepted OAuth client secret (a fake; this is a simulator).
    #[arg(long, default_value_t = SimConfig::default().client_secret)]
    client_secret: String,
    /// State details jobs reach after their first poll: FULFILLED, FAILED, EXPIRED or CANCELLED.
    #[arg(long, default_value_t = JobFinalState::Fulfilled)]
    job_final_state: JobFinalState,
    /// The org's short-abandon threshold in milliseconds (tShortAbandon).
    #[arg(long, default_value_t = SimConfig::default().short_abandon_ms)]
    short_abandon_ms: u64,
    /// Serve the generated history only: no live org (the observations query sees idle queues).
    #[arg(long, help_heading = "Live org")]
    no_live: bool,
    /// How much faster than real time the live org runs (arrivals up, handle times and patience
    /// down by this factor; instants stay real).
    #[arg(long, default_value_t = LiveConfig::default().speed_up, value_name = "FACTOR", help_heading = "Live org")]
    speed_up: f64,
    /// Generate no live traffic of its own (the org starts empty and stays so).
    #[arg(long, help_heading = "Live org")]
    no_autopilot: bool,
    /// Agents on queue in each queue when the live org starts.
    #[arg(long, default_value_t = LiveConfig::default().agents_per_queue, value_name = "N", help_heading = "Live org")]
    agents_per_queue: u32,
    /// Live arrivals per hour in a queue of average volume, before the speed-up.
    #[arg(long, default_value_t = LiveConfig::default().arrivals_per_hour, value_name = "N", help_heading = "Live org")]
    arrivals_per_hour: f64,
}

impl Args {
    fn into_config(self) -> SimConfig {
        SimConfig {
            seed: self.seed,
            queues: self.queues,
            days: self.days,
            visits_per_day: self.visits_per_day,
            end_date: self.end_date,
            rate_limit_per_min: self.rate_limit_per_min,
            throttle_rate: self.throttle_rate,
            retry_after_s: self.retry_after_s,
            fail_rate: self.fail_rate,
            latency_ms: self.latency_ms,
            token_ttl_s: self.token_ttl_s,
            client_id: self.client_id,
            client_secret: self.client_secret,
            job_final_state: self.job_final_state,
            short_abandon_ms: self.short_abandon_ms,
            live: LiveConfig {
                enabled: !self.no_live,
                speed_up: self.speed_up,
                autopilot: !self.no_autopilot,
                agents_per_queue: self.agents_per_queue,
                arrivals_per_hour: self.arrivals_per_hour,
                ..LiveConfig::default()
            },
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genesys-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let server = SimServer::start_on(args.into_config(), addr)
        .await
        .context("starting the simulator")?;
    let base = server.base_url();
    let config = server.config();
    let org = server.org();
    // The first line is parsed by tests and scripts: keep it exactly this shape.
    let mut out = std::io::stdout().lock();
    writeln!(out, "genesys-sim listening on {base}")?;
    writeln!(out, "export GENESYSCLOUD_API_BASE={base}")?;
    writeln!(
        out,
        "export GENESYSCLOUD_OAUTHCLIENT_ID={}",
        config.client_id
    )?;
    writeln!(
        out,
        "export GENESYSCLOUD_OAUTHCLIENT_SECRET={}",
        config.client_secret
    )?;
    out.flush()?;
    drop(out);
    eprintln!(
        "serving {} queues, {} conversations, {} queue visits from {} to {}; Ctrl-C stops",
        org.queues.len(),
        org.conversations.len(),
        org.visits.len(),
        org.start,
        org.end
    );
    if let Some(live) = server.live() {
        eprintln!(
            "live since {} at {}x speed, {} agents per queue, autopilot {}",
            live.started_at(),
            config.live.speed_up,
            config.live.agents_per_queue,
            if config.live.autopilot { "on" } else { "off" }
        );
    }
    shutdown_signal().await;
    server.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
