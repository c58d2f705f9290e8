//! `sla sync`, and `sla report` and `sla breaches` from a store, over mocked ports: what a sync
//! writes and says, what a failed one says it stored, and the warning of an incomplete store.

use std::sync::{Arc, Mutex};

use clap::Parser;
use jiff::Timestamp;
use sla_core::ports::{
    Coverage, MockQueueDirectory, MockVisitSource, MockVisitStore, OutcomeKind, SourceError, Visit,
    VisitOutcome, WriteCounts,
};
use sla_core::{MediaType, QueueId, TimeWindow};

use sla_connect::process::UsageError;

use super::tests::{SUPPORT, block_on, context, support};
use super::{Io, Origin, Outcome, StorePorts, SyncPorts};
use crate::cli::{Cli, Command};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn directory() -> MockQueueDirectory {
    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(|_| Ok(vec![support()]));
    directory
}

/// A voice visit to Support answered after `wait_ms`, at `at`.
fn answered(conversation: &str, at: &str, wait_ms: u64) -> Visit {
    Visit {
        conversation_id: conversation.to_owned(),
        queue: QueueId::new(SUPPORT),
        media: MediaType::Voice,
        entered: ts(at),
        offered_at: Some(ts(at)),
        outcome: Some(VisitOutcome {
            kind: OutcomeKind::Answered,
            wait_ms,
            at: ts(at) + jiff::SignedDuration::from_millis(i64::try_from(wait_ms).unwrap()),
        }),
    }
}

/// January 2024's visits: two answered within 20 s, one after.
fn january() -> Vec<Visit> {
    vec![
        answered("c1", "2024-01-03T09:00:00Z", 5_000),
        answered("c2", "2024-01-10T09:00:00Z", 15_000),
        answered("c3", "2024-01-20T09:00:00Z", 45_000),
    ]
}

fn visits(all: Vec<Visit>) -> MockVisitSource {
    let mut source = MockVisitSource::new();
    source.expect_visits().returning(move |query, sink| {
        for v in &all {
            if query.window.contains(v.outcome.map_or(v.entered, |o| o.at)) {
                sink.visit(v.clone());
            }
        }
        Ok(())
    });
    source
}

/// A store covering Support from `start` to `end`.
fn covered(start: &str, end: &str) -> MockVisitStore {
    let span = TimeWindow::new(ts(start), ts(end)).unwrap();
    let mut store = MockVisitStore::new();
    store.expect_coverage().returning(move |_| {
        let mut coverage = Coverage::new();
        coverage.add(&QueueId::new(SUPPORT), span);
        Ok(coverage)
    });
    store
}

fn store_ports(store: MockVisitStore) -> StorePorts {
    StorePorts {
        url: "sqlite:history.db".to_owned(),
        directory: Arc::new(directory()),
        visits: Arc::new(visits(january())),
        store: Arc::new(store),
    }
}

fn command(args: &[&str]) -> Command {
    Cli::try_parse_from(["sla"].iter().chain(args))
        .expect("valid arguments")
        .command
}

/// Runs `sla ARGS` (a report or breaches) from `store`; gives the outcome, stdout and stderr.
fn from_store(args: &[&str], store: &StorePorts) -> (anyhow::Result<Outcome>, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
    };
    let result = match command(args) {
        Command::Report(args) => block_on(super::report(
            &args,
            Origin::Store(store),
            &context(),
            &mut io,
        )),
        Command::Breaches(args) => block_on(super::breaches(
            &args,
            Origin::Store(store),
            &context(),
            &mut io,
        )),
        other => panic!("not a report or breaches: {other:?}"),
    };
    let text = |bytes| String::from_utf8(bytes).unwrap();
    (result, text(out), text(err))
}

const JANUARY: [&str; 6] = [
    "--queue", "Support", "--period", "last-month", "--source", "store",
];

#[test]
fn a_report_from_a_complete_store_names_its_end_and_warns_of_nothing() {
    let store = store_ports(covered("2023-12-01T00:00:00Z", "2024-02-01T00:00:00Z"));
    let mut args = vec!["report"];
    args.extend(JANUARY);
    args.extend(["--format", "json"]);
    let (result, out, err) = from_store(&args, &store);
    assert_eq!(result.unwrap(), Outcome::Done);
    assert_eq!(err, "");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["source"], "store");
    assert_eq!(json["store"]["complete_until"], "2024-02-01T00:00:00Z");
    assert_eq!(json["total"]["counts"]["answered"], 3);
    assert_eq!(json["total"]["service_levels"][0]["numerator"], 2);
}

#[test]
fn a_report_from_an_incomplete_store_says_up_to_when_it_is_complete() {
    let store = store_ports(covered("2023-12-01T00:00:00Z", "2024-01-15T06:00:00Z"));
    let mut args = vec!["report"];
    args.extend(JANUARY);
    let (result, out, err) = from_store(&args, &store);
    assert_eq!(result.unwrap(), Outcome::Done);
    assert!(
        out.contains("source store (complete up to 2024-01-15 06:00 only)"),
        "{out}"
    );
    assert_eq!(
        err,
        "warning: the store sqlite:history.db holds these queues' visits only up to \
         2024-01-15T06:00:00Z, not up to the window's end 2024-02-01T00:00:00Z: the counts may \
         be short (run `sla sync` over the window to complete it)\n"
    );

    // Synced from after the window's start: no instant to name.
    let store = store_ports(covered("2024-01-02T00:00:00Z", "2024-02-01T00:00:00Z"));
    let (_, out, err) = from_store(&args, &store);
    assert!(
        out.contains("(not synced from the window's start)"),
        "{out}"
    );
    assert!(
        err.starts_with(
            "warning: the store sqlite:history.db does not hold every one of these queues' \
             visits from the window's start 2024-01-01T00:00:00Z"
        ),
        "{err}"
    );
}

#[test]
fn breaches_from_a_store_list_the_stored_visits_that_missed() {
    let store = store_ports(covered("2023-12-01T00:00:00Z", "2024-01-15T00:00:00Z"));
    let mut args = vec!["breaches", "--threshold", "20s", "--format", "csv"];
    args.extend(JANUARY);
    let (result, out, err) = from_store(&args, &store);
    assert_eq!(result.unwrap(), Outcome::Done);
    // Only c3 waited longer than 20 s.
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("c3"), "{out}");
    assert!(err.contains("only up to 2024-01-15T00:00:00Z"), "{err}");
}

#[test]
fn breaches_need_visits_and_refuse_the_aggregates_source() {
    let result = Cli::try_parse_from([
        "sla", "breaches", "--queue", "Support", "--threshold", "20s", "--source", "aggregates",
    ]);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("'aggregates'"), "{message}");
    assert!(
        message.contains("[possible values: details, store]"),
        "{message}"
    );
}

/// A store that takes every piece, recording the pieces' windows, and reports coverage of
/// what it took.
fn recording_store(pieces: &Arc<Mutex<Vec<TimeWindow>>>) -> MockVisitStore {
    let mut store = MockVisitStore::new();
    store.expect_save_queues().returning(|_| Ok(()));
    let taken = Arc::clone(pieces);
    store.expect_write_piece().returning(move |piece, visits| {
        taken.lock().unwrap().push(piece.window);
        Ok(WriteCounts {
            new: visits.len() as u64,
            ..WriteCounts::default()
        })
    });
    let taken = Arc::clone(pieces);
    store.expect_coverage().returning(move |queues| {
        let mut coverage = Coverage::new();
        for window in taken.lock().unwrap().iter() {
            for queue in queues {
                coverage.add(queue, *window);
            }
        }
        Ok(coverage)
    });
    store.expect_record_sync().returning(|_| Ok(()));
    store
}

/// Runs `sla sync ARGS` reading `source` into `store`; gives the outcome, stdout and stderr.
fn sync(
    args: &[&str],
    source: &MockVisitSource,
    store: MockVisitStore,
) -> (anyhow::Result<Outcome>, String, String) {
    let Command::Sync(args) = command(&[&["sync"], args].concat()) else {
        panic!("a sync was parsed");
    };
    let ports = StorePorts {
        url: "postgres://sla:***@db/history".to_owned(),
        directory: Arc::new(MockQueueDirectory::new()),
        visits: Arc::new(MockVisitSource::new()),
        store: Arc::new(store),
    };
    let directory = directory();
    let seen = Mutex::new(Vec::new());
    let progress = |p: &sla_core::SyncProgress| seen.lock().unwrap().push(p.pieces_done);
    let sync_ports = SyncPorts {
        directory: &directory,
        visits: source,
        store: &ports,
        progress: &progress,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
    };
    let result = block_on(super::sync(&args, &sync_ports, &context(), &mut io));
    assert!(!seen.lock().unwrap().is_empty() || result.is_err());
    let text = |bytes| String::from_utf8(bytes).unwrap();
    (result, text(out), text(err))
}

#[test]
fn a_sync_says_what_it_stored_and_up_to_when_the_store_is_complete() {
    let pieces = Arc::new(Mutex::new(Vec::new()));
    let (result, out, err) = sync(
        &["--queue", "Support", "--period", "last-month"],
        &visits(january()),
        recording_store(&pieces),
    );
    assert_eq!(result.unwrap(), Outcome::Done);
    assert_eq!(err, "");
    // January 2024 in pieces cut every 8 UTC days from the epoch: at 6, 14, 22 and 30 January.
    assert_eq!(pieces.lock().unwrap().len(), 5);
    assert_eq!(
        out,
        "Synced 1 queue into postgres://sla:***@db/history\n\
         window:          2024-01-01T00:00:00Z to 2024-02-01T00:00:00Z\n\
         pieces:          5 of 5\n\
         visits read:     3\n\
         new:             3\n\
         updated:         0\n\
         unchanged:       0\n\
         removed:         0\n\
         complete up to:  2024-02-01T00:00:00Z\n"
    );
}

#[test]
fn a_sync_that_fails_midway_says_what_it_stored_before() {
    let pieces = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(0));
    let mut source = MockVisitSource::new();
    source.expect_visits().returning(move |query, sink| {
        let mut calls = calls.lock().unwrap();
        *calls += 1;
        if *calls == 3 {
            return Err(SourceError::Unavailable {
                attempts: 1,
                source: "HTTP 503: The service is unavailable".into(),
            });
        }
        for v in january() {
            if query.window.contains(v.outcome.map_or(v.entered, |o| o.at)) {
                sink.visit(v);
            }
        }
        Ok(())
    });
    let (result, out, _) = sync(
        &["--queue", "Support", "--period", "last-month"],
        &source,
        recording_store(&pieces),
    );
    let err = result.unwrap_err();
    assert!(!err.chain().any(<dyn std::error::Error>::is::<UsageError>));
    let message = format!("{err:#}");
    assert!(
        message.starts_with(
            "cannot complete the sync into postgres://sla:***@db/history: sync stopped while \
             reading visits for 2024-01-14T00:00:00Z/2024-01-22T00:00:00Z (1 queue); 2 of 5 \
             pieces were stored before (2 visits new, 0 updated, 0 removed): upstream \
             unavailable after 1 attempt"
        ),
        "{message}"
    );
    assert!(message.contains("HTTP 503"), "{message}");
    assert_eq!(out, "");
    assert_eq!(pieces.lock().unwrap().len(), 2);
}

#[test]
fn a_sync_stores_every_media_type_and_refuses_a_media_filter() {
    let (result, out, _) = sync(
        &["--queue", "Support", "--media", "voice"],
        &MockVisitSource::new(),
        MockVisitStore::new(),
    );
    let err = result.unwrap_err();
    assert!(err.is::<UsageError>(), "{err:#}");
    assert!(format!("{err}").contains("drop --media"), "{err}");
    assert_eq!(out, "");
}
