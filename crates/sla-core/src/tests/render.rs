//! Report renderers: file snapshots of the table, JSON, CSV and Markdown of a realistic week of
//! three queues and four objectives, built from seeded visits; the table fits 100 columns and
//! lines up by display width; CSV reads back; partial intervals and per-media totals show in
//! every format.

use crate::Granularity;
use crate::tests::fixtures::{config, p, ps};
use jiff::civil::date;

use crate::tests::fixtures::{
    QueueProfile, generate_visits, input, queue_with_targets, request, tally_visits, zone,
};
use crate::{
    Format, MediaType, QueryInput, QueueInfo, SlaReport, build_report, native_granularity, render,
    thresholds_needed,
};

use MediaType::{Chat, Email, Voice};

const SALES: &str = "0b7c5a1e-3f2d-4c1a-9e8b-5d6f7a8b9c01";
const SUPPORT: &str = "6e1f0d2c-8a4b-4f3e-b1c2-d3e4f5a6b7c8";
const BILLING: &str = "a9d8c7b6-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

/// Three queues, one with a long name, with configured service levels per media type.
pub(crate) fn org() -> Vec<QueueInfo> {
    vec![
        queue_with_targets(
            SALES,
            "Sales",
            &[(Voice, 20_000, 80.0), (Chat, 60_000, 85.0)],
        ),
        queue_with_targets(
            SUPPORT,
            "Support",
            &[(Voice, 30_000, 80.0), (Email, 3_600_000, 90.0)],
        ),
        queue_with_targets(
            BILLING,
            "Billing & Collections \u{2014} Priority Customers (EMEA)",
            &[(Voice, 20_000, 90.0)],
        ),
    ]
}

const PROFILES: [QueueProfile; 3] = [
    QueueProfile {
        id: SALES,
        media: &[Voice, Voice, Chat],
        per_day: 140,
        typical_wait_s: 12,
    },
    QueueProfile {
        id: SUPPORT,
        media: &[Voice, Voice, Voice, Email],
        per_day: 220,
        typical_wait_s: 20,
    },
    QueueProfile {
        id: BILLING,
        media: &[Voice],
        per_day: 60,
        typical_wait_s: 9,
    },
];

/// The week of Monday 23 March 2026 in Europe/London (its Sunday is the 23-hour day), with
/// the given query options on top.
pub(crate) fn week(extra: impl FnOnce(QueryInput) -> QueryInput) -> SlaReport {
    let input = extra(QueryInput {
        tz: Some(p("Europe/London")),
        granularity: p("day"),
        thresholds: ps(&["20s", "60s", "configured"]),
        objectives: config(
            "[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\ntarget = 90\nqueues = [\"Sales\", \"Support\"]\n",
        ),
        abandons: p("against"),
        short_abandon: Some(p("5s")),
        ..input("2026-03-23", "2026-03-29")
    });
    seeded(&input, &org())
}

/// The report of `input` over `queues` from the seeded visits of [`PROFILES`] around that week.
fn seeded(input: &QueryInput, queues: &[QueueInfo]) -> SlaReport {
    let request = request(input);
    let visits = generate_visits(
        2026,
        &PROFILES,
        date(2026, 3, 22),
        9,
        &zone("Europe/London"),
    );
    let tallies = tally_visits(
        &request,
        native_granularity(request.granularity),
        &thresholds_needed(&request, queues),
        &visits,
    );
    build_report(&request, queues, &tallies)
}

/// A report of one queue, idle for a day, named `name`: for how names render.
fn idle_report(id: &str, name: &str) -> SlaReport {
    let queues = [crate::tests::fixtures::queue(id, name)];
    build_report(
        &request(&input("2026-03-02", "2026-03-02")),
        &queues,
        &crate::TallySet::new(),
    )
}

/// The widest line of `text`, in terminal columns.
pub(crate) fn widest(text: &str) -> usize {
    text.lines()
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

#[test]
fn table() {
    let text = render(&week(|i| i), Format::Table);
    insta::assert_snapshot!("table", text);
    assert!(
        widest(&text) <= 100,
        "the widest line has {} columns",
        widest(&text)
    );
}

#[test]
fn json() {
    insta::assert_snapshot!("json", render(&week(|i| i), Format::Json));
}

#[test]
fn csv() {
    insta::assert_snapshot!("csv", render(&week(|i| i), Format::Csv));
}

#[test]
fn markdown() {
    insta::assert_snapshot!("markdown", render(&week(|i| i), Format::Markdown));
}

fn by_media() -> SlaReport {
    week(|i| QueryInput {
        by_media: true,
        granularity: Granularity::Total,
        objectives: Vec::new(),
        short_abandon: None,
        abandons: crate::AbandonPolicy::Ignore,
        flowouts: p("against"),
        thresholds: ps(&["20s", "configured"]),
        ..i
    })
}

#[test]
fn by_media_json() {
    insta::assert_snapshot!("by_media_json", render(&by_media(), Format::Json));
}

#[test]
fn by_media_table() {
    let text = render(&by_media(), Format::Table);
    insta::assert_snapshot!("by_media_table", text);
    assert!(
        widest(&text) <= 100,
        "the widest line has {} columns",
        widest(&text)
    );
}

#[test]
fn every_format_ends_with_a_newline_and_the_table_fits_100_columns_at_any_granularity() {
    for granularity in ["total", "30m", "hour", "day", "week", "month"] {
        let report = week(|i| QueryInput {
            granularity: p(granularity),
            ..i
        });
        for format in [Format::Table, Format::Json, Format::Csv, Format::Markdown] {
            let text = render(&report, format);
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "{format:?} {granularity}"
            );
        }
        let table = render(&report, Format::Table);
        assert!(
            widest(&table) <= 100,
            "{granularity}: {} columns",
            widest(&table)
        );
    }
}

#[test]
fn names_are_clipped_in_the_table_only_and_escaped_where_the_format_needs_it() {
    let report = idle_report(
        "q-1",
        "Sales, \"North\" | EMEA \u{2014} after-hours overflow",
    );
    let table = render(&report, Format::Table);
    assert!(
        table.contains("\nSales, \"North\" | EMEA \u{2014} aft\u{2026}  "),
        "{table}"
    );
    let csv = render(&report, Format::Csv);
    assert!(
        csv.contains("q-1,\"Sales, \"\"North\"\" | EMEA \u{2014} after-hours overflow\",,"),
        "{csv}"
    );
    let markdown = render(&report, Format::Markdown);
    assert!(
        markdown.contains("| Sales, \"North\" \\| EMEA \u{2014} after-hours overflow |"),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
    assert_eq!(
        json["queues"][0]["queue_name"],
        "Sales, \"North\" | EMEA \u{2014} after-hours overflow"
    );
}

#[test]
fn csv_has_one_tidy_row_per_queue_interval_and_objective_then_the_totals() {
    let report = week(|i| i);
    let csv = render(&report, Format::Csv);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "queue_id,queue_name,media_type,interval_start,interval_end,objective,threshold_ms,target_percent,offered,answered,abandoned,short_abandoned,flow_outs,answered_within,abandoned_within,numerator,denominator,percent,met_target,scope,partial,\
             answer_wait_ms_sum,answer_wait_ms_max,abandon_wait_ms_sum,asa_ms,average_abandon_wait_ms,\
             longest_answer_wait_ms,answer_percent,abandon_percent"
        )
    );
    let records = read_csv(&csv);
    let column = |name: &str| records[0].iter().position(|h| h == name).unwrap();
    let (scope, partial) = (column("scope"), column("partial"));
    let scopes: Vec<&str> = records[1..].iter().map(|r| r[scope].as_str()).collect();
    // Seven days of Billing (3 objectives), Sales and Support (4 objectives each), then seven
    // days of totals of the 4 objectives.
    assert_eq!(scopes.len(), 7 * (3 + 4 + 4) + 7 * 4);
    assert!(scopes[..7 * 11].iter().all(|s| *s == "queue"), "{csv}");
    assert!(scopes[7 * 11..].iter().all(|s| *s == "total"), "{csv}");
    // With granularity total, the whole window is the one interval.
    let total = render(
        &week(|i| QueryInput {
            granularity: Granularity::Total,
            ..i
        }),
        Format::Csv,
    );
    let first_line = total.lines().nth(1).unwrap();
    assert!(
        first_line.starts_with(&format!("{BILLING},Billing & Collections \u{2014} Priority Customers (EMEA),,2026-03-23T00:00:00Z,2026-03-29T23:00:00Z,20s,20000,,")),
        "{first_line}"
    );
    let records = read_csv(&total);
    let (first, last) = (&records[1], &records[records.len() - 1]);
    assert_eq!((&*first[scope], &*first[partial]), ("queue", "false"));
    let last_line = total.lines().last().unwrap();
    assert!(
        last_line.starts_with(",,,2026-03-23T00:00:00Z,2026-03-29T23:00:00Z,contract,30000,90,"),
        "{last_line}"
    );
    assert_eq!((&*last[scope], &*last[partial]), ("total", "false"));
}

/// The fields of every record of `csv`, as a CSV reader reads them back.
pub(crate) fn read_csv(csv: &str) -> Vec<Vec<String>> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A name and an id with everything CSV must quote: a comma, a quote and a line break.
pub(crate) const AWKWARD_NAME: &str = "Sales, \"North\"\nafter hours";
pub(crate) const AWKWARD_ID: &str = "q,1\"\n";

#[test]
fn csv_fields_round_trip_through_a_csv_reader() {
    let report = idle_report(AWKWARD_ID, AWKWARD_NAME);
    let records = read_csv(&render(&report, Format::Csv));
    assert_eq!(records.len(), 3, "a header, the queue and the total");
    assert_eq!(records[1][..2], [AWKWARD_ID, AWKWARD_NAME]);
    assert_eq!(records[1][19], "queue");
    assert_eq!(records[2][..2], ["", ""]);
    assert_eq!(records[2][19], "total");
    assert!(records.iter().all(|r| r.len() == records[0].len()));
}

/// Queue names whose characters take two columns on a terminal, or none.
const WIDE: [(&str, &str); 4] = [
    (SALES, "Soporte \u{6280}\u{672f} \u{1f680}"),
    (SUPPORT, "\u{30b5}\u{30dd}\u{30fc}\u{30c8} Tokyo"),
    (BILLING, "Ventes e\u{301}te\u{301} \u{2615}"),
    ("c0ffee00-0000-4000-8000-000000000004", "Support"),
];

fn wide_report() -> SlaReport {
    let queues: Vec<QueueInfo> = WIDE
        .iter()
        .map(|(id, name)| queue_with_targets(id, name, &[(Voice, 20_000, 80.0)]))
        .collect();
    let input = QueryInput {
        tz: Some(p("Europe/London")),
        thresholds: ps(&["20s", "configured"]),
        ..input("2026-03-23", "2026-03-29")
    };
    seeded(&input, &queues)
}

#[test]
fn wide_characters_line_up_by_display_width() {
    let text = render(&wide_report(), Format::Table);
    insta::assert_snapshot!("wide_names_table", text);
    // In the counts table the last column holds numbers, flush right, so every line of it
    // (header, rules and rows) ends in the same terminal column.
    let counts: Vec<&str> = text.split("\n\n").nth(1).unwrap().lines().collect();
    assert!(counts.iter().any(|l| l.starts_with("Soporte")), "{text}");
    let width = |l: &str| unicode_width::UnicodeWidthStr::width(l);
    assert!(
        counts.iter().all(|l| width(l) == width(counts[0])),
        "{text}"
    );
    // In the levels table the objective column starts in the same terminal column on every
    // row: after the name and its padding.
    let levels = text.split("\n\n").nth(2).unwrap();
    let starts: Vec<usize> = levels
        .lines()
        .filter(|l| l.contains("20s") || l.contains("configured"))
        .map(|l| {
            let at = l.find("configured").or_else(|| l.find("20s")).unwrap();
            width(&l[..at])
        })
        .collect();
    assert!(
        starts.len() > 4 && starts.iter().all(|s| *s == starts[0]),
        "{text}"
    );
}

#[test]
fn names_are_clipped_by_display_width() {
    let report = idle_report(
        "q-1",
        "\u{6280}\u{672f}\u{652f}\u{6301}\u{4e2d}\u{5fc3} \u{1f680} Soporte t\u{e9}cnico avanzado",
    );
    let table = render(&report, Format::Table);
    let row = table.lines().find(|l| l.starts_with('\u{6280}')).unwrap();
    let name = row.split("  ").next().unwrap();
    assert_eq!(
        name,
        "\u{6280}\u{672f}\u{652f}\u{6301}\u{4e2d}\u{5fc3} \u{1f680} Soporte t\u{e9}c\u{2026}"
    );
    assert_eq!(unicode_width::UnicodeWidthStr::width(name), 28);
}

/// Weeks over a window from a Wednesday to a Saturday: both ends cut a week short.
fn clipped_weeks(extra: impl FnOnce(QueryInput) -> QueryInput) -> SlaReport {
    week(|i| {
        extra(QueryInput {
            from: Some(p("2026-03-04")),
            to: Some(p("2026-03-28")),
            granularity: p("week"),
            objectives: Vec::new(),
            thresholds: ps(&["20s"]),
            ..i
        })
    })
}

#[test]
fn intervals_the_window_cuts_short_are_marked_partial() {
    let report = clipped_weeks(|i| i);
    let partial: Vec<bool> = report.total.intervals.iter().map(|i| i.partial).collect();
    assert_eq!(partial, [true, false, false, true]);
    for row in &report.queues {
        let flags: Vec<bool> = row.intervals.iter().map(|i| i.partial).collect();
        assert_eq!(flags, partial);
    }
    let table = render(&report, Format::Table);
    insta::assert_snapshot!("partial_table", table);
    assert!(
        table.contains("\nSales                         2026-03-04*  "),
        "{table}"
    );
    assert!(table.contains("\n* partial interval: the window covers only part of it\n"));
    let markdown = render(&report, Format::Markdown);
    insta::assert_snapshot!("partial_markdown", markdown);
    assert!(markdown.contains("| 2026-03-04\\* |"), "{markdown}");
    let csv = render(&report, Format::Csv);
    insta::assert_snapshot!("partial_csv", csv);
    let records = read_csv(&csv);
    let flag = |start: &str| {
        records
            .iter()
            .find(|r| r[3] == start)
            .map(|r| r[20].clone())
            .unwrap()
    };
    assert_eq!(flag("2026-03-04T00:00:00Z"), "true");
    assert_eq!(flag("2026-03-09T00:00:00Z"), "false");
    assert_eq!(flag("2026-03-23T00:00:00Z"), "true");

    // A window of whole weeks has no partial interval, and says nothing of one.
    let whole = clipped_weeks(|i| QueryInput {
        from: Some(p("2026-03-02")),
        to: Some(p("2026-03-29")),
        ..i
    });
    assert!(whole.total.intervals.iter().all(|i| !i.partial));
    assert!(!render(&whole, Format::Table).contains("partial"));
    // Neither has granularity total, whose one span is the window.
    let total = clipped_weeks(|i| QueryInput {
        granularity: Granularity::Total,
        ..i
    });
    assert!(!render(&total, Format::Csv).contains(",true,"));
}

#[test]
fn by_media_totals_sum_the_rows_of_each_media_type() {
    let report = by_media();
    let media = report.total.media.as_ref().expect("per-media totals");
    let types: Vec<MediaType> = media.iter().map(|m| m.media_type).collect();
    assert_eq!(types, [Voice, Chat, Email]);
    for m in media {
        let rows: Vec<_> = report
            .queues
            .iter()
            .filter(|q| q.media_type == Some(m.media_type))
            .collect();
        let offered: u64 = rows.iter().map(|q| q.counts.offered).sum();
        assert_eq!(m.counts.offered, offered);
        for (o, level) in m.service_levels.iter().enumerate() {
            let sum = |f: fn(&crate::ServiceLevel) -> u64| -> u64 {
                rows.iter()
                    .filter_map(|q| {
                        q.service_levels
                            .iter()
                            .find(|l| l.objective == level.objective)
                    })
                    .map(f)
                    .sum()
            };
            assert_eq!(level.numerator, sum(|l| l.numerator), "{o}");
            assert_eq!(level.denominator, sum(|l| l.denominator), "{o}");
        }
    }
    let offered: u64 = media.iter().map(|m| m.counts.offered).sum();
    assert_eq!(offered, report.total.counts.offered);
    // Without by_media there is no such list, and the JSON has no such field.
    let plain = week(|i| i);
    assert_eq!(plain.total.media, None);
    assert!(!render(&plain, Format::Json).contains("\"media\""));
}

#[test]
fn by_media_csv() {
    let csv = render(&by_media(), Format::Csv);
    insta::assert_snapshot!("by_media_csv", csv);
    let totals: Vec<String> = read_csv(&csv)
        .into_iter()
        .filter(|r| r[19] == "total" && r[5] == "20s")
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(totals, ["voice", "chat", "email", ""]);
}

#[test]
fn by_media_markdown() {
    let markdown = render(&by_media(), Format::Markdown);
    insta::assert_snapshot!("by_media_markdown", markdown);
    assert!(markdown.contains("| **TOTAL** | **chat** |"), "{markdown}");
}

#[test]
fn by_media_with_intervals_totals_each_interval_per_media_type() {
    let report = week(|i| QueryInput {
        by_media: true,
        ..i
    });
    let media = report.total.media.as_ref().unwrap();
    for (day, total) in report.total.intervals.iter().enumerate() {
        let offered: u64 = media.iter().map(|m| m.intervals[day].counts.offered).sum();
        assert_eq!(offered, total.counts.offered, "day {day}");
    }
    let table = render(&report, Format::Table);
    assert!(
        table.contains("\nTOTAL                         email  2026-03-23"),
        "{table}"
    );
}

#[test]
fn a_report_from_a_store_names_how_far_the_store_is_complete() {
    let from_store = |complete_until: Option<&str>| {
        let mut report = week(|i| QueryInput {
            source: p("store"),
            ..i
        });
        report.store = Some(crate::ReportStore {
            complete_until: complete_until.map(|t| t.parse().unwrap()),
        });
        report
    };
    // The week ends at midnight after Sunday 29 March, in summer time (BST): 23:00 UTC.
    let whole = from_store(Some("2026-03-29T23:00:00Z"));
    let part = from_store(Some("2026-03-27T12:30:00Z"));
    let none = from_store(None);
    let cases = [
        (
            &whole,
            "source store (complete up to 2026-03-30 00:00: the whole window)",
            "\"store\": {\n    \"complete_until\": \"2026-03-29T23:00:00Z\"\n  },",
        ),
        (
            &part,
            "source store (complete up to 2026-03-27 12:30 only)",
            "\"store\": {\n    \"complete_until\": \"2026-03-27T12:30:00Z\"\n  },",
        ),
        (
            &none,
            "source store (not synced from the window's start)",
            "\"store\": {\n    \"complete_until\": null\n  },",
        ),
    ];
    for (report, heading, json) in cases {
        for format in [Format::Table, Format::Markdown] {
            let text = render(report, format);
            let line = text
                .lines()
                .nth(if format == Format::Table { 1 } else { 3 });
            assert!(
                line.is_some_and(|l| l.ends_with(heading) || l.ends_with(&format!("{heading}  "))),
                "{format}: {line:?}"
            );
        }
        let text = render(report, Format::Json);
        assert!(
            text.contains(&format!("\"source\": \"store\",\n  {json}")),
            "{text}"
        );
    }
    // Other sources have no `store` field at all.
    assert!(!render(&week(|i| i), Format::Json).contains("\"store\""));
}
