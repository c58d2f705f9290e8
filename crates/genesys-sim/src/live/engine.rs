//! The live engine: a discrete-event simulation of every queue, advanced to "now" on each tick.
//!
//! Every event (an arrival, a customer running out of patience, a flow timing out, an agent
//! accepting an alert, an interaction ending) has an exact instant, and [`Engine::advance_to`]
//! applies them in instant order. So what happens does not depend on how often the engine is
//! ticked, only on the seed, the settings and the control calls made at given instants.
//! Instants are whole milliseconds since the Unix epoch, as in the generated history.

use std::{
    cmp::Reverse,
    collections::{BTreeSet, BinaryHeap, HashMap},
    sync::Arc,
};

use jiff::Timestamp;

use crate::org::{
    Conversation, MEDIA_MIX, MediaType, Org, Outcome, Visit, exp_sample, media_model, mix,
    pick_weighted, uuid_from_bits,
};

/// Org time the autopilot runs before the live start, so that a demo opens on busy queues.
const WARM_UP_MS: f64 = 20.0 * 60_000.0;
/// Shape of the Weibull patience: above 1, a customer is likelier to hang up the longer the wait.
const PATIENCE_SHAPE: f64 = 1.5;
/// Γ(1 + 1/1.5): the Weibull scale for a given mean patience is the mean divided by this.
const PATIENCE_GAMMA: f64 = 0.902_745_292_950_934;
/// Salt of the live org's random stream and conversation ids, apart from the history's.
const LIVE_SALT: u64 = 0x4C49_5645;

/// What the engine needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) seed: u64,
    pub(crate) speed_up: f64,
    pub(crate) arrivals_per_hour: f64,
    pub(crate) agents_per_queue: u32,
    pub(crate) autopilot: bool,
}

/// A live conversation that has ended: its conversation and its one queue visit.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) conversation: Conversation,
    pub(crate) visits: Vec<Visit>,
}

/// Why a control call was refused, before it is given a public shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownConversation,
    NotInQueue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    Arrival { queue: usize, epoch: u64 },
    Patience(u64),
    FlowOut(u64),
    AlertEnd(u64),
    HandleEnd(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: i64,
    seq: u64,
    kind: EventKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConvState {
    Waiting,
    /// Offered to an agent, whose phone (or screen) is ringing.
    Alerting {
        seat: usize,
        since: i64,
    },
    /// Answered and being handled; `seat` is `None` when answered by a control call with no agent free.
    Interacting {
        seat: Option<usize>,
        agent: usize,
        answered: i64,
    },
}

#[derive(Debug)]
struct Conv {
    id: String,
    bits: u128,
    queue: usize,
    media: MediaType,
    entered: i64,
    state: ConvState,
}

#[derive(Clone, Copy, Debug)]
struct Seat {
    /// Stable within its queue; names the agent sitting there.
    id: usize,
    busy: Option<u64>,
    /// Off queue seats finish what they handle, then leave.
    on_queue: bool,
    idle_since: i64,
}

#[derive(Debug, Default)]
struct QueueLive {
    /// Relative volume of the queue, as in the history.
    volume: f64,
    seats: Vec<Seat>,
    /// Waiting conversations by (entered, key): the front is the longest waiting.
    waiting: BTreeSet<(i64, u64)>,
}

/// One conversation as an observation shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Obs {
    /// When it started waiting, alerting or interacting.
    pub(crate) since: i64,
    pub(crate) key: u64,
    pub(crate) conversation_id: String,
    pub(crate) bits: u128,
    pub(crate) agent: Option<usize>,
}

/// The conversations of one queue and media type, each list ordered by `since`.
#[derive(Clone, Debug, Default)]
pub(crate) struct MediaView {
    pub(crate) waiting: Vec<Obs>,
    pub(crate) alerting: Vec<Obs>,
    pub(crate) interacting: Vec<Obs>,
}

/// One queue now: its agents by routing status and its conversations per media type.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueueView {
    pub(crate) idle: u32,
    pub(crate) busy: u32,
    pub(crate) media: [MediaView; 5],
}

/// The live org's state.
#[derive(Debug)]
pub(crate) struct Engine {
    settings: Settings,
    agents_len: usize,
    queue_ids: Vec<String>,
    queues: Vec<QueueLive>,
    convs: HashMap<u64, Conv>,
    ids: HashMap<String, u64>,
    events: BinaryHeap<Reverse<Event>>,
    now: i64,
    /// Conversations that end before this instant (during the warm-up) are not kept.
    log_from: i64,
    autopilot: bool,
    /// Bumped on every pause and resume, so arrivals scheduled before are ignored.
    epoch: u64,
    next_key: u64,
    next_event: u64,
    rng: fastrand::Rng,
    finished: Arc<Vec<Arc<Finished>>>,
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "durations are far below i64::MAX milliseconds"
)]
fn round_ms(x: f64) -> i64 {
    x.round() as i64
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Engine {
    /// A live org over `org`'s queues starting at `start`; with the autopilot on, it has already
    /// run for a while, and only conversations ending from `start` on are kept.
    pub(crate) fn new(org: &Org, settings: Settings, start: i64) -> Engine {
        let queues = org
            .queues
            .iter()
            .map(|q| QueueLive {
                volume: q.volume,
                ..QueueLive::default()
            })
            .collect();
        let warm_up = if settings.autopilot {
            round_ms(WARM_UP_MS / settings.speed_up)
        } else {
            0
        };
        let mut engine = Engine {
            settings,
            agents_len: org.agents.len().max(1),
            queue_ids: org.queues.iter().map(|q| q.id.clone()).collect(),
            queues,
            convs: HashMap::new(),
            ids: HashMap::new(),
            events: BinaryHeap::new(),
            now: start - warm_up,
            log_from: start,
            autopilot: false,
            epoch: 0,
            next_key: 0,
            next_event: 0,
            rng: fastrand::Rng::with_seed(mix(settings.seed, LIVE_SALT)),
            finished: Arc::new(Vec::new()),
        };
        for q in 0..engine.queues.len() {
            engine.set_agents(q, settings.agents_per_queue);
        }
        if settings.autopilot {
            engine.resume();
        }
        engine.advance_to(start);
        engine
    }

    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    pub(crate) fn autopilot(&self) -> bool {
        self.autopilot
    }

    pub(crate) fn queue_count(&self) -> usize {
        self.queues.len()
    }

    pub(crate) fn queue_id(&self, queue: usize) -> &str {
        &self.queue_ids[queue]
    }

    pub(crate) fn queue_index(&self, queue_id: &str) -> Option<usize> {
        self.queue_ids.iter().position(|q| q == queue_id)
    }

    /// Every finished live conversation, in the order they ended; cheap to clone.
    pub(crate) fn finished(&self) -> Arc<Vec<Arc<Finished>>> {
        Arc::clone(&self.finished)
    }

    /// Applies every event up to `t` in order; time never goes back.
    pub(crate) fn advance_to(&mut self, t: i64) {
        while let Some(Reverse(event)) = self.events.peek().copied() {
            if event.at > t {
                break;
            }
            self.events.pop();
            self.now = self.now.max(event.at);
            self.handle(event);
        }
        self.now = self.now.max(t);
    }

    fn schedule(&mut self, at: i64, kind: EventKind) {
        self.next_event += 1;
        self.events.push(Reverse(Event {
            at,
            seq: self.next_event,
            kind,
        }));
    }

    /// A duration of the org at speed 1, compressed by the speed-up, at least 1 ms.
    fn scaled(&self, ms: f64) -> i64 {
        round_ms(ms / self.settings.speed_up).max(1)
    }

    fn handle(&mut self, event: Event) {
        let at = event.at;
        match event.kind {
            EventKind::Arrival { queue, epoch } => {
                if self.autopilot && epoch == self.epoch {
                    self.arrive(queue, at);
                    self.schedule_arrival(queue, at);
                }
            }
            EventKind::Patience(key) => {
                if self.state(key) == Some(ConvState::Waiting) {
                    self.leave_waiting(key);
                    self.finish(key, Outcome::Abandoned, at, 0, 0);
                }
            }
            EventKind::FlowOut(key) => {
                if self.state(key) == Some(ConvState::Waiting) {
                    self.leave_waiting(key);
                    self.finish(key, Outcome::FlowOut, at, 0, 0);
                }
            }
            EventKind::AlertEnd(key) => {
                if let Some(ConvState::Alerting { seat, .. }) = self.state(key) {
                    self.start_interaction(key, Some(seat), at);
                }
            }
            EventKind::HandleEnd(key) => {
                if let Some(ConvState::Interacting {
                    seat,
                    agent,
                    answered,
                }) = self.state(key)
                {
                    let queue = self.convs[&key].queue;
                    let handle = at - answered;
                    self.finish(key, Outcome::Answered, answered, agent, handle);
                    if let Some(seat) = seat {
                        self.free_seat(queue, seat, at);
                    }
                    self.dispatch(queue, at);
                }
            }
        }
    }

    fn state(&self, key: u64) -> Option<ConvState> {
        self.convs.get(&key).map(|c| c.state)
    }

    fn schedule_arrival(&mut self, queue: usize, after: i64) {
        let per_hour =
            self.settings.arrivals_per_hour * self.queues[queue].volume * self.settings.speed_up;
        if per_hour <= 0.0 || !per_hour.is_finite() {
            return;
        }
        let gap = round_ms(exp_sample(&mut self.rng, 3_600_000.0 / per_hour)).max(1);
        let epoch = self.epoch;
        self.schedule(
            after.saturating_add(gap),
            EventKind::Arrival { queue, epoch },
        );
    }

    /// A new conversation from the autopilot: its media type, patience and flow timeout follow
    /// the history's models, compressed by the speed-up.
    fn arrive(&mut self, queue: usize, at: i64) {
        let media = MediaType::ALL[pick_weighted(&mut self.rng, &MEDIA_MIX)];
        let model = media_model(media);
        let patience = model.patience_s.map(|mean| {
            if self.rng.f64() < 0.02 {
                // A few customers hang up almost at once: short abandons.
                500.0 + self.rng.f64() * 9_500.0
            } else {
                // Weibull with shape 1.5: hanging up grows likelier as the wait grows.
                let scale = mean * 1000.0 / PATIENCE_GAMMA;
                scale * (-(1.0 - self.rng.f64()).ln()).powf(1.0 / PATIENCE_SHAPE)
            }
        });
        let flow_out = (self.rng.f64() < model.flow_out)
            .then(|| (10_000.0 + self.rng.f64() * 290_000.0) * model.wait_scale.sqrt());
        let key = self.enqueue(queue, media, at);
        if let Some(p) = patience {
            let when = at.saturating_add(self.scaled(p));
            self.schedule(when, EventKind::Patience(key));
        }
        if let Some(f) = flow_out {
            let when = at.saturating_add(self.scaled(f));
            self.schedule(when, EventKind::FlowOut(key));
        }
        self.dispatch(queue, at);
    }

    fn enqueue(&mut self, queue: usize, media: MediaType, entered: i64) -> u64 {
        self.next_key += 1;
        let key = self.next_key;
        let salt = mix(self.settings.seed, LIVE_SALT);
        let bits = (u128::from(mix(salt, key)) << 64) | u128::from(mix(key, salt));
        let id = uuid_from_bits(bits).to_string();
        self.ids.insert(id.clone(), key);
        self.convs.insert(
            key,
            Conv {
                id,
                bits,
                queue,
                media,
                entered,
                state: ConvState::Waiting,
            },
        );
        self.queues[queue].waiting.insert((entered, key));
        key
    }

    fn leave_waiting(&mut self, key: u64) {
        if let Some(c) = self.convs.get(&key) {
            self.queues[c.queue].waiting.remove(&(c.entered, key));
        }
    }

    /// The agent sitting at a seat: each queue has its own block of the org's agents.
    fn agent_of(&self, queue: usize, seat: usize) -> usize {
        let per_queue = usize::try_from(self.settings.agents_per_queue).unwrap_or(0);
        (queue * per_queue + seat) % self.agents_len
    }

    /// Offers the longest-waiting conversations to the longest-idle agents while both exist.
    fn dispatch(&mut self, queue: usize, at: i64) {
        loop {
            let q = &self.queues[queue];
            let Some(&(entered, key)) = q.waiting.first() else {
                return;
            };
            let Some(pos) = longest_idle(&q.seats) else {
                return;
            };
            self.queues[queue].waiting.remove(&(entered, key));
            let seat = &mut self.queues[queue].seats[pos];
            seat.busy = Some(key);
            let seat_id = seat.id;
            let ring = 1_000.0 + self.rng.f64() * 3_000.0;
            let answer_at = at.saturating_add(self.scaled(ring));
            if let Some(c) = self.convs.get_mut(&key) {
                c.state = ConvState::Alerting {
                    seat: seat_id,
                    since: at,
                };
            }
            self.schedule(answer_at, EventKind::AlertEnd(key));
        }
    }

    /// Answers a conversation at `at` and schedules the end of its handling.
    fn start_interaction(&mut self, key: u64, seat: Option<usize>, at: i64) {
        let Some(c) = self.convs.get(&key) else {
            return;
        };
        let (queue, media) = (c.queue, c.media);
        let agent = match seat {
            Some(s) => self.agent_of(queue, s),
            // A supervisor steps in: an agent outside the queue's own block.
            None => self.agents_len - 1 - queue % self.agents_len,
        };
        let model = media_model(media);
        let handle = 20_000.0 + exp_sample(&mut self.rng, model.handle_s * 1000.0);
        let end = at.saturating_add(self.scaled(handle));
        if let Some(c) = self.convs.get_mut(&key) {
            c.state = ConvState::Interacting {
                seat,
                agent,
                answered: at,
            };
        }
        self.schedule(end, EventKind::HandleEnd(key));
    }

    fn free_seat(&mut self, queue: usize, seat_id: usize, at: i64) {
        let seats = &mut self.queues[queue].seats;
        if let Some(pos) = seats.iter().position(|s| s.id == seat_id) {
            if seats[pos].on_queue {
                seats[pos].busy = None;
                seats[pos].idle_since = at;
            } else {
                seats.remove(pos);
            }
        }
    }

    /// Ends a conversation whose queue visit had `outcome` at `outcome_at`, and keeps it unless
    /// it ended during the warm-up.
    fn finish(&mut self, key: u64, outcome: Outcome, outcome_at: i64, agent: usize, handle: i64) {
        let Some(c) = self.convs.remove(&key) else {
            return;
        };
        self.ids.remove(&c.id);
        let end = outcome_at.saturating_add(handle);
        if end < self.log_from {
            return;
        }
        let visit = Visit {
            conversation_id: c.id.clone(),
            queue_id: self.queue_ids[c.queue].clone(),
            media_type: c.media,
            entered: ts(c.entered),
            wait_ms: u64::try_from(outcome_at - c.entered).unwrap_or(0),
            outcome,
            outcome_at: ts(outcome_at),
            queue_idx: c.queue,
            agent,
            handle_ms: handle,
        };
        let conversation = Conversation {
            id: c.id,
            start: ts(c.entered),
            end: ts(end),
            visits: 0..1,
            id_bits: c.bits,
        };
        Arc::make_mut(&mut self.finished).push(Arc::new(Finished {
            conversation,
            visits: vec![visit],
        }));
    }

    /// Stops generating traffic; conversations already in queue carry on.
    pub(crate) fn pause(&mut self) {
        if self.autopilot {
            self.autopilot = false;
            self.epoch += 1;
        }
    }

    /// Generates traffic again from now.
    pub(crate) fn resume(&mut self) {
        if !self.autopilot {
            self.autopilot = true;
            self.epoch += 1;
            for q in 0..self.queues.len() {
                self.schedule_arrival(q, self.now);
            }
        }
    }

    /// A conversation waiting in `queue` since `since` (at most now), which never abandons or
    /// flows out on its own; returns its id.
    pub(crate) fn inject(&mut self, queue: usize, media: MediaType, since: i64) -> String {
        let key = self.enqueue(queue, media, since.min(self.now));
        let id = self.convs[&key].id.clone();
        self.dispatch(queue, self.now);
        id
    }

    /// Answers a waiting or alerting conversation now: an idle agent takes it, or a supervisor.
    pub(crate) fn answer(&mut self, id: &str) -> Result<(), Refusal> {
        let key = *self.ids.get(id).ok_or(Refusal::UnknownConversation)?;
        let now = self.now;
        match self.convs[&key].state {
            ConvState::Waiting => {
                self.leave_waiting(key);
                let queue = self.convs[&key].queue;
                let seat = longest_idle(&self.queues[queue].seats).map(|pos| {
                    let seat = &mut self.queues[queue].seats[pos];
                    seat.busy = Some(key);
                    seat.id
                });
                self.start_interaction(key, seat, now);
            }
            ConvState::Alerting { seat, .. } => self.start_interaction(key, Some(seat), now),
            ConvState::Interacting { .. } => return Err(Refusal::NotInQueue),
        }
        Ok(())
    }

    /// The customer of a waiting or alerting conversation hangs up now.
    pub(crate) fn abandon(&mut self, id: &str) -> Result<(), Refusal> {
        let key = *self.ids.get(id).ok_or(Refusal::UnknownConversation)?;
        let now = self.now;
        let queue = self.convs[&key].queue;
        match self.convs[&key].state {
            ConvState::Waiting => {
                self.leave_waiting(key);
                self.finish(key, Outcome::Abandoned, now, 0, 0);
            }
            ConvState::Alerting { seat, .. } => {
                self.finish(key, Outcome::Abandoned, now, 0, 0);
                self.free_seat(queue, seat, now);
                self.dispatch(queue, now);
            }
            ConvState::Interacting { .. } => return Err(Refusal::NotInQueue),
        }
        Ok(())
    }

    /// Sets how many agents are on queue. Idle agents leave first; busy ones go off queue at
    /// once but finish their interaction. New agents take the lowest free seats.
    pub(crate) fn set_agents(&mut self, queue: usize, agents: u32) {
        let now = self.now;
        let target = usize::try_from(agents).unwrap_or(usize::MAX);
        let seats = &mut self.queues[queue].seats;
        let mut on = seats.iter().filter(|s| s.on_queue).count();
        while on > target {
            if let Some(pos) = seats.iter().position(|s| s.on_queue && s.busy.is_none()) {
                seats.remove(pos);
            } else if let Some(seat) = seats.iter_mut().find(|s| s.on_queue) {
                seat.on_queue = false;
            }
            on -= 1;
        }
        while on < target {
            if let Some(seat) = seats.iter_mut().find(|s| !s.on_queue) {
                seat.on_queue = true;
            } else {
                // The lowest seat number not taken: among n seats, one of 0..=n is free.
                let id = (0..=seats.len())
                    .find(|i| seats.iter().all(|s| s.id != *i))
                    .unwrap_or(seats.len());
                seats.push(Seat {
                    id,
                    busy: None,
                    on_queue: true,
                    idle_since: now,
                });
            }
            on += 1;
        }
        self.dispatch(queue, now);
    }

    /// The queues at `indices`, now.
    pub(crate) fn views(&self, indices: &[usize]) -> Vec<QueueView> {
        let mut slot = vec![usize::MAX; self.queues.len()];
        let mut views: Vec<QueueView> = indices
            .iter()
            .enumerate()
            .map(|(i, q)| {
                slot[*q] = i;
                let seats = &self.queues[*q].seats;
                let count = |busy: bool| {
                    let n = seats
                        .iter()
                        .filter(|s| s.on_queue && s.busy.is_some() == busy)
                        .count();
                    u32::try_from(n).unwrap_or(u32::MAX)
                };
                QueueView {
                    idle: count(false),
                    busy: count(true),
                    media: Default::default(),
                }
            })
            .collect();
        for (key, c) in &self.convs {
            let Some(view) = views.get_mut(slot[c.queue]) else {
                continue;
            };
            let lists = &mut view.media[c.media.index()];
            let obs = |since, agent| Obs {
                since,
                key: *key,
                conversation_id: c.id.clone(),
                bits: c.bits,
                agent,
            };
            match c.state {
                ConvState::Waiting => lists.waiting.push(obs(c.entered, None)),
                ConvState::Alerting { seat, since } => lists
                    .alerting
                    .push(obs(since, Some(self.agent_of(c.queue, seat)))),
                ConvState::Interacting {
                    agent, answered, ..
                } => lists.interacting.push(obs(answered, Some(agent))),
            }
        }
        for view in &mut views {
            for lists in &mut view.media {
                for list in [
                    &mut lists.waiting, &mut lists.alerting, &mut lists.interacting,
                ] {
                    list.sort_by_key(|o| (o.since, o.key));
                }
            }
        }
        views
    }
}

fn longest_idle(seats: &[Seat]) -> Option<usize> {
    seats
        .iter()
        .enumerate()
        .filter(|(_, s)| s.on_queue && s.busy.is_none())
        .min_by_key(|(_, s)| (s.idle_since, s.id))
        .map(|(pos, _)| pos)
}
