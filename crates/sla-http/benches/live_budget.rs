//! The live API budget: how many requests a minute `sla-http` sends to Genesys Cloud while it
//! keeps its watched queues live at the default intervals, for 8 and for 100 watched queues.
//!
//! Runs the built `sla-http` against genesys-sim on loopback, lets it warm up, then counts the
//! simulator's requests by path over a measured span (`LIVE_BUDGET_SECONDS`, default 300) and
//! prints a Markdown table for `docs/PERFORMANCE.md`. Not a test: it takes minutes and only
//! measures. Run it with `cargo bench -p sla-http --bench live_budget`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on stdout"
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use genesys_sim::{SimConfig, SimServer};

/// The client-side request budget a minute, `--max-requests-per-minute`'s default.
const BUDGET_PER_MINUTE: f64 = 240.0;

/// Time for the service to start, take a token, resolve its queues and make its first counts,
/// so that the span measures the steady state.
const WARM_UP: Duration = Duration::from_secs(20);

/// Stops the service however the benchmark ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let span = std::env::var("LIVE_BUDGET_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_mins(5), Duration::from_secs);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut rows = Vec::new();
    for queues in [8, 100] {
        rows.push((queues, measure(&runtime, queues, span)));
    }
    println!(
        "\nsla-http --all-queues --threshold 20s --threshold configured, default intervals \
         (live 5s, re-count 15s, refresh 60s), against genesys-sim; {} s measured after {} s \
         of warm-up.\n",
        span.as_secs(),
        WARM_UP.as_secs()
    );
    println!("| watched queues | path | requests | per minute |");
    println!("| ---: | --- | ---: | ---: |");
    for (queues, counts) in &rows {
        for (path, n) in counts {
            println!(
                "| {queues} | `{path}` | {n} | {:.1} |",
                per_minute(*n, span)
            );
        }
    }
    println!("\n| watched queues | requests a minute | share of the 240-a-minute budget |");
    println!("| ---: | ---: | ---: |");
    for (queues, counts) in &rows {
        let total: u64 = counts.values().sum();
        let rate = per_minute(total, span);
        println!(
            "| {queues} | {rate:.1} | {:.1} % |",
            100.0 * rate / BUDGET_PER_MINUTE
        );
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "request counts are far below 2^52"
)]
fn per_minute(n: u64, span: Duration) -> f64 {
    n as f64 * 60.0 / span.as_secs_f64()
}

/// Requests by path over `span` of a service watching `queues` queues.
fn measure(
    runtime: &tokio::runtime::Runtime,
    queues: usize,
    span: Duration,
) -> BTreeMap<String, u64> {
    let sim = runtime
        .block_on(SimServer::start(SimConfig {
            queues,
            days: 1,
            visits_per_day: 200,
            ..SimConfig::default()
        }))
        .expect("the simulator starts");
    let config = sim.config();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sla-http"))
        .args([
            "--all-queues", "--threshold", "20s", "--threshold", "configured", "--tz", "UTC",
            "--bind", "127.0.0.1:0",
        ])
        .env("GENESYSCLOUD_API_BASE", sim.base_url())
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", &config.client_id)
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &config.client_secret)
        .env("SLA_LOG", "warn")
        .env_remove("SLA_HTTP_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sla-http starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let service = Service(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("sla-http's first line");
    let addr = line
        .trim()
        .strip_prefix("sla-http listening on http://")
        .unwrap_or_else(|| panic!("sla-http did not announce its address: {line:?}"))
        .to_owned();
    // The first live document means the service is up and counting.
    let status = get_status(&addr, "/api/v1/live");
    assert_eq!(status, 200, "GET /api/v1/live");
    eprintln!("{queues} queues: warming up for {} s", WARM_UP.as_secs());
    std::thread::sleep(WARM_UP);
    let before = sim.requests_by_path();
    let started = Instant::now();
    eprintln!("{queues} queues: measuring for {} s", span.as_secs());
    std::thread::sleep(span);
    let after = sim.requests_by_path();
    let elapsed = started.elapsed();
    drop(service);
    runtime.block_on(sim.stop());
    eprintln!("{queues} queues: measured {:.1} s", elapsed.as_secs_f64());
    after
        .into_iter()
        .filter_map(|(path, n)| {
            let n = n - before.get(&path).copied().unwrap_or(0);
            // Listings carry their page in the query; the path alone names the endpoint.
            (n > 0).then(|| (path.split('?').next().unwrap_or(&path).to_owned(), n))
        })
        .fold(BTreeMap::new(), |mut counts, (path, n)| {
            *counts.entry(path).or_default() += n;
            counts
        })
}

/// The status of `GET path`, over a connection of its own.
fn get_status(addr: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("sla-http accepts");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
