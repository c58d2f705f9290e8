//! `GET /api/v1/live`: the watched queues' last document, or with parameters a document of its
//! own, as `sla now --format json` prints it, cached for a live interval, with 400s for bad
//! parameters.

use super::*;

#[tokio::test(start_paused = true)]
async fn the_watched_document_is_the_last_one_published() {
    let live = Arc::new(FixtureLive::default());
    let h = with_live(&live, watching());
    // Nothing yet: after waiting a little for the first refresh, 503 with a hint to retry.
    let before = get(&h.app, "/api/v1/live").await;
    before.assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    assert_eq!(before.header(header::RETRY_AFTER), "2");

    refresh_all(&h.state).await;
    let reply = get(&h.app, "/api/v1/live").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(reply.header(header::CACHE_CONTROL), "no-store");
    let published = h.state.live.status().last.unwrap();
    assert_eq!(reply.body.as_bytes(), published.pretty.as_ref());
    let doc = reply.json();
    assert_eq!(doc["schema"], "sla-live/v1");
    assert_eq!(doc["as_of"], NOW);
    assert_eq!(doc["window"]["start"], "2024-05-15T10:00:00Z");
    assert_eq!(doc["window"]["end"], NOW);
    // Reading it costs nothing upstream.
    let calls = live.calls();
    for _ in 0..5 {
        assert_eq!(get(&h.app, "/api/v1/live").await.status, StatusCode::OK);
    }
    assert_eq!(live.calls(), calls);
}

#[tokio::test]
async fn the_watched_document_of_a_service_watching_nothing_is_refused() {
    let h = idle();
    let reply = get(&h.app, "/api/v1/live").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "no_queues");
}

#[tokio::test(start_paused = true)]
async fn parameters_ask_for_a_document_of_their_own_as_sla_now_prints_it() {
    let live = Arc::new(FixtureLive::default());
    let h = with_live(&live, Settings::default());
    let path = "/api/v1/live?queue=Support&queue=Sales&window=15m&threshold=20s&threshold=configured&tz=UTC";
    let reply = get(&h.app, path).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header(header::CACHE_CONTROL), "no-store");

    // The same document the CLI's orchestration gives for the same query.
    let input = QueryInput {
        queues: vec!["Support".into(), "Sales".into()],
        period: Some(p("last-15m")),
        granularity: p("total"),
        thresholds: ps(&["20s", "configured"]),
        tz: Some(p("UTC")),
        ..QueryInput::default()
    };
    let request = h.state.request(&input, now(), Limits::SERVICE).unwrap();
    let expect = sla_core::fetch_live(&request, h.state.sources(), live.as_ref(), now())
        .await
        .unwrap();
    assert_eq!(reply.body, sla_core::render_live(&expect, Format::Json));
    let doc = reply.json();
    assert_eq!(doc["window"]["start"], "2024-05-15T10:15:00Z");
    let names = texts(&doc["queues"], "queue_name");
    assert_eq!(names, ["Sales", "Support"], "as asked, not split");
    let support = &doc["queues"][1];
    assert_eq!(support["live"]["waiting"], 2);
    assert_eq!(support["live"]["longest_waiting_ms"], 45_000);
    assert_eq!(support["service_levels"][0]["waiting_over_threshold"], 1);

    // Asked again within a live interval: from the cache.
    let calls = live.calls();
    assert_eq!(get(&h.app, path).await.body, reply.body);
    assert_eq!(live.calls(), calls);
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(get(&h.app, path).await.status, StatusCode::OK);
    assert_eq!(
        live.calls(),
        calls + 1,
        "fetched again after a live interval"
    );

    // by_media splits every queue, as `sla now --by-media` does.
    let split = get(&h.app, "/api/v1/live?queue=Sales&by_media=true")
        .await
        .json();
    let media = texts(&split["queues"], "media_type");
    assert_eq!(media, ["voice", "chat"]);
}

#[tokio::test]
async fn bad_live_parameters_are_refused_by_name() {
    let h = harness();
    let mut errors = serde_json::Map::new();
    for query in [
        "window=2m", "window=25h", "window=15m&window=20m", "period=today", "granularity=hour",
        "source=details", "threshold=soon", "queue=Nope", "queue_name=Nope*", "tz=Mars/Olympus",
        "media=fax",
    ] {
        let reply = get(&h.app, &format!("/api/v1/live?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        errors.insert(query.to_owned(), reply.json()["error"].clone());
    }
    insta::assert_json_snapshot!("bad_live_parameters", errors);
}
