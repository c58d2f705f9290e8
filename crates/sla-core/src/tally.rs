//! Tallies: additive counts per (queue, media type, bucket), and the tallying of visits.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Add, AddAssign};

use jiff::Timestamp;
use rustc_hash::FxBuildHasher;

use crate::model::{MediaType, QueueId, Threshold};
use crate::ports::{OutcomeKind, Visit};
use crate::rollup::BucketPlan;

/// Answered and abandoned visits whose wait was at most a threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Within {
    /// Answered with a wait ≤ the threshold.
    pub answered: u64,
    /// Abandoned with a wait ≤ the threshold.
    pub abandoned: u64,
}

impl AddAssign for Within {
    fn add_assign(&mut self, rhs: Self) {
        self.answered = self.answered.saturating_add(rhs.answered);
        self.abandoned = self.abandoned.saturating_add(rhs.abandoned);
    }
}

/// Additive counts of queue visits. Totals, roll-ups and chunk merges are sums of tallies (the
/// longest answer wait rolls up by max).
///
/// Sums saturate rather than overflow: counts come from upstream responses, and no response,
/// however absurd, may crash a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tally {
    /// Visits offered (`nOffered`).
    pub offered: u64,
    /// Visits answered (`tAnswered`).
    pub answered: u64,
    /// Visits abandoned (`tAbandon`), short abandons included.
    pub abandoned: u64,
    /// Visits that flowed out (`tFlowOut`).
    pub flow_outs: u64,
    /// Abandons with a wait below the short-abandon bound of the query.
    pub short_abandoned: u64,
    /// The sum of the waits of the answered visits, in ms (Σ `tAnswered`).
    pub answer_wait_ms_sum: u64,
    /// The longest wait of an answered visit, in ms (max `tAnswered`); rolls up by max.
    pub answer_wait_ms_max: u64,
    /// The sum of the waits of the abandoned visits, short abandons included, in ms
    /// (Σ `tAbandon`).
    pub abandon_wait_ms_sum: u64,
    /// Per threshold, sorted by threshold, each threshold once.
    within: Vec<(Threshold, Within)>,
}

impl Tally {
    /// The answered and abandoned counts within `threshold` (zero when never counted).
    #[must_use]
    pub fn within(&self, threshold: Threshold) -> Within {
        self.within
            .binary_search_by_key(&threshold, |(t, _)| *t)
            .map(|i| self.within[i].1)
            .unwrap_or_default()
    }

    /// Adds counts within `threshold`.
    pub fn add_within(&mut self, threshold: Threshold, counts: Within) {
        // Zero counts are not stored, so equal tallies compare equal however they were built.
        if counts == Within::default() {
            return;
        }
        match self.within.binary_search_by_key(&threshold, |(t, _)| *t) {
            Ok(i) => self.within[i].1 += counts,
            Err(i) => self.within.insert(i, (threshold, counts)),
        }
    }

    /// Every threshold counted, with its counts, sorted by threshold.
    #[must_use]
    pub fn withins(&self) -> &[(Threshold, Within)] {
        &self.within
    }

    /// The sum of `tallies` without their counts within thresholds (see [`Tally::add_counts`]).
    pub(crate) fn sum_counts<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Tally {
        let mut sum = Tally::default();
        for tally in tallies {
            sum.add_counts(tally);
        }
        sum
    }

    /// Adds the counts of `rhs` but not its counts within thresholds: for sums that only the
    /// counts are read from, such as a report's rows and totals, where adding every
    /// threshold's counts would cost the most of the sum for nothing.
    pub(crate) fn add_counts(&mut self, rhs: &Tally) {
        self.offered = self.offered.saturating_add(rhs.offered);
        self.answered = self.answered.saturating_add(rhs.answered);
        self.abandoned = self.abandoned.saturating_add(rhs.abandoned);
        self.flow_outs = self.flow_outs.saturating_add(rhs.flow_outs);
        self.short_abandoned = self.short_abandoned.saturating_add(rhs.short_abandoned);
        self.answer_wait_ms_sum = self
            .answer_wait_ms_sum
            .saturating_add(rhs.answer_wait_ms_sum);
        self.answer_wait_ms_max = self.answer_wait_ms_max.max(rhs.answer_wait_ms_max);
        self.abandon_wait_ms_sum = self
            .abandon_wait_ms_sum
            .saturating_add(rhs.abandon_wait_ms_sum);
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, rhs: &Tally) {
        self.add_counts(rhs);
        for (threshold, counts) in &rhs.within {
            self.add_within(*threshold, *counts);
        }
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, rhs: Tally) {
        *self += &rhs;
    }
}

impl Add for Tally {
    type Output = Tally;

    fn add(mut self, rhs: Tally) -> Tally {
        self += &rhs;
        self
    }
}

impl<'a> std::iter::Sum<&'a Tally> for Tally {
    fn sum<I: Iterator<Item = &'a Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |mut acc, t| {
            acc += t;
            acc
        })
    }
}

/// Where a tally belongs: queue, media type and the start of its bucket.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TallyKey {
    /// The queue.
    pub queue: QueueId,
    /// The media type.
    pub media: MediaType,
    /// The start of the bucket (the window's start for a total).
    pub bucket: Timestamp,
}

/// Tallies by key. Merging two sets adds the tallies of equal keys, so the tallies of chunks
/// merge into the tally of the whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TallySet {
    tallies: BTreeMap<TallyKey, Tally>,
}

impl TallySet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tally` to whatever is counted at `key`.
    pub fn add(&mut self, key: TallyKey, tally: &Tally) {
        *self.tallies.entry(key).or_default() += tally;
    }

    /// Adds every tally of `other`.
    pub fn merge(&mut self, other: TallySet) {
        for (key, tally) in other.tallies {
            self.add(key, &tally);
        }
    }

    /// The tally at `key`, when anything was counted there.
    #[must_use]
    pub fn get(&self, key: &TallyKey) -> Option<&Tally> {
        self.tallies.get(key)
    }

    /// Every key and tally, ordered by queue, media and bucket.
    pub fn iter(&self) -> impl Iterator<Item = (&TallyKey, &Tally)> {
        self.tallies.iter()
    }

    /// How many keys hold a tally.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tallies.len()
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }
}

impl FromIterator<(TallyKey, Tally)> for TallySet {
    fn from_iter<I: IntoIterator<Item = (TallyKey, Tally)>>(iter: I) -> Self {
        let mut set = TallySet::new();
        for (key, tally) in iter {
            set.add(key, &tally);
        }
        set
    }
}

/// Counts visits into tallies per (queue, media type, bucket).
///
/// Each metric counts in the bucket holding the instant it was emitted, as Genesys's aggregates
/// do: a visit offered at 07:28 and answered at 07:32 is offered in the 07:00 half hour and
/// answered in the 07:30 one. Metrics emitted outside the window are not counted.
#[derive(Debug)]
pub struct Tallier {
    plan: BucketPlan,
    thresholds: Vec<Threshold>,
    short_abandon: Option<Threshold>,
    /// One series per (queue, media): a flat vector of `stride` counters per bucket. Dense
    /// series keep the per-visit work to one hash lookup and a few increments.
    series: Vec<Series>,
    /// The series of each queue id, per media type. Keyed by the id's text so that a lookup
    /// borrows the visit's id instead of building a `(QueueId, MediaType)` key per visit.
    /// Ids come from the directory, not from an adversary, so `SipHash`'s flooding resistance
    /// buys nothing here, and it costs as much as the rest of tallying a visit: `FxHash` instead.
    by_queue: HashMap<String, Vec<(MediaType, usize)>, FxBuildHasher>,
}

#[derive(Debug)]
struct Series {
    queue: QueueId,
    media: MediaType,
    counters: Vec<u64>,
}

/// Counter layout inside a bucket's slot of a series.
const OFFERED: usize = 0;
const ANSWERED: usize = 1;
const ABANDONED: usize = 2;
const FLOW_OUTS: usize = 3;
const SHORT: usize = 4;
const ANSWER_WAIT_SUM: usize = 5;
const ANSWER_WAIT_MAX: usize = 6;
const ABANDON_WAIT_SUM: usize = 7;
const FIXED: usize = 8;

impl Tallier {
    /// A tallier for `plan`'s buckets, counting within each of `thresholds` and short abandons
    /// below `short_abandon`.
    #[must_use]
    pub fn new(
        plan: BucketPlan,
        thresholds: &[Threshold],
        short_abandon: Option<Threshold>,
    ) -> Self {
        let mut thresholds = thresholds.to_vec();
        thresholds.sort_unstable();
        thresholds.dedup();
        Self {
            plan,
            thresholds,
            short_abandon,
            series: Vec::new(),
            by_queue: HashMap::default(),
        }
    }

    /// The index of the series of `queue` and `media`, created when new.
    fn series_index(&mut self, queue: &QueueId, media: MediaType) -> usize {
        if let Some(per_media) = self.by_queue.get(queue.as_str())
            && let Some((_, index)) = per_media.iter().find(|(m, _)| *m == media)
        {
            return *index;
        }
        let index = self.series.len();
        self.series.push(Series {
            queue: queue.clone(),
            media,
            counters: vec![0; self.plan.len() * self.stride()],
        });
        self.by_queue
            .entry(queue.as_str().to_owned())
            .or_default()
            .push((media, index));
        index
    }

    fn stride(&self) -> usize {
        FIXED + 2 * self.thresholds.len()
    }

    /// Counts one visit.
    pub fn add(&mut self, visit: &Visit) {
        let offered_bucket = visit.offered_at.and_then(|t| self.plan.index_of(t));
        let outcome = visit
            .outcome
            .and_then(|o| self.plan.index_of(o.at).map(|bucket| (o, bucket)));
        if offered_bucket.is_none() && outcome.is_none() {
            return;
        }
        let stride = self.stride();
        let index = self.series_index(&visit.queue, visit.media);
        let series = &mut self.series[index].counters;
        if let Some(bucket) = offered_bucket {
            series[bucket * stride + OFFERED] += 1;
        }
        let Some((outcome, bucket)) = outcome else {
            return;
        };
        let slot = &mut series[bucket * stride..(bucket + 1) * stride];
        let (counter, within_offset) = match outcome.kind {
            OutcomeKind::Answered => {
                slot[ANSWER_WAIT_SUM] = slot[ANSWER_WAIT_SUM].saturating_add(outcome.wait_ms);
                slot[ANSWER_WAIT_MAX] = slot[ANSWER_WAIT_MAX].max(outcome.wait_ms);
                (ANSWERED, 0)
            }
            OutcomeKind::Abandoned => {
                slot[ABANDON_WAIT_SUM] = slot[ABANDON_WAIT_SUM].saturating_add(outcome.wait_ms);
                (ABANDONED, 1)
            }
            OutcomeKind::FlowOut => {
                slot[FLOW_OUTS] += 1;
                return;
            }
        };
        slot[counter] += 1;
        if outcome.kind == OutcomeKind::Abandoned
            && self
                .short_abandon
                .is_some_and(|s| outcome.wait_ms < s.as_millis())
        {
            slot[SHORT] += 1;
        }
        // Thresholds are sorted, so the visit is within every threshold from the first one
        // that is at least its wait.
        let first = self
            .thresholds
            .partition_point(|t| t.as_millis() < outcome.wait_ms);
        for i in first..self.thresholds.len() {
            slot[FIXED + 2 * i + within_offset] += 1;
        }
    }

    /// The tallies counted so far. Buckets where nothing was counted are left out.
    #[must_use]
    pub fn finish(self) -> TallySet {
        let stride = self.stride();
        // Each (queue, media, bucket) comes up once, so the tallies can be collected and the
        // map built in one sorted pass rather than inserted one at a time.
        let mut tallies = Vec::new();
        for Series {
            queue,
            media,
            counters,
        } in self.series
        {
            for (bucket, slot) in self.plan.starts().iter().zip(counters.chunks_exact(stride)) {
                if slot.iter().all(|c| *c == 0) {
                    continue;
                }
                let mut tally = Tally {
                    offered: slot[OFFERED],
                    answered: slot[ANSWERED],
                    abandoned: slot[ABANDONED],
                    flow_outs: slot[FLOW_OUTS],
                    short_abandoned: slot[SHORT],
                    answer_wait_ms_sum: slot[ANSWER_WAIT_SUM],
                    answer_wait_ms_max: slot[ANSWER_WAIT_MAX],
                    abandon_wait_ms_sum: slot[ABANDON_WAIT_SUM],
                    within: Vec::with_capacity(self.thresholds.len()),
                };
                for (i, threshold) in self.thresholds.iter().enumerate() {
                    let counts = Within {
                        answered: slot[FIXED + 2 * i],
                        abandoned: slot[FIXED + 2 * i + 1],
                    };
                    tally.add_within(*threshold, counts);
                }
                let key = TallyKey {
                    queue: queue.clone(),
                    media,
                    bucket: *bucket,
                };
                tallies.push((key, tally));
            }
        }
        TallySet {
            tallies: tallies.into_iter().collect(),
        }
    }
}
