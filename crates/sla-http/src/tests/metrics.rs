//! `GET /metrics`: the watched queues from the last background refresh, never a fetch per scrape.

use super::*;

// ---------------------------------------------------------------------------------------------
// /metrics

#[tokio::test]
async fn metrics_expose_the_watched_queues_from_the_last_refresh() {
    let h = harness();
    let before = get(&h.app, "/metrics").await;
    assert_eq!(before.status, StatusCode::OK);
    let samples = parse_exposition(&before.body);
    assert!(
        samples
            .iter()
            .all(|s| !s.name.starts_with("sla_service_level"))
    );
    assert_eq!(
        value(
            &samples,
            "sla_upstream_requests_total",
            &[("status", "429")]
        ),
        Some("2")
    );

    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/metrics").await;
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let samples = parse_exposition(&reply.body);
    let support = [
        ("queue_id", SUPPORT),
        ("queue", "Support"),
        ("objective", "configured"),
    ];
    assert!(value(&samples, "sla_service_level_percent", &support).is_some());
    assert_eq!(value(&samples, "sla_target_percent", &support), Some("80"));
    assert_eq!(
        value(&samples, "sla_threshold_seconds", &support),
        Some("20")
    );
    // The queue without a configured target has no percent for `configured`: no sample.
    let lab = [
        ("queue_id", LAB),
        ("queue", "R&D <\"Lab\">"),
        ("objective", "configured"),
    ];
    assert_eq!(value(&samples, "sla_service_level_percent", &lab), None);
    assert_eq!(value(&samples, "sla_denominator", &lab), Some("0"));
    assert!(
        reply.body.contains(r#"queue="R&D <\"Lab\">""#),
        "escaped label"
    );
    assert_eq!(
        value(&samples, "sla_last_refresh_timestamp_seconds", &[]),
        Some("1715769000.000")
    );
    assert_eq!(value(&samples, "sla_last_refresh_success", &[]), Some("1"));
    assert_eq!(
        value(&samples, "sla_upstream_retries_total", &[]),
        Some("2")
    );
    insta::assert_snapshot!("metrics", reply.body);
}

#[tokio::test]
async fn metrics_are_not_fetched_per_scrape() {
    let (tallies, h) = counting(Duration::ZERO);
    refresh_all(&h.state).await;
    // Today's counts and the rolling window's.
    assert_eq!(tallies.calls(), 2);
    for _ in 0..5 {
        assert_eq!(get(&h.app, "/metrics").await.status, StatusCode::OK);
        assert_eq!(get(&h.app, "/").await.status, StatusCode::OK);
        assert_eq!(get(&h.app, "/dashboard.json").await.status, StatusCode::OK);
        assert_eq!(get(&h.app, "/api/v1/live").await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_background_refresh_runs_on_the_interval() {
    let (tallies, h) = counting(Duration::ZERO);
    let task = watch::spawn(h.state.clone());
    h.state.wait_for_first_refresh(Duration::from_secs(1)).await;
    assert_eq!(tallies.calls(), 1, "at start");
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert_eq!(tallies.calls(), 2, "a minute later");
    tokio::time::sleep(Duration::from_mins(1)).await;
    assert_eq!(tallies.calls(), 3);
    task.abort();
}
