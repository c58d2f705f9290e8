//! The per-visit path against genesys-sim: visits from conversation details, tallied by the
//! core, equal the aggregates path's counts for the same queries, through the details query and
//! through details jobs; jobs that end without results are clear errors; job results are read
//! to their last cursor.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use genesys_adapter::{DetailsMode, DetailsProgress, GenesysClient, GenesysError};
use genesys_sim::{JobFinalState, SimConfig, SimServer};
use jiff::Timestamp;
use sla_core::ports::{TallyQuery, TallySource, Visit, VisitQuery, VisitSink, VisitSource};
use sla_core::{Granularity, MediaType, Threshold};

use crate::support::{
    checked_instant_client, core_tally, instant_client, london_days, query, sim_config, start, ts,
};

/// The shared small org (5 queues, 14 days to 5 April 2026) at 100 visits per queue and day.
fn small() -> SimConfig {
    SimConfig {
        visits_per_day: 100,
        ..sim_config()
    }
}

/// The queries both paths answer: every granularity the sources produce, Europe/London across
/// the 29 March 2026 change to summer time, an off-grid window, several thresholds, with and
/// without a short-abandon bound and a media filter.
fn queries(sim: &genesys_sim::SimServer) -> Vec<(&'static str, TallyQuery)> {
    let mut out = Vec::new();
    // Two weeks in London, totals: 20 s, 30 s, 60 s, short abandons below 10 s.
    out.push((
        "two weeks, total",
        london_days(sim, (2026, 3, 23), (2026, 4, 6), Granularity::Total),
    ));
    // Days through the change: the 29th has 23 hours.
    out.push((
        "days across DST",
        london_days(sim, (2026, 3, 27), (2026, 4, 1), Granularity::Day),
    ));
    // Half hours of the short day, other thresholds, no short abandons.
    let mut q = london_days(sim, (2026, 3, 29), (2026, 3, 30), Granularity::HalfHour);
    q.thresholds = [5_000, 15_000, 45_000, 120_000]
        .map(Threshold::from_millis)
        .to_vec();
    q.short_abandon = None;
    out.push(("half hours of the DST day", q));
    // An off-grid window in UTC with a media filter and a short-abandon bound of 3 s.
    let mut q = query(
        sim,
        "UTC",
        ts("2026-03-24T10:15:00Z"),
        ts("2026-03-26T16:40:00Z"),
        Granularity::HalfHour,
    );
    q.media = vec![MediaType::Voice, MediaType::Chat];
    q.short_abandon = Some(Threshold::from_millis(3_000));
    out.push(("off-grid half hours, voice and chat", q));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_and_aggregates_agree_through_the_query_and_through_jobs() {
    let sim = start(small()).await;
    for mode in [DetailsMode::Query, DetailsMode::Jobs] {
        let (client, http, _) = checked_instant_client(&sim, |c| c.details_mode = mode);
        for (name, q) in queries(&sim) {
            let from_visits = sla_core::tally_visits(&q, &client).await.unwrap();
            let from_aggregates = client.tallies(&q).await.unwrap();
            assert!(!from_aggregates.is_empty(), "{mode}, {name}");
            assert_eq!(from_visits, from_aggregates, "{mode}, {name}");
            assert_eq!(from_visits, core_tally(sim.org(), &q), "{mode}, {name}");
        }
        assert!(*http.details_checked.lock().unwrap() > 0);
        let by_path = sim.requests_by_path();
        let jobs = by_path
            .get("POST /api/v2/analytics/conversations/details/jobs")
            .copied()
            .unwrap_or(0);
        let queries = by_path
            .get("POST /api/v2/analytics/conversations/details/query")
            .copied()
            .unwrap_or(0);
        match mode {
            DetailsMode::Query => assert_eq!((jobs, queries > 0), (0, true)),
            _ => assert_eq!(jobs, 4, "one job per query"),
        }
    }
}

#[derive(Default)]
struct Collect(Vec<Visit>);

impl VisitSink for Collect {
    fn visit(&mut self, visit: Visit) {
        self.0.push(visit);
    }
}

fn all_queues(sim: &genesys_sim::SimServer, from: Timestamp, to: Timestamp) -> VisitQuery {
    VisitQuery {
        queues: sim
            .org()
            .queues
            .iter()
            .map(|q| sla_core::QueueId::new(q.id.clone()))
            .collect(),
        media: Vec::new(),
        window: sla_core::TimeWindow::new(from, to).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_fail_expire_or_are_cancelled_are_clear_errors() {
    for (state, name, message) in [
        (
            JobFinalState::Failed,
            "FAILED",
            Some("The simulated job failed as configured"),
        ),
        (JobFinalState::Expired, "EXPIRED", None),
        (JobFinalState::Cancelled, "CANCELLED", None),
    ] {
        let sim = start(SimConfig {
            job_final_state: state,
            ..small()
        })
        .await;
        let (client, time) = instant_client(&sim, |c| c.details_mode = DetailsMode::Jobs);
        let query = all_queues(&sim, ts("2026-03-24T00:00:00Z"), ts("2026-03-25T00:00:00Z"));
        let mut sink = Collect::default();
        let err = client.visits(&query, &mut sink).await.unwrap_err();
        assert!(sink.0.is_empty());
        let source = err
            .source()
            .and_then(|e| e.downcast_ref::<GenesysError>())
            .expect("the adapter's error rides along");
        let GenesysError::JobFailed {
            job_id,
            state: got_state,
            message: got_message,
        } = source
        else {
            panic!("{state}: {source:?}");
        };
        assert_eq!(got_state, name);
        assert_eq!(got_message.as_deref(), message);
        let text = format!("{err}: {source}");
        assert!(
            text.starts_with(&format!("source failed: details job {job_id} ended {name}")),
            "{text}"
        );
        // The first status check says QUEUED; one wait later the job has ended.
        assert_eq!(time.waits(), [Duration::from_secs(1)]);
        assert!(
            !sim.requests_by_path()
                .keys()
                .any(|path| path.ends_with("/results"))
        );
    }
}

/// A client in `mode` with instant waits, and every progress report it makes, in order.
fn reporting_client(
    sim: &Arc<SimServer>,
    mode: DetailsMode,
) -> (GenesysClient, Arc<Mutex<Vec<DetailsProgress>>>) {
    let observed = Arc::new(Mutex::new(Vec::<DetailsProgress>::new()));
    let reports = Arc::clone(&observed);
    let (client, _) = instant_client(sim, |c| c.details_mode = mode);
    let client = client.with_progress(move |p| reports.lock().unwrap().push(*p));
    (client, observed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_results_are_read_to_the_last_cursor() {
    let sim = start(small()).await;
    let (client, observed) = reporting_client(&sim, DetailsMode::Auto);
    // Fifteen days reach past a week, and the data lake holds them: Auto picks a job.
    let (from, to) = (ts("2026-03-22T00:00:00Z"), ts("2026-04-06T00:00:00Z"));
    let query = all_queues(&sim, from, to);
    let mut sink = Collect::default();
    client.visits(&query, &mut sink).await.unwrap();
    let active = sim
        .org()
        .conversations
        .iter()
        .filter(|c| c.start < to && c.end >= from)
        .count();
    assert!(active > 2_000, "{active}");
    // The simulator serves 1,000 conversations a page; the last page has no cursor.
    let results: u64 = sim
        .requests_by_path()
        .iter()
        .filter(|(path, _)| path.ends_with("/results"))
        .map(|(_, n)| *n)
        .sum();
    assert_eq!(results, active.div_ceil(1_000) as u64);
    assert_eq!(sink.0.len(), sim.org().visits.len());
    let reports = observed.lock().unwrap();
    let last = reports.last().unwrap();
    assert_eq!(last.mode, DetailsMode::Jobs);
    assert_eq!((last.pieces_done, last.pieces_total), (1, 1));
    assert_eq!(last.pages, results);
    assert_eq!(last.conversations, active as u64);
    assert_eq!(last.visits, sink.0.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_details_query_reports_progress_piece_by_piece() {
    let sim = start(small()).await;
    let (client, observed) = reporting_client(&sim, DetailsMode::Query);
    let query = all_queues(&sim, ts("2026-03-24T00:00:00Z"), ts("2026-04-02T00:00:00Z"));
    let mut sink = Collect::default();
    client.visits(&query, &mut sink).await.unwrap();
    let reports = observed.lock().unwrap();
    // The lookback day, then 24 March to 31 March and 31 March to 2 April.
    assert_eq!(reports[0].pieces_total, 3);
    assert_eq!(reports[0].pages, 0);
    let done: Vec<usize> = reports.iter().map(|p| p.pieces_done).collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]));
    let last = reports.last().unwrap();
    assert_eq!((last.pieces_done, last.pieces_total), (3, 3));
    assert_eq!(last.visits, sink.0.len() as u64);
    assert_eq!(last.mode, DetailsMode::Query);
}
