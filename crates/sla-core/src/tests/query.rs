//! Query parsing: durations, thresholds, windows (dates, instants, periods anchored at a fixed
//! `now` in a zone), zones, the objectives config file, queue selection, media lists and the
//! option enums; every error names the bad value.

use crate::tests::fixtures::{at, config, media, p, ps};
use crate::tests::fixtures::{ms, ts, zone};
use crate::{
    AbandonPolicy, FlowOutPolicy, Format, Granularity, MediaType, Objective, ObjectiveThreshold,
    QueryInput, QueueId, QueueSelection, SlaError, SourceKind, Threshold, Zone, parse_config,
    resolve_window,
};
use crate::{Period, ThresholdArg, TimeArg};

#[test]
fn durations() {
    #[track_caller]
    fn check(text: &str, expect: Option<u64>) {
        let got = Threshold::parse(text);
        if let Some(millis) = expect {
            assert_eq!(got, Ok(ms(millis)), "{text}");
        } else {
            let err = got.expect_err(text);
            assert_eq!(err, SlaError::InvalidDuration(text.to_owned()));
            assert!(err.to_string().contains(&format!("'{text}'")), "{err}");
        }
    }
    check("20s", Some(20_000));
    check("1m30s", Some(90_000));
    check("45000ms", Some(45_000));
    check("2m", Some(120_000));
    check("1h", Some(3_600_000));
    check("1h30m15s500ms", Some(5_415_500));
    check("1d", Some(86_400_000));
    check("0s", Some(0));
    check("0ms", Some(0));
    check(" 20s ", Some(20_000));
    check("90s", Some(90_000));
    // A bare number could be seconds or milliseconds; units out of order, repeated or unknown,
    // fractions, signs, spaces inside and overflow are refused.
    check("", None);
    check("   ", None);
    check("20", None);
    check("s", None);
    check("1m30", None);
    check("30s1m", None);
    check("1m1m", None);
    check("1.5s", None);
    check("-5s", None);
    check("+5s", None);
    check("20 s", None);
    check("20sec", None);
    check("20S", None);
    check("PT20S", None);
    check("99999999999999999999s", None);
    check("18446744073709551615s", None);
}

#[test]
fn thresholds_print_in_the_shortest_form_they_parse_from() {
    for (millis, text) in [
        (20_000, "20s"),
        (90_000, "1m30s"),
        (45_500, "45s500ms"),
        (1_500, "1s500ms"),
        (999, "999ms"),
        (0, "0s"),
        (3_600_000, "1h"),
        (86_400_000 + 1, "1d1ms"),
    ] {
        assert_eq!(ms(millis).to_string(), text);
        assert_eq!(Threshold::parse(text), Ok(ms(millis)));
    }
    assert_eq!(Objective::fixed(ms(60_000)).name, "1m");
    assert_eq!("20s".parse::<Threshold>(), Ok(ms(20_000)));
}

#[test]
fn objective_thresholds() {
    assert_eq!(
        "20s".parse::<ObjectiveThreshold>(),
        Ok(ObjectiveThreshold::Fixed(ms(20_000)))
    );
    for text in ["configured", "Configured", " CONFIGURED "] {
        assert_eq!(
            text.parse::<ObjectiveThreshold>(),
            Ok(ObjectiveThreshold::Configured)
        );
    }
    let err = "target".parse::<ObjectiveThreshold>().unwrap_err();
    assert_eq!(err, SlaError::InvalidThreshold("target".into()));
    assert!(err.to_string().contains("'target'"));
}

/// Parses a window at `now` in `tz` and compares with `[start, end)` or an error.
#[track_caller]
fn check_window(
    (from, to, period): (Option<&str>, Option<&str>, Option<&str>),
    now: &str,
    tz: &str,
    expect: Result<(&str, &str), SlaError>,
) {
    // Each value is read as the CLI reads it, then the window is resolved.
    let got = (|| {
        let from = from.map(str::parse).transpose()?;
        let to = to.map(str::parse).transpose()?;
        let period = period.map(str::parse).transpose()?;
        resolve_window(from, to, period, ts(now), &zone(tz))
    })()
    .map(|w| (w.start(), w.end()));
    let expect = expect.map(|(s, e)| (ts(s), ts(e)));
    assert_eq!(got, expect, "{from:?} {to:?} {period:?} at {now} in {tz}");
}

const NOW: &str = "2026-03-10T15:00:00Z";

#[test]
fn dates_are_whole_local_days_and_to_is_inclusive() {
    let dates = |from, to| (Some(from), Some(to), None);
    check_window(
        dates("2026-03-02", "2026-03-02"),
        NOW,
        "UTC",
        Ok(("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")),
    );
    check_window(
        dates("2026-03-02", "2026-03-08"),
        NOW,
        "UTC",
        Ok(("2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")),
    );
    // Local midnights, 23 hours apart on the day the clocks go forward.
    check_window(
        dates("2026-03-29", "2026-03-29"),
        NOW,
        "Europe/London",
        Ok(("2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z")),
    );
    check_window(
        dates("2026-10-25", "2026-10-25"),
        NOW,
        "Europe/London",
        Ok(("2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z")),
    );
    check_window(
        dates("2026-03-02", "2026-03-02"),
        NOW,
        "America/New_York",
        Ok(("2026-03-02T05:00:00Z", "2026-03-03T05:00:00Z")),
    );
    // Leap day.
    check_window(
        dates("2028-02-29", "2028-02-29"),
        NOW,
        "UTC",
        Ok(("2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z")),
    );
}

#[test]
fn instants_are_exact_and_to_is_exclusive() {
    let both = |from, to| (Some(from), Some(to), None);
    check_window(
        both("2026-03-02T08:00:00Z", "2026-03-02T09:30:00Z"),
        NOW,
        "Europe/London",
        Ok(("2026-03-02T08:00:00Z", "2026-03-02T09:30:00Z")),
    );
    check_window(
        both("2026-03-02T08:00:00+01:00", "2026-03-02T09:00:00.5-00:30"),
        NOW,
        "UTC",
        Ok(("2026-03-02T07:00:00Z", "2026-03-02T09:30:00.5Z")),
    );
    // A date and an instant mix: the date is a local midnight either way.
    check_window(
        both("2026-03-02", "2026-03-02T12:00:00Z"),
        NOW,
        "Europe/Berlin",
        Ok(("2026-03-01T23:00:00Z", "2026-03-02T12:00:00Z")),
    );
    check_window(
        both("2026-03-02T12:00:00Z", "2026-03-03"),
        NOW,
        "Europe/Berlin",
        Ok(("2026-03-02T12:00:00Z", "2026-03-03T23:00:00Z")),
    );
    // Without --to the window runs to now.
    check_window(
        (Some("2026-03-09"), None, None),
        NOW,
        "UTC",
        Ok(("2026-03-09T00:00:00Z", NOW)),
    );
    check_window(
        (Some("2026-03-10T14:00:00Z"), None, None),
        NOW,
        "UTC",
        Ok(("2026-03-10T14:00:00Z", NOW)),
    );
}

#[test]
fn bad_and_conflicting_windows_are_refused_naming_the_problem() {
    let conflicting = |m: &str| Err(SlaError::ConflictingWindow(m.to_owned()));
    let both = "give either --period or --from/--to, not both";
    check_window(
        (Some("2026-03-02"), None, Some("today")),
        NOW,
        "UTC",
        conflicting(both),
    );
    check_window(
        (None, Some("2026-03-02"), Some("today")),
        NOW,
        "UTC",
        conflicting(both),
    );
    check_window(
        (None, Some("2026-03-02"), None),
        NOW,
        "UTC",
        conflicting("--to needs --from"),
    );
    let bad = |_field: &str, value: &str| Err(SlaError::InvalidTime(value.to_owned()));
    check_window(
        (Some("yesterday"), None, None),
        NOW,
        "UTC",
        bad("--from", "yesterday"),
    );
    check_window(
        (Some("2026-02-30"), None, None),
        NOW,
        "UTC",
        bad("--from", "2026-02-30"),
    );
    check_window(
        (Some("2026-03-02"), Some("2026-03-02T08:00:00"), None),
        NOW,
        "UTC",
        bad("--to", "2026-03-02T08:00:00"),
    );
    check_window(
        (Some("2026-03-02"), Some("03/04/2026"), None),
        NOW,
        "UTC",
        bad("--to", "03/04/2026"),
    );
    check_window(
        (Some("2026-03-02"), Some(""), None),
        NOW,
        "UTC",
        bad("--to", ""),
    );
    // The message names the values as typed.
    let empty = |message: &str| Err(SlaError::ConflictingWindow(message.into()));
    check_window(
        (Some("2026-03-05"), Some("2026-03-02"), None),
        NOW,
        "UTC",
        empty("--to 2026-03-02 is not after --from 2026-03-05"),
    );
    check_window(
        (
            Some("2026-03-02T08:00:00Z"),
            Some("2026-03-02T08:00:00Z"),
            None,
        ),
        NOW,
        "UTC",
        empty("--to 2026-03-02T08:00:00Z is not after --from 2026-03-02T08:00:00Z"),
    );
    // A --from in the future with no --to.
    check_window(
        (Some("2026-03-11"), None, None),
        NOW,
        "UTC",
        empty("--from 2026-03-11 is in the future"),
    );
    check_window(
        (None, None, Some("fortnight")),
        NOW,
        "UTC",
        Err(SlaError::InvalidPeriod("fortnight".into())),
    );

    let message = SlaError::InvalidTime("03/04/2026".into()).to_string();
    assert!(message.contains("'03/04/2026'"), "{message}");
}

#[test]
fn an_rfc3339_instant_with_a_space_is_an_instant_not_a_date() {
    // RFC 3339 allows a space for the `T`, and lower-case letters; neither is a whole day.
    for (text, expect) in [
        ("2026-03-02 08:00:00Z", "2026-03-02T08:00:00Z"),
        ("2026-03-02t08:00:00z", "2026-03-02T08:00:00Z"),
        ("2026-03-02 08:00:00+01:00", "2026-03-02T07:00:00Z"),
    ] {
        check_window(
            (Some(text), Some("2026-03-03T00:00:00Z"), None),
            NOW,
            "UTC",
            Ok((expect, "2026-03-03T00:00:00Z")),
        );
    }
}

#[test]
fn periods_are_anchored_at_now_in_the_zone() {
    // 23:30 on Wednesday 4 March in UTC is 00:30 on Thursday 5 March in Berlin.
    let now = "2026-03-04T23:30:00Z";
    let period = |p| (None, None, Some(p));
    let berlin = [
        ("today", "2026-03-04T23:00:00Z", "2026-03-05T23:00:00Z"),
        ("yesterday", "2026-03-03T23:00:00Z", "2026-03-04T23:00:00Z"),
        ("this-week", "2026-03-01T23:00:00Z", "2026-03-08T23:00:00Z"),
        ("last-week", "2026-02-22T23:00:00Z", "2026-03-01T23:00:00Z"),
        // Berlin moves to summer time on 29 March: April starts at 22:00 UTC.
        ("this-month", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"),
        ("last-month", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"),
        (
            "last-7-days", "2026-02-25T23:00:00Z", "2026-03-04T23:00:00Z",
        ),
        (
            "last-30-days", "2026-02-02T23:00:00Z", "2026-03-04T23:00:00Z",
        ),
    ];
    for (p, start, end) in berlin {
        check_window(period(p), now, "Europe/Berlin", Ok((start, end)));
    }
    let utc = [
        ("today", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z"),
        ("yesterday", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
        ("this-week", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"),
        ("last-week", "2026-02-23T00:00:00Z", "2026-03-02T00:00:00Z"),
        ("this-month", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("last-month", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        (
            "last-7-days", "2026-02-25T00:00:00Z", "2026-03-04T00:00:00Z",
        ),
        (
            "last-30-days", "2026-02-02T00:00:00Z", "2026-03-04T00:00:00Z",
        ),
    ];
    for (p, start, end) in utc {
        check_window(period(p), now, "UTC", Ok((start, end)));
    }
    // No window at all is the last 7 days.
    check_window(
        (None, None, None),
        now,
        "UTC",
        Ok(("2026-02-25T00:00:00Z", "2026-03-04T00:00:00Z")),
    );
    // Across a year boundary, on a Monday.
    let january = "2027-01-04T10:00:00Z";
    check_window(
        period("last-month"),
        january,
        "UTC",
        Ok(("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")),
    );
    check_window(
        period("this-week"),
        january,
        "UTC",
        Ok(("2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z")),
    );
    check_window(
        period("last-week"),
        january,
        "UTC",
        Ok(("2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z")),
    );
}

#[test]
fn zones_are_iana_names() {
    assert_eq!(zone("Europe/London").name(), "Europe/London");
    assert_eq!(Zone::utc().name(), "UTC");
    assert_eq!(
        Zone::from_time_zone(jiff::tz::TimeZone::UTC)
            .unwrap()
            .name(),
        "UTC"
    );
    for name in ["Mars/Olympus", "", "GMT+25"] {
        let err = Zone::get(name).unwrap_err();
        assert_eq!(err, SlaError::UnknownTimeZone(name.to_owned()));
        assert!(err.to_string().contains(&format!("'{name}'")));
    }
}

#[track_caller]
fn parse(input: &QueryInput) -> Result<crate::ReportRequest, SlaError> {
    input.parse(&at(ts(NOW), zone("Europe/London")))
}

#[test]
fn an_empty_query_takes_the_defaults() {
    let request = parse(&QueryInput::default()).unwrap();
    assert_eq!(request.zone.name(), "Europe/London");
    assert_eq!(request.window.start(), ts("2026-03-03T00:00:00Z"));
    assert_eq!(request.window.end(), ts("2026-03-10T00:00:00Z"));
    assert_eq!(request.granularity, Granularity::Total);
    assert_eq!(request.objectives, [Objective::fixed(ms(20_000))]);
    assert_eq!(request.objectives[0].name, "20s");
    assert_eq!(request.formula, crate::Formula::default());
    assert_eq!(request.source, SourceKind::Aggregates);
    assert!(request.media.is_empty());
    assert!(!request.by_media);
    assert!(request.queues.is_empty());
}

#[test]
fn options_are_parsed_into_the_request() {
    let request = parse(&QueryInput {
        queues: vec!["Support".into()],
        tz: Some(p("UTC")),
        period: Some(p("yesterday")),
        granularity: p("30m"),
        thresholds: ps(&["20s", "1m", "configured"]),
        abandons: p("after-threshold"),
        short_abandon: Some(p("5s")),
        flowouts: p("against"),
        source: p("details"),
        by_media: true,
        ..QueryInput::default()
    })
    .unwrap();
    assert_eq!(request.zone.name(), "UTC");
    assert_eq!(request.window.start(), ts("2026-03-09T00:00:00Z"));
    assert_eq!(request.granularity, Granularity::HalfHour);
    // Objectives are named as typed.
    let names: Vec<&str> = request.objectives.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["20s", "1m", "configured"]);
    let typed = parse(&QueryInput {
        thresholds: ps(&["60s", " 1m30s ", "20000ms", "20s"]),
        ..QueryInput::default()
    })
    .unwrap();
    let objectives: Vec<(&str, ObjectiveThreshold)> = typed
        .objectives
        .iter()
        .map(|o| (o.name.as_str(), o.threshold))
        .collect();
    let fixed = |millis| ObjectiveThreshold::Fixed(ms(millis));
    assert_eq!(
        objectives,
        [
            ("60s", fixed(60_000)),
            ("1m30s", fixed(90_000)),
            ("20000ms", fixed(20_000)),
            ("20s", fixed(20_000))
        ]
    );
    assert_eq!(request.objectives[2], Objective::configured());
    assert_eq!(request.formula.abandons, AbandonPolicy::AfterThreshold);
    assert_eq!(request.formula.short_abandon, Some(ms(5_000)));
    assert_eq!(request.formula.flowouts, FlowOutPolicy::Against);
    assert_eq!(request.source, SourceKind::Details);
    assert!(request.by_media);
}

#[test]
#[expect(clippy::too_many_lines, reason = "one table of cases")]
fn bad_option_values_are_named_in_the_error() {
    #[track_caller]
    fn check<T: std::fmt::Debug>(got: Result<T, SlaError>, expect: &SlaError, shows: &str) {
        let err = got.unwrap_err();
        assert_eq!(&err, expect);
        assert!(err.to_string().contains(shows), "{err}");
    }
    let base = QueryInput::default;
    check(
        "20".parse::<ThresholdArg>(),
        &SlaError::InvalidThreshold("20".into()),
        "'20'",
    );
    check(
        "5".parse::<Threshold>(),
        &SlaError::InvalidDuration("5".into()),
        "'5'",
    );
    check(
        "sometimes".parse::<AbandonPolicy>(),
        &SlaError::InvalidAbandonPolicy("sometimes".into()),
        "expected ignore, against, after-threshold or for",
    );
    check(
        "for".parse::<FlowOutPolicy>(),
        &SlaError::InvalidFlowOutPolicy("for".into()),
        "'for': expected ignore or against",
    );
    check(
        "15m".parse::<Granularity>(),
        &SlaError::InvalidGranularity("15m".into()),
        "'15m': expected total, 30m, hour, day, week or month",
    );
    for zero in ["0s", "0ms", " 0m "] {
        check(
            zero.parse::<ThresholdArg>(),
            &SlaError::ZeroThreshold(zero.into()),
            "is zero",
        );
    }
    assert!(
        parse_config("[[objective]]\nname = \"x\"\nthreshold = \"0s\"\n")
            .unwrap_err()
            .to_string()
            .contains("is zero")
    );
    check(
        parse(&QueryInput {
            queues: vec!["Sales".into()],
            all_queues: true,
            ..base()
        }),
        &SlaError::AllQueuesAndNamed,
        "--all-queues already covers every queue",
    );
    check(
        parse(&QueryInput {
            queue_names: vec!["Sales*".into()],
            all_queues: true,
            ..base()
        }),
        &SlaError::AllQueuesAndNamed,
        "drop --queue and --queue-name",
    );
    let long = "Ü".repeat(1_001);
    for input in [
        QueryInput {
            queues: vec![long.clone()],
            ..base()
        },
        QueryInput {
            queue_names: vec![long.clone()],
            ..base()
        },
    ] {
        check(
            parse(&input),
            &SlaError::QueueNameTooLong {
                start: "Ü".repeat(20),
                chars: 1_001,
                max: 1_000,
            },
            "a queue name of 1001 characters",
        );
    }
    assert!(
        parse(&QueryInput {
            queues: vec!["Ü".repeat(1_000)],
            ..base()
        })
        .is_ok(),
        "1,000 characters is still a name"
    );
    check(
        "api".parse::<SourceKind>(),
        &SlaError::InvalidSource("api".into()),
        "'api'",
    );
    for bad in ["last-year", "last-0s", "last-", "next-2h", "last-2"] {
        check(
            bad.parse::<Period>(),
            &SlaError::InvalidPeriod(bad.into()),
            "or a rolling last-<duration>",
        );
    }
    check(
        "fax".parse::<MediaType>(),
        &SlaError::InvalidMediaType("fax".into()),
        "'fax'",
    );
    check(
        "2026-13-01".parse::<TimeArg>(),
        &SlaError::InvalidTime("2026-13-01".into()),
        "'2026-13-01'",
    );
    check(
        "Europe/Lndon".parse::<Zone>(),
        &SlaError::UnknownTimeZone("Europe/Lndon".into()),
        "'Europe/Lndon'",
    );
    check(
        "xml".parse::<Format>(),
        &SlaError::InvalidFormat("xml".into()),
        "'xml': expected table, json, csv or markdown",
    );
    check(
        parse(&QueryInput {
            thresholds: ps(&["20s", "20s"]),
            ..base()
        }),
        &SlaError::DuplicateObjective("20s".into()),
        "'20s'",
    );
    check(
        parse(&QueryInput {
            thresholds: ps(&["20s", " 20s"]),
            ..base()
        }),
        &SlaError::DuplicateObjective("20s".into()),
        "'20s'",
    );
    check(
        parse(&QueryInput {
            thresholds: ps(&["configured"]),
            objectives: config("[[objective]]\nname = \"configured\"\nthreshold = \"30s\"\n"),
            ..base()
        }),
        &SlaError::DuplicateObjective("configured".into()),
        "'configured'",
    );
}

#[test]
fn rolling_periods_end_now_in_whole_seconds() {
    let now = "2026-03-10T15:04:05.5Z";
    check_window(
        (None, None, Some("last-15m")),
        now,
        "Europe/London",
        Ok(("2026-03-10T14:49:05Z", "2026-03-10T15:04:05Z")),
    );
    check_window(
        (None, None, Some("last-2h")),
        now,
        "UTC",
        Ok(("2026-03-10T13:04:05Z", "2026-03-10T15:04:05Z")),
    );
    assert_eq!(p::<Period>("last-90m").to_string(), "last-1h30m");
    assert_eq!(p::<Period>(" this-week ").to_string(), "this-week");
    let names: Vec<&str> = Period::names().collect();
    assert_eq!(names.first(), Some(&"today"));
    assert_eq!(names.last(), Some(&"last-<duration>"));
}

#[test]
fn option_enums_read_back_what_they_print() {
    for p in AbandonPolicy::ALL {
        assert_eq!(p.as_str().parse::<AbandonPolicy>(), Ok(*p));
    }
    for p in FlowOutPolicy::ALL {
        assert_eq!(p.to_string().parse::<FlowOutPolicy>(), Ok(*p));
    }
    for g in Granularity::ALL {
        assert_eq!(g.as_str().parse::<Granularity>(), Ok(*g));
    }
    for s in SourceKind::ALL {
        assert_eq!(s.as_str().parse::<SourceKind>(), Ok(*s));
    }
    for m in MediaType::ALL {
        assert_eq!(m.as_str().parse::<MediaType>(), Ok(*m));
    }
    for (text, format) in [
        ("table", Format::Table),
        ("json", Format::Json),
        ("csv", Format::Csv),
        ("markdown", Format::Markdown),
    ] {
        assert_eq!(text.parse::<Format>(), Ok(format));
    }
}

#[test]
fn queue_arguments_that_look_like_uuids_are_ids_and_the_rest_names() {
    let request = parse(&QueryInput {
        queues: vec![
            "5F3C1A2B-0000-4000-8000-00000000ABCD".into(),
            "Support".into(),
            // One hex digit short, and not hex: names.
            "5f3c1a2b-0000-4000-8000-00000000abc".into(),
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz".into(),
            "Sales*".into(),
        ],
        queue_names: vec!["Billing*".into()],
        ..QueryInput::default()
    })
    .unwrap();
    assert_eq!(
        request.queues,
        QueueSelection {
            ids: vec![QueueId::new("5f3c1a2b-0000-4000-8000-00000000abcd")],
            names: vec![
                "Support".into(),
                "5f3c1a2b-0000-4000-8000-00000000abc".into(),
                "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz".into(),
                "Sales*".into(),
            ],
            patterns: vec!["Billing*".into()],
            all: false,
        }
    );
    assert!(!request.queues.is_empty());
    assert!(QueueSelection::default().is_empty());
}

#[test]
fn media_lists_split_on_commas_and_keep_each_media_type_once() {
    #[track_caller]
    fn check(entries: &[&str], expect: &[MediaType]) {
        let request = parse(&QueryInput {
            media: media(entries),
            ..QueryInput::default()
        })
        .unwrap();
        assert_eq!(request.media, expect);
    }
    use MediaType::{Callback, Chat, Email, Voice};
    check(&[], &[]);
    check(&["voice"], &[Voice]);
    check(&["voice,chat", "email"], &[Voice, Chat, Email]);
    check(&["chat, voice ,chat", "voice"], &[Chat, Voice]);
    check(&["Voice,CALL", "callback"], &[Voice, Callback]);
}

#[test]
#[expect(clippy::too_many_lines, reason = "one table of cases")]
fn config_files() {
    #[track_caller]
    fn check(text: &str, expect: Result<Vec<Objective>, &str>) {
        match (parse_config(text), expect) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(SlaError::InvalidConfig(message)), Err(shows)) => {
                assert!(message.contains(shows), "{message:?} lacks {shows:?}");
            }
            (got, want) => panic!("got {got:?}, expected {want:?}"),
        }
    }
    let objective = |name: &str, threshold, target, queues: Option<&[&str]>| Objective {
        name: name.into(),
        threshold,
        target_percent: target,
        queues: queues.map(|q| q.iter().map(|s| (*s).to_owned()).collect()),
    };
    check("", Err("no objectives"));
    check("# nothing yet\n", Err("no objectives"));
    check(
        r#"
        [[objective]]
        name = "contract"
        threshold = "30s"
        target = 90
        queues = ["Sales", "Support"]

        [[objective]]
        name = " own "
        threshold = "configured"
        target = 82.5

        [[objective]]
        name = "fast"
        threshold = "1m30s"
        "#,
        Ok(vec![
            objective(
                "contract",
                ObjectiveThreshold::Fixed(ms(30_000)),
                Some(90.0),
                Some(&["Sales", "Support"]),
            ),
            objective("own", ObjectiveThreshold::Configured, Some(82.5), None),
            objective("fast", ObjectiveThreshold::Fixed(ms(90_000)), None, None),
        ]),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = 0\n",
        Ok(vec![objective(
            "a",
            ObjectiveThreshold::Fixed(ms(30_000)),
            Some(0.0),
            None,
        )]),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = 100\n",
        Ok(vec![objective(
            "a",
            ObjectiveThreshold::Fixed(ms(30_000)),
            Some(100.0),
            None,
        )]),
    );
    // Malformed TOML, with the position.
    check("[[objective]\nname = \"a\"\n", Err("line 1"));
    check("[[objective]]\nname = a\n", Err("line 2"));
    // Unknown keys, at the top and in an objective, and missing ones.
    check(
        "[[objectives]]\nname = \"a\"\nthreshold = \"30s\"\n",
        Err("objectives"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntraget = 90\n",
        Err("traget"),
    );
    check("[[objective]]\nname = \"a\"\n", Err("threshold"));
    check("[[objective]]\nthreshold = \"30s\"\n", Err("name"));
    check(
        "[[objective]]\nname = \"  \"\nthreshold = \"30s\"\n",
        Err("empty name"),
    );
    // Bad thresholds and targets name the objective and the value.
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30\"\n",
        Err("objective 'a': invalid threshold '30'"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = 30\n",
        Err("threshold"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = 101\n",
        Err("objective 'a': invalid percent '101'"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = -0.5\n",
        Err("objective 'a': invalid percent '-0.5'"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = nan\n",
        Err("objective 'a': invalid percent 'NaN'"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\ntarget = \"90\"\n",
        Err("target"),
    );
    check(
        "[[objective]]\nname = \"a\"\nthreshold = \"30s\"\nqueues = \"Sales\"\n",
        Err("queues"),
    );
}

#[test]
fn config_objectives_follow_the_threshold_objectives() {
    let request = parse(&QueryInput {
        thresholds: ps(&["60s"]),
        objectives: config(
            "[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\ntarget = 90\n",
        ),
        ..QueryInput::default()
    })
    .unwrap();
    let names: Vec<&str> = request.objectives.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["60s", "contract"]);
    // A config file alone replaces the default 20 s objective.
    let request = parse(&QueryInput {
        objectives: config("[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\n"),
        ..QueryInput::default()
    })
    .unwrap();
    assert_eq!(request.objectives.len(), 1);
    // An empty config file is an error rather than a silent 20 s.
    for empty in ["", "# nothing yet\n", "objective = []"] {
        assert_eq!(
            parse_config(empty),
            Err(SlaError::InvalidConfig(
                "no objectives: add an [[objective]] with a name and a threshold".into()
            )),
            "{empty:?}"
        );
    }
    assert_eq!(
        parse_config("objective = 3")
            .unwrap_err()
            .to_string()
            .split(':')
            .next(),
        Some("invalid config")
    );
}

#[test]
fn objectives_apply_to_queues_by_id_or_name_ignoring_case() {
    let objective = Objective {
        queues: Some(vec!["support".into(), "q-sales".into()]),
        ..Objective::fixed(ms(20_000))
    };
    let q = |id: &str, name: &str| crate::QueueRef {
        id: QueueId::new(id),
        name: name.into(),
    };
    assert!(objective.applies_to(&q("q-support", "Support")));
    assert!(objective.applies_to(&q("q-sales", "Sales")));
    assert!(!objective.applies_to(&q("q-billing", "Billing")));
    assert!(!objective.applies_to(&q("q-support-2", "Support 2")));
    assert!(Objective::configured().applies_to(&q("q-billing", "Billing")));
    let accented = Objective {
        queues: Some(vec!["VENTES ÉTÉ".into()]),
        ..Objective::configured()
    };
    assert!(accented.applies_to(&q("q-ventes", "Ventes Été")));
}

#[test]
fn zones_are_named_as_the_time_zone_database_spells_them() {
    assert_eq!(Zone::get("europe/london").unwrap().name(), "Europe/London");
    assert_eq!(Zone::get("utc").unwrap().name(), "UTC");
}

#[test]
fn an_open_window_ends_at_now_in_whole_seconds() {
    let now: jiff::Timestamp = "2026-03-05T10:20:30.123456789Z".parse().unwrap();
    let window = resolve_window(Some(p("2026-03-05")), None, None, now, &Zone::utc()).unwrap();
    assert_eq!(window.end().to_string(), "2026-03-05T10:20:30Z");
}

#[test]
fn an_empty_media_option_is_refused_rather_than_read_as_every_media_type() {
    assert_eq!(
        "".parse::<MediaType>(),
        Err(SlaError::InvalidMediaType(String::new()))
    );
}

#[test]
fn live_windows_run_from_5_minutes_to_24_hours() {
    use crate::LiveWindow;
    assert_eq!(LiveWindow::default().to_string(), "30m");
    assert_eq!(p::<LiveWindow>("5m").length(), ms(300_000));
    assert_eq!(p::<LiveWindow>("24h").length(), ms(86_400_000));
    for bad in ["4m59s", "24h1ms", "0s", "1d1s"] {
        assert_eq!(
            bad.parse::<LiveWindow>(),
            Err(SlaError::InvalidLiveWindow(bad.into())),
            "{bad}"
        );
    }
    assert_eq!(
        "soon".parse::<LiveWindow>(),
        Err(SlaError::InvalidDuration("soon".into()))
    );
}
