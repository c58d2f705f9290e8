//! `sla now` over mocked ports, with tokio's time paused: one document, and `--watch` through
//! good refreshes, failed ones and the recovery, on a terminal and off one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser as _;
use jiff::Timestamp;
use serde_json::Value;
use sla_core::ports::{
    LiveSource, MockLiveSource, MockQueueDirectory, MockTallySource, SourceError,
};
use sla_core::{LiveState, MediaState, MediaType, Within, Zone};

use super::{Clock, ENTER, HOME, LEAVE, age_text, elide_middle};
use crate::cli::{Cli, Command, NowArgs};
use crate::run::tests::{support, support_tallies};
use crate::run::{Context, Io, Live, Outcome, Ports};

/// The instant the paused clock starts at.
const BASE: &str = "2026-03-10T15:00:00Z";

/// A clock that follows tokio's (paused) time from [`BASE`].
#[derive(Debug)]
struct PausedClock {
    base: Timestamp,
    start: tokio::time::Instant,
}

impl PausedClock {
    fn new() -> Self {
        PausedClock {
            base: BASE.parse().unwrap(),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for PausedClock {
    fn now(&self) -> Timestamp {
        self.base.checked_add(self.start.elapsed()).unwrap()
    }
}

/// Ten offered, eight answered of which six within 20 s, over any window.
fn tallies() -> MockTallySource {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|query| {
        let within = Within {
            answered: 6,
            abandoned: 0,
        };
        Ok(support_tallies(query.window.start(), (10, 8, 0), within))
    });
    tallies
}

/// A live source whose `n`-th observation (from 0) is `outcomes[n]`: `Some(waiting)` for that
/// many conversations waiting, the longest since 30 s before [`BASE`], or `None` for a failure.
fn live_source(outcomes: &'static [Option<u64>]) -> MockLiveSource {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut live = MockLiveSource::new();
    live.expect_observe()
        .times(outcomes.len())
        .returning(move |query| {
            assert_eq!(query.queues, vec![support().queue.id]);
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let Some(waiting) = outcomes[n] else {
                return Err(SourceError::Unavailable {
                    attempts: 3,
                    source: "HTTP 503: upstream unavailable".into(),
                });
            };
            let longest: Timestamp = "2026-03-10T14:59:30Z".parse().unwrap();
            let state = MediaState {
                waiting,
                waiting_since: vec![longest; usize::try_from(waiting).unwrap()],
                truncated: false,
                interacting: 2,
            };
            let mut live = LiveState::default();
            live.media
                .insert((support().queue.id, MediaType::Voice), state);
            live.on_queue_agents.insert(support().queue.id, 4);
            Ok(live)
        });
    live
}

fn ports(live: impl LiveSource + 'static) -> Ports {
    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(|_| Ok(vec![support()]));
    Ports {
        directory: Arc::new(directory),
        tallies: Arc::new(tallies()),
        visits: None,
        live: Arc::new(live),
    }
}

fn now_args(args: &[&str]) -> NowArgs {
    let command_line = ["sla", "now", "--queue", "Support", "--tz", "UTC"]
        .iter()
        .chain(args);
    match Cli::try_parse_from(command_line).unwrap().command {
        Command::Now(args) => *args,
        Command::Report(_) | Command::Queues(_) | Command::Breaches(_) | Command::Sync(_) => {
            unreachable!("sla now was parsed")
        }
    }
}

/// What a run of `sla now ARGS` wrote and how it ended; it stops after `stop` of paused time.
struct Run {
    result: anyhow::Result<Outcome>,
    out: String,
    err: String,
}

async fn run(args: &[&str], terminal: bool, outcomes: &'static [Option<u64>], stop: u64) -> Run {
    run_over(args, terminal, live_source(outcomes), stop).await
}

async fn run_over(
    args: &[&str],
    terminal: bool,
    source: impl LiveSource + 'static,
    stop: u64,
) -> Run {
    let args = now_args(args);
    let clock = PausedClock::new();
    let context = Context {
        now: clock.now(),
        zone: Zone::utc(),
    };
    let live = Live {
        clock: &clock,
        terminal: terminal.then_some((|| 100) as fn() -> usize),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = Io {
        out: &mut out,
        err: &mut err,
    };
    let stop = tokio::time::sleep(Duration::from_secs(stop));
    let ports = ports(source);
    let result = crate::run::now(&args, &ports, &context, &live, &mut io, stop).await;
    Run {
        result,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// Refreshes at 0, 5, 10, 15 and 20 s: two good ones, two failures, and a recovery.
const STORY: &[Option<u64>] = &[Some(1), Some(2), None, None, Some(5)];

/// Long enough for the five refreshes of [`STORY`], short of a sixth.
const STORY_STOP: u64 = 22;

#[tokio::test(start_paused = true)]
async fn one_document_without_watch() {
    let run = run(&["--format", "json"], false, &[Some(3)], 3600).await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    let doc: Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(doc["schema"], "sla-live/v1");
    assert_eq!(doc["as_of"], "2026-03-10T15:00:00Z");
    assert_eq!(doc["window"]["start"], "2026-03-10T14:30:00Z");
    let row = &doc["queues"][0];
    assert_eq!(row["live"]["waiting"], 3);
    assert_eq!(row["live"]["longest_waiting_ms"], 30_000);
    assert_eq!(row["live"]["on_queue_agents"], 4);
    let level = &row["service_levels"][0];
    assert_eq!(
        (&level["numerator"], &level["denominator"]),
        (&Value::from(6), &Value::from(8))
    );
    assert_eq!(level["waiting_over_threshold"], 3);
    assert_eq!(level["projected_percent"], 54.55);
    assert!(run.err.is_empty(), "{}", run.err);
}

#[tokio::test(start_paused = true)]
async fn off_a_terminal_watch_writes_json_lines_and_tells_failures_on_stderr() {
    let run = run(&["--format", "json", "--watch"], false, STORY, STORY_STOP).await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    let docs: Vec<Value> = run
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, u64, u64)> = docs
        .iter()
        .map(|d| {
            let live = &d["queues"][0]["live"];
            (
                d["as_of"].as_str().unwrap(),
                live["waiting"].as_u64().unwrap(),
                live["longest_waiting_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("2026-03-10T15:00:00Z", 1, 30_000),
            ("2026-03-10T15:00:05Z", 2, 35_000),
            ("2026-03-10T15:00:20Z", 5, 50_000),
        ]
    );
    // Each refresh counts the window ending at its own instant.
    assert_eq!(docs[2]["window"]["start"], "2026-03-10T14:30:20Z");
    let failures: Vec<&str> = run.err.lines().collect();
    assert_eq!(failures.len(), 2, "{}", run.err);
    for (line, at, age) in [
        (failures[0], "15:00:10", "5 s"),
        (failures[1], "15:00:15", "10 s"),
    ] {
        assert!(
            line.starts_with(&format!("refresh failed {at}: ")),
            "{line}"
        );
        assert!(line.contains("HTTP 503: upstream unavailable"), "{line}");
        assert!(line.contains("after 3 attempts"), "{line}");
        assert!(
            line.ends_with(&format!("; showing figures from {age} ago")),
            "{line}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn off_a_terminal_tables_are_followed_by_a_blank_line() {
    let run = run(
        &["--watch", "--every", "10s"],
        false,
        &[Some(1), Some(2)],
        15,
    )
    .await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    let docs: Vec<&str> = run.out.split("Live at ").skip(1).collect();
    assert_eq!(docs.len(), 2, "{}", run.out);
    assert!(
        docs[0].starts_with("2026-03-10 15:00:00 (UTC)"),
        "{}",
        docs[0]
    );
    assert!(
        docs[1].starts_with("2026-03-10 15:00:10 (UTC)"),
        "{}",
        docs[1]
    );
    assert!(run.out.ends_with("\n\n"), "{:?}", run.out);
    assert!(
        !run.out.contains('\x1b'),
        "no control sequences off a terminal"
    );
}

#[tokio::test(start_paused = true)]
async fn on_a_terminal_watch_redraws_in_place_and_keeps_the_last_figures_on_failure() {
    let run = run(&["--watch"], true, STORY, STORY_STOP).await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    assert!(run.err.is_empty(), "{}", run.err);
    // The alternate screen is entered once and left at the end, giving the terminal back.
    let inner = run
        .out
        .strip_prefix(ENTER)
        .and_then(|s| s.strip_suffix(LEAVE))
        .unwrap_or_else(|| panic!("not wrapped in the alternate screen: {:?}", run.out));
    // Every frame starts at the top left, over the previous one.
    let frames: Vec<&str> = inner.split(HOME).skip(1).collect();
    assert_eq!(frames.len(), 5, "{inner:?}");
    assert!(inner.starts_with(HOME));
    let heading = |frame: &str| {
        frame
            .lines()
            .next()
            .unwrap()
            .trim_end_matches("\x1b[K")
            .to_owned()
    };
    let last_line = |frame: &str| {
        frame
            .trim_end_matches("\x1b[J")
            .lines()
            .last()
            .unwrap()
            .trim_end_matches("\x1b[K")
            .to_owned()
    };
    let expected = [
        ("15:00:00", "Refreshing every 5s; Ctrl-C stops"),
        ("15:00:05", "Refreshing every 5s; Ctrl-C stops"),
        ("15:00:05", "showing figures from 5 s ago"),
        ("15:00:05", "showing figures from 10 s ago"),
        ("15:00:20", "Refreshing every 5s; Ctrl-C stops"),
    ];
    for (frame, (at, status)) in frames.iter().zip(expected) {
        assert!(
            heading(frame).starts_with(&format!("Live at 2026-03-10 {at} (UTC)")),
            "{frame}"
        );
        assert!(last_line(frame).ends_with(status), "{frame}");
        assert!(
            frame.ends_with("\x1b[J"),
            "the rest of the screen is cleared"
        );
    }
    let failed = last_line(frames[2]);
    // Cut short in the middle to fit the terminal, keeping what failed, the root cause and the
    // age of the figures in view.
    assert_eq!(
        failed,
        "refresh failed 15:00:10: upstream unavailable a…: upstream unavailable; \
         showing figures from 5 s ago"
    );
    assert_eq!(failed.chars().count(), 100);
    // The figures kept are the last good ones: two waiting, the longest for 35 s.
    let support = |frame: &str| {
        frame
            .lines()
            .find(|l| l.starts_with("Support "))
            .unwrap()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(support(frames[1]), "Support 2 35.0s");
    assert_eq!(support(frames[3]), "Support 2 35.0s");
    assert_eq!(support(frames[4]), "Support 5 50.0s");
}

/// Answers its first observation with one conversation waiting, then never again.
struct Hangs(AtomicUsize);

#[async_trait::async_trait]
impl LiveSource for Hangs {
    async fn observe(&self, _: &sla_core::LiveQuery) -> Result<LiveState, SourceError> {
        if self.0.fetch_add(1, Ordering::SeqCst) > 0 {
            std::future::pending::<()>().await;
        }
        let mut live = LiveState::default();
        let state = MediaState {
            waiting: 1,
            ..MediaState::default()
        };
        live.media
            .insert((support().queue.id, MediaType::Voice), state);
        Ok(live)
    }
}

#[tokio::test(start_paused = true)]
async fn a_refresh_without_an_answer_fails_at_its_deadline() {
    let run = run_over(&["--watch"], false, Hangs(AtomicUsize::new(0)), 27).await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    assert_eq!(run.out.matches("Live at ").count(), 1, "{}", run.out);
    // The refresh of 15:00:05 gives up 10 s later; the next one starts at once and gives up too.
    assert_eq!(
        run.err,
        "refresh failed 15:00:15: no answer within 10s; showing figures from 15 s ago\n\
         refresh failed 15:00:25: no answer within 10s; showing figures from 25 s ago\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_refresh_that_fails_ends_the_watch_with_its_error() {
    let run = run(&["--watch"], true, &[None], 3600).await;
    let err = run.result.unwrap_err();
    assert!(format!("{err:#}").contains("HTTP 503"), "{err:#}");
    assert!(
        run.out.is_empty(),
        "the terminal is left alone: {:?}",
        run.out
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_before_the_next_tick_ends_the_watch_at_once() {
    let run = run(&["--watch", "--every", "1m"], true, &[Some(1)], 30).await;
    assert_eq!(run.result.unwrap(), Outcome::Done);
    assert_eq!(run.out.matches(HOME).count(), 1);
    assert!(run.out.ends_with(LEAVE));
}

#[test]
fn every_is_at_least_two_seconds_and_only_with_watch() {
    let parse = |args: &[&str]| {
        Cli::try_parse_from(["sla", "now"].iter().chain(args)).map_err(|e| e.to_string())
    };
    let err = parse(&["--watch", "--every", "1s"]).unwrap_err();
    assert!(
        err.contains("'1s' is too short: refresh at most every 2s"),
        "{err}"
    );
    let err = parse(&["--every", "5s"]).unwrap_err();
    assert!(err.contains("--watch"), "{err}");
    assert!(parse(&["--watch", "--every", "2s"]).is_ok());
    let err = parse(&["--window", "1m"]).unwrap_err();
    assert!(err.contains("'1m'"), "{err}");
}

#[test]
fn ages_read_as_people_say_them() {
    for (millis, text) in [
        (0, "0 s"),
        (40_000, "40 s"),
        // Two ticks 6 s apart read the clock a little apart.
        (5_990, "6 s"),
        (59_499, "59 s"),
        (59_500, "1 min 0 s"),
        (3_599_000, "59 min 59 s"),
        (3_600_000, "1 h 0 min"),
        (-3_000, "0 s"),
    ] {
        assert_eq!(age_text(jiff::SignedDuration::from_millis(millis)), text);
    }
}

#[test]
fn long_reasons_keep_their_start_and_their_end() {
    for (text, room, expect) in [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("abcdefghijklmnopqrstuvwxyz", 9, "abcd…wxyz"),
        ("abcdefghij", 4, "a…ij"),
        ("ééééé", 3, "é…é"),
        ("abc", 0, "…"),
    ] {
        assert_eq!(elide_middle(text, room), expect, "{text} in {room}");
    }
}
