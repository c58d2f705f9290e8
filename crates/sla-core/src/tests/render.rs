//! Renderers: file snapshots of the table, JSON, CSV and Markdown of a realistic week of three
//! queues and four objectives, built from seeded visits; the table fits 100 columns.

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
    let request = request(&input);
    let queues = org();
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
        &thresholds_needed(&request, &queues),
        &visits,
    );
    build_report(&request, &queues, &tallies)
}

/// The widest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
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
    let queues = [crate::tests::fixtures::queue(
        "q-1",
        "Sales, \"North\" | EMEA \u{2014} after-hours overflow",
    )];
    let report = build_report(
        &request(&input("2026-03-02", "2026-03-02")),
        &queues,
        &crate::TallySet::new(),
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
fn csv_has_one_tidy_row_per_queue_interval_and_objective() {
    let report = week(|i| i);
    let csv = render(&report, Format::Csv);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "queue_id,queue_name,media_type,interval_start,interval_end,objective,threshold_ms,target_percent,offered,answered,abandoned,short_abandoned,flow_outs,answered_within,abandoned_within,numerator,denominator,percent,met_target"
        )
    );
    // Seven days of Billing (3 objectives), Sales and Support (4 objectives each).
    assert_eq!(lines.count(), 7 * (3 + 4 + 4));
    // With granularity total, the whole window is the one interval.
    let total = render(
        &week(|i| QueryInput {
            granularity: Granularity::Total,
            ..i
        }),
        Format::Csv,
    );
    let first = total.lines().nth(1).unwrap();
    assert!(
        first.starts_with(&format!("{BILLING},Billing & Collections \u{2014} Priority Customers (EMEA),,2026-03-23T00:00:00Z,2026-03-29T23:00:00Z,20s,20000,,")),
        "{first}"
    );
}
