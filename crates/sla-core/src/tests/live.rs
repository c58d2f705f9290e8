//! Live documents: longest waits and waits past each threshold from observed lists (empty,
//! truncated, several media types), projected percents, totals, the rolling window, every
//! renderer, and the `sla-live/v1` schema.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::ports::OutcomeKind::{Abandoned, Answered};
use crate::tests::fixtures::{at, config, p, ps, queue_with_targets, tally_visits, ts, visit};
use crate::{
    Counted, Format, LiveReport, LiveState, LiveWindow, MediaState, MediaType, QueryInput, QueueId,
    QueueInfo, ReportRequest, build_live, live_request, render_live,
};

use MediaType::{Chat, Email, Voice};

const NOW: &str = "2026-03-10T15:00:00Z";

fn org() -> Vec<QueueInfo> {
    vec![
        queue_with_targets(
            "q-support",
            "Support",
            &[(Voice, 20_000, 80.0), (Chat, 60_000, 90.0)],
        ),
        queue_with_targets("q-sales", "Sales", &[(Voice, 30_000, 85.0)]),
    ]
}

/// The rolling 30 minutes ending at [`NOW`], every queue, at 20 s and configured.
fn live_input(extra: impl FnOnce(QueryInput) -> QueryInput) -> ReportRequest {
    let input = extra(QueryInput {
        all_queues: true,
        period: Some(LiveWindow::default().period()),
        thresholds: ps(&["20s", "configured"]),
        ..QueryInput::default()
    });
    input.parse(&at(ts(NOW), crate::Zone::utc())).unwrap()
}

fn ago(seconds: i64) -> Timestamp {
    ts(NOW) - SignedDuration::from_secs(seconds)
}

/// The window's visits: Support answered 4 voice (2 within 20 s) and 1 chat, abandoned 1 voice;
/// Sales answered 2 voice.
fn counted(request: &ReportRequest) -> Counted {
    let visits = [
        visit("q-support", Voice, ago(600), Answered, 5_000),
        visit("q-support", Voice, ago(590), Answered, 15_000),
        visit("q-support", Voice, ago(580), Answered, 25_000),
        visit("q-support", Voice, ago(570), Answered, 45_000),
        visit("q-support", Chat, ago(560), Answered, 50_000),
        visit("q-support", Voice, ago(550), Abandoned, 30_000),
        visit("q-sales", Voice, ago(540), Answered, 10_000),
        visit("q-sales", Voice, ago(530), Answered, 29_000),
        // Before the window: not counted.
        visit("q-sales", Voice, ago(3_600), Answered, 99_000),
    ];
    let live = live_request(request);
    let queues = org();
    let thresholds = crate::thresholds_needed(&live, &queues);
    Counted {
        tallies: tally_visits(&live, live.granularity, &thresholds, &visits),
        queues,
    }
}

fn waiting(since: &[i64], truncated_to: Option<u64>) -> MediaState {
    MediaState {
        waiting: truncated_to.unwrap_or(since.len() as u64),
        waiting_since: since.iter().map(|s| ago(*s)).collect(),
        truncated: truncated_to.is_some(),
        interacting: 0,
    }
}

/// Support: voice callers waiting 5 s, 25 s and 70 s, one chat waiting 61 s, 3 voice talking;
/// Sales: nobody waiting, 1 talking. Agents: Support 5, Sales 2.
fn state() -> LiveState {
    let support = QueueId::new("q-support");
    let sales = QueueId::new("q-sales");
    let mut media = BTreeMap::new();
    media.insert(
        (support.clone(), Voice),
        MediaState {
            interacting: 3,
            ..waiting(&[5, 25, 70], None)
        },
    );
    media.insert((support.clone(), Chat), waiting(&[61], None));
    media.insert(
        (sales.clone(), Voice),
        MediaState {
            interacting: 1,
            ..MediaState::default()
        },
    );
    LiveState {
        media,
        on_queue_agents: [(support, 5), (sales, 2)].into_iter().collect(),
    }
}

fn live(request: &ReportRequest, state: &LiveState) -> LiveReport {
    build_live(request, &counted(request), state, ts(NOW))
}

/// `(objective, percent, waiting over threshold, projected)` of a row's levels.
fn levels(row: &[crate::LiveServiceLevel]) -> Vec<(String, Option<f64>, u64, Option<f64>)> {
    row.iter()
        .map(|l| {
            (
                l.level.objective.clone(),
                l.level.percent,
                l.waiting_over_threshold,
                l.projected_percent,
            )
        })
        .collect()
}

#[test]
fn waits_past_each_threshold_and_the_projection_follow_the_observed_lists() {
    let request = live_input(|i| i);
    let report = live(&request, &state());
    assert_eq!(report.schema, "sla-live/v1");
    assert_eq!(report.as_of, ts(NOW));
    assert_eq!(
        (report.window.start, report.window.end),
        (ts("2026-03-10T14:30:00Z"), ts(NOW))
    );
    let support = &report.queues[1];
    assert_eq!(support.queue_name, "Support");
    assert_eq!(
        (
            support.live.waiting,
            support.live.longest_waiting_ms,
            support.live.interacting,
            support.live.on_queue_agents,
            support.live.truncated
        ),
        (4, 70_000, 3, 5, false)
    );
    // 20 s: voice 25 s and 70 s and chat 61 s are past it. Configured: voice past 20 s (25,
    // 70), chat past 60 s (61). The window: 20 s met by 2 of 5 answered; configured by 2 of 4
    // voice and 1 of 1 chat.
    assert_eq!(
        levels(&support.service_levels),
        [
            ("20s".to_owned(), Some(40.0), 3, Some(25.0)),
            ("configured".to_owned(), Some(60.0), 3, Some(37.5)),
        ]
    );
    let sales = &report.queues[0];
    assert_eq!((sales.live.waiting, sales.live.longest_waiting_ms), (0, 0));
    assert_eq!(
        levels(&sales.service_levels),
        [
            ("20s".to_owned(), Some(50.0), 0, Some(50.0)),
            ("configured".to_owned(), Some(100.0), 0, Some(100.0)),
        ]
    );
    // The total sums the rows: agents once per queue, the longest wait the longest of all.
    let total = &report.total;
    assert_eq!(
        (
            total.live.waiting,
            total.live.longest_waiting_ms,
            total.live.interacting,
            total.live.on_queue_agents
        ),
        (4, 70_000, 4, 7)
    );
    assert_eq!(
        levels(&total.service_levels),
        [
            ("20s".to_owned(), Some(42.86), 3, Some(30.0)),
            ("configured".to_owned(), Some(71.43), 3, Some(50.0)),
        ]
    );
    assert_eq!(total.kpis.asa_ms, Some(25_571));
}

#[test]
fn an_empty_state_leaves_the_window_as_it_is() {
    let request = live_input(|i| i);
    let report = live(&request, &LiveState::default());
    for row in report
        .queues
        .iter()
        .map(|r| &r.service_levels)
        .chain([&report.total.service_levels])
    {
        for level in row {
            assert_eq!(level.waiting_over_threshold, 0);
            assert_eq!(level.projected_percent, level.level.percent);
        }
    }
    assert_eq!(report.total.live, crate::LiveFigures::default());
}

#[test]
fn a_truncated_list_is_flagged_and_counts_only_what_it_lists() {
    let request = live_input(|i| i);
    let mut state = LiveState::default();
    // 300 waiting, 4 listed: the two oldest and the two newest.
    state.media.insert(
        (QueueId::new("q-sales"), Voice),
        waiting(&[400, 350, 10, 5], Some(300)),
    );
    let report = live(&request, &state);
    let sales = &report.queues[0];
    assert_eq!(sales.live.waiting, 300);
    assert_eq!(
        sales.live.longest_waiting_ms, 400_000,
        "the oldest is listed"
    );
    assert!(sales.live.truncated && report.total.live.truncated);
    // At least the two listed past 30 s; the projection is then an upper bound.
    assert_eq!(sales.service_levels[1].waiting_over_threshold, 2);
    let table = render_live(&report, Format::Table);
    assert!(table.contains("300+"), "{table}");
}

#[test]
fn by_media_rows_appear_for_media_with_conversations_now_even_without_visits() {
    let request = live_input(|i| QueryInput {
        by_media: true,
        ..i
    });
    let mut state = state();
    state
        .media
        .insert((QueueId::new("q-sales"), Email), waiting(&[7_200], None));
    let report = live(&request, &state);
    let rows: Vec<(&str, Option<MediaType>, u64, u64)> = report
        .queues
        .iter()
        .map(|r| {
            (
                r.queue_name.as_str(),
                r.media_type,
                r.live.waiting,
                r.live.on_queue_agents,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Sales", Some(Voice), 0, 2),
            ("Sales", Some(Email), 1, 2),
            ("Support", Some(Voice), 3, 5),
            ("Support", Some(Chat), 1, 5),
        ]
    );
    // Agents serve all of a queue's media types: the total counts them once per queue.
    assert_eq!(report.total.live.on_queue_agents, 7);
    // Email has no configured target at Sales: only the fixed threshold counts its wait.
    let email = &report.queues[1].service_levels;
    assert_eq!(
        email
            .iter()
            .map(|l| l.waiting_over_threshold)
            .collect::<Vec<_>>(),
        [1, 0]
    );
}

#[test]
fn every_format_renders_the_live_document() {
    let request = live_input(|i| QueryInput {
        objectives: config(
            "[[objective]]\nname = \"contract\"\nthreshold = \"45s\"\ntarget = 90\nqueues = [\"Support\"]\n",
        ),
        short_abandon: Some(p("5s")),
        ..i
    });
    let report = live(&request, &state());
    let table = render_live(&report, Format::Table);
    let widest = table.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "{widest} columns:\n{table}");
    insta::assert_snapshot!("live_table", table);
    insta::assert_snapshot!("live_markdown", render_live(&report, Format::Markdown));
    insta::assert_snapshot!("live_csv", render_live(&report, Format::Csv));
    let json = render_live(&report, Format::Json);
    insta::assert_snapshot!("live_json", json);
    let value: Value = serde_json::from_str(&json).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema refuses a document without its live figures.
    let mut broken = value;
    broken["queues"][0].as_object_mut().unwrap().remove("live");
    assert!(!validator().is_valid(&broken));
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/sla-live-v1.schema.json"
    )))
    .unwrap();
    jsonschema::meta::validate(&schema).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}
