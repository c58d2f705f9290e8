//! What a store does, the same on SQLite and PostgreSQL: upserts, overlapping pieces,
//! restatements, interrupted syncs, reading back, tallies and the queue directory.

use jiff::SignedDuration;
use sla_core::ports::{
    OutcomeKind, QueueDirectory, QueueSelector, SyncPiece, VisitOutcome, VisitStore, WriteCounts,
};
use sla_core::{
    Granularity, MediaType, QueueId, SyncRequest, SyncStep, Threshold, TimeWindow, sync_visits,
};

use crate::support::{
    Db, Script, on_both, q, queue, queues, read, sort, tallied_both_ways, ts, visits, win,
};

on_both!(
    writing_the_same_visits_twice_stores_them_once,
    overlapping_pieces_never_double_a_visit,
    restated_conversations_are_corrected_and_nothing_lingers,
    a_sync_stopped_midway_keeps_its_pieces_and_the_next_one_completes_it,
    visits_read_back_as_a_details_source_selects_them,
    tallies_from_the_store_equal_tallies_from_its_source,
    queues_are_kept_for_reports_without_genesys,
    coverage_outlives_the_process_and_bounds_the_next_sync,
);

const IDS: [&str; 3] = ["q-billing", "q-sales", "q-support"];

fn piece(window: TimeWindow) -> SyncPiece {
    SyncPiece {
        queues: IDS.iter().map(|id| q(id)).collect(),
        window,
    }
}

fn all(window: TimeWindow) -> sla_core::ports::VisitQuery {
    crate::support::query(&IDS, &[], window)
}

fn no_progress(_: &sla_core::SyncProgress) {}

async fn writing_the_same_visits_twice_stores_them_once(db: Db) {
    let source = Script::new(visits("2026-03-01T00:00:00Z", 2, 150, 1));
    let window = win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z");
    let delivered = source.expected(&all(window));
    let n = delivered.len() as u64;
    let first = db
        .store
        .write_piece(&piece(window), delivered.clone())
        .await
        .unwrap();
    assert_eq!(
        first,
        WriteCounts {
            new: n,
            ..WriteCounts::default()
        }
    );
    let again = db
        .store
        .write_piece(&piece(window), delivered.clone())
        .await
        .unwrap();
    assert_eq!(
        again,
        WriteCounts {
            unchanged: n,
            ..WriteCounts::default()
        }
    );
    assert_eq!(read(db.store.as_ref(), &all(window)).await, delivered);
}

async fn overlapping_pieces_never_double_a_visit(db: Db) {
    let source = Script::new(visits("2026-03-01T00:00:00Z", 3, 150, 2));
    let first = win("2026-03-01T00:00:00Z", "2026-03-02T12:00:00Z");
    let second = win("2026-03-01T12:00:00Z", "2026-03-03T00:00:00Z");
    let a = db
        .store
        .write_piece(&piece(first), source.expected(&all(first)))
        .await
        .unwrap();
    let overlap = source.expected(&all(win("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z")));
    let b = db
        .store
        .write_piece(&piece(second), source.expected(&all(second)))
        .await
        .unwrap();
    // Every visit of the overlap was already there, unchanged.
    assert_eq!((b.updated, b.removed), (0, 0));
    assert_eq!(b.unchanged, overlap.len() as u64);
    let whole = win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z");
    let stored = read(db.store.as_ref(), &all(whole)).await;
    assert_eq!(stored, source.expected(&all(whole)));
    assert_eq!(a.new + b.new, stored.len() as u64);
}

async fn restated_conversations_are_corrected_and_nothing_lingers(db: Db) {
    let seeded = visits("2026-03-01T00:00:00Z", 2, 150, 3);
    let source = Script::new(seeded.clone());
    let window = win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z");
    let first = SyncRequest::new(queues(), window, ts("2026-03-03T00:00:00Z"));
    sync_visits(&first, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();

    // Genesys restates four conversations: one answered visit was an abandon after all, one
    // transfer vanished, one visit moved to a queue this store does not sync, and one moved to
    // another synced queue.
    let single = |n: usize| {
        seeded
            .iter()
            .filter(|v| {
                v.outcome.is_some_and(|o| o.kind == OutcomeKind::Answered)
                    && seeded
                        .iter()
                        .filter(|w| w.conversation_id == v.conversation_id)
                        .count()
                        == 1
            })
            .nth(n)
            .unwrap()
            .conversation_id
            .clone()
    };
    let (answered, left, moved) = (single(0), single(1), single(2));
    let transferred = seeded
        .iter()
        .find(|v| {
            seeded
                .iter()
                .filter(|w| w.conversation_id == v.conversation_id)
                .count()
                == 2
        })
        .unwrap()
        .conversation_id
        .clone();
    {
        let mut visits = source.visits.lock().unwrap();
        let mut seen_transfer = false;
        visits.retain(|v| {
            if v.conversation_id == transferred {
                let keep = !seen_transfer;
                seen_transfer = true;
                return keep;
            }
            true
        });
        for v in visits.iter_mut() {
            if v.conversation_id == answered {
                let o = v.outcome.unwrap();
                v.outcome = Some(VisitOutcome {
                    kind: OutcomeKind::Abandoned,
                    wait_ms: o.wait_ms + 1234,
                    at: o.at + SignedDuration::from_millis(1234),
                });
            } else if v.conversation_id == left {
                v.queue = q("q-elsewhere");
            } else if v.conversation_id == moved {
                v.queue = q(if v.queue == q("q-sales") {
                    "q-support"
                } else {
                    "q-sales"
                });
            }
        }
    }
    let later = SyncRequest {
        now: ts("2026-03-03T01:00:00Z"),
        ..first
    };
    let summary = sync_visits(&later, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();
    assert_eq!(
        (
            summary.written.new, summary.written.updated, summary.written.removed
        ),
        (1, 1, 3)
    );
    assert_eq!(
        read(db.store.as_ref(), &all(window)).await,
        source.expected(&all(window))
    );
    let gone = crate::support::query(&["q-elsewhere"], &[], window);
    assert!(read(db.store.as_ref(), &gone).await.is_empty());
}

async fn a_sync_stopped_midway_keeps_its_pieces_and_the_next_one_completes_it(db: Db) {
    let source = Script::new(visits("2026-03-01T00:00:00Z", 5, 100, 4));
    *source.fail_on.lock().unwrap() = Some(3);
    let window = win("2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z");
    let request = SyncRequest {
        piece_days: 1,
        ..SyncRequest::new(queues(), window, ts("2026-03-06T00:00:00Z"))
    };
    let error = sync_visits(&request, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap_err();
    let third = win("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z");
    assert_eq!(error.step, SyncStep::Read(piece(third)));
    assert_eq!(
        (error.stored.pieces_done, error.stored.pieces_total),
        (2, 5)
    );
    let message = format!("{error}");
    assert!(message.contains("2 of 5 pieces were stored"), "{message}");

    // What was committed is whole and is all the store claims.
    let committed = win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z");
    let ids: Vec<QueueId> = IDS.iter().map(|id| q(id)).collect();
    let coverage = db.store.coverage(&ids).await.unwrap();
    assert_eq!(coverage.complete_until(&ids, window), Some(committed.end()));
    assert_eq!(
        read(db.store.as_ref(), &all(committed)).await,
        source.expected(&all(committed))
    );

    // The next sync reads the committed days again only as far as the restated 72 hours reach
    // (here: all of them), and the rest.
    *source.fail_on.lock().unwrap() = None;
    let before = source.reads.lock().unwrap().len();
    let done = sync_visits(&request, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();
    assert_eq!(done.complete_until, Some(window.end()));
    assert_eq!(done.pieces_done, 5);
    assert_eq!(
        source.reads.lock().unwrap()[before].window.start(),
        ts("2026-03-01T00:00:00Z")
    );
    assert_eq!(
        read(db.store.as_ref(), &all(window)).await,
        source.expected(&all(window))
    );
}

async fn visits_read_back_as_a_details_source_selects_them(db: Db) {
    let source = Script::new(visits("2026-03-01T00:00:00Z", 3, 150, 5));
    let window = win("2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z");
    let request = SyncRequest::new(queues(), window, ts("2026-03-05T00:00:00Z"));
    sync_visits(&request, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();
    let queries = [
        crate::support::query(&IDS, &[], window),
        crate::support::query(&["q-sales"], &[], window),
        crate::support::query(&["q-sales", "q-billing"], &[MediaType::Chat], window),
        crate::support::query(&IDS, &[MediaType::Voice, MediaType::Email], window),
        // Around midnight, where waits cross from one day into the next.
        crate::support::query(
            &IDS,
            &[],
            win("2026-03-01T23:55:00Z", "2026-03-02T00:05:00Z"),
        ),
        // Bounds that are not whole milliseconds.
        crate::support::query(
            &IDS,
            &[],
            win("2026-03-01T12:00:00.0005Z", "2026-03-02T08:30:00.9999Z"),
        ),
        // Outside anything synced, and a queue never synced.
        crate::support::query(
            &IDS,
            &[],
            win("2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z"),
        ),
        crate::support::query(&["q-nobody"], &[], window),
    ];
    for query in &queries {
        let stored = read(db.store.as_ref(), query).await;
        let mut expected = source.expected(query);
        sort(&mut expected);
        assert_eq!(stored, expected, "{query:?}");
    }
    assert!(!read(db.store.as_ref(), &queries[4]).await.is_empty());
}

async fn tallies_from_the_store_equal_tallies_from_its_source(db: Db) {
    // 7 to 10 March 2026: New York moves its clocks on the 8th.
    let source = Script::new(visits("2026-03-07T00:00:00Z", 3, 200, 6));
    let window = win("2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z");
    let request = SyncRequest::new(queues(), window, ts("2026-03-10T00:00:00Z"));
    sync_visits(&request, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();
    let ms = Threshold::from_millis;
    let cases = [
        (
            Granularity::Total,
            "UTC",
            window,
            vec![ms(20_000)],
            None,
            vec![],
        ),
        (
            Granularity::HalfHour,
            "Europe/London",
            window,
            vec![ms(20_000), ms(60_000)],
            Some(ms(10_000)),
            vec![],
        ),
        (
            Granularity::Hour,
            "America/New_York",
            win("2026-03-07T05:00:00Z", "2026-03-09T04:00:00Z"),
            vec![ms(0), ms(30_000), ms(180_000)],
            Some(ms(5_000)),
            vec![MediaType::Voice, MediaType::Chat],
        ),
        (
            Granularity::Day,
            "Asia/Kolkata",
            win("2026-03-06T18:30:00Z", "2026-03-09T18:30:00Z"),
            vec![ms(45_000)],
            None,
            vec![MediaType::Email],
        ),
    ];
    for (granularity, zone, window, thresholds, short_abandon, media) in cases {
        let ids = IDS.iter().map(|id| q(id)).collect();
        let case = (granularity, zone, window, thresholds, short_abandon);
        let (query, stored, direct) = tallied_both_ways(&db, &source, ids, media, case).await;
        assert!(!direct.is_empty(), "{query:?}");
        assert_eq!(stored, direct, "{query:?}");
    }
}

async fn queues_are_kept_for_reports_without_genesys(db: Db) {
    db.store.save_queues(&queues()).await.unwrap();
    let all = db.store.queues(&QueueSelector::All).await.unwrap();
    let mut expected = queues();
    expected.sort_by(|a, b| a.queue.id.cmp(&b.queue.id));
    assert_eq!(all, expected);
    let names = |found: Vec<sla_core::QueueInfo>| -> Vec<String> {
        found.into_iter().map(|q| q.queue.name).collect()
    };
    assert_eq!(
        names(
            db.store
                .queues(&QueueSelector::Name("s*".into()))
                .await
                .unwrap()
        ),
        ["Sales", "Support"]
    );
    assert_eq!(
        names(
            db.store
                .queues(&QueueSelector::Ids(vec![q("q-billing"), q("q-none")]))
                .await
                .unwrap()
        ),
        ["Billing"]
    );
    // Saved again with a new name and no targets: replaced, not added to.
    let mut renamed = queue("q-sales", "Sales EU");
    renamed.service_levels.clear();
    renamed.division = None;
    db.store.save_queues(&[renamed.clone()]).await.unwrap();
    let found = db
        .store
        .queues(&QueueSelector::Ids(vec![q("q-sales")]))
        .await
        .unwrap();
    assert_eq!(found, [renamed]);
    assert_eq!(db.store.queues(&QueueSelector::All).await.unwrap().len(), 3);
}

async fn coverage_outlives_the_process_and_bounds_the_next_sync(db: Db) {
    let source = Script::new(visits("2026-03-01T00:00:00Z", 4, 50, 7));
    let window = win("2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z");
    let request = SyncRequest {
        piece_days: 1,
        ..SyncRequest::new(queues(), window, ts("2026-03-04T06:00:00Z"))
    };
    let first = sync_visits(&request, &source, db.store.as_ref(), &no_progress)
        .await
        .unwrap();
    assert_eq!(first.complete_until, Some(ts("2026-03-04T06:00:00Z")));
    drop(db.store.clone());
    let reopened = db.reopen().await;
    let ids: Vec<QueueId> = IDS.iter().map(|id| q(id)).collect();
    let coverage = reopened.coverage(&ids).await.unwrap();
    for id in &ids {
        assert_eq!(
            coverage.spans(id),
            [win("2026-03-01T00:00:00Z", "2026-03-04T06:00:00Z")]
        );
    }
    // Six hours later, with a day restated: the last day and the new hours only.
    let later = SyncRequest {
        now: ts("2026-03-04T12:00:00Z"),
        restate: std::time::Duration::from_hours(24),
        ..request
    };
    let before = source.reads.lock().unwrap().len();
    let second = sync_visits(&later, &source, reopened.as_ref(), &no_progress)
        .await
        .unwrap();
    let reads: Vec<TimeWindow> = source.reads.lock().unwrap()[before..]
        .iter()
        .map(|r| r.window)
        .collect();
    assert_eq!(
        reads,
        [
            win("2026-03-03T06:00:00Z", "2026-03-04T00:00:00Z"),
            win("2026-03-04T00:00:00Z", "2026-03-04T12:00:00Z"),
        ]
    );
    assert_eq!((second.written.updated, second.written.removed), (0, 0));
    assert_eq!(second.complete_until, Some(ts("2026-03-04T12:00:00Z")));
}
