//! From a validated request to a report: sla-core's "resolve, count, build" steps, with the
//! service's bounds checked between them.

use jiff::{SignedDuration, Timestamp};
use sla_core::{
    QueryInput, QueueInfo, ReportRequest, ServiceError, SlaError, SlaReport, SourceKind, TallySet,
    build_report, resolve_queues, tally_query, tally_visits,
};

use crate::state::{AppState, Limits};

/// Validates `input` as `sla report` would at `now`: the service's zone is the default, and the
/// demo org covers every queue when none is named.
pub(crate) fn request(
    state: &AppState,
    input: &QueryInput,
    now: Timestamp,
) -> Result<ReportRequest, SlaError> {
    let mut request = input.parse(now, &state.settings.zone)?;
    if state.settings.demo && request.queues.is_empty() {
        request.queues.all = true;
    }
    Ok(request)
}

/// How long after its end a window still counts as touching the present.
///
/// An open window (`from` without `to`, or a period including today) ends at `now`, or at
/// `now` rounded down to a whole second, so its end may fall just before the instant the
/// request was read; and Genesys may still be adding the last moments' conversations. Such a
/// result is cached briefly, never for the hour a closed window gets.
const SETTLING: SignedDuration = SignedDuration::from_mins(1);

/// Whether a window ending at `end` touches the present at `now`, for the cache's lifetime.
pub(crate) fn touches_present(end: Timestamp, now: Timestamp) -> bool {
    end.checked_add(SETTLING)
        .map_or(true, |settled| settled > now)
}

/// Refuses requests larger than `limits` allow, before anything is fetched.
pub(crate) fn check_bounds(request: &ReportRequest, limits: &Limits) -> Result<(), SlaError> {
    let length = request.window.end().duration_since(request.window.start());
    // Whole days, rounded up: a window of 400 days and a second is too long.
    let day = SignedDuration::from_hours(24).as_secs();
    let days = (length.as_secs() + day - 1) / day;
    if days > limits.max_window_days {
        return Err(SlaError::WindowTooLong {
            days,
            max_days: limits.max_window_days,
        });
    }
    if request.objectives.len() > limits.max_objectives {
        return Err(SlaError::TooMany {
            what: "objectives",
            count: request.objectives.len(),
            max: limits.max_objectives,
        });
    }
    let named =
        request.queues.ids.len() + request.queues.names.len() + request.queues.patterns.len();
    check_queue_count(named, limits)
}

fn check_queue_count(count: usize, limits: &Limits) -> Result<(), SlaError> {
    if count > limits.max_queues {
        return Err(SlaError::TooMany {
            what: "queues",
            count,
            max: limits.max_queues,
        });
    }
    Ok(())
}

/// Refuses a report with more row × interval × objective cells than allowed: each cell is a
/// few hundred bytes of JSON, so this bounds the work and the memory one request can cost.
///
/// A row is a queue, or with `by_media` a queue and media type. Which media types have data is
/// known only after counting, so the bound assumes every one asked for: the `media` filter's,
/// or all of the analytics media types when there is none.
fn check_cells(request: &ReportRequest, queues: usize, limits: &Limits) -> Result<(), SlaError> {
    let cells = sla_core::report_cells(request, queues);
    if cells > limits.max_cells {
        let what = if request.by_media {
            "report cells (queues × media types × intervals × objectives)"
        } else {
            "report cells (queues × intervals × objectives)"
        };
        return Err(SlaError::TooMany {
            what,
            count: cells,
            max: limits.max_cells,
        });
    }
    Ok(())
}

/// The resolved queues and their counts: everything a report is built from.
#[derive(Debug)]
pub(crate) struct Counted {
    pub(crate) queues: Vec<QueueInfo>,
    pub(crate) tallies: TallySet,
}

/// Resolves the queues and counts. With `limits`, a selection resolving to more queues (or
/// cells) than allowed is refused before any counting.
pub(crate) async fn count(
    state: &AppState,
    request: &ReportRequest,
    limits: Option<&Limits>,
) -> Result<Counted, ServiceError> {
    let ports = &state.ports;
    let queues = resolve_queues(&request.queues, ports.directory.as_ref()).await?;
    if let Some(limits) = limits {
        check_queue_count(queues.len(), limits)?;
        check_cells(request, queues.len(), limits)?;
    }
    let query = tally_query(request, &queues);
    let tallies = match (request.source, &ports.visits) {
        (SourceKind::Details, Some(visits)) => tally_visits(&query, visits.as_ref()).await?,
        _ => ports.tallies.tallies(&query).await?,
    };
    Ok(Counted { queues, tallies })
}

/// Resolves the queues, counts and builds the report.
pub(crate) async fn report(
    state: &AppState,
    request: &ReportRequest,
    limits: Option<&Limits>,
) -> Result<SlaReport, ServiceError> {
    let counted = count(state, request, limits).await?;
    Ok(build_report(request, &counted.queues, &counted.tallies))
}
