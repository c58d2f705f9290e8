//! Fault-free counts: the client's tallies equal the core's own tally of the simulated org, for
//! every granularity, across DST, with off-grid windows and more than ten views.

use jiff::ToSpan;
use sla_core::ports::TallySource;
use sla_core::{BucketPlan, Granularity, MediaType, Threshold};

use crate::support::{
    aggregate_requests, checked_client, core_tally, london_days, london_midnight, query,
    sim_config, start, ts,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_granularity_matches_the_core_tally_across_dst() {
    let sim = start(sim_config()).await;
    let (client, http) = checked_client(&sim, |_| {});
    let (from, to) = (london_midnight(2026, 3, 23), london_midnight(2026, 4, 6));
    let mut expected_requests = 0;
    for (granularity, requests) in [
        (Granularity::Total, 2),
        (Granularity::Day, 2),
        (Granularity::Hour, 2),
        (Granularity::HalfHour, 2),
    ] {
        let q = query(&sim, "Europe/London", from, to, granularity);
        let got = client.tallies(&q).await.unwrap();
        assert!(!got.is_empty());
        assert_eq!(got, core_tally(sim.org(), &q), "{granularity}");
        expected_requests += requests;
        assert_eq!(
            aggregate_requests(&sim),
            expected_requests,
            "two weekly chunks"
        );
    }
    // The spring-forward day alone: 23 hourly buckets, each tally keyed by one of them.
    let q = london_days(&sim, (2026, 3, 29), (2026, 3, 30), Granularity::Hour);
    let plan = BucketPlan::new(&q.window, q.granularity, &q.zone);
    assert_eq!(plan.len(), 23);
    let got = client.tallies(&q).await.unwrap();
    assert!(got.iter().all(|(k, _)| plan.starts().contains(&k.bucket)));
    assert_eq!(got, core_tally(sim.org(), &q));
    assert_eq!(*http.checked.lock().unwrap(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_grid_windows_and_media_filters_match_the_core_tally() {
    let sim = start(sim_config()).await;
    let (client, http) = checked_client(&sim, |c| c.chunk_days = 3);
    let from = ts("2026-03-24T10:15:00Z");
    let to = ts("2026-03-31T16:40:00Z");
    for granularity in [Granularity::HalfHour, Granularity::Hour, Granularity::Day] {
        let mut q = query(&sim, "America/New_York", from, to, granularity);
        q.media = vec![MediaType::Voice, MediaType::Chat];
        let got = client.tallies(&q).await.unwrap();
        assert!(!got.is_empty());
        assert!(
            got.iter()
                .all(|(k, _)| matches!(k.media, MediaType::Voice | MediaType::Chat))
        );
        assert_eq!(got, core_tally(sim.org(), &q), "{granularity}");
    }
    assert!(*http.checked.lock().unwrap() >= 3 * 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_ten_views_and_queue_batches_merge_correctly() {
    let sim = start(sim_config()).await;
    let (client, http) = checked_client(&sim, |c| c.queues_per_request = 2);
    let from = ts("2026-03-28T00:00:00Z");
    let mut q = query(&sim, "UTC", from, from + 72.hours(), Granularity::Hour);
    // Seven thresholds and a short abandon: fifteen views, two queries per queue batch.
    q.thresholds = [5_000, 10_000, 19_999, 20_000, 20_001, 30_000, 60_000]
        .map(Threshold::from_millis)
        .to_vec();
    let got = client.tallies(&q).await.unwrap();
    assert_eq!(got, core_tally(sim.org(), &q));
    // Five queues in batches of two, two view parts each, one chunk.
    assert_eq!(aggregate_requests(&sim), 3 * 2);
    assert_eq!(*http.checked.lock().unwrap(), 3 * 2);
}
