//! The report cache: one upstream fetch for identical concurrent requests, lifetimes by window, bounded fetches, and the request timeout.

use super::*;

// ---------------------------------------------------------------------------------------------
// Single flight and caching.

/// Paused time advances only once every task waits, so by the time the slow source answers,
/// all hundred requests have arrived and found its fetch in flight.
#[tokio::test(start_paused = true)]
async fn a_hundred_identical_cold_requests_share_one_upstream_fetch() {
    let (tallies, h) = counting(Duration::from_secs(2));
    let requests: Vec<_> = (0..100)
        .map(|_| {
            let app = h.app.clone();
            tokio::spawn(async move { get(&app, DAYS_QUERY).await })
        })
        .collect();
    let mut bodies = BTreeSet::new();
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        bodies.insert(reply.body);
    }
    assert_eq!(tallies.calls(), 1, "one upstream fetch");
    assert_eq!(bodies.len(), 1, "one answer");
    assert_eq!((h.state.cache.hits(), h.state.cache.misses()), (99, 1));

    // Then the result is served from the cache.
    assert_eq!(get(&h.app, DAYS_QUERY).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 1);

    let metrics = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert_eq!(value(&metrics, "sla_cache_hits_total", &[]), Some("100"));
    assert_eq!(value(&metrics, "sla_cache_misses_total", &[]), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn open_windows_are_cached_briefly_and_closed_ones_for_an_hour() {
    let (tallies, h) = counting(Duration::ZERO);
    let open = "/api/v1/report?queue=Support&period=today";
    let closed = "/api/v1/report?queue=Support&period=yesterday";
    for uri in [open, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 2);

    tokio::time::advance(Duration::from_secs(31)).await;
    for uri in [open, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK);
    }
    assert_eq!(tallies.calls(), 3, "only today's window was fetched again");

    tokio::time::advance(Duration::from_hours(1)).await;
    assert_eq!(get(&h.app, closed).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 4, "yesterday's expired after an hour");

    // Spelling one window two ways is one entry: yesterday is 2024-05-14.
    let same = "/api/v1/report?period=yesterday&queue=Support";
    assert_eq!(get(&h.app, same).await.status, StatusCode::OK);
    let dated = "/api/v1/report?queue=Support&from=2024-05-14&to=2024-05-14";
    assert_eq!(get(&h.app, dated).await.status, StatusCode::OK);
    assert_eq!(tallies.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_slow_upstream_is_cut_off_with_a_504() {
    let (_, h) = counting(Duration::from_mins(10));
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    insta::assert_json_snapshot!("timeout", reply.json());
}

/// The real client against the in-process simulator: a hundred concurrent identical cold
/// requests send upstream exactly what one request sends, as the adapter's counters show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_real_client_concurrent_requests_cost_what_one_costs() {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let from = today.checked_sub(jiff::Span::new().days(20)).unwrap();
    let to = today.checked_sub(jiff::Span::new().days(2)).unwrap();
    let uri = format!(
        "/api/v1/report?all_queues=true&from={from}&to={to}&tz=UTC&granularity=day&threshold=20s&threshold=configured"
    );
    let mut counts = Vec::new();
    for concurrent in [1, 100] {
        let connection = sla_connect::connect(&sla_connect::ConnectionArgs {
            demo: true,
            max_requests_per_minute: Some(10_000),
            concurrency: 4,
            ..sla_connect::ConnectionArgs::default()
        })
        .await
        .unwrap();
        let client = Arc::clone(connection.client());
        let ports = Ports {
            directory: connection.directory(),
            tallies: connection.tallies(),
            visits: None,
            live: connection.live(),
            upstream: Arc::new(crate::genesys::ClientUpstream(Arc::clone(&client))),
        };
        let state = AppState::new(
            ports,
            Arc::new(crate::state::SystemClock),
            Settings::default(),
        );
        let router = app(state);
        let requests: Vec<_> = (0..concurrent)
            .map(|_| {
                let router = router.clone();
                let uri = uri.clone();
                tokio::spawn(async move { get(&router, &uri).await })
            })
            .collect();
        for request in requests {
            let reply = request.await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        let metrics = parse_exposition(&get(&router, "/metrics").await.body);
        // What /metrics shows is what the adapter counted.
        let exposed: u64 = metrics
            .iter()
            .filter(|s| s.name == "sla_upstream_requests_total")
            .map(|s| s.value.parse::<u64>().unwrap())
            .sum();
        let sent: u64 = client.upstream_stats().requests_by_status.values().sum();
        assert_eq!(exposed, sent);
        counts.push(sent);
        connection.close().await;
    }
    assert!(counts[0] >= 2, "a token and at least one query: {counts:?}");
    assert_eq!(
        counts[0], counts[1],
        "upstream requests for 1 and for 100 requests"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_that_finds_no_fetch_slot_is_told_busy() {
    let (tallies, h) = counting_in(
        Duration::from_secs(40),
        Built {
            settings: Settings {
                cache: CacheLimits {
                    fetches: 1,
                    ..CacheLimits::default()
                },
                ..Settings::default()
            },
            ..Built::default()
        },
    );
    let app = h.app.clone();
    let first = tokio::spawn(async move { get(&app, DAYS_QUERY).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = tokio::time::Instant::now();
    let reply = get(&h.app, "/api/v1/report?queue=Support&period=yesterday").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(started.elapsed(), Duration::from_secs(10), "the slot wait");
    assert_eq!(reply.header(header::RETRY_AFTER), "2");
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(reply.json()["error"]["code"], "busy");
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert_eq!(tallies.calls(), 1, "the refused request fetched nothing");
    // With the slot free again, the same request goes through.
    let reply = get(&h.app, "/api/v1/report?queue=Support&period=yesterday").await;
    assert_eq!(reply.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Cache lifetimes at the edge of the present.

#[tokio::test(start_paused = true)]
async fn a_window_ending_at_now_is_cached_briefly() {
    // Half a second past the minute: an open window's end may be `now` or `now` rounded down.
    let (tallies, h) = counting_in(
        Duration::ZERO,
        Built {
            now: "2024-05-15T10:30:00.5Z".parse().unwrap(),
            ..Built::default()
        },
    );
    let open = "/api/v1/report?queue=Support&from=2024-05-15T08:00:00Z";
    let to_the_second =
        "/api/v1/report?queue=Support&from=2024-05-15T09:00:00Z&to=2024-05-15T10:30:00Z";
    let closed = "/api/v1/report?queue=Support&from=2024-05-15T08:00:00Z&to=2024-05-15T10:00:00Z";
    for uri in [open, to_the_second, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
    let fetched = tallies.calls();
    assert_eq!(fetched, 3);
    tokio::time::advance(Duration::from_secs(31)).await;
    for uri in [open, to_the_second, closed] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(
        tallies.calls(),
        fetched + 2,
        "the two windows reaching the present were fetched again, the closed one was not"
    );
}
