//! `resolve_queues` and `fetch_report` over mocked ports: names, wildcards and ids, the
//! errors that name what was not found, the tally query a source is asked, and the details
//! path through a visit source.

use std::sync::{Arc, Mutex};

use futures_executor::block_on;

use crate::ports::{
    Coverage, MockQueueDirectory, MockTallySource, MockVisitSource, MockVisitStore, OutcomeKind,
    QueueSelector, SourceError, TallyQuery, Visit, VisitQuery,
};
use crate::tests::fixtures::{
    at, config, input, media, ms, p, ps, queue, queue_with_targets, request, tally_visits, ts,
    visit,
};
use crate::{
    Granularity, Limits, Located, MediaType, QueryInput, QueueId, QueueInfo, QueueSelection,
    ReportStore, ServiceError, SlaError, SourceKind, Sources, StoreSources, TallySet, TimeWindow,
    build_report, count_stored, fetch_report, fetch_stored_report, find_breaches,
    find_stored_breaches, list_queues, locate_queue, resolve_queues, tally_query,
};

/// The org's queues, as the directory knows them.
fn org() -> Vec<QueueInfo> {
    vec![
        queue_with_targets("q-sales", "Sales", &[(MediaType::Voice, 20_000, 80.0)]),
        queue_with_targets(
            "q-sales-emea",
            "Sales EMEA",
            &[(MediaType::Voice, 30_000, 85.0)],
        ),
        queue_with_targets("q-support", "Support", &[(MediaType::Chat, 60_000, 90.0)]),
        queue("q-billing", "billing"),
        queue("q-ventes", "Ventes Été"),
    ]
}

/// Whether `name` matches `pattern` ignoring case, with `*` standing for any text; a pattern
/// without `*` matches names that contain it, as a loose directory search might.
fn matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_lowercase(), name.to_lowercase());
    if !pattern.contains('*') {
        return name.contains(&pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    rest.is_empty()
}

/// A directory over [`org`] that records each selector it is asked.
fn directory(asked: &Arc<Mutex<Vec<QueueSelector>>>) -> MockQueueDirectory {
    let asked = Arc::clone(asked);
    let mut mock = MockQueueDirectory::new();
    mock.expect_queues().returning(move |selector| {
        asked.lock().unwrap().push(selector.clone());
        Ok(org()
            .into_iter()
            .filter(|q| match selector {
                QueueSelector::All => true,
                QueueSelector::Ids(ids) => ids.contains(&q.queue.id),
                QueueSelector::Name(pattern) => matches(pattern, &q.queue.name),
            })
            .collect())
    });
    mock
}

fn selection(ids: &[&str], names: &[&str], patterns: &[&str], all: bool) -> QueueSelection {
    QueueSelection {
        ids: ids.iter().map(|id| QueueId::new(*id)).collect(),
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        all,
    }
}

/// Resolves `selection` and compares the ids found (in order) or the error, and the selectors
/// the directory was asked.
#[track_caller]
fn check(
    selection: &QueueSelection,
    expect: Result<&[&str], SlaError>,
    asked_expect: &[QueueSelector],
) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let got = block_on(resolve_queues(selection, &directory(&asked)));
    match (got, expect) {
        (Ok(queues), Ok(ids)) => {
            let got: Vec<&str> = queues.iter().map(|q| q.queue.id.as_str()).collect();
            assert_eq!(got, ids);
        }
        (Err(ServiceError::Input(err)), Err(want)) => assert_eq!(err, want),
        (got, want) => panic!("got {got:?}, expected {want:?}"),
    }
    assert_eq!(*asked.lock().unwrap(), asked_expect);
}

fn name(text: &str) -> QueueSelector {
    QueueSelector::Name(text.to_owned())
}

#[test]
fn names_match_exactly_ignoring_case() {
    // The directory also returns "Sales EMEA" for "sales"; only the exact name is kept.
    check(
        &selection(&[], &["sales"], &[], false),
        Ok(&["q-sales"]),
        &[name("sales")],
    );
    check(
        &selection(&[], &["SALES emea", "Billing"], &[], false),
        Ok(&["q-sales-emea", "q-billing"]),
        &[name("SALES emea"), name("Billing")],
    );
    // Case is ignored beyond ASCII too.
    check(
        &selection(&[], &["VENTES ÉTÉ"], &[], false),
        Ok(&["q-ventes"]),
        &[name("VENTES ÉTÉ")],
    );
}

#[test]
fn patterns_keep_every_queue_they_match() {
    check(
        &selection(&[], &[], &["Sales*"], false),
        Ok(&["q-sales", "q-sales-emea"]),
        &[name("Sales*")],
    );
    check(
        &selection(&[], &[], &["*emea"], false),
        Ok(&["q-sales-emea"]),
        &[name("*emea")],
    );
}

#[test]
fn ids_are_looked_up_together() {
    let ids = |ids: &[&str]| QueueSelector::Ids(ids.iter().map(|id| QueueId::new(*id)).collect());
    check(
        &selection(&["q-support", "q-sales"], &[], &[], false),
        Ok(&["q-sales", "q-support"]),
        &[ids(&["q-support", "q-sales"])],
    );
    check(
        &selection(&["q-support", "q-gone"], &[], &[], false),
        Err(SlaError::UnknownQueueId("q-gone".into())),
        &[ids(&["q-support", "q-gone"])],
    );
}

#[test]
fn what_matches_nothing_is_an_error_naming_it() {
    check(
        &selection(&[], &["Sale"], &[], false),
        Err(SlaError::UnknownQueue("Sale".into())),
        &[name("Sale")],
    );
    check(
        &selection(&[], &["Nope"], &[], false),
        Err(SlaError::UnknownQueue("Nope".into())),
        &[name("Nope")],
    );
    check(
        &selection(&[], &[], &["Nope*"], false),
        Err(SlaError::NoMatchingQueue("Nope*".into())),
        &[name("Nope*")],
    );
    // Nothing selected: the directory is not asked at all.
    check(
        &selection(&[], &[], &[], false),
        Err(SlaError::NoQueues),
        &[],
    );
    let message = SlaError::UnknownQueue("Nope".into()).to_string();
    assert!(message.contains("'Nope'"), "{message}");
}

#[test]
fn every_queue_is_listed_once_however_often_it_is_named() {
    check(
        &selection(&["q-sales"], &["Sales", "support"], &["S*"], true),
        Ok(&[
            "q-sales", "q-sales-emea", "q-support", "q-billing", "q-ventes",
        ]),
        &[
            QueueSelector::All,
            QueueSelector::Ids(vec![QueueId::new("q-sales")]),
            name("Sales"),
            name("support"),
            name("S*"),
        ],
    );
}

#[test]
fn directory_failures_pass_through_as_source_errors() {
    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(|_| {
        Err(SourceError::Unavailable {
            attempts: 5,
            source: "503 Service Unavailable".into(),
        })
    });
    let got = block_on(resolve_queues(
        &selection(&[], &["Sales"], &[], false),
        &directory,
    ));
    match got {
        Err(ServiceError::Source(SourceError::Unavailable { attempts: 5, .. })) => {}
        other => panic!("{other:?}"),
    }
}

/// A tally source that records the query it is asked and answers with `tallies`.
fn tally_source(asked: &Arc<Mutex<Vec<TallyQuery>>>, tallies: TallySet) -> MockTallySource {
    let asked = Arc::clone(asked);
    let mut mock = MockTallySource::new();
    mock.expect_tallies().returning(move |query| {
        asked.lock().unwrap().push(query.clone());
        Ok(tallies.clone())
    });
    mock
}

fn sales_input(granularity: &str) -> QueryInput {
    QueryInput {
        queues: vec!["sales".into(), "Support".into()],
        granularity: p(granularity),
        thresholds: ps(&["20s", "configured"]),
        objectives: config(
            "[[objective]]\nname = \"contract\"\nthreshold = \"45s\"\nqueues = [\"Support\"]\n",
        ),
        short_abandon: Some(p("5s")),
        tz: Some(p("Europe/London")),
        ..input("2026-03-02", "2026-03-31")
    }
}

fn sales_visits() -> Vec<Visit> {
    let at = |t: &str| ts(&format!("2026-03-{t}Z"));
    vec![
        visit(
            "q-sales",
            MediaType::Voice,
            at("02T09:00:00"),
            OutcomeKind::Answered,
            15_000,
        ),
        visit(
            "q-sales",
            MediaType::Voice,
            at("09T09:00:00"),
            OutcomeKind::Abandoned,
            3_000,
        ),
        visit(
            "q-support",
            MediaType::Chat,
            at("16T09:00:00"),
            OutcomeKind::Answered,
            50_000,
        ),
        visit(
            "q-support",
            MediaType::Chat,
            at("30T09:00:00"),
            OutcomeKind::FlowOut,
            80_000,
        ),
        // Another queue's visit: not asked for, so not counted.
        visit(
            "q-billing",
            MediaType::Voice,
            at("03T09:00:00"),
            OutcomeKind::Answered,
            1_000,
        ),
    ]
}

#[test]
fn fetch_report_asks_for_every_threshold_at_the_native_granularity() {
    for (granularity, native) in [
        ("week", Granularity::Day),
        ("month", Granularity::Day),
        ("day", Granularity::Day),
        ("30m", Granularity::HalfHour),
        ("hour", Granularity::Hour),
        ("total", Granularity::Total),
    ] {
        let request = request(&sales_input(granularity));
        let asked_queues = Arc::new(Mutex::new(Vec::new()));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let source = tally_source(&asked, TallySet::new());
        let sources = Sources {
            directory: &directory(&asked_queues),
            tallies: &source,
            visits: None,
        };
        let report = block_on(fetch_report(&request, sources)).unwrap();
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 1);
        let query = &asked[0];
        assert_eq!(
            query.queues,
            [QueueId::new("q-sales"), QueueId::new("q-support")]
        );
        assert!(query.media.is_empty());
        assert_eq!(query.window, request.window);
        assert_eq!(query.zone.name(), "Europe/London");
        assert_eq!(query.granularity, native, "{granularity}");
        // 20 s, both queues' configured thresholds (Sales voice 20 s, Support chat 60 s) and
        // the config file's 45 s, each once.
        assert_eq!(query.thresholds, [ms(20_000), ms(45_000), ms(60_000)]);
        assert_eq!(query.short_abandon, Some(ms(5_000)));
        assert_eq!(
            *query,
            tally_query(
                &request,
                &block_on(resolve_queues(&request.queues, &directory(&Arc::default()))).unwrap()
            )
        );
        assert_eq!(report.granularity.as_str(), granularity);
        assert_eq!(report.queues.len(), 2);
    }
}

#[test]
fn a_media_filter_is_passed_on_and_narrows_the_configured_thresholds() {
    let request = request(&QueryInput {
        media: media(&["voice"]),
        ..sales_input("day")
    });
    let asked = Arc::new(Mutex::new(Vec::new()));
    let source = tally_source(&asked, TallySet::new());
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &source,
        visits: None,
    };
    block_on(fetch_report(&request, sources)).unwrap();
    let query = &asked.lock().unwrap()[0];
    assert_eq!(query.media, [MediaType::Voice]);
    assert_eq!(query.thresholds, [ms(20_000), ms(45_000)]);
}

#[test]
fn fetch_report_builds_the_report_from_what_the_source_counted() {
    let request = request(&sales_input("week"));
    let queues = block_on(resolve_queues(&request.queues, &directory(&Arc::default()))).unwrap();
    let query = tally_query(&request, &queues);
    let tallies = tally_visits(
        &request,
        query.granularity,
        &query.thresholds,
        &sales_visits(),
    );
    let source = tally_source(&Arc::default(), tallies.clone());
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &source,
        visits: None,
    };
    let report = block_on(fetch_report(&request, sources)).unwrap();
    assert_eq!(report, build_report(&request, &queues, &tallies));
    let names: Vec<&str> = report
        .queues
        .iter()
        .map(|q| q.queue_name.as_str())
        .collect();
    assert_eq!(names, ["Sales", "Support"]);
    assert_eq!(report.total.counts.offered, 4);
    assert_eq!(report.total.counts.short_abandoned, Some(1));
    // Five weeks from Monday 2 March to Tuesday 31 March.
    assert_eq!(report.total.intervals.len(), 5);
}

#[test]
fn the_details_path_tallies_streamed_visits_into_the_same_report() {
    let request = request(&QueryInput {
        source: p("details"),
        ..sales_input("week")
    });
    let asked = Arc::new(Mutex::new(Vec::<VisitQuery>::new()));
    let mut visits = MockVisitSource::new();
    {
        let asked = Arc::clone(&asked);
        visits.expect_visits().returning(move |query, sink| {
            asked.lock().unwrap().push(query.clone());
            for v in sales_visits() {
                if query.queues.contains(&v.queue) {
                    sink.visit(v);
                }
            }
            Ok(())
        });
    }
    // The aggregates source must not be asked.
    let tallies = MockTallySource::new();
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &tallies,
        visits: Some(&visits),
    };
    let details = block_on(fetch_report(&request, sources)).unwrap();
    let query = &asked.lock().unwrap()[0];
    assert_eq!(
        query.queues,
        [QueueId::new("q-sales"), QueueId::new("q-support")]
    );
    assert_eq!(query.window, request.window);
    assert!(query.media.is_empty());

    // The same visits counted by an aggregates source give the same report but for `source`.
    let aggregates_request = crate::ReportRequest {
        source: crate::SourceKind::Aggregates,
        ..request.clone()
    };
    let queues = block_on(resolve_queues(&request.queues, &directory(&Arc::default()))).unwrap();
    let q = tally_query(&request, &queues);
    let counted = tally_visits(&request, q.granularity, &q.thresholds, &sales_visits());
    let aggregates = build_report(&aggregates_request, &queues, &counted);
    assert_eq!(details.source.as_str(), "details");
    assert_eq!(details.queues, aggregates.queues);
    assert_eq!(details.total, aggregates.total);
}

#[test]
fn visit_source_failures_pass_through() {
    let request = request(&QueryInput {
        source: p("details"),
        ..sales_input("day")
    });
    let mut visits = MockVisitSource::new();
    visits
        .expect_visits()
        .returning(|_, _| Err(SourceError::Unauthorized("401 bad credentials".into())));
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &MockTallySource::new(),
        visits: Some(&visits),
    };
    match block_on(fetch_report(&request, sources)) {
        Err(ServiceError::Source(SourceError::Unauthorized(_))) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn details_without_a_visit_source_fail_rather_than_fall_back_to_aggregates() {
    let request = request(&QueryInput {
        source: p("details"),
        ..sales_input("day")
    });
    // The aggregates source must not be asked.
    let tallies = MockTallySource::new();
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &tallies,
        visits: None,
    };
    match block_on(fetch_report(&request, sources)) {
        Err(ServiceError::Source(err @ SourceError::Other(_))) => {
            let source = std::error::Error::source(&err).map(ToString::to_string);
            assert_eq!(
                source.as_deref(),
                Some("this connection cannot list visits")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(format!("{sources:?}").starts_with("Sources"));
}

#[test]
fn unknown_queues_stop_the_report_before_any_count_is_asked() {
    let request = request(&QueryInput {
        queues: vec!["Sales".into(), "Marketing".into()],
        ..sales_input("day")
    });
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &MockTallySource::new(),
        visits: None,
    };
    match block_on(fetch_report(&request, sources)) {
        Err(ServiceError::Input(SlaError::UnknownQueue(name))) => assert_eq!(name, "Marketing"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn objectives_must_name_queues_that_exist() {
    let contract = |queues: &str| {
        config(format!(
            "[[objective]]\nname = \"contract\"\nthreshold = \"45s\"\nqueues = [{queues}]\n"
        ))
    };
    let fetch = |queues: &str| {
        let request = request(&QueryInput {
            queues: vec!["Sales".into()],
            objectives: contract(queues),
            ..sales_input("day")
        });
        let sources = Sources {
            directory: &directory(&Arc::default()),
            tallies: &tally_source(&Arc::default(), TallySet::new()),
            visits: None,
        };
        block_on(fetch_report(&request, sources))
    };
    // A queue outside the report still exists, so the objective is fine.
    assert!(fetch("\"Sales\", \"support\"").is_ok());
    match fetch("\"Sales\", \"Suport\"") {
        Err(ServiceError::Input(SlaError::UnknownObjectiveQueue { objective, queue })) => {
            assert_eq!((objective.as_str(), queue.as_str()), ("contract", "Suport"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn queue_selectors_pick_as_the_genesys_directory_does() {
    let sales = queue("q-sales", "Sales EMEA").queue;
    let picks = |selector: QueueSelector| selector.selects(&sales);
    assert!(picks(QueueSelector::All));
    assert!(picks(QueueSelector::Ids(vec![QueueId::new("q-sales")])));
    assert!(!picks(QueueSelector::Ids(vec![QueueId::new("q-other")])));
    for pattern in ["sales emea", "SALES*", "*emea", "*LES EM*", "*"] {
        assert!(picks(QueueSelector::Name(pattern.into())), "{pattern}");
    }
    for pattern in ["Sales", "emea*", "*sales", "Sales EMEA 2"] {
        assert!(!picks(QueueSelector::Name(pattern.into())), "{pattern}");
    }
}

#[test]
fn a_configured_queue_is_located_by_name_or_by_an_id_in_either_case() {
    let id = "3f2a9c1e-0b4d-4e8f-9a7b-1c2d3e4f5a6b";
    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(move |selector| {
        Ok(match selector {
            QueueSelector::Ids(ids) if ids == &[QueueId::new(id)] => vec![queue(id, "Sales")],
            QueueSelector::Name(name) if name.eq_ignore_ascii_case("sales") => {
                vec![queue(id, "Sales")]
            }
            _ => Vec::new(),
        })
    });
    let sales = [queue(id, "Sales")];
    let upper = id.to_ascii_uppercase();
    let locate =
        |name: &str, among: &[QueueInfo]| block_on(locate_queue(name, among, &directory)).unwrap();
    assert_eq!(locate(&upper, &sales), Located::Among);
    assert_eq!(locate(&upper, &[]), Located::Elsewhere);
    assert_eq!(locate("SALES", &[]), Located::Elsewhere);
    assert_eq!(locate("Salez", &sales), Located::Nowhere);
}

#[test]
fn a_report_larger_than_the_caller_allows_is_refused_before_counting() {
    let mut request = request(&sales_input("30m"));
    let queues = 2;
    let cells = crate::report_cells(&request, queues);
    // Two queues; 30 London days in half hours, one of the days 23 hours long; three
    // objectives (20s, configured, and the config's).
    assert_eq!(cells, queues * (30 * 48 - 2) * 3);
    request.limits.max_cells = cells - 1;
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &MockTallySource::new(),
        visits: None,
    };
    match block_on(fetch_report(&request, sources)) {
        Err(ServiceError::Input(SlaError::ReportTooLarge { cells: c, max })) => {
            assert_eq!((c, max), (cells, cells - 1));
        }
        other => panic!("{other:?}"),
    }
    request.by_media = true;
    request.media = vec![MediaType::Voice, MediaType::Chat, MediaType::Voice];
    assert_eq!(crate::report_cells(&request, queues), 2 * cells);
}

#[test]
fn limits_are_checked_as_the_query_is_read_and_once_queues_are_resolved() {
    let limits = Limits {
        max_window_days: 7,
        max_queues: 2,
        max_objectives: 2,
        max_cells: usize::MAX,
    };
    let read = |input: QueryInput| {
        input.parse(&crate::QueryContext {
            limits,
            ..at(ts("2026-04-01T12:00:00Z"), crate::Zone::utc())
        })
    };
    // Seven days pass; seven days and a second do not.
    assert!(read(input("2026-03-01", "2026-03-07")).is_ok());
    assert_eq!(
        read(QueryInput {
            to: Some(p("2026-03-08T00:00:01Z")),
            ..input("2026-03-01", "2026-03-07")
        }),
        Err(SlaError::WindowTooLong {
            days: 8,
            max_days: 7
        })
    );
    assert_eq!(
        read(QueryInput {
            thresholds: ps(&["10s", "20s", "30s"]),
            ..input("2026-03-01", "2026-03-02")
        }),
        Err(SlaError::TooMany {
            what: "objectives",
            count: 3,
            max: 2
        })
    );
    assert_eq!(
        read(QueryInput {
            queues: vec!["a".into(), "b".into()],
            queue_names: vec!["c*".into()],
            ..input("2026-03-01", "2026-03-02")
        }),
        Err(SlaError::TooMany {
            what: "queues",
            count: 3,
            max: 2
        })
    );
    // A pattern is one name until it is resolved: `Sales*` matches two queues, `*` five.
    let wide = |pattern: &str| {
        let request = read(QueryInput {
            queues: Vec::new(),
            queue_names: vec![pattern.into()],
            ..input("2026-03-01", "2026-03-02")
        })
        .unwrap();
        let sources = Sources {
            directory: &directory(&Arc::default()),
            tallies: &tally_source(&Arc::default(), TallySet::new()),
            visits: None,
        };
        block_on(fetch_report(&request, sources)).map(|r| r.queues.len())
    };
    assert_eq!(wide("Sales*").unwrap(), 2);
    match wide("*") {
        Err(ServiceError::Input(SlaError::TooMany { what, count, max })) => {
            assert_eq!((what, count, max), ("queues", 5, 2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_query_naming_no_queue_covers_every_queue_only_where_the_context_says_so() {
    let read = |all_queues_by_default| {
        QueryInput::default()
            .parse(&crate::QueryContext {
                all_queues_by_default,
                ..at(ts("2026-04-01T12:00:00Z"), crate::Zone::utc())
            })
            .unwrap()
            .queues
    };
    assert!(read(false).is_empty());
    assert_eq!(
        read(true),
        QueueSelection {
            all: true,
            ..QueueSelection::default()
        }
    );
}

#[test]
fn breaches_are_found_through_the_same_resolution_as_reports() {
    let request = request(&QueryInput {
        source: p("details"),
        thresholds: ps(&["20s"]),
        abandons: p("against"),
        ..sales_input("day")
    });
    let mut visits = MockVisitSource::new();
    visits.expect_visits().returning(|query, sink| {
        for v in sales_visits() {
            if query.queues.contains(&v.queue) {
                sink.visit(v);
            }
        }
        Ok(())
    });
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &MockTallySource::new(),
        visits: Some(&visits),
    };
    let breaches = block_on(find_breaches(&request, sources)).unwrap();
    let expect: Vec<(String, u64)> = sales_visits()
        .iter()
        .filter_map(|v| v.outcome.map(|o| (v, o)))
        .filter(|(v, o)| {
            request.window.contains(o.at)
                // Abandons count against, but short ones (under 5 s) leave the formula.
                && ((o.kind == OutcomeKind::Abandoned && o.wait_ms >= 5_000)
                    || (o.kind == OutcomeKind::Answered && o.wait_ms > 20_000))
                && ["q-sales", "q-support"].contains(&v.queue.as_str())
        })
        .map(|(v, o)| (v.conversation_id.clone(), o.wait_ms))
        .collect();
    assert_eq!(expect.len(), 1);
    let mut got: Vec<(String, u64)> = breaches
        .iter()
        .filter(|b| b.objective == "20s")
        .map(|b| (b.conversation_id.clone(), b.wait_ms))
        .collect();
    got.sort();
    let mut expect = expect;
    expect.sort();
    assert_eq!(got, expect);

    // An objective naming a queue that does not exist stops the search before any visit.
    let bad = crate::ReportRequest {
        objectives: config(
            "[[objective]]\nname = \"c\"\nthreshold = \"9s\"\nqueues = [\"Nope\"]\n",
        ),
        ..request
    };
    let sources = Sources {
        directory: &directory(&Arc::default()),
        tallies: &MockTallySource::new(),
        visits: Some(&MockVisitSource::new()),
    };
    match block_on(find_breaches(&bad, sources)) {
        Err(ServiceError::Input(SlaError::UnknownObjectiveQueue { queue, .. })) => {
            assert_eq!(queue, "Nope");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn listings_take_a_pattern_or_every_queue_and_refuse_a_blank_one() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let listed = |pattern| block_on(list_queues(pattern, &directory(&asked)));
    assert_eq!(listed(None).unwrap().len(), org().len());
    let sales: Vec<String> = listed(Some("Sales*"))
        .unwrap()
        .into_iter()
        .map(|q| q.queue.name)
        .collect();
    assert_eq!(sales, ["Sales", "Sales EMEA"]);
    match listed(Some("  ")) {
        Err(ServiceError::Input(SlaError::EmptyPattern)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(*asked.lock().unwrap(), [QueueSelector::All, name("Sales*")]);
}

/// A visit source over [`sales_visits`] that logs `"visits"` in `log` when asked.
fn logged_visits(log: &Arc<Mutex<Vec<&'static str>>>) -> MockVisitSource {
    let log = Arc::clone(log);
    let mut visits = MockVisitSource::new();
    visits.expect_visits().returning(move |query, sink| {
        log.lock().unwrap().push("visits");
        for v in sales_visits() {
            if query.queues.contains(&v.queue) {
                sink.visit(v);
            }
        }
        Ok(())
    });
    visits
}

/// A store whose coverage is `spans` (queue, start, end), logging `"coverage"` in `log`.
fn covering(
    spans: &'static [(&'static str, &'static str, &'static str)],
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> MockVisitStore {
    let log = Arc::clone(log);
    let mut store = MockVisitStore::new();
    store.expect_coverage().returning(move |queues| {
        log.lock().unwrap().push("coverage");
        let mut coverage = Coverage::new();
        for (queue, start, end) in spans {
            let queue = QueueId::new(*queue);
            if queues.contains(&queue) {
                coverage.add(&queue, TimeWindow::new(ts(start), ts(end)).unwrap());
            }
        }
        Ok(coverage)
    });
    store
}

#[test]
fn a_store_reports_its_visits_as_details_do_and_names_how_far_it_is_complete() {
    let details_request = request(&QueryInput {
        source: p("details"),
        ..sales_input("week")
    });
    let store_request = request(&QueryInput {
        source: p("store"),
        ..sales_input("week")
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let details = block_on(fetch_report(
        &details_request,
        Sources {
            directory: &directory(&Arc::default()),
            tallies: &MockTallySource::new(),
            visits: Some(&logged_visits(&Arc::default())),
        },
    ))
    .unwrap();
    // Sales is synced over the whole window (London's March is from 2 March 00:00 GMT to 1
    // April 00:00 BST), Support only up to 20 March.
    let store = covering(
        &[
            ("q-sales", "2026-02-01T00:00:00Z", "2026-04-02T00:00:00Z"),
            ("q-support", "2026-03-01T00:00:00Z", "2026-03-20T00:00:00Z"),
        ],
        &log,
    );
    let sources = StoreSources {
        directory: &directory(&Arc::default()),
        visits: &logged_visits(&log),
        store: &store,
    };
    let stored = block_on(fetch_stored_report(&store_request, sources)).unwrap();
    // The coverage is read before the visits, so the claim never outruns the counts.
    assert_eq!(*log.lock().unwrap(), ["coverage", "visits"]);
    assert_eq!(stored.source, SourceKind::Store);
    assert_eq!(
        stored.store,
        Some(ReportStore {
            complete_until: Some(ts("2026-03-20T00:00:00Z"))
        })
    );
    assert_eq!(details.store, None);
    assert_eq!(
        (&stored.queues, &stored.total),
        (&details.queues, &details.total)
    );
    assert_eq!(stored.window, details.window);
    assert!(format!("{sources:?}").starts_with("StoreSources"));

    // Counting alone gives the same counts and the same claim.
    let counted = block_on(count_stored(&store_request, sources)).unwrap();
    assert_eq!(counted.report(&store_request), stored);
}

#[test]
fn a_store_never_synced_from_the_window_start_claims_nothing() {
    let store_request = request(&QueryInput {
        source: p("store"),
        ..sales_input("day")
    });
    // Support's span starts after the window's start, Sales was never synced.
    let store = covering(
        &[("q-support", "2026-03-10T00:00:00Z", "2026-04-10T00:00:00Z")],
        &Arc::default(),
    );
    let sources = StoreSources {
        directory: &directory(&Arc::default()),
        visits: &logged_visits(&Arc::default()),
        store: &store,
    };
    let report = block_on(fetch_stored_report(&store_request, sources)).unwrap();
    let claim = report.store.unwrap();
    assert_eq!(claim.complete_until, None);
    assert!(!claim.covers(&store_request.window));
    let whole = ReportStore {
        complete_until: Some(store_request.window.end()),
    };
    assert!(whole.covers(&store_request.window));
}

#[test]
fn count_refuses_the_store_source_before_asking_any_port() {
    let store_request = request(&QueryInput {
        source: p("store"),
        ..sales_input("day")
    });
    // Mocks without expectations: any call would fail the test.
    let sources = Sources {
        directory: &MockQueueDirectory::new(),
        tallies: &MockTallySource::new(),
        visits: Some(&MockVisitSource::new()),
    };
    match block_on(fetch_report(&store_request, sources)) {
        Err(ServiceError::Source(err @ SourceError::Other(_))) => {
            let source = std::error::Error::source(&err).map(ToString::to_string);
            assert_eq!(
                source.as_deref(),
                Some(
                    "source 'store' is read from a history store, which these sources do not include"
                )
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stored_breaches_are_the_breaches_of_the_same_visits_from_details() {
    let request = request(&QueryInput {
        thresholds: ps(&["20s"]),
        objectives: Vec::new(),
        ..sales_input("total")
    });
    let details = block_on(find_breaches(
        &request,
        Sources {
            directory: &directory(&Arc::default()),
            tallies: &MockTallySource::new(),
            visits: Some(&logged_visits(&Arc::default())),
        },
    ))
    .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = covering(
        &[
            ("q-sales", "2026-02-01T00:00:00Z", "2026-04-02T00:00:00Z"),
            ("q-support", "2026-02-01T00:00:00Z", "2026-04-02T00:00:00Z"),
        ],
        &log,
    );
    let (stored, claim) = block_on(find_stored_breaches(
        &request,
        StoreSources {
            directory: &directory(&Arc::default()),
            visits: &logged_visits(&log),
            store: &store,
        },
    ))
    .unwrap();
    assert!(!details.is_empty());
    assert_eq!(stored, details);
    assert_eq!(*log.lock().unwrap(), ["coverage", "visits"]);
    assert!(claim.covers(&request.window), "{claim:?}");
}
