//! The schema as BI tools see it: the daily view against the core's own tallies, migrations
//! that run once, a store from a newer program refused, and URLs that name no store.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sla_core::ports::VisitStore;
use sla_core::{BucketPlan, Granularity, SyncRequest, Tallier, TallyKey, Zone, sync_visits};
use sla_store::StoreError;

use crate::support::{Db, Script, on_both, queues, ts, visits, win};

on_both!(
    the_daily_view_counts_what_reports_count,
    migrations_run_once_and_a_newer_schema_is_refused,
);

/// Runs `sql` on the store directly, every column read as text.
async fn rows(db: &Db, sql: &str) -> Vec<Vec<Option<String>>> {
    if let Some(file) = &db.file {
        let conn = rusqlite::Connection::open(file).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                            rusqlite::types::ValueRef::Text(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                            other => Some(format!("{other:?}")),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
    } else {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(connection);
        let out = client
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect()
            })
            .collect();
        drop(client);
        let _ = task.await;
        out
    }
}

async fn the_daily_view_counts_what_reports_count(db: Db) {
    let seeded = visits("2026-03-01T00:00:00Z", 3, 120, 8);
    let source = Script::new(seeded.clone());
    let window = win("2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z");
    let request = SyncRequest::new(queues(), window, ts("2026-03-04T00:00:00Z"));
    sync_visits(&request, &source, db.store.as_ref(), &|_| {})
        .await
        .unwrap();
    // The core's tally of the same visits in UTC days (each metric on the day it was
    // emitted), over a window wide enough for every visit.
    let wide = win("2026-02-28T00:00:00Z", "2026-03-06T00:00:00Z");
    let plan = BucketPlan::new(&wide, Granularity::Day, &Zone::utc());
    let mut tallier = Tallier::new(plan, &[], None);
    let synced = crate::support::query(&["q-sales", "q-support", "q-billing"], &[], window);
    let stored: Vec<_> = seeded
        .iter()
        .filter(|v| crate::support::selected(v, &synced))
        .collect();
    for visit in &stored {
        tallier.add(visit);
    }
    let mut expected: BTreeMap<(String, String, String), Vec<Option<String>>> = BTreeMap::new();
    for (key, tally) in tallier.finish().iter() {
        let TallyKey {
            queue,
            media,
            bucket,
        } = key;
        let day = bucket.strftime("%Y-%m-%d").to_string();
        let count = |n: u64| Some(n.to_string());
        expected.insert(
            (day, queue.to_string(), media.to_string()),
            vec![
                count(tally.offered),
                count(tally.answered),
                count(tally.abandoned),
                count(tally.flow_outs),
            ],
        );
    }
    let view = rows(
        &db,
        "SELECT day, queue_id, media_type, CAST(offered AS TEXT), CAST(answered AS TEXT),
                CAST(abandoned AS TEXT), CAST(flow_outs AS TEXT), queue_name,
                CAST(answer_wait_ms_sum AS TEXT), CAST(answer_wait_ms_max AS TEXT),
                CAST(abandon_wait_ms_sum AS TEXT)
         FROM daily_queue_counts",
    )
    .await;
    let mut got = BTreeMap::new();
    let mut answer_wait = 0_u64;
    for row in &view {
        let key = (
            row[0].clone().unwrap(),
            row[1].clone().unwrap(),
            row[2].clone().unwrap(),
        );
        got.insert(key, row[3..7].to_vec());
        assert!(row[7].is_some(), "every synced queue has its name: {row:?}");
        answer_wait += row[8].as_deref().unwrap().parse::<u64>().unwrap();
    }
    assert_eq!(got, expected);
    // The sum of answered waits matches the stored visits' own, whatever day they ended on.
    let answered_waits: u64 = stored
        .iter()
        .filter_map(|v| v.outcome)
        .filter(|o| o.kind == sla_core::ports::OutcomeKind::Answered)
        .map(|o| o.wait_ms)
        .sum();
    assert_eq!(answer_wait, answered_waits);
    assert_eq!(
        rows(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM syncs").await,
        [[Some("1".to_owned())]]
    );
}

async fn migrations_run_once_and_a_newer_schema_is_refused(db: Db) {
    // Opening again applies nothing and keeps what is there.
    db.store.save_queues(&queues()).await.unwrap();
    let again = db.reopen().await;
    drop(again);
    assert_eq!(
        rows(
            &db,
            "SELECT CAST(MAX(version) AS TEXT), CAST(COUNT(*) AS TEXT) FROM schema_version"
        )
        .await,
        [[Some("1".to_owned()), Some("1".to_owned())]]
    );
    assert_eq!(
        rows(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM queues").await,
        [[Some("3".to_owned())]]
    );
    rows(
        &db,
        "INSERT INTO schema_version (version, applied_ms) VALUES (99, 0) RETURNING CAST(version AS TEXT)",
    )
    .await;
    let error = sla_store::open(&db.url).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::SchemaTooNew {
            found: 99,
            known: 1,
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .contains("has schema version 99, newer than the 1 this program knows"),
        "{error}"
    );
}

#[tokio::test]
async fn a_url_that_names_no_store_is_refused_naming_it() {
    let error = sla_store::open("mysql://sla:hunter2@db/sla")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::InvalidUrl { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with("invalid store URL 'mysql://sla:***@db/sla'"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}/missing/sla.db", dir.path().display());
    let error = sla_store::open(&url).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("SQLite store {url}")),
        "{message}"
    );
    assert!(matches!(error, StoreError::Sqlite { .. }));
}

#[tokio::test]
async fn a_postgres_server_that_does_not_answer_is_an_error_without_the_password() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://sla:hunter2@127.0.0.1:{port}/sla?connect_timeout=2");
    let error = sla_store::open(&url).await.unwrap_err();
    let chain = {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(s) = source {
            let _ = write!(text, ": {s}");
            source = s.source();
        }
        text
    };
    assert!(chain.contains("sla:***@127.0.0.1"), "{chain}");
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(!format!("{error:?}").contains("hunter2"));
}
