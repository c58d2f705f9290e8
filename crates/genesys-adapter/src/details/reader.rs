//! Reading pages of conversation details into queue visits, each conversation once however many
//! pages repeat it.
//!
//! Memory stays bounded by the page being read and the set of conversation ids already seen
//! (16 bytes per UUID), whatever the number of conversations.

use std::collections::HashSet;

use foldhash::fast::FixedState;
use jiff::Timestamp;
use sla_core::ports::{VisitQuery, VisitSink};
use uuid::Uuid;

use crate::convert::{self, VisitFilter};
use crate::error::GenesysError;
use crate::wire::{DetailsPage, Text};

/// What one page of conversation details held. See [`DetailsReader::read_page`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageSummary {
    /// Conversations on the page.
    pub conversations: usize,
    /// Those not seen on an earlier page.
    pub new_conversations: usize,
    /// Visits delivered to the sink.
    pub visits: usize,
    /// The query's `totalHits`, when the page is the query's.
    pub total_hits: Option<u64>,
    /// The cursor to a job's next page of results; `None` on its last.
    pub cursor: Option<String>,
}

/// A page read, with what paging needs beyond the summary.
#[derive(Debug)]
pub(crate) struct PageRead {
    pub(crate) summary: PageSummary,
    /// The `conversationEnd`s on the page, when asked for.
    pub(crate) ends: Ends,
}

/// The `conversationEnd`s of a page, in order: the earliest, the latest, and whether they ever
/// rise.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ends {
    pub(crate) earliest: Option<Timestamp>,
    pub(crate) latest: Option<Timestamp>,
    pub(crate) rising: bool,
}

impl Ends {
    pub(crate) fn add(&mut self, end: Timestamp) {
        self.rising |= self.earliest.is_some_and(|e| end > e);
        self.earliest = Some(self.earliest.map_or(end, |e| e.min(end)));
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
    }
}

/// Reads pages of Genesys conversation details (the details query's
/// `AnalyticsConversationQueryResponse` or a job's `AnalyticsConversationAsyncQueryResponse`)
/// into queue visits, each conversation once however many pages repeat it.
///
/// This is what the client does with every page it fetches; it is public for details JSON
/// obtained otherwise, such as saved pages. Only the fields visits need are read, borrowed from
/// the page; everything else is skipped.
///
/// ```
/// use genesys_adapter::DetailsReader;
/// use sla_core::QueueId;
/// use sla_core::TimeWindow;
/// use sla_core::ports::{Visit, VisitQuery, VisitSink};
///
/// struct Collect(Vec<Visit>);
/// impl VisitSink for Collect {
///     fn visit(&mut self, visit: Visit) {
///         self.0.push(visit);
///     }
/// }
///
/// let query = VisitQuery {
///     queues: vec![QueueId::new("11111111-1111-1111-1111-111111111111")],
///     media: Vec::new(),
///     window: TimeWindow::new(
///         "2024-05-01T00:00:00Z".parse()?,
///         "2024-05-02T00:00:00Z".parse()?,
///     )?,
/// };
/// let page = br#"{"totalHits": 1, "conversations": [{
///     "conversationId": "c0c0c0c0-0000-0000-0000-000000000001",
///     "participants": [{"purpose": "acd", "sessions": [{"mediaType": "voice",
///         "metrics": [{"name": "nOffered", "value": 1, "emitDate": "2024-05-01T09:00:20.000Z"},
///                     {"name": "tAnswered", "value": 25000, "emitDate": "2024-05-01T09:00:45.000Z"}],
///         "segments": [{"queueId": "11111111-1111-1111-1111-111111111111",
///                       "segmentStart": "2024-05-01T09:00:20.000Z"}]}]}]}]}"#;
/// let mut reader = DetailsReader::new(&query);
/// let mut sink = Collect(Vec::new());
/// let summary = reader.read_page(page, &mut sink)?;
/// assert_eq!((summary.conversations, summary.visits), (1, 1));
/// assert_eq!(sink.0[0].outcome.unwrap().wait_ms, 25_000);
/// // The same page again delivers nothing new.
/// assert_eq!(reader.read_page(page, &mut sink)?.visits, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DetailsReader {
    filter: VisitFilter,
    seen: Seen,
}

impl DetailsReader {
    /// A reader keeping the visits `query` asks for: to its queues, of its media types (all
    /// when empty), with `nOffered` or the outcome emitted inside its window.
    pub fn new(query: &VisitQuery) -> Self {
        Self {
            filter: VisitFilter::new(query),
            seen: Seen::default(),
        }
    }

    /// Reads one page, delivering the visits of conversations not seen before to `sink`.
    ///
    /// A page that is not details JSON, or whose metrics lack what a visit needs (an emit date,
    /// a whole non-negative wait), is a [`GenesysError::Decode`].
    pub fn read_page(
        &mut self,
        page: &[u8],
        sink: &mut dyn VisitSink,
    ) -> Result<PageSummary, GenesysError> {
        self.read(page, sink, "details page", false)
            .map(|read| read.summary)
    }

    /// How many distinct conversations have been read.
    pub fn conversations_seen(&self) -> usize {
        self.seen.len()
    }

    /// The window whose visits are kept.
    pub(crate) fn window(&self) -> sla_core::TimeWindow {
        self.filter.window()
    }

    /// Reads one page fetched by `request` (as `METHOD /path`, for errors), collecting its
    /// `conversationEnd`s when `want_ends`.
    pub(crate) fn read(
        &mut self,
        page: &[u8],
        sink: &mut dyn VisitSink,
        request: &str,
        want_ends: bool,
    ) -> Result<PageRead, GenesysError> {
        let decode = |reason: String| GenesysError::Decode {
            request: request.to_owned(),
            reason,
        };
        // One UTF-8 check of the whole page is cheaper than serde_json's check of every string
        // (keys included) when reading from bytes.
        let text = std::str::from_utf8(page).map_err(|e| decode(format!("not UTF-8: {e}")))?;
        let parsed: DetailsPage<'_> =
            serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
        let conversations = parsed.conversations.unwrap_or_default();
        let mut summary = PageSummary {
            conversations: conversations.len(),
            total_hits: parsed.total_hits,
            cursor: parsed.cursor.map(|c| c.0.into_owned()),
            ..PageSummary::default()
        };
        let mut ends = Ends::default();
        for conversation in &conversations {
            if want_ends && let Some(end) = &conversation.conversation_end {
                ends.add(convert::instant(end.as_str()).map_err(decode)?);
            }
            let Some(id) = conversation.conversation_id.as_ref().map(Text::as_str) else {
                tracing::warn!("a conversation without a conversationId, skipped");
                continue;
            };
            if !self.seen.insert(id) {
                continue;
            }
            summary.new_conversations += 1;
            summary.visits += convert::visits(id, conversation, &self.filter, |visit| {
                sink.visit(visit);
            })
            .map_err(|reason| decode(format!("conversation {id}: {reason}")))?;
        }
        Ok(PageRead { summary, ends })
    }
}

/// The conversation ids already read. UUIDs (every Genesys id) are kept as 16-byte keys; any
/// other id as text.
///
/// The keys are hashed with foldhash's fixed-seed hasher: Genesys's ids are random and come from
/// Genesys rather than an adversary, so `SipHash`'s flooding resistance buys nothing here and
/// costs as much as the rest of reading a conversation's id.
#[derive(Debug, Default)]
struct Seen {
    uuids: HashSet<u128, FixedState>,
    others: HashSet<Box<str>>,
}

impl Seen {
    /// Records `id`; false when it was already there.
    fn insert(&mut self, id: &str) -> bool {
        match parse_uuid(id) {
            Some(key) => self.uuids.insert(key),
            None => self.others.insert(Box::from(id)),
        }
    }

    fn len(&self) -> usize {
        self.uuids.len() + self.others.len()
    }
}

/// A canonical `8-4-4-4-12` hex UUID as a number, ignoring the case of its digits. The uuid
/// crate also reads the simple, braced and URN forms; they are kept as text, so that only the
/// form Genesys writes is folded into a key.
fn parse_uuid(text: &str) -> Option<u128> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok().map(|uuid| uuid.as_u128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_parse_into_keys_ignoring_case() {
        let id = "c0c0c0c0-0000-0000-0000-00000000000a";
        assert_eq!(
            parse_uuid(id),
            Some(0xc0c0_c0c0_0000_0000_0000_0000_0000_000a)
        );
        assert_eq!(parse_uuid(&id.to_uppercase()), parse_uuid(id));
        for bad in [
            "",
            "c0c0c0c0-0000-0000-0000-00000000000",
            "c0c0c0c0-0000-0000-0000-00000000000g",
            "c0c0c0c0x0000-0000-0000-00000000000a",
            "c0c0c0c000000-0000-0000-00000000000a",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
        let mut seen = Seen::default();
        assert!(seen.insert(id));
        assert!(!seen.insert(&id.to_uppercase()));
        assert!(seen.insert("not-a-uuid"));
        assert!(!seen.insert("not-a-uuid"));
        assert_eq!(seen.len(), 2);
    }
}
