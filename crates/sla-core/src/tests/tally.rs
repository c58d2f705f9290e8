//! The `Tallier` (visits into tallies) and `Tally` arithmetic: inclusive thresholds, short
//! abandons, emit-instant attribution, the window's edges and transfers.

use jiff::Timestamp;

use crate::ports::{OutcomeKind, Visit, VisitOutcome};
use crate::tests::fixtures::{counts, ms, tally_in, tally_key, ts, visit, within, zone};
use crate::{
    BucketPlan, Granularity, MediaType, QueueId, Tally, TallyKey, TallySet, Threshold, TimeWindow,
    Within,
};

use MediaType::{Chat, Voice};
use OutcomeKind::{Abandoned, Answered, FlowOut};

const WINDOW: (&str, &str) = ("2026-03-02T07:00:00Z", "2026-03-02T09:00:00Z");

fn plan(granularity: Granularity) -> BucketPlan {
    let window = TimeWindow::new(ts(WINDOW.0), ts(WINDOW.1)).unwrap();
    BucketPlan::new(&window, granularity, &zone("UTC"))
}

/// One expected tally, written compactly: the bucket's start, then the counts, then
/// `(threshold ms, answered within, abandoned within)` for each threshold with any.
struct Expect {
    queue: &'static str,
    media: MediaType,
    bucket: &'static str,
    offered: u64,
    answered: u64,
    abandoned: u64,
    flow_outs: u64,
    short: u64,
    within: &'static [(u64, u64, u64)],
}

impl Expect {
    fn key_and_tally(&self) -> (TallyKey, Tally) {
        let mut tally = counts(
            self.offered, self.answered, self.abandoned, self.flow_outs, self.short,
        );
        for (t, answered, abandoned) in self.within {
            tally.add_within(ms(*t), within(*answered, *abandoned));
        }
        (tally_key(self.queue, self.media, self.bucket), tally)
    }

    /// Queue `q`'s voice tally in the bucket starting at `bucket`: offered, answered,
    /// abandoned, flow-outs and short abandons as in [`counts`], then the within counts.
    fn voice(
        bucket: &'static str,
        [offered, answered, abandoned, flow_outs, short]: [u64; 5],
        within: &'static [(u64, u64, u64)],
    ) -> Expect {
        Expect {
            queue: "q",
            media: Voice,
            bucket,
            offered,
            answered,
            abandoned,
            flow_outs,
            short,
            within,
        }
    }
}

/// Tallies `visits` over [`WINDOW`] and compares with `expect`, tally by tally.
#[track_caller]
fn check(
    granularity: Granularity,
    thresholds: &[u64],
    short_abandon: Option<u64>,
    visits: &[Visit],
    expect: &[Expect],
) {
    let thresholds: Vec<Threshold> = thresholds.iter().copied().map(ms).collect();
    let got = tally_in(
        plan(granularity),
        &thresholds,
        short_abandon.map(ms),
        visits,
    );
    let want: TallySet = expect.iter().map(Expect::key_and_tally).collect();
    // These cases pin the counts; the waits behind the companion KPIs have their own tests.
    let got_list: Vec<_> = got.iter().map(|(k, t)| (k, counts_only(t))).collect();
    let want_list: Vec<_> = want.iter().map(|(k, t)| (k, t.clone())).collect();
    assert_eq!(got_list, want_list);
}

/// [`check`] at total granularity, where queue `q`'s voice visits make one tally:
/// `counts` and `within` as in [`Expect::voice`].
#[track_caller]
fn check_whole(
    thresholds: &[u64],
    short_abandon: Option<u64>,
    visits: &[Visit],
    counts: [u64; 5],
    within: &'static [(u64, u64, u64)],
) {
    check(
        Granularity::Total,
        thresholds,
        short_abandon,
        visits,
        &[Expect::voice(WINDOW.0, counts, within)],
    );
}

fn counts_only(tally: &Tally) -> Tally {
    let mut t = tally.clone();
    (
        t.answer_wait_ms_sum, t.answer_wait_ms_max, t.abandon_wait_ms_sum,
    ) = (0, 0, 0);
    t
}

#[test]
fn waits_sum_per_outcome_in_the_bucket_of_their_emit_instant_and_the_longest_rolls_up_by_max() {
    let visits = [
        // Offered in the 07:00 half hour, answered in the 07:30 one after 40 s.
        visit("q", Voice, at("07:29:50"), Answered, 40_000),
        visit("q", Voice, at("07:31:00"), Answered, 5_000),
        visit("q", Voice, at("07:40:00"), Abandoned, 12_000),
        visit("q", Voice, at("07:41:00"), Abandoned, 3_000),
        visit("q", Voice, at("07:42:00"), FlowOut, 99_000),
        visit("q", Voice, at("08:10:00"), Answered, 61_000),
    ];
    let got = tally_in(plan(Granularity::HalfHour), &[], None, &visits);
    let waits = |bucket: &str| {
        got.get(&tally_key("q", Voice, bucket)).map(|t| {
            (
                t.answer_wait_ms_sum, t.answer_wait_ms_max, t.abandon_wait_ms_sum,
            )
        })
    };
    // The 07:00 bucket has the first offer only: no wait is emitted there.
    assert_eq!(waits("2026-03-02T07:00:00Z"), Some((0, 0, 0)));
    assert_eq!(
        waits("2026-03-02T07:30:00Z"),
        Some((45_000, 40_000, 15_000))
    );
    assert_eq!(waits("2026-03-02T08:00:00Z"), Some((61_000, 61_000, 0)));
    // Summed over the window: sums add, the longest is the longest of all.
    let whole: Tally = got.iter().map(|(_, t)| t).sum();
    assert_eq!(
        (
            whole.answer_wait_ms_sum,
            whole.answer_wait_ms_max,
            whole.abandon_wait_ms_sum
        ),
        (106_000, 61_000, 15_000)
    );
}

fn at(text: &str) -> Timestamp {
    ts(&format!("2026-03-02T{text}Z"))
}

#[test]
fn a_wait_equal_to_the_threshold_is_within_it() {
    const T: u64 = 20_000;
    let t = T;
    let visits = [
        visit("q", Voice, at("07:00:00"), Answered, t - 1),
        visit("q", Voice, at("07:00:01"), Answered, t),
        visit("q", Voice, at("07:00:02"), Answered, t + 1),
        visit("q", Voice, at("07:00:03"), Abandoned, t - 1),
        visit("q", Voice, at("07:00:04"), Abandoned, t),
        visit("q", Voice, at("07:00:05"), Abandoned, t + 1),
    ];
    check_whole(&[t], None, &visits, [6, 3, 3, 0, 0], &[(T, 2, 2)]);
}

#[test]
fn each_threshold_counts_the_waits_at_most_it() {
    let visits = [
        visit("q", Voice, at("07:10:00"), Answered, 0),
        visit("q", Voice, at("07:10:00"), Answered, 10_000),
        visit("q", Voice, at("07:10:00"), Answered, 10_001),
        visit("q", Voice, at("07:10:00"), Answered, 60_000),
        visit("q", Voice, at("07:10:00"), Answered, 61_000),
        visit("q", Voice, at("07:10:00"), Abandoned, 30_000),
    ];
    // Thresholds given unsorted and twice are counted once each.
    check_whole(
        &[60_000, 10_000, 20_000, 10_000],
        None,
        &visits,
        [6, 5, 1, 0, 0],
        &[(10_000, 2, 0), (20_000, 3, 0), (60_000, 4, 1)],
    );
}

#[test]
fn short_abandons_are_those_strictly_below_the_bound() {
    let visits = [
        visit("q", Voice, at("07:05:00"), Abandoned, 0),
        visit("q", Voice, at("07:05:00"), Abandoned, 4_999),
        visit("q", Voice, at("07:05:00"), Abandoned, 5_000),
        visit("q", Voice, at("07:05:00"), Abandoned, 25_000),
        // Answered and flowed-out visits are never short abandons, however short the wait.
        visit("q", Voice, at("07:05:00"), Answered, 1_000),
        visit("q", Voice, at("07:05:00"), FlowOut, 1_000),
    ];
    check_whole(
        &[20_000],
        Some(5_000),
        &visits,
        [6, 1, 4, 1, 2],
        &[(20_000, 1, 3)],
    );
    // Without a bound nothing is counted as short.
    check_whole(&[20_000], None, &visits, [6, 1, 4, 1, 0], &[(20_000, 1, 3)]);
}

#[test]
fn flow_outs_are_counted_apart_and_never_within_a_threshold() {
    let visits = [
        visit("q", Voice, at("07:00:00"), FlowOut, 1_000),
        visit("q", Voice, at("07:00:00"), FlowOut, 90_000),
    ];
    check_whole(&[20_000], Some(5_000), &visits, [2, 0, 0, 2, 0], &[]);
}

#[test]
fn each_metric_counts_in_the_bucket_where_it_was_emitted() {
    // Offered at 07:28, answered at 07:32 after 4 minutes.
    let visits = [visit("q", Voice, at("07:28:00"), Answered, 240_000)];
    check(
        Granularity::HalfHour,
        &[20_000, 300_000],
        None,
        &visits,
        &[
            Expect::voice("2026-03-02T07:00:00Z", [1, 0, 0, 0, 0], &[]),
            Expect::voice("2026-03-02T07:30:00Z", [0, 1, 0, 0, 0], &[(300_000, 1, 0)]),
        ],
    );
    // At hour granularity both metrics land in the 07:00 hour.
    check(
        Granularity::Hour,
        &[20_000],
        None,
        &visits,
        &[Expect::voice("2026-03-02T07:00:00Z", [1, 1, 0, 0, 0], &[])],
    );
}

#[test]
fn metrics_emitted_outside_the_window_are_not_counted() {
    let visits = [
        // Offered before the window, answered inside it: only the answer counts.
        visit("q", Voice, at("06:59:50"), Answered, 15_000),
        // Offered inside, abandoned at the window's (exclusive) end: only the offer counts.
        visit("q", Voice, at("08:59:00"), Abandoned, 60_000),
        // Entirely before, and entirely after: nothing counts, and no tally appears.
        visit("gone", Voice, at("06:00:00"), Answered, 1_000),
        visit("gone", Voice, at("09:00:00"), Answered, 1_000),
        // Offered at the window's start: counts.
        visit("q", Voice, at("07:00:00"), FlowOut, 1_000),
    ];
    check_whole(&[20_000], None, &visits, [2, 1, 0, 1, 0], &[(20_000, 1, 0)]);
}

#[test]
fn visits_not_offered_or_not_ended_count_what_they_emitted() {
    let mut waiting = visit("q", Voice, at("07:40:00"), Answered, 1_000);
    waiting.outcome = None;
    let mut not_offered = visit("q", Voice, at("07:40:00"), FlowOut, 1_000);
    not_offered.offered_at = None;
    check_whole(
        &[20_000],
        None,
        &[waiting, not_offered],
        [1, 0, 0, 1, 0],
        &[],
    );
}

#[test]
fn a_transferred_conversation_is_one_visit_to_each_queue() {
    // Answered in "first" after 10 s, then transferred and answered in "second" after 30 s.
    let mut first = visit("first", Voice, at("07:10:00"), Answered, 10_000);
    let mut second = visit("second", Voice, at("07:15:00"), Answered, 30_000);
    first.conversation_id = "conv-1".into();
    second.conversation_id = "conv-1".into();
    let expect = |queue, within: &'static [(u64, u64, u64)]| Expect {
        queue,
        media: Voice,
        bucket: WINDOW.0,
        offered: 1,
        answered: 1,
        abandoned: 0,
        flow_outs: 0,
        short: 0,
        within,
    };
    check(
        Granularity::Total,
        &[20_000],
        None,
        &[first, second],
        &[expect("first", &[(20_000, 1, 0)]), expect("second", &[])],
    );
}

#[test]
fn media_types_are_tallied_apart() {
    let visits = [
        visit("q", Voice, at("07:00:00"), Answered, 1_000),
        visit("q", Chat, at("07:00:00"), Answered, 1_000),
        visit("q", Chat, at("07:00:00"), Abandoned, 1_000),
    ];
    let expect = |media, answered, abandoned| Expect {
        queue: "q",
        media,
        bucket: WINDOW.0,
        offered: answered + abandoned,
        answered,
        abandoned,
        flow_outs: 0,
        short: 0,
        within: if media == Voice {
            &[(20_000, 1, 0)]
        } else {
            &[(20_000, 1, 1)]
        },
    };
    check(
        Granularity::Total,
        &[20_000],
        None,
        &visits,
        &[expect(Voice, 1, 0), expect(Chat, 1, 1)],
    );
}

#[test]
fn outcome_at_the_exact_bucket_boundary_counts_in_the_later_bucket() {
    let v = Visit {
        conversation_id: "c".into(),
        queue: QueueId::new("q"),
        media: Voice,
        entered: at("07:29:59"),
        offered_at: Some(at("07:29:59")),
        outcome: Some(VisitOutcome {
            kind: Answered,
            wait_ms: 1_000,
            at: at("07:30:00"),
        }),
    };
    let tallies = tally_in(plan(Granularity::HalfHour), &[ms(20_000)], None, [&v]);
    let buckets: Vec<(Timestamp, u64, u64)> = tallies
        .iter()
        .map(|(k, t)| (k.bucket, t.offered, t.answered))
        .collect();
    assert_eq!(buckets, [(at("07:00:00"), 1, 0), (at("07:30:00"), 0, 1)]);
}

#[test]
fn tallies_add_field_by_field_and_compare_by_content() {
    let mut a = counts(3, 2, 1, 0, 1);
    a.add_within(ms(20_000), within(2, 1));
    let mut b = counts(1, 0, 0, 1, 0);
    b.add_within(ms(60_000), within(0, 0));
    b.add_within(ms(10_000), within(1, 0));
    let sum = a.clone() + b.clone();
    assert_eq!(
        (
            sum.offered, sum.answered, sum.abandoned, sum.flow_outs, sum.short_abandoned
        ),
        (4, 2, 1, 1, 1)
    );
    // Zero within counts are not stored, and thresholds stay sorted.
    assert_eq!(
        sum.withins(),
        [(ms(10_000), within(1, 0)), (ms(20_000), within(2, 1))]
    );
    assert_eq!(sum.within(ms(60_000)), Within::default());
    assert_eq!(sum, [a.clone(), b.clone()].iter().sum::<Tally>());
    assert_eq!(sum, b + a);
}

#[test]
fn merging_tally_sets_adds_tallies_of_equal_keys() {
    let key = |queue: &str, bucket: &str| tally_key(queue, Voice, bucket);
    let one = |offered| counts(offered, 0, 0, 0, 0);
    let mut left: TallySet = [(key("a", WINDOW.0), one(1)), (key("b", WINDOW.0), one(2))]
        .into_iter()
        .collect();
    let right: TallySet = [
        (key("a", WINDOW.0), one(10)),
        (key("a", "2026-03-02T08:00:00Z"), one(20)),
    ]
    .into_iter()
    .collect();
    left.merge(right);
    let got: Vec<(&str, Timestamp, u64)> = left
        .iter()
        .map(|(k, t)| (k.queue.as_str(), k.bucket, t.offered))
        .collect();
    assert_eq!(
        got,
        [
            ("a", ts(WINDOW.0), 11),
            ("a", ts("2026-03-02T08:00:00Z"), 20),
            ("b", ts(WINDOW.0), 2),
        ]
    );
    assert_eq!(left.len(), 3);
    assert!(!left.is_empty());
    assert!(TallySet::new().is_empty());
    assert_eq!(left.get(&key("b", WINDOW.0)), Some(&one(2)));
    assert_eq!(left.get(&key("c", WINDOW.0)), None);
}

#[test]
fn many_queues_and_media_types_each_get_their_own_series() {
    // Ids of every length around the hasher's 8-byte words, some equal but for a trailing NUL.
    let ids: Vec<String> = (0..40)
        .map(|n| {
            "0123456789abcdef0123456789"
                .chars()
                .take(n % 27)
                .collect::<String>()
                + &"x".repeat(n / 27)
        })
        .chain(["q".to_owned(), "q\0".to_owned(), "q\0\0".to_owned()])
        .collect();
    let mut visits = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        for media in [Voice, Chat] {
            for _ in 0..=(i % 3) {
                visits.push(visit(id, media, at("07:15:00"), Answered, 1_000));
            }
        }
    }
    let counted = tally_in(
        plan(Granularity::Total),
        &[ms(20_000)],
        None,
        visits.iter().rev(),
    );
    assert_eq!(counted.len(), ids.len() * 2);
    for (i, id) in ids.iter().enumerate() {
        for media in [Voice, Chat] {
            let key = tally_key(id, media, WINDOW.0);
            let offered = counted.get(&key).map(|t| t.offered);
            assert_eq!(offered, Some(i as u64 % 3 + 1), "{id:?} {media}");
        }
    }
}
