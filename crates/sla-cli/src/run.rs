//! What each subcommand does, over the ports, writing to a given output.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use sla_core::ports::{QueueDirectory, QueueSelector, TallySource, VisitSource};
use sla_core::{Format, ServiceError, Sources, Zone, fetch_report, render, render_queues};

use crate::cli::{QueuesArgs, ReportArgs};

/// An input the user can fix: the process exits with status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// How a successful run ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done.
    Done,
    /// Done, and some service level is below `--fail-below`.
    BelowThreshold,
}

/// The ports a run reads from.
#[derive(Clone)]
pub(crate) struct Ports {
    pub(crate) directory: Arc<dyn QueueDirectory>,
    pub(crate) tallies: Arc<dyn TallySource>,
    pub(crate) visits: Option<Arc<dyn VisitSource>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// The world as a run sees it: the current instant and the default time zone.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) now: Timestamp,
    pub(crate) zone: Zone,
}

/// `sla report`.
pub(crate) async fn report(
    args: &ReportArgs,
    ports: &Ports,
    context: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let config =
        match &args.objectives.config {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                UsageError(format!("cannot read config file {}: {e}", path.display()))
            })?),
            None => None,
        };
    let mut request = args
        .query_input(config)
        .parse(context.now, &context.zone)
        .map_err(|e| match &args.objectives.config {
            Some(path) if matches!(e, sla_core::SlaError::InvalidConfig(_)) => {
                UsageError(format!("{}: {e}", path.display()))
            }
            _ => UsageError(e.to_string()),
        })?;
    if args.connection.demo && request.queues.is_empty() {
        request.queues.all = true;
    }
    let sources = Sources {
        directory: ports.directory.as_ref(),
        tallies: ports.tallies.as_ref(),
        visits: ports.visits.as_deref(),
    };
    let report = fetch_report(&request, sources).await.map_err(|e| match e {
        ServiceError::Input(e) => anyhow::Error::new(UsageError(e.to_string())),
        ServiceError::Source(e) => anyhow::Error::new(e).context("cannot fetch the counts"),
    })?;
    let format: Format = args
        .output
        .format
        .parse()
        .map_err(|e: sla_core::SlaError| UsageError(e.to_string()))?;
    let text = render(&report, format);
    emit(&text, args.output.out.as_deref(), out)?;
    let below = args.output.fail_below.is_some_and(|p| report.any_below(p));
    Ok(if below {
        Outcome::BelowThreshold
    } else {
        Outcome::Done
    })
}

/// `sla queues`.
pub(crate) async fn queues(
    args: &QueuesArgs,
    directory: &dyn QueueDirectory,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let selector = match &args.name {
        Some(pattern) => QueueSelector::Name(pattern.clone()),
        None => QueueSelector::All,
    };
    let queues = directory
        .queues(&selector)
        .await
        .context("cannot list the queues")?;
    let format: Format = args
        .format
        .parse()
        .map_err(|e: sla_core::SlaError| UsageError(e.to_string()))?;
    emit(&render_queues(&queues, format), None, out)?;
    Ok(Outcome::Done)
}

/// Writes `text` to `path` atomically (a temporary file beside it, renamed into place, so a
/// failed run never leaves a partial file), or to `out`.
fn emit(text: &str, path: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(path) = path else {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("cannot write the report")?;
        return Ok(());
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| UsageError(format!("--out {} names no file", path.display())))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
