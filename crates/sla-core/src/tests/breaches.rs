//! The breach list: file snapshots of every format, waits that never read as within the
//! threshold they missed, the threshold missed on every row, the terminal table within 100
//! columns, and CSV that reads back.

use crate::ports::OutcomeKind;
use crate::tests::fixtures::{ts, zone};
use crate::tests::render::{AWKWARD_ID, AWKWARD_NAME, read_csv, widest};
use crate::{Breach, Format, MediaType, render_breaches};

fn breach(
    entered: &str,
    queue: &str,
    media: MediaType,
    outcome: OutcomeKind,
    wait_ms: u64,
    objective: &str,
    threshold_ms: u64,
) -> Breach {
    Breach {
        conversation_id: format!(
            "c0c0c0c0-0000-4000-8000-{:012}",
            wait_ms % 1_000_000_000_000
        ),
        queue_id: format!("q-{}", queue.to_lowercase().replace(' ', "-")),
        queue_name: queue.to_owned(),
        media_type: media,
        entered_at: ts(entered),
        outcome,
        wait_ms,
        objective: objective.to_owned(),
        threshold_ms,
    }
}

/// Breaches of `--threshold configured` over two days, as the demo org has them: each row
/// missed its own media type's target.
fn configured() -> Vec<Breach> {
    use MediaType::{Callback, Chat, Email, Voice};
    use OutcomeKind::{Abandoned, Answered, FlowOut};
    vec![
        breach(
            "2026-03-23T08:14:05Z", "Sales Priority", Voice, Answered, 20_001, "configured", 20_000,
        ),
        breach(
            "2026-03-23T09:30:00Z", "Support Tier 2", Chat, Answered, 60_500, "configured", 60_000,
        ),
        breach(
            "2026-03-23T11:02:17Z", "Claims", Email, Answered, 97_906_000, "configured", 86_400_000,
        ),
        breach(
            "2026-03-23T23:59:59Z", "Billing", Callback, Abandoned, 900_000, "configured", 600_000,
        ),
        breach(
            "2026-03-24T00:00:01Z", "Support", Voice, FlowOut, 4_000, "configured", 30_000,
        ),
        breach(
            "2026-03-24T10:40:52Z", "Sales", Email, Answered, 86_400_001, "configured", 86_400_000,
        ),
    ]
}

#[test]
fn table() {
    let text = render_breaches(&configured(), Format::Table, &zone("Europe/London"));
    insta::assert_snapshot!("breaches_table", text);
    assert!(widest(&text) <= 100, "{} columns:\n{text}", widest(&text));
    // Each day heads its rows, and each row says which threshold it missed.
    assert!(
        text.contains("\n2026-03-23 (Europe/London)\n08:14:05  Sales Priority"),
        "{text}"
    );
    assert!(
        text.contains("\n2026-03-24 (Europe/London)\n00:00:01  Support"),
        "{text}"
    );
    assert!(text.ends_with("\n6 breaches\n"), "{text}");
}

#[test]
fn a_wait_just_past_the_threshold_never_reads_as_within_it() {
    let zone = zone("UTC");
    let late = [breach(
        "2026-03-23T08:14:05Z",
        "Sales",
        MediaType::Voice,
        OutcomeKind::Answered,
        20_001,
        "20s",
        20_000,
    )];
    for format in [Format::Table, Format::Markdown] {
        let text = render_breaches(&late, format, &zone);
        assert!(text.contains("20.001s"), "{format:?}:\n{text}");
        assert!(!text.contains("20.0s"), "{format:?}:\n{text}");
    }
    let csv = read_csv(&render_breaches(&late, Format::Csv, &zone));
    assert_eq!(csv[1][6], "20001");
    assert_eq!(csv[1][8], "20000");
}

#[test]
fn with_several_objectives_each_row_names_the_one_it_missed() {
    let mut breaches = configured();
    breaches.truncate(2);
    let mut fixed = breaches[0].clone();
    fixed.objective = "20s".to_owned();
    breaches.insert(1, fixed);
    let mut contract = breaches[2].clone();
    contract.objective = "contract".to_owned();
    contract.threshold_ms = 30_000;
    breaches.push(contract);
    let text = render_breaches(&breaches, Format::Table, &zone("UTC"));
    let missed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("c0c0c0c0"))
        .map(|l| {
            l.split("  ")
                .filter(|c| !c.is_empty())
                .nth(5)
                .unwrap()
                .trim()
        })
        .collect();
    assert_eq!(
        missed,
        ["configured 20s", "20s", "configured 1m", "contract 30s"],
        "{text}"
    );
}

#[test]
fn markdown() {
    let text = render_breaches(&configured(), Format::Markdown, &zone("Europe/London"));
    insta::assert_snapshot!("breaches_markdown", text);
    assert!(
        text.contains(
            "| 2026-03-23 08:14:05 | Sales Priority | voice | answered | 20.001s | 20s |"
        ),
        "{text}"
    );
}

#[test]
fn csv() {
    let text = render_breaches(&configured(), Format::Csv, &zone("Europe/London"));
    insta::assert_snapshot!("breaches_csv", text);
}

#[test]
fn json() {
    let text = render_breaches(&configured(), Format::Json, &zone("Europe/London"));
    insta::assert_snapshot!("breaches_json", text);
}

#[test]
fn csv_fields_round_trip_through_a_csv_reader() {
    let mut awkward = configured().remove(0);
    awkward.conversation_id = AWKWARD_ID.to_owned();
    awkward.queue_id = format!("{AWKWARD_ID}2");
    awkward.queue_name = AWKWARD_NAME.to_owned();
    awkward.objective = "contract, \"gold\"".to_owned();
    let records = read_csv(&render_breaches(
        &[awkward.clone()],
        Format::Csv,
        &zone("UTC"),
    ));
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1],
        [
            awkward.conversation_id.as_str(),
            awkward.queue_id.as_str(),
            AWKWARD_NAME,
            "voice",
            "2026-03-23T08:14:05Z",
            "answered",
            "20001",
            "contract, \"gold\"",
            "20000"
        ]
    );
}

#[test]
fn an_empty_list_says_so() {
    let text = render_breaches(&[], Format::Table, &zone("UTC"));
    assert!(text.ends_with("\n0 breaches\n"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&render_breaches(&[], Format::Json, &zone("UTC"))).unwrap();
    assert_eq!(json["count"], 0);
}
