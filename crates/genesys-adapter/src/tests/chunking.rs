//! The aggregates window split: chunks of local days, partial edge buckets alone, DST days
//! whole, and (a proptest) segments that always cover the window in whole buckets.

use jiff::civil::DateTime;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use sla_core::{BucketPlan, Granularity, TimeWindow, Zone};

use crate::chunking::{Segment, on_grid, segments};

fn zone(name: &str) -> Zone {
    Zone::get(name).unwrap()
}

fn local(zone: &Zone, text: &str) -> Timestamp {
    text.parse::<DateTime>()
        .unwrap()
        .to_zoned(zone.tz().clone())
        .unwrap()
        .timestamp()
}

/// Segments as `start..end` in local time, `*` marking those asked for without granularity.
fn render(zone: &Zone, segments: &[Segment]) -> Vec<String> {
    let fmt = |t: Timestamp| {
        t.to_zoned(zone.tz().clone())
            .strftime("%m-%d %H:%M")
            .to_string()
    };
    segments
        .iter()
        .map(|s| {
            let mark = if s.bucketed { "" } else { "*" };
            format!("{}..{}{mark}", fmt(s.start), fmt(s.end))
        })
        .collect()
}

#[track_caller]
fn check(
    zone_name: &str,
    from: &str,
    to: &str,
    granularity: Granularity,
    chunk_days: u32,
    expect: &[&str],
) {
    let zone = zone(zone_name);
    let window = TimeWindow::new(local(&zone, from), local(&zone, to)).unwrap();
    let plan = BucketPlan::new(&window, granularity, &zone);
    let got = segments(&plan, granularity, &zone, chunk_days);
    assert_eq!(render(&zone, &got), expect);
    assert_invariants(&plan, granularity, &zone, chunk_days, &got);
}

fn assert_invariants(
    plan: &BucketPlan,
    granularity: Granularity,
    zone: &Zone,
    chunk_days: u32,
    got: &[Segment],
) {
    let starts = plan.starts();
    let end = plan.intervals().last().unwrap().1;
    // Contiguous and covering.
    assert_eq!(got.first().unwrap().start, starts[0]);
    assert_eq!(got.last().unwrap().end, end);
    for pair in got.windows(2) {
        assert_eq!(pair[0].end, pair[1].start);
    }
    for s in got {
        assert!(s.start < s.end);
        // Never longer than the chunk, in local days.
        let local_start = s.start.to_zoned(zone.tz().clone()).date();
        let local_end = s.end.to_zoned(zone.tz().clone());
        let limit = local_start
            .checked_add(i64::from(chunk_days).days())
            .unwrap()
            .to_zoned(zone.tz().clone())
            .unwrap();
        assert!(local_end.timestamp() <= limit.timestamp());
        if granularity == Granularity::Total {
            assert!(!s.bucketed);
            continue;
        }
        // Segment edges are plan bounds, so no Genesys bucket straddles two of ours.
        assert!(starts.contains(&s.start) || s.start == end);
        assert!(starts.contains(&s.end) || s.end == end);
        if s.bucketed {
            assert!(on_grid(s.start, granularity, zone.tz()));
            assert!(on_grid(s.end, granularity, zone.tz()));
        } else {
            assert_eq!(plan.index_of(s.start), plan.index_of(s.end_inclusive()));
        }
    }
}

impl Segment {
    fn end_inclusive(&self) -> Timestamp {
        self.end - 1.nanosecond()
    }
}

#[test]
fn a_window_shorter_than_a_chunk_is_one_query() {
    check(
        "UTC",
        "2024-05-01T00:00",
        "2024-05-04T00:00",
        Granularity::Day,
        7,
        &["05-01 00:00..05-04 00:00"],
    );
    check(
        "UTC",
        "2024-05-01T08:00",
        "2024-05-01T17:00",
        Granularity::Total,
        7,
        &["05-01 08:00..05-01 17:00*"],
    );
}

#[test]
fn totals_split_at_local_midnights() {
    check(
        "Europe/London",
        "2024-05-01T00:00",
        "2024-05-21T00:00",
        Granularity::Total,
        7,
        &[
            "05-01 00:00..05-08 00:00*",
            "05-08 00:00..05-15 00:00*",
            "05-15 00:00..05-21 00:00*",
        ],
    );
    // A mid-day start makes a shorter first chunk, ending at a midnight.
    check(
        "UTC",
        "2024-05-01T10:15",
        "2024-05-10T09:00",
        Granularity::Total,
        7,
        &["05-01 10:15..05-08 00:00*", "05-08 00:00..05-10 09:00*"],
    );
}

#[test]
fn month_ends_need_no_special_cutting() {
    check(
        "UTC",
        "2024-01-01T00:00",
        "2024-02-01T00:00",
        Granularity::Day,
        7,
        &[
            "01-01 00:00..01-08 00:00",
            "01-08 00:00..01-15 00:00",
            "01-15 00:00..01-22 00:00",
            "01-22 00:00..01-29 00:00",
            "01-29 00:00..02-01 00:00",
        ],
    );
    // February of a leap year: four weeks and a day.
    check(
        "America/New_York",
        "2024-02-01T00:00",
        "2024-03-01T00:00",
        Granularity::HalfHour,
        7,
        &[
            "02-01 00:00..02-08 00:00",
            "02-08 00:00..02-15 00:00",
            "02-15 00:00..02-22 00:00",
            "02-22 00:00..02-29 00:00",
            "02-29 00:00..03-01 00:00",
        ],
    );
    // A chunk may run across a month end.
    check(
        "UTC",
        "2024-04-25T00:00",
        "2024-05-05T00:00",
        Granularity::Hour,
        7,
        &["04-25 00:00..05-02 00:00", "05-02 00:00..05-05 00:00"],
    );
}

#[test]
fn dst_days_stay_whole() {
    let london = zone("Europe/London");
    // Spring forward on 2026-03-29: a 23-hour day inside the first chunk.
    check(
        "Europe/London",
        "2026-03-23T00:00",
        "2026-04-06T00:00",
        Granularity::Hour,
        7,
        &["03-23 00:00..03-30 00:00", "03-30 00:00..04-06 00:00"],
    );
    let window = TimeWindow::new(
        local(&london, "2026-03-23T00:00"),
        local(&london, "2026-04-06T00:00"),
    )
    .unwrap();
    let plan = BucketPlan::new(&window, Granularity::Hour, &london);
    let got = segments(&plan, Granularity::Hour, &london, 7);
    assert_eq!(
        got[0].end.duration_since(got[0].start).as_hours(),
        7 * 24 - 1
    );
    // Fall back on 2026-10-25: one-day chunks, the DST day 25 hours long.
    check(
        "Europe/London",
        "2026-10-24T00:00",
        "2026-10-27T00:00",
        Granularity::HalfHour,
        1,
        &[
            "10-24 00:00..10-25 00:00",
            "10-25 00:00..10-26 00:00",
            "10-26 00:00..10-27 00:00",
        ],
    );
    let window = TimeWindow::new(
        local(&london, "2026-10-24T00:00"),
        local(&london, "2026-10-27T00:00"),
    )
    .unwrap();
    let plan = BucketPlan::new(&window, Granularity::HalfHour, &london);
    let got = segments(&plan, Granularity::HalfHour, &london, 1);
    let hours: Vec<i64> = got
        .iter()
        .map(|s| s.end.duration_since(s.start).as_hours())
        .collect();
    assert_eq!(hours, [24, 25, 24]);
    // Daily buckets through both changes, in one chunk each.
    check(
        "Europe/London",
        "2026-03-28T00:00",
        "2026-03-31T00:00",
        Granularity::Day,
        7,
        &["03-28 00:00..03-31 00:00"],
    );
}

#[test]
fn partial_edge_buckets_get_their_own_queries() {
    check(
        "UTC",
        "2024-05-01T10:15",
        "2024-05-03T10:15",
        Granularity::Hour,
        7,
        &[
            "05-01 10:15..05-01 11:00*",
            "05-01 11:00..05-03 10:00",
            "05-03 10:00..05-03 10:15*",
        ],
    );
    check(
        "UTC",
        "2024-05-01T10:15",
        "2024-05-01T10:45",
        Granularity::HalfHour,
        7,
        &["05-01 10:15..05-01 10:30*", "05-01 10:30..05-01 10:45*"],
    );
    check(
        "UTC",
        "2024-05-01T10:15",
        "2024-05-01T10:45",
        Granularity::Hour,
        7,
        &["05-01 10:15..05-01 10:45*"],
    );
    check(
        "Europe/Berlin",
        "2024-05-01T06:00",
        "2024-05-10T00:00",
        Granularity::Day,
        7,
        &[
            "05-01 06:00..05-02 00:00*",
            "05-02 00:00..05-09 00:00",
            "05-09 00:00..05-10 00:00",
        ],
    );
    // Kolkata's grid is on local hours, which fall on UTC half hours.
    check(
        "Asia/Kolkata",
        "2024-05-01T10:00",
        "2024-05-01T12:30",
        Granularity::Hour,
        7,
        &["05-01 10:00..05-01 12:00", "05-01 12:00..05-01 12:30*"],
    );
}

proptest! {
    #[test]
    fn segments_cover_the_window_in_whole_buckets(
        zone_index in 0usize..4,
        granularity_index in 0usize..4,
        start_minutes in 0i64..(400 * 24 * 60),
        length_minutes in 1i64..(40 * 24 * 60),
        chunk_days in 1u32..10,
    ) {
        let zone = zone(["UTC", "Europe/London", "America/New_York", "Australia/Adelaide"][zone_index]);
        let granularity = [Granularity::Total, Granularity::HalfHour, Granularity::Hour, Granularity::Day][granularity_index];
        // Minutes off the hour exercise partial edge buckets.
        let base: Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
        let start = base + (start_minutes * 7).minutes();
        let window = TimeWindow::new(start, start + length_minutes.minutes()).unwrap();
        let plan = BucketPlan::new(&window, granularity, &zone);
        let got = segments(&plan, granularity, &zone, chunk_days);
        assert_invariants(&plan, granularity, &zone, chunk_days, &got);
    }
}
