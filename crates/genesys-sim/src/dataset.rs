//! What the analytics endpoints read: the generated history plus the live org's finished
//! conversations, which never overlap (the history ends where the live org begins).

use std::sync::Arc;

use crate::{
    live::Finished,
    org::{Conversation, Org, Visit},
};

/// The history and the live conversations finished so far, as one dataset. A request reads the
/// one it started with, while restatements and the live org move on.
#[derive(Clone, Debug)]
pub(crate) struct Dataset {
    pub(crate) org: Arc<Org>,
    pub(crate) live: Arc<Vec<Arc<Finished>>>,
}

/// One conversation of the dataset, cheap to clone and to keep (details jobs keep their
/// selection while the live org moves on).
#[derive(Clone, Debug)]
pub(crate) enum ConvRef {
    /// An index into [`Org::conversations`].
    History(usize),
    Live(Arc<Finished>),
}

impl ConvRef {
    /// The conversation and its queue visits.
    pub(crate) fn get<'a>(&'a self, org: &'a Org) -> (&'a Conversation, &'a [Visit]) {
        match self {
            ConvRef::History(i) => {
                let c = &org.conversations[*i];
                (c, &org.visits[c.visits.clone()])
            }
            ConvRef::Live(f) => (&f.conversation, &f.visits),
        }
    }
}

impl Dataset {
    /// Every queue visit.
    pub(crate) fn visits(&self) -> impl Iterator<Item = &Visit> + '_ {
        self.org
            .visits
            .iter()
            .chain(self.live.iter().flat_map(|f| f.visits.iter()))
    }

    /// Conversations that started in `[from, to)`: the history's in start order, then the live
    /// org's in the order they ended.
    pub(crate) fn started_between(&self, from: i64, to: i64) -> Vec<ConvRef> {
        let conversations = &self.org.conversations;
        let first = conversations.partition_point(|c| c.start.as_millisecond() < from);
        let last = conversations.partition_point(|c| c.start.as_millisecond() < to);
        let live = self.live.iter().filter(|f| {
            let start = f.conversation.start.as_millisecond();
            from <= start && start < to
        });
        (first..last)
            .map(ConvRef::History)
            .chain(live.map(|f| ConvRef::Live(Arc::clone(f))))
            .collect()
    }

    /// Conversations with activity in `[from, to)`: started before its end and not ended before
    /// its start (an end exactly at the start still emitted a metric there).
    pub(crate) fn active_between(&self, from: i64, to: i64) -> Vec<ConvRef> {
        let conversations = &self.org.conversations;
        let last = conversations.partition_point(|c| c.start.as_millisecond() < to);
        let active =
            |c: &Conversation| c.start.as_millisecond() < to && c.end.as_millisecond() >= from;
        (0..last)
            .filter(|i| active(&conversations[*i]))
            .map(ConvRef::History)
            .chain(
                self.live
                    .iter()
                    .filter(|f| active(&f.conversation))
                    .map(|f| ConvRef::Live(Arc::clone(f))),
            )
            .collect()
    }
}
