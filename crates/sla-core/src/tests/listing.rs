//! The queue listing: file snapshots of every format for an org shaped like the demo's, the
//! table within 100 columns, CSV that reads back, and JSON valid against
//! `schemas/sla-queues-v1.schema.json`.

use serde_json::{Value, json};

use crate::tests::fixtures::{queue, queue_with_targets};
use crate::tests::render::{AWKWARD_ID, AWKWARD_NAME, read_csv, widest};
use crate::{Format, MediaType, QUEUES_SCHEMA, QueueInfo, queues_json, render_queues};

use MediaType::{Callback, Chat, Email, Message, Voice};

const SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/sla-queues-v1.schema.json"
));

/// Eight queues with the demo org's names, divisions and five configured media types, plus
/// one without a division or any target.
fn org() -> Vec<QueueInfo> {
    const M: u64 = 60_000;
    const DAY: u64 = 24 * 60 * M;
    let standard = [
        (Voice, 20_000, 80.0),
        (Callback, 10 * M, 80.0),
        (Chat, M, 80.0),
        (Email, DAY, 80.0),
        (Message, 60 * M, 80.0),
    ];
    let priority = [
        (Voice, 30_000, 90.0),
        (Callback, 5 * M, 80.0),
        (Chat, 30_000, 90.0),
        (Email, DAY, 90.0),
        (Message, 5 * M, 80.0),
    ];
    let queues = [
        (
            "0b1bbdb4-c7b8-4cab-a055-015c16a403cc",
            "Billing",
            "Home",
            &standard,
        ),
        (
            "821a3e74-f342-4ab3-8f0b-ff7a8fc9ca8e",
            "Claims",
            "Customer Care",
            &standard,
        ),
        (
            "330030a8-2b0a-44d0-93a6-f48bc2baddf2",
            "Onboarding",
            "Home",
            &priority,
        ),
        (
            "949dab3b-ee75-45d4-8ad5-9801b55c4342",
            "Retention",
            "Home",
            &priority,
        ),
        (
            "98fa0a0f-8bca-4bc7-9b12-e66311292d65",
            "Sales",
            "Home",
            &standard,
        ),
        (
            "9f02d4ae-e622-423d-acd8-f300807f4934",
            "Sales Priority",
            "Home",
            &priority,
        ),
        (
            "800afbf0-cc46-4970-88e7-937c53e3a2bc",
            "Support",
            "Customer Care",
            &standard,
        ),
        (
            "fc779986-f6a1-4b9d-b6b9-4a6c89ebe71e",
            "Support Tier 2",
            "Home",
            &priority,
        ),
    ];
    let mut org: Vec<QueueInfo> = queues
        .iter()
        .map(|(id, name, division, targets)| QueueInfo {
            division: Some((*division).to_owned()),
            ..queue_with_targets(id, name, targets.as_slice())
        })
        .collect();
    org.push(queue("5c0ffee0-0000-4000-8000-000000000009", "Lab"));
    org
}

#[test]
fn table() {
    let text = render_queues(&org(), Format::Table);
    insta::assert_snapshot!("queues_table", text);
    assert!(widest(&text) <= 100, "{} columns:\n{text}", widest(&text));
    // Ids are whole, so that `--queue ID` takes them as they are.
    assert!(
        text.contains("\nSales Priority  Home           9f02d4ae-e622-423d-acd8-f300807f4934\n")
    );
    assert!(text.ends_with("\n9 queues\n"), "{text}");
}

#[test]
fn markdown() {
    let text = render_queues(&org(), Format::Markdown);
    insta::assert_snapshot!("queues_markdown", text);
    assert!(
        text.contains("| Lab | - | 5c0ffee0-0000-4000-8000-000000000009 | - | - | - | - | - |")
    );
}

#[test]
fn csv() {
    let text = render_queues(&org(), Format::Csv);
    insta::assert_snapshot!("queues_csv", text);
    let records = read_csv(&text);
    // A line per queue and media type, and one for the queue with no target.
    assert_eq!(records.len(), 1 + 8 * 5 + 1);
}

#[test]
fn json() {
    let text = render_queues(&org(), Format::Json);
    insta::assert_snapshot!("queues_json", text);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value, queues_json(&org()), "the service answers the same");
    assert_eq!(value["schema"], QUEUES_SCHEMA);
    assert_eq!(
        value["queues"][0]["queue_id"],
        "0b1bbdb4-c7b8-4cab-a055-015c16a403cc"
    );
    assert_eq!(value["queues"][0]["queue_name"], "Billing");
}

#[test]
fn csv_fields_round_trip_through_a_csv_reader() {
    let mut awkward = queue_with_targets(AWKWARD_ID, AWKWARD_NAME, &[(Voice, 20_000, 80.0)]);
    awkward.division = Some("North, \"East\"".to_owned());
    let records = read_csv(&render_queues(&[awkward], Format::Csv));
    assert_eq!(
        records[1],
        [
            AWKWARD_ID, AWKWARD_NAME, "North, \"East\"", "voice", "20000", "80"
        ]
    );
}

#[test]
fn wide_names_line_up_by_display_width() {
    let queues = [
        queue_with_targets(
            "q-1",
            "Soporte \u{6280}\u{672f} \u{1f680}",
            &[(Voice, 20_000, 80.0)],
        ),
        queue_with_targets("q-2", "Support", &[(Voice, 30_000, 90.0)]),
    ];
    let text = render_queues(&queues, Format::Table);
    let ids: Vec<usize> = text
        .lines()
        .filter_map(|l| {
            l.find("q-")
                .map(|at| unicode_width::UnicodeWidthStr::width(&l[..at]))
        })
        .collect();
    assert_eq!(ids.len(), 2, "{text}");
    assert_eq!(ids[0], ids[1], "{text}");
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

#[track_caller]
fn check_valid(instance: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn listings_validate_against_the_schema_and_it_refuses_what_they_never_hold() {
    check_valid(&serde_json::from_str(&render_queues(&org(), Format::Json)).unwrap());
    check_valid(&queues_json(&[]));
    let sample = || {
        json!({"schema": "sla-queues/v1", "queues": [{
            "queue_id": "q", "queue_name": "Support", "division": null,
            "service_levels": [{"media_type": "voice", "threshold_ms": 20000, "target_percent": 80.0}]
        }]})
    };
    check_valid(&sample());
    let refused = |why: &str, edit: fn(&mut Value)| {
        let mut instance = sample();
        edit(&mut instance);
        assert!(!validator().is_valid(&instance), "accepted {why}");
    };
    refused("another schema", |v| v["schema"] = json!("sla-report/v1"));
    refused("the old names", |v| {
        let q = v["queues"][0].as_object_mut().unwrap();
        let id = q.remove("queue_id").unwrap();
        q.insert("id".to_owned(), id);
    });
    refused("an unknown field", |v| v["queues"][0]["members"] = json!(3));
    refused("an unknown media type", |v| {
        v["queues"][0]["service_levels"][0]["media_type"] = json!("call");
    });
    refused("a target above 100", |v| {
        v["queues"][0]["service_levels"][0]["target_percent"] = json!(101);
    });
    refused("a threshold as text", |v| {
        v["queues"][0]["service_levels"][0]["threshold_ms"] = json!("20s");
    });
}
