//! `sla now` against the simulator's live org with the autopilot off and a manual clock: a
//! conversation waiting past the threshold, the live figures against the simulator's own state,
//! the `sla-live/v1` schema, and `--watch` writing to a pipe.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use e2e::{END_DATE, TestSim, live_schema, sla_command, stderr, stdout, succeeded};
use genesys_sim::{
    LiveClock, LiveConfig, LiveSnapshot, ManualClock, MediaType as SimMedia, Outcome as SimOutcome,
    SimConfig,
};
use jiff::Timestamp;
use serde_json::Value;

use crate::assert_valid;

/// A small org whose history ended long ago, so that the rolling window holds only what a test
/// does, live on `clock`: no autopilot, and no agent on queue until a test sets some.
fn quiet_org(clock: &ManualClock) -> TestSim {
    TestSim::start(SimConfig {
        seed: 7,
        queues: 4,
        days: 1,
        visits_per_day: 10,
        end_date: Some(END_DATE.parse().expect("a date")),
        live: LiveConfig {
            autopilot: false,
            agents_per_queue: 0,
            clock: LiveClock::Manual(clock.clone()),
            ..LiveConfig::default()
        },
        ..SimConfig::default()
    })
}

/// Checks a document against the `sla-live/v1` schema.
#[track_caller]
fn validate(doc: &Value) {
    assert_valid(&live_schema(), doc);
}

/// `sla now ARGS --format json --tz UTC` against `sim`, checked against the schema, with the
/// wall-clock instants just before and after the run: `sla` read its own clock in between.
#[track_caller]
fn now_json(sim: &TestSim, args: &[&str]) -> (Value, Timestamp, Timestamp) {
    let mut args: Vec<&str> = [&["now"], args].concat();
    args.extend(["--format", "json", "--tz", "UTC"]);
    let before = Timestamp::now();
    let output = sim.sla(&args);
    let after = Timestamp::now();
    let text = succeeded(&output, &format!("sla {args:?}"));
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    validate(&doc);
    (doc, before, after)
}

fn millis(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.duration_since(from).as_millis()).expect("a later instant")
}

fn u64_of(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

#[test]
fn a_conversation_waiting_past_the_threshold_is_a_miss_now_and_once_answered() {
    // The rolling window ends at `sla`'s now cut to whole seconds, so the live org runs 5 s
    // behind the wall clock: what it does at its now is then inside the next window at once.
    let clock = ManualClock::new(Timestamp::now() - jiff::SignedDuration::from_secs(5));
    let sim = quiet_org(&clock);
    let live = sim.server().live().expect("a live org");
    let queue = sim.server().org().queues[0].clone();
    // Waiting since 40 s ago on the wall clock `sla` reads.
    let since = Timestamp::from_millisecond(Timestamp::now().as_millisecond() - 40_000)
        .expect("an instant");
    let conversation = live
        .inject(&queue.id, SimMedia::Voice, since)
        .expect("injected");
    let args = ["--queue", queue.id.as_str(), "--threshold", "20s"];

    let (doc, before, after) = now_json(&sim, &args);
    let row = &doc["queues"][0];
    assert_eq!(row["queue_name"], queue.name.as_str());
    assert_eq!(row["live"]["waiting"], 1);
    // `sla` measured the wait on its own clock, read between `before` and `after`.
    let longest = u64_of(&row["live"]["longest_waiting_ms"]);
    let bounds = millis(since, before)..=millis(since, after);
    assert!(bounds.contains(&longest), "{longest} ms not in {bounds:?}");
    let level = &row["service_levels"][0];
    assert_eq!(level["objective"], "20s");
    assert_eq!(level["waiting_over_threshold"], 1);
    let (numerator, denominator) = (u64_of(&level["numerator"]), u64_of(&level["denominator"]));
    // Nothing ended in the window yet; the projection counts the one waiting as a miss.
    assert_eq!((numerator, denominator), (0, 0));
    assert_eq!(level["percent"], Value::Null);
    assert_eq!(level["projected_percent"], 0.0);
    assert_eq!(
        doc["total"]["service_levels"][0]["waiting_over_threshold"],
        1
    );

    // Answered now, past the threshold; its handling ends within the hour the clock moves on,
    // and the visit reaches the aggregates.
    let answered_at = clock.now();
    live.answer(&conversation).expect("answered");
    clock.advance(Duration::from_hours(1));
    let snapshot = live.snapshot();
    let visit = snapshot
        .visits
        .iter()
        .find(|v| v.conversation_id == conversation)
        .expect("the conversation has ended");
    let waited = millis(since, answered_at);
    assert!(waited > 20_000);
    assert_eq!(
        (visit.outcome, visit.wait_ms),
        (SimOutcome::Answered, waited)
    );

    let (doc, _, _) = now_json(&sim, &args);
    let row = &doc["queues"][0];
    assert_eq!(row["live"]["waiting"], 0);
    assert_eq!(row["live"]["longest_waiting_ms"], 0);
    assert_eq!(row["counts"]["answered"], 1, "{doc:#}");
    assert_eq!(u64_of(&row["counts"]["answer_wait_ms_max"]), waited);
    let level = &row["service_levels"][0];
    assert_eq!(level["waiting_over_threshold"], 0);
    assert_eq!(
        (u64_of(&level["numerator"]), u64_of(&level["denominator"])),
        (numerator, denominator + 1),
        "a miss: the denominator is up by one, the numerator is not"
    );
    assert_eq!(level["percent"], 0.0);
}

/// The live figures of one queue (or queue and media type) as counted from a snapshot.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counted {
    waiting: u64,
    interacting: u64,
    agents: u64,
    /// The earliest instant a listed conversation started waiting.
    oldest: Option<Timestamp>,
}

/// Counts the snapshot's own lists: per queue, and per queue and media type (agents serve every
/// media type of their queue, so each media type has its queue's agents).
fn count(snapshot: &LiveSnapshot) -> BTreeMap<(String, Option<&'static str>), Counted> {
    let mut counted = BTreeMap::new();
    for queue in &snapshot.queues {
        let agents = u64::from(queue.on_queue_agents);
        let mut whole = Counted {
            agents,
            ..Counted::default()
        };
        for media in SimMedia::ALL {
            let lists = queue.media(media);
            let part = Counted {
                waiting: u64::try_from(lists.waiting.len()).expect("a count"),
                interacting: u64::from(lists.interacting),
                agents,
                oldest: lists.waiting.iter().map(|c| c.since).min(),
            };
            whole.waiting += part.waiting;
            whole.interacting += part.interacting;
            whole.oldest = whole.oldest.into_iter().chain(part.oldest).min();
            counted.insert((queue.queue_id.clone(), Some(media.as_str())), part);
        }
        counted.insert((queue.queue_id.clone(), None), whole);
    }
    counted
}

/// Compares a document's row (or total) with what the snapshot counts, the longest wait within
/// the span `sla` read its clock in.
#[track_caller]
fn check_live(live: &Value, counted: &Counted, before: Timestamp, after: Timestamp) {
    assert_eq!(u64_of(&live["waiting"]), counted.waiting, "{live}");
    assert_eq!(u64_of(&live["interacting"]), counted.interacting, "{live}");
    assert_eq!(u64_of(&live["on_queue_agents"]), counted.agents, "{live}");
    assert_eq!(live["truncated"], false);
    let longest = u64_of(&live["longest_waiting_ms"]);
    match counted.oldest {
        None => assert_eq!(longest, 0),
        Some(oldest) => {
            let bounds = millis(oldest, before)..=millis(oldest, after);
            assert!(bounds.contains(&longest), "{longest} ms not in {bounds:?}");
        }
    }
}

#[test]
fn live_figures_equal_the_simulators_own_count() {
    let clock = ManualClock::starting_now();
    let sim = quiet_org(&clock);
    let live = sim.server().live().expect("a live org");
    let ids: Vec<String> = sim
        .server()
        .org()
        .queues
        .iter()
        .map(|q| q.id.clone())
        .collect();
    let ago = |s: i64| clock.now() - jiff::SignedDuration::from_secs(s);
    // Queue 0: two voice calls and a chat waiting, and a call a supervisor answered.
    for (media, waited) in [
        (SimMedia::Voice, 95),
        (SimMedia::Voice, 12),
        (SimMedia::Chat, 61),
    ] {
        live.inject(&ids[0], media, ago(waited)).expect("injected");
    }
    let handled = live
        .inject(&ids[0], SimMedia::Voice, ago(30))
        .expect("injected");
    live.answer(&handled).expect("answered");
    // Queue 1: three agents on queue, one ringing with a call; nobody waits.
    live.set_agents(&ids[1], 3).expect("agents set");
    live.inject(&ids[1], SimMedia::Voice, ago(5))
        .expect("injected");
    // Queue 2: an email waiting for 400 s, and no agent. Queue 3: idle.
    live.inject(&ids[2], SimMedia::Email, ago(400))
        .expect("injected");

    // The clock stands still, so the state is the same before, during and after the runs.
    let snapshot = live.snapshot();
    let counted = count(&snapshot);
    assert_eq!(
        snapshot
            .queue(&ids[1])
            .expect("queue 1")
            .media(SimMedia::Voice)
            .alerting,
        1
    );

    let (doc, before, after) = now_json(&sim, &["--all-queues", "--threshold", "20s"]);
    let rows = doc["queues"].as_array().expect("rows");
    assert_eq!(rows.len(), ids.len());
    let mut total = Counted::default();
    for row in rows {
        let id = row["queue_id"].as_str().expect("an id").to_owned();
        let expected = &counted[&(id, None)];
        check_live(&row["live"], expected, before, after);
        total.waiting += expected.waiting;
        total.interacting += expected.interacting;
        total.agents += expected.agents;
        total.oldest = total.oldest.into_iter().chain(expected.oldest).min();
    }
    check_live(&doc["total"]["live"], &total, before, after);
    // Past 20 s: the calls of 95 s and the chat of 61 s in queue 0, and the email in queue 2.
    assert_eq!(
        doc["total"]["service_levels"][0]["waiting_over_threshold"],
        3
    );

    let (doc, before, after) = now_json(&sim, &["--all-queues", "--by-media"]);
    let mut seen = Vec::new();
    for row in doc["queues"].as_array().expect("rows") {
        let id = row["queue_id"].as_str().expect("an id").to_owned();
        let media = row["media_type"].as_str().expect("a media type");
        let key = (id, SimMedia::from_analytics(media).map(SimMedia::as_str));
        check_live(&row["live"], &counted[&key], before, after);
        seen.push(key);
    }
    // Every queue and media type with something going on has its row.
    for (key, c) in &counted {
        if key.1.is_some() && (c.waiting > 0 || c.interacting > 0) {
            assert!(seen.contains(key), "no row for {key:?}: {c:?}");
        }
    }
    assert_eq!(
        snapshot.as_of,
        live.snapshot().as_of,
        "the clock stood still"
    );
}

#[test]
fn every_shape_of_the_document_validates_against_the_schema() {
    // A busy org: the default live org, with its autopilot, waits and abandons.
    let sim = TestSim::start(SimConfig {
        seed: 11,
        queues: 5,
        days: 1,
        visits_per_day: 50,
        ..SimConfig::default()
    });
    let shapes: [&[&str]; 3] = [
        &["--all-queues"],
        &[
            "--all-queues", "--by-media", "--threshold", "20s", "--threshold", "configured",
            "--short-abandon", "5s", "--abandons", "against", "--flowouts", "against",
        ],
        &[
            "--queue-name", "*", "--window", "2h", "--media", "voice,chat",
        ],
    ];
    for args in shapes {
        let (doc, _, _) = now_json(&sim, args);
        assert_eq!(doc["schema"], "sla-live/v1");
        assert!(!doc["queues"].as_array().expect("rows").is_empty());
    }
}

#[test]
fn the_demo_shows_every_demo_queue() {
    let output = sla_command(&["now", "--demo", "--format", "json", "--tz", "UTC"])
        .output()
        .expect("sla runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    validate(&doc);
    assert_eq!(doc["queues"].as_array().expect("rows").len(), 8);
}

#[test]
fn usage_errors_name_the_bad_value() {
    for (args, needle) in [
        (&["now", "--demo", "--window", "2m"][..], "'2m'"),
        (
            &["now", "--demo", "--watch", "--every", "1s"][..],
            "'1s' is too short",
        ),
        (&["now", "--demo", "--every", "10s"][..], "--watch"),
    ] {
        let output = sla_command(args).output().expect("sla runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// A running `sla`, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_off_a_terminal_writes_json_lines_and_tells_a_failed_refresh_on_stderr() {
    let clock = ManualClock::starting_now();
    let mut sim = quiet_org(&clock);
    let queue = sim.server().org().queues[0].id.clone();
    let mut sla = Running(
        sim.sla_command(&[
            "now", "--queue", &queue, "--watch", "--every", "2s", "--format", "json",
            // One attempt: the refresh after the simulator stops fails at once.
            "--max-attempts", "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sla starts"),
    );
    let mut lines = BufReader::new(sla.0.stdout.take().expect("piped stdout")).lines();
    let mut next_doc = || -> Value {
        let line = lines.next().expect("a document").expect("a line");
        let doc = serde_json::from_str(&line).expect("one JSON document per line");
        validate(&doc);
        doc
    };
    let first = next_doc();
    assert_eq!(first["queues"][0]["live"]["waiting"], 0);
    // The next refresh observes the queue again.
    let org = sim.server().live().expect("a live org");
    org.inject(&queue, SimMedia::Voice, clock.now())
        .expect("injected");
    let second = next_doc();
    assert_eq!(second["queues"][0]["live"]["waiting"], 1);
    let as_of = |doc: &Value| -> Timestamp {
        doc["as_of"]
            .as_str()
            .expect("as_of")
            .parse()
            .expect("an instant")
    };
    let step = millis(as_of(&first), as_of(&second));
    // No sooner than --every, and not held back much longer on a busy machine.
    assert!((1_900..10_000).contains(&step), "refreshed {step} ms apart");

    // Stopped, the simulator refuses the next refresh, which is told on stderr.
    sim.stop();
    let failure = BufReader::new(sla.0.stderr.take().expect("piped stderr"))
        .lines()
        .map(|line| line.expect("a line"))
        .find(|line| line.starts_with("refresh failed "))
        .expect("a failure line");
    assert!(
        failure.contains("upstream unavailable after 1 attempt"),
        "{failure}"
    );
    let age = failure
        .rsplit_once("; showing figures from ")
        .and_then(|(_, age)| age.strip_suffix(" s ago"))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no age of the figures in {failure:?}"));
    assert!((1..=5).contains(&age), "{failure}");
    assert!(
        matches!(sla.0.try_wait(), Ok(None)),
        "sla keeps watching after a failed refresh"
    );
}
