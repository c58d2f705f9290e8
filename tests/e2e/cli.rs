//! `sla` against the simulated org: every format, queue selection, objectives, granularity
//! across DST, exit statuses, and the usage errors.

use std::collections::BTreeMap;

use e2e::{
    TestSim, assert_exit_saying, report_schema, scratch_dir, sla_command, stderr, stdout, succeeded,
};
use genesys_sim::{MediaType as SimMedia, Outcome as SimOutcome};
use serde_json::Value;

use crate::assert_valid;

/// `sla report` over the week of 23 March 2026 in UTC, where the fixed dataset has data.
const REPORT_WEEK: &[&str] = &[
    "report", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
];

/// That week at day granularity for every queue, two thresholds.
const WEEK: &[&str] = &[
    "report", "--all-queues", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
    "--granularity", "day", "--threshold", "20s", "--threshold", "60s",
];

#[track_caller]
fn run_ok(args: &[&str]) -> String {
    succeeded(&TestSim::shared().sla(args), &format!("sla {args:?}"))
}

#[track_caller]
fn json(args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let text = run_ok(&args);
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    assert_valid(&report_schema(), &report);
    report
}

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

fn queue_names(report: &Value) -> Vec<&str> {
    report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue_name"].as_str().unwrap())
        .collect()
}

#[test]
fn every_format_is_pinned() {
    for format in ["table", "json", "csv", "markdown"] {
        let text = run_ok(&with(WEEK, &["--format", format]));
        insta::assert_snapshot!(format!("week_by_day_{format}"), text);
    }
}

#[test]
fn the_table_fits_a_terminal_and_shows_a_total_row() {
    let text = run_ok(&with(REPORT_WEEK, &["--all-queues"]));
    assert!(text.lines().any(|l| l.starts_with("TOTAL")), "{text}");
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} columns:\n{text}");
}

#[test]
fn json_reports_validate_against_the_schema_in_every_shape() {
    json(WEEK);
    json(&with(
        WEEK,
        &["--by-media", "--short-abandon", "5s", "--abandons", "for"],
    ));
    json(&with(
        WEEK,
        &["--threshold", "configured", "--flowouts", "against"],
    ));
    json(&[
        "report", "--queue", "Support", "--from", "2026-03-01", "--to", "2026-03-31",
        "--granularity", "week", "--tz", "Europe/London",
    ]);
}

/// The report agrees with a count made here, straight from the simulated org's visits.
#[test]
fn counts_match_the_simulated_visits() {
    let report = json(&with(REPORT_WEEK, &["--all-queues", "--threshold", "20s"]));
    let org = TestSim::shared().server().org();
    let start: jiff::Timestamp = "2026-03-23T00:00:00Z".parse().unwrap();
    let end: jiff::Timestamp = "2026-03-30T00:00:00Z".parse().unwrap();
    let inside = |t: jiff::Timestamp| start <= t && t < end;
    // Per queue: offered, answered, abandoned, answered within 20 s, and the waits behind the
    // companion KPIs: Σ answer wait, longest answer wait, Σ abandon wait.
    let mut expected: BTreeMap<&str, [u64; 7]> = BTreeMap::new();
    for visit in &org.visits {
        let name = &org
            .queues
            .iter()
            .find(|q| q.id == visit.queue_id)
            .unwrap()
            .name;
        let counts = expected.entry(name.as_str()).or_default();
        if inside(visit.entered) {
            counts[0] += 1;
        }
        if inside(visit.outcome_at) {
            match visit.outcome {
                SimOutcome::Answered => {
                    counts[1] += 1;
                    if visit.wait_ms <= 20_000 {
                        counts[3] += 1;
                    }
                    counts[4] += visit.wait_ms;
                    counts[5] = counts[5].max(visit.wait_ms);
                }
                SimOutcome::Abandoned => {
                    counts[2] += 1;
                    counts[6] += visit.wait_ms;
                }
                SimOutcome::FlowOut => {}
            }
        }
    }
    for row in report["queues"].as_array().unwrap() {
        let want = expected[row["queue_name"].as_str().unwrap()];
        let got = [
            row["counts"]["offered"].as_u64().unwrap(),
            row["counts"]["answered"].as_u64().unwrap(),
            row["counts"]["abandoned"].as_u64().unwrap(),
            row["service_levels"][0]["answered_within"]
                .as_u64()
                .unwrap(),
            row["counts"]["answer_wait_ms_sum"].as_u64().unwrap(),
            row["counts"]["answer_wait_ms_max"].as_u64().unwrap(),
            row["counts"]["abandon_wait_ms_sum"].as_u64().unwrap(),
        ];
        assert_eq!(
            got, want,
            "offered, answered, abandoned, answered within 20 s, answer waits, abandon waits of {}",
            row["queue_name"]
        );
        // The KPIs from these sums, rounded half away from zero, computed here in floating point.
        let kpis = &row["kpis"];
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "test sums far below 2^52"
        )]
        let average = |sum: u64, n: u64| (sum as f64 / n as f64).round() as u64;
        assert_eq!(kpis["asa_ms"].as_u64(), Some(average(want[4], want[1])));
        assert_eq!(
            kpis["average_abandon_wait_ms"].as_u64(),
            Some(average(want[6], want[2]))
        );
        assert_eq!(kpis["longest_answer_wait_ms"].as_u64(), Some(want[5]));
        #[expect(clippy::cast_precision_loss, reason = "test counts")]
        let share = |n: u64| (n as f64 * 10_000.0 / want[0] as f64).round() / 100.0;
        assert_eq!(kpis["abandon_percent"].as_f64(), Some(share(want[2])));
        assert_eq!(kpis["answer_percent"].as_f64(), Some(share(want[1])));
    }
}

#[test]
fn queues_are_chosen_by_name_wildcard_and_id() {
    let week = REPORT_WEEK;
    let by_name = json(&with(week, &["--queue", "support"]));
    assert_eq!(queue_names(&by_name), ["Support"]);
    let by_pattern = json(&with(week, &["--queue-name", "Sales*"]));
    assert_eq!(queue_names(&by_pattern), ["Sales", "Sales Priority"]);
    let org = TestSim::shared().server().org();
    let billing = org.queues.iter().find(|q| q.name == "Billing").unwrap();
    let by_id = json(&with(week, &["--queue", &billing.id, "--queue", "Claims"]));
    assert_eq!(queue_names(&by_id), ["Billing", "Claims"]);
    assert_eq!(by_id["queues"][0]["queue_id"], billing.id.as_str());
}

#[test]
fn objectives_come_from_a_config_file() {
    let dir = scratch_dir("config");
    let path = dir.join("sla.toml");
    std::fs::write(
        &path,
        "[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\ntarget = 50\nqueues = [\"Sales\", \"support\"]\n\n[[objective]]\nname = \"email-day\"\nthreshold = \"1d\"\n",
    )
    .unwrap();
    let report = json(&[
        "report",
        "--all-queues",
        "--from",
        "2026-03-23",
        "--to",
        "2026-03-29",
        "--tz",
        "UTC",
        "--config",
        path.to_str().unwrap(),
    ]);
    for row in report["queues"].as_array().unwrap() {
        let objectives: Vec<&str> = row["service_levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["objective"].as_str().unwrap())
            .collect();
        let name = row["queue_name"].as_str().unwrap();
        if name == "Sales" || name == "Support" {
            assert_eq!(objectives, ["contract", "email-day"], "{name}");
            let contract = &row["service_levels"][0];
            assert_eq!(contract["threshold_ms"], 30_000);
            assert_eq!(contract["target_percent"], 50.0);
            assert_eq!(
                contract["met_target"],
                contract["percent"].as_f64().unwrap() >= 50.0
            );
        } else {
            assert_eq!(objectives, ["email-day"], "{name}");
        }
    }
    let total = &report["total"]["service_levels"][0];
    let rows: u64 = report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service_levels"][0]["objective"] == "contract")
        .map(|r| r["service_levels"][0]["denominator"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total["denominator"].as_u64().unwrap(),
        rows,
        "the total sums only the queues that have the objective"
    );
}

#[test]
fn configured_objectives_use_each_queues_own_targets() {
    let org = TestSim::shared().server().org();
    let voice = json(&with(
        REPORT_WEEK,
        &[
            "--all-queues", "--media", "voice", "--threshold", "configured",
        ],
    ));
    let mut thresholds = Vec::new();
    for row in voice["queues"].as_array().unwrap() {
        let queue = org
            .queues
            .iter()
            .find(|q| q.name == row["queue_name"].as_str().unwrap())
            .unwrap();
        let target = queue.service_level(SimMedia::Voice);
        let level = &row["service_levels"][0];
        assert_eq!(level["objective"], "configured");
        assert_eq!(level["threshold_ms"].as_u64().unwrap(), target.duration_ms);
        assert!(
            (level["target_percent"].as_f64().unwrap() - target.percentage * 100.0).abs() < 1e-9
        );
        thresholds.push(target.duration_ms);
    }
    thresholds.dedup();
    if thresholds.len() > 1 {
        assert!(
            voice["total"]["service_levels"][0]["threshold_ms"].is_null(),
            "queues differ, so the total has no single threshold"
        );
    }
    // All media together: a queue's row mixes targets, so its threshold is not one number.
    let all = json(&with(
        REPORT_WEEK,
        &["--queue", "Sales", "--threshold", "configured"],
    ));
    assert!(all["queues"][0]["service_levels"][0]["threshold_ms"].is_null());
}

#[test]
fn by_media_splits_rows_that_add_up_to_the_queue() {
    let week = with(REPORT_WEEK, &["--queue", "Support"]);
    let whole = json(&week);
    let split = json(&with(&week, &["--by-media"]));
    let rows = split["queues"].as_array().unwrap();
    assert!(rows.len() > 1, "the demo queue takes several media types");
    assert!(rows.iter().all(|r| r["media_type"].is_string()));
    for field in ["offered", "answered", "abandoned", "flow_outs"] {
        let sum: u64 = rows
            .iter()
            .map(|r| r["counts"][field].as_u64().unwrap())
            .sum();
        assert_eq!(
            sum,
            whole["queues"][0]["counts"][field].as_u64().unwrap(),
            "{field}"
        );
    }
}

#[test]
fn days_follow_local_midnight_across_the_dst_change() {
    let report = json(&[
        "report", "--all-queues", "--from", "2026-03-28", "--to", "2026-03-30", "--tz",
        "Europe/London", "--granularity", "day",
    ]);
    let intervals = report["total"]["intervals"].as_array().unwrap();
    let hours: Vec<i64> = intervals
        .iter()
        .map(|i| {
            let start: jiff::Timestamp = i["start"].as_str().unwrap().parse().unwrap();
            let end: jiff::Timestamp = i["end"].as_str().unwrap().parse().unwrap();
            (end.as_second() - start.as_second()) / 3600
        })
        .collect();
    assert_eq!(hours, [24, 23, 24]);
    assert_eq!(report["window"]["start"], "2026-03-28T00:00:00Z");
    assert_eq!(report["window"]["end"], "2026-03-30T23:00:00Z");
    let offered: u64 = intervals
        .iter()
        .map(|i| i["counts"]["offered"].as_u64().unwrap())
        .sum();
    assert_eq!(
        offered,
        report["total"]["counts"]["offered"].as_u64().unwrap()
    );
    assert!(offered > 0);
}

#[test]
fn fail_below_exits_3_and_still_writes_the_report() {
    let args = [
        "report", "--all-queues", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
        "--fail-below",
    ];
    let below = TestSim::shared().sla(&with(&args, &["99.5"]));
    assert_eq!(below.status.code(), Some(3), "{}", stderr(&below));
    assert!(stdout(&below).contains("TOTAL"));
    let above = TestSim::shared().sla(&with(&args, &["1"]));
    assert_eq!(above.status.code(), Some(0), "{}", stderr(&above));
}

#[test]
fn out_writes_the_report_to_a_file() {
    let dir = scratch_dir("out");
    let path = dir.join("week.csv");
    let text = run_ok(&with(
        WEEK,
        &["--format", "csv", "--out", path.to_str().unwrap()],
    ));
    assert!(text.is_empty());
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.starts_with("queue_id,queue_name,"));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file is left"
    );
}

#[test]
fn queues_lists_the_org() {
    let text = run_ok(&["queues", "--name", "Support*"]);
    assert!(
        text.contains("Support") && text.contains("Support Tier 2"),
        "{text}"
    );
    assert!(!text.contains("Billing"));
    let json: Value = serde_json::from_str(&run_ok(&["queues", "--format", "json"])).unwrap();
    assert_eq!(json["queues"].as_array().unwrap().len(), 8);
}

/// Runs each case and checks it exits 2 naming the problem, with no report.
#[track_caller]
fn usage_errors(cases: &[(&[&str], &str)]) {
    for (args, needle) in cases {
        let output = TestSim::shared().sla(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "sla {args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(needle),
            "sla {args:?} should name {needle:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "sla {args:?} printed a report");
    }
}

/// Each usage error exits 2 with a message naming the problem.
#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = scratch_dir("bad-config");
    let config = dir.join("broken.toml");
    let typo = dir.join("typo.toml");
    std::fs::write(
        &typo,
        "[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\nqueues = [\"Suport\"]\n",
    )
    .unwrap();
    let typo = typo.to_str().unwrap();
    std::fs::write(&config, "[[objective]]\nname = \"x\"\nthreshold = 30\n").unwrap();
    let config = config.to_str().unwrap();
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "# objectives to come\n").unwrap();
    let empty = empty.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["report", "--all-queues", "--frobnicate"], "--frobnicate"),
        (&["report", "--all-queues", "--threshold", "20x"], "20x"),
        (
            &[
                "report", "--all-queues", "--from", "2026-03-20", "--to", "2026-03-10",
            ],
            "not after",
        ),
        (
            &["report", "--all-queues", "--tz", "Mars/Olympus"],
            "Mars/Olympus",
        ),
        (&["report", "--queue", "No Such Queue"], "No Such Queue"),
        (
            &["report", "--all-queues", "--config", config],
            "broken.toml",
        ),
        (
            &[
                "report", "--all-queues", "--config", "/nonexistent/sla.toml",
            ],
            "/nonexistent/sla.toml",
        ),
        (&["report", "--all-queues", "--config", typo], "Suport"),
        (&["report", "--all-queues", "--out", "/"], "is a folder"),
        (
            &["report", "--all-queues", "--threshold", "0s"],
            "threshold '0s' is zero",
        ),
        (
            &["report", "--all-queues", "--threshold", "-5s"],
            "invalid threshold '-5s'",
        ),
        (
            &["report", "--all-queues", "--fail-below", "-1"],
            "invalid percent '-1'",
        ),
        (
            &["report", "--all-queues", "--queue", "Sales"],
            "--all-queues already covers every queue",
        ),
        (
            &["report", "--all-queues", "--config", empty],
            "no objectives",
        ),
        (
            &[
                "report", "--all-queues", "--from", "1900-01-01", "--to", "2100-01-01",
            ],
            "window too long",
        ),
        (
            &["report", "--queue", "00000000-0000-0000-0000-000000000000"],
            "no queue has that id",
        ),
        (
            &[
                "report", "--all-queues", "--from", "2025-10-26", "--to", "2026-11-28",
                "--granularity", "30m", "--by-media", "--threshold", "20s", "--threshold", "60s",
            ],
            "report too large",
        ),
    ];
    usage_errors(cases);
    // No credentials in the environment or a .env file.
    let output = sla_command(&["report", "--all-queues"]).output().unwrap();
    assert_exit_saying(&output, 2, "GENESYSCLOUD_OAUTHCLIENT_ID");
}

/// The demo's report (every queue, a week, 20 s) is one aggregates query: the companion KPIs
/// come from the `sum` and `max` of the metrics it already asks for, not from more requests.
#[test]
fn the_demo_report_with_its_kpis_costs_one_aggregates_request() {
    let sim = TestSim::start(e2e::fixed_config());
    let output = sim.sla(&with(REPORT_WEEK, &["--all-queues", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["total"]["kpis"]["asa_ms"].as_u64().is_some());
    let requests = sim.server().requests_by_path();
    assert_eq!(
        requests.get("POST /api/v2/analytics/conversations/aggregates/query"),
        Some(&1),
        "{requests:?}"
    );
    assert_eq!(
        requests.len(),
        3,
        "a token, the queues and the counts: {requests:?}"
    );
}
