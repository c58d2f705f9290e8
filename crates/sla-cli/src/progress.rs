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
        "{spinner} conversation details [{bar:30}] {pos}/{len} pieces, {prefix}{msg} ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let observed = bar.clone();
    let client = client.with_progress(move |p: &DetailsProgress| {
        observed.set_length(p.pieces_total as u64);
        observed.set_position(p.pieces_done as u64);
        observed.set_message(format!("{} conversations", p.conversations));
    });
    // While a request waits for the budget no page arrives, so the bar says why it stands still.
    let budget = {
        let (bar, client) = (bar.clone(), client.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                ticks.tick().await;
                if let Some(wait) = client.budget_wait() {
                    bar.set_prefix(format!(
                        "waiting {}s for the request budget, ",
                        wait.as_secs() + 1
                    ));
                } else {
                    bar.set_prefix("");
                }
            }
        })
    };
    (Arc::new(client), Bar(bar, budget))
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
