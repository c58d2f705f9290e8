//! Report assembly: per queue (and media type), per interval, and totals per objective, as the
//! `sla-report/v1` JSON contract lays them out. These are the crate's only `Serialize` types.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::formula::{Figures, evaluate, percent};
use crate::model::{
    Formula, Granularity, MediaType, Objective, ObjectiveThreshold, QueueInfo, SourceKind,
    Threshold, TimeWindow,
};
use crate::query::ReportRequest;
use crate::rollup::BucketPlan;
use crate::tally::{Tally, TallySet};

/// The schema name every report carries.
pub const SCHEMA: &str = "sla-report/v1";

/// A service-level report (`sla-report/v1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlaReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The window and zone.
    pub window: ReportWindow,
    /// The interval size.
    #[serde(serialize_with = "as_str")]
    pub granularity: Granularity,
    /// The formula.
    pub formula: ReportFormula,
    /// Where the counts came from.
    #[serde(serialize_with = "as_str")]
    pub source: SourceKind,
    /// With [`SourceKind::Store`], how far the store is complete for the report's queues and
    /// window; `None` (and absent from the JSON) for the other sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<ReportStore>,
    /// One row per queue (per queue and media type with `by_media`), ordered by name ignoring
    /// case, then id, then media type.
    pub queues: Vec<QueueRow>,
    /// Sums over every row.
    pub total: TotalRow,
}

/// The window of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportWindow {
    /// The first instant, in UTC.
    #[serde(serialize_with = "instant")]
    pub start: Timestamp,
    /// The first instant after the window, in UTC.
    #[serde(serialize_with = "instant")]
    pub end: Timestamp,
    /// The IANA zone whose calendar the intervals follow.
    pub time_zone: String,
}

/// How far the history store a report was counted from is complete (`"store"` in the JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReportStore {
    /// The store holds every visit of the report's queues from the window's start up to this
    /// instant, which is at most the window's end (the whole window is then complete); `None`
    /// when some queue was never synced from the window's start. See
    /// [`crate::ports::Coverage::complete_until`].
    #[serde(serialize_with = "opt_as_str")]
    pub complete_until: Option<Timestamp>,
}

impl ReportStore {
    /// Whether the store holds the whole of `window`.
    #[must_use]
    pub fn covers(&self, window: &TimeWindow) -> bool {
        self.complete_until.is_some_and(|t| t >= window.end())
    }
}

/// The formula of a report.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ReportFormula {
    /// `--abandons`.
    #[serde(serialize_with = "as_str")]
    pub abandons: crate::model::AbandonPolicy,
    /// `--short-abandon` in milliseconds, when set.
    pub short_abandon_ms: Option<u64>,
    /// `--flowouts`.
    #[serde(serialize_with = "as_str")]
    pub flowouts: crate::model::FlowOutPolicy,
}

/// Raw counts. `abandoned` includes short abandons, and so do the abandon waits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Visits offered.
    pub offered: u64,
    /// Visits answered.
    pub answered: u64,
    /// Visits abandoned, short abandons included.
    pub abandoned: u64,
    /// Short abandons; `None` when no short-abandon bound is set.
    pub short_abandoned: Option<u64>,
    /// Visits that flowed out.
    pub flow_outs: u64,
    /// Σ wait of the answered visits, in ms.
    pub answer_wait_ms_sum: u64,
    /// The longest wait of an answered visit, in ms (0 when none was answered).
    pub answer_wait_ms_max: u64,
    /// Σ wait of the abandoned visits, in ms.
    pub abandon_wait_ms_sum: u64,
}

impl Counts {
    /// The counts of `tally` as reported under `formula`: short abandons only with a bound.
    fn of(tally: &Tally, formula: &Formula) -> Counts {
        Counts {
            offered: tally.offered,
            answered: tally.answered,
            abandoned: tally.abandoned,
            short_abandoned: formula.short_abandon.map(|_| tally.short_abandoned),
            flow_outs: tally.flow_outs,
            answer_wait_ms_sum: tally.answer_wait_ms_sum,
            answer_wait_ms_max: tally.answer_wait_ms_max,
            abandon_wait_ms_sum: tally.abandon_wait_ms_sum,
        }
    }

    /// The companion KPIs of these counts.
    #[must_use]
    pub fn kpis(&self) -> Kpis {
        Kpis {
            asa_ms: average(self.answer_wait_ms_sum, self.answered),
            average_abandon_wait_ms: average(self.abandon_wait_ms_sum, self.abandoned),
            longest_answer_wait_ms: (self.answered > 0).then_some(self.answer_wait_ms_max),
            answer_percent: percent(self.answered, self.offered),
            abandon_percent: percent(self.abandoned, self.offered),
        }
    }
}

/// The companion KPIs of a row, an interval or a total: what a wallboard shows beside a service
/// level. Each is `None` when its denominator is 0.
///
/// Each metric counts where it is emitted, so in a short interval more visits may be answered
/// or abandoned than were offered: the percentages are then above 100, as computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// Average speed of answer: Σ answer wait / answered, in whole ms.
    pub asa_ms: Option<u64>,
    /// Σ abandon wait / abandoned, in whole ms.
    pub average_abandon_wait_ms: Option<u64>,
    /// The longest wait of an answered visit, in ms.
    pub longest_answer_wait_ms: Option<u64>,
    /// 100 × answered / offered, to 2 decimals.
    pub answer_percent: Option<f64>,
    /// 100 × abandoned / offered, to 2 decimals.
    pub abandon_percent: Option<f64>,
}

/// `sum / count` rounded to a whole number, half away from zero; `None` when `count` is 0.
#[must_use]
pub(crate) fn average(sum: u64, count: u64) -> Option<u64> {
    if count == 0 {
        return None;
    }
    let (s, c) = (u128::from(sum), u128::from(count));
    // Both are non-negative, so half away from zero is half up: ⌊(2s + c) / 2c⌋.
    u64::try_from((2 * s + c) / (2 * c)).ok()
}

/// One objective's service level for one row or interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceLevel {
    /// The objective's name.
    pub objective: String,
    /// The threshold; `None` when the visits measured had differing configured thresholds.
    pub threshold_ms: Option<u64>,
    /// The target percent, when there is one (and one only).
    pub target_percent: Option<f64>,
    /// Answered within the threshold.
    pub answered_within: u64,
    /// Abandoned within the threshold, short abandons included.
    pub abandoned_within: u64,
    /// The formula's numerator.
    pub numerator: u64,
    /// The formula's denominator.
    pub denominator: u64,
    /// 100 × numerator / denominator to 2 decimals; `None` when the denominator is 0.
    pub percent: Option<f64>,
    /// `percent >= target_percent`; `None` without a target or a percent.
    pub met_target: Option<bool>,
}

/// Counts and service levels of one interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntervalRow {
    /// The interval's first instant.
    #[serde(serialize_with = "instant")]
    pub start: Timestamp,
    /// The first instant after it.
    #[serde(serialize_with = "instant")]
    pub end: Timestamp,
    /// Whether the window cuts the interval short: a week that starts before the window, or a
    /// day that ends after it. Its counts cover only the part inside the window.
    pub partial: bool,
    /// Counts in the interval.
    pub counts: Counts,
    /// Companion KPIs of the counts.
    pub kpis: Kpis,
    /// Service levels in the interval.
    pub service_levels: Vec<ServiceLevel>,
}

/// One queue's (or queue and media type's) row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueRow {
    /// The queue id.
    pub queue_id: String,
    /// The queue name.
    pub queue_name: String,
    /// The media type, with `by_media`.
    #[serde(serialize_with = "opt_as_str")]
    pub media_type: Option<MediaType>,
    /// Counts over the window.
    pub counts: Counts,
    /// Companion KPIs of the counts.
    pub kpis: Kpis,
    /// Service levels over the window, one per objective that applies to the queue.
    pub service_levels: Vec<ServiceLevel>,
    /// Per interval; empty for granularity `total`.
    pub intervals: Vec<IntervalRow>,
}

/// The sums of every row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TotalRow {
    /// Counts over the window.
    pub counts: Counts,
    /// Companion KPIs of the counts.
    pub kpis: Kpis,
    /// Service levels per objective: Σ numerators / Σ denominators over the rows that have it.
    pub service_levels: Vec<ServiceLevel>,
    /// Per interval; empty for granularity `total`.
    pub intervals: Vec<IntervalRow>,
    /// With `by_media`, the sums of the rows of each media type, in media type order; `None`
    /// (and absent from the JSON) otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<MediaTotal>>,
}

/// The sums of the rows of one media type, with `by_media`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaTotal {
    /// The media type.
    #[serde(serialize_with = "as_str")]
    pub media_type: MediaType,
    /// Counts over the window.
    pub counts: Counts,
    /// Companion KPIs of the counts.
    pub kpis: Kpis,
    /// Service levels per objective, as in [`TotalRow::service_levels`].
    pub service_levels: Vec<ServiceLevel>,
    /// Per interval; empty for granularity `total`.
    pub intervals: Vec<IntervalRow>,
}

/// One objective measured over some tallies: figures plus the threshold and target, kept only
/// while every part measured agrees on them.
#[derive(Clone, Copy, Debug)]
struct Measure {
    figures: Figures,
    threshold: Option<Threshold>,
    target: Option<f64>,
}

impl Measure {
    /// Combines two measures; a threshold or target is kept only where both agree.
    fn combine(self, other: Measure) -> Measure {
        let mut figures = self.figures;
        figures += other.figures;
        Measure {
            figures,
            threshold: self.threshold.filter(|t| other.threshold == Some(*t)),
            target: self.target.filter(|t| other.target == Some(*t)),
        }
    }

    fn level(&self, objective: &Objective) -> ServiceLevel {
        let percent = self.figures.percent();
        ServiceLevel {
            objective: objective.name.clone(),
            threshold_ms: self.threshold.map(Threshold::as_millis),
            target_percent: self.target,
            answered_within: self.figures.answered_within,
            abandoned_within: self.figures.abandoned_within,
            numerator: self.figures.numerator,
            denominator: self.figures.denominator,
            percent,
            met_target: self.target.zip(percent).map(|(t, p)| p >= t),
        }
    }
}

fn combine(acc: &mut Option<Measure>, m: Measure) {
    *acc = Some(acc.map_or(m, |a| a.combine(m)));
}

/// Measures `objective` over per-media tallies of `queue`. `media_hint` names the media types to
/// take configured targets from when no tally has any visit (an idle row still shows its target).
fn measure(
    objective: &Objective,
    queue: &QueueInfo,
    tallies: &BTreeMap<MediaType, Tally>,
    media_hint: &[MediaType],
    formula: &Formula,
) -> Measure {
    match objective.threshold {
        ObjectiveThreshold::Fixed(threshold) => {
            // One media type (the usual case) needs no sum, and so no allocation.
            let figures = match tallies.len() {
                0 => Figures::default(),
                1 => tallies
                    .values()
                    .next()
                    .map(|t| evaluate(t, threshold, formula))
                    .unwrap_or_default(),
                _ => evaluate(&tallies.values().sum(), threshold, formula),
            };
            Measure {
                figures,
                threshold: Some(threshold),
                target: objective.target_percent,
            }
        }
        ObjectiveThreshold::Configured => {
            // Each visit is measured against the target of its own media type; visits of a
            // media type the queue has no target for are not measured.
            let target_of = |media: &MediaType| queue.service_levels.get(media);
            let mut result: Option<Measure> = None;
            for (media, tally) in tallies {
                if let Some(target) = target_of(media).filter(|_| *tally != Tally::default()) {
                    let m = Measure {
                        figures: evaluate(tally, target.threshold, formula),
                        threshold: Some(target.threshold),
                        target: objective.target_percent.or(Some(target.target_percent)),
                    };
                    combine(&mut result, m);
                }
            }
            if result.is_none() {
                for target in media_hint.iter().filter_map(target_of) {
                    let m = Measure {
                        figures: Figures::default(),
                        threshold: Some(target.threshold),
                        target: objective.target_percent.or(Some(target.target_percent)),
                    };
                    combine(&mut result, m);
                }
            }
            result.unwrap_or(Measure {
                figures: Figures::default(),
                threshold: None,
                target: objective.target_percent,
            })
        }
    }
}

/// One queue's tallies: per media type for the whole window and per interval.
struct QueueTallies {
    whole: BTreeMap<MediaType, Tally>,
    intervals: Vec<BTreeMap<MediaType, Tally>>,
}

impl QueueTallies {
    fn new(intervals: usize) -> Self {
        Self {
            whole: BTreeMap::new(),
            intervals: vec![BTreeMap::new(); intervals],
        }
    }
}

/// Groups tallies per queue, rolling buckets up into the plan's intervals.
fn group_tallies<'a>(
    request: &ReportRequest,
    plan: &BucketPlan,
    tallies: &'a TallySet,
) -> BTreeMap<&'a str, QueueTallies> {
    let mut per_queue: BTreeMap<&str, QueueTallies> = BTreeMap::new();
    for (key, tally) in tallies.iter() {
        if !request.media.is_empty() && !request.media.contains(&key.media) {
            continue;
        }
        let Some(index) = plan.index_of(key.bucket) else {
            continue;
        };
        // Tally sets iterate in queue order, so the queue is the last one grouped or a new one.
        let queue = key.queue.as_str();
        if per_queue
            .last_key_value()
            .is_none_or(|(last, _)| *last != queue)
        {
            per_queue.insert(queue, QueueTallies::new(plan.len()));
        }
        let Some(mut row) = per_queue.last_entry() else {
            continue;
        };
        let row = row.get_mut();
        add_to(&mut row.whole, key.media, tally);
        add_to(&mut row.intervals[index], key.media, tally);
    }
    per_queue
}

fn add_to(tallies: &mut BTreeMap<MediaType, Tally>, media: MediaType, tally: &Tally) {
    match tallies.entry(media) {
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(tally.clone());
        }
        std::collections::btree_map::Entry::Occupied(mut e) => *e.get_mut() += tally,
    }
}

/// The sums over rows that become the report's total. Rows are summed as tallies, the way
/// their own counts were, but only their counts: the objectives' measures are summed apart.
struct Totals {
    tally: Tally,
    interval_tallies: Vec<Tally>,
    /// Per objective: over the window, and per interval.
    measures: Vec<(Option<Measure>, Vec<Option<Measure>>)>,
}

impl Totals {
    fn new(request: &ReportRequest, intervals: usize) -> Self {
        Self {
            tally: Tally::default(),
            interval_tallies: vec![Tally::default(); intervals],
            measures: vec![(None, vec![None; intervals]); request.objectives.len()],
        }
    }

    /// The counts, service levels and intervals of these sums.
    fn into_parts(
        self,
        request: &ReportRequest,
        plan: &Plan,
    ) -> (Counts, Vec<ServiceLevel>, Vec<IntervalRow>) {
        let level = |objective: &Objective, m: Option<Measure>| {
            m.unwrap_or(Measure {
                figures: Figures::default(),
                threshold: match objective.threshold {
                    ObjectiveThreshold::Fixed(t) => Some(t),
                    ObjectiveThreshold::Configured => None,
                },
                target: objective.target_percent,
            })
            .level(objective)
        };
        let intervals = if request.granularity == Granularity::Total {
            Vec::new()
        } else {
            plan.buckets
                .intervals()
                .enumerate()
                .map(|(i, (start, end))| {
                    let counts = Counts::of(&self.interval_tallies[i], &request.formula);
                    IntervalRow {
                        start,
                        end,
                        partial: plan.partial(i),
                        counts,
                        kpis: counts.kpis(),
                        service_levels: request
                            .objectives
                            .iter()
                            .zip(&self.measures)
                            .map(|(o, (_, per_interval))| level(o, per_interval[i]))
                            .collect(),
                    }
                })
                .collect()
        };
        let service_levels = request
            .objectives
            .iter()
            .zip(&self.measures)
            .map(|(o, (m, _))| level(o, *m))
            .collect();
        (
            Counts::of(&self.tally, &request.formula),
            service_levels,
            intervals,
        )
    }
}

/// The intervals of a report: the buckets, and which of them the window cuts short.
struct Plan {
    buckets: BucketPlan,
    /// Whether the first bucket starts, and the last one ends, off the calendar.
    clipped: (bool, bool),
}

impl Plan {
    fn new(request: &ReportRequest) -> Self {
        let buckets = BucketPlan::new(&request.window, request.granularity, &request.zone);
        let on_calendar = |t: Timestamp| {
            // A window of two nanoseconds around `t` splits at `t` exactly when `t` is a
            // boundary of the calendar: the same rule that places the inner boundaries.
            let tick = jiff::SignedDuration::from_nanos(1);
            match (t.checked_sub(tick), t.checked_add(tick)) {
                (Ok(before), Ok(after)) => TimeWindow::new(before, after).is_ok_and(|w| {
                    BucketPlan::new(&w, request.granularity, &request.zone).len() == 2
                }),
                _ => true,
            }
        };
        let clipped = if request.granularity == Granularity::Total {
            (false, false)
        } else {
            (
                !on_calendar(request.window.start()),
                !on_calendar(request.window.end()),
            )
        };
        Self { buckets, clipped }
    }

    fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether interval `i` is cut short by the window.
    fn partial(&self, i: usize) -> bool {
        (i == 0 && self.clipped.0) || (i + 1 == self.len() && self.clipped.1)
    }
}

/// The media types of a queue's rows: one row of all media (`None`), or with `by_media` one
/// per media type seen or asked for.
fn row_media(
    request: &ReportRequest,
    queue: &QueueInfo,
    tallies: &QueueTallies,
) -> Vec<Option<MediaType>> {
    if !request.by_media {
        return vec![None];
    }
    let mut media: Vec<MediaType> = tallies.whole.keys().copied().collect();
    media.extend(
        request
            .media
            .iter()
            .filter(|m| !tallies.whole.contains_key(m)),
    );
    if media.is_empty() {
        // An idle queue still gets its rows: one per media type it is set up for.
        media.extend(queue.service_levels.keys());
    }
    media.sort_unstable();
    media.into_iter().map(Some).collect()
}

/// Builds one row of `queue` for `media` (all media when `None`), adding it to each of
/// `totals`: the report's, and with `by_media` its media type's.
fn queue_row<'t>(
    request: &ReportRequest,
    plan: &Plan,
    queue: &QueueInfo,
    tallies: &'t QueueTallies,
    media: Option<MediaType>,
    totals: &mut [&mut Totals],
) -> QueueRow {
    let formula = &request.formula;
    // A row of all media borrows the queue's tallies; only a per-media row copies its own.
    let pick = |all: &'t BTreeMap<MediaType, Tally>| -> Cow<'t, BTreeMap<MediaType, Tally>> {
        match media {
            None => Cow::Borrowed(all),
            Some(only) => Cow::Owned(
                all.get(&only)
                    .map(|t| (only, t.clone()))
                    .into_iter()
                    .collect(),
            ),
        }
    };
    // The media types whose configured targets an idle row shows.
    let hint: Vec<MediaType> = match media {
        Some(m) => vec![m],
        None if request.media.is_empty() => queue.service_levels.keys().copied().collect(),
        None => request.media.clone(),
    };
    let whole = pick(&tallies.whole);
    let intervals: Vec<_> = tallies.intervals.iter().map(pick).collect();
    let sum = Tally::sum_counts(whole.values());
    for sums in totals.iter_mut() {
        sums.tally.add_counts(&sum);
    }
    let counts = Counts::of(&sum, formula);
    let mut service_levels = Vec::new();
    let mut interval_levels: Vec<Vec<ServiceLevel>> = (0..plan.len())
        .map(|_| Vec::with_capacity(request.objectives.len()))
        .collect();
    for (o, objective) in request.objectives.iter().enumerate() {
        if !objective.applies_to(&queue.queue) {
            continue;
        }
        let m = measure(objective, queue, &whole, &hint, formula);
        service_levels.push(m.level(objective));
        for sums in totals.iter_mut() {
            combine(&mut sums.measures[o].0, m);
        }
        for (i, interval) in intervals.iter().enumerate() {
            let m = measure(objective, queue, interval, &hint, formula);
            interval_levels[i].push(m.level(objective));
            for sums in totals.iter_mut() {
                combine(&mut sums.measures[o].1[i], m);
            }
        }
    }
    let mut rows = Vec::new();
    for (i, ((start, end), levels)) in plan.buckets.intervals().zip(interval_levels).enumerate() {
        let sum = Tally::sum_counts(intervals[i].values());
        for sums in totals.iter_mut() {
            sums.interval_tallies[i].add_counts(&sum);
        }
        let counts = Counts::of(&sum, formula);
        rows.push(IntervalRow {
            start,
            end,
            partial: plan.partial(i),
            counts,
            kpis: counts.kpis(),
            service_levels: levels,
        });
    }
    QueueRow {
        queue_id: queue.queue.id.to_string(),
        queue_name: queue.queue.name.clone(),
        media_type: media,
        counts,
        kpis: counts.kpis(),
        service_levels,
        intervals: if request.granularity == Granularity::Total {
            Vec::new()
        } else {
            rows
        },
    }
}

/// Builds the report for `request` from the resolved `queues` and the `tallies` a source
/// counted. Tallies of queues not in `queues` and outside the window are ignored; tallies in
/// finer buckets than the request's granularity are rolled up.
#[must_use]
pub fn build_report(
    request: &ReportRequest,
    queues: &[QueueInfo],
    tallies: &TallySet,
) -> SlaReport {
    let plan = Plan::new(request);
    let queues = QueueInfo::in_report_order(queues);

    let per_queue = group_tallies(request, &plan.buckets, tallies);
    let empty = QueueTallies::new(plan.len());
    let mut totals = Totals::new(request, plan.len());
    let mut media_totals: BTreeMap<MediaType, Totals> = BTreeMap::new();
    let mut rows = Vec::new();
    for queue in queues {
        let tallies = per_queue.get(queue.queue.id.as_str()).unwrap_or(&empty);
        for media in row_media(request, queue, tallies) {
            let row = match media {
                Some(m) => {
                    let of_media = media_totals
                        .entry(m)
                        .or_insert_with(|| Totals::new(request, plan.len()));
                    queue_row(
                        request,
                        &plan,
                        queue,
                        tallies,
                        media,
                        &mut [&mut totals, of_media],
                    )
                }
                None => queue_row(request, &plan, queue, tallies, media, &mut [&mut totals]),
            };
            rows.push(row);
        }
    }
    let media = request.by_media.then(|| {
        media_totals
            .into_iter()
            .map(|(media_type, sums)| {
                let (counts, service_levels, intervals) = sums.into_parts(request, &plan);
                MediaTotal {
                    media_type,
                    counts,
                    kpis: counts.kpis(),
                    service_levels,
                    intervals,
                }
            })
            .collect()
    });
    let (counts, service_levels, intervals) = totals.into_parts(request, &plan);

    let formula = &request.formula;
    SlaReport {
        schema: SCHEMA,
        window: ReportWindow {
            start: request.window.start(),
            end: request.window.end(),
            time_zone: request.zone.name().to_owned(),
        },
        granularity: request.granularity,
        formula: ReportFormula {
            abandons: formula.abandons,
            short_abandon_ms: formula.short_abandon.map(Threshold::as_millis),
            flowouts: formula.flowouts,
        },
        source: request.source,
        store: None,
        queues: rows,
        total: TotalRow {
            counts,
            kpis: counts.kpis(),
            service_levels,
            intervals,
            media,
        },
    }
}

/// The number of cells (rows × intervals × objectives) a report of `request` over `queues`
/// queues can have. Each cell costs a few hundred bytes of output, so bounding it bounds the
/// work and memory of one report.
///
/// A row is a queue, or with `by_media` a queue and media type. Which media types have data is
/// known only after counting, so this assumes every one asked for: the `media` filter's, or all
/// analytics media types when there is none.
#[must_use]
pub fn report_cells(request: &ReportRequest, queues: usize) -> usize {
    let intervals = BucketPlan::new(&request.window, request.granularity, &request.zone).len();
    let rows = if request.by_media {
        let mut media = request.media.clone();
        media.sort_unstable();
        media.dedup();
        let kinds = if media.is_empty() {
            MediaType::ALL.len()
        } else {
            media.len()
        };
        queues.saturating_mul(kinds)
    } else {
        queues
    };
    rows.saturating_mul(intervals)
        .saturating_mul(request.objectives.len())
}

/// The thresholds a source must count for `request` over `queues`: every fixed threshold and
/// every configured one, sorted and unique.
#[must_use]
pub fn thresholds_needed(request: &ReportRequest, queues: &[QueueInfo]) -> Vec<Threshold> {
    let mut thresholds = Vec::new();
    for objective in &request.objectives {
        match objective.threshold {
            ObjectiveThreshold::Fixed(t) => thresholds.push(t),
            ObjectiveThreshold::Configured => {
                for queue in queues.iter().filter(|q| objective.applies_to(&q.queue)) {
                    for (media, target) in &queue.service_levels {
                        if request.media.is_empty() || request.media.contains(media) {
                            thresholds.push(target.threshold);
                        }
                    }
                }
            }
        }
    }
    thresholds.sort_unstable();
    thresholds.dedup();
    thresholds
}

impl SlaReport {
    /// The report's window.
    #[must_use]
    pub fn time_window(&self) -> Option<TimeWindow> {
        TimeWindow::new(self.window.start, self.window.end).ok()
    }
}

pub(crate) fn as_str<S: Serializer, T: std::fmt::Display>(
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference"
)]
pub(crate) fn opt_as_str<S: Serializer, T: std::fmt::Display>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// RFC 3339 in UTC with `Z`, whole seconds unless there is a fraction.
pub(crate) fn instant<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}
