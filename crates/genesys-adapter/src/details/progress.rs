//! How far the details path has got, and telling a progress observer about it.

use std::sync::Arc;

use crate::config::DetailsMode;
use crate::details::reader::PageSummary;

/// How far the details path has got, as reported to a progress observer (see
/// [`crate::GenesysClient::with_progress`]).
///
/// A *piece* is one synchronous query paged to its end, or one details job read to its last
/// cursor. `pieces_total` is known from the start but may grow: a piece that selects more than
/// Genesys pages through is split in two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DetailsProgress {
    /// The API being read: [`DetailsMode::Query`] or [`DetailsMode::Jobs`].
    pub mode: DetailsMode,
    /// Pieces read to their end.
    pub pieces_done: usize,
    /// Pieces planned so far.
    pub pieces_total: usize,
    /// Pages read.
    pub pages: u64,
    /// Distinct conversations read.
    pub conversations: u64,
    /// Visits delivered to the sink.
    pub visits: u64,
}

/// A progress observer, as [`crate::GenesysClient::with_progress`] takes it.
pub(crate) type Observer = Arc<dyn Fn(&DetailsProgress) + Send + Sync>;

/// Progress so far, and who to tell.
pub(crate) struct Progress<'a> {
    pub(crate) state: DetailsProgress,
    observer: Option<&'a (dyn Fn(&DetailsProgress) + Send + Sync)>,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(
        mode: DetailsMode,
        observer: Option<&'a (dyn Fn(&DetailsProgress) + Send + Sync)>,
    ) -> Self {
        Self {
            state: DetailsProgress {
                mode,
                ..DetailsProgress::default()
            },
            observer,
        }
    }

    fn report(&self) {
        if let Some(observer) = self.observer {
            observer(&self.state);
        }
    }

    /// The pieces are planned: `total` of them so far.
    pub(crate) fn planned(&mut self, total: usize) {
        self.state.pieces_total = total;
        self.report();
    }

    /// A piece was split in two, so there is one more.
    pub(crate) fn split(&mut self) {
        self.state.pieces_total += 1;
        self.report();
    }

    /// A piece was read to its end.
    pub(crate) fn piece_done(&mut self) {
        self.state.pieces_done += 1;
        self.report();
    }

    /// A page was read.
    pub(crate) fn page(&mut self, summary: &PageSummary) {
        self.state.pages += 1;
        self.state.conversations += summary.new_conversations as u64;
        self.state.visits += summary.visits as u64;
        self.report();
    }
}
