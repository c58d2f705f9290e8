//! `GET /`: the wallboard of the watched queues, escaped, honest when nothing is watched or refreshed.

use super::*;

// ---------------------------------------------------------------------------------------------
// The dashboard.

#[tokio::test]
async fn the_dashboard_shows_every_watched_queue_escaped() {
    let h = harness();
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let html = &reply.body;
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    for name in ["Support", "Sales", "R&amp;D &lt;&quot;Lab&quot;&gt;"] {
        assert!(html.contains(&format!(">{name}</h2>")), "{name}");
    }
    assert!(!html.contains("<\"Lab\">"), "a raw queue name in the page");
    let report = h.state.watch_status().report.unwrap();
    for row in &report.queues {
        for level in &row.service_levels {
            if let Some(p) = level.percent {
                assert!(
                    html.contains(&format!("data-percent=\"{p}\">{p:.1}%<")),
                    "{p}"
                );
            }
        }
    }
    // A bar per hour of today for each objective of each queue.
    let objectives: usize = report.queues.iter().map(|q| q.service_levels.len()).sum();
    assert_eq!(html.matches("<div class=\"bar ").count(), objectives * 24);
    // Hours after 10:30 have not happened yet.
    assert_eq!(
        html.matches("<div class=\"bar future\"").count(),
        objectives * 13
    );
    assert!(
        html.contains("class=\"objective met\"") || html.contains("class=\"objective missed\"")
    );
    assert!(
        html.contains("class=\"objective na\""),
        "Lab has no configured target"
    );
}

#[tokio::test]
async fn the_dashboard_says_when_nothing_is_watched_or_refreshed() {
    let idle = Built {
        settings: Settings::default(),
        ..Built::default()
    }
    .build();
    let reply = get(&idle.app, "/").await;
    assert!(reply.body.contains("No queue is watched"), "{}", reply.body);

    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| Err(exhausted_503()));
    let failing = Built {
        tallies: Arc::new(tallies),
        ..Built::default()
    }
    .build();
    watch::refresh(&failing.state).await;
    let reply = get(&failing.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.contains("The last refresh failed"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("[contextId 7c1f6a0e-context]"));
}

#[tokio::test(start_paused = true)]
async fn the_first_page_waits_for_the_first_refresh() {
    let (_, h) = counting(Duration::from_secs(2));
    let task = watch::spawn(h.state.clone());
    let reply = get(&h.app, "/").await;
    assert!(reply.body.contains(">Support</h2>"), "{}", reply.body);
    task.abort();

    // Not forever: with nothing arriving, the page says it is waiting.
    let (_, slow) = counting(Duration::from_hours(1));
    let task = watch::spawn(slow.state.clone());
    let reply = get(&slow.app, "/").await;
    assert!(
        reply.body.contains("Waiting for the first refresh"),
        "{}",
        reply.body
    );
    task.abort();
}

#[tokio::test]
async fn daily_bars_on_the_dashboard_are_labelled_with_their_day() {
    let h = Built {
        settings: Settings {
            watch: QueryInput {
                period: Some(p("this-week")),
                granularity: p("day"),
                ..watch_all()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    watch::refresh(&h.state).await;
    let html = get(&h.app, "/").await.body;
    assert!(html.contains("title=\"Mon 13 May "), "{html}");
    assert!(html.contains("title=\"Sun 19 May "), "{html}");
    assert!(!html.contains("00:00–00:00"), "{html}");
}
