//! Fuzzing with proptest: every parser and the report pipeline take arbitrary and mutated input
//! without panicking. `PROPTEST_CASES=100000 cargo test -p sla-core fuzz` runs a longer session.

use jiff::Timestamp;
use proptest::prelude::*;

use crate::ports::{OutcomeKind, Visit, VisitOutcome};
use crate::tests::fixtures::{p, ps, queue_with_targets, request};
use crate::{
    BucketPlan, Format, Granularity, MediaType, QueryInput, QueueId, Tallier, Tally, TallyKey,
    TallySet, Threshold, TimeWindow, Within, Zone, build_report, parse_config, percent, render,
    resolve_window,
};

const CONFIG: &str = r#"[[objective]]
name = "contract"
threshold = "30s"
target = 90
queues = ["Sales", "Support"]

[[objective]]
name = "own"
threshold = "configured"
"#;

/// Text that looks like what users type, mixed with anything at all.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-z:+.TZ -]{0,30}",
        "-?[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}",
        "[0-9]{1,25}(d|h|m|s|ms|us|)[0-9]{0,5}(h|m|s|ms|)",
        Just("configured".to_owned()),
        Just("9999-12-31".to_owned()),
        Just("-009999-01-01".to_owned()),
        Just("2026-03-29T01:30:00+01:00".to_owned()),
    ]
}

fn instant() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
        .prop_map(|s| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH))
}

fn zone() -> impl Strategy<Value = Zone> {
    prop::sample::select(vec![
        "UTC", "Europe/London", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns",
        "Australia/Lord_Howe",
    ])
    .prop_map(|name| Zone::get(name).unwrap())
}

/// Byte-level mutations of a valid text: flips, deletions and insertions.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3_u8), 0..8).prop_map(
        move |edits| {
            let mut bytes = base.as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let len = bytes.len();
                let i = at.index(len.max(1));
                match kind {
                    0 if len > 0 => bytes[i.min(len - 1)] = byte,
                    1 if len > 0 => {
                        bytes.remove(i.min(len - 1));
                    }
                    _ => bytes.insert(i.min(len), byte),
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        },
    )
}

/// The cases per property: 1024 by default, so that a CI run stays within seconds;
/// `PROPTEST_CASES` sets more for a longer session.
#[expect(
    clippy::disallowed_methods,
    reason = "the test harness, not the core, reads how long to fuzz"
)]
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn durations_never_panic_and_round_trip(text in texty()) {
        if let Ok(threshold) = Threshold::parse(&text) {
            prop_assert_eq!(Threshold::parse(&threshold.to_string()), Ok(threshold));
        }
    }

    #[test]
    fn windows_and_periods_never_panic(
        from in prop::option::of(texty()),
        to in prop::option::of(texty()),
        period in prop::option::of(prop_oneof![texty(), Just("last-month".to_owned()), Just("this-week".to_owned())]),
        now in instant(),
        zone in zone(),
    ) {
        let from = from.and_then(|t| t.parse().ok());
        let to = to.and_then(|t| t.parse().ok());
        let period = period.and_then(|t| t.parse().ok());
        if let Ok(window) = resolve_window(from, to, period, now, &zone) {
            prop_assert!(window.start() < window.end());
        }
    }

    #[test]
    fn whole_queries_never_panic(
        fields in prop::collection::vec(prop::option::of(texty()), 12),
        lists in prop::collection::vec(prop::collection::vec(texty(), 0..3), 4),
        now in instant(),
    ) {
        // Each value goes through its own parser, as the CLI and the service read them; what
        // parses is then checked as a whole.
        fn read<T: std::str::FromStr>(text: Option<&String>) -> Option<T> {
            text.and_then(|t| t.parse().ok())
        }
        fn read_all<T: std::str::FromStr>(texts: &[String]) -> Vec<T> {
            texts.iter().filter_map(|t| t.parse().ok()).collect()
        }
        let input = QueryInput {
            queues: lists[0].clone(),
            queue_names: lists[1].clone(),
            all_queues: true,
            media: read_all(&lists[2]),
            by_media: fields[0].is_some(),
            from: read(fields[1].as_ref()),
            to: read(fields[2].as_ref()),
            period: read(fields[3].as_ref()),
            tz: read(fields[4].as_ref()),
            granularity: read(fields[5].as_ref()).unwrap_or_default(),
            thresholds: read_all(&lists[3]),
            objectives: fields[6].as_deref().and_then(|t| parse_config(t).ok()).unwrap_or_default(),
            abandons: read(fields[7].as_ref()).unwrap_or_default(),
            short_abandon: read(fields[8].as_ref()),
            flowouts: read(fields[9].as_ref()).unwrap_or_default(),
            source: read(fields[10].as_ref()).unwrap_or_default(),
        };
        let _ = input.parse(&crate::tests::fixtures::at(now, Zone::utc()));
    }

    #[test]
    fn config_files_never_panic(text in prop_oneof![any::<String>(), mutated(CONFIG)]) {
        if let Ok(objectives) = parse_config(&text) {
            for objective in objectives {
                prop_assert!(!objective.name.is_empty());
                prop_assert!(objective.target_percent.is_none_or(|t| (0.0..=100.0).contains(&t)));
            }
        }
    }

    #[test]
    fn percentages_never_panic(numerator in any::<u64>(), denominator in any::<u64>()) {
        let p = percent(numerator, denominator);
        prop_assert_eq!(p.is_none(), denominator == 0);
        if numerator <= denominator {
            prop_assert!(p.is_none_or(|p| (0.0..=100.0).contains(&p)));
        }
    }

    /// Visits with any instants and waits, and tallies with any counts (overflowing sums
    /// included), go through tallying, report building and every renderer.
    #[test]
    fn the_pipeline_never_panics(
        visits in prop::collection::vec((instant(), prop::option::of((0..3_u8, any::<u64>(), instant()))), 0..40),
        counts in prop::collection::vec((any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()), 0..6),
        granularity in prop::sample::select(Granularity::ALL.to_vec()),
        short in any::<bool>(),
    ) {
        let mut input = crate::tests::fixtures::input("2026-03-28", "2026-03-30");
        input.granularity = granularity;
        input.thresholds = ps(&["20s", "configured"]);
        input.short_abandon = short.then(|| Threshold::from_millis(5_000));
        input.tz = Some(p("Europe/London"));
        let request = request(&input);
        let window: TimeWindow = request.window;
        let plan = BucketPlan::new(&window, granularity, &request.zone);
        let mut tallier = Tallier::new(plan.clone(), &[Threshold::from_millis(20_000)], request.formula.short_abandon);
        for (entered, outcome) in &visits {
            tallier.add(&Visit {
                conversation_id: "c".to_owned(),
                queue: QueueId::new("q-a"),
                media: MediaType::Voice,
                entered: *entered,
                offered_at: Some(*entered),
                outcome: outcome.map(|(kind, wait_ms, at)| VisitOutcome {
                    kind: [OutcomeKind::Answered, OutcomeKind::Abandoned, OutcomeKind::FlowOut][usize::from(kind)],
                    wait_ms,
                    at,
                }),
            });
        }
        let mut tallies: TallySet = tallier.finish();
        for (i, (offered, answered, abandoned, within, short)) in counts.iter().enumerate() {
            let mut tally = Tally::default();
            (tally.offered, tally.answered, tally.abandoned, tally.short_abandoned) = (*offered, *answered, *abandoned, *short);
            tally.add_within(Threshold::from_millis(20_000), Within { answered: *within, abandoned: *short });
            let key = TallyKey { queue: QueueId::new("q-a"), media: MediaType::Voice, bucket: plan.starts()[i % plan.len()] };
            tallies.add(key, &tally);
        }
        let queues = [queue_with_targets("q-a", "A", &[(MediaType::Voice, 20_000, 80.0)])];
        let report = build_report(&request, &queues, &tallies);
        for sl in report.queues.iter().flat_map(|q| &q.service_levels) {
            prop_assert!(sl.percent.is_none_or(|p| p.is_finite() && p >= 0.0));
        }
        for format in [Format::Table, Format::Json, Format::Csv, Format::Markdown] {
            prop_assert!(!render(&report, format).is_empty());
        }
    }
}
