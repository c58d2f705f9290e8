//! The live task: one observations query per live interval and one count per re-count interval
//! whoever listens, the last good document kept (and marked stale) when a refresh fails, and rows
//! split by media type where configured targets differ.

use super::*;

use crate::live::{Poller, Today, compose};

fn counting_live(settings: Settings) -> (Arc<FixtureLive>, Arc<CountingTallies>, Harness) {
    let live = Arc::new(FixtureLive::default());
    let (tallies, h) = counting_in(
        Duration::ZERO,
        Built {
            live: Arc::clone(&live) as Arc<dyn LiveSource>,
            settings,
            ..Built::default()
        },
    );
    (live, tallies, h)
}

#[tokio::test(start_paused = true)]
async fn the_task_polls_every_live_interval_and_recounts_on_its_own_interval() {
    let (live, tallies, h) = counting_live(watching());
    let task = crate::live::spawn(h.state.clone());
    h.state.live.wait_for_first(Duration::from_secs(1)).await;
    assert_eq!((live.calls(), tallies.calls()), (1, 1), "at start");
    // Polls at 5 s, 10 s, ... 60 s; re-counts at 15 s, 30 s, 45 s and 60 s.
    tokio::time::sleep(Duration::from_millis(60_500)).await;
    assert_eq!(live.calls(), 13);
    assert_eq!(tallies.calls(), 5);
    let status = h.state.live.status();
    assert_eq!(status.last.as_ref().map(|e| e.id), Some(13));
    assert!(status.last_error.is_none());
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn the_intervals_are_settings() {
    let (live, tallies, h) = counting_live(Settings {
        live_interval: Duration::from_secs(2),
        live_recount_interval: Duration::from_mins(1),
        ..watching()
    });
    let task = crate::live::spawn(h.state.clone());
    tokio::time::sleep(Duration::from_millis(60_500)).await;
    assert_eq!(live.calls(), 31, "at 0, 2, ... 60 s");
    assert_eq!(tallies.calls(), 2, "at 0 and 60 s");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn queues_are_resolved_once_not_on_every_recount() {
    let resolutions = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&resolutions);
    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(move |selector| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(select(&fixture_queues(), selector))
    });
    let h = Built {
        directory: Arc::new(directory),
        settings: Settings {
            live_recount_interval: Duration::from_secs(1),
            ..watching()
        },
        ..Built::default()
    }
    .build();
    let mut poller = Poller::default();
    poller.refresh(&h.state).await;
    let once = resolutions.load(Ordering::SeqCst);
    assert!(once >= 1);
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(5)).await;
        poller.refresh(&h.state).await;
    }
    assert_eq!(resolutions.load(Ordering::SeqCst), once);
    assert_eq!(h.state.live.status().last.map(|e| e.id), Some(4));
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_document_and_marks_it_stale() {
    let live = Arc::new(FixtureLive::default());
    let h = with_live(&live, watching());
    let mut poller = Poller::default();
    refresh_all(&h.state).await;
    poller.refresh(&h.state).await;
    let good = get(&h.app, "/api/v1/live").await;
    assert_eq!(good.status, StatusCode::OK);
    assert_eq!(
        good.header(header::HeaderName::from_static("x-sla-stale")),
        "false"
    );
    let first = h.state.live.status().last.unwrap();

    live.fail(true);
    poller.refresh(&h.state).await;
    let status = h.state.live.status();
    assert_eq!(status.last.as_ref().map(|e| e.id), Some(first.id));
    let error = status.last_error.clone().unwrap();
    assert!(
        error.starts_with("observing the watched queues failed:"),
        "{error}"
    );
    assert!(error.contains("[contextId 7c1f6a0e-context]"), "{error}");
    assert!(status.is_stale(now(), h.state.settings.live_interval));

    // The API answers the last good document, saying it is stale.
    let stale = get(&h.app, "/api/v1/live").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, good.body);
    assert_eq!(
        stale.header(header::HeaderName::from_static("x-sla-stale")),
        "true"
    );
    // The gauges keep the figures and their time, and say the refresh failed.
    let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert_eq!(
        value(&samples, "sla_live_last_refresh_success", &[]),
        Some("0")
    );
    assert_eq!(
        value(&samples, "sla_live_last_refresh_timestamp_seconds", &[]),
        Some("1715769000.000")
    );
    assert!(samples.iter().any(|s| s.name == "sla_waiting"));
    // The wallboard says so plainly.
    let page = get(&h.app, "/").await.body;
    assert!(page.contains("<body class=\"stale\""), "{page}");
    assert!(
        page.contains("The last live refresh failed; showing the last good figures"),
        "{page}"
    );

    live.fail(false);
    poller.refresh(&h.state).await;
    let status = h.state.live.status();
    assert_eq!(status.last.as_ref().map(|e| e.id), Some(first.id + 1));
    assert!(status.last_error.is_none());
    let fresh = get(&h.app, "/api/v1/live").await;
    assert_eq!(
        fresh.header(header::HeaderName::from_static("x-sla-stale")),
        "false"
    );
}

#[tokio::test]
async fn a_failed_recount_is_a_failed_refresh_and_is_tried_again_on_the_next_poll() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(move |query| {
        // The first count fails, every later one succeeds.
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(exhausted_503())
        } else {
            Ok(fixture_tallies(query))
        }
    });
    let h = Built {
        tallies: Arc::new(tallies),
        settings: watching(),
        ..Built::default()
    }
    .build();
    let mut poller = Poller::default();
    poller.refresh(&h.state).await;
    let status = h.state.live.status();
    assert!(status.last.is_none());
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("counting the rolling window failed:")),
        "{status:?}"
    );
    let reply = get(&h.app, "/api/v1/live").await;
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    poller.refresh(&h.state).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(h.state.live.status().last.is_some());
}

#[test]
fn figures_grow_stale_after_three_polls_and_at_least_15_s_without_news() {
    let event = |as_of: &str| {
        let hub = crate::live::LiveHub::new(1);
        let counted = sla_core::Counted {
            queues: Vec::new(),
            tallies: TallySet::new(),
        };
        let request = QueryInput {
            queues: vec![SUPPORT.to_owned()],
            period: Some(p("last-30m")),
            ..QueryInput::default()
        }
        .parse(&sla_core::QueryContext {
            now: now(),
            zone: Zone::utc(),
            limits: Limits::CLI,
            all_queues_by_default: false,
        })
        .unwrap();
        let report = sla_core::build_live(
            &request,
            &counted,
            &LiveState::default(),
            as_of.parse().unwrap(),
        );
        hub.publish(report);
        hub.status()
    };
    let status = event("2024-05-15T10:29:45Z");
    let interval = Duration::from_secs(5);
    assert!(!status.is_stale(now(), interval), "15 s old");
    let status = event("2024-05-15T10:29:44Z");
    assert!(status.is_stale(now(), interval), "16 s old");
    assert!(!crate::live::LiveStatus::default().is_stale(now(), interval));
    // Polls a second apart: still 15 s, so one slow poll does not flash a warning.
    let status = event("2024-05-15T10:29:45Z");
    assert!(!status.is_stale(now(), Duration::from_secs(1)), "15 s old");
    let status = event("2024-05-15T10:29:44Z");
    assert!(status.is_stale(now(), Duration::from_secs(1)), "16 s old");
}

/// The watched live request and its counts over the fixture queues.
async fn counted(h: &Harness) -> (sla_core::ReportRequest, sla_core::Counted) {
    let input = watch_all().over_live_window(sla_core::LiveWindow::default());
    let request = sla_core::live_request(&h.state.request(&input, now(), Limits::CLI).unwrap());
    let counted = sla_core::count(&request, h.state.sources()).await.unwrap();
    (request, counted)
}

#[tokio::test]
async fn queues_whose_media_have_different_configured_targets_are_split_by_media() {
    let h = harness();
    let (request, counted) = counted(&h).await;
    let state = fixture_live(&LiveQuery {
        queues: counted.queues.iter().map(|q| q.queue.id.clone()).collect(),
        media: Vec::new(),
    });
    let plain = sla_core::build_live(&request, &counted, &state, now());
    let doc = compose(&request, &counted, &state, now(), Today::default());
    let rows: Vec<(&str, Option<&str>)> = doc
        .queues
        .iter()
        .map(|r| (r.queue_name.as_str(), r.media_type.map(MediaType::as_str)))
        .collect();
    // Sales answers voice at 30 s for 90 % and chat at 60 s for 70 %; Support has voice only.
    assert_eq!(
        rows,
        [
            ("R&D <\"Lab\">", None),
            ("Sales", Some("voice")),
            ("Sales", Some("chat")),
            ("Support", None),
        ]
    );
    let configured = |row: &sla_core::LiveRow| {
        row.service_levels
            .iter()
            .find(|l| l.level.objective == "configured")
            .map(|l| {
                (
                    l.level.threshold_ms, l.level.target_percent, l.waiting_over_threshold,
                )
            })
    };
    assert_eq!(
        configured(&doc.queues[1]),
        Some((Some(30_000), Some(90.0), 0))
    );
    assert_eq!(
        configured(&doc.queues[2]),
        Some((Some(60_000), Some(70.0), 1))
    );
    let sales = plain
        .queues
        .iter()
        .find(|r| r.queue_name == "Sales")
        .unwrap();
    assert_eq!(configured(sales).map(|c| (c.0, c.1)), Some((None, None)));
    // Splitting changes rows, never the total.
    assert_eq!(doc.total, plain.total);

    // With only fixed thresholds nothing differs, so nothing is split.
    let fixed = sla_core::ReportRequest {
        objectives: request
            .objectives
            .iter()
            .filter(|o| o.name == "20s")
            .cloned()
            .collect(),
        ..request.clone()
    };
    let doc = compose(&fixed, &counted, &state, now(), Today::default());
    assert!(doc.queues.iter().all(|r| r.media_type.is_none()));

    // Today's report decides too: a queue split today stays split while its window has one
    // media type.
    let voice_only = sla_core::ReportRequest {
        media: vec![MediaType::Voice],
        ..request.clone()
    };
    let voice_counted = sla_core::count(&voice_only, h.state.sources())
        .await
        .unwrap();
    watch::refresh(&h.state).await;
    let today = h.state.watch_status();
    let doc = compose(
        &request,
        &voice_counted,
        &LiveState::default(),
        now(),
        Today {
            report: today.report.as_deref(),
            by_media: today.by_media.as_deref(),
        },
    );
    let sales: Vec<Option<MediaType>> = doc
        .queues
        .iter()
        .filter(|r| r.queue_name == "Sales")
        .map(|r| r.media_type)
        .collect();
    assert_eq!(sales, [Some(MediaType::Voice)]);
}
