//! The JSON renderer against `schemas/sla-report-v1.schema.json`: several reports validate,
//! and the schema is strict enough to refuse what the contract forbids.

use crate::Granularity;
use crate::tests::fixtures::{media, p, ps};
use serde_json::{Value, json};

use crate::tests::fixtures::{input, queue, request};
use crate::tests::render::{org, week};
use crate::{Format, QueryInput, SlaReport, TallySet, build_report, render};

const SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/sla-report-v1.schema.json"
));

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("the schema compiles")
}

/// The errors of `instance` against the schema, one line each.
fn errors(instance: &Value) -> Vec<String> {
    validator()
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn json_of(report: &SlaReport) -> Value {
    serde_json::from_str(&render(report, Format::Json)).expect("the renderer writes JSON")
}

#[track_caller]
fn check_valid(name: &str, report: &SlaReport) {
    let errors = errors(&json_of(report));
    assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("{e}");
    }
}

#[test]
fn every_kind_of_report_validates() {
    check_valid(
        "day granularity, four objectives, short abandons",
        &week(|i| i),
    );
    check_valid(
        "total granularity",
        &week(|i| QueryInput {
            granularity: Granularity::Total,
            ..i
        }),
    );
    check_valid(
        "by media, no short abandons, flow-outs against",
        &week(|i| QueryInput {
            by_media: true,
            short_abandon: None,
            flowouts: p("against"),
            ..i
        }),
    );
    check_valid(
        "half hours, for, details",
        &week(|i| QueryInput {
            granularity: p("30m"),
            abandons: p("for"),
            source: p("details"),
            ..i
        }),
    );
    check_valid(
        "months, after-threshold",
        &week(|i| QueryInput {
            granularity: p("month"),
            abandons: p("after-threshold"),
            ..i
        }),
    );
    check_valid(
        "by media with days: per-media totals with intervals",
        &week(|i| QueryInput {
            by_media: true,
            ..i
        }),
    );
    check_valid(
        "by media at granularity total",
        &week(|i| QueryInput {
            by_media: true,
            granularity: Granularity::Total,
            ..i
        }),
    );
    let partial = week(|i| QueryInput {
        from: Some(p("2026-03-04")),
        to: Some(p("2026-03-28")),
        granularity: p("week"),
        ..i
    });
    assert!(partial.total.intervals[0].partial);
    check_valid("weeks the window cuts short", &partial);
    check_valid(
        "weeks, a media filter",
        &week(|i| QueryInput {
            granularity: p("week"),
            media: media(&["chat,email"]),
            ..i
        }),
    );
    // Nothing counted: every percent is null.
    let idle = build_report(
        &request(&QueryInput {
            granularity: p("hour"),
            thresholds: ps(&["configured"]),
            ..input("2026-03-02", "2026-03-02")
        }),
        &org(),
        &TallySet::new(),
    );
    check_valid("idle", &idle);
    // No queues at all.
    check_valid(
        "no queues",
        &build_report(
            &request(&input("2026-03-02", "2026-03-02")),
            &[],
            &TallySet::new(),
        ),
    );
    // An instant window with a fraction of a second.
    let fraction = build_report(
        &request(&input("2026-03-02T08:00:00.250Z", "2026-03-02T09:00:00Z")),
        &[queue("q", "Q")],
        &TallySet::new(),
    );
    assert_eq!(
        json_of(&fraction)["window"]["start"],
        "2026-03-02T08:00:00.25Z"
    );
    check_valid("fraction", &fraction);
}

/// A small valid report to break, one field at a time.
fn sample() -> Value {
    let level = json!({
        "objective": "20s", "threshold_ms": 20000, "target_percent": null,
        "answered_within": 860, "abandoned_within": 20,
        "numerator": 860, "denominator": 1000, "percent": 86.0, "met_target": null
    });
    let counts = json!({"offered": 1100, "answered": 1000, "abandoned": 60, "short_abandoned": null, "flow_outs": 40});
    json!({
        "schema": "sla-report/v1",
        "window": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z", "time_zone": "UTC"},
        "granularity": "day",
        "formula": {"abandons": "ignore", "short_abandon_ms": null, "flowouts": "ignore"},
        "source": "aggregates",
        "queues": [{
            "queue_id": "q", "queue_name": "Support", "media_type": null,
            "counts": counts, "service_levels": [level],
            "intervals": [{"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z", "counts": counts, "service_levels": [level]}]
        }],
        "total": {
            "counts": counts, "service_levels": [level],
            "intervals": [{"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z", "counts": counts, "service_levels": [level]}]
        }
    })
}

/// Sets (or with `None` removes) the field at each JSON pointer of `edits` in [`sample`], and
/// asserts the schema refuses the result.
#[track_caller]
fn refused(why: &str, edits: &[(&str, Option<Value>)]) {
    let mut instance = sample();
    for (pointer, value) in edits {
        let (parent, field) = pointer.rsplit_once('/').expect("a pointer");
        let object = instance
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("no object at {parent}"));
        match value {
            Some(value) => object.insert(field.to_owned(), value.clone()),
            None => object.remove(field),
        };
    }
    assert!(!errors(&instance).is_empty(), "accepted {why}");
}

fn set(pointer: &str, value: Value) -> [(&str, Option<Value>); 1] {
    [(pointer, Some(value))]
}

/// [`sample`] as reports have it now: a partial flag on every interval, and with by-media rows
/// the totals per media type.
fn sample_by_media() -> Value {
    let mut instance = sample();
    instance["queues"][0]["media_type"] = json!("voice");
    for interval in ["/queues/0/intervals/0", "/total/intervals/0"] {
        instance.pointer_mut(interval).unwrap()["partial"] = json!(false);
    }
    let total = instance["total"].clone();
    instance["total"]["media"] = json!([{
        "media_type": "voice",
        "counts": total["counts"],
        "service_levels": total["service_levels"],
        "intervals": total["intervals"],
    }]);
    instance
}

#[test]
fn reports_from_before_kpis_partial_and_media_totals_still_validate() {
    // The sample has none of these fields, as reports written before them: no `kpis`, no wait
    // sums in `counts`, no `partial`.
    assert!(sample()["total"].get("kpis").is_none());
    assert!(
        sample()["total"]["counts"]
            .get("answer_wait_ms_sum")
            .is_none()
    );
    assert!(sample()["total"]["intervals"][0].get("partial").is_none());
    assert_eq!(errors(&sample()), Vec::<String>::new());
    assert_eq!(errors(&sample_by_media()), Vec::<String>::new());
}

#[test]
fn the_schema_refuses_a_bad_partial_flag_or_media_total() {
    let refused_by_media = |why: &str, edit: fn(&mut Value)| {
        let mut instance = sample_by_media();
        edit(&mut instance);
        assert!(!errors(&instance).is_empty(), "accepted {why}");
    };
    refused_by_media("partial as text", |v| {
        v["total"]["intervals"][0]["partial"] = json!("no");
    });
    refused_by_media("an unknown media type", |v| {
        v["total"]["media"][0]["media_type"] = json!("fax");
    });
    refused_by_media("a media total without a media type", |v| {
        v["total"]["media"][0]["media_type"] = Value::Null;
    });
    refused_by_media("an unknown field in a media total", |v| {
        v["total"]["media"][0]["queue_id"] = json!("q");
    });
    refused_by_media("a media total without counts", |v| {
        v["total"]["media"][0]
            .as_object_mut()
            .unwrap()
            .remove("counts");
    });
    refused_by_media("media totals as one object", |v| {
        v["total"]["media"] = v["total"]["media"][0].clone();
    });
    refused_by_media("a media total without intervals at granularity day", |v| {
        v["total"]["media"][0]["intervals"] = json!([]);
    });
    refused_by_media("a media total with intervals at granularity total", |v| {
        v["granularity"] = json!("total");
        v["queues"][0]["intervals"] = json!([]);
        v["total"]["intervals"] = json!([]);
    });
}

#[test]
fn the_schema_refuses_what_the_contract_forbids() {
    assert_eq!(errors(&sample()), Vec::<String>::new());
    let level = "/queues/0/service_levels/0";
    refused("another schema", &set("/schema", json!("sla-report/v2")));
    refused(
        "an unknown top-level field",
        &set("/generated_at", json!("now")),
    );
    refused(
        "an unknown count",
        &set("/queues/0/counts/transferred", json!(1)),
    );
    refused(
        "an unknown service-level field",
        &set("/total/service_levels/0/sla", json!(1)),
    );
    refused("a missing field", &[("/queues/0/media_type", None)]);
    refused(
        "a missing short_abandoned",
        &[("/total/counts/short_abandoned", None)],
    );
    refused(
        "an unknown granularity",
        &set("/granularity", json!("minute")),
    );
    refused(
        "an unknown abandon policy",
        &set("/formula/abandons", json!("sometimes")),
    );
    refused(
        "an unknown flow-out policy",
        &set("/formula/flowouts", json!("for")),
    );
    refused("an unknown source", &set("/source", json!("api")));
    refused(
        "an unknown media type",
        &set("/queues/0/media_type", json!("fax")),
    );
    refused(
        "a percent as text",
        &set(&format!("{level}/percent"), json!("86.00")),
    );
    refused(
        "a percent above 100",
        &set(&format!("{level}/percent"), json!(100.01)),
    );
    refused(
        "a target above 100",
        &set(&format!("{level}/target_percent"), json!(101)),
    );
    refused(
        "met_target as text",
        &set(&format!("{level}/met_target"), json!("yes")),
    );
    refused("a negative count", &set("/total/counts/offered", json!(-1)));
    refused(
        "a fractional count",
        &set("/total/counts/offered", json!(1.5)),
    );
    refused(
        "a percent of nothing",
        &[
            (&format!("{level}/numerator"), Some(json!(0))),
            (&format!("{level}/denominator"), Some(json!(0))),
        ],
    );
    refused(
        "a null percent of something",
        &set(&format!("{level}/percent"), Value::Null),
    );
    refused(
        "an instant with an offset",
        &set("/window/start", json!("2024-01-01T00:00:00+01:00")),
    );
    refused(
        "a date for an instant",
        &set("/window/end", json!("2024-01-02")),
    );
    refused(
        "an impossible instant",
        &set("/window/end", json!("2024-02-30T00:00:00Z")),
    );
    refused(
        "intervals at granularity total",
        &set("/granularity", json!("total")),
    );
    refused(
        "no intervals at granularity day",
        &set("/total/intervals", json!([])),
    );
}

#[test]
fn reports_from_a_store_name_how_far_it_is_complete_and_others_do_not() {
    let mut from_store = week(|i| QueryInput {
        source: crate::tests::fixtures::p("store"),
        ..i
    });
    for complete_until in [Some("2026-03-27T12:30:00Z"), None] {
        from_store.store = Some(crate::ReportStore {
            complete_until: complete_until.map(|t| t.parse().unwrap()),
        });
        check_valid("from a store", &from_store);
    }
    let mut stored = sample();
    stored["source"] = json!("store");
    stored["store"] = json!({"complete_until": "2024-01-01T12:00:00Z"});
    assert_eq!(errors(&stored), Vec::<String>::new());
    let refused_store = |why: &str, edit: fn(&mut Value)| {
        let mut instance = stored.clone();
        edit(&mut instance);
        assert!(!errors(&instance).is_empty(), "accepted {why}");
    };
    refused_store("source store without its field", |v| {
        v.as_object_mut().unwrap().remove("store");
    });
    refused_store("a store field beside another source", |v| {
        v["source"] = json!("details");
    });
    refused_store("a date for complete_until", |v| {
        v["store"]["complete_until"] = json!("2024-01-01");
    });
    refused_store("a store without complete_until", |v| {
        v["store"] = json!({});
    });
    refused_store("an unknown field in store", |v| {
        v["store"]["rows"] = json!(3);
    });
}
