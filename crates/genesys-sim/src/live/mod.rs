//! The live org: conversations that keep arriving, waiting, being answered and abandoning in
//! real time, and the handle tests and scripted demos control it with.
//!
//! The engine (`engine.rs`) is a discrete-event simulation of every queue. [`LiveOrg`] wraps it
//! behind a lock with a [`LiveClock`]: every read and every control call first brings the org up
//! to the clock's now, and the server's background task does the same on every tick. Instants
//! are real wall-clock instants (clients compare `observationDate` with their own clock); the
//! speed-up only compresses the org's dynamics.

mod engine;
#[cfg(test)]
mod tests;

use std::{
    fmt,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use jiff::Timestamp;

use self::engine::{Engine, Refusal, Settings};
pub(crate) use self::engine::{Finished, Obs, QueueView};
use crate::org::{MediaType, Org, Visit};

/// How the live org behaves. [`LiveConfig::default`] is what `--demo` runs.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Whether the org runs live at all; without it the simulator serves its history only and the
    /// observations query sees an idle org.
    pub enabled: bool,
    /// How much faster than real time the org's dynamics run: arrival rates are multiplied by
    /// it, handle times, ringing, patience and flow timeouts divided by it. Instants stay real.
    pub speed_up: f64,
    /// Whether an autopilot generates traffic; without it only injected conversations arrive.
    pub autopilot: bool,
    /// Agents on queue in each queue when the live org starts (they serve every media type).
    pub agents_per_queue: u32,
    /// Conversations arriving per hour in a queue of average volume, before the speed-up; each
    /// queue scales it by its relative volume (0.6 to 1.5 for the named queues).
    pub arrivals_per_hour: f64,
    /// How often the server's background task advances the org (system clock only).
    pub tick: Duration,
    /// Where the live org reads the time.
    pub clock: LiveClock,
}

impl Default for LiveConfig {
    /// The demo's live org. With six agents and 55 arrivals an hour at a handle time of about
    /// five minutes, an average queue runs at about 80 % occupancy, so waits come and go; the
    /// busiest named queues (Sales, Support) run above capacity and breach 20 s targets, while the
    /// quietest idle. At five times real speed a queue sees an arrival every 7 to 20 seconds,
    /// answers within tens of seconds and loses impatient voice callers after about a minute, so
    /// waiting counts and longest waits change between two refreshes of a wallboard, and waits
    /// stay on the scale of a 20 s threshold.
    fn default() -> Self {
        LiveConfig {
            enabled: true,
            speed_up: 5.0,
            autopilot: true,
            agents_per_queue: 6,
            arrivals_per_hour: 55.0,
            tick: Duration::from_millis(250),
            clock: LiveClock::System,
        }
    }
}

impl LiveConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(self.speed_up.is_finite() && (0.01..=1_000.0).contains(&self.speed_up)) {
            return Err(format!(
                "live speed_up must be between 0.01 and 1000, got {}",
                self.speed_up
            ));
        }
        if !(self.arrivals_per_hour.is_finite()
            && (0.0..=100_000.0).contains(&self.arrivals_per_hour))
        {
            return Err(format!(
                "live arrivals_per_hour must be between 0 and 100000, got {}",
                self.arrivals_per_hour
            ));
        }
        if self.agents_per_queue > 10_000 {
            return Err(format!(
                "live agents_per_queue must be at most 10000, got {}",
                self.agents_per_queue
            ));
        }
        if self.tick < Duration::from_millis(10) {
            return Err(format!(
                "live tick must be at least 10 ms, got {} ms",
                self.tick.as_millis()
            ));
        }
        Ok(())
    }
}

/// Where the live org reads the time.
#[derive(Clone, Debug, Default)]
pub enum LiveClock {
    /// The system's wall clock; a background task ticks the org.
    #[default]
    System,
    /// A clock that moves only when told; nothing ticks in the background, and the org catches
    /// up with the clock on every read and control call (or on [`LiveOrg::tick`]).
    Manual(ManualClock),
}

impl LiveClock {
    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self {
            LiveClock::System => Timestamp::now(),
            LiveClock::Manual(clock) => clock.now(),
        }
    }
}

/// A clock for tests: it starts where it is told and moves only when told. Clones share the time.
#[derive(Clone)]
pub struct ManualClock {
    ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `start` (to the millisecond).
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            ms: Arc::new(AtomicI64::new(start.as_millisecond())),
        }
    }

    /// A clock showing the system's current time.
    pub fn starting_now() -> ManualClock {
        ManualClock::new(Timestamp::now())
    }

    /// The instant it shows.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.ms.load(Ordering::SeqCst)).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Moves it forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

/// Why a control call was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// No queue has this id.
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    /// No conversation of the live org is waiting, alerting or interacting with this id.
    #[error("unknown live conversation {0:?} (finished conversations cannot be changed)")]
    UnknownConversation(String),
    /// The conversation has been answered already.
    #[error("conversation {0:?} is no longer in queue")]
    NotInQueue(String),
    /// A conversation cannot start waiting after the live org's now.
    #[error("waiting since {since} is after the live org's now, {now}")]
    InTheFuture {
        /// The instant asked for.
        since: Timestamp,
        /// The live org's now.
        now: Timestamp,
    },
}

/// One conversation waiting in queue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveConversation {
    /// The conversation's id.
    pub conversation_id: String,
    /// When it started waiting (its `observationDate` in `oWaiting` details).
    pub since: Timestamp,
}

/// One queue's conversations of one media type at the snapshot's instant.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LiveMedia {
    /// The media type.
    pub media_type: MediaType,
    /// Conversations waiting for an agent, longest waiting first (`oWaiting`).
    pub waiting: Vec<LiveConversation>,
    /// Conversations offered to an agent who has not accepted yet (`oAlerting`).
    pub alerting: u32,
    /// Conversations being handled by an agent (`oInteracting`).
    pub interacting: u32,
}

/// One queue at the snapshot's instant.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LiveQueue {
    /// The queue's id.
    pub queue_id: String,
    /// Agents on queue in any routing status (`oOnQueueUsers` summed over qualifiers). Agents
    /// serve every media type of their queue, so this is also each media type's figure.
    pub on_queue_agents: u32,
    /// Of those, agents with nothing offered or in hand (qualifier `IDLE`).
    pub idle_agents: u32,
    /// Every media type, in [`MediaType::ALL`] order.
    pub media: Vec<LiveMedia>,
}

/// A consistent picture of the live org at one instant.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LiveSnapshot {
    /// The instant it shows.
    pub as_of: Timestamp,
    /// Where the generated history ends and the live org begins.
    pub started_at: Timestamp,
    /// Whether the autopilot generates traffic.
    pub autopilot: bool,
    /// Every queue, in [`Org::queues`] order.
    pub queues: Vec<LiveQueue>,
    /// The queue visits of every live conversation that has ended, in the order they ended.
    /// They are what the aggregates, the details query and details jobs serve besides the
    /// history; each ended by `as_of`. Conversations of the warm-up that ended before
    /// `started_at` are not kept, while those it left running may have entered before it.
    pub visits: Vec<Visit>,
}

impl LiveSnapshot {
    /// The queue with this id.
    pub fn queue(&self, queue_id: &str) -> Option<&LiveQueue> {
        self.queues.iter().find(|q| q.queue_id == queue_id)
    }
}

impl LiveQueue {
    /// This queue's conversations of one media type.
    pub fn media(&self, media: MediaType) -> &LiveMedia {
        &self.media[media.index()]
    }
}

#[derive(Debug)]
struct Shared {
    clock: LiveClock,
    started_at: Timestamp,
    tick: Duration,
    engine: Mutex<Engine>,
}

/// The handle on a running simulator's live org, from [`crate::SimServer::live`]. Clones share
/// the org.
///
/// Every call first brings the org up to its clock's now, so what it reports is the state at
/// that instant.
#[derive(Clone, Debug)]
pub struct LiveOrg {
    shared: Arc<Shared>,
}

impl LiveOrg {
    pub(crate) fn new(org: &Org, seed: u64, config: &LiveConfig, started_at: Timestamp) -> LiveOrg {
        let settings = Settings {
            seed,
            speed_up: config.speed_up,
            arrivals_per_hour: config.arrivals_per_hour,
            agents_per_queue: config.agents_per_queue,
            autopilot: config.autopilot,
        };
        let engine = Engine::new(org, settings, started_at.as_millisecond());
        LiveOrg {
            shared: Arc::new(Shared {
                clock: config.clock.clone(),
                started_at,
                tick: config.tick,
                engine: Mutex::new(engine),
            }),
        }
    }

    /// The engine, brought up to the clock's now.
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        let mut engine = self
            .shared
            .engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        engine.advance_to(self.shared.clock.now().as_millisecond());
        engine
    }

    pub(crate) fn ticks_in_background(&self) -> Option<Duration> {
        matches!(self.shared.clock, LiveClock::System).then_some(self.shared.tick)
    }

    /// Every finished live conversation, up to now.
    pub(crate) fn finished(&self) -> Arc<Vec<Arc<Finished>>> {
        self.engine().finished()
    }

    /// The live org's now: its clock's instant, or the last instant it reached if the clock went
    /// back.
    pub fn now(&self) -> Timestamp {
        ts(self.engine().now())
    }

    /// Where the generated history ends and the live org begins.
    pub fn started_at(&self) -> Timestamp {
        self.shared.started_at
    }

    /// Brings the org up to its clock's now, as the background task does on every tick.
    pub fn tick(&self) {
        drop(self.engine());
    }

    /// Starts a conversation waiting in a queue since `since` (at most now, and earlier to make
    /// it look as if it had waited). It never abandons or flows out on its own: agents answer
    /// it in turn, or a call to [`LiveOrg::answer`] or [`LiveOrg::abandon`] ends its wait.
    /// Returns the conversation's id.
    pub fn inject(
        &self,
        queue_id: &str,
        media: MediaType,
        since: Timestamp,
    ) -> Result<String, LiveError> {
        let mut engine = self.engine();
        let queue = engine
            .queue_index(queue_id)
            .ok_or_else(|| LiveError::UnknownQueue(queue_id.to_owned()))?;
        let now = engine.now();
        if since.as_millisecond() > now {
            return Err(LiveError::InTheFuture {
                since,
                now: ts(now),
            });
        }
        Ok(engine.inject(queue, media, since.as_millisecond()))
    }

    /// Answers a waiting (or alerting) conversation now, by an idle agent of its queue if there
    /// is one, else by a supervisor. Its visit ends answered; the conversation ends, and joins
    /// the finished visits, when its handling does.
    pub fn answer(&self, conversation_id: &str) -> Result<(), LiveError> {
        self.engine()
            .answer(conversation_id)
            .map_err(|r| refusal(r, conversation_id))
    }

    /// The customer of a waiting (or alerting) conversation hangs up now; it joins the finished
    /// visits at once.
    pub fn abandon(&self, conversation_id: &str) -> Result<(), LiveError> {
        self.engine()
            .abandon(conversation_id)
            .map_err(|r| refusal(r, conversation_id))
    }

    /// Sets how many agents are on queue from now. Idle agents leave first; busy agents go off
    /// queue at once and leave when their interaction ends. Zero leaves the queue unanswered.
    pub fn set_agents(&self, queue_id: &str, agents: u32) -> Result<(), LiveError> {
        let mut engine = self.engine();
        let queue = engine
            .queue_index(queue_id)
            .ok_or_else(|| LiveError::UnknownQueue(queue_id.to_owned()))?;
        engine.set_agents(queue, agents);
        Ok(())
    }

    /// Stops the autopilot: no new conversations arrive, those in queue carry on.
    pub fn pause_autopilot(&self) {
        self.engine().pause();
    }

    /// Restarts the autopilot from now.
    pub fn resume_autopilot(&self) {
        self.engine().resume();
    }

    /// Whether the autopilot generates traffic.
    pub fn autopilot(&self) -> bool {
        self.engine().autopilot()
    }

    /// The whole live state at one instant, read under one lock.
    pub fn snapshot(&self) -> LiveSnapshot {
        let engine = self.engine();
        let all: Vec<usize> = (0..engine.queue_count()).collect();
        let views = engine.views(&all);
        let queues = views
            .into_iter()
            .enumerate()
            .map(|(q, view)| LiveQueue {
                queue_id: engine.queue_id(q).to_owned(),
                on_queue_agents: view.idle + view.busy,
                idle_agents: view.idle,
                media: MediaType::ALL
                    .into_iter()
                    .zip(view.media)
                    .map(|(media_type, lists)| LiveMedia {
                        media_type,
                        waiting: lists
                            .waiting
                            .into_iter()
                            .map(|o| LiveConversation {
                                conversation_id: o.conversation_id,
                                since: ts(o.since),
                            })
                            .collect(),
                        alerting: u32::try_from(lists.alerting.len()).unwrap_or(u32::MAX),
                        interacting: u32::try_from(lists.interacting.len()).unwrap_or(u32::MAX),
                    })
                    .collect(),
            })
            .collect();
        let visits = engine
            .finished()
            .iter()
            .flat_map(|f| f.visits.iter().cloned())
            .collect();
        LiveSnapshot {
            as_of: ts(engine.now()),
            started_at: self.shared.started_at,
            autopilot: engine.autopilot(),
            queues,
            visits,
        }
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn refusal(r: Refusal, id: &str) -> LiveError {
    match r {
        Refusal::UnknownConversation => LiveError::UnknownConversation(id.to_owned()),
        Refusal::NotInQueue => LiveError::NotInQueue(id.to_owned()),
    }
}
