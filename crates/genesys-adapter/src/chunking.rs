//! Pure: splits a window into the spans single aggregates queries cover, so that long windows
//! are fetched in chunks and every Genesys bucket falls inside one bucket of the core's plan.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use sla_core::{BucketPlan, Granularity, Zone};

/// The span of one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// The first instant.
    pub(crate) start: Timestamp,
    /// The first instant after it.
    pub(crate) end: Timestamp,
    /// Whether to ask for the query's granularity. When false the segment is one bucket (the
    /// whole window for a total, or a partial bucket at an edge) and is asked for as one.
    pub(crate) bucketed: bool,
}

/// The segments of `plan`'s window, in order, covering it without gaps or overlaps.
///
/// - A total is split at local midnights every `chunk_days` days.
/// - Otherwise a partial first or last bucket (a window that starts or ends off the local grid,
///   such as 10:15 with hourly buckets) becomes a segment of its own, asked for without
///   granularity, because Genesys would start its buckets at the interval's start and they
///   would straddle ours. The aligned rest is split at local midnights every `chunk_days`
///   days; a local midnight is a boundary of every plan, so chunks hold whole buckets and a
///   DST day (23 or 25 hours) is never cut.
pub(crate) fn segments(
    plan: &BucketPlan,
    granularity: Granularity,
    zone: &Zone,
    chunk_days: u32,
) -> Vec<Segment> {
    let tz = zone.tz();
    let buckets: Vec<(Timestamp, Timestamp)> = plan.intervals().collect();
    let (Some(first), Some(last)) = (buckets.first().copied(), buckets.last().copied()) else {
        return Vec::new();
    };
    if granularity == Granularity::Total {
        return split_days(first.0, last.1, tz, chunk_days)
            .into_iter()
            .map(|(start, end)| Segment {
                start,
                end,
                bucketed: false,
            })
            .collect();
    }
    let mut out = Vec::new();
    let mut aligned = buckets.as_slice();
    if !on_grid(first.0, granularity, tz) {
        out.push(single(first));
        aligned = &aligned[1..];
    }
    let mut tail = None;
    if let Some((&bucket, rest)) = aligned.split_last()
        && !on_grid(bucket.1, granularity, tz)
    {
        tail = Some(single(bucket));
        aligned = rest;
    }
    if let (Some(from), Some(to)) = (aligned.first(), aligned.last()) {
        out.extend(
            split_days(from.0, to.1, tz, chunk_days)
                .into_iter()
                .map(|(start, end)| Segment {
                    start,
                    end,
                    bucketed: true,
                }),
        );
    }
    out.extend(tail);
    out
}

fn single((start, end): (Timestamp, Timestamp)) -> Segment {
    Segment {
        start,
        end,
        bucketed: false,
    }
}

/// Whether `t` is a boundary of the local `granularity` grid in `tz`.
pub(crate) fn on_grid(t: Timestamp, granularity: Granularity, tz: &TimeZone) -> bool {
    let local = t.to_zoned(tz.clone());
    let time = local.time();
    let whole_minute = time.second() == 0 && time.subsec_nanosecond() == 0;
    match granularity {
        Granularity::HalfHour => whole_minute && time.minute() % 30 == 0,
        Granularity::Hour => whole_minute && time.minute() == 0,
        // A day starts at the local midnight, or at the first instant after it when DST skips it.
        _ => local
            .start_of_day()
            .is_ok_and(|midnight| midnight.timestamp() == t),
    }
}

/// `[start, end)` cut at the local midnight `days` days after each piece's start date.
fn split_days(
    start: Timestamp,
    end: Timestamp,
    tz: &TimeZone,
    days: u32,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    let mut cursor = start;
    loop {
        let date = cursor.to_zoned(tz.clone()).date();
        // `Date::to_zoned` is the local midnight, as the core's day plan computes it.
        let next = date
            .checked_add(i64::from(days).days())
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp());
        match next {
            Some(next) if next > cursor && next < end => {
                out.push((cursor, next));
                cursor = next;
            }
            _ => {
                out.push((cursor, end));
                return out;
            }
        }
    }
}
