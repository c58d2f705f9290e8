//! Alert tests: the rule file and each of its errors, and the state machine driven through
//! scripted refreshes (pending, firing after `for`, `for` starting over, resolving, hysteresis
//! at the boundary, stale data, rows without a value, queue and media instances).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::alerts::{
    AlertCondition, AlertEventKind, AlertRule, AlertState, AlertStatus, LevelBound, ServiceConfig,
    WebhookFormat, WebhookSpec, WebhookUrl, check_alert_objectives, evaluate_alerts,
    parse_service_config,
};
use crate::live_report::{LiveFigures, LiveReport, LiveRow, LiveServiceLevel, LiveTotal};
use crate::model::{AbandonPolicy, FlowOutPolicy, MediaType, SourceKind};
use crate::report::{Counts, Kpis, ReportFormula, ReportWindow, ServiceLevel};
use crate::{LIVE_SCHEMA, Objective, ObjectiveThreshold, SlaError, Threshold, parse_config};

const T0: &str = "2026-03-10T15:00:00Z";

fn t(seconds: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

// ---------------------------------------------------------------------------------------------
// The config file.

const EXAMPLE: &str = r#"
[[objective]]
name = "contract"
threshold = "30s"
target = 85
queues = ["Support", "Sales"]

[[alert]]
name = "support-below-target"
queues = ["Support"]
service_level_below = "target"
objective = "contract"
for = "2m"
resolve_margin = 2
resolve_after = "1m"
webhooks = ["ops-slack", "ops-teams"]

[[alert]]
name = "below-70"
service_level_below = 70.5
objective = "contract"

[[alert]]
name = "long-wait"
longest_wait_above = "2m"
for = "30s"
resolve_margin = "30s"
webhooks = ["audit"]

[[alert]]
name = "queue-backing-up"
waiting_over_threshold_above = 3
objective = "contract"
resolve_margin = 1
resolve_after = "0s"

[[alert]]
name = "stale"
stale_after = "1m"

[[webhook]]
name = "ops-slack"
url_env = "SLA_OPS_SLACK_URL"
format = "slack"
secret_env = "SLA_OPS_SLACK_SECRET"

[[webhook]]
name = "ops-teams"
url = "https://example.invalid/workflows/abc?sig=secret"
format = "Teams"

[[webhook]]
name = "audit"
url = "http://127.0.0.1:9000/alerts"
"#;

#[test]
fn the_example_parses_into_typed_rules_and_webhooks() {
    let config = parse_service_config(EXAMPLE).unwrap();
    assert_eq!(config.objectives.len(), 1);
    assert_eq!(config.objectives[0].name, "contract");
    let names: Vec<&str> = config.alerts.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "support-below-target", "below-70", "long-wait", "queue-backing-up", "stale"
        ]
    );
    assert_eq!(
        config.alerts[0],
        AlertRule {
            name: "support-below-target".into(),
            queues: Some(vec!["Support".into()]),
            condition: AlertCondition::ServiceLevelBelow {
                objective: "contract".into(),
                bound: LevelBound::Target,
                margin: 2.0,
            },
            pending_for: Duration::from_mins(2),
            resolve_after: Duration::from_mins(1),
            webhooks: vec!["ops-slack".into(), "ops-teams".into()],
        }
    );
    // Defaults: fire at once, resolve after a minute, no margin, no webhook.
    let below = &config.alerts[1];
    assert_eq!(
        below.condition,
        AlertCondition::ServiceLevelBelow {
            objective: "contract".into(),
            bound: LevelBound::Percent(70.5),
            margin: 0.0,
        }
    );
    assert_eq!(
        (below.pending_for, below.resolve_after),
        (Duration::ZERO, Duration::from_mins(1))
    );
    assert!(below.webhooks.is_empty() && below.queues.is_none());
    assert_eq!(
        config.alerts[2].condition,
        AlertCondition::LongestWaitAbove {
            above: Duration::from_mins(2),
            margin: Duration::from_secs(30),
        }
    );
    assert_eq!(
        config.alerts[3].condition,
        AlertCondition::WaitingOverThresholdAbove {
            objective: "contract".into(),
            above: 3,
            margin: 1,
        }
    );
    assert_eq!(config.alerts[3].resolve_after, Duration::ZERO);
    assert_eq!(
        config.alerts[4].condition,
        AlertCondition::Stale {
            after: Duration::from_mins(1),
            margin: Duration::ZERO,
        }
    );
    assert_eq!(
        config.webhooks,
        [
            WebhookSpec {
                name: "ops-slack".into(),
                url: WebhookUrl::Env("SLA_OPS_SLACK_URL".into()),
                format: WebhookFormat::Slack,
                secret_env: Some("SLA_OPS_SLACK_SECRET".into()),
            },
            WebhookSpec {
                name: "ops-teams".into(),
                url: WebhookUrl::Literal("https://example.invalid/workflows/abc?sig=secret".into()),
                format: WebhookFormat::Teams,
                secret_env: None,
            },
            WebhookSpec {
                name: "audit".into(),
                url: WebhookUrl::Literal("http://127.0.0.1:9000/alerts".into()),
                format: WebhookFormat::Generic,
                secret_env: None,
            },
        ]
    );
}

#[test]
fn sla_report_reads_the_same_file_and_ignores_alerts_and_webhooks() {
    let objectives = parse_config(EXAMPLE).unwrap();
    assert_eq!(objectives.len(), 1);
    assert_eq!(objectives[0].name, "contract");
    // Whatever the alert tables hold: they are the service's to check.
    let odd = "[[objective]]\nname = \"a\"\nthreshold = \"20s\"\n[[alert]]\nnonsense = 1\n";
    assert_eq!(parse_config(odd).unwrap().len(), 1);
    // Other unknown tables are still refused.
    let typo = "[[objective]]\nname = \"a\"\nthreshold = \"20s\"\n[[alerts]]\nname = \"x\"\n";
    assert!(parse_config(typo).is_err());
}

#[test]
fn a_service_file_may_hold_alerts_without_objectives() {
    let config =
        parse_service_config("[[alert]]\nname = \"stale\"\nstale_after = \"1m\"\n").unwrap();
    assert!(config.objectives.is_empty() && config.webhooks.is_empty());
    assert_eq!(config.alerts.len(), 1);
    assert_eq!(parse_service_config("").unwrap().alerts, []);
}

#[test]
fn a_literal_webhook_url_never_shows_its_path_in_debug() {
    let config = parse_service_config(EXAMPLE).unwrap();
    let debug = format!("{:?}", config.webhooks);
    assert!(
        debug.contains("https://example.invalid/[redacted]"),
        "{debug}"
    );
    assert!(
        !debug.contains("workflows") && !debug.contains("sig=secret"),
        "{debug}"
    );
}

/// An `[[alert]]` named `r` with `body` as its fields.
fn rule(body: &str) -> String {
    format!("[[alert]]\nname = \"r\"\n{body}")
}

/// Parses `[[alert]]` `rule` with an `ops` webhook defined for it to name.
fn parse_with_ops_webhook(rule: &str) -> Result<ServiceConfig, SlaError> {
    parse_service_config(&format!(
        "{rule}\n[[webhook]]\nname = \"ops\"\nurl = \"https://example.invalid/x\"\n"
    ))
}

/// Parses `[[alert]]` `rule` (with an `ops` webhook defined) and expects an error saying
/// `expect`.
#[track_caller]
fn check_error(rule: &str, expect: &str) {
    match parse_with_ops_webhook(rule) {
        Ok(config) => panic!("expected an error with {expect:?}, got {config:?}"),
        Err(SlaError::InvalidConfig(message)) => {
            assert!(message.contains(expect), "{message:?} lacks {expect:?}");
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn each_bad_rule_is_refused_naming_the_rule_and_the_field() {
    for (body, expect) in [
        (
            "",
            "alert 'r': no condition: give one of service_level_below",
        ),
        (
            "longest_wait_above = \"1m\"\nstale_after = \"1m\"",
            "alert 'r': longest_wait_above and stale_after are set: give one condition per rule",
        ),
        (
            "service_level_below = \"target\"",
            "alert 'r': service_level_below needs an objective",
        ),
        (
            "waiting_over_threshold_above = 2",
            "alert 'r': waiting_over_threshold_above needs an objective",
        ),
        (
            "service_level_below = 80\nobjective = \"  \"",
            "alert 'r': objective is empty",
        ),
        (
            "longest_wait_above = \"1m\"\nobjective = \"20s\"",
            "alert 'r': objective '20s' does not apply to longest_wait_above",
        ),
        (
            "service_level_below = \"soon\"\nobjective = \"20s\"",
            "alert 'r': service_level_below 'soon': expected \"target\" or a percent",
        ),
        (
            "service_level_below = 120\nobjective = \"20s\"",
            "alert 'r': service_level_below 120: expected",
        ),
        (
            "service_level_below = 80\nobjective = \"20s\"\nresolve_margin = \"5s\"",
            "alert 'r': resolve_margin '5s' for service_level_below must be percentage points",
        ),
    ] {
        check_error(&rule(body), expect);
    }
}

#[test]
fn each_bad_duration_count_or_field_is_refused_naming_the_rule() {
    for (body, expect) in [
        (
            "longest_wait_above = \"2 minutes\"",
            "alert 'r': longest_wait_above: invalid duration '2 minutes'",
        ),
        (
            "longest_wait_above = \"1m\"\nresolve_margin = 5",
            "alert 'r': resolve_margin 5 for longest_wait_above must be a duration",
        ),
        (
            "longest_wait_above = \"1m\"\nresolve_margin = \"2m\"",
            "alert 'r': resolve_margin '2m' is larger than the longest_wait_above bound",
        ),
        (
            "waiting_over_threshold_above = -1\nobjective = \"20s\"",
            "alert 'r': waiting_over_threshold_above -1: expected a count of 0 or more",
        ),
        (
            "waiting_over_threshold_above = 2\nobjective = \"20s\"\nresolve_margin = 3",
            "alert 'r': resolve_margin 3 for waiting_over_threshold_above must be a whole count from 0 to the bound 2",
        ),
        (
            "waiting_over_threshold_above = 2\nobjective = \"20s\"\nresolve_margin = 0.5",
            "alert 'r': resolve_margin 0.5 for waiting_over_threshold_above",
        ),
        (
            "stale_after = \"0s\"",
            "alert 'r': stale_after '0s' is zero",
        ),
        (
            "stale_after = \"1m\"\nqueues = [\"Support\"]",
            "alert 'r': queues does not apply to stale_after",
        ),
        (
            "longest_wait_above = \"1m\"\nqueues = []",
            "alert 'r': the queues list is empty",
        ),
        (
            "longest_wait_above = \"1m\"\nfor = \"soon\"",
            "alert 'r': for: invalid duration 'soon'",
        ),
        (
            "longest_wait_above = \"1m\"\nresolve_after = \"-1s\"",
            "alert 'r': resolve_after: invalid duration '-1s'",
        ),
        (
            "longest_wait_above = \"1m\"\nresolve_after = \"0s\"",
            "alert 'r': resolve_after is 0s and there is no resolve_margin",
        ),
        (
            "longest_wait_above = \"1m\"\nwebhooks = [\"pager\"]",
            "alert 'r': webhook 'pager' is not defined",
        ),
        (
            "longest_wait_above = \"1m\"\nfro = \"2m\"",
            "alert 'r': unknown field `fro`",
        ),
        (
            "longest_wait_above = 60",
            "alert 'r': invalid type: integer `60`, expected a string",
        ),
    ] {
        check_error(&rule(body), expect);
    }
    check_error(
        "[[alert]]\nname = \" \"\nstale_after = \"1m\"",
        "alert ' ': the name is empty",
    );
    check_error(
        "[[alert]]\nstale_after = \"1m\"",
        "alert #1: missing field `name`",
    );
    check_error(
        "[[alert]]\nname = \"a\"\nstale_after = \"1m\"\n[[alert]]\nname = \"a\"\nstale_after = \"2m\"",
        "duplicate alert name 'a'",
    );
    // The margin guards against flapping, so with it resolve_after may be zero.
    let ok = rule(
        "longest_wait_above = \"1m\"\nresolve_after = \"0s\"\nresolve_margin = \"10s\"\nwebhooks = [\"ops\"]",
    );
    assert!(parse_with_ops_webhook(&ok).is_ok());
}

#[test]
fn each_bad_webhook_is_refused_naming_it() {
    let hook = |body: &str| format!("[[webhook]]\nname = \"w\"\n{body}");
    for (body, expect) in [
        ("", "webhook 'w': no url: give url or url_env"),
        (
            "url = \"https://a.invalid/x\"\nurl_env = \"URL\"",
            "webhook 'w': give url or url_env, not both",
        ),
        (
            "url = \"ftp://files.invalid/secret-path\"",
            "webhook 'w': url must be an http:// or https:// URL with a host",
        ),
        (
            "url = \"https:///x\"",
            "webhook 'w': url must be an http://",
        ),
        (
            "url_env = \"SLACK URL\"",
            "webhook 'w': url_env 'SLACK URL' is not an environment variable name",
        ),
        (
            "url = \"https://a.invalid/x\"\nsecret_env = \"1SECRET\"",
            "webhook 'w': secret_env '1SECRET' is not an environment variable name",
        ),
        (
            "url = \"https://a.invalid/x\"\nformat = \"discord\"",
            "webhook 'w': unknown format 'discord': expected generic, slack or teams",
        ),
        (
            "url = \"https://a.invalid/x\"\nsecret = \"s3cr3t\"",
            "webhook 'w': unknown field `secret`",
        ),
    ] {
        match parse_service_config(&hook(body)) {
            Err(SlaError::InvalidConfig(message)) => {
                assert!(message.contains(expect), "{message:?} lacks {expect:?}");
                // A URL's path may be its credential: messages never echo it.
                assert!(!message.contains("secret-path"), "{message}");
            }
            other => panic!("expected an error with {expect:?}, got {other:?}"),
        }
    }
    let twice = format!(
        "{}\n{}",
        hook("url = \"https://a.invalid/x\""),
        hook("url_env = \"U\"")
    );
    match parse_service_config(&twice) {
        Err(SlaError::InvalidConfig(message)) => assert_eq!(message, "duplicate webhook name 'w'"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rules_are_checked_against_the_measured_objectives() {
    let config = parse_service_config(EXAMPLE).unwrap();
    check_alert_objectives(&config.alerts, &config.objectives).unwrap();

    let fixed = |name: &str, target: Option<f64>| Objective {
        name: name.into(),
        threshold: ObjectiveThreshold::Fixed(Threshold::from_millis(20_000)),
        target_percent: target,
        queues: None,
    };
    let err = check_alert_objectives(&config.alerts, &[fixed("20s", None)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config: alert 'support-below-target': objective 'contract' is not measured (the objectives are '20s')"
    );
    let err = check_alert_objectives(&config.alerts, &[fixed("contract", None)]).unwrap_err();
    assert!(
        err.to_string().contains(
            "alert 'support-below-target': service_level_below = \"target\" but objective 'contract' has no target"
        ),
        "{err}"
    );
    // A fixed percent needs no target, and `configured` takes each queue's.
    check_alert_objectives(&config.alerts[1..], &[fixed("contract", None)]).unwrap();
    let configured = Objective {
        name: "contract".into(),
        ..Objective::configured()
    };
    check_alert_objectives(&config.alerts, &[configured]).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The state machine.

const SUPPORT: &str = "q-support";
const SALES: &str = "q-sales";

/// One queue's row: a service level for objective `contract` (with a target of 80 %), the
/// longest wait and how many wait past the threshold.
#[derive(Clone, Copy)]
struct Row {
    queue: &'static str,
    media: Option<MediaType>,
    percent: Option<f64>,
    longest_ms: u64,
    over: u64,
}

fn support(percent: f64) -> Row {
    Row {
        queue: SUPPORT,
        media: None,
        percent: Some(percent),
        longest_ms: 0,
        over: 0,
    }
}

fn live_row(row: Row) -> LiveRow {
    let name = if row.queue == SUPPORT {
        "Support"
    } else {
        "Sales"
    };
    LiveRow {
        queue_id: row.queue.into(),
        queue_name: name.into(),
        media_type: row.media,
        live: LiveFigures {
            waiting: row.over,
            longest_waiting_ms: row.longest_ms,
            ..LiveFigures::default()
        },
        counts: Counts::default(),
        kpis: Kpis::default(),
        service_levels: vec![LiveServiceLevel {
            level: ServiceLevel {
                objective: "contract".into(),
                threshold_ms: Some(20_000),
                target_percent: Some(80.0),
                answered_within: 0,
                abandoned_within: 0,
                numerator: 0,
                denominator: 0,
                percent: row.percent,
                met_target: None,
            },
            waiting_over_threshold: row.over,
            projected_percent: None,
        }],
    }
}

fn document(as_of: Timestamp, rows: &[Row]) -> LiveReport {
    LiveReport {
        schema: LIVE_SCHEMA,
        as_of,
        window: ReportWindow {
            start: as_of - SignedDuration::from_mins(30),
            end: as_of,
            time_zone: "UTC".into(),
        },
        formula: ReportFormula {
            abandons: AbandonPolicy::Ignore,
            short_abandon_ms: None,
            flowouts: FlowOutPolicy::Ignore,
        },
        source: SourceKind::Aggregates,
        queues: rows.iter().copied().map(live_row).collect(),
        total: LiveTotal {
            live: LiveFigures::default(),
            counts: Counts::default(),
            kpis: Kpis::default(),
            service_levels: Vec::new(),
        },
    }
}

fn rules(toml: &str) -> Vec<AlertRule> {
    let text =
        format!("{toml}\n[[webhook]]\nname = \"ops\"\nurl = \"https://example.invalid/x\"\n");
    parse_service_config(&text).unwrap().alerts
}

/// Drives `rules` through refreshes at `steps` (seconds after T0, the rows of a fresh document,
/// or `None` for no document) and writes what happened: `60s fired r Support 72.5`.
fn run(
    rules: &[AlertRule],
    state: &mut AlertState,
    steps: &[(i64, Option<&[Row]>)],
) -> Vec<String> {
    let mut trace = Vec::new();
    for (seconds, rows) in steps {
        let now = t(*seconds);
        let live = rows.map(|rows| document(now, rows));
        for event in evaluate_alerts(rules, live.as_ref(), now, state) {
            let alert = &event.alert;
            let value = alert
                .value
                .map_or_else(|| "-".to_owned(), |v| v.to_string());
            trace.push(format!(
                "{seconds}s {} {} {} {value}",
                event.kind.as_str(),
                alert.rule,
                alert.queue_name.as_deref().unwrap_or("*"),
            ));
            assert_eq!(event.at, now);
        }
    }
    trace
}

/// The listing as `rule queue state since`.
fn listed(rules: &[AlertRule], state: &AlertState, at: i64) -> Vec<String> {
    state
        .listing(rules, t(at))
        .alerts
        .iter()
        .map(|a| {
            let since = a.since.duration_since(t(0)).as_secs();
            let state = match a.state {
                AlertStatus::Pending => "pending",
                AlertStatus::Firing => "firing",
                AlertStatus::Resolved => "resolved",
            };
            format!(
                "{} {} {state} {since}s",
                a.rule,
                a.queue_name.as_deref().unwrap_or("*")
            )
        })
        .collect()
}

const BELOW_TARGET: &str = r#"
[[alert]]
name = "slow"
service_level_below = "target"
objective = "contract"
for = "2m"
resolve_margin = 2
resolve_after = "1m"
webhooks = ["ops"]
"#;

#[test]
fn a_breach_is_pending_until_for_is_up_then_fires_once() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    let below: &[Row] = &[support(72.5)];
    let trace = run(&rules, &mut state, &[(0, Some(below)), (60, Some(below))]);
    assert!(trace.is_empty(), "{trace:?}");
    assert_eq!(listed(&rules, &state, 60), ["slow Support pending 0s"]);

    let trace = run(
        &rules,
        &mut state,
        &[(119, Some(below)), (120, Some(below)), (180, Some(below))],
    );
    assert_eq!(trace, ["120s fired slow Support 72.5"]);
    let listing = state.listing(&rules, t(180));
    assert_eq!(listed(&rules, &state, 180), ["slow Support firing 0s"]);
    assert_eq!(listing.alerts[0].firing_since, Some(t(120)));
}

#[test]
fn a_fired_event_carries_the_alert_and_the_webhooks() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    let below: &[Row] = &[
        support(72.5),
        Row {
            queue: SALES,
            ..support(90.0)
        },
    ];
    let now = t(0);
    assert!(evaluate_alerts(&rules, Some(&document(now, below)), now, &mut state).is_empty());
    let events = evaluate_alerts(&rules, Some(&document(t(120), below)), t(120), &mut state);
    let [event] = events.as_slice() else {
        panic!("one event expected: {events:?}");
    };
    assert_eq!(event.kind, AlertEventKind::Fired);
    assert_eq!(event.webhooks, ["ops"]);
    let alert = &event.alert;
    assert_eq!(alert.queue_id.as_deref(), Some(SUPPORT));
    assert_eq!((alert.value, alert.bound), (Some(72.5), Some(80.0)));
    assert_eq!(
        alert.summary,
        "Support: rolling service level 72.5 % (objective contract), bound 80 %"
    );
}

#[test]
fn for_starts_over_when_the_condition_clears_while_pending() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    let (below, met): (&[Row], &[Row]) = (&[support(72.5)], &[support(80.0)]);
    let trace = run(
        &rules,
        &mut state,
        &[
            (0, Some(below)),
            (100, Some(below)),
            // Exactly at the target meets it: the pending alert goes back to inactive.
            (110, Some(met)),
            (120, Some(below)),
            (230, Some(below)),
        ],
    );
    assert!(trace.is_empty(), "{trace:?}");
    assert_eq!(listed(&rules, &state, 230), ["slow Support pending 120s"]);
    let trace = run(&rules, &mut state, &[(240, Some(below))]);
    assert_eq!(trace, ["240s fired slow Support 72.5"]);
}

#[test]
fn a_firing_alert_resolves_after_being_clear_by_the_margin_for_resolve_after() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    let (low, edge, high, clear) = (
        [support(70.0)],
        [support(82.0)],
        [support(95.0)],
        [support(90.0)],
    );
    let steps: Vec<(i64, Option<&[Row]>)> = vec![
        (0, Some(&low)),
        (120, Some(&low)),
        // Clear by the margin (80 + 2), but not yet for a minute.
        (180, Some(&edge)),
        (230, Some(&high)),
        (240, Some(&clear)),
    ];
    let trace = run(&rules, &mut state, &steps);
    assert_eq!(
        trace,
        [
            "120s fired slow Support 70",
            "240s resolved slow Support 90"
        ]
    );
    assert!(state.listing(&rules, t(240)).alerts.is_empty());
    // After resolving, a new breach waits the whole `for` again.
    let trace = run(&rules, &mut state, &[(300, Some(&low)), (400, Some(&low))]);
    assert!(trace.is_empty(), "{trace:?}");
}

#[test]
fn the_resolved_event_says_when_it_fired_and_resolved() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    for (at, percent) in [(0, 70.0), (120, 70.0), (200, 85.0)] {
        let doc = document(t(at), &[support(percent)]);
        assert!(evaluate_alerts(&rules, Some(&doc), t(at), &mut state).len() <= 1);
    }
    let doc = document(t(260), &[support(85.0)]);
    let events = evaluate_alerts(&rules, Some(&doc), t(260), &mut state);
    let alert = &events[0].alert;
    assert_eq!(events[0].kind, AlertEventKind::Resolved);
    assert_eq!(alert.state, AlertStatus::Resolved);
    assert_eq!(
        (alert.since, alert.firing_since, alert.resolved_at),
        (t(0), Some(t(120)), Some(t(260)))
    );
    assert_eq!(alert.value, Some(85.0));
}

/// A service level hovering around its target of 80 %, one refresh every 5 s for 20 minutes:
/// `low` and `high` alternate.
fn hovering(low: f64, high: f64) -> Vec<(i64, Vec<Row>)> {
    (0..240)
        .map(|i| {
            let percent = if i % 2 == 0 { low } else { high };
            (i * 5, vec![support(percent)])
        })
        .collect()
}

#[test]
fn a_value_hovering_at_the_boundary_never_flaps() {
    for (rule, low, high, expect) in [
        // Margin and resolve_after: fires once, when first below, and never resolves.
        (
            "for = \"0s\"\nresolve_margin = 2\nresolve_after = \"1m\"",
            79.9,
            80.1,
            vec!["0s fired h Support 79.9"],
        ),
        // The margin alone: back above the target is still inside the margin.
        (
            "resolve_margin = 2\nresolve_after = \"0s\"",
            79.9,
            81.9,
            vec!["0s fired h Support 79.9"],
        ),
        // resolve_after alone: every dip restarts the clear time.
        (
            "resolve_after = \"1m\"",
            79.9,
            95.0,
            vec!["0s fired h Support 79.9"],
        ),
        // With `for`, a dip shorter than it never even fires.
        ("for = \"1m\"", 79.9, 80.0, vec![]),
    ] {
        let rules = rules(&format!(
            "[[alert]]\nname = \"h\"\nservice_level_below = \"target\"\nobjective = \"contract\"\n{rule}"
        ));
        let mut state = AlertState::new();
        let series = hovering(low, high);
        let steps: Vec<(i64, Option<&[Row]>)> = series
            .iter()
            .map(|(at, rows)| (*at, Some(rows.as_slice())))
            .collect();
        assert_eq!(run(&rules, &mut state, &steps), expect, "{rule}");
    }
}

#[test]
fn without_a_document_only_stale_rules_move_and_others_keep_their_state() {
    let rules = rules(&format!(
        "{BELOW_TARGET}\n[[alert]]\nname = \"stale\"\nstale_after = \"1m\"\nresolve_margin = \"30s\"\nresolve_after = \"10s\"\n"
    ));
    let mut state = AlertState::new();
    // No document yet: stale since the first evaluation.
    let trace = run(&rules, &mut state, &[(0, None), (60, None), (61, None)]);
    assert_eq!(trace, ["61s fired stale * 61000"]);
    let below: &[Row] = &[support(70.0)];
    let trace = run(&rules, &mut state, &[(65, Some(below)), (185, Some(below))]);
    assert_eq!(
        trace,
        ["185s fired slow Support 70", "185s resolved stale * 0"]
    );
    // The live refresh fails for ten minutes, so the last good document is evaluated as it
    // ages: the service-level alert keeps firing, as nothing says it is over, and the stale
    // alert fires again once the document is a minute old.
    let last = document(t(185), below);
    let mut trace = Vec::new();
    for at in (190..=785).step_by(5) {
        for event in evaluate_alerts(&rules, Some(&last), t(at), &mut state) {
            trace.push(format!(
                "{at}s {} {}",
                event.kind.as_str(),
                event.alert.rule
            ));
        }
    }
    assert_eq!(trace, ["250s fired stale"]);
    // With no document at all, nothing but staleness is known: nothing changes.
    assert!(run(&rules, &mut state, &[(790, None), (900, None)]).is_empty());
    assert_eq!(
        listed(&rules, &state, 900),
        ["slow Support firing 65s", "stale * firing 250s"]
    );
}

#[test]
fn stale_reads_the_documents_age_with_its_margin() {
    let rules = rules(
        "[[alert]]\nname = \"stale\"\nstale_after = \"1m\"\nresolve_margin = \"30s\"\nresolve_after = \"0s\"\n",
    );
    let mut state = AlertState::new();
    let mut trace = Vec::new();
    // The same document, re-evaluated as it ages, then newer ones.
    for (at, as_of) in [(0, 0), (60, 0), (61, 0), (100, 55), (100, 75), (120, 90)] {
        let doc = document(t(as_of), &[]);
        for event in evaluate_alerts(&rules, Some(&doc), t(at), &mut state) {
            trace.push(format!(
                "{at}s {} {:?}",
                event.kind.as_str(),
                event.alert.value
            ));
        }
    }
    // 45 s old is inside the margin (clear at 30 s or less); 25 s old is clear.
    assert_eq!(
        trace,
        ["61s fired Some(61000.0)", "100s resolved Some(25000.0)"]
    );
}

#[test]
fn waits_and_counts_fire_above_their_bound_and_resolve_below_it_by_the_margin() {
    let rules = rules(
        r#"
[[alert]]
name = "wait"
longest_wait_above = "2m"
resolve_margin = "30s"
resolve_after = "0s"

[[alert]]
name = "over"
waiting_over_threshold_above = 3
objective = "contract"
resolve_margin = 1
resolve_after = "0s"
"#,
    );
    let row = |longest_ms, over| Row {
        longest_ms,
        over,
        ..support(90.0)
    };
    let mut state = AlertState::new();
    let steps: Vec<(i64, Vec<Row>)> = vec![
        (0, vec![row(120_000, 3)]),
        (5, vec![row(120_001, 4)]),
        (10, vec![row(95_000, 3)]),
        (15, vec![row(90_000, 2)]),
    ];
    let steps: Vec<(i64, Option<&[Row]>)> = steps
        .iter()
        .map(|(a, r)| (*a, Some(r.as_slice())))
        .collect();
    assert_eq!(
        run(&rules, &mut state, &steps),
        [
            "5s fired wait Support 120001",
            "5s fired over Support 4",
            "15s resolved wait Support 90000",
            "15s resolved over Support 2",
        ]
    );
}

#[test]
fn a_row_without_a_value_clears_a_pending_alert_and_resolves_a_firing_one() {
    let rules = rules(BELOW_TARGET);
    let mut state = AlertState::new();
    let idle = Row {
        percent: None,
        ..support(0.0)
    };
    let trace = run(
        &rules,
        &mut state,
        &[(0, Some(&[support(70.0)])), (60, Some(&[idle]))],
    );
    assert!(trace.is_empty() && listed(&rules, &state, 60).is_empty());
    // Firing, then the queue goes idle, then leaves the document altogether.
    let trace = run(
        &rules,
        &mut state,
        &[
            (100, Some(&[support(70.0)])),
            (220, Some(&[support(70.0)])),
            (230, Some(&[idle])),
            (260, Some(&[])),
            (290, Some(&[])),
        ],
    );
    assert_eq!(
        trace,
        ["220s fired slow Support 70", "290s resolved slow Support -"]
    );
}

#[test]
fn each_queue_and_media_type_is_its_own_alert_and_queues_filter_by_name_or_id() {
    let voice = Row {
        media: Some(MediaType::Voice),
        ..support(70.0)
    };
    let chat = Row {
        media: Some(MediaType::Chat),
        ..support(95.0)
    };
    let sales = Row {
        queue: SALES,
        ..support(60.0)
    };
    let rows: &[Row] = &[voice, chat, sales];
    for (queues, expect) in [
        ("", vec!["0s fired r Sales 60", "0s fired r Support 70"]),
        ("queues = [\"support\"]", vec!["0s fired r Support 70"]),
        ("queues = [\"q-sales\"]", vec!["0s fired r Sales 60"]),
        ("queues = [\"Elsewhere\"]", vec![]),
    ] {
        let rules = rules(&format!(
            "[[alert]]\nname = \"r\"\nservice_level_below = \"target\"\nobjective = \"contract\"\n{queues}"
        ));
        let mut state = AlertState::new();
        let mut trace = run(&rules, &mut state, &[(0, Some(rows))]);
        trace.sort();
        assert_eq!(trace, expect, "{queues}");
    }
    let rules =
        rules("[[alert]]\nname = \"r\"\nservice_level_below = 99\nobjective = \"contract\"\n");
    let mut state = AlertState::new();
    assert_eq!(run(&rules, &mut state, &[(0, Some(rows))]).len(), 3);
    let media: Vec<Option<MediaType>> = state
        .listing(&rules, t(0))
        .alerts
        .iter()
        .map(|a| a.media_type)
        .collect();
    assert_eq!(media, [None, Some(MediaType::Voice), Some(MediaType::Chat)]);
}

#[test]
fn a_rule_reading_an_objective_the_row_lacks_never_fires() {
    let rules = rules(
        "[[alert]]\nname = \"r\"\nservice_level_below = 99\nobjective = \"20s\"\nfor = \"0s\"\n",
    );
    let mut state = AlertState::new();
    assert!(run(&rules, &mut state, &[(0, Some(&[support(10.0)]))]).is_empty());
}

#[test]
fn the_listing_is_the_apis_json() {
    let rules = rules(&format!(
        "{BELOW_TARGET}\n[[alert]]\nname = \"wait\"\nlongest_wait_above = \"1m\"\nfor = \"1m\"\n\n[[alert]]\nname = \"stale\"\nstale_after = \"1m\"\n"
    ));
    let mut state = AlertState::new();
    let rows = [
        Row {
            longest_ms: 95_500,
            ..support(72.25)
        },
        Row {
            queue: SALES,
            media: Some(MediaType::Chat),
            ..support(100.0)
        },
    ];
    // At 90 s the wait has held for its minute and fires; the service level is still pending.
    let trace = run(&rules, &mut state, &[(0, Some(&rows)), (90, Some(&rows))]);
    assert_eq!(trace, ["90s fired wait Support 95500"]);
    let listing = state.listing(&rules, t(90));
    insta::assert_json_snapshot!("alert_listing", listing);
}

#[test]
fn the_readme_example_parses() {
    let readme = include_str!("../../../../README.md");
    let section = &readme[readme.find("\n## Alerts\n").expect("an Alerts section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start
        + section[start..]
            .find("```")
            .expect("the end of the example");
    let config = parse_service_config(&section[start..end]).unwrap();
    assert_eq!(config.alerts.len(), 4);
    assert_eq!(config.webhooks.len(), 3);
    check_alert_objectives(&config.alerts, &config.objectives).unwrap();
    // The same file is a valid `sla report --config`.
    assert_eq!(parse_config(&section[start..end]).unwrap().len(), 1);
}
