//! `GET` and `POST /api/v1/report`: the body `sla report` prints, the CLI's defaults, 400s naming the bad value, the details source and the bounds.

use super::*;

/// A visit source giving, once, a voice visit to Support answered after each wait in `waits`,
/// all entering on 14 May at 09:00.
fn answered_visits(waits: &'static [u64]) -> MockVisitSource {
    let mut visits = MockVisitSource::new();
    visits
        .expect_visits()
        .times(1)
        .returning(move |query, sink| {
            assert_eq!(query.queues, [QueueId::new(SUPPORT)]);
            for (i, &wait_ms) in waits.iter().enumerate() {
                let entered: Timestamp = "2024-05-14T09:00:00Z".parse().unwrap();
                sink.visit(Visit {
                    conversation_id: format!("c{i}"),
                    queue: QueueId::new(SUPPORT),
                    media: MediaType::Voice,
                    entered,
                    offered_at: Some(entered),
                    outcome: Some(VisitOutcome {
                        kind: OutcomeKind::Answered,
                        wait_ms,
                        at: entered + jiff::SignedDuration::from_millis(wait_ms.cast_signed()),
                    }),
                });
            }
            Ok(())
        });
    visits
}

/// A harness over `tallies` whose requests are bounded by `limits`.
fn limited(tallies: MockTallySource, limits: Limits) -> Harness {
    Built {
        tallies: Arc::new(tallies),
        settings: Settings {
            limits,
            ..Settings::default()
        },
        ..Built::default()
    }
    .build()
}

#[tokio::test]
async fn report_answers_the_sla_report_json() {
    let h = harness();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(reply.json()["schema"], "sla-report/v1");
    insta::assert_snapshot!("report_by_day", reply.body);
}

/// The API and `sla report` build the same `QueryInput` and render through the same sla-core
/// code, so the bodies are byte for byte what the CLI prints.
#[tokio::test]
async fn report_is_what_sla_core_renders_for_the_same_query_input() {
    let h = harness();
    let cases = [
        (
            DAYS_QUERY,
            QueryInput {
                queues: vec!["Support".into(), "sales".into()],
                from: Some(p("2024-05-13")),
                to: Some(p("2024-05-14")),
                tz: Some(p("UTC")),
                granularity: p("day"),
                thresholds: ps(&["20s", "configured"]),
                ..QueryInput::default()
            },
        ),
        (
            "/api/v1/report?queue_name=S*&period=yesterday&tz=Europe/London&by_media=true\
             &abandons=against&short_abandon=5s&flowouts=against&granularity=30m&media=voice,chat",
            QueryInput {
                queue_names: vec!["S*".into()],
                period: Some(p("yesterday")),
                tz: Some(p("Europe/London")),
                by_media: true,
                abandons: p("against"),
                short_abandon: Some(p("5s")),
                flowouts: p("against"),
                granularity: p("30m"),
                media: media(&["voice,chat"]),
                ..QueryInput::default()
            },
        ),
        (
            &format!(
                "/api/v1/report?queue={SALES}&from=2024-05-01T08:00:00Z&to=2024-05-01T12:00:00Z&granularity=hour&threshold=1m30s"
            ),
            QueryInput {
                queues: vec![SALES.into()],
                from: Some(p("2024-05-01T08:00:00Z")),
                to: Some(p("2024-05-01T12:00:00Z")),
                granularity: p("hour"),
                thresholds: ps(&["1m30s"]),
                ..QueryInput::default()
            },
        ),
    ];
    for (uri, input) in cases {
        let reply = get(&h.app, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        let request = input
            .parse(&sla_core::QueryContext {
                now: now(),
                zone: Zone::utc(),
                limits: Limits::SERVICE,
                all_queues_by_default: false,
            })
            .unwrap();
        let (directory, tallies) = (directory(), tallies_mock());
        let sources = Sources {
            directory: &directory,
            tallies: &tallies,
            visits: None,
        };
        let report = fetch_report(&request, sources).await.unwrap();
        assert_eq!(reply.body, render(&report, Format::Json), "{uri}");
    }
}

#[tokio::test]
async fn report_defaults_follow_the_cli() {
    // Without a queue the demo org reports every queue, as `sla report --demo` does; the
    // default window is the last 7 days and the default objective 20s.
    let demo = Built {
        settings: Settings {
            demo: true,
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let reply = get(&demo.app, "/api/v1/report").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["queues"].as_array().unwrap().len(), 3);
    assert_eq!(report["window"]["start"], "2024-05-08T00:00:00Z");
    assert_eq!(report["window"]["end"], "2024-05-15T00:00:00Z");
    assert_eq!(report["total"]["service_levels"][0]["objective"], "20s");

    // Elsewhere a query must name its queues.
    let reply = get(&harness().app, "/api/v1/report").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "no_queues");
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_value() {
    let h = harness();
    let many_thresholds: Vec<String> = (1..=21).map(|s| format!("threshold={s}s")).collect();
    let many_queues: Vec<String> = (1..=201).map(|i| format!("queue=Q{i}")).collect();
    let cases: Vec<(&str, String)> = vec![
        ("invalid_threshold", "queue=Support&threshold=soon".into()),
        ("invalid_duration", "queue=Support&short_abandon=5".into()),
        ("invalid_time", "queue=Support&from=yesterday-ish".into()),
        ("invalid_period", "queue=Support&period=fortnight".into()),
        (
            "conflicting_window",
            "queue=Support&period=today&from=2024-05-01".into(),
        ),
        ("conflicting_window", "queue=Support&to=2024-05-01".into()),
        (
            "conflicting_window",
            "queue=Support&from=2024-05-10&to=2024-05-09".into(),
        ),
        (
            "window_too_long",
            "queue=Support&from=2023-01-01&to=2024-05-01".into(),
        ),
        (
            "unknown_time_zone",
            "queue=Support&tz=Mars/Olympus_Mons".into(),
        ),
        (
            "invalid_granularity",
            "queue=Support&granularity=minute".into(),
        ),
        (
            "invalid_abandons",
            "queue=Support&abandons=sometimes".into(),
        ),
        ("invalid_flowouts", "queue=Support&flowouts=maybe".into()),
        ("invalid_media_type", "queue=Support&media=voice,fax".into()),
        ("invalid_source", "queue=Support&source=magic".into()),
        ("unsupported_source", "queue=Support&source=details".into()),
        (
            "duplicate_objective",
            "queue=Support&threshold=20s&threshold=20s".into(),
        ),
        (
            "too_many",
            format!("queue=Support&{}", many_thresholds.join("&")),
        ),
        ("too_many", many_queues.join("&")),
        (
            "report_too_large",
            format!(
                "queue=Support&from=2023-05-01&to=2024-05-01&granularity=30m&{}",
                many_thresholds[..20].join("&")
            ),
        ),
        ("unknown_queue", "queue=Nobody".into()),
        (
            "unknown_queue",
            "queue=00000000-0000-4000-8000-00000000dead".into(),
        ),
        ("no_matching_queue", "queue_name=Zz*".into()),
        ("unknown_parameter", "queue=Support&queues=Sales".into()),
        (
            "duplicate_parameter",
            "queue=Support&tz=UTC&tz=Europe/Paris".into(),
        ),
        ("invalid_parameter", "all_queues=yes".into()),
        ("no_queues", "period=today".into()),
    ];
    let mut bodies = Vec::new();
    for (code, query) in &cases {
        let reply = get(&h.app, &format!("/api/v1/report?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        let body = reply.json();
        assert_eq!(body["error"]["code"], *code, "{query}");
        let shown = if query.len() > 80 {
            format!("{}...", &query[..80])
        } else {
            query.clone()
        };
        bodies.push(json!({ "query": shown, "body": body }));
    }
    insta::assert_json_snapshot!("bad_parameters", bodies);
}

/// `source=details` counts visits streamed from the details port instead of asking for tallies,
/// as `sla report --source details` does.
#[tokio::test]
async fn the_details_source_counts_streamed_visits() {
    let h = Built {
        tallies: Arc::new(never_tallies()),
        visits: Some(Arc::new(answered_visits(&[
            5_000, 19_999, 20_000, 20_001, 45_000,
        ]))),
        ..Built::default()
    }
    .build();
    let reply = get(
        &h.app,
        "/api/v1/report?queue=Support&period=yesterday&source=details",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["source"], "details");
    assert_eq!(report["total"]["counts"]["answered"], 5);
    // Met means a wait of at most 20 s, inclusive.
    assert_eq!(report["total"]["service_levels"][0]["answered_within"], 3);
}

#[tokio::test]
async fn a_selection_resolving_to_too_many_queues_is_refused_before_counting() {
    let h = limited(
        never_tallies(),
        Limits {
            max_queues: 2,
            ..Limits::SERVICE
        },
    );
    let reply = get(&h.app, "/api/v1/report?all_queues=true").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["error"]["message"],
        "too many queues: 3, at most 2 are allowed"
    );
}

// ---------------------------------------------------------------------------------------------
// Bounds on memory and on upstream work.

#[tokio::test]
async fn by_media_rows_count_toward_the_cell_bound() {
    // Two queues × two days × two objectives: eight cells, or eight per media type by media.
    let h = limited(
        tallies_mock(),
        Limits {
            max_cells: 10,
            ..Limits::SERVICE
        },
    );
    let cases = [
        ("", StatusCode::OK),
        ("&by_media=true&media=voice", StatusCode::OK),
        ("&by_media=true&media=voice,chat", StatusCode::BAD_REQUEST),
        // Without a filter every analytics media type may have a row.
        ("&by_media=true", StatusCode::BAD_REQUEST),
        ("&by_media=false", StatusCode::OK),
    ];
    for (extra, status) in cases {
        let reply = get(&h.app, &format!("{DAYS_QUERY}{extra}")).await;
        assert_eq!(reply.status, status, "{extra}: {}", reply.body);
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(reply.json()["error"]["code"], "report_too_large", "{extra}");
        }
    }
    let reply = get(&h.app, &format!("{DAYS_QUERY}&by_media=true")).await;
    assert_eq!(
        reply.json()["error"]["message"],
        "report too large: 88 cells (rows × intervals × objectives), at most 10: choose a coarser granularity, a shorter window, fewer queues or objectives"
    );
}

#[tokio::test]
async fn long_values_are_cut_short_in_400_messages() {
    let h = harness();
    let long = "x".repeat(5_000);
    for query in [
        format!("queue=Support&from={long}"),
        format!("queue=Support&{long}=1"),
        format!("queue=Support&all_queues={long}"),
    ] {
        let reply = get(&h.app, &format!("/api/v1/report?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(&format!("'{}…'", "x".repeat(200))),
            "{message}"
        );
        assert!(message.len() < 600, "{message}");
    }
    for parameter in ["queue", "queue_name"] {
        let reply = get(&h.app, &format!("/api/v1/report?{parameter}={long}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{parameter}");
        let body = reply.json();
        assert_eq!(body["error"]["code"], "queue_name_too_long", "{body}");
        assert!(body.to_string().len() < 600, "{body}");
    }
}

/// `source=store` reads the history store `--store` names: the queues, the visits and how far
/// it is complete all come from it, and Genesys is asked nothing.
#[tokio::test]
async fn the_store_source_reads_the_store_and_asks_genesys_nothing() {
    // The Genesys side: any call fails the test.
    let mut genesys_visits = MockVisitSource::new();
    genesys_visits.expect_visits().never();
    let mut genesys_directory = MockQueueDirectory::new();
    genesys_directory.expect_queues().never();
    // The store: Support answered twice on 14 May, synced up to noon that day.
    let visits = answered_visits(&[5_000, 45_000]);
    let mut store = sla_core::ports::MockVisitStore::new();
    store.expect_coverage().times(1).returning(|queues| {
        let mut coverage = sla_core::ports::Coverage::new();
        let span = sla_core::TimeWindow::new(
            "2024-05-01T00:00:00Z".parse().unwrap(),
            "2024-05-14T12:00:00Z".parse().unwrap(),
        )
        .unwrap();
        for queue in queues {
            coverage.add(queue, span);
        }
        Ok(coverage)
    });
    let h = Built {
        directory: Arc::new(genesys_directory),
        tallies: Arc::new(never_tallies()),
        visits: Some(Arc::new(genesys_visits)),
        ..Built::default()
    }
    .build();
    let app = app(h.state.with_store(crate::state::StorePorts {
        directory: Arc::new(directory()),
        visits: Arc::new(visits),
        store: Arc::new(store),
    }));
    let reply = get(
        &app,
        "/api/v1/report?queue=Support&period=yesterday&tz=UTC&source=store",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["source"], "store");
    assert_eq!(
        report["store"],
        json!({"complete_until": "2024-05-14T12:00:00Z"})
    );
    assert_eq!(report["total"]["counts"]["answered"], 2);
    assert_eq!(report["total"]["service_levels"][0]["answered_within"], 1);
}

#[tokio::test]
async fn the_store_source_without_a_store_is_a_400() {
    let h = with_tallies(never_tallies());
    let reply = get(&h.app, "/api/v1/report?queue=Support&source=store").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        reply.json()["error"],
        json!({
            "code": "unsupported_source",
            "message": "source 'store' needs a history store, and this service has none: start it with --store URL",
        })
    );
}
