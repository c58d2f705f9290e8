//! The simulated org: queues and conversations generated deterministically from a seed.
//!
//! Everything here is plain data plus the generator; the HTTP layer reads it and never mutates it.
//! Internally instants are whole milliseconds since the Unix epoch, which keeps the generator and
//! the aggregation fast; the public fields carry `jiff::Timestamp`s.

use std::ops::Range;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use uuid::{Builder, Uuid};

use crate::SimConfig;

/// Milliseconds in one hour and in one day.
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// How many agents answer the history's conversations; agents only appear in conversation details.
const AGENTS: usize = 40;
/// The most agents generated for the live org's seats; more seats share them.
const MAX_LIVE_AGENTS: usize = 5_000;

/// A media type as the analytics API names it (`voice`, not the queue settings' `call`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    /// `voice` (queue settings key `call`).
    Voice,
    /// `callback`.
    Callback,
    /// `chat`.
    Chat,
    /// `email`.
    Email,
    /// `message`.
    Message,
}

impl MediaType {
    /// Every media type the simulated org serves, in a fixed order.
    pub const ALL: [MediaType; 5] = [
        MediaType::Voice,
        MediaType::Callback,
        MediaType::Chat,
        MediaType::Email,
        MediaType::Message,
    ];

    /// The analytics name (`voice`, `callback`, `chat`, `email`, `message`).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Voice => "voice",
            MediaType::Callback => "callback",
            MediaType::Chat => "chat",
            MediaType::Email => "email",
            MediaType::Message => "message",
        }
    }

    /// The key of this media type in a queue's `mediaSettings` (`call` for voice).
    pub fn settings_key(self) -> &'static str {
        match self {
            MediaType::Voice => "call",
            other => other.as_str(),
        }
    }

    /// Parses an analytics media type name.
    pub fn from_analytics(name: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How a queue visit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An agent answered; emits `tAnswered`.
    Answered,
    /// The customer left while waiting; emits `tAbandon`.
    Abandoned,
    /// The visit left the queue by other means (flow timeout, voicemail, a transfer); emits `tFlowOut`.
    FlowOut,
}

/// A configured service level (`mediaSettings.<media>.serviceLevel`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServiceLevel {
    /// The desired share answered within `duration_ms`, between 0 and 1.
    pub percentage: f64,
    /// The target wait in milliseconds.
    pub duration_ms: u64,
}

/// A division, as Genesys returns it on a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Division {
    /// The division's UUID.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// One routing queue.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Queue {
    /// The queue's UUID.
    pub id: String,
    /// Its name, unique in the org.
    pub name: String,
    /// The division the queue belongs to.
    pub division: Division,
    service_levels: [ServiceLevel; 5],
    pub(crate) member_count: u32,
    /// Relative volume of traffic, around 1.
    pub(crate) volume: f64,
}

impl Queue {
    /// The configured service level of this queue for one media type.
    pub fn service_level(&self, media: MediaType) -> ServiceLevel {
        self.service_levels[media.index()]
    }
}

/// One conversation's stay in one queue (one `acd` session).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Visit {
    /// The conversation this visit belongs to.
    pub conversation_id: String,
    /// The queue visited.
    pub queue_id: String,
    /// The media type of the conversation.
    pub media_type: MediaType,
    /// When the visit entered the queue; `nOffered` is emitted here.
    pub entered: Timestamp,
    /// Whole milliseconds from entering the queue to the outcome.
    pub wait_ms: u64,
    /// How the visit ended.
    pub outcome: Outcome,
    /// `entered + wait_ms`: when `tAnswered`, `tAbandon` or `tFlowOut` is emitted.
    pub outcome_at: Timestamp,
    pub(crate) queue_idx: usize,
    /// The agent who answered, for answered visits.
    pub(crate) agent: usize,
    /// Talk time after an answer, zero otherwise.
    pub(crate) handle_ms: i64,
}

impl Visit {
    pub(crate) fn entered_ms(&self) -> i64 {
        self.entered.as_millisecond()
    }

    pub(crate) fn outcome_ms(&self) -> i64 {
        self.outcome_at.as_millisecond()
    }
}

/// One conversation: one or two queue visits (two when a flow-out transferred it to another queue).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Conversation {
    /// The conversation's UUID.
    pub id: String,
    /// When the customer started the conversation (before the first queue, after a short IVR).
    pub start: Timestamp,
    /// When the last participant left.
    pub end: Timestamp,
    /// The indices of this conversation's visits in [`Org::visits`], in order of entry.
    pub visits: Range<usize>,
    pub(crate) id_bits: u128,
}

/// The whole simulated org.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Org {
    /// Queues in generation order (the first eight have fixed names).
    pub queues: Vec<Queue>,
    /// Divisions the queues belong to.
    pub divisions: Vec<Division>,
    /// Conversations ordered by start, then id.
    pub conversations: Vec<Conversation>,
    /// Every queue visit, grouped by conversation in the order of [`Org::conversations`].
    pub visits: Vec<Visit>,
    /// Start of the dataset (midnight UTC of its first day).
    pub start: Timestamp,
    /// End of the dataset, exclusive (midnight UTC after its last day); every conversation has ended by then.
    pub end: Timestamp,
    pub(crate) agents: Vec<(String, String)>,
}

/// Fixed names, relative volumes and voice/chat/message targets for the first eight queues, so that
/// tests and demos see familiar names and differing configured thresholds.
/// A target as (`durationMs`, `percentage`).
type Target = (u64, f64);

const NAMED_QUEUES: [(&str, f64, Target, Target); 8] = [
    ("Sales", 1.5, (20_000, 0.8), (60_000, 0.8)),
    ("Sales Priority", 0.6, (20_000, 0.9), (30_000, 0.9)),
    ("Support", 1.4, (30_000, 0.8), (60_000, 0.8)),
    ("Support Tier 2", 0.8, (30_000, 0.9), (60_000, 0.9)),
    ("Billing", 1.0, (20_000, 0.8), (60_000, 0.8)),
    ("Claims", 0.9, (30_000, 0.8), (60_000, 0.8)),
    ("Retention", 1.0, (20_000, 0.9), (30_000, 0.9)),
    ("Onboarding", 0.8, (30_000, 0.9), (60_000, 0.8)),
];

/// Relative arrivals per UTC hour: quiet nights, busy 08:00–18:00.
const HOUR_WEIGHTS: [f64; 24] = [
    0.06, 0.04, 0.03, 0.03, 0.04, 0.08, 0.2, 0.5, 0.95, 1.0, 1.0, 0.95, 0.8, 0.85, 1.0, 0.95, 0.9,
    0.8, 0.5, 0.3, 0.22, 0.16, 0.11, 0.08,
];

/// Share of conversations per media type, in `MediaType::ALL` order.
pub(crate) const MEDIA_MIX: [f64; 5] = [0.68, 0.05, 0.12, 0.07, 0.08];

/// How waits, patience and handling behave for one media type.
pub(crate) struct MediaModel {
    /// Multiplier applied to the base voice wait mixture.
    pub(crate) wait_scale: f64,
    /// Longest wait before the org's flows would have moved the interaction on.
    cap_ms: f64,
    /// Mean customer patience in seconds; `None` means customers never abandon (email, callbacks).
    pub(crate) patience_s: Option<f64>,
    /// Probability of a flow-out.
    pub(crate) flow_out: f64,
    /// Mean talk or handling time after an answer, in seconds.
    pub(crate) handle_s: f64,
    /// Waits that sit exactly on, or one millisecond past, common thresholds.
    boundaries: &'static [u64],
}

pub(crate) fn media_model(media: MediaType) -> MediaModel {
    match media {
        MediaType::Voice => MediaModel {
            wait_scale: 1.0,
            cap_ms: 3_600_000.0,
            patience_s: Some(300.0),
            flow_out: 0.03,
            handle_s: 240.0,
            boundaries: &[10_000, 19_999, 20_000, 20_001, 30_000, 30_001, 60_000],
        },
        MediaType::Callback => MediaModel {
            wait_scale: 12.0,
            cap_ms: 4.0 * 3_600_000.0,
            patience_s: None,
            flow_out: 0.01,
            handle_s: 240.0,
            boundaries: &[20_000, 20_001, 600_000, 600_001],
        },
        MediaType::Chat => MediaModel {
            wait_scale: 1.6,
            cap_ms: 3_600_000.0,
            patience_s: Some(500.0),
            flow_out: 0.02,
            handle_s: 480.0,
            boundaries: &[20_000, 20_001, 30_000, 30_001, 60_000, 60_001],
        },
        MediaType::Email => MediaModel {
            wait_scale: 400.0,
            cap_ms: 48.0 * 3_600_000.0,
            patience_s: None,
            flow_out: 0.01,
            handle_s: 300.0,
            boundaries: &[3_600_000, 86_400_000, 86_400_001],
        },
        MediaType::Message => MediaModel {
            wait_scale: 8.0,
            cap_ms: 6.0 * 3_600_000.0,
            patience_s: Some(3_600.0),
            flow_out: 0.02,
            handle_s: 600.0,
            boundaries: &[60_000, 300_000, 300_001, 3_600_000, 3_600_001],
        },
    }
}

/// `SplitMix64`: a cheap, well-mixed hash used to derive independent seeds.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix(a ^ splitmix(b))
}

/// A version-4-shaped UUID from 128 seeded bits.
pub(crate) fn uuid_from_bits(bits: u128) -> Uuid {
    Builder::from_random_bytes(bits.to_be_bytes()).into_uuid()
}

fn random_uuid(rng: &mut fastrand::Rng) -> (u128, String) {
    let bits = rng.u128(..);
    (bits, uuid_from_bits(bits).to_string())
}

pub(crate) fn exp_sample(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.f64()).ln()
}

pub(crate) fn pick_weighted(rng: &mut fastrand::Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut r = rng.f64() * total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "waits are positive and far below u64::MAX milliseconds"
)]
fn whole_ms(x: f64) -> u64 {
    x.round().max(0.0) as u64
}

fn midnight_utc_ms(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .map_or(0, |z| z.timestamp().as_millisecond())
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A visit before it is placed in the org.
struct Draft {
    queue_idx: usize,
    entered_ms: i64,
    wait_ms: u64,
    outcome: Outcome,
    agent: usize,
    handle_ms: i64,
}

impl Draft {
    fn outcome_ms(&self) -> i64 {
        self.entered_ms + i64::try_from(self.wait_ms).unwrap_or(i64::MAX / 4)
    }

    fn end_ms(&self) -> i64 {
        self.outcome_ms() + self.handle_ms
    }
}

/// Draws one queue visit: its wait and outcome given the media type and how busy the hour is.
fn draw_visit(
    rng: &mut fastrand::Rng,
    queue_idx: usize,
    media: MediaType,
    entered_ms: i64,
    load: f64,
) -> Draft {
    let model = media_model(media);
    // Wait for a free agent: mostly short, a fatter middle and a long tail, longer in busy hours.
    let base_s = match rng.f64() {
        r if r < 0.65 => exp_sample(rng, 5.0),
        r if r < 0.9 => exp_sample(rng, 18.0),
        _ => exp_sample(rng, 70.0),
    };
    let agent_wait = (base_s * 1000.0 * model.wait_scale * (0.5 + load)).min(model.cap_ms);
    let r = rng.f64();
    let (wait_ms, outcome) = if r < model.flow_out {
        // In-queue flows move interactions on after a while: voicemail, callback offers, transfers.
        let wait = (10_000.0 + rng.f64() * 290_000.0) * model.wait_scale.sqrt();
        (whole_ms(wait.min(model.cap_ms)), Outcome::FlowOut)
    } else if r < model.flow_out + 0.02 {
        // Waits exactly on (or one ms past) a threshold exercise inclusive `<= T` handling.
        let w = model.boundaries[rng.usize(..model.boundaries.len())];
        (w, Outcome::Answered)
    } else if r < model.flow_out + 0.025 && model.patience_s.is_some() {
        let w = [9_999, 10_000, 20_000, 20_001][rng.usize(..4)];
        (w, Outcome::Abandoned)
    } else {
        let patience = model.patience_s.map(|mean| {
            // A few customers hang up almost at once; the rest have exponential patience.
            if rng.f64() < 0.02 {
                500.0 + rng.f64() * 9_500.0
            } else {
                exp_sample(rng, mean * 1000.0)
            }
        });
        match patience {
            Some(p) if p < agent_wait => (whole_ms(p).max(1), Outcome::Abandoned),
            _ => (whole_ms(agent_wait).max(1), Outcome::Answered),
        }
    };
    let (agent, handle_ms) = if outcome == Outcome::Answered {
        let handle = 20_000.0 + exp_sample(rng, model.handle_s * 1000.0);
        (
            rng.usize(..AGENTS),
            i64::try_from(whole_ms(handle)).unwrap_or(0),
        )
    } else {
        (0, 0)
    };
    Draft {
        queue_idx,
        entered_ms,
        wait_ms,
        outcome,
        agent,
        handle_ms,
    }
}

struct DraftConversation {
    bits: u128,
    id: String,
    start_ms: i64,
    end_ms: i64,
    media: MediaType,
    visits: Vec<Draft>,
}

impl Org {
    /// Generates the org described by `config` as of now; the same config always gives the
    /// same org.
    ///
    /// Each (queue, day) pair has its own random stream, so a day's traffic does not change when
    /// `days` or `end_date` move the window around it.
    pub fn generate(config: &SimConfig) -> Org {
        Org::generate_until(config, Timestamp::now())
    }

    /// Like [`Org::generate`], as of `now`: a dataset ending today, and any dataset of a live org
    /// (which begins at `now`), keeps only the conversations that have ended by `now`.
    pub(crate) fn generate_until(config: &SimConfig, now: Timestamp) -> Org {
        let end_date = config
            .end_date
            .unwrap_or_else(|| now.to_zoned(TimeZone::UTC).date());
        let end_ms = midnight_utc_ms(end_date) + DAY_MS;
        // A dataset that ends today holds only what has happened by now: a demo asked for
        // "today" must not count calls from later in the day. With a live org, the history ends
        // where the live org begins, so no conversation is in both.
        let cutoff_ms = if config.end_date.is_none() || config.live.enabled {
            end_ms.min(now.as_millisecond())
        } else {
            end_ms
        };
        let start_ms = end_ms - i64::from(config.days) * DAY_MS;

        let mut id_rng = fastrand::Rng::with_seed(mix(config.seed, 0x5155_4555));
        let divisions: Vec<Division> = ["Home", "Customer Care"]
            .iter()
            .map(|name| Division {
                id: random_uuid(&mut id_rng).1,
                name: (*name).to_owned(),
            })
            .collect();
        let queues: Vec<Queue> = (0..config.queues)
            .map(|i| make_queue(i, &mut id_rng, &divisions))
            .collect();
        // The live org seats its own agents in each queue; they are drawn after the history's, so
        // the history's ids do not change with the live settings.
        let per_queue = usize::try_from(config.live.agents_per_queue).unwrap_or(0);
        let agent_count = if config.live.enabled {
            AGENTS.max(config.queues.saturating_mul(per_queue).min(MAX_LIVE_AGENTS))
        } else {
            AGENTS
        };
        let agents = (0..agent_count)
            .map(|i| (random_uuid(&mut id_rng).1, format!("Agent {:02}", i + 1)))
            .collect();

        let mut drafts = Vec::new();
        for (q, queue) in queues.iter().enumerate() {
            for d in 0..i64::from(config.days) {
                let day_start = start_ms + d * DAY_MS;
                generate_day(config, q, queue.volume, day_start, cutoff_ms, &mut drafts);
            }
        }
        drafts.sort_by(|a, b| a.start_ms.cmp(&b.start_ms).then(a.bits.cmp(&b.bits)));

        let mut conversations = Vec::with_capacity(drafts.len());
        let mut visits = Vec::with_capacity(drafts.len() + drafts.len() / 50);
        for c in drafts {
            let first = visits.len();
            for v in c.visits {
                visits.push(Visit {
                    conversation_id: c.id.clone(),
                    queue_id: queues[v.queue_idx].id.clone(),
                    media_type: c.media,
                    entered: ts(v.entered_ms),
                    wait_ms: v.wait_ms,
                    outcome: v.outcome,
                    outcome_at: ts(v.outcome_ms()),
                    queue_idx: v.queue_idx,
                    agent: v.agent,
                    handle_ms: v.handle_ms,
                });
            }
            conversations.push(Conversation {
                id: c.id,
                start: ts(c.start_ms),
                end: ts(c.end_ms),
                visits: first..visits.len(),
                id_bits: c.bits,
            });
        }
        Org {
            queues,
            divisions,
            conversations,
            visits,
            start: ts(start_ms),
            end: ts(end_ms),
            agents,
        }
    }
}

/// A correction of one visit of the history, as Genesys restates conversation data after the
/// fact (up to 48 hours later): how the visit ended and after how long a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restatement {
    /// The corrected outcome.
    pub outcome: Outcome,
    /// The corrected wait in milliseconds, from entering the queue to the outcome.
    pub wait_ms: u64,
}

/// The handling time given to a visit restated as answered that was not answered before.
const RESTATED_HANDLE_MS: i64 = 120_000;

impl Org {
    /// Restates the last visit of conversation `conversation_id`: its outcome and wait become
    /// `restatement`'s, its outcome instant `entered + wait`, and the conversation's end moves
    /// with it. Only the last visit can be restated, since a visit followed by another one
    /// ended in the flow-out that transferred the conversation.
    ///
    /// Refused, naming why: an unknown conversation, or a correction that would end the
    /// conversation after the dataset's end.
    pub(crate) fn restate(
        &mut self,
        conversation_id: &str,
        restatement: Restatement,
    ) -> Result<Visit, String> {
        let index = self
            .conversations
            .iter()
            .position(|c| c.id == conversation_id)
            .ok_or_else(|| format!("there is no conversation {conversation_id} in the history"))?;
        let conversation = &self.conversations[index];
        let last = conversation.visits.end.checked_sub(1).ok_or_else(|| {
            format!("conversation {conversation_id} has no queue visit to restate")
        })?;
        let mut visit = self.visits[last].clone();
        let wait = i64::try_from(restatement.wait_ms).unwrap_or(i64::MAX);
        visit.outcome_at = visit
            .entered
            .as_millisecond()
            .checked_add(wait)
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .ok_or_else(|| format!("a wait of {} ms is out of range", restatement.wait_ms))?;
        match (visit.outcome, restatement.outcome) {
            (Outcome::Answered, Outcome::Answered) => {}
            (_, Outcome::Answered) => {
                visit.agent = usize::try_from(conversation.id_bits % AGENTS as u128).unwrap_or(0);
                visit.handle_ms = RESTATED_HANDLE_MS;
            }
            (_, Outcome::Abandoned | Outcome::FlowOut) => {
                visit.agent = 0;
                visit.handle_ms = 0;
            }
        }
        visit.outcome = restatement.outcome;
        visit.wait_ms = restatement.wait_ms;
        let end_of = |v: &Visit| v.outcome_ms() + v.handle_ms;
        let end = self.visits[conversation.visits.start..last]
            .iter()
            .map(end_of)
            .chain([end_of(&visit)])
            .max()
            .unwrap_or_else(|| end_of(&visit));
        if end > self.end.as_millisecond() {
            return Err(format!(
                "the restated conversation {conversation_id} would end at {}, after the history's end {}",
                ts(end),
                self.end
            ));
        }
        self.conversations[index].end = ts(end);
        self.visits[last] = visit.clone();
        Ok(visit)
    }
}

fn make_queue(i: usize, rng: &mut fastrand::Rng, divisions: &[Division]) -> Queue {
    let id = random_uuid(rng).1;
    let base = NAMED_QUEUES[i % NAMED_QUEUES.len()];
    let (name, factor, voice, chat) = if i < NAMED_QUEUES.len() {
        (base.0.to_owned(), base.1, base.2, base.3)
    } else {
        // Beyond the named eight, reuse the names with a number and draw targets from the same menu.
        let voice = ([20_000, 30_000][rng.usize(..2)], [0.8, 0.9][rng.usize(..2)]);
        let chat = ([30_000, 60_000][rng.usize(..2)], [0.8, 0.9][rng.usize(..2)]);
        let name = format!("{} {}", base.0, i / NAMED_QUEUES.len() + 1);
        (name, 0.6 + rng.f64() * 0.8, voice, chat)
    };
    let high = voice.1 > 0.85;
    let level = |duration_ms, percentage| ServiceLevel {
        percentage,
        duration_ms,
    };
    // Indexed like `MediaType::ALL`: voice, callback, chat, email, message.
    let service_levels = [
        level(voice.0, voice.1),
        level(if high { 300_000 } else { 600_000 }, 0.8),
        level(chat.0, chat.1),
        level(86_400_000, if high { 0.9 } else { 0.8 }),
        level(if high { 300_000 } else { 3_600_000 }, 0.8),
    ];
    let division = divisions[usize::from(i % 3 == 2)].clone();
    Queue {
        id,
        name,
        division,
        service_levels,
        member_count: 5 + u32::try_from(rng.usize(..20)).unwrap_or(0),
        volume: factor,
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "counts and offsets are small and non-negative"
)]
fn generate_day(
    config: &SimConfig,
    q: usize,
    factor: f64,
    day_start: i64,
    end_ms: i64,
    out: &mut Vec<DraftConversation>,
) {
    let epoch_day = day_start.div_euclid(DAY_MS);
    let mut rng = fastrand::Rng::with_seed(mix(mix(config.seed, q as u64), epoch_day as u64));
    // 1970-01-01 was a Thursday, so day 2 and 3 modulo 7 are Saturday and Sunday. The factors
    // average to 1 over a week, keeping `visits_per_day` the weekly mean.
    let weekend = matches!(epoch_day.rem_euclid(7), 2 | 3);
    let week_factor = if weekend { 0.5 } else { 1.2 };
    let expected = f64::from(config.visits_per_day) * week_factor * factor;
    let n = (expected * (0.9 + 0.2 * rng.f64())).round() as usize;
    for _ in 0..n {
        let hour = pick_weighted(&mut rng, &HOUR_WEIGHTS);
        let start = day_start + hour as i64 * HOUR_MS + rng.i64(0..HOUR_MS);
        let media = MediaType::ALL[pick_weighted(&mut rng, &MEDIA_MIX)];
        // Voice and callbacks pass an IVR first; digital channels reach the queue at once.
        let ivr_ms = if media == MediaType::Voice {
            rng.i64(2_000..20_000)
        } else {
            0
        };
        let load = HOUR_WEIGHTS[hour];
        let first = draw_visit(&mut rng, q, media, start + ivr_ms, load);
        let (bits, id) = random_uuid(&mut rng);
        let mut visits = Vec::with_capacity(2);
        if first.outcome == Outcome::FlowOut && config.queues > 1 && rng.bool() {
            // Half the flow-outs are transfers into another queue: a second visit, same conversation.
            let other = (q + 1 + rng.usize(..config.queues - 1)) % config.queues;
            let entered = first.outcome_ms() + rng.i64(0..2_000);
            visits.push(first);
            visits.push(draw_visit(&mut rng, other, media, entered, load));
        } else {
            visits.push(first);
        }
        let end = visits.iter().map(Draft::end_ms).max().unwrap_or(start);
        // The dataset holds finished conversations only; one still running at its end is dropped.
        if end > end_ms {
            continue;
        }
        out.push(DraftConversation {
            bits,
            id,
            start_ms: start,
            end_ms: end,
            media,
            visits,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SimConfig {
        SimConfig {
            queues: 3,
            days: 4,
            visits_per_day: 200,
            end_date: Some(jiff::civil::date(2026, 3, 31)),
            ..SimConfig::default()
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let a = Org::generate(&small());
        let b = Org::generate(&small());
        assert_eq!(a.visits.len(), b.visits.len());
        assert!(a.visits.iter().zip(&b.visits).all(|(x, y)| {
            x.conversation_id == y.conversation_id
                && x.wait_ms == y.wait_ms
                && x.entered == y.entered
        }));
        let c = Org::generate(&SimConfig { seed: 7, ..small() });
        assert_ne!(a.queues[0].id, c.queues[0].id);
    }

    #[test]
    fn visits_stay_inside_the_dataset_and_add_up() {
        let org = Org::generate(&small());
        assert_eq!(org.start.to_string(), "2026-03-28T00:00:00Z");
        assert_eq!(org.end.to_string(), "2026-04-01T00:00:00Z");
        for c in &org.conversations {
            assert!(c.start >= org.start && c.end <= org.end);
            for v in &org.visits[c.visits.clone()] {
                assert_eq!(v.conversation_id, c.id);
                assert!(v.entered >= c.start && v.outcome_at <= c.end);
                assert_eq!(
                    v.outcome_at.as_millisecond() - v.entered.as_millisecond(),
                    i64::try_from(v.wait_ms).unwrap()
                );
            }
        }
        let transfers = org.conversations.iter().filter(|c| c.visits.len() == 2);
        assert!(transfers.count() > 0);
        // Some visits enter before midnight UTC and end after it, so buckets split them.
        let day = |t: Timestamp| t.as_millisecond().div_euclid(DAY_MS);
        assert!(
            org.visits
                .iter()
                .any(|v| day(v.entered) != day(v.outcome_at))
        );
        assert!(
            org.visits
                .iter()
                .any(|v| v.wait_ms < 10_000 && v.outcome == Outcome::Abandoned)
        );
        let outcome = |o| org.visits.iter().filter(|v| v.outcome == o).count();
        assert!(outcome(Outcome::Abandoned) > 0 && outcome(Outcome::FlowOut) > 0);
        assert!(outcome(Outcome::Answered) > org.visits.len() * 3 / 4);
    }

    #[test]
    fn days_keep_their_traffic_when_the_window_grows() {
        let short = Org::generate(&small());
        let long = Org::generate(&SimConfig { days: 6, ..small() });
        let last_day = |org: &Org| {
            org.conversations
                .iter()
                .filter(|c| c.start >= short.start)
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(last_day(&short), last_day(&long));
    }
}
