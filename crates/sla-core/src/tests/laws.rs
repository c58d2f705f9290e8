//! Algebraic laws as proptest properties: tallies of concatenated visit lists merge, chunked
//! windows merge into the whole, counts add up through reports, percents stay in [0, 100].

use crate::tests::fixtures::{config, p, ps};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use crate::ports::{OutcomeKind, Visit, VisitOutcome};
use crate::tests::fixtures::{input, ms, queue, queue_with_targets, request, tally_visits, ts};
use crate::{
    BucketPlan, Granularity, MediaType, QueryInput, QueueId, QueueInfo, ReportRequest,
    ServiceLevel, SlaReport, TallySet, Threshold, TimeWindow, build_report, native_granularity,
    percent, thresholds_needed,
};

/// Three local days in Europe/London around the spring change, 71 hours in all.
const FROM: &str = "2026-03-28";
const TO: &str = "2026-03-30";
const START: &str = "2026-03-28T00:00:00Z";
const HOURS: i64 = 71;

const QUEUES: [&str; 3] = ["q-a", "q-b", "q-c"];

fn queues() -> Vec<QueueInfo> {
    vec![
        queue_with_targets(
            "q-a",
            "A",
            &[
                (MediaType::Voice, 20_000, 80.0),
                (MediaType::Chat, 60_000, 90.0),
            ],
        ),
        queue_with_targets("q-b", "B", &[(MediaType::Voice, 30_000, 85.0)]),
        queue("q-c", "C"),
    ]
}

/// Waits around the thresholds the properties use, and anything else up to two minutes.
fn wait() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0..120_000u64,
        1 => prop::sample::select(vec![0, 2_999, 3_000, 19_999, 20_000, 20_001, 25_000, 30_000, 60_000]),
    ]
}

/// A visit whose metrics fall mostly inside the window, some before or after it.
fn visit() -> impl Strategy<Value = Visit> {
    (
        0..QUEUES.len(),
        prop::sample::select(vec![MediaType::Voice, MediaType::Chat]),
        -3_600_000..(HOURS + 1) * 3_600_000,
        any::<bool>(),
        prop::option::weighted(0.9, (0..3u8, wait())),
    )
        .prop_map(|(q, media, offset, offered, outcome)| {
            let entered = ts(START) + SignedDuration::from_millis(offset);
            Visit {
                conversation_id: format!("c{offset}"),
                queue: QueueId::new(QUEUES[q]),
                media,
                entered,
                offered_at: offered.then_some(entered),
                outcome: outcome.map(|(kind, wait_ms)| VisitOutcome {
                    kind: [
                        OutcomeKind::Answered,
                        OutcomeKind::Abandoned,
                        OutcomeKind::FlowOut,
                    ][usize::from(kind)],
                    wait_ms,
                    at: entered + SignedDuration::from_millis(i64::try_from(wait_ms).unwrap()),
                }),
            }
        })
}

fn visits() -> impl Strategy<Value = Vec<Visit>> {
    prop::collection::vec(visit(), 0..300)
}

fn granularity() -> impl Strategy<Value = Granularity> {
    prop::sample::select(Granularity::ALL.to_vec())
}

/// A query over the three days with the objectives and formula drawn.
fn query() -> impl Strategy<Value = QueryInput> {
    (
        granularity(),
        prop::sample::subsequence(vec!["20s", "19999ms", "1m", "configured"], 1..=4),
        prop::sample::select(vec!["ignore", "against", "after-threshold", "for"]),
        prop::sample::select(vec![None, Some("3s"), Some("20s"), Some("25s")]),
        prop::sample::select(vec!["ignore", "against"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(granularity, thresholds, abandons, short, flowouts, by_media, contract)| QueryInput {
            tz: Some(p("Europe/London")),
            granularity,
            thresholds: ps(&thresholds),
            objectives: if contract {
                config("[[objective]]\nname = \"contract\"\nthreshold = \"25s\"\ntarget = 80\nqueues = [\"A\", \"q-c\"]\n")
            } else {
                Vec::new()
            },
            abandons: p(abandons),
            short_abandon: short.map(p),
            flowouts: p(flowouts),
            by_media,
            ..input(FROM, TO)
        })
}

/// Tallies `visits` over `window` as a source counting `request` would.
fn tally_window(request: &ReportRequest, window: TimeWindow, visits: &[Visit]) -> TallySet {
    let chunk = ReportRequest {
        window,
        ..request.clone()
    };
    tally_visits(
        &chunk,
        native_granularity(request.granularity),
        &thresholds_needed(request, &queues()),
        visits,
    )
}

fn every_level(report: &SlaReport) -> impl Iterator<Item = &ServiceLevel> {
    let rows = report.queues.iter().flat_map(|q| {
        q.service_levels
            .iter()
            .chain(q.intervals.iter().flat_map(|i| &i.service_levels))
    });
    let total = report.total.service_levels.iter().chain(
        report
            .total
            .intervals
            .iter()
            .flat_map(|i| &i.service_levels),
    );
    rows.chain(total)
}

proptest! {
    #[test]
    fn the_tally_of_a_concatenation_is_the_merge_of_the_tallies(
        granularity in granularity(),
        left in visits(),
        right in visits(),
        short in prop::option::of(wait()),
    ) {
        let request = request(&QueryInput {
            tz: Some(p("Europe/London")),
            short_abandon: short.map(ms),
            ..input(FROM, TO)
        });
        let thresholds = [ms(3_000), ms(20_000), ms(60_000)];
        let tally = |visits: &[Visit]| tally_visits(&request, granularity, &thresholds, visits);
        let whole = tally(&[left.clone(), right.clone()].concat());
        let mut merged = tally(&left);
        merged.merge(tally(&right));
        prop_assert_eq!(&whole, &merged);
        // And in the other order.
        let mut swapped = tally(&right);
        swapped.merge(tally(&left));
        prop_assert_eq!(whole, swapped);
    }

    /// The KPIs of merged tallies equal those computed straight from the concatenated visits,
    /// here with floating-point averages rounded by `f64::round` (half away from zero).
    #[test]
    fn kpis_of_merged_tallies_are_those_of_the_concatenated_visits(
        left in visits(),
        right in visits(),
    ) {
        let request = request(&QueryInput {
            tz: Some(p("Europe/London")),
            queues: Vec::new(),
            all_queues: true,
            ..input(FROM, TO)
        });
        let tally = |visits: &[Visit]| tally_visits(&request, Granularity::Total, &[], visits);
        let mut merged = tally(&left);
        merged.merge(tally(&right));
        let kpis = build_report(&request, &queues(), &merged).total.kpis;

        let all = [left, right].concat();
        let window = request.window;
        let offered = all.iter().filter(|v| v.offered_at.is_some_and(|t| window.contains(t))).count();
        let ended = |kind: OutcomeKind| -> Vec<u64> {
            all.iter()
                .filter_map(|v| v.outcome)
                .filter(|o| o.kind == kind && window.contains(o.at))
                .map(|o| o.wait_ms)
                .collect()
        };
        let (answered, abandoned) = (ended(OutcomeKind::Answered), ended(OutcomeKind::Abandoned));
        #[expect(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "small test sums")]
        let average = |waits: &[u64]| {
            (!waits.is_empty()).then(|| (waits.iter().sum::<u64>() as f64 / waits.len() as f64).round() as u64)
        };
        #[expect(clippy::cast_precision_loss, reason = "small test counts")]
        let share = |n: usize| (offered > 0).then(|| (n as f64 * 10_000.0 / offered as f64).round() / 100.0);
        prop_assert_eq!(kpis.asa_ms, average(&answered));
        prop_assert_eq!(kpis.average_abandon_wait_ms, average(&abandoned));
        prop_assert_eq!(kpis.longest_answer_wait_ms, answered.iter().max().copied());
        prop_assert_eq!(kpis.answer_percent, share(answered.len()));
        prop_assert_eq!(kpis.abandon_percent, share(abandoned.len()));
    }

    #[test]
    fn merged_chunk_tallies_make_the_same_report_as_the_whole_window(
        query in query(),
        visits in visits(),
        cuts in prop::collection::btree_set(1..3usize, 0..=2),
    ) {
        let request = request(&query);
        // Chunks split at local midnights, which are boundaries at every native granularity.
        let days = BucketPlan::new(&request.window, Granularity::Day, &request.zone);
        let mut bounds: Vec<Timestamp> = vec![request.window.start()];
        bounds.extend(cuts.iter().map(|i| days.starts()[*i]));
        bounds.push(request.window.end());
        let mut merged = TallySet::new();
        for pair in bounds.windows(2) {
            let window = TimeWindow::new(pair[0], pair[1]).unwrap();
            merged.merge(tally_window(&request, window, &visits));
        }
        let whole = tally_window(&request, request.window, &visits);
        if native_granularity(request.granularity) != Granularity::Total {
            prop_assert_eq!(&merged, &whole);
        }
        prop_assert_eq!(
            build_report(&request, &queues(), &merged),
            build_report(&request, &queues(), &whole)
        );
    }

    #[test]
    fn every_percent_is_between_0_and_100_or_absent(query in query(), visits in visits()) {
        let request = request(&query);
        let tallies = tally_window(&request, request.window, &visits);
        let report = build_report(&request, &queues(), &tallies);
        for sl in every_level(&report) {
            prop_assert!(sl.numerator <= sl.denominator, "{:?}", sl);
            match sl.percent {
                None => prop_assert_eq!(sl.denominator, 0),
                Some(p) => prop_assert!((0.0..=100.0).contains(&p), "{:?}", sl),
            }
            prop_assert_eq!(sl.met_target.is_some(), sl.percent.is_some() && sl.target_percent.is_some());
        }
    }

    #[test]
    fn counts_add_up_from_intervals_to_rows_to_the_total(query in query(), visits in visits()) {
        let request = request(&query);
        let tallies = tally_window(&request, request.window, &visits);
        let report = build_report(&request, &queues(), &tallies);
        let sum = |counts: &mut dyn Iterator<Item = &crate::Counts>| {
            counts.fold((0, 0, 0, 0, 0), |acc, c| {
                (acc.0 + c.offered, acc.1 + c.answered, acc.2 + c.abandoned, acc.3 + c.flow_outs, acc.4 + c.short_abandoned.unwrap_or(0))
            })
        };
        let t = &report.total.counts;
        prop_assert_eq!(
            sum(&mut report.queues.iter().map(|q| &q.counts)),
            (t.offered, t.answered, t.abandoned, t.flow_outs, t.short_abandoned.unwrap_or(0))
        );
        prop_assert_eq!(t.short_abandoned.is_some(), request.formula.short_abandon.is_some());
        for row in &report.queues {
            if request.granularity != Granularity::Total {
                let c = &row.counts;
                prop_assert_eq!(
                    sum(&mut row.intervals.iter().map(|i| &i.counts)),
                    (c.offered, c.answered, c.abandoned, c.flow_outs, c.short_abandoned.unwrap_or(0))
                );
                for (k, sl) in row.service_levels.iter().enumerate() {
                    let (n, d) = row.intervals.iter().fold((0, 0), |(n, d), i| {
                        (n + i.service_levels[k].numerator, d + i.service_levels[k].denominator)
                    });
                    prop_assert_eq!((n, d), (sl.numerator, sl.denominator));
                }
            }
        }
        // Each objective's total sums the rows that have it.
        for (k, objective) in request.objectives.iter().enumerate() {
            let (n, d) = report
                .queues
                .iter()
                .flat_map(|q| q.service_levels.iter().filter(|sl| sl.objective == objective.name))
                .fold((0, 0), |(n, d), sl| (n + sl.numerator, d + sl.denominator));
            let total = &report.total.service_levels[k];
            prop_assert_eq!((n, d), (total.numerator, total.denominator));
        }
    }

    #[test]
    fn percent_is_the_ratio_rounded_to_a_hundredth(
        denominator in 1..u64::from(u32::MAX),
        share in 0.0..=1.0f64,
    ) {
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "a share of a u32")]
        let numerator = (denominator as f64 * share) as u64;
        let p = percent(numerator, denominator).unwrap();
        #[expect(clippy::cast_precision_loss, reason = "u32-sized counts")]
        let exact = 100.0 * numerator as f64 / denominator as f64;
        prop_assert!((0.0..=100.0).contains(&p));
        prop_assert!((p - exact).abs() <= 0.005 + 1e-9, "{} vs {}", p, exact);
    }

    #[test]
    fn index_of_finds_the_bucket_a_search_of_the_bounds_finds(
        granularity in granularity(),
        tz in prop::sample::select(vec!["UTC", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns"]),
        start_offset in -400_000_000_000_000i64..400_000_000_000_000,
        length in 1i64..3_000_000_000_000_000,
        probes in prop::collection::vec(-100_000_000_000_000i64..3_100_000_000_000_000, 1..50),
    ) {
        // Windows of up to about 35 days from around 2026, starting anywhere to the nanosecond.
        let start = ts("2026-03-01T00:00:00Z") + SignedDuration::from_nanos(start_offset);
        let window = TimeWindow::new(start, start + SignedDuration::from_nanos(length)).unwrap();
        let plan = BucketPlan::new(&window, granularity, &crate::tests::fixtures::zone(tz));
        let intervals: Vec<(Timestamp, Timestamp)> = plan.intervals().collect();
        for probe in probes {
            let t = start + SignedDuration::from_nanos(probe);
            let expect = intervals.iter().position(|(s, e)| *s <= t && t < *e);
            prop_assert_eq!(plan.index_of(t), expect, "{} in {:?}", t, window);
        }
        for (i, (s, e)) in intervals.iter().enumerate() {
            prop_assert_eq!(plan.index_of(*s), Some(i));
            prop_assert_eq!(plan.index_of(*e - SignedDuration::from_nanos(1)), Some(i));
        }
    }

    #[test]
    fn thresholds_read_back_what_they_print(millis in 0..u64::MAX / 2) {
        let threshold = Threshold::from_millis(millis);
        prop_assert_eq!(Threshold::parse(&threshold.to_string()), Ok(threshold));
    }
}
