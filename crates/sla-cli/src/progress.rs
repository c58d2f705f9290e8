//! A progress bar on stderr for long conversation-details work, shown only on a terminal.

use std::io::IsTerminal;
use std::sync::Arc;

use genesys_adapter::{DetailsProgress, GenesysClient};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sla_core::ports::VisitSource;

/// The visit source of `client`, reporting its progress on a bar that clears itself when the
/// returned guard drops. Off a terminal (cron, pipes, tests) the bar draws nothing.
pub(crate) fn visits_with_progress(client: &GenesysClient) -> (Arc<dyn VisitSource>, Bar) {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} conversation details [{bar:30}] {pos}/{len} pieces, {msg} ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let observed = bar.clone();
    let client = client.with_progress(move |p: &DetailsProgress| {
        observed.set_length(p.pieces_total as u64);
        observed.set_position(p.pieces_done as u64);
        observed.set_message(format!("{} conversations", p.conversations));
    });
    (Arc::new(client), Bar(bar))
}

/// Clears the bar when the work is over, whatever its outcome.
pub(crate) struct Bar(ProgressBar);

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl std::fmt::Debug for Bar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bar")
    }
}
