//! Companion KPIs: the averages rounded half away from zero, absent denominators, percentages
//! past 100 where metrics are emitted apart, and the longest wait rolling up by max.

use crate::ports::OutcomeKind::{Abandoned, Answered};
use crate::tests::fixtures::{input, queue, request, tally_visits, ts, visit};
use crate::{Counts, Granularity, Kpis, MediaType, QueryInput, build_report};

#[track_caller]
fn check(counts: Counts, expect: Kpis) {
    assert_eq!(counts.kpis(), expect, "{counts:?}");
}

fn counts(offered: u64, answered: u64, abandoned: u64, waits: (u64, u64, u64)) -> Counts {
    Counts {
        offered,
        answered,
        abandoned,
        answer_wait_ms_sum: waits.0,
        answer_wait_ms_max: waits.1,
        abandon_wait_ms_sum: waits.2,
        ..Counts::default()
    }
}

#[test]
fn averages_round_half_away_from_zero_to_whole_milliseconds() {
    let asa = |sum, answered| counts(answered, answered, 0, (sum, sum, 0)).kpis().asa_ms;
    assert_eq!(asa(5, 2), Some(3), "2.5 rounds up");
    assert_eq!(asa(3, 2), Some(2), "1.5 rounds up");
    assert_eq!(asa(1, 3), Some(0), "0.33 rounds down");
    assert_eq!(asa(2, 3), Some(1), "0.67 rounds up");
    assert_eq!(asa(10_001, 2), Some(5_001), "5000.5 rounds up");
    assert_eq!(asa(u64::MAX, 1), Some(u64::MAX), "no overflow");
    assert_eq!(asa(u64::MAX, u64::MAX), Some(1));
    let abandon = |sum, abandoned| {
        counts(abandoned, 0, abandoned, (0, 0, sum))
            .kpis()
            .average_abandon_wait_ms
    };
    assert_eq!(abandon(7, 2), Some(4));
    assert_eq!(abandon(9_999, 1), Some(9_999));
}

#[test]
fn a_zero_denominator_gives_no_kpi_rather_than_zero() {
    check(Counts::default(), Kpis::default());
    // Offered but nothing answered or abandoned yet: percentages of 0, no averages.
    check(
        counts(4, 0, 0, (0, 0, 0)),
        Kpis {
            answer_percent: Some(0.0),
            abandon_percent: Some(0.0),
            ..Kpis::default()
        },
    );
}

#[test]
fn percentages_are_shown_as_computed_even_past_100() {
    // In a short interval, answers of visits offered in the interval before.
    check(
        counts(2, 3, 1, (3_000, 2_000, 500)),
        Kpis {
            asa_ms: Some(1_000),
            average_abandon_wait_ms: Some(500),
            longest_answer_wait_ms: Some(2_000),
            answer_percent: Some(150.0),
            abandon_percent: Some(50.0),
        },
    );
    check(
        counts(3, 2, 1, (1, 1, 1)),
        Kpis {
            asa_ms: Some(1),
            average_abandon_wait_ms: Some(1),
            longest_answer_wait_ms: Some(1),
            answer_percent: Some(66.67),
            abandon_percent: Some(33.33),
        },
    );
}

#[test]
fn the_longest_wait_rolls_up_by_max_across_intervals_queues_and_media() {
    let queues = [queue("q-a", "A"), queue("q-b", "B")];
    let visits = [
        visit(
            "q-a",
            MediaType::Voice,
            ts("2026-03-02T09:00:00Z"),
            Answered,
            30_000,
        ),
        visit(
            "q-a",
            MediaType::Chat,
            ts("2026-03-02T10:00:00Z"),
            Answered,
            90_000,
        ),
        visit(
            "q-a",
            MediaType::Voice,
            ts("2026-03-03T09:00:00Z"),
            Answered,
            10_000,
        ),
        visit(
            "q-b",
            MediaType::Voice,
            ts("2026-03-03T09:00:00Z"),
            Answered,
            45_000,
        ),
        // An abandon's wait is not an answer wait, however long.
        visit(
            "q-b",
            MediaType::Voice,
            ts("2026-03-03T10:00:00Z"),
            Abandoned,
            600_000,
        ),
    ];
    let request = request(&QueryInput {
        granularity: Granularity::Day,
        queues: Vec::new(),
        all_queues: true,
        ..input("2026-03-02", "2026-03-03")
    });
    let tallies = tally_visits(&request, Granularity::Day, &[], &visits);
    let report = build_report(&request, &queues, &tallies);
    let longest = |kpis: &Kpis| kpis.longest_answer_wait_ms;
    let a = &report.queues[0];
    assert_eq!(
        a.intervals
            .iter()
            .map(|i| longest(&i.kpis))
            .collect::<Vec<_>>(),
        [Some(90_000), Some(10_000)]
    );
    assert_eq!(longest(&a.kpis), Some(90_000));
    assert_eq!(longest(&report.queues[1].kpis), Some(45_000));
    assert_eq!(longest(&report.total.kpis), Some(90_000));
    assert_eq!(
        report
            .total
            .intervals
            .iter()
            .map(|i| longest(&i.kpis))
            .collect::<Vec<_>>(),
        [Some(90_000), Some(45_000)]
    );
    // The whole window's averages are over all visits, not the mean of the queues' averages.
    assert_eq!(report.total.kpis.asa_ms, Some(43_750));
    assert_eq!(report.total.kpis.average_abandon_wait_ms, Some(600_000));
    // With media split, each media total keeps its own longest.
    let by_media = request_by_media(&request);
    let report = build_report(&by_media, &queues, &tallies);
    let media: Vec<(MediaType, Option<u64>)> = report
        .total
        .media
        .iter()
        .flatten()
        .map(|m| (m.media_type, longest(&m.kpis)))
        .collect();
    assert_eq!(
        media,
        [
            (MediaType::Voice, Some(45_000)),
            (MediaType::Chat, Some(90_000))
        ]
    );
}

fn request_by_media(request: &crate::ReportRequest) -> crate::ReportRequest {
    crate::ReportRequest {
        by_media: true,
        ..request.clone()
    }
}
