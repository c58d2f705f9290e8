//! Benchmark, run by hand: a year of a 50-queue simulated centre synced into SQLite and
//! PostgreSQL through the real client, then a year report tallied from each store and from
//! conversation details in the same run.
//!
//! ```text
//! cargo run --release -p sla-store --example year [-- QUEUES DAYS VISITS_PER_QUEUE_PER_DAY]
//! ```
//!
//! Defaults: 50 queues, 365 days, 110 visits per queue per day (about 2 million visits).
//! `SLA_BENCH_STORES=sqlite` (or `postgres`) measures one store only, and `SLA_BENCH_DETAILS=0`
//! skips the report from conversation details (and the check that the stores agree with it);
//! `SLA_BENCH_PIECE_DAYS` sets the length of a sync's pieces (8 days by default).
//! PostgreSQL is a cluster of the run's own, started as the tests start theirs (Debian's
//! `postgresql` package), unless `SLA_BENCH_POSTGRES` names a database URL to use instead.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use genesys_adapter::{GenesysClient, GenesysConfig, Region};
use genesys_sim::{SimConfig, SimServer};
use secrecy::SecretString;
use sla_core::ports::{
    Coverage, QueueDirectory, QueueSelector, SourceError, SyncPiece, SyncRecord, TallyQuery, Visit,
    VisitSource, VisitStore, WriteCounts,
};
use sla_core::{
    Granularity, QueueId, QueueInfo, SyncProgress, SyncRequest, TallySet, Threshold, TimeWindow,
    Zone, sync_visits, tally_visits,
};
use sla_store::Store;

/// Forwards to a store, timing its writes.
struct Timed {
    store: Arc<Store>,
    writing_ns: AtomicU64,
}

#[async_trait]
impl VisitStore for Timed {
    async fn write_piece(
        &self,
        piece: &SyncPiece,
        visits: Vec<Visit>,
    ) -> Result<WriteCounts, SourceError> {
        let started = Instant::now();
        let written = self.store.write_piece(piece, visits).await;
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.writing_ns.fetch_add(ns, Ordering::Relaxed);
        written
    }

    async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), SourceError> {
        self.store.save_queues(queues).await
    }

    async fn coverage(&self, queues: &[QueueId]) -> Result<Coverage, SourceError> {
        self.store.coverage(queues).await
    }

    async fn record_sync(&self, record: &SyncRecord) -> Result<(), SourceError> {
        self.store.record_sync(record).await
    }
}

fn arg(n: usize, default: u32) -> u32 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn rate(count: u64, took: Duration) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let per_second = count as f64 / took.as_secs_f64();
    format!("{per_second:.0}/s")
}

async fn tally(
    query: &TallyQuery,
    source: &dyn VisitSource,
) -> Result<(TallySet, Duration), SourceError> {
    let started = Instant::now();
    let tallies = tally_visits(query, source).await?;
    Ok((tallies, started.elapsed()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (queues, days, per_day) = (arg(1, 50), arg(2, 365), arg(3, 110));
    let started = Instant::now();
    let sim = SimServer::start(SimConfig {
        seed: 2026,
        queues: usize::try_from(queues)?,
        days,
        visits_per_day: per_day,
        end_date: Some(jiff::civil::date(2026, 6, 30)),
        ..SimConfig::default()
    })
    .await?;
    let visits = sim.org().visits.len();
    eprintln!(
        "simulated {queues} queues × {days} days: {visits} visits in {:.1?}",
        started.elapsed()
    );
    let mut config = GenesysConfig::new(
        Region::default(),
        sim.config().client_id.clone(),
        SecretString::from(sim.config().client_secret.clone()),
    );
    config.api_base = sim.base_url();
    // The simulator is local: no request budget to respect.
    config.max_requests_per_minute = 1_000_000;
    config.concurrency = 8;
    let client = GenesysClient::new(config)?;
    let infos = client.queues(&QueueSelector::All).await?;
    let ids: Vec<QueueId> = infos.iter().map(|q| q.queue.id.clone()).collect();
    let window = TimeWindow::new(sim.org().start, sim.org().end)?;
    let now = sim.org().end + jiff::SignedDuration::from_hours(24);

    let year = |granularity| TallyQuery {
        queues: ids.clone(),
        media: Vec::new(),
        window,
        zone: Zone::get("Europe/London").expect("a known zone"),
        granularity,
        thresholds: vec![
            Threshold::from_millis(20_000),
            Threshold::from_millis(60_000),
        ],
        short_abandon: Some(Threshold::from_millis(10_000)),
    };

    println!("| what | time | rate |");
    println!("| --- | --- | --- |");
    let details = if std::env::var("SLA_BENCH_DETAILS").as_deref() == Ok("0") {
        None
    } else {
        let (details, took) = tally(&year(Granularity::Day), &client).await?;
        println!(
            "| year report (day) from conversation details, {visits} visits | {took:.1?} | {} |",
            rate(visits as u64, took)
        );
        Some(details)
    };
    let stores = std::env::var("SLA_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());

    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("year.db").display());
    for (key, name) in [("sqlite", "SQLite"), ("postgres", "PostgreSQL")] {
        if !stores.split(',').any(|s| s.trim() == key) {
            continue;
        }
        let url = match name {
            "SQLite" => sqlite.clone(),
            _ => match std::env::var("SLA_BENCH_POSTGRES") {
                Ok(url) => url,
                Err(_) => sla_store::test_support::database().await,
            },
        };
        let run = Run {
            client: &client,
            infos: &infos,
            window,
            now,
            visits: visits as u64,
            details: details.as_ref(),
        };
        bench_store(&run, name, &url, &year).await?;
        if name == "SQLite" {
            let bytes: u64 = std::fs::read_dir(dir.path())?
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum();
            println!(
                "| SQLite file size | {} MB | {} bytes per visit |",
                bytes / 1_000_000,
                bytes / visits as u64
            );
        }
    }
    Ok(())
}

/// What every store is measured against.
struct Run<'a> {
    client: &'a GenesysClient,
    infos: &'a [QueueInfo],
    window: TimeWindow,
    now: jiff::Timestamp,
    visits: u64,
    /// The year report from conversation details, when it was read.
    details: Option<&'a TallySet>,
}

/// Syncs the year into the store at `url`, then tallies a year report from it.
async fn bench_store(
    run: &Run<'_>,
    name: &str,
    url: &str,
    year: &dyn Fn(Granularity) -> TallyQuery,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = sla_store::open(url).await?;
    let timed = Timed {
        store: Arc::clone(&store),
        writing_ns: AtomicU64::new(0),
    };
    let mut request = SyncRequest::new(run.infos.to_vec(), run.window, run.now);
    if let Some(days) = std::env::var("SLA_BENCH_PIECE_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
    {
        request.piece_days = days;
    }
    let started = Instant::now();
    let progress = |p: &SyncProgress| {
        if p.current.is_none() && p.pieces_done.is_multiple_of(30) {
            eprintln!(
                "{name}: {}/{} pieces, {} visits",
                p.pieces_done, p.pieces_total, p.visits_read
            );
        }
    };
    let summary = sync_visits(&request, run.client, &timed, &progress).await?;
    let took = started.elapsed();
    let writing = Duration::from_nanos(timed.writing_ns.load(Ordering::Relaxed));
    println!(
        "| sync into {name}: {} visits in {} pieces, end to end | {took:.1?} | {} |",
        summary.visits_read,
        summary.pieces_done,
        rate(summary.visits_read, took)
    );
    println!(
        "| of which writing to {name} | {writing:.1?} | {} |",
        rate(summary.visits_read, writing)
    );
    for granularity in [Granularity::Total, Granularity::Day] {
        let (stored, took) = tally(&year(granularity), store.as_ref()).await?;
        if granularity == Granularity::Day
            && let Some(details) = run.details
        {
            assert_eq!(&stored, details, "{name} and details disagree");
        }
        println!(
            "| year report ({granularity}) from {name} | {took:.1?} | {} |",
            rate(run.visits, took)
        );
    }
    Ok(())
}
