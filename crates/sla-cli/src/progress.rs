//! Progress bars on stderr for long conversation-details work (a report from details, a
//! sync), shown only on a terminal, and the writers through which a run's output passes so
//! that a bar never stands in the middle of it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

use genesys_adapter::{DetailsProgress, GenesysClient};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sla_core::SyncProgress;
use sla_core::ports::VisitSource;

/// Where a run's bars are drawn: stderr on a terminal, nowhere elsewhere (cron, pipes, tests).
#[derive(Clone, Debug)]
pub(crate) struct Progress(MultiProgress);

impl Progress {
    pub(crate) fn new() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress(MultiProgress::with_draw_target(target))
    }

    /// `inner`, with the bars taken off the screen while each write goes through, and drawn
    /// again below it: the report or summary printed while a bar is up is never overdrawn,
    /// and the bar never left above it.
    pub(crate) fn writer<W: Write>(&self, inner: W) -> Suspending<W> {
        Suspending {
            bars: self.0.clone(),
            inner,
        }
    }

    /// A bar drawing `template`.
    fn bar(&self, template: &str) -> ProgressBar {
        let bar = self.0.add(ProgressBar::no_length());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }
}

/// A writer that hides the bars while it writes (see [`Progress::writer`]).
pub(crate) struct Suspending<W> {
    bars: MultiProgress,
    inner: W,
}

impl<W: Write> Write for Suspending<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let inner = &mut self.inner;
        self.bars.suspend(|| inner.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let inner = &mut self.inner;
        self.bars.suspend(|| inner.write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let inner = &mut self.inner;
        self.bars.suspend(|| inner.flush())
    }
}

/// While a request waits for the budget no page arrives, so the bar's prefix says why it stands
/// still. The prefix is set only when it changes: setting it draws the bar, which a run that
/// never waits (and never reads details) must not show.
fn watch_budget(bar: &ProgressBar, client: &GenesysClient) -> tokio::task::JoinHandle<()> {
    let (bar, client) = (bar.clone(), client.clone());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_millis(250));
        let mut shown = None;
        loop {
            ticks.tick().await;
            let waiting = client.budget_wait().map(|wait| wait.as_secs() + 1);
            if waiting != shown {
                shown = waiting;
                bar.set_prefix(waiting.map_or_else(String::new, |secs| {
                    format!("waiting {secs}s for the request budget, ")
                }));
            }
        }
    })
}

/// The visit source of `client`, reporting its progress on a bar that clears itself when the
/// returned guard drops.
pub(crate) fn visits_with_progress(
    progress: &Progress,
    client: &GenesysClient,
) -> (Arc<dyn VisitSource>, Bar) {
    let bar = progress.bar(
        "{spinner} conversation details [{bar:30}] {pos}/{len} pieces, {prefix}{msg} ({elapsed})",
    );
    let observed = bar.clone();
    let client = client.with_progress(move |p: &DetailsProgress| {
        observed.set_length(p.pieces_total as u64);
        observed.set_position(p.pieces_done as u64);
        observed.set_message(format!("{} conversations", p.conversations));
    });
    let budget = watch_budget(&bar, &client);
    (Arc::new(client), Bar(bar, budget))
}

/// What a sync's bar shows: the sync's own progress, and the visits read so far of the piece
/// being read.
#[derive(Default)]
struct SyncState {
    sync: SyncProgress,
    piece_visits: u64,
}

impl SyncState {
    fn message(&self) -> String {
        let written = self.sync.written;
        let reading = if self.sync.current.is_some() {
            self.piece_visits
        } else {
            0
        };
        format!(
            "{} visits read; {} new, {} updated, {} removed",
            self.sync.visits_read + reading,
            written.new,
            written.updated,
            written.removed
        )
    }
}

/// A sync's bar: the visit source of `client`, which tells the bar how far the piece being
/// read has got, and the observer `sla_core::sync_visits` tells of each piece.
pub(crate) fn sync_with_progress(
    progress: &Progress,
    client: &GenesysClient,
) -> (
    Arc<dyn VisitSource>,
    impl Fn(&SyncProgress) + Send + Sync + use<>,
    Bar,
) {
    let bar =
        progress.bar("{spinner} sync [{bar:30}] {pos}/{len} pieces, {prefix}{msg} ({elapsed})");
    let state = Arc::new(Mutex::new(SyncState::default()));
    let show = {
        let bar = bar.clone();
        move |state: &SyncState| {
            bar.set_length(state.sync.pieces_total as u64);
            bar.set_position(state.sync.pieces_done as u64);
            bar.set_message(state.message());
        }
    };
    let observed = {
        let (state, show) = (Arc::clone(&state), show.clone());
        move |p: &DetailsProgress| {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.piece_visits = p.visits;
            show(&state);
        }
    };
    let client = client.with_progress(observed);
    let on_sync = move |p: &SyncProgress| {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sync = p.clone();
        state.piece_visits = 0;
        show(&state);
    };
    let budget = watch_budget(&bar, &client);
    (Arc::new(client), on_sync, Bar(bar, budget))
}

/// Clears the bar when the work is over, whatever its outcome, and stops watching the budget.
pub(crate) struct Bar(ProgressBar, tokio::task::JoinHandle<()>);

impl Drop for Bar {
    fn drop(&mut self) {
        self.1.abort();
        self.0.finish_and_clear();
    }
}

impl std::fmt::Debug for Bar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bar")
    }
}
