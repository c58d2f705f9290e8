//! `/metrics`' live gauges: their names, labels and values from the last live document, and the
//! token that may guard `/metrics`.

use super::*;

/// The live gauges other tools (Prometheus rules, the Grafana dashboard) are written against.
const LIVE_GAUGES: &[&str] = &[
    "sla_waiting",
    "sla_longest_waiting_seconds",
    "sla_interacting",
    "sla_on_queue_agents",
    "sla_waiting_over_threshold",
    "sla_rolling_service_level_percent",
    "sla_rolling_projected_percent",
    "sla_rolling_target_percent",
    "sla_rolling_asa_seconds",
    "sla_rolling_abandon_percent",
    "sla_rolling_offered",
    "sla_rolling_window_seconds",
    "sla_live_last_refresh_timestamp_seconds",
    "sla_live_last_refresh_success",
    "sla_live_subscribers",
];

#[tokio::test]
async fn live_gauges_expose_the_last_live_document() {
    let h = harness();
    let before = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert!(before.iter().all(|s| s.name != "sla_waiting"));
    assert_eq!(value(&before, "sla_live_subscribers", &[]), Some("0"));
    assert_eq!(value(&before, "sla_live_last_refresh_success", &[]), None);

    refresh_all(&h.state).await;
    let reply = get(&h.app, "/metrics").await;
    let samples = parse_exposition(&reply.body);
    let names: BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    for name in LIVE_GAUGES {
        assert!(names.contains(name), "{name} is missing");
    }
    // The today gauges are still there, as they were.
    for name in [
        "sla_service_level_percent",
        "sla_target_percent",
        "sla_last_refresh_timestamp_seconds",
    ] {
        assert!(names.contains(name), "{name} is missing");
    }

    let support = [("queue_id", SUPPORT), ("queue", "Support")];
    let at = |extra: &[(&'static str, &'static str)]| {
        let mut labels = support.to_vec();
        labels.extend_from_slice(extra);
        labels
    };
    assert_eq!(value(&samples, "sla_waiting", &support), Some("2"));
    assert_eq!(
        value(&samples, "sla_longest_waiting_seconds", &support),
        Some("45")
    );
    assert_eq!(value(&samples, "sla_interacting", &support), Some("3"));
    assert_eq!(value(&samples, "sla_on_queue_agents", &support), Some("5"));
    assert_eq!(
        value(
            &samples,
            "sla_waiting_over_threshold",
            &at(&[("objective", "20s")])
        ),
        Some("1")
    );
    assert_eq!(
        value(
            &samples,
            "sla_rolling_target_percent",
            &at(&[("objective", "configured")])
        ),
        Some("80")
    );
    let doc = h.state.live.status().last.unwrap();
    let row = doc
        .report
        .queues
        .iter()
        .find(|r| r.queue_id == SUPPORT)
        .unwrap();
    let level = &row.service_levels[0];
    assert_eq!(
        value(
            &samples,
            "sla_rolling_service_level_percent",
            &at(&[("objective", "20s")])
        ),
        level.level.percent.map(|p| p.to_string()).as_deref()
    );
    assert_eq!(
        value(
            &samples,
            "sla_rolling_projected_percent",
            &at(&[("objective", "20s")])
        ),
        level.projected_percent.map(|p| p.to_string()).as_deref()
    );
    assert_eq!(
        value(&samples, "sla_rolling_offered", &support),
        Some(row.counts.offered.to_string().as_str())
    );
    assert!(value(&samples, "sla_rolling_asa_seconds", &support).is_some());
    assert!(value(&samples, "sla_rolling_abandon_percent", &support).is_some());
    assert_eq!(
        value(&samples, "sla_rolling_window_seconds", &[]),
        Some("1800")
    );
    assert_eq!(
        value(&samples, "sla_live_last_refresh_timestamp_seconds", &[]),
        Some("1715769000.000")
    );
    assert_eq!(
        value(&samples, "sla_live_last_refresh_success", &[]),
        Some("1")
    );
}

#[tokio::test]
async fn rows_split_by_media_carry_the_media_type_label() {
    let h = refreshed().await;
    let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
    // Sales's media types have different configured targets: its rows carry media_type.
    let chat = [
        ("queue_id", SALES),
        ("queue", "Sales"),
        ("media_type", "chat"),
    ];
    assert_eq!(value(&samples, "sla_waiting", &chat), Some("1"));
    assert_eq!(
        value(&samples, "sla_longest_waiting_seconds", &chat),
        Some("90")
    );
    let chat_configured = [
        ("queue_id", SALES),
        ("queue", "Sales"),
        ("media_type", "chat"),
        ("objective", "configured"),
    ];
    assert_eq!(
        value(&samples, "sla_waiting_over_threshold", &chat_configured),
        Some("1"),
        "90 s past chat's 60 s"
    );
    assert_eq!(
        value(&samples, "sla_rolling_target_percent", &chat_configured),
        Some("70")
    );
    assert_eq!(
        value(
            &samples,
            "sla_waiting",
            &[("queue_id", SALES), ("queue", "Sales")]
        ),
        None
    );
}

#[tokio::test]
async fn a_metrics_token_guards_metrics_alone() {
    let h = Built {
        settings: Settings {
            token: Some(SecretString::from("s3cret-token")),
            metrics_token: Some(SecretString::from("pr0metheus")),
            ..watching()
        },
        ..Built::default()
    }
    .build();
    let missing = get(&h.app, "/metrics").await;
    missing.assert_challenge("Bearer realm=\"sla\"");
    assert_eq!(missing.json()["error"]["code"], "unauthorized");
    for wrong in [
        "Bearer pr0metheuz", "Bearer pr0metheus!", "Bearer s3cret-token", "Basic cHIwbWV0aGV1cw==",
    ] {
        let reply = get_with(&h.app, "/metrics", wrong).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    let right = get_with(&h.app, "/metrics", "Bearer pr0metheus").await;
    assert_eq!(right.status, StatusCode::OK);
    assert!(right.body.contains("sla_live_subscribers 0"));
    // The metrics token opens nothing else, and the probes stay open.
    let api = get_with(&h.app, "/api/v1/queues", "Bearer pr0metheus").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&h.app, "/healthz").await.status, StatusCode::OK);

    // Without a metrics token, /metrics stays open even when the API is guarded.
    let open = with_token();
    assert_eq!(get(&open.app, "/metrics").await.status, StatusCode::OK);
}
