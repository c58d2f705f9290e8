//! Report assembly: the worked example end to end, totals as sums, absent percents,
//! configured and per-queue objectives, raw counts beside short abandons, transfers, ordering
//! and filters.

use crate::tests::fixtures::{config, media, p, ps};
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};

use crate::ports::{OutcomeKind, Visit};
use crate::tests::fixtures::{
    counts, input, ms, queue, queue_with_targets, request, tally_key, tally_visits, ts, visit,
};
use crate::{
    Format, MediaType, QueryInput, QueueInfo, ServiceLevel, SlaReport, TallySet, build_report,
    native_granularity, render, thresholds_needed,
};

use MediaType::{Chat, Email, Voice};
use OutcomeKind::{Abandoned, Answered, FlowOut};

const DAY: &str = "2026-03-02";

/// `count` visits of `queue` ending as `kind` after `wait_ms`, one a second from `from`.
fn visits(
    queue: &str,
    media: MediaType,
    from: &str,
    count: u64,
    kind: OutcomeKind,
    wait_ms: u64,
) -> Vec<Visit> {
    let start = ts(from);
    (0..count)
        .map(|i| {
            let entered = start + SignedDuration::from_secs(i64::try_from(i).unwrap());
            visit(queue, media, entered, kind, wait_ms)
        })
        .collect()
}

/// The worked example of the brief as visits: 1000 answered (860 within 20 s), 60 abandoned
/// (20 within 20 s, 5 of those within 3 s), and 40 flow-outs.
fn worked_visits(queue: &str, from: &str) -> Vec<Visit> {
    let start = ts(from);
    let at = |minutes: i64| (start + SignedDuration::from_mins(minutes)).to_string();
    [
        visits(queue, Voice, &at(0), 860, Answered, 12_000),
        visits(queue, Voice, &at(20), 140, Answered, 45_000),
        visits(queue, Voice, &at(40), 5, Abandoned, 2_000),
        visits(queue, Voice, &at(50), 15, Abandoned, 20_000),
        visits(queue, Voice, &at(60), 40, Abandoned, 20_001),
        visits(queue, Voice, &at(70), 40, FlowOut, 90_000),
    ]
    .concat()
}

/// Parses `input`, tallies `visits` as a source would for it, and builds the report.
fn report(input: &QueryInput, queues: &[QueueInfo], visits: &[Visit]) -> SlaReport {
    let request = request(input);
    let thresholds = thresholds_needed(&request, queues);
    let tallies = tally_visits(
        &request,
        native_granularity(request.granularity),
        &thresholds,
        visits,
    );
    build_report(&request, queues, &tallies)
}

fn percent_text(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}"))
}

fn level_text(sl: &ServiceLevel) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    format!(
        "{} {}/{} {} T={} target={} met={}",
        sl.objective,
        sl.numerator,
        sl.denominator,
        percent_text(sl.percent),
        opt(sl.threshold_ms.map(|t| t.to_string())),
        opt(sl.target_percent.map(|t| t.to_string())),
        opt(sl.met_target.map(|m| m.to_string())),
    )
}

/// One line per service level of each row and of the total, over the whole window.
fn summary(report: &SlaReport) -> String {
    let mut out = String::new();
    for row in &report.queues {
        let media = row.media_type.map_or("all", MediaType::as_str);
        for sl in &row.service_levels {
            let _ = writeln!(out, "{} {media}: {}", row.queue_name, level_text(sl));
        }
    }
    for sl in &report.total.service_levels {
        let _ = writeln!(out, "TOTAL: {}", level_text(sl));
    }
    out
}

#[track_caller]
fn check(input: &QueryInput, queues: &[QueueInfo], visits: &[Visit], expect: &str) {
    let got = summary(&report(input, queues, visits));
    let expect = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .fold(String::new(), |mut out, l| {
            let _ = writeln!(out, "{l}");
            out
        });
    assert_eq!(got, expect, "\n{got}");
}

fn with(abandons: &str) -> QueryInput {
    QueryInput {
        abandons: p(abandons),
        ..input(DAY, DAY)
    }
}

/// Checks a report of the one queue Support, whose row and total then show the same service
/// level: `level`, at a 20 s threshold without a target.
#[track_caller]
fn check_support(input: &QueryInput, visits: &[Visit], level: &str) {
    let level = format!("20s {level} T=20000 target=- met=-");
    let queues = [queue("q-support", "Support")];
    check(
        input,
        &queues,
        visits,
        &format!("Support all: {level}\nTOTAL: {level}"),
    );
}

#[test]
fn worked_example_through_a_whole_report() {
    let queues = [queue("q-support", "Support")];
    let visits = worked_visits("q-support", "2026-03-02T09:00:00Z");
    for (abandons, level) in [
        ("ignore", "860/1000 86.00"),
        ("against", "860/1060 81.13"),
        ("after-threshold", "860/1040 82.69"),
        ("for", "880/1060 83.02"),
    ] {
        check_support(&with(abandons), &visits, level);
    }
    let r = report(&with("for"), &queues, &visits);
    let counts = r.queues[0].counts;
    assert_eq!(
        (
            counts.offered, counts.answered, counts.abandoned, counts.short_abandoned,
            counts.flow_outs
        ),
        (1100, 1000, 60, None, 40)
    );
    let sl = &r.queues[0].service_levels[0];
    assert_eq!((sl.answered_within, sl.abandoned_within), (860, 20));
}

#[test]
fn flow_outs_count_against_only_when_asked() {
    let visits = worked_visits("q-support", "2026-03-02T09:00:00Z");
    let against = |abandons: &str| QueryInput {
        flowouts: p("against"),
        ..with(abandons)
    };
    check_support(&against("ignore"), &visits, "860/1040 82.69");
    check_support(&against("against"), &visits, "860/1100 78.18");
}

#[test]
fn short_abandons_leave_the_formula_but_stay_in_the_reported_counts() {
    let queues = [queue("q-support", "Support")];
    let visits = worked_visits("q-support", "2026-03-02T09:00:00Z");
    let short = |s: &str| QueryInput {
        short_abandon: Some(p(s)),
        ..with("against")
    };
    // S = 3 s ≤ T: the 5 abandons after 2 s leave; 55 abandons remain, 15 of them within T.
    check_support(&short("3s"), &visits, "860/1055 81.52");
    // S = 20001 ms > T: the 20 abandons within T leave, and no other; S = 25 s: the 40 after
    // 20.001 s leave too, so only answered visits remain.
    check_support(&short("20001ms"), &visits, "860/1040 82.69");
    check_support(&short("25s"), &visits, "860/1000 86.00");
    let for_short = QueryInput {
        abandons: p("for"),
        ..short("3s")
    };
    check_support(&for_short, &visits, "875/1055 82.94");
    // Reported counts stay raw, with the short abandons beside them.
    for (s, expect_short) in [("3s", 5), ("20001ms", 20), ("25s", 60)] {
        let r = report(&short(s), &queues, &visits);
        for counts in [r.queues[0].counts, r.total.counts] {
            assert_eq!(
                (counts.abandoned, counts.short_abandoned),
                (60, Some(expect_short)),
                "{s}"
            );
        }
        let sl = &r.queues[0].service_levels[0];
        assert_eq!((sl.answered_within, sl.abandoned_within), (860, 20), "{s}");
        assert_eq!(
            r.formula.short_abandon_ms,
            Some(crate::Threshold::parse(s).unwrap().as_millis())
        );
    }
    // Without a bound, `short_abandoned` is absent rather than 0.
    let r = report(&with("against"), &queues, &visits);
    assert_eq!(r.queues[0].counts.short_abandoned, None);
    assert_eq!(r.total.counts.short_abandoned, None);
    assert_eq!(r.formula.short_abandon_ms, None);
}

#[test]
fn totals_divide_summed_counts_rather_than_averaging_percents() {
    // A quiet queue at 90 % and a busy one at 10 %: the mean of percents would say 50 %.
    let queues = [queue("q-a", "Quiet"), queue("q-b", "Busy")];
    let visits = [
        visits("q-a", Voice, "2026-03-02T09:00:00Z", 9, Answered, 5_000),
        visits("q-a", Voice, "2026-03-02T09:10:00Z", 1, Answered, 50_000),
        visits("q-b", Voice, "2026-03-02T09:00:00Z", 10, Answered, 5_000),
        visits("q-b", Voice, "2026-03-02T09:10:00Z", 90, Answered, 50_000),
    ]
    .concat();
    check(
        &with("ignore"),
        &queues,
        &visits,
        "
        Busy all: 20s 10/100 10.00 T=20000 target=- met=-
        Quiet all: 20s 9/10 90.00 T=20000 target=- met=-
        TOTAL: 20s 19/110 17.27 T=20000 target=- met=-
    ",
    );
}

#[test]
fn idle_queues_and_intervals_have_no_percent() {
    let queues = [queue("q-idle", "Idle"), queue("q-busy", "Busy")];
    let visits = visits("q-busy", Voice, "2026-03-03T10:00:00Z", 4, Answered, 5_000);
    let input = QueryInput {
        granularity: p("day"),
        ..input("2026-03-02", "2026-03-04")
    };
    let r = report(&input, &queues, &visits);
    check(
        &input,
        &queues,
        &visits,
        "
        Busy all: 20s 4/4 100.00 T=20000 target=- met=-
        Idle all: 20s 0/0 n/a T=20000 target=- met=-
        TOTAL: 20s 4/4 100.00 T=20000 target=- met=-
    ",
    );
    // Every interval appears, with zero counts and absent percents where nothing happened.
    let busy = &r.queues[0];
    let days: Vec<(Timestamp, u64, Option<f64>)> = busy
        .intervals
        .iter()
        .map(|i| (i.start, i.counts.offered, i.service_levels[0].percent))
        .collect();
    assert_eq!(
        days,
        [
            (ts("2026-03-02T00:00:00Z"), 0, None),
            (ts("2026-03-03T00:00:00Z"), 4, Some(100.0)),
            (ts("2026-03-04T00:00:00Z"), 0, None),
        ]
    );
    assert_eq!(r.queues[1].intervals.len(), 3);
    assert!(
        r.queues[1]
            .intervals
            .iter()
            .all(|i| i.service_levels[0].percent.is_none())
    );
    assert_eq!(r.total.intervals.len(), 3);
    assert_eq!(r.total.intervals[0].service_levels[0].percent, None);
    // JSON says null, the table and Markdown say n/a, CSV leaves the cell empty; never 0.
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
    assert_eq!(json["queues"][1]["queue_name"], "Idle");
    assert_eq!(
        json["queues"][1]["service_levels"][0]["percent"],
        serde_json::Value::Null
    );
    assert_eq!(
        json["queues"][1]["service_levels"][0]["met_target"],
        serde_json::Value::Null
    );
    let table = render(&r, Format::Table);
    let idle_line = table
        .lines()
        .find(|l| l.starts_with("Idle") && l.contains(" all ") && l.contains(" 20s "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(idle_line.contains("n/a"), "{idle_line}");
    assert!(render(&r, Format::Markdown).contains("| n/a |"));
    let csv = render(&r, Format::Csv);
    let idle_csv = csv.lines().find(|l| l.starts_with("q-idle,")).unwrap();
    // No percent, and none of the KPIs either: every denominator is 0.
    assert!(
        idle_csv.ends_with(",0,0,,,queue,false,0,0,0,,,,,"),
        "{idle_csv}"
    );
    // Nothing at all: the total has no percent either.
    let nothing = report(&input, &queues, &[]);
    assert_eq!(nothing.total.service_levels[0].percent, None);
    let all = crate::FailScope { intervals: true };
    assert!(
        nothing
            .shortfalls(crate::FailBelow::Percent(100.0), all)
            .is_empty()
    );
}

/// Alpha: voice 20 s / 80 %, chat 60 s / 90 %; Bravo: voice 30 s / 85 %; Charlie: voice
/// 20 s / 80 % and no chat target.
fn configured_queues() -> Vec<QueueInfo> {
    vec![
        queue_with_targets(
            "q-alpha",
            "Alpha",
            &[(Voice, 20_000, 80.0), (Chat, 60_000, 90.0)],
        ),
        queue_with_targets("q-bravo", "Bravo", &[(Voice, 30_000, 85.0)]),
        queue_with_targets("q-charlie", "Charlie", &[(Voice, 20_000, 80.0)]),
    ]
}

fn configured_visits() -> Vec<Visit> {
    [
        // Alpha voice: 8 of 10 within 20 s; chat: 9 of 10 within 60 s.
        ("q-alpha", Voice, "09:00", 8, 20_000),
        ("q-alpha", Voice, "09:01", 2, 25_000),
        ("q-alpha", Chat, "09:00", 9, 60_000),
        ("q-alpha", Chat, "09:01", 1, 60_001),
        // Bravo voice: 17 of 20 within 30 s, exactly its 85 % target.
        ("q-bravo", Voice, "09:00", 17, 30_000),
        ("q-bravo", Voice, "09:01", 3, 31_000),
        // Charlie voice: 7 of 10 within 20 s; its chat visits have no target to meet.
        ("q-charlie", Voice, "09:00", 7, 1_000),
        ("q-charlie", Voice, "09:01", 3, 90_000),
        ("q-charlie", Chat, "09:00", 5, 90_000),
    ]
    .into_iter()
    .flat_map(|(queue, media, from, count, wait_ms)| {
        visits(
            queue,
            media,
            &format!("{DAY}T{from}:00Z"),
            count,
            Answered,
            wait_ms,
        )
    })
    .collect()
}

fn configured(extra: impl FnOnce(QueryInput) -> QueryInput) -> QueryInput {
    extra(QueryInput {
        thresholds: ps(&["configured"]),
        ..input(DAY, DAY)
    })
}

#[test]
fn configured_objectives_measure_each_visit_against_its_own_media_target() {
    let queues = configured_queues();
    let visits = configured_visits();
    // Alpha mixes 20 s and 60 s targets, so its row shows neither threshold nor target;
    // the total mixes queues with differing thresholds, so it shows none either.
    check(
        &configured(|i| i),
        &queues,
        &visits,
        "
        Alpha all: configured 17/20 85.00 T=- target=- met=-
        Bravo all: configured 17/20 85.00 T=30000 target=85 met=true
        Charlie all: configured 7/10 70.00 T=20000 target=80 met=false
        TOTAL: configured 41/50 82.00 T=- target=- met=-
    ",
    );
    // Per media type every row has one target; Charlie's chat has none to measure.
    check(
        &configured(|i| QueryInput {
            by_media: true,
            ..i
        }),
        &queues,
        &visits,
        "
        Alpha voice: configured 8/10 80.00 T=20000 target=80 met=true
        Alpha chat: configured 9/10 90.00 T=60000 target=90 met=true
        Bravo voice: configured 17/20 85.00 T=30000 target=85 met=true
        Charlie voice: configured 7/10 70.00 T=20000 target=80 met=false
        Charlie chat: configured 0/0 n/a T=- target=- met=-
        TOTAL: configured 41/50 82.00 T=- target=- met=-
    ",
    );
    // Voice only, Alpha and Charlie: one threshold and one target everywhere, so the total
    // keeps them and says whether it met the target.
    let two = [queues[0].clone(), queues[2].clone()];
    check(
        &configured(|i| QueryInput {
            media: media(&["voice"]),
            ..i
        }),
        &two,
        &visits,
        "
        Alpha all: configured 8/10 80.00 T=20000 target=80 met=true
        Charlie all: configured 7/10 70.00 T=20000 target=80 met=false
        TOTAL: configured 15/20 75.00 T=20000 target=80 met=false
    ",
    );
}

#[test]
fn configured_thresholds_are_counted_beside_fixed_ones() {
    let request = request(&configured(|i| QueryInput {
        thresholds: ps(&["configured", "20s", "45s"]),
        ..i
    }));
    let got = thresholds_needed(&request, &configured_queues());
    assert_eq!(got, [ms(20_000), ms(30_000), ms(45_000), ms(60_000)]);
    // A media filter keeps the configured thresholds of the media asked for.
    let voice = crate::ReportRequest {
        media: vec![Voice],
        ..request
    };
    assert_eq!(
        thresholds_needed(&voice, &configured_queues()),
        [ms(20_000), ms(30_000), ms(45_000)]
    );
}

#[test]
fn an_idle_configured_row_still_shows_its_target() {
    let queues = configured_queues();
    check(
        &configured(|i| i),
        &queues[1..2],
        &[],
        "
        Bravo all: configured 0/0 n/a T=30000 target=85 met=-
        TOTAL: configured 0/0 n/a T=30000 target=85 met=-
    ",
    );
}

#[test]
fn config_objectives_apply_to_their_queues_only() {
    let queues = configured_queues();
    let visits = configured_visits();
    let text = r#"
        [[objective]]
        name = "contract"
        threshold = "25s"
        target = 90
        queues = ["alpha", "q-bravo"]

        [[objective]]
        name = "stretch"
        threshold = "configured"
        target = 99.5
        queues = ["Charlie"]
    "#;
    check(
        &QueryInput {
            thresholds: ps(&["20s"]),
            objectives: config(text),
            ..input(DAY, DAY)
        },
        &queues,
        &visits,
        "
        Alpha all: 20s 8/20 40.00 T=20000 target=- met=-
        Alpha all: contract 10/20 50.00 T=25000 target=90 met=false
        Bravo all: 20s 0/20 0.00 T=20000 target=- met=-
        Bravo all: contract 0/20 0.00 T=25000 target=90 met=false
        Charlie all: 20s 7/15 46.67 T=20000 target=- met=-
        Charlie all: stretch 7/10 70.00 T=20000 target=99.5 met=false
        TOTAL: 20s 15/55 27.27 T=20000 target=- met=-
        TOTAL: contract 10/40 25.00 T=25000 target=90 met=false
        TOTAL: stretch 7/10 70.00 T=20000 target=99.5 met=false
    ",
    );
}

#[test]
fn met_target_is_percent_at_least_the_target() {
    let queues = [queue("q", "Q")];
    let goal = |target: &str| QueryInput {
        objectives: config(format!(
            "[[objective]]\nname = \"goal\"\nthreshold = \"20s\"\ntarget = {target}\n"
        )),
        ..input(DAY, DAY)
    };
    // 17 of 20 within: 85.00 %.
    let visits = [
        visits("q", Voice, "2026-03-02T09:00:00Z", 17, Answered, 1_000),
        visits("q", Voice, "2026-03-02T09:01:00Z", 3, Answered, 60_000),
    ]
    .concat();
    for (target, met) in [
        ("84.99", "true"),
        ("85", "true"),
        ("85.0", "true"),
        ("85.01", "false"),
        ("0", "true"),
        ("100", "false"),
    ] {
        let r = report(&goal(target), &queues, &visits);
        let sl = &r.queues[0].service_levels[0];
        assert_eq!(
            sl.met_target.map(|m| m.to_string()).as_deref(),
            Some(met),
            "{target}"
        );
    }
}

/// One conversation answered in First after 10 s, then transferred to Second and abandoned
/// there after 30 s.
fn transferred() -> Vec<Visit> {
    let mut first = visit(
        "q-first",
        Voice,
        ts("2026-03-02T09:00:00Z"),
        Answered,
        10_000,
    );
    let mut second = visit(
        "q-second",
        Voice,
        ts("2026-03-02T09:05:00Z"),
        Abandoned,
        30_000,
    );
    first.conversation_id = "conv-1".into();
    second.conversation_id = "conv-1".into();
    vec![first, second]
}

#[test]
fn a_transferred_conversation_counts_once_in_each_queue_and_twice_in_the_total() {
    let queues = [queue("q-first", "First"), queue("q-second", "Second")];
    let r = report(&with("against"), &queues, &transferred());
    let offered: Vec<u64> = r.queues.iter().map(|q| q.counts.offered).collect();
    assert_eq!(offered, [1, 1]);
    assert_eq!(r.total.counts.offered, 2);
    check(
        &with("against"),
        &queues,
        &transferred(),
        "
        First all: 20s 1/1 100.00 T=20000 target=- met=-
        Second all: 20s 0/1 0.00 T=20000 target=- met=-
        TOTAL: 20s 1/2 50.00 T=20000 target=- met=-
    ",
    );
}

#[test]
fn rows_are_ordered_by_name_ignoring_case_then_id_and_listed_once() {
    let queues = [
        queue("q-3", "support"),
        queue("q-2", "Billing"),
        queue("q-1", "Support"),
        queue("q-2", "Billing"),
        queue("q-0", "alpha"),
    ];
    let r = report(&with("ignore"), &queues, &[]);
    let order: Vec<(&str, &str)> = r
        .queues
        .iter()
        .map(|q| (q.queue_name.as_str(), q.queue_id.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("alpha", "q-0"),
            ("Billing", "q-2"),
            ("Support", "q-1"),
            ("support", "q-3")
        ]
    );
}

#[test]
fn tallies_of_other_queues_media_and_times_are_left_out() {
    let queues = [queue("q", "Q")];
    let one = counts(1, 0, 0, 0, 0);
    let tallies: TallySet = [
        (tally_key("q", Voice, "2026-03-02T00:00:00Z"), one.clone()),
        (tally_key("q", Chat, "2026-03-02T10:00:00Z"), one.clone()),
        (tally_key("q", Email, "2026-03-02T11:00:00Z"), one.clone()),
        (
            tally_key("other", Voice, "2026-03-02T00:00:00Z"),
            one.clone(),
        ),
        (tally_key("q", Voice, "2026-03-03T00:00:00Z"), one.clone()),
        (tally_key("q", Voice, "2026-03-01T23:59:59Z"), one.clone()),
    ]
    .into_iter()
    .collect();
    let offered = |input: &QueryInput| {
        let r = build_report(&request(input), &queues, &tallies);
        let rows: Vec<(Option<MediaType>, u64)> = r
            .queues
            .iter()
            .map(|q| (q.media_type, q.counts.offered))
            .collect();
        (rows, r.total.counts.offered)
    };
    assert_eq!(offered(&with("ignore")), (vec![(None, 3)], 3));
    let voice_chat = QueryInput {
        media: media(&["voice,chat"]),
        ..with("ignore")
    };
    assert_eq!(offered(&voice_chat), (vec![(None, 2)], 2));
    let by_media = QueryInput {
        by_media: true,
        ..with("ignore")
    };
    assert_eq!(
        offered(&by_media),
        (vec![(Some(Voice), 1), (Some(Chat), 1), (Some(Email), 1)], 3)
    );
    // With a media filter, by-media rows list every media type asked for, even when idle.
    let by_media_filtered = QueryInput {
        by_media: true,
        media: media(&["message", "voice"]),
        ..with("ignore")
    };
    assert_eq!(
        offered(&by_media_filtered),
        (vec![(Some(Voice), 1), (Some(MediaType::Message), 0)], 1)
    );
}

#[test]
fn shortfalls_name_rows_and_intervals_below_the_bar_and_never_absent_percents() {
    use crate::{FailBelow, FailScope, Granularity, SlaError};
    let queues = [queue("q-a", "A"), queue("q-idle", "Idle")];
    // Monday 75 % (3 of 4), Tuesday 50 % (1 of 2): 66.67 % over both days.
    let visits = [
        visits("q-a", Voice, "2026-03-02T09:00:00Z", 3, Answered, 1_000),
        visits("q-a", Voice, "2026-03-02T09:01:00Z", 1, Answered, 60_000),
        visits("q-a", Voice, "2026-03-03T09:00:00Z", 1, Answered, 1_000),
        visits("q-a", Voice, "2026-03-03T09:01:00Z", 1, Answered, 60_000),
    ]
    .concat();
    let input = QueryInput {
        granularity: Granularity::Day,
        objectives: config("[[objective]]\nname = \"goal\"\nthreshold = \"20s\"\ntarget = 70\n"),
        ..input("2026-03-02", "2026-03-03")
    };
    let r = report(&input, &queues, &visits);
    let rows = FailScope::default();
    let all = FailScope { intervals: true };
    let found = |bar, scope| -> Vec<String> {
        r.shortfalls(bar, scope)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert!(
        found(FailBelow::Percent(66.67), rows).is_empty(),
        "a percent equal to the bar passes"
    );
    assert_eq!(
        found(FailBelow::Percent(66.68), rows),
        ["A, objective goal: 66.67 % is below 66.68 %"]
    );
    // The whole window passes 60 %, one day does not: only counted when intervals are.
    assert!(found(FailBelow::Percent(60.0), rows).is_empty());
    assert_eq!(
        found(FailBelow::Percent(60.0), all),
        [
            "A from 2026-03-03T00:00:00Z to 2026-03-04T00:00:00Z, objective goal: 50.00 % is below 60.00 %"
        ]
    );
    // Each objective's own target: the window's 66.67 % and Tuesday's 50 % miss 70 %; Monday's
    // 75 % does not.
    assert_eq!(
        found(FailBelow::Target, all),
        [
            "A, objective goal: 66.67 % is below 70.00 %",
            "A from 2026-03-03T00:00:00Z to 2026-03-04T00:00:00Z, objective goal: 50.00 % is below 70.00 %",
        ]
    );
    assert!(found(FailBelow::Percent(0.0), all).is_empty());
    assert_eq!("target".parse(), Ok(FailBelow::Target));
    assert_eq!(" 82.5 ".parse(), Ok(FailBelow::Percent(82.5)));
    for bad in ["100.01", "-1", "ninety", "", "NaN", "inf"] {
        assert_eq!(
            bad.parse::<FailBelow>(),
            Err(SlaError::InvalidPercent(bad.into())),
            "{bad}"
        );
    }
}

#[test]
fn the_report_echoes_its_window_zone_formula_and_source() {
    let r = report(
        &QueryInput {
            tz: Some(p("Europe/London")),
            granularity: p("week"),
            source: p("details"),
            abandons: p("after-threshold"),
            flowouts: p("against"),
            short_abandon: Some(p("4s")),
            ..input("2026-03-29", "2026-03-29")
        },
        &[],
        &[],
    );
    assert_eq!(r.schema, "sla-report/v1");
    assert_eq!(r.window.start, ts("2026-03-29T00:00:00Z"));
    assert_eq!(r.window.end, ts("2026-03-29T23:00:00Z"));
    assert_eq!(r.window.time_zone, "Europe/London");
    assert_eq!(
        r.time_window().map(|w| w.end()),
        Some(ts("2026-03-29T23:00:00Z"))
    );
    assert_eq!(r.granularity.as_str(), "week");
    assert_eq!(r.source.as_str(), "details");
    assert_eq!(
        (
            r.formula.abandons.as_str(),
            r.formula.flowouts.as_str(),
            r.formula.short_abandon_ms
        ),
        ("after-threshold", "against", Some(4_000))
    );
    assert!(r.queues.is_empty());
    assert_eq!(r.total.intervals.len(), 1);
    assert_eq!(r.total.counts.short_abandoned, Some(0));
}

#[test]
fn total_granularity_lists_no_intervals() {
    let queues = [queue("q", "Q")];
    let r = report(
        &with("ignore"),
        &queues,
        &worked_visits("q", "2026-03-02T09:00:00Z"),
    );
    assert!(r.queues[0].intervals.is_empty());
    assert!(r.total.intervals.is_empty());
}

#[test]
fn idle_queues_by_media_get_a_row_per_media_type_they_serve() {
    let queues = [queue_with_targets(
        "q-idle",
        "Idle",
        &[
            (MediaType::Voice, 20_000, 80.0),
            (MediaType::Chat, 60_000, 80.0),
        ],
    )];
    let input = QueryInput {
        by_media: true,
        thresholds: ps(&["20s"]),
        ..input("2026-03-02", "2026-03-02")
    };
    let report = crate::build_report(&request(&input), &queues, &crate::TallySet::new());
    let media: Vec<_> = report.queues.iter().map(|r| r.media_type).collect();
    assert_eq!(media, [Some(MediaType::Voice), Some(MediaType::Chat)]);
}

#[test]
fn a_fixed_objective_keeps_its_threshold_in_the_total_even_when_no_queue_has_it() {
    let input = QueryInput {
        thresholds: ps(&["20s"]),
        objectives: config(
            "[[objective]]\nname = \"other\"\nthreshold = \"10s\"\nqueues = [\"Nobody\"]\n",
        ),
        ..input("2026-03-02", "2026-03-02")
    };
    let queues = [queue("q-a", "A")];
    let report = crate::build_report(&request(&input), &queues, &crate::TallySet::new());
    let thresholds: Vec<_> = report
        .total
        .service_levels
        .iter()
        .map(|sl| sl.threshold_ms)
        .collect();
    assert_eq!(thresholds, [Some(20_000), Some(10_000)]);
}
