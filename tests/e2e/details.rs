//! The per-visit path end to end: `--source details` gives the same report as the aggregates,
//! and `sla breaches` lists exactly the visits that missed.

use e2e::{TestSim, stderr, stdout, succeeded};
use genesys_sim::Outcome as SimOutcome;
use serde_json::Value;

#[track_caller]
fn report(source: &str, query: &[&str]) -> String {
    let mut args = vec![
        "report",
        "--format",
        "json",
        "--source",
        source,
        "--max-requests-per-minute",
        "100000",
    ];
    args.extend(query);
    succeeded(&TestSim::shared().sla(&args), &format!("sla {args:?}"))
}

#[test]
fn details_and_aggregates_give_identical_reports() {
    let queries: &[&[&str]] = &[
        // A week, two thresholds, every queue.
        &[
            "--all-queues", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
            "--threshold", "20s", "--threshold", "60s",
        ],
        // Days across the change to summer time, abandons against, short abandons.
        &[
            "--all-queues", "--from", "2026-03-27", "--to", "2026-03-31", "--tz", "Europe/London",
            "--granularity", "day", "--abandons", "against", "--short-abandon", "5s",
        ],
        // Half hours of one day, by media, configured targets, flow-outs against.
        &[
            "--queue-name", "Support*", "--from", "2026-03-25", "--to", "2026-03-25", "--tz",
            "UTC", "--granularity", "30m", "--by-media", "--threshold", "configured", "--flowouts",
            "against",
        ],
        // Instants off the hour grid, hourly, abandons after the threshold and for.
        &[
            "--queue", "Sales", "--from", "2026-03-24T10:15:00Z", "--to", "2026-03-24T18:45:00Z",
            "--tz", "Asia/Kolkata", "--granularity", "hour", "--abandons", "after-threshold",
        ],
        &[
            "--queue", "Billing", "--media", "voice,chat", "--from", "2026-03-16", "--to",
            "2026-03-29", "--tz", "America/New_York", "--granularity", "week", "--abandons", "for",
            "--threshold", "30s",
        ],
    ];
    for query in queries {
        let aggregates = report("aggregates", query);
        let details = report("details", query);
        let mut a: Value = serde_json::from_str(&aggregates).unwrap();
        let mut d: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(a["source"], "aggregates");
        assert_eq!(d["source"], "details");
        assert!(
            a["total"]["counts"]["offered"].as_u64().unwrap() > 0,
            "{query:?} has data"
        );
        // The companion KPIs are part of the comparison, and there is something to compare.
        assert!(a["total"]["kpis"]["asa_ms"].as_u64().is_some(), "{query:?}");
        a["source"] = Value::Null;
        d["source"] = Value::Null;
        assert!(a == d, "the two sources disagree for {query:?}");
    }
}

#[test]
fn breaches_list_exactly_the_late_answers() {
    let args = [
        "breaches",
        "--queue",
        "Claims",
        "--from",
        "2026-03-24",
        "--to",
        "2026-03-24",
        "--tz",
        "UTC",
        "--threshold",
        "20s",
        "--format",
        "json",
        "--max-requests-per-minute",
        "100000",
    ];
    let output = TestSim::shared().sla(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let mut got: Vec<&str> = listed["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["outcome"], "answered");
            assert!(b["wait_ms"].as_u64().unwrap() > 20_000);
            b["conversation_id"].as_str().unwrap()
        })
        .collect();
    got.sort_unstable();
    let org = TestSim::shared().server().org();
    let claims = org.queues.iter().find(|q| q.name == "Claims").unwrap();
    let start: jiff::Timestamp = "2026-03-24T00:00:00Z".parse().unwrap();
    let end: jiff::Timestamp = "2026-03-25T00:00:00Z".parse().unwrap();
    let mut want: Vec<&str> = org
        .visits
        .iter()
        .filter(|v| {
            v.queue_id == claims.id && v.outcome == SimOutcome::Answered && v.wait_ms > 20_000
        })
        .filter(|v| start <= v.outcome_at && v.outcome_at < end)
        .map(|v| v.conversation_id.as_str())
        .collect();
    want.sort_unstable();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    assert_eq!(listed["count"].as_u64().unwrap(), want.len() as u64);
}
