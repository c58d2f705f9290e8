//! Tallying benchmark: one million visits into 50 queues × 720 half hours, then the report.
//!
//! Run with `cargo bench -p sla-core --bench tally` (or `cargo xtask bench`); results are
//! recorded in `docs/PERFORMANCE.md`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use jiff::{SignedDuration, Timestamp};
use sla_core::ports::{OutcomeKind, Visit, VisitOutcome};
use sla_core::{
    AbandonPolicy, BucketPlan, Granularity, Limits, MediaType, QueryContext, QueryInput, QueueId,
    QueueInfo, QueueRef, ReportRequest, ServiceLevelTarget, Tallier, TallySet, Threshold, Zone,
    build_report, native_granularity, thresholds_needed,
};

fn main() {
    divan::main();
}

const VISITS: usize = 1_000_000;
const QUEUES: usize = 50;

/// 15 local days at half-hour granularity: 720 buckets per queue and media type.
static REQUEST: LazyLock<ReportRequest> = LazyLock::new(|| {
    let input = QueryInput {
        all_queues: true,
        from: Some("2026-03-02".parse().expect("a date")),
        to: Some("2026-03-16".parse().expect("a date")),
        tz: Some("Europe/London".parse().expect("a zone")),
        granularity: Granularity::HalfHour,
        thresholds: ["20s", "60s"]
            .iter()
            .map(|t| t.parse().expect("a threshold"))
            .collect(),
        abandons: AbandonPolicy::Against,
        short_abandon: Some("5s".parse().expect("a duration")),
        ..QueryInput::default()
    };
    let context = QueryContext {
        now: "2026-04-01T00:00:00Z".parse().expect("an instant"),
        zone: Zone::utc(),
        limits: Limits::CLI,
        all_queues_by_default: false,
    };
    input.parse(&context).expect("a valid query")
});

static ORG: LazyLock<Vec<QueueInfo>> = LazyLock::new(|| {
    (0..QUEUES)
        .map(|i| QueueInfo {
            queue: QueueRef {
                id: QueueId::new(format!("{:08x}-5e4f-4a3b-8c2d-{i:012x}", i * 7919)),
                name: format!("Queue {i:02}"),
            },
            division: None,
            service_levels: BTreeMap::from([(
                MediaType::Voice,
                ServiceLevelTarget {
                    threshold: Threshold::from_millis(20_000),
                    target_percent: 80.0,
                },
            )]),
        })
        .collect()
});

/// `SplitMix64`, so every run tallies the same visits.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// One million visits spread over the window, the queues and two media types, with waits
/// mostly under a minute, 10 % abandons (some short) and 4 % flow-outs, in the order the
/// details API delivers them: by conversation start.
static VISIT_LIST: LazyLock<Vec<Visit>> = LazyLock::new(|| {
    let mut visits = shuffled_visits();
    visits.sort_by_key(|v| v.entered);
    // Cloned after sorting so that each visit's strings sit in memory in visit order too, as
    // they do when a source parses a page and hands its visits over one by one.
    visits.clone()
});

/// The same visits in random order: the worst case for the cache.
static SHUFFLED: LazyLock<Vec<Visit>> = LazyLock::new(shuffled_visits);

fn shuffled_visits() -> Vec<Visit> {
    let window = REQUEST.window;
    let span =
        u64::try_from(window.end().duration_since(window.start()).as_millis()).expect("positive");
    let mut rng = Rng(2026);
    (0..VISITS)
        .map(|n| {
            let queue = &ORG[usize::try_from(rng.below(QUEUES as u64)).expect("small")].queue;
            let entered = window.start() + millis(rng.below(span));
            let wait = if rng.below(10) == 0 {
                rng.below(300_000)
            } else {
                rng.below(40_000)
            };
            let kind = match rng.below(100) {
                0..=9 => OutcomeKind::Abandoned,
                10..=13 => OutcomeKind::FlowOut,
                _ => OutcomeKind::Answered,
            };
            Visit {
                conversation_id: format!("c{n}"),
                queue: queue.id.clone(),
                media: if rng.below(5) == 0 {
                    MediaType::Chat
                } else {
                    MediaType::Voice
                },
                entered,
                offered_at: Some(entered),
                outcome: Some(VisitOutcome {
                    kind,
                    wait_ms: wait,
                    at: entered + millis(wait),
                }),
            }
        })
        .collect()
}

fn millis(ms: u64) -> SignedDuration {
    SignedDuration::from_millis(i64::try_from(ms).expect("in range"))
}

fn tally(visits: &[Visit]) -> TallySet {
    let request = &*REQUEST;
    let plan = BucketPlan::new(
        &request.window,
        native_granularity(request.granularity),
        &request.zone,
    );
    let thresholds = thresholds_needed(request, &ORG);
    let mut tallier = Tallier::new(plan, &thresholds, request.formula.short_abandon);
    for visit in visits {
        tallier.add(visit);
    }
    tallier.finish()
}

/// Counts one million visits into tallies: the details path's work per page of visits.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn tally_visits(bencher: Bencher) {
    let visits = &*VISIT_LIST;
    let plan = BucketPlan::new(&REQUEST.window, REQUEST.granularity, &REQUEST.zone);
    assert_eq!(plan.len(), 720);
    bencher
        .counter(ItemsCount::new(visits.len()))
        .bench(|| tally(visits));
}

/// Counts the same visits in random order.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn tally_shuffled_visits(bencher: Bencher) {
    let visits = &*SHUFFLED;
    bencher
        .counter(ItemsCount::new(visits.len()))
        .bench(|| tally(visits));
}

/// Builds the report from the tallies of 50 queues × 2 media types × 720 half hours.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn build(bencher: Bencher) {
    let tallies = tally(&VISIT_LIST);
    bencher.bench(|| build_report(&REQUEST, &ORG, &tallies));
}

/// Both: visits in, report out.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn tally_and_build(bencher: Bencher) {
    let visits = &*VISIT_LIST;
    bencher
        .counter(ItemsCount::new(visits.len()))
        .bench(|| build_report(&REQUEST, &ORG, &tally(visits)));
}

/// The bucket lookup alone, which every visit does once or twice.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn bucket_lookup(bencher: Bencher) {
    let visits = &*VISIT_LIST;
    let plan = BucketPlan::new(&REQUEST.window, REQUEST.granularity, &REQUEST.zone);
    let instants: Vec<Timestamp> = visits.iter().map(|v| v.entered).collect();
    bencher.counter(ItemsCount::new(instants.len())).bench(|| {
        instants
            .iter()
            .filter_map(|t| plan.index_of(*t))
            .fold(0usize, usize::wrapping_add)
    });
}
