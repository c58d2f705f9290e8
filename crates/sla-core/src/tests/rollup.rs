//! Calendar buckets: local days, half hours, hours, ISO weeks and months across the 2026
//! Europe/London DST changes (29 March: 23 hours; 25 October: 25 hours) and in zones with
//! half-hour offsets; and roll-ups of finer tallies into weeks and months through reports.

use crate::tests::fixtures::{p, ps};
use jiff::Timestamp;

use crate::tests::fixtures::{
    QueueProfile, generate_visits, input, queue, request, tally_visits, ts, zone,
};
use crate::{BucketPlan, Granularity, MediaType, QueryInput, TimeWindow, native_granularity};

/// Describes each bucket as `local start, length`, e.g. `2026-03-29 00:00 +00:00 23h`.
fn describe(plan: &BucketPlan, tz: &str) -> Vec<String> {
    let tz = zone(tz);
    plan.intervals()
        .map(|(start, end)| {
            let local = start.to_zoned(tz.tz().clone());
            let minutes = (end - start).get_seconds() / 60;
            let length = if minutes % 60 == 0 {
                format!("{}h", minutes / 60)
            } else {
                format!("{minutes}m")
            };
            format!("{} {length}", local.strftime("%Y-%m-%d %H:%M %:z"))
        })
        .collect()
}

/// The plan of `[from, to)` (instants) in `tz` at `granularity`.
fn plan(from: &str, to: &str, tz: &str, granularity: Granularity) -> BucketPlan {
    let window = TimeWindow::new(ts(from), ts(to)).unwrap();
    BucketPlan::new(&window, granularity, &zone(tz))
}

/// The plan of the whole local days `from..=to` in `tz`.
fn days_plan(from: &str, to: &str, tz: &str, granularity: Granularity) -> BucketPlan {
    let request = request(&QueryInput {
        tz: Some(p(tz)),
        ..input(from, to)
    });
    BucketPlan::new(&request.window, granularity, &request.zone)
}

#[track_caller]
fn check(plan: &BucketPlan, tz: &str, expect: &[&str]) {
    assert_eq!(describe(plan, tz), expect);
}

const LONDON: &str = "Europe/London";

/// The buckets of the whole London days `from..=to` at `granularity`, described.
fn london(from: &str, to: &str, granularity: Granularity) -> Vec<String> {
    describe(&days_plan(from, to, LONDON, granularity), LONDON)
}

#[test]
fn local_days_across_the_spring_change_include_a_23_hour_day() {
    assert_eq!(
        london("2026-03-28", "2026-03-30", Granularity::Day),
        &[
            "2026-03-28 00:00 +00:00 24h",
            "2026-03-29 00:00 +00:00 23h",
            "2026-03-30 00:00 +01:00 24h",
        ],
    );
}

#[test]
fn local_days_across_the_autumn_change_include_a_25_hour_day() {
    assert_eq!(
        london("2026-10-24", "2026-10-26", Granularity::Day),
        &[
            "2026-10-24 00:00 +01:00 24h",
            "2026-10-25 00:00 +01:00 25h",
            "2026-10-26 00:00 +00:00 24h",
        ],
    );
}

#[test]
fn the_spring_change_day_has_46_half_hours_and_23_hours() {
    let half_hours = london("2026-03-29", "2026-03-29", Granularity::HalfHour);
    assert_eq!(half_hours.len(), 46);
    assert!(
        half_hours.iter().all(|b| b.ends_with(" 30m")),
        "{half_hours:#?}"
    );
    // 01:00 GMT is followed by 02:00 BST: the local hour from 01:00 to 02:00 does not exist.
    assert_eq!(
        half_hours[..4],
        [
            "2026-03-29 00:00 +00:00 30m",
            "2026-03-29 00:30 +00:00 30m",
            "2026-03-29 02:00 +01:00 30m",
            "2026-03-29 02:30 +01:00 30m",
        ]
    );
    assert_eq!(half_hours[45], "2026-03-29 23:30 +01:00 30m");
    let hours = days_plan("2026-03-29", "2026-03-29", LONDON, Granularity::Hour);
    assert_eq!(hours.len(), 23);
}

#[test]
fn the_autumn_change_day_has_50_half_hours_and_25_hours() {
    let half_hours = london("2026-10-25", "2026-10-25", Granularity::HalfHour);
    assert_eq!(half_hours.len(), 50);
    assert!(
        half_hours.iter().all(|b| b.ends_with(" 30m")),
        "{half_hours:#?}"
    );
    // The local hour from 01:00 to 02:00 happens twice, first in BST and then in GMT.
    assert_eq!(
        half_hours[..7],
        [
            "2026-10-25 00:00 +01:00 30m",
            "2026-10-25 00:30 +01:00 30m",
            "2026-10-25 01:00 +01:00 30m",
            "2026-10-25 01:30 +01:00 30m",
            "2026-10-25 01:00 +00:00 30m",
            "2026-10-25 01:30 +00:00 30m",
            "2026-10-25 02:00 +00:00 30m",
        ]
    );
    assert_eq!(half_hours[49], "2026-10-25 23:30 +00:00 30m");
    let hours = days_plan("2026-10-25", "2026-10-25", LONDON, Granularity::Hour);
    assert_eq!(hours.len(), 25);
}

#[test]
fn iso_weeks_start_on_local_monday_midnight() {
    // From a Wednesday to a Tuesday, across the spring change (in the week of 23 March).
    assert_eq!(
        london("2026-03-18", "2026-04-07", Granularity::Week),
        &[
            "2026-03-18 00:00 +00:00 120h",
            "2026-03-23 00:00 +00:00 167h",
            "2026-03-30 00:00 +01:00 168h",
            "2026-04-06 00:00 +01:00 48h",
        ],
    );
    // Across the autumn change (in the week of 19 October).
    assert_eq!(
        london("2026-10-19", "2026-11-01", Granularity::Week),
        &[
            "2026-10-19 00:00 +01:00 169h",
            "2026-10-26 00:00 +00:00 168h",
        ],
    );
}

#[test]
fn months_follow_local_firsts_of_the_month() {
    assert_eq!(
        london("2026-01-01", "2026-12-31", Granularity::Month),
        &[
            "2026-01-01 00:00 +00:00 744h",
            "2026-02-01 00:00 +00:00 672h",
            "2026-03-01 00:00 +00:00 743h",
            "2026-04-01 00:00 +01:00 720h",
            "2026-05-01 00:00 +01:00 744h",
            "2026-06-01 00:00 +01:00 720h",
            "2026-07-01 00:00 +01:00 744h",
            "2026-08-01 00:00 +01:00 744h",
            "2026-09-01 00:00 +01:00 720h",
            "2026-10-01 00:00 +01:00 745h",
            "2026-11-01 00:00 +00:00 720h",
            "2026-12-01 00:00 +00:00 744h",
        ],
    );
}

#[test]
fn a_window_off_the_grid_gets_partial_first_and_last_buckets() {
    check(
        &plan(
            "2026-03-02T10:15:00Z",
            "2026-03-02T11:40:00Z",
            "UTC",
            Granularity::HalfHour,
        ),
        "UTC",
        &[
            "2026-03-02 10:15 +00:00 15m",
            "2026-03-02 10:30 +00:00 30m",
            "2026-03-02 11:00 +00:00 30m",
            "2026-03-02 11:30 +00:00 10m",
        ],
    );
    check(
        &plan(
            "2026-03-02T10:15:00Z",
            "2026-03-04T06:00:00Z",
            "UTC",
            Granularity::Day,
        ),
        "UTC",
        &[
            "2026-03-02 10:15 +00:00 825m",
            "2026-03-03 00:00 +00:00 24h",
            "2026-03-04 00:00 +00:00 6h",
        ],
    );
}

#[test]
fn total_is_one_bucket_for_the_whole_window() {
    assert_eq!(
        london("2026-03-28", "2026-03-30", Granularity::Total),
        &["2026-03-28 00:00 +00:00 71h"],
    );
}

#[test]
fn half_hours_follow_the_local_grid_in_zones_with_odd_offsets() {
    // Kathmandu is 5:45 ahead of UTC: local half hours start at :15 and :45 UTC.
    let kathmandu = days_plan(
        "2026-03-02",
        "2026-03-02",
        "Asia/Kathmandu",
        Granularity::HalfHour,
    );
    assert_eq!(kathmandu.len(), 48);
    assert_eq!(kathmandu.starts()[0], ts("2026-03-01T18:15:00Z"));
    assert_eq!(kathmandu.starts()[1], ts("2026-03-01T18:45:00Z"));
    // Lord Howe Island moves its clocks by half an hour: 24.5 and 23.5 hour days.
    let autumn = days_plan(
        "2026-04-05",
        "2026-04-05",
        "Australia/Lord_Howe",
        Granularity::HalfHour,
    );
    assert_eq!(autumn.len(), 49);
    let spring = days_plan(
        "2026-10-04",
        "2026-10-04",
        "Australia/Lord_Howe",
        Granularity::HalfHour,
    );
    assert_eq!(spring.len(), 47);
    for plan in [&kathmandu, &autumn, &spring] {
        assert!(
            plan.intervals().all(|(s, e)| (e - s).get_seconds() == 1800),
            "{plan:?}"
        );
    }
}

#[test]
fn index_of_finds_the_bucket_holding_an_instant() {
    let plan = plan(
        "2026-03-02T07:00:00Z",
        "2026-03-02T09:00:00Z",
        "UTC",
        Granularity::HalfHour,
    );
    let at = |t: &str| plan.index_of(ts(&format!("2026-03-02T{t}Z")));
    assert_eq!(at("06:59:59.999"), None);
    assert_eq!(at("07:00:00"), Some(0));
    assert_eq!(at("07:29:59.999"), Some(0));
    assert_eq!(at("07:30:00"), Some(1));
    assert_eq!(at("08:59:59.999"), Some(3));
    assert_eq!(at("09:00:00"), None);
    assert_eq!(plan.len(), 4);
    assert!(!plan.is_empty());
}

#[test]
fn weeks_and_months_are_counted_in_days() {
    use Granularity::{Day, HalfHour, Hour, Month, Total, Week};
    let got: Vec<_> = [Total, HalfHour, Hour, Day, Week, Month]
        .map(native_granularity)
        .into();
    assert_eq!(got, [Total, HalfHour, Hour, Day, Day, Day]);
}

/// Sums the counts of report intervals that start in `[from, to)`.
fn offered_between(report: &crate::SlaReport, from: Timestamp, to: Timestamp) -> (u64, u64, u64) {
    report
        .total
        .intervals
        .iter()
        .filter(|i| from <= i.start && i.start < to)
        .fold((0, 0, 0), |(o, a, n), i| {
            (
                o + i.counts.offered,
                a + i.counts.answered,
                n + i.service_levels[0].numerator,
            )
        })
}

#[test]
fn day_tallies_roll_up_into_weeks_and_months_across_both_changes() {
    let queues = [queue("q1", "One"), queue("q2", "Two")];
    let profiles = [
        QueueProfile {
            id: "q1",
            media: &[MediaType::Voice],
            per_day: 40,
            typical_wait_s: 20,
        },
        QueueProfile {
            id: "q2",
            media: &[MediaType::Voice, MediaType::Chat],
            per_day: 25,
            typical_wait_s: 40,
        },
    ];
    let london = zone("Europe/London");
    // Generate around the clock, so visits land in the doubled and skipped local hours too.
    let mut visits = generate_visits(7, &profiles, jiff::civil::date(2026, 3, 1), 250, &london);
    for (i, v) in visits.iter_mut().enumerate() {
        let shift = jiff::SignedDuration::from_hours(i64::try_from(i % 24).unwrap() - 12);
        v.entered += shift;
        v.offered_at = v.offered_at.map(|t| t + shift);
        if let Some(o) = v.outcome.as_mut() {
            o.at += shift;
        }
    }
    let base = QueryInput {
        tz: Some(p("Europe/London")),
        thresholds: ps(&["20s"]),
        abandons: p("against"),
        ..input("2026-03-01", "2026-11-05")
    };
    let report_at = |granularity: &str, counted_in: Granularity| {
        let request = request(&QueryInput {
            granularity: p(granularity),
            ..base.clone()
        });
        let tallies = tally_visits(
            &request,
            counted_in,
            &[crate::tests::fixtures::ms(20_000)],
            &visits,
        );
        crate::build_report(&request, &queues, &tallies)
    };
    let days = report_at("day", Granularity::Day);
    assert!(
        days.total.counts.offered > 10_000,
        "{:?}",
        days.total.counts
    );
    for granularity in [Granularity::Week, Granularity::Month] {
        let from_days = report_at(granularity.as_str(), Granularity::Day);
        let direct = report_at(granularity.as_str(), granularity);
        assert_eq!(from_days, direct, "{granularity}");
        for interval in &from_days.total.intervals {
            let counts = &interval.counts;
            let sl = &interval.service_levels[0];
            assert_eq!(
                (counts.offered, counts.answered, sl.numerator),
                offered_between(&days, interval.start, interval.end),
                "{granularity} from {}",
                interval.start
            );
        }
        assert_eq!(from_days.total.counts, days.total.counts);
        assert_eq!(from_days.total.service_levels, days.total.service_levels);
    }
    // The total report (one interval) is the sum too.
    let total = report_at("total", Granularity::Day);
    assert_eq!(total.total.counts, days.total.counts);
    assert_eq!(
        total.queues[0].service_levels,
        days.queues[0].service_levels
    );
}
