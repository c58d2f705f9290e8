//! The live path against the simulator's live org on a manual clock with no autopilot: the
//! client's live state equals one computed from the org's own snapshot at the same instant,
//! one request goes out per batch of queues, and throttling and failures are retried.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use genesys_adapter::{GenesysConfig, UpstreamStats};
use genesys_sim::{LiveClock, LiveSnapshot, ManualClock, MediaType as Sim, SimConfig, SimServer};
use jiff::{SignedDuration, Timestamp};
use sla_core::ports::LiveSource as _;
use sla_core::{LiveQuery, LiveState, MediaState, MediaType, QueueId};

use crate::support::{SECRET, SharedTime, checked_instant_client, start, ts};

/// The most waiting conversations Genesys lists per queue and media type (API notes §9).
const LISTED: usize = 100;

/// A small org whose history ends at `clock`'s instant, where its live org begins; only what a
/// test injects happens in it.
fn live_config(clock: &ManualClock) -> SimConfig {
    let mut config = SimConfig {
        seed: 11,
        queues: 5,
        days: 1,
        visits_per_day: 40,
        end_date: None,
        client_secret: SECRET.to_owned(),
        ..SimConfig::default()
    };
    config.live.clock = LiveClock::Manual(clock.clone());
    config.live.autopilot = false;
    config
}

async fn live_sim(config: SimConfig) -> Arc<SimServer> {
    let sim = start(config).await;
    assert!(!sim.live().unwrap().autopilot());
    sim
}

fn queue_ids(sim: &SimServer) -> Vec<String> {
    sim.org().queues.iter().map(|q| q.id.clone()).collect()
}

fn query_of(queues: &[String], media: &[MediaType]) -> LiveQuery {
    LiveQuery {
        queues: queues.iter().map(|q| QueueId::new(q.clone())).collect(),
        media: media.to_vec(),
    }
}

fn core_media(media: Sim) -> MediaType {
    media.as_str().parse().unwrap()
}

/// What the live org's own snapshot says the query should observe, computed without the
/// client: every media type the query lets through in each of its queues, the waiting
/// conversations' instants (only the longest waiting and the newest halves of a list past
/// Genesys's cap), and every agent on queue.
fn from_snapshot(snapshot: &LiveSnapshot, query: &LiveQuery) -> LiveState {
    let mut state = LiveState::default();
    for queue in &query.queues {
        let live = snapshot.queue(queue.as_str()).expect("a queue of the org");
        state
            .on_queue_agents
            .insert(queue.clone(), u64::from(live.on_queue_agents));
        for media in &live.media {
            let core = core_media(media.media_type);
            if !query.media.is_empty() && !query.media.contains(&core) {
                continue;
            }
            let mut since: Vec<Timestamp> = media.waiting.iter().map(|c| c.since).collect();
            since.sort_unstable();
            let truncated = since.len() > LISTED;
            if truncated {
                since.drain(LISTED / 2..since.len() - LISTED / 2);
            }
            state.media.insert(
                (queue.clone(), core),
                MediaState {
                    waiting: u64::try_from(media.waiting.len()).unwrap(),
                    waiting_since: since,
                    truncated,
                    interacting: u64::from(media.interacting),
                },
            );
        }
    }
    state
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

/// Waits, rings, answers and abandons across the org's queues, so that every figure the live
/// state holds is non-zero somewhere.
fn busy_floor(sim: &SimServer, clock: &ManualClock) {
    let live = sim.live().unwrap();
    let q = queue_ids(sim);
    live.set_agents(&q[0], 0).unwrap();
    live.set_agents(&q[1], 1).unwrap();
    live.set_agents(&q[2], 3).unwrap();
    let now = live.now();
    // Queue 0 has nobody: everything waits.
    let answered = live.inject(&q[0], Sim::Voice, now - secs(120)).unwrap();
    live.inject(&q[0], Sim::Voice, now - secs(90)).unwrap();
    let abandoned = live.inject(&q[0], Sim::Voice, now - secs(45)).unwrap();
    live.inject(&q[0], Sim::Voice, now - secs(5)).unwrap();
    live.inject(&q[0], Sim::Chat, now - secs(200)).unwrap();
    live.inject(&q[0], Sim::Email, now - secs(3_600)).unwrap();
    // Queue 1's one agent takes the first and leaves the second waiting; queue 2's three take
    // both of theirs.
    live.inject(&q[1], Sim::Voice, now - secs(30)).unwrap();
    live.inject(&q[1], Sim::Voice, now - secs(20)).unwrap();
    live.inject(&q[2], Sim::Message, now - secs(10)).unwrap();
    live.inject(&q[2], Sim::Voice, now).unwrap();
    // Rung long enough, offered conversations are answered.
    clock.advance(Duration::from_secs(15));
    live.answer(&answered).unwrap();
    live.abandon(&abandoned).unwrap();
    live.inject(&q[3], Sim::Callback, live.now() - secs(600))
        .unwrap();
}

/// A live org on a manual clock at 10:00 on 1 June 2026, set up as [`busy_floor`] describes.
async fn busy_sim() -> (ManualClock, Arc<SimServer>) {
    let clock = ManualClock::new(ts("2026-06-01T10:00:00Z"));
    let sim = live_sim(live_config(&clock)).await;
    busy_floor(&sim, &clock);
    (clock, sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_state_is_the_live_orgs_own_at_the_same_instant() {
    let (clock, sim) = busy_sim().await;
    let (client, http, _) = checked_instant_client(&sim, |_| {});
    let queues = queue_ids(&sim);
    let query = query_of(&queues, &[]);

    let state = client.observe(&query).await.unwrap();
    let snapshot = sim.live().unwrap().snapshot();
    assert_eq!(state, from_snapshot(&snapshot, &query));
    assert_eq!(*http.observations_checked.lock().unwrap(), 1);

    // The scenario shows what it set up: queue 0's two voice conversations still waiting,
    // longest first from 90 s before the start, and the one a supervisor answered.
    let now = snapshot.as_of;
    let voice = &state.media[&(QueueId::new(queues[0].clone()), MediaType::Voice)];
    assert_eq!(voice.waiting, 2);
    assert_eq!(
        voice.waiting_since,
        [now - secs(15) - secs(90), now - secs(15) - secs(5)]
    );
    assert_eq!(voice.interacting, 1);
    assert_eq!(state.on_queue_agents[&QueueId::new(queues[0].clone())], 0);
    assert_eq!(state.on_queue_agents[&QueueId::new(queues[2].clone())], 3);
    let handled: u64 = state.media.values().map(|m| m.interacting).sum();
    assert!(handled >= 4, "{state:?}");

    // Time moves on and someone new calls queue 0: the states still agree.
    clock.advance(Duration::from_secs(40));
    let live = sim.live().unwrap();
    live.inject(&queues[0], Sim::Voice, live.now()).unwrap();
    let later = client.observe(&query).await.unwrap();
    assert_eq!(later, from_snapshot(&live.snapshot(), &query));
    let voice = &later.media[&(QueueId::new(queues[0].clone()), MediaType::Voice)];
    assert_eq!(voice.waiting, 3);
    assert_eq!(voice.waiting_since.last(), Some(&(now + secs(40))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_goes_out_per_batch_of_queues() {
    let (_clock, sim) = busy_sim().await;
    let queues = queue_ids(&sim);
    // Every queue, one of them twice: five distinct queues.
    let mut asked = queues.clone();
    asked.push(queues[1].clone());
    let query = query_of(&asked, &[]);
    let expected = from_snapshot(&sim.live().unwrap().snapshot(), &query);
    for (per_request, batches) in [(1, 5), (2, 3), (3, 2), (5, 1), (100, 1)] {
        let (client, http, _) =
            checked_instant_client(&sim, |c| c.queues_per_request = per_request);
        let before = sim.observation_requests();
        let state = client.observe(&query).await.unwrap();
        assert_eq!(
            sim.observation_requests() - before,
            batches,
            "{per_request} queues per request"
        );
        assert_eq!(*http.observations_checked.lock().unwrap() as u64, batches);
        assert_eq!(state, expected, "{per_request} queues per request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_filter_observes_only_those_media_types() {
    let (_clock, sim) = busy_sim().await;
    let queues = queue_ids(&sim);
    let query = query_of(&queues[..3], &[MediaType::Voice, MediaType::Chat]);
    let (client, _, _) = checked_instant_client(&sim, |c| c.queues_per_request = 2);
    let state = client.observe(&query).await.unwrap();
    assert_eq!(
        state,
        from_snapshot(&sim.live().unwrap().snapshot(), &query)
    );
    let seen: BTreeMap<MediaType, usize> =
        state
            .media
            .keys()
            .fold(BTreeMap::new(), |mut seen, (_, m)| {
                *seen.entry(*m).or_default() += 1;
                seen
            });
    assert_eq!(
        seen,
        BTreeMap::from([(MediaType::Voice, 3), (MediaType::Chat, 3)])
    );
    assert_eq!(state.on_queue_agents.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_queue_is_truncated_and_its_longest_wait_stays_exact() {
    let clock = ManualClock::new(ts("2026-06-01T10:00:00Z"));
    let sim = live_sim(live_config(&clock)).await;
    let live = sim.live().unwrap();
    let queues = queue_ids(&sim);
    live.set_agents(&queues[3], 0).unwrap();
    let now = live.now();
    for i in 0..130 {
        live.inject(&queues[3], Sim::Voice, now - secs(1_000 - i))
            .unwrap();
    }
    let (client, _, _) = checked_instant_client(&sim, |_| {});
    let query = query_of(&queues[3..4], &[MediaType::Voice]);
    let state = client.observe(&query).await.unwrap();
    assert_eq!(state, from_snapshot(&live.snapshot(), &query));
    let voice = &state.media[&(QueueId::new(queues[3].clone()), MediaType::Voice)];
    assert_eq!((voice.waiting, voice.truncated), (130, true));
    assert_eq!(voice.waiting_since.len(), LISTED);
    assert_eq!(voice.waiting_since[0], now - secs(1_000));
    assert_eq!(voice.waiting_since[LISTED - 1], now - secs(1_000 - 129));
}

/// Observes every queue of the busy floor, one queue a request, through a client `tweak`ed for
/// the faults at hand, and asserts the state is the live org's own despite them. Returns what
/// went upstream and the waits the client asked for, for the caller's fault-specific checks.
async fn observe_one_queue_per_request(
    sim: &Arc<SimServer>,
    clock: &ManualClock,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (UpstreamStats, Arc<SharedTime>) {
    busy_floor(sim, clock);
    let (client, _, time) = checked_instant_client(sim, |c| {
        c.queues_per_request = 1;
        tweak(c);
    });
    let query = query_of(&queue_ids(sim), &[]);
    let state = client.observe(&query).await.unwrap();
    assert_eq!(
        state,
        from_snapshot(&sim.live().unwrap().snapshot(), &query)
    );
    (client.upstream_stats(), time)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_observations_are_retried_into_the_same_state() {
    // Two requests a minute per token, and a third of the rest refused at random: five batches
    // meet both the simulator's Retry-After and its minute running out.
    let clock = ManualClock::new(ts("2026-06-01T10:00:00Z"));
    let sim = live_sim(SimConfig {
        rate_limit_per_min: Some(2),
        throttle_rate: 0.3,
        retry_after_s: 2,
        ..live_config(&clock)
    })
    .await;
    let (upstream, time) = observe_one_queue_per_request(&sim, &clock, |c| {
        c.max_attempts = 30;
        c.max_retry_wait = Duration::from_hours(1);
    })
    .await;
    let throttled = upstream.requests_by_status[&429];
    assert!(throttled >= 3, "{upstream:?}");
    assert_eq!(
        upstream.requests_by_status[&200],
        5 + 1,
        "five batches and a token"
    );
    assert_eq!(upstream.retries, throttled);
    assert_eq!(sim.observation_requests(), 5 + throttled);
    assert!(
        time.waits().iter().all(|w| *w <= Duration::from_mins(1)),
        "{:?}",
        time.waits()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_observations_are_retried_into_the_same_state() {
    let clock = ManualClock::new(ts("2026-06-01T10:00:00Z"));
    let sim = live_sim(SimConfig {
        fail_rate: 0.5,
        ..live_config(&clock)
    })
    .await;
    let (upstream, time) =
        observe_one_queue_per_request(&sim, &clock, |c| c.max_attempts = 20).await;
    let failures: u64 = [500, 503]
        .iter()
        .filter_map(|s| upstream.requests_by_status.get(s))
        .sum();
    assert!(failures > 0, "{upstream:?}");
    assert_eq!(upstream.retries, failures);
    assert_eq!(sim.observation_requests(), 5 + failures);
    assert_eq!(time.waits().len(), usize::try_from(failures).unwrap());
}
