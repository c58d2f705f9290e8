//! Builders shared by the tests: instants, zones, queues, visits, requests and a seeded
//! generator of realistic visits.

use std::collections::BTreeMap;

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};

use crate::ports::{OutcomeKind, Visit, VisitOutcome};
use crate::{
    BucketPlan, Granularity, Limits, MediaType, Objective, QueryContext, QueryInput, QueueId,
    QueueInfo, QueueRef, ReportRequest, ServiceLevelTarget, SlaError, Tallier, Tally, TallyKey,
    TallySet, Threshold, ThresholdArg, Within, Zone, parse_config,
};

/// The instant every test query is parsed at, unless it says otherwise.
pub(crate) const NOW: &str = "2026-04-01T12:00:00Z";

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad instant {text}: {e}"))
}

pub(crate) fn zone(name: &str) -> Zone {
    Zone::get(name).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn ms(millis: u64) -> Threshold {
    Threshold::from_millis(millis)
}

/// A queue without configured service levels.
pub(crate) fn queue(id: &str, name: &str) -> QueueInfo {
    queue_with_targets(id, name, &[])
}

/// A queue with configured service levels: `(media, threshold in ms, target percent)`.
pub(crate) fn queue_with_targets(
    id: &str,
    name: &str,
    targets: &[(MediaType, u64, f64)],
) -> QueueInfo {
    QueueInfo {
        queue: QueueRef {
            id: QueueId::new(id),
            name: name.to_owned(),
        },
        division: None,
        service_levels: targets
            .iter()
            .map(|(media, threshold, target)| {
                (
                    *media,
                    ServiceLevelTarget {
                        threshold: ms(*threshold),
                        target_percent: *target,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

/// A query input over `[from, to]` (dates or instants) in UTC at total granularity; tests set
/// the rest with struct update syntax.
pub(crate) fn input(from: &str, to: &str) -> QueryInput {
    QueryInput {
        queues: vec!["Support".into()],
        from: Some(p(from)),
        to: Some(p(to)),
        tz: Some(p("UTC")),
        ..QueryInput::default()
    }
}

/// Parses `input` at [`NOW`] with UTC as the default zone.
pub(crate) fn request(input: &QueryInput) -> ReportRequest {
    input
        .parse(&at(ts(NOW), zone("UTC")))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The context of a query read at `now` with `zone` as the default, under the CLI's limits.
pub(crate) fn at(now: Timestamp, zone: Zone) -> QueryContext {
    QueryContext {
        now,
        zone,
        limits: Limits::CLI,
        all_queues_by_default: false,
    }
}

/// An option value read as the CLI reads it.
#[track_caller]
pub(crate) fn p<T: FromStr<Err = SlaError>>(text: &str) -> T {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `--threshold` values.
#[track_caller]
pub(crate) fn ps(texts: &[&str]) -> Vec<ThresholdArg> {
    texts.iter().map(|t| p(t)).collect()
}

/// `--media` values, each possibly a comma-separated list.
#[track_caller]
pub(crate) fn media(entries: &[&str]) -> Vec<MediaType> {
    entries.iter().flat_map(|e| e.split(',')).map(p).collect()
}

/// The objectives of a config file.
#[track_caller]
pub(crate) fn config(text: impl AsRef<str>) -> Vec<Objective> {
    parse_config(text.as_ref()).unwrap_or_else(|e| panic!("{e}"))
}

/// A visit of `queue` that entered at `entered` (when `nOffered` is emitted) and ended after
/// `wait_ms` as `kind` (the outcome emitted at `entered + wait`).
pub(crate) fn visit(
    queue: &str,
    media: MediaType,
    entered: Timestamp,
    kind: OutcomeKind,
    wait_ms: u64,
) -> Visit {
    let at = entered + SignedDuration::from_millis(i64::try_from(wait_ms).unwrap_or(i64::MAX));
    Visit {
        conversation_id: format!("c-{queue}-{entered}"),
        queue: QueueId::new(queue),
        media,
        entered,
        offered_at: Some(entered),
        outcome: Some(VisitOutcome { kind, wait_ms, at }),
    }
}

/// Tallies `visits` in the buckets of `request`'s window at `granularity`, counting every
/// threshold in `thresholds` and the request's short abandons.
pub(crate) fn tally_visits(
    request: &ReportRequest,
    granularity: Granularity,
    thresholds: &[Threshold],
    visits: &[Visit],
) -> TallySet {
    let plan = BucketPlan::new(&request.window, granularity, &request.zone);
    tally_in(plan, thresholds, request.formula.short_abandon, visits)
}

/// Tallies `visits`, in the order given, in the buckets of `plan`, counting every threshold in
/// `thresholds` and abandons shorter than `short_abandon`.
pub(crate) fn tally_in<'a>(
    plan: BucketPlan,
    thresholds: &[Threshold],
    short_abandon: Option<Threshold>,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> TallySet {
    let mut tallier = Tallier::new(plan, thresholds, short_abandon);
    for v in visits {
        tallier.add(v);
    }
    tallier.finish()
}

/// The key of `queue`'s tally of `media` in the bucket starting at `bucket`.
pub(crate) fn tally_key(queue: &str, media: MediaType, bucket: &str) -> TallyKey {
    TallyKey {
        queue: QueueId::new(queue),
        media,
        bucket: ts(bucket),
    }
}

/// Counts within a threshold.
pub(crate) fn within(answered: u64, abandoned: u64) -> Within {
    Within {
        answered,
        abandoned,
    }
}

/// `SplitMix64`: a tiny deterministic generator, so generated fixtures never change.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The shape of one generated queue: its id, media types and how busy and how fast it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueueProfile {
    pub(crate) id: &'static str,
    pub(crate) media: &'static [MediaType],
    /// Visits on a busy weekday.
    pub(crate) per_day: u64,
    /// Typical wait in seconds (answers are spread around it).
    pub(crate) typical_wait_s: u64,
}

/// Realistic visits over `days` local days from `first_day` in `zone`: arrivals between 08:00
/// and 20:00 local time, fewer at weekends, waits mostly short with a long tail, abandons more
/// likely as waits grow (some of them short), a few flow-outs, and some answered visits
/// transferred on to the next queue (a second visit, to that queue).
pub(crate) fn generate_visits(
    seed: u64,
    profiles: &[QueueProfile],
    first_day: jiff::civil::Date,
    days: i64,
    zone: &Zone,
) -> Vec<Visit> {
    let mut rng = Rng::new(seed);
    let mut visits = Vec::new();
    let mut conversation = 0u64;
    for day in 0..days {
        let date = first_day
            .checked_add(jiff::Span::new().days(day))
            .expect("date in range");
        let opening = date
            .at(8, 0, 0, 0)
            .to_zoned(zone.tz().clone())
            .expect("local time exists")
            .timestamp();
        let weekend = date.weekday().to_monday_zero_offset() >= 5;
        for (q, profile) in profiles.iter().enumerate() {
            let count = if weekend {
                profile.per_day / 3
            } else {
                profile.per_day
            };
            let count = count * (90 + rng.below(21)) / 100;
            for _ in 0..count {
                conversation += 1;
                // Twelve opening hours, busier around late morning.
                let minute = u64::midpoint(rng.below(720), rng.below(720));
                let entered = opening
                    + SignedDuration::from_secs(
                        i64::try_from(minute * 60 + rng.below(60)).expect("small"),
                    );
                let media = profile.media
                    [usize::try_from(rng.below(profile.media.len() as u64)).expect("small")];
                let typical = profile.typical_wait_s * 1000;
                let wait = if rng.chance(10) {
                    typical * 2 + rng.below(typical * 4 + 1)
                } else {
                    rng.below(typical * 2 + 1)
                };
                let abandon_percent = 2 + wait / (typical / 4 + 1);
                let kind = if rng.chance(3) {
                    OutcomeKind::FlowOut
                } else if rng.chance(abandon_percent.min(60)) {
                    OutcomeKind::Abandoned
                } else {
                    OutcomeKind::Answered
                };
                let wait = if kind == OutcomeKind::Abandoned && rng.chance(20) {
                    rng.below(5_000)
                } else {
                    wait
                };
                let mut v = visit(profile.id, media, entered, kind, wait);
                v.conversation_id = format!("conv-{conversation}");
                let transferred = kind == OutcomeKind::Answered && rng.chance(5);
                let answered_at = v.outcome.map(|o| o.at);
                visits.push(v);
                if let (true, Some(at)) = (transferred, answered_at) {
                    let next = profiles[(q + 1) % profiles.len()];
                    let handled = SignedDuration::from_secs(
                        i64::try_from(60 + rng.below(300)).expect("small"),
                    );
                    let wait = rng.below(next.typical_wait_s * 2000 + 1);
                    let mut second =
                        visit(next.id, media, at + handled, OutcomeKind::Answered, wait);
                    second.conversation_id = format!("conv-{conversation}");
                    visits.push(second);
                }
            }
        }
    }
    visits
}

/// A tally of raw counts, with nothing within any threshold yet.
pub(crate) fn counts(
    offered: u64,
    answered: u64,
    abandoned: u64,
    flow_outs: u64,
    short_abandoned: u64,
) -> Tally {
    let mut tally = Tally::default();
    tally.offered = offered;
    tally.answered = answered;
    tally.abandoned = abandoned;
    tally.flow_outs = flow_outs;
    tally.short_abandoned = short_abandoned;
    tally
}
