//! The history store end to end, on a `sqlite:` file in a scratch directory and on a
//! `postgres://` server the run starts on loopback: `sla sync` from the simulated org, then `sla report
//! --source store` against `--source details`, re-syncs, overlapping windows and a restated
//! conversation without a doubled visit, a sync the org kills midway, and reports from the
//! store with no credentials at all.
//!
//! Reports are compared byte for byte after removing, from the store's JSON, the
//! `"source": "store"` line and the four lines of the `"store": {"complete_until": ...}`
//! object, and from the details JSON its `"source": "details"` line; nothing else.

use std::path::PathBuf;
use std::process::Output;

use e2e::{TestSim, fixed_config, scratch_dir, sla_command, stderr, stdout, succeeded};
use genesys_sim::{Outcome as SimOutcome, Restatement};
use jiff::Timestamp;

/// The dataset's 30 days, as `sla sync` takes them (UTC days, `--to` inclusive).
const DATASET: [&str; 6] = ["--from", "2026-03-07", "--to", "2026-04-05", "--tz", "UTC"];

/// The loopback org needs no client-side budget.
const UNPACED: [&str; 2] = ["--max-requests-per-minute", "100000"];

fn ts(text: &str) -> Timestamp {
    text.parse().expect("an instant")
}

/// A store under test: its URL, and how to count rows in it with SQL, as a BI tool would.
struct Db {
    url: String,
    file: Option<PathBuf>,
}

impl Db {
    /// A new `sqlite:` store in a scratch directory of its own.
    fn sqlite(name: &str) -> Db {
        let file = scratch_dir(&format!("store-{name}")).join("sla.db");
        Db {
            url: format!("sqlite://{}", file.display()),
            file: Some(file),
        }
    }

    /// A new `postgres://` database on the run's own cluster, started on first use.
    fn postgres(_name: &str) -> Db {
        let url = runtime().block_on(sla_store::test_support::database());
        Db { url, file: None }
    }

    /// The one number `sql` selects.
    fn number(&self, sql: &str) -> i64 {
        if let Some(file) = &self.file {
            let connection = rusqlite::Connection::open_with_flags(
                file,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .expect("the SQLite store opens read-only");
            return connection
                .query_row(sql, [], |row| row.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        runtime().block_on(async {
            let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .expect("the PostgreSQL store accepts connections");
            let task = tokio::spawn(connection);
            let row = client
                .query_one(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
            row.get(0)
        })
    }

    /// Stored visits, and stored visits counted once per (conversation, queue, entry).
    fn rows(&self) -> (i64, i64) {
        (
            self.number("SELECT COUNT(*) FROM visits"),
            self.number(
                "SELECT COUNT(*) FROM (SELECT DISTINCT conversation_id, queue_id, entered_ms \
                 FROM visits) AS d",
            ),
        )
    }

    /// Offers on the UTC days `from` to `to` (inclusive), through the BI view.
    fn offered_by_day(&self, from: &str, to: &str) -> i64 {
        self.number(&format!(
            "SELECT CAST(COALESCE(SUM(offered), 0) AS BIGINT) FROM daily_queue_counts \
             WHERE day >= '{from}' AND day <= '{to}'"
        ))
    }

    /// How many of `conversation`'s stored visits are abandoned, and its longest stored wait.
    fn abandoned_and_wait(&self, conversation: &str) -> (i64, i64) {
        (
            self.number(&format!(
                "SELECT COUNT(*) FROM visits \
                 WHERE conversation_id = '{conversation}' AND outcome = 'abandoned'"
            )),
            self.number(&format!(
                "SELECT CAST(MAX(wait_ms) AS BIGINT) FROM visits \
                 WHERE conversation_id = '{conversation}'"
            )),
        )
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `sla sync --all-queues ARGS` into `db` from `sim`.
fn sync(sim: &TestSim, db: &Db, args: &[&str]) -> Output {
    let mut all = vec!["sync", "--all-queues", "--store", &db.url];
    all.extend(UNPACED);
    all.extend(args);
    sim.sla(&all)
}

#[track_caller]
fn synced(sim: &TestSim, db: &Db, args: &[&str]) -> String {
    succeeded(&sync(sim, db, args), &format!("sla sync {args:?}"))
}

/// A line of a sync's summary, such as `new:` or `complete up to:`.
#[track_caller]
fn summary_line<'a>(summary: &'a str, key: &str) -> &'a str {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map_or_else(|| panic!("no {key} in:\n{summary}"), str::trim)
}

/// `sla report --source store` from `db`, run with a clean environment: no credentials, no
/// API base, nothing that could reach Genesys.
#[track_caller]
fn from_store(db: &Db, command: &str, query: &[&str]) -> Output {
    let mut args = vec![command, "--source", "store", "--store", &db.url];
    args.extend(query);
    sla_command(&args).output().expect("sla runs")
}

/// The same query from conversation details.
#[track_caller]
fn from_details(sim: &TestSim, command: &str, query: &[&str]) -> String {
    let mut args = vec![command, "--source", "details"];
    args.extend(UNPACED);
    args.extend(query);
    succeeded(&sim.sla(&args), &format!("sla {args:?}"))
}

/// Removes `lines`, which must be there in this order, from `text`.
#[track_caller]
fn without(text: &str, lines: &[&str]) -> String {
    let block: String = lines.iter().flat_map(|l| [l, "\n"]).collect();
    assert!(text.contains(&block), "missing {block:?} in:\n{text}");
    text.replacen(&block, "", 1)
}

/// Asserts that the JSON report of `query` from the store, complete up to `complete_until`,
/// equals the one from conversation details but for its source and the store's field.
#[track_caller]
fn check_same_report(sim: &TestSim, db: &Db, query: &[&str], complete_until: &str) {
    let mut json = vec!["--format", "json"];
    json.extend(query);
    let output = from_store(db, "report", &json);
    assert!(output.status.success(), "{query:?}: {}", stderr(&output));
    let stored = stdout(&output);
    let details = from_details(sim, "report", &json);
    let stored = without(
        &stored,
        &[
            "  \"source\": \"store\",",
            "  \"store\": {",
            &format!("    \"complete_until\": \"{complete_until}\""),
            "  },",
        ],
    );
    let details = without(&details, &["  \"source\": \"details\","]);
    let parsed: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert!(
        parsed["total"]["counts"]["offered"].as_u64().unwrap() > 0,
        "{query:?} has data"
    );
    assert!(
        stored == details,
        "the store and details disagree for {query:?}"
    );
}

/// Visits of the simulated org with `nOffered` or the outcome emitted in `[from, to)`: what a
/// sync of every queue over that window stores.
fn visits_between(sim: &TestSim, from: &str, to: &str) -> i64 {
    let (from, to) = (ts(from), ts(to));
    let within = |t: Timestamp| from <= t && t < to;
    let count = sim
        .server()
        .history()
        .visits
        .iter()
        .filter(|v| within(v.entered) || within(v.outcome_at))
        .count();
    i64::try_from(count).unwrap()
}

/// Visits of the simulated org that entered a queue in `[from, to)`.
fn offered_between(sim: &TestSim, from: &str, to: &str) -> i64 {
    let (from, to) = (ts(from), ts(to));
    let count = sim
        .server()
        .history()
        .visits
        .iter()
        .filter(|v| from <= v.entered && v.entered < to)
        .count();
    i64::try_from(count).unwrap()
}

/// Runs each `fn NAME(&Db)` on a `sqlite:` store and on a `postgres://` one, as tests
/// `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Db::sqlite(concat!("sqlite-", stringify!($name))));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Db::postgres(stringify!($name)));
                }
            )*
        }
    };
}

on_both!(
    a_synced_store_reports_as_conversation_details_do,
    resyncs_overlaps_and_a_restatement_never_double_a_visit,
    a_sync_killed_midway_leaves_a_consistent_store_that_the_next_sync_completes,
);

/// The queries (a) compares, each with the end of its window: up to there the store is
/// complete.
#[rustfmt::skip]
const QUERIES: &[(&[&str], &str)] = &[
    // A week, two thresholds, every queue.
    (
        &["--all-queues", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
          "--threshold", "20s", "--threshold", "60s"],
        "2026-03-30T00:00:00Z",
    ),
    // Days across London's change to summer time, abandons against, short abandons.
    (
        &["--all-queues", "--from", "2026-03-27", "--to", "2026-03-31", "--tz", "Europe/London",
          "--granularity", "day", "--abandons", "against", "--short-abandon", "5s"],
        "2026-03-31T23:00:00Z",
    ),
    // Half hours of one day, by media, configured targets, flow-outs against.
    (
        &["--queue-name", "Support*", "--from", "2026-03-25", "--to", "2026-03-25", "--tz", "UTC",
          "--granularity", "30m", "--by-media", "--threshold", "configured",
          "--flowouts", "against"],
        "2026-03-26T00:00:00Z",
    ),
    // Instants off the hour grid, hourly, abandons after the threshold.
    (
        &["--queue", "Sales", "--from", "2026-03-10T08:17:00Z", "--to", "2026-03-11T13:45:00Z",
          "--granularity", "hour", "--abandons", "after-threshold", "--threshold", "30s"],
        "2026-03-11T13:45:00Z",
    ),
    // Weeks in New York across its change to summer time (8 March), abandons for, a media
    // filter.
    (
        &["--all-queues", "--media", "voice,chat", "--from", "2026-03-07", "--to", "2026-04-04",
          "--tz", "America/New_York", "--granularity", "week", "--abandons", "for",
          "--threshold", "30s"],
        "2026-04-05T04:00:00Z",
    ),
];

/// (a) and (d): after one sync of the dataset, every query from the store equals the query
/// from conversation details, and the store is read with no credentials and no request to
/// Genesys.
fn a_synced_store_reports_as_conversation_details_do(db: &Db) {
    let sim = TestSim::start(fixed_config());
    let summary = synced(&sim, db, &DATASET);
    assert_eq!(
        summary_line(&summary, "window:"),
        "2026-03-07T00:00:00Z to 2026-04-06T00:00:00Z"
    );
    assert_eq!(
        summary_line(&summary, "complete up to:"),
        "2026-04-06T00:00:00Z"
    );
    let stored = visits_between(&sim, "2026-03-07T00:00:00Z", "2026-04-06T00:00:00Z");
    assert_eq!(summary_line(&summary, "new:"), stored.to_string());
    assert_eq!(db.rows(), (stored, stored));
    for (query, complete_until) in QUERIES {
        check_same_report(&sim, db, query, complete_until);
    }
    // CSV names no source at all: byte for byte as it is; and the breach list.
    #[rustfmt::skip]
    let csv = [
        "--all-queues", "--from", "2026-03-27", "--to", "2026-03-31", "--tz", "Europe/London",
        "--granularity", "day", "--format", "csv",
    ];
    #[rustfmt::skip]
    let breaches = [
        "--queue", "Claims", "--from", "2026-03-24", "--to", "2026-03-24", "--tz", "UTC",
        "--threshold", "20s", "--format", "csv",
    ];
    for (command, query) in [("report", &csv[..]), ("breaches", &breaches[..])] {
        let output = from_store(db, command, query);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).lines().count() > 1, "{}", stdout(&output));
        assert_eq!(stdout(&output), from_details(&sim, command, query));
    }
    the_store_is_read_without_genesys(&sim, db);
}

/// (d): reports from the store run with a clean environment (no credentials, no API base), and
/// the org sees no request while they run.
fn the_store_is_read_without_genesys(sim: &TestSim, db: &Db) {
    let asked = || (sim.server().api_requests(), sim.server().token_requests());
    let before = asked();
    let day = [
        "--all-queues", "--from", "2026-03-20", "--to", "2026-03-21", "--tz", "UTC",
    ];
    let output = from_store(db, "report", &day);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "a complete store warns of nothing");
    // A table from the store says so in its heading.
    assert!(
        stdout(&output)
            .contains("source store (complete up to 2026-03-22 00:00: the whole window)"),
        "{}",
        stdout(&output)
    );
    let mut late = day.to_vec();
    late.extend(["--threshold", "20s"]);
    let output = from_store(db, "breaches", &late);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(asked(), before, "reading the store asked the org nothing");
}

/// (b): syncing again, over overlapping windows, and after the org restates a conversation
/// stores each visit once, with the corrected outcome.
fn resyncs_overlaps_and_a_restatement_never_double_a_visit(db: &Db) {
    let sim = TestSim::start(fixed_config());
    let first = ["--from", "2026-03-10", "--to", "2026-03-20", "--tz", "UTC"];
    let overlap = ["--from", "2026-03-15", "--to", "2026-03-25", "--tz", "UTC"];
    synced(&sim, db, &first);
    let after_first = visits_between(&sim, "2026-03-10T00:00:00Z", "2026-03-21T00:00:00Z");
    assert_eq!(db.rows(), (after_first, after_first));
    // The same window again: nothing new, nothing changed.
    let again = synced(&sim, db, &first);
    assert_eq!(summary_line(&again, "new:"), "0");
    assert_eq!(summary_line(&again, "updated:"), "0");
    assert_eq!(summary_line(&again, "removed:"), "0");
    assert_ne!(summary_line(&again, "unchanged:"), "0");
    // An overlapping window, then the first again.
    synced(&sim, db, &overlap);
    synced(&sim, db, &first);
    let union = visits_between(&sim, "2026-03-10T00:00:00Z", "2026-03-26T00:00:00Z");
    assert_eq!(db.rows(), (union, union));
    assert_eq!(
        db.offered_by_day("2026-03-10", "2026-03-25"),
        offered_between(&sim, "2026-03-10T00:00:00Z", "2026-03-26T00:00:00Z")
    );

    // Genesys restates a conversation answered on 24 March, within the last 72 hours the
    // store holds: it was abandoned after 45 s.
    let history = sim.server().history();
    let (conversation, visit) = history
        .conversations
        .iter()
        .filter(|c| c.visits.len() == 1)
        .map(|c| (c, &history.visits[c.visits.start]))
        .find(|(c, v)| {
            v.outcome == SimOutcome::Answered
                && c.start >= ts("2026-03-24T10:00:00Z")
                && c.end < ts("2026-03-24T20:00:00Z")
        })
        .expect("an answered conversation on 24 March");
    let queue = history
        .queues
        .iter()
        .find(|q| q.id == visit.queue_id)
        .unwrap()
        .name
        .clone();
    let day = [
        "--queue", &queue, "--from", "2026-03-24", "--to", "2026-03-24", "--tz", "UTC", "--format",
        "json",
    ];
    let before: serde_json::Value =
        serde_json::from_str(&stdout(&from_store(db, "report", &day))).unwrap();
    sim.server()
        .restate(
            &conversation.id,
            Restatement {
                outcome: SimOutcome::Abandoned,
                wait_ms: 45_000,
            },
        )
        .expect("the conversation is restated");
    let restated = synced(&sim, db, &overlap);
    assert_eq!(summary_line(&restated, "new:"), "0");
    assert_eq!(summary_line(&restated, "updated:"), "1");
    assert_eq!(summary_line(&restated, "removed:"), "0");
    assert_eq!(db.rows(), (union, union));
    assert_eq!(db.abandoned_and_wait(&conversation.id), (1, 45_000));
    let after: serde_json::Value =
        serde_json::from_str(&stdout(&from_store(db, "report", &day))).unwrap();
    let count =
        |report: &serde_json::Value, what: &str| report["total"]["counts"][what].as_u64().unwrap();
    assert_eq!(count(&after, "answered"), count(&before, "answered") - 1);
    assert_eq!(count(&after, "abandoned"), count(&before, "abandoned") + 1);
    assert_eq!(count(&after, "offered"), count(&before, "offered"));
    // And the corrected store reports as details now do.
    check_same_report(&sim, db, &day[..day.len() - 2], "2026-03-25T00:00:00Z");
}

/// (c): a sync the org stops answering midway exits 1 saying what it stored, leaves the store
/// consistent up to where it claims, and the next sync completes it.
fn a_sync_killed_midway_leaves_a_consistent_store_that_the_next_sync_completes(db: &Db) {
    // A sync of the dataset is five pieces, cut every 8 UTC days from the epoch: 7 March, 8 to
    // 16 March, 16 to 24, 24 March to 1 April (those two through details jobs), then 1 to 6
    // April. Count the requests of the first two pieces: a sync of 7 to 15 March (UTC days,
    // inclusive) into a store of its own makes the same ones, token and queues included.
    let sim = TestSim::start(fixed_config());
    let scratch = Db::sqlite(&format!(
        "killed-count-{}",
        if db.file.is_some() {
            "sqlite"
        } else {
            "postgres"
        }
    ));
    let requests = || sim.server().api_requests() + sim.server().token_requests();
    let before = requests();
    let two = synced(
        &sim,
        &scratch,
        &["--from", "2026-03-07", "--to", "2026-03-15", "--tz", "UTC"],
    );
    assert_eq!(summary_line(&two, "pieces:"), "2 of 2");
    let first_two = requests() - before;

    // The whole sync, with the org dying once the third piece has begun (it answers that
    // piece's first request, how far the data lake reaches, and no more); no retry.
    sim.server().stop_answering_after(first_two + 1);
    let mut args = DATASET.to_vec();
    args.extend(["--max-attempts", "1"]);
    let output = sync(&sim, db, &args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "error: cannot complete the sync into {}: sync stopped while reading visits for \
             2026-03-16T00:00:00Z/2026-03-24T00:00:00Z (8 queues); 2 of 5 pieces were stored \
             before (",
            db.url
        )),
        "{message}"
    );
    assert!(
        message.contains("upstream unavailable after 1 attempt: genesys cloud answered 503"),
        "{message}"
    );
    let stored_new = visits_between(&sim, "2026-03-07T00:00:00Z", "2026-03-16T00:00:00Z");
    assert!(
        message.contains(&format!("({stored_new} visits new, 0 updated, 0 removed)")),
        "{message}"
    );

    // The store claims what it committed, and over that part it reports as details do.
    let output = from_store(
        db,
        "report",
        &[
            "--all-queues", "--format", "json", "--from", "2026-03-07T00:00:00Z", "--to",
            "2026-04-06T00:00:00Z",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let until = "2026-03-16T00:00:00Z";
    assert_eq!(report["store"]["complete_until"], until);
    assert!(
        stderr(&output).contains(&format!("holds these queues' visits only up to {until}, not up to the window's end 2026-04-06T00:00:00Z")),
        "{}",
        stderr(&output)
    );
    let committed = visits_between(&sim, "2026-03-07T00:00:00Z", until);
    assert_eq!(db.rows(), (committed, committed));
    check_same_report(
        &TestSim::start(fixed_config()),
        db,
        &[
            "--all-queues", "--from", "2026-03-07T00:00:00Z", "--to", until, "--granularity",
            "day", "--tz", "UTC",
        ],
        until,
    );

    the_next_sync_completes_the_store(db);
}

/// The rest of (c): Genesys is back (a new org of the same seed), and the next sync completes
/// the store, reading only what it lacks and the last 72 hours of what it holds: 13 March to
/// 6 April.
fn the_next_sync_completes_the_store(db: &Db) {
    let revived = TestSim::start(fixed_config());
    let summary = synced(&revived, db, &DATASET);
    assert_eq!(summary_line(&summary, "pieces:"), "4 of 4");
    assert_eq!(
        summary_line(&summary, "complete up to:"),
        "2026-04-06T00:00:00Z"
    );
    let all = visits_between(&revived, "2026-03-07T00:00:00Z", "2026-04-06T00:00:00Z");
    assert_eq!(db.rows(), (all, all));
    check_same_report(
        &revived,
        db,
        &[
            "--all-queues", "--from", "2026-03-07", "--to", "2026-04-05", "--granularity", "day",
            "--tz", "UTC",
        ],
        "2026-04-06T00:00:00Z",
    );
}
