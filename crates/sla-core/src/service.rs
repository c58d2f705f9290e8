//! "Fetch, then compute": resolves queues and asks the ports for counts, then builds the report.
//! The only place in the core that awaits a port.

use jiff::Timestamp;

use crate::breaches::{Breach, BreachFinder};
use crate::error::SlaError;
use crate::live::{LiveQuery, LiveState};
use crate::live_report::{LiveReport, build_live, live_request};
use crate::model::{QueueId, QueueInfo, SourceKind, names_queue};
use crate::ports::{
    LiveSource, QueueDirectory, QueueSelector, SourceError, TallyQuery, TallySource, Visit,
    VisitQuery, VisitSink, VisitSource, VisitStore,
};
use crate::query::{QueueSelection, ReportRequest, is_uuid};
use crate::report::{ReportStore, SlaReport, build_report, thresholds_needed};
use crate::rollup::{BucketPlan, native_granularity};
use crate::tally::{Tallier, TallySet};

/// Why a report could not be made: bad input, or a failing source.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The query names something that does not exist or cannot be used.
    #[error(transparent)]
    Input(#[from] SlaError),
    /// A port failed.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Resolves the queues a selection names: ids as given, exact names ignoring case, and
/// wildcard patterns. Each queue appears once; an exact name or pattern that matches nothing
/// is an error naming it.
pub async fn resolve_queues(
    selection: &QueueSelection,
    directory: &dyn QueueDirectory,
) -> Result<Vec<QueueInfo>, ServiceError> {
    if selection.is_empty() {
        return Err(SlaError::NoQueues.into());
    }
    let mut found: Vec<QueueInfo> = Vec::new();
    let mut keep = |queues: Vec<QueueInfo>| {
        for queue in queues {
            if !found.iter().any(|q| q.queue.id == queue.queue.id) {
                found.push(queue);
            }
        }
    };
    if selection.all {
        keep(directory.queues(&QueueSelector::All).await?);
    }
    if !selection.ids.is_empty() {
        let queues = directory
            .queues(&QueueSelector::Ids(selection.ids.clone()))
            .await?;
        if let Some(missing) = selection
            .ids
            .iter()
            .find(|id| !queues.iter().any(|q| &q.queue.id == *id))
        {
            return Err(SlaError::UnknownQueueId(missing.to_string()).into());
        }
        keep(queues);
    }
    for name in &selection.names {
        // Ignoring case as Genesys's name filter does, beyond ASCII too ("Été" is "été").
        let lower = name.to_lowercase();
        let queues: Vec<QueueInfo> = directory
            .queues(&QueueSelector::Name(name.clone()))
            .await?
            .into_iter()
            .filter(|q| q.queue.name.to_lowercase() == lower)
            .collect();
        if queues.is_empty() {
            return Err(SlaError::UnknownQueue(name.clone()).into());
        }
        keep(queues);
    }
    for pattern in &selection.patterns {
        let queues = directory
            .queues(&QueueSelector::Name(pattern.clone()))
            .await?;
        if queues.is_empty() {
            return Err(SlaError::NoMatchingQueue(pattern.clone()).into());
        }
        keep(queues);
    }
    Ok(found)
}

/// Checks that every queue an objective names exists, so that a misspelt name in a config file
/// is an error rather than an objective that silently measures nothing (and so never fails
/// `--fail-below`). Names among the report's queues need no lookup.
async fn check_objective_queues(
    request: &ReportRequest,
    queues: &[QueueInfo],
    directory: &dyn QueueDirectory,
) -> Result<(), ServiceError> {
    for objective in &request.objectives {
        for name in objective.queues.iter().flatten() {
            if locate_queue(name, queues, directory).await? == Located::Nowhere {
                return Err(SlaError::UnknownObjectiveQueue {
                    objective: objective.name.clone(),
                    queue: name.clone(),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Where a queue named in a config file (an objective's or an alert rule's) was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Located {
    /// Among the queues given.
    Among,
    /// Not among them, but in the directory.
    Elsewhere,
    /// Nowhere: the name is misspelt, or the queue was deleted.
    Nowhere,
}

/// Finds the queue `name` (an id, or a name ignoring case) among `queues`, and else in the
/// directory: a name that matches no queue would make an objective or a rule that never
/// measures anything, so callers refuse it.
pub async fn locate_queue(
    name: &str,
    queues: &[QueueInfo],
    directory: &dyn QueueDirectory,
) -> Result<Located, SourceError> {
    let named = |q: &QueueInfo| names_queue(&[name], q.queue.id.as_str(), &q.queue.name);
    if queues.iter().any(named) {
        return Ok(Located::Among);
    }
    let selector = if is_uuid(name) {
        QueueSelector::Ids(vec![QueueId::new(name.to_ascii_lowercase())])
    } else {
        QueueSelector::Name(name.to_owned())
    };
    let found = directory.queues(&selector).await?;
    Ok(if found.iter().any(named) {
        Located::Elsewhere
    } else {
        Located::Nowhere
    })
}

/// The tally query a report request needs for `queues`.
#[must_use]
pub fn tally_query(request: &ReportRequest, queues: &[QueueInfo]) -> TallyQuery {
    TallyQuery {
        queues: queues.iter().map(|q| q.queue.id.clone()).collect(),
        media: request.media.clone(),
        window: request.window,
        zone: request.zone.clone(),
        granularity: native_granularity(request.granularity),
        thresholds: thresholds_needed(request, queues),
        short_abandon: request.formula.short_abandon,
    }
}

/// The ports a report is made from.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    /// Lists and resolves queues.
    pub directory: &'a dyn QueueDirectory,
    /// Counts from aggregates.
    pub tallies: &'a dyn TallySource,
    /// Visits from conversation details, for `SourceKind::Details`.
    pub visits: Option<&'a dyn VisitSource>,
}

impl std::fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").finish_non_exhaustive()
    }
}

/// Resolves the request's queues and checks everything that can be checked before counting:
/// the limits on queues and report size, and that every queue an objective names exists.
pub async fn resolve(
    request: &ReportRequest,
    directory: &dyn QueueDirectory,
) -> Result<Vec<QueueInfo>, ServiceError> {
    let queues = resolve_queues(&request.queues, directory).await?;
    request.limits.check_resolved(request, queues.len())?;
    check_objective_queues(request, &queues, directory).await?;
    Ok(queues)
}

/// The resolved queues and their counts: everything a report is built from.
#[derive(Clone, Debug)]
pub struct Counted {
    /// The queues.
    pub queues: Vec<QueueInfo>,
    /// Their counts.
    pub tallies: TallySet,
}

impl Counted {
    /// The report of `request` over these counts.
    #[must_use]
    pub fn report(&self, request: &ReportRequest) -> SlaReport {
        build_report(request, &self.queues, &self.tallies)
    }
}

/// Counts from a history store ([`count_stored`]), and how far the store is complete for them.
#[derive(Clone, Debug)]
pub struct StoredCounts {
    /// The queues and their counts.
    pub counted: Counted,
    /// How far the store holds the queues over the window.
    pub store: ReportStore,
}

impl StoredCounts {
    /// The report of `request` over these counts, naming how far the store is complete.
    #[must_use]
    pub fn report(&self, request: &ReportRequest) -> SlaReport {
        let mut report = self.counted.report(request);
        report.store = Some(self.store);
        report
    }
}

/// Resolves the request's queues (see [`resolve`]) and counts through the source it names.
///
/// [`SourceKind::Store`] is refused here: a store's counts come with how far it is complete,
/// which [`count_stored`] reads.
pub async fn count(request: &ReportRequest, sources: Sources<'_>) -> Result<Counted, ServiceError> {
    let per_visit = match request.source {
        SourceKind::Aggregates => false,
        SourceKind::Details => true,
        SourceKind::Store => {
            return Err(SourceError::Other(
                "source 'store' is read from a history store, which these sources do not include"
                    .into(),
            )
            .into());
        }
    };
    let queues = resolve(request, sources.directory).await?;
    let query = tally_query(request, &queues);
    let tallies = if per_visit {
        tally_visits(&query, visit_source(sources)?).await?
    } else {
        sources.tallies.tallies(&query).await?
    };
    Ok(Counted { queues, tallies })
}

/// A history store as reports read it: its queues as last synced, its visits, and how far it
/// is complete. A store implements the three ports; tests give each its own double.
#[derive(Clone, Copy)]
pub struct StoreSources<'a> {
    /// The queues the store was synced for.
    pub directory: &'a dyn QueueDirectory,
    /// The stored visits.
    pub visits: &'a dyn VisitSource,
    /// The store's coverage.
    pub store: &'a dyn VisitStore,
}

impl std::fmt::Debug for StoreSources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSources").finish_non_exhaustive()
    }
}

/// Resolves the request's queues in the store (see [`resolve`]), reads how far the store is
/// complete for them over the window, then counts the stored visits exactly as [`count`]
/// counts conversation details ([`tally_visits`]), whatever the request's source says.
///
/// The coverage is read before the visits, so a sync committing meanwhile can only make the
/// counts more complete than the store claims, never less.
pub async fn count_stored(
    request: &ReportRequest,
    sources: StoreSources<'_>,
) -> Result<StoredCounts, ServiceError> {
    let queues = resolve(request, sources.directory).await?;
    let store = store_coverage(request, &queues, sources.store).await?;
    let query = tally_query(request, &queues);
    let tallies = tally_visits(&query, sources.visits).await?;
    Ok(StoredCounts {
        counted: Counted { queues, tallies },
        store,
    })
}

/// How far `store` is complete for `queues` over the request's window.
async fn store_coverage(
    request: &ReportRequest,
    queues: &[QueueInfo],
    store: &dyn VisitStore,
) -> Result<ReportStore, SourceError> {
    let ids: Vec<QueueId> = queues.iter().map(|q| q.queue.id.clone()).collect();
    let coverage = store.coverage(&ids).await?;
    Ok(ReportStore {
        complete_until: coverage.complete_until(&ids, request.window),
    })
}

/// Resolves, counts and builds the report from a history store ([`count_stored`]): what
/// `sla report --source store` prints.
pub async fn fetch_stored_report(
    request: &ReportRequest,
    sources: StoreSources<'_>,
) -> Result<SlaReport, ServiceError> {
    Ok(count_stored(request, sources).await?.report(request))
}

/// Resolves, counts and builds the report: what `sla report` prints.
pub async fn fetch_report(
    request: &ReportRequest,
    sources: Sources<'_>,
) -> Result<SlaReport, ServiceError> {
    Ok(count(request, sources).await?.report(request))
}

/// Resolves the request's queues and lists every visit whose outcome falls in the window and
/// that missed one of its objectives: what `sla breaches` prints.
pub async fn find_breaches(
    request: &ReportRequest,
    sources: Sources<'_>,
) -> Result<Vec<Breach>, ServiceError> {
    let queues = resolve(request, sources.directory).await?;
    breaches_of(request, &queues, visit_source(sources)?).await
}

/// Lists the visits that missed, as [`find_breaches`] does, from the visits of a history store;
/// with them, how far the store is complete for the queues over the window.
pub async fn find_stored_breaches(
    request: &ReportRequest,
    sources: StoreSources<'_>,
) -> Result<(Vec<Breach>, ReportStore), ServiceError> {
    let queues = resolve(request, sources.directory).await?;
    let store = store_coverage(request, &queues, sources.store).await?;
    let breaches = breaches_of(request, &queues, sources.visits).await?;
    Ok((breaches, store))
}

async fn breaches_of(
    request: &ReportRequest,
    queues: &[QueueInfo],
    visits: &dyn VisitSource,
) -> Result<Vec<Breach>, ServiceError> {
    let query = VisitQuery {
        queues: queues.iter().map(|q| q.queue.id.clone()).collect(),
        media: request.media.clone(),
        window: request.window,
    };
    let mut finder =
        BreachFinder::new(request.window, &request.objectives, request.formula, queues);
    visits.visits(&query, &mut finder).await?;
    Ok(finder.finish())
}

/// The queues whose name matches `pattern` (`*` wildcards), or every queue: what `sla queues`
/// prints. A blank pattern is refused rather than read as "no filter".
pub async fn list_queues(
    pattern: Option<&str>,
    directory: &dyn QueueDirectory,
) -> Result<Vec<QueueInfo>, ServiceError> {
    let selector = match pattern {
        Some(p) if p.trim().is_empty() => return Err(SlaError::EmptyPattern.into()),
        Some(p) => {
            crate::query::check_queue_name(p)?;
            QueueSelector::Name(p.to_owned())
        }
        None => QueueSelector::All,
    };
    Ok(directory.queues(&selector).await?)
}

/// Observes the request's `queues` now, with its media filter.
pub async fn observe(
    request: &ReportRequest,
    queues: &[QueueInfo],
    live: &dyn LiveSource,
) -> Result<LiveState, SourceError> {
    let query = LiveQuery {
        queues: queues.iter().map(|q| q.queue.id.clone()).collect(),
        media: request.media.clone(),
    };
    live.observe(&query).await
}

/// The live document at `now`: the rolling window's counts from the aggregates beside what is
/// happening in its queues now. What `sla now` prints; the service runs the two steps on their
/// own intervals.
pub async fn fetch_live(
    request: &ReportRequest,
    sources: Sources<'_>,
    live: &dyn LiveSource,
    now: Timestamp,
) -> Result<LiveReport, ServiceError> {
    let counted = count(&live_request(request), sources).await?;
    let state = observe(request, &counted.queues, live).await?;
    Ok(build_live(request, &counted, &state, now))
}

fn visit_source(sources: Sources<'_>) -> Result<&dyn VisitSource, SourceError> {
    sources
        .visits
        .ok_or_else(|| SourceError::Other("this connection cannot list visits".into()))
}

/// Counts visits streamed from `source` into the tallies `query` asks for.
pub async fn tally_visits(
    query: &TallyQuery,
    source: &dyn VisitSource,
) -> Result<TallySet, SourceError> {
    struct Sink(Tallier);
    impl VisitSink for Sink {
        fn visit(&mut self, visit: Visit) {
            self.0.add(&visit);
        }
    }
    let plan = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let mut sink = Sink(Tallier::new(plan, &query.thresholds, query.short_abandon));
    let visit_query = VisitQuery {
        queues: query.queues.clone(),
        media: query.media.clone(),
        window: query.window,
    };
    source.visits(&visit_query, &mut sink).await?;
    Ok(sink.0.finish())
}
