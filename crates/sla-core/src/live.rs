//! Live state as the live port gives it: who is waiting now and since when, who is being
//! handled, and how many agents are on queue; and the rolling window it is shown beside.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use crate::error::SlaError;
use crate::model::{MediaType, QueueId, Threshold};
use crate::window::Period;

/// The rolling window of live service levels (`--window`): from 5 minutes to 24 hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiveWindow(Threshold);

impl LiveWindow {
    /// The shortest window: shorter ones hold too few visits to mean anything.
    pub const MIN: Threshold = Threshold::from_millis(5 * 60 * 1000);
    /// The longest window: beyond a day, a report answers better.
    pub const MAX: Threshold = Threshold::from_millis(24 * 60 * 60 * 1000);

    /// The window's length.
    #[must_use]
    pub fn length(self) -> Threshold {
        self.0
    }

    /// The window as a report period: the span of this length ending now.
    #[must_use]
    pub fn period(self) -> Period {
        Period::Last(self.0)
    }
}

impl Default for LiveWindow {
    /// Thirty minutes, as Genesys's own live intervals.
    fn default() -> Self {
        Self(Threshold::from_millis(30 * 60 * 1000))
    }
}

impl FromStr for LiveWindow {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, SlaError> {
        let length = Threshold::parse(text)?;
        if !(Self::MIN..=Self::MAX).contains(&length) {
            return Err(SlaError::InvalidLiveWindow(text.to_owned()));
        }
        Ok(Self(length))
    }
}

impl fmt::Display for LiveWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a live source is asked to observe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveQuery {
    /// The queues; never empty.
    pub queues: Vec<QueueId>,
    /// Only these media types; all when empty.
    pub media: Vec<MediaType>,
}

/// One queue's conversations of one media type now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaState {
    /// Conversations waiting in the queue.
    pub waiting: u64,
    /// When each listed waiting conversation started waiting. When `truncated`, the list holds
    /// the oldest and the newest, so the longest wait stays exact.
    pub waiting_since: Vec<Timestamp>,
    /// Whether fewer waiting conversations are listed than wait.
    pub truncated: bool,
    /// Conversations being handled by an agent.
    pub interacting: u64,
}

/// What is happening now in the observed queues.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveState {
    /// Per queue and media type; a pair absent has nothing going on.
    pub media: BTreeMap<(QueueId, MediaType), MediaState>,
    /// Agents on queue (any routing status) per queue.
    pub on_queue_agents: BTreeMap<QueueId, u64>,
}
