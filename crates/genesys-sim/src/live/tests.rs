//! The live engine on a manual clock: arrivals, answers, abandons, agents, the autopilot, and the
//! handle's snapshot. Nothing here sleeps; time moves when a test moves it.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::{LiveClock, LiveConfig, LiveError, LiveOrg, LiveSnapshot, ManualClock};
use crate::{
    SimConfig,
    org::{MediaType, Org, Outcome, Visit},
};

const MINUTE: Duration = Duration::from_mins(1);

fn start() -> Timestamp {
    "2026-06-01T10:00:00Z".parse().unwrap()
}

/// A small org with a live org on a manual clock at [`start`].
fn live(tweak: impl FnOnce(&mut LiveConfig)) -> (Org, LiveOrg, ManualClock) {
    let clock = ManualClock::new(start());
    let mut config = SimConfig {
        queues: 3,
        days: 1,
        visits_per_day: 20,
        end_date: Some(jiff::civil::date(2026, 5, 31)),
        ..SimConfig::default()
    };
    config.live.clock = LiveClock::Manual(clock.clone());
    tweak(&mut config.live);
    let org = Org::generate_until(&config, start());
    let live = LiveOrg::new(&org, config.seed, &config.live, start());
    (org, live, clock)
}

fn quiet(config: &mut LiveConfig) {
    config.autopilot = false;
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

fn visits_of<'a>(snapshot: &'a LiveSnapshot, id: &str) -> Vec<&'a Visit> {
    snapshot
        .visits
        .iter()
        .filter(|v| v.conversation_id == id)
        .collect()
}

#[track_caller]
fn assert_consistent(org: &Org, snapshot: &LiveSnapshot) {
    for v in &snapshot.visits {
        assert!(v.outcome_at <= snapshot.as_of, "{v:?}");
        assert_eq!(
            v.outcome_at.as_millisecond() - v.entered.as_millisecond(),
            i64::try_from(v.wait_ms).unwrap()
        );
        assert!(org.queues.iter().any(|q| q.id == v.queue_id));
    }
    for q in &snapshot.queues {
        for m in &q.media {
            assert!(m.waiting.windows(2).all(|w| w[0].since <= w[1].since));
            assert!(m.waiting.iter().all(|w| w.since <= snapshot.as_of));
        }
        assert!(q.idle_agents <= q.on_queue_agents);
    }
}

#[test]
fn the_autopilot_keeps_conversations_arriving_and_finishing() {
    let (org, live, clock) = live(|c| c.speed_up = 10.0);
    let first = live.snapshot();
    // The warm-up leaves the org busy from the first instant.
    let busy_at_start: u32 = first
        .queues
        .iter()
        .map(|q| q.on_queue_agents - q.idle_agents)
        .sum();
    assert!(busy_at_start > 0, "{first:?}");
    assert_eq!(first.as_of, start());
    assert!(first.visits.iter().all(|v| v.outcome_at <= start()));

    clock.advance(10 * MINUTE);
    let later = live.snapshot();
    assert_eq!(later.as_of, start() + secs(600));
    assert_consistent(&org, &later);
    // Ten minutes at ten times 55 an hour per average queue: about 275 arrivals in three queues.
    let arrived = later.visits.iter().filter(|v| v.entered >= start()).count();
    assert!((120..600).contains(&arrived), "{arrived}");
    for outcome in [Outcome::Answered, Outcome::Abandoned] {
        assert!(
            later.visits.iter().any(|v| v.outcome == outcome),
            "{outcome:?}"
        );
    }
    // Sped up, waits and handling are short, yet real milliseconds of the wall clock.
    let answered: Vec<&Visit> = later
        .visits
        .iter()
        .filter(|v| v.outcome == Outcome::Answered)
        .collect();
    // Ringing takes 1 to 4 s at speed 1.
    assert!(answered.iter().all(|v| v.wait_ms >= 100));
    assert!(answered.iter().any(|v| v.wait_ms < 400));
}

#[test]
fn ticks_do_not_change_what_happens() {
    let (_, coarse, coarse_clock) = live(|_| {});
    let (_, fine, fine_clock) = live(|_| {});
    coarse_clock.advance(5 * MINUTE);
    coarse.tick();
    for _ in 0..300 {
        fine_clock.advance(Duration::from_secs(1));
        fine.tick();
    }
    let (a, b) = (coarse.snapshot(), fine.snapshot());
    let key = |s: &LiveSnapshot| {
        s.visits
            .iter()
            .map(|v| (v.conversation_id.clone(), v.wait_ms, v.outcome))
            .collect::<Vec<_>>()
    };
    assert!(!a.visits.is_empty());
    assert_eq!(key(&a), key(&b));
}

#[test]
fn an_injected_conversation_waits_until_an_agent_answers_it() {
    let (org, live, clock) = live(quiet);
    let queue = org.queues[0].id.clone();
    live.set_agents(&queue, 0).unwrap();
    let since = start() - secs(25);
    let id = live.inject(&queue, MediaType::Voice, since).unwrap();

    clock.advance(MINUTE);
    let snapshot = live.snapshot();
    let voice = snapshot.queue(&queue).unwrap().media(MediaType::Voice);
    assert_eq!(voice.waiting.len(), 1);
    assert_eq!(voice.waiting[0].conversation_id, id);
    assert_eq!(voice.waiting[0].since, since, "backdated, and no patience");

    // An agent comes on queue: the phone rings, the agent answers, then handles it.
    live.set_agents(&queue, 1).unwrap();
    let ringing = live.snapshot();
    let q = ringing.queue(&queue).unwrap();
    assert_eq!((q.on_queue_agents, q.idle_agents), (1, 0));
    assert_eq!(q.media(MediaType::Voice).alerting, 1);
    assert!(q.media(MediaType::Voice).waiting.is_empty());

    clock.advance(Duration::from_secs(5));
    let talking = live.snapshot();
    assert_eq!(
        talking
            .queue(&queue)
            .unwrap()
            .media(MediaType::Voice)
            .interacting,
        1
    );
    assert!(visits_of(&talking, &id).is_empty(), "not ended yet");

    clock.advance(30 * MINUTE);
    let done = live.snapshot();
    let visit = visits_of(&done, &id);
    assert_eq!(visit.len(), 1);
    assert_eq!(visit[0].outcome, Outcome::Answered);
    assert_eq!(visit[0].entered, since);
    // Waited 25 s before the start, a minute after it, then rang for 1 to 4 s (sped up by 5).
    assert!(
        (85_000..=86_000).contains(&visit[0].wait_ms),
        "{}",
        visit[0].wait_ms
    );
    let q = done.queue(&queue).unwrap();
    assert_eq!((q.on_queue_agents, q.idle_agents), (1, 1));
}

#[test]
fn control_answers_and_abandons_end_waits_now() {
    let (org, live, clock) = live(quiet);
    let queue = org.queues[1].id.clone();
    live.set_agents(&queue, 0).unwrap();
    let a = live.inject(&queue, MediaType::Chat, start()).unwrap();
    let b = live.inject(&queue, MediaType::Chat, start()).unwrap();
    clock.advance(Duration::from_secs(42));
    live.abandon(&a).unwrap();
    let abandoned = live.snapshot();
    let visit = visits_of(&abandoned, &a);
    assert_eq!(visit.len(), 1);
    assert_eq!(
        (visit[0].outcome, visit[0].wait_ms),
        (Outcome::Abandoned, 42_000)
    );
    assert_eq!(
        live.abandon(&a),
        Err(LiveError::UnknownConversation(a.clone()))
    );

    clock.advance(Duration::from_secs(8));
    live.answer(&b).unwrap();
    assert_eq!(live.answer(&b), Err(LiveError::NotInQueue(b.clone())));
    assert_eq!(live.abandon(&b), Err(LiveError::NotInQueue(b.clone())));
    let answered = live.snapshot();
    assert!(
        visits_of(&answered, &b).is_empty(),
        "handled by a supervisor"
    );
    assert_eq!(
        answered
            .queue(&queue)
            .unwrap()
            .media(MediaType::Chat)
            .interacting,
        1
    );
    clock.advance(60 * MINUTE);
    let done = live.snapshot();
    let visit = visits_of(&done, &b);
    assert_eq!(
        (visit[0].outcome, visit[0].wait_ms),
        (Outcome::Answered, 50_000)
    );
}

#[test]
fn refusals_name_what_is_wrong() {
    let (org, live, _) = live(quiet);
    let queue = &org.queues[0].id;
    assert_eq!(
        live.inject("no-such-queue", MediaType::Voice, start()),
        Err(LiveError::UnknownQueue("no-such-queue".into()))
    );
    assert_eq!(
        live.set_agents("no-such-queue", 1),
        Err(LiveError::UnknownQueue("no-such-queue".into()))
    );
    let future = start() + secs(1);
    let err = live.inject(queue, MediaType::Voice, future).unwrap_err();
    assert_eq!(
        err,
        LiveError::InTheFuture {
            since: future,
            now: start()
        }
    );
    assert!(err.to_string().contains("after the live org's now"));
    assert_eq!(
        live.answer("nope"),
        Err(LiveError::UnknownConversation("nope".into()))
    );
}

#[test]
fn without_agents_nobody_is_answered_and_waits_grow() {
    let (org, live, clock) = live(|c| c.speed_up = 10.0);
    let queue = org.queues[0].id.clone();
    live.set_agents(&queue, 0).unwrap();
    let from = live.now();
    clock.advance(15 * MINUTE);
    let snapshot = live.snapshot();
    let q = snapshot.queue(&queue).unwrap();
    assert_eq!(q.on_queue_agents, 0);
    let mine = |v: &&Visit| v.queue_id == queue && v.entered >= from;
    let visits: Vec<&Visit> = snapshot.visits.iter().filter(mine).collect();
    assert!(!visits.is_empty());
    assert!(visits.iter().all(|v| v.outcome != Outcome::Answered));
    assert!(visits.iter().any(|v| v.outcome == Outcome::Abandoned));
    // Email and callbacks never abandon: they pile up, the oldest since the agents left.
    let email = &q.media(MediaType::Email).waiting;
    let voice = &q.media(MediaType::Voice).waiting;
    assert!(!email.is_empty() || !q.media(MediaType::Callback).waiting.is_empty());
    assert!(email.iter().all(|w| w.since >= from - secs(600)));
    // Voice callers give up: none waits much longer than their patience allows.
    assert!(voice.iter().all(|w| snapshot.as_of - secs(600) < w.since));
    // Another queue kept its agents and answers.
    let other = &org.queues[1].id;
    assert!(
        snapshot
            .visits
            .iter()
            .any(|v| v.queue_id == *other && v.outcome == Outcome::Answered)
    );
}

#[test]
fn fewer_agents_mean_longer_waits() {
    let mean_wait = |agents: u32| {
        let (org, live, clock) = live(|c| {
            c.agents_per_queue = agents;
            c.speed_up = 20.0;
        });
        clock.advance(30 * MINUTE);
        let snapshot = live.snapshot();
        assert_consistent(&org, &snapshot);
        let answered: Vec<u64> = snapshot
            .visits
            .iter()
            .filter(|v| v.outcome == Outcome::Answered && v.entered >= start())
            .map(|v| v.wait_ms)
            .collect();
        answered.iter().sum::<u64>() / u64::try_from(answered.len()).unwrap().max(1)
    };
    let (crowded, staffed) = (mean_wait(3), mean_wait(12));
    assert!(crowded > 2 * staffed, "{crowded} vs {staffed}");
}

#[test]
fn fewer_agents_send_busy_ones_off_queue_when_they_finish() {
    let (org, live, clock) = live(quiet);
    let queue = org.queues[2].id.clone();
    live.set_agents(&queue, 2).unwrap();
    let a = live.inject(&queue, MediaType::Voice, start()).unwrap();
    clock.advance(Duration::from_secs(10));
    live.tick();
    assert_eq!(
        live.snapshot()
            .queue(&queue)
            .unwrap()
            .media(MediaType::Voice)
            .interacting,
        1
    );
    live.set_agents(&queue, 0).unwrap();
    let q = live.snapshot();
    let q = q.queue(&queue).unwrap();
    assert_eq!((q.on_queue_agents, q.idle_agents), (0, 0));
    assert_eq!(q.media(MediaType::Voice).interacting, 1, "still handled");
    live.set_agents(&queue, 3).unwrap();
    assert_eq!(live.snapshot().queue(&queue).unwrap().on_queue_agents, 3);
    clock.advance(60 * MINUTE);
    let done = live.snapshot();
    assert_eq!(visits_of(&done, &a)[0].outcome, Outcome::Answered);
    let q = done.queue(&queue).unwrap();
    assert_eq!((q.on_queue_agents, q.idle_agents), (3, 3));
}

#[test]
fn pausing_the_autopilot_stops_arrivals_only() {
    let (_, live, clock) = live(|_| {});
    assert!(live.autopilot());
    live.pause_autopilot();
    assert!(!live.autopilot());
    let paused_at = live.now();
    let waiting_then: usize = live
        .snapshot()
        .queues
        .iter()
        .flat_map(|q| &q.media)
        .map(|m| m.waiting.len())
        .sum();
    clock.advance(60 * MINUTE);
    let snapshot = live.snapshot();
    assert!(!snapshot.autopilot);
    assert!(snapshot.visits.iter().all(|v| v.entered <= paused_at));
    let waiting_now: usize = snapshot
        .queues
        .iter()
        .flat_map(|q| &q.media)
        .map(|m| m.waiting.len())
        .sum();
    assert!(waiting_now <= waiting_then);

    live.resume_autopilot();
    clock.advance(10 * MINUTE);
    let resumed = live.snapshot();
    assert!(
        resumed
            .visits
            .iter()
            .any(|v| v.entered > paused_at + secs(3_600))
    );
}

#[test]
fn the_history_ends_where_the_live_org_begins() {
    let clock = ManualClock::new(start());
    let mut config = SimConfig {
        queues: 2,
        days: 2,
        visits_per_day: 300,
        end_date: Some(jiff::civil::date(2026, 6, 1)),
        ..SimConfig::default()
    };
    config.live.clock = LiveClock::Manual(clock.clone());
    let org = Org::generate_until(&config, start());
    assert!(org.conversations.iter().all(|c| c.end <= start()));
    assert!(
        org.conversations
            .iter()
            .any(|c| c.end > start() - secs(3_600))
    );
    let live = LiveOrg::new(&org, config.seed, &config.live, start());
    clock.advance(5 * MINUTE);
    let snapshot = live.snapshot();
    assert_eq!(snapshot.started_at, start());
    // Live conversations end after the start, so none is counted in both.
    assert!(!snapshot.visits.is_empty());
    assert!(snapshot.visits.iter().all(|v| {
        let c = &v.conversation_id;
        !org.conversations.iter().any(|h| h.id == *c)
    }));

    // Without a live org, a dataset ending on a past day keeps that whole day.
    config.live.enabled = false;
    let whole = Org::generate_until(&config, start());
    assert!(whole.conversations.len() > org.conversations.len());
}

#[test]
fn extreme_settings_neither_overflow_nor_stall() {
    let (_, slow, clock) = live(|c| {
        c.arrivals_per_hour = 1e-300;
        c.speed_up = 0.01;
    });
    clock.advance(Duration::from_hours(365 * 24));
    let snapshot = slow.snapshot();
    assert_eq!(snapshot.as_of, start() + secs(365 * 86_400));
    assert!(snapshot.visits.is_empty(), "nothing arrives at such a rate");
    assert!(
        LiveConfig {
            speed_up: 0.0,
            ..LiveConfig::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        LiveConfig {
            arrivals_per_hour: f64::NAN,
            ..LiveConfig::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        LiveConfig {
            tick: Duration::ZERO,
            ..LiveConfig::default()
        }
        .validate()
        .is_err()
    );
    assert!(LiveConfig::default().validate().is_ok());
}
