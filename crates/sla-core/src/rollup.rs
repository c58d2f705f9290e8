//! Calendar buckets in a time zone: half hours, hours, local days, ISO weeks and months, exact
//! across DST changes, clipped to the window.

use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan, Zoned};

use crate::model::{Granularity, TimeWindow, Zone};

/// The intervals of a window at a granularity: consecutive `[start, end)` spans whose inner
/// boundaries fall on the zone's calendar (local half hours, hours, midnights, Mondays, firsts of
/// the month), the first starting at the window's start and the last ending at its end.
///
/// Because a day boundary is also an hour and half-hour boundary, and week and month boundaries
/// are day boundaries, every bucket of a finer plan lies inside exactly one bucket of a coarser
/// plan over the same window: roll-ups are sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketPlan {
    bounds: Vec<Timestamp>,
    /// The bounds as nanoseconds after the first, for [`BucketPlan::index_of`], which every
    /// tallied visit calls: integer arithmetic finds a bucket far faster than a binary search
    /// over timestamps.
    offsets: Vec<i64>,
}

impl BucketPlan {
    /// Plans the buckets of `window` at `granularity` in `zone`.
    #[must_use]
    pub fn new(window: &TimeWindow, granularity: Granularity, zone: &Zone) -> Self {
        let mut bounds = vec![window.start()];
        if granularity != Granularity::Total {
            let mut at = window.start().to_zoned(zone.tz().clone());
            while let Some(next) = next_boundary(&at, granularity) {
                if next.timestamp() >= window.end() {
                    break;
                }
                bounds.push(next.timestamp());
                at = next;
            }
        }
        bounds.push(window.end());
        let offsets = bounds
            .iter()
            .map(|b| {
                // A window longer than i64 nanoseconds (292 years) saturates; index_of then
                // falls back to comparing timestamps.
                i64::try_from(b.duration_since(window.start()).as_nanos()).unwrap_or(i64::MAX)
            })
            .collect();
        Self { bounds, offsets }
    }

    /// How many buckets there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    /// Whether there are none (never true: a window has at least one bucket).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The start of every bucket, in order.
    #[must_use]
    pub fn starts(&self) -> &[Timestamp] {
        &self.bounds[..self.bounds.len() - 1]
    }

    /// The buckets as `(start, end)` pairs, in order.
    pub fn intervals(&self) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        self.bounds.windows(2).map(|w| (w[0], w[1]))
    }

    /// The index of the bucket holding `t`, or `None` when `t` is outside the window.
    #[must_use]
    pub fn index_of(&self, t: Timestamp) -> Option<usize> {
        let last = self.offsets.len() - 1;
        let Some(at) = self.nanos_after_start(t) else {
            if t < self.bounds[0] || t >= self.bounds[last] {
                return None;
            }
            // The number of bounds <= t, minus one, is the bucket.
            return Some(self.bounds.partition_point(|b| *b <= t) - 1);
        };
        if at < 0 || at >= self.offsets[last] {
            return None;
        }
        // Guess from the width of the second bucket (the first may be cut short by the
        // window's start): inner buckets are all that wide, but for DST days, months and the
        // last bucket; check the guess, and search when it is wrong.
        let guess = match self.offsets.get(1..=2) {
            Some(&[first, second]) if at >= first && second > first => {
                let steps = usize::try_from((at - first) / (second - first)).unwrap_or(usize::MAX);
                steps.saturating_add(1).min(last - 1)
            }
            _ => 0,
        };
        if self.offsets[guess] <= at && at < self.offsets[guess + 1] {
            return Some(guess);
        }
        Some(self.offsets.partition_point(|o| *o <= at) - 1)
    }

    /// `t` as nanoseconds after the window's start, when that fits an `i64`.
    fn nanos_after_start(&self, t: Timestamp) -> Option<i64> {
        let start = self.bounds[0];
        let seconds = t.as_second().checked_sub(start.as_second())?;
        let nanos = i64::from(t.subsec_nanosecond()) - i64::from(start.subsec_nanosecond());
        let at = seconds.checked_mul(1_000_000_000)?.checked_add(nanos)?;
        // Offsets saturate for windows too long for i64 nanoseconds; compare timestamps then.
        (self.offsets[self.offsets.len() - 1] < i64::MAX).then_some(at)
    }
}

/// The first calendar boundary strictly after `at`.
fn next_boundary(at: &Zoned, granularity: Granularity) -> Option<Zoned> {
    let tz = at.time_zone().clone();
    let date = at.date();
    let local_midnight = |d: Date| d.to_zoned(tz.clone()).ok();
    match granularity {
        Granularity::Total => None,
        Granularity::HalfHour | Granularity::Hour => {
            // Step in absolute time, then round down to the local grid: across a DST change the
            // local clock repeats or skips an hour, and absolute steps visit every real bucket once.
            let minutes: i8 = if granularity == Granularity::HalfHour {
                30
            } else {
                60
            };
            let mut candidate = at.checked_add(i64::from(minutes).minutes()).ok()?;
            let time = candidate.time();
            let floor_minute = (time.minute() / minutes) * minutes;
            let floored = Time::new(time.hour(), floor_minute, 0, 0).ok()?;
            let rounded = candidate.with().time(floored).build().ok()?;
            if rounded.timestamp() > at.timestamp() {
                candidate = rounded;
            }
            Some(candidate)
        }
        Granularity::Day => local_midnight(date.tomorrow().ok()?),
        Granularity::Week => {
            let days_to_monday = 7 - i64::from(date.weekday().to_monday_zero_offset());
            let next_monday = date.checked_add(days_to_monday.days()).ok()?;
            debug_assert_eq!(next_monday.weekday(), Weekday::Monday);
            local_midnight(next_monday)
        }
        Granularity::Month => local_midnight(date.first_of_month().checked_add(1.month()).ok()?),
    }
}

/// The granularity sources count in: weeks and months are rolled up from days.
#[must_use]
pub fn native_granularity(granularity: Granularity) -> Granularity {
    match granularity {
        Granularity::Week | Granularity::Month => Granularity::Day,
        other => other,
    }
}
