//! Alerts end to end: `sla-http` pointed at a simulated org (`--api-base` and its credentials)
//! whose live org the test steers, with alert rules and webhooks in its config file and the
//! webhooks answered by a receiver on 127.0.0.1. A backdated wait fires one alert after `for`,
//! shown by `/api/v1/alerts` and `/metrics`, and answering it resolves it once; the generic,
//! Slack and Teams bodies have the shapes those receivers take, signed as configured; a
//! receiver that answers 500 or hangs is retried while the live figures keep refreshing on
//! time; and a config the service cannot honour stops it at start with exit status 2.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use e2e::http::SlaHttp;
use e2e::receiver::{Answer, Received, Receiver};
use e2e::{TestSim, alerts_schema, poll, scratch_dir};
use genesys_sim::{LiveOrg, MediaType, SimConfig};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::assert_valid;

/// A small org whose live org runs without its autopilot, so that what waits in a queue is
/// what the test puts there; gives the simulator, its live org and a queue with nobody
/// waiting and no agent to answer.
fn quiet_org() -> (TestSim, LiveOrg, String) {
    let sim = TestSim::start(SimConfig {
        queues: 3,
        days: 1,
        visits_per_day: 60,
        ..SimConfig::default()
    });
    let live = sim.server().live().expect("a live org").clone();
    live.pause_autopilot();
    let snapshot = live.snapshot();
    let quiet = snapshot
        .queues
        .iter()
        .find(|q| {
            MediaType::ALL
                .iter()
                .all(|m| q.media(*m).waiting.is_empty())
        })
        .expect("a queue with nobody waiting")
        .queue_id
        .clone();
    live.set_agents(&quiet, 0).expect("a known queue");
    (sim, live, quiet)
}

/// `sla-http` pointed at `sim` as at Genesys Cloud, watching every queue at 20 s with a live
/// refresh and a re-count every second, with `config` as its config file.
fn start(sim: &TestSim, name: &str, config: &str, extra: &[&str], env: &[(&str, &str)]) -> SlaHttp {
    let path = scratch_dir(&format!("{name}-config")).join("sla.toml");
    std::fs::write(&path, config).expect("a config file");
    let path = path.display().to_string();
    let mut args = vec![
        "--api-base",
        sim.base_url(),
        "--all-queues",
        "--threshold",
        "20s",
        "--tz",
        "UTC",
        "--live-interval",
        "1s",
        "--live-recount-interval",
        "1s",
        "--config",
        &path,
        "--bind",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let credentials = sim.server().config();
    let mut all = vec![
        (
            "GENESYSCLOUD_OAUTHCLIENT_ID",
            credentials.client_id.as_str(),
        ),
        (
            "GENESYSCLOUD_OAUTHCLIENT_SECRET",
            credentials.client_secret.as_str(),
        ),
    ];
    all.extend_from_slice(env);
    SlaHttp::start(name, &args, &all)
}

/// Waits until the service's live document has the queue's row, with nobody waiting.
fn wait_for_an_idle_row(server: &SlaHttp, queue: &str) {
    poll("the queue's first live row", Duration::from_mins(1), || {
        let reply = server.get("/api/v1/live");
        (reply.status == 200).then_some(())?;
        let doc = reply.json();
        doc["queues"]
            .as_array()?
            .iter()
            .any(|r| r["queue_id"] == queue && r["live"]["waiting"] == 0)
            .then_some(())
    });
}

/// A conversation that has waited 90 s in `queue` by now.
fn backdated_wait(live: &LiveOrg, queue: &str) -> String {
    let since = live.now() - jiff::SignedDuration::from_secs(90);
    live.inject(queue, MediaType::Voice, since)
        .expect("an injected wait")
}

/// How many notifications ended in `outcome` (`sent` or `failed`), by the exposition.
fn notifications(exposition: &str, outcome: &str) -> Option<String> {
    sample(
        exposition,
        "sla_alert_notifications_total",
        &format!("outcome=\"{outcome}\""),
    )
}

/// The value of the sample `name{labels}` in an exposition, labels written as in the text.
fn sample(exposition: &str, name: &str, labels: &str) -> Option<String> {
    let prefix = format!("{name}{{{labels}}} ");
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
}

/// Whether `received` carries `sha256=<HMAC-SHA256 of its body under secret>`.
fn signed_with(received: &Received, secret: &str) -> bool {
    let Some(hex) = received
        .header("x-sla-signature")
        .and_then(|v| v.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(signature) = hex::decode(hex) else {
        return false;
    };
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&received.body);
    mac.verify_slice(&signature).is_ok()
}

/// A Slack incoming-webhook message as Block Kit takes it: `text` for the notification, and
/// at most 50 section blocks, each with mrkdwn text (at most 3000 characters) or at most 10
/// mrkdwn fields (at most 2000 each).
fn check_slack(body: &Value) -> String {
    let object = body.as_object().expect("an object");
    assert_eq!(
        object.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"blocks".to_owned(), &"text".to_owned()]),
        "{body}"
    );
    let text = body["text"].as_str().expect("a text");
    assert!(!text.is_empty() && text.len() <= 40_000, "{text}");
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50, "{body}");
    let mrkdwn = |item: &Value, max: usize| {
        assert_eq!(item["type"], "mrkdwn", "{item}");
        let text = item["text"].as_str().expect("a text");
        assert!(!text.is_empty() && text.chars().count() <= max, "{item}");
    };
    for block in blocks {
        assert_eq!(block["type"], "section", "{block}");
        match (block.get("text"), block.get("fields")) {
            (Some(text), None) => mrkdwn(text, 3000),
            (None, Some(fields)) => {
                let fields = fields.as_array().expect("fields");
                assert!(!fields.is_empty() && fields.len() <= 10, "{block}");
                for field in fields {
                    mrkdwn(field, 2000);
                }
            }
            _ => panic!("a section has text or fields: {block}"),
        }
    }
    text.to_owned()
}

/// A Teams message as incoming webhooks and Workflows take it: one Adaptive Card attachment,
/// a card version Teams renders (at most 1.5), and text blocks and fact sets in its body.
fn check_teams(body: &Value) -> String {
    assert_eq!(body["type"], "message", "{body}");
    let attachments = body["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{body}");
    let attachment = &attachments[0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard", "{card}");
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    let version = card["version"].as_str().expect("a card version");
    let minor: u32 = version
        .strip_prefix("1.")
        .and_then(|m| m.parse().ok())
        .expect("a 1.x version");
    assert!(
        minor <= 5,
        "Teams renders Adaptive Cards up to 1.5: {version}"
    );
    let items = card["body"].as_array().expect("a card body");
    let mut facts = Vec::new();
    for item in items {
        match item["type"].as_str() {
            Some("TextBlock") => assert!(item["text"].is_string(), "{item}"),
            Some("FactSet") => {
                for fact in item["facts"].as_array().expect("facts") {
                    assert!(
                        fact["title"].is_string() && fact["value"].is_string(),
                        "{fact}"
                    );
                    facts.push(fact["title"].as_str().unwrap_or_default().to_owned());
                }
            }
            other => panic!("an element Teams does not render here: {other:?}"),
        }
    }
    assert!(facts.contains(&"Queue".to_owned()), "{facts:?}");
    items[0]["text"].as_str().expect("a title").to_owned()
}

/// Waits for the rule to fire on `queue`, and checks the one alert in `/api/v1/alerts` and
/// `/metrics`: valid against the schema, with the wait and its bound, fired no sooner than `for`
/// (2 s) after the condition began to hold.
fn fires_after_for(server: &SlaHttp, schema: &Value, queue: &str) {
    let firing = poll("the alert to fire", Duration::from_secs(30), || {
        let listing = server.get("/api/v1/alerts").json();
        (listing["alerts"][0]["state"] == "firing").then_some(listing)
    });
    assert_valid(schema, &firing);
    let alerts = firing["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "one alert: {firing:#}");
    let alert = &alerts[0];
    assert_eq!(alert["rule"], "long-wait");
    assert_eq!(alert["queue_id"], queue);
    assert_eq!(alert["condition"], "longest_wait_above");
    assert_eq!(alert["bound"], 60_000);
    assert!(alert["value"].as_f64() >= Some(90_000.0), "{alert}");
    let at = |field: &str| {
        alert[field]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(|| panic!("{field}: {alert}"))
    };
    let pending_for = at("firing_since").duration_since(at("since"));
    assert!(
        pending_for >= jiff::SignedDuration::from_secs(2),
        "fired {pending_for} after the condition began to hold, before `for`"
    );
    let metrics = server.get("/metrics").body;
    assert_eq!(
        sample(&metrics, "sla_alerts", r#"rule="long-wait",state="firing""#).as_deref(),
        Some("1"),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "sla_alerts",
            r#"rule="long-wait",state="pending""#
        )
        .as_deref(),
        Some("0")
    );
}

const GENERIC_SECRET: &str = "e2e-generic-Secret-1";
const SLACK_SECRET: &str = "e2e-slack-Secret-2";

#[test]
fn a_long_wait_fires_one_alert_after_for_and_resolves_once_when_answered() {
    let (sim, live, quiet) = quiet_org();
    let receiver = Receiver::start(&[
        ("/generic", Answer::Status(200)),
        ("/slack", Answer::Status(200)),
        ("/teams", Answer::Status(202)),
    ]);
    let config = format!(
        r#"
[[alert]]
name = "long-wait"
queues = ["{quiet}"]
longest_wait_above = "1m"
for = "2s"
resolve_after = "2s"
webhooks = ["generic", "slack", "teams"]

[[webhook]]
name = "generic"
url = "{generic}"
secret_env = "SLA_E2E_GENERIC_SECRET"

[[webhook]]
name = "slack"
url_env = "SLA_E2E_SLACK_URL"
format = "slack"
secret_env = "SLA_E2E_SLACK_SECRET"

[[webhook]]
name = "teams"
url = "{teams}"
format = "teams"
"#,
        generic = receiver.url("/generic"),
        teams = receiver.url("/teams"),
    );
    let slack_url = receiver.url("/slack");
    let server = start(
        &sim,
        "alerts-fire",
        &config,
        &[],
        &[
            ("SLA_E2E_GENERIC_SECRET", GENERIC_SECRET),
            ("SLA_E2E_SLACK_URL", &slack_url),
            ("SLA_E2E_SLACK_SECRET", SLACK_SECRET),
        ],
    );
    wait_for_an_idle_row(&server, &quiet);
    let schema = alerts_schema();
    let listing = server.get("/api/v1/alerts").json();
    assert_valid(&schema, &listing);
    assert_eq!(listing["alerts"], json!([]), "nothing waits yet");

    let conversation = backdated_wait(&live, &quiet);
    fires_after_for(&server, &schema, &quiet);

    // One "fired" to each webhook.
    let limit = Duration::from_secs(30);
    let fired: Vec<Received> = ["/generic", "/slack", "/teams"]
        .iter()
        .map(|path| receiver.wait_for(path, 1, limit).remove(0))
        .collect();
    check_bodies(&fired, "fired", &schema, &quiet);

    // Answered: the longest wait falls to nothing, and the alert resolves once clear for 2 s.
    live.answer(&conversation).expect("an answer");
    poll("the alert to resolve", Duration::from_secs(30), || {
        let listing = server.get("/api/v1/alerts").json();
        (listing["alerts"] == json!([])).then_some(())
    });
    let resolved: Vec<Received> = ["/generic", "/slack", "/teams"]
        .iter()
        .map(|path| receiver.wait_for(path, 2, limit).remove(1))
        .collect();
    check_bodies(&resolved, "resolved", &schema, &quiet);

    // Three more refreshes later, still one of each: nothing fired or resolved again.
    let as_of = |server: &SlaHttp| server.get("/api/v1/live").json()["as_of"].clone();
    let mut seen = BTreeSet::new();
    poll("three more live refreshes", Duration::from_secs(30), || {
        seen.insert(as_of(&server).to_string());
        (seen.len() > 3).then_some(())
    });
    for path in ["/generic", "/slack", "/teams"] {
        assert_eq!(receiver.requests(path).len(), 2, "{path}");
    }
    let metrics = server.get("/metrics").body;
    assert_eq!(
        notifications(&metrics, "sent").as_deref(),
        Some("6"),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "sla_alerts", r#"rule="long-wait",state="firing""#).as_deref(),
        Some("0")
    );
    let log = server.log();
    assert_eq!(log.matches("alert fired").count(), 1, "{log}");
    assert_eq!(log.matches("alert resolved").count(), 1, "{log}");
    for secret in [GENERIC_SECRET, SLACK_SECRET, slack_url.as_str()] {
        assert!(!log.contains(secret), "the log shows {secret}");
    }
}

/// The generic, Slack and Teams bodies of one event, in that order: each JSON of its shape,
/// the signed ones signed with their secret, the Teams one (no secret) unsigned.
fn check_bodies(received: &[Received], event: &str, schema: &Value, queue: &str) {
    for one in received {
        assert_eq!(one.method, "POST");
        assert_eq!(one.header("content-type"), Some("application/json"));
    }
    let [generic, slack, teams] = received else {
        panic!("three bodies");
    };

    let body = generic.json();
    let event_schema = json!({"$defs": schema["$defs"], "$ref": "#/$defs/event"});
    assert_valid(&event_schema, &body);
    assert_eq!(body["schema"], "sla-alert/v1");
    assert_eq!(body["event"], event);
    assert_eq!(body["alert"]["queue_id"], queue);
    let state = if event == "fired" {
        "firing"
    } else {
        "resolved"
    };
    assert_eq!(body["alert"]["state"], state);
    assert!(
        signed_with(generic, GENERIC_SECRET),
        "{:?}",
        generic.headers
    );
    assert!(!signed_with(generic, SLACK_SECRET));

    let headline = if event == "fired" {
        "FIRING"
    } else {
        "RESOLVED"
    };
    let text = check_slack(&slack.json());
    assert!(
        text.starts_with(&format!("[{headline}] long-wait: ")),
        "{text}"
    );
    assert!(signed_with(slack, SLACK_SECRET), "{:?}", slack.headers);

    let title = check_teams(&teams.json());
    assert_eq!(title, format!("{headline}: long-wait"));
    assert_eq!(
        teams.header("x-sla-signature"),
        None,
        "no secret, no signature"
    );
}

#[test]
fn a_receiver_that_fails_or_hangs_is_retried_while_the_figures_keep_refreshing() {
    let (sim, live, quiet) = quiet_org();
    let receiver = Receiver::start(&[("/fails", Answer::Status(500)), ("/hangs", Answer::Hang)]);
    let config = format!(
        r#"
[[alert]]
name = "long-wait"
queues = ["{quiet}"]
longest_wait_above = "1m"
webhooks = ["fails", "hangs"]

[[webhook]]
name = "fails"
url = "{fails}"

[[webhook]]
name = "hangs"
url = "{hangs}"
"#,
        fails = receiver.url("/fails"),
        hangs = receiver.url("/hangs"),
    );
    let server = start(
        &sim,
        "alerts-failing",
        &config,
        &["--webhook-timeout", "1s"],
        &[],
    );
    wait_for_an_idle_row(&server, &quiet);
    backdated_wait(&live, &quiet);

    // One delivery at a time: the failing receiver's four attempts (1 s, 2 s and 4 s apart),
    // then the hanging one's, each given up after 1 s and tried again. Meanwhile the live
    // figures go on refreshing every second.
    let mut as_ofs: Vec<jiff::Timestamp> = Vec::new();
    let started = Instant::now();
    while receiver.requests("/hangs").len() < 2 {
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "the hanging receiver was not tried twice: {} attempts at /fails, {} at /hangs",
            receiver.requests("/fails").len(),
            receiver.requests("/hangs").len()
        );
        let doc = server.get("/api/v1/live").json();
        let as_of: jiff::Timestamp = doc["as_of"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("an as_of");
        if as_ofs.last() != Some(&as_of) {
            as_ofs.push(as_of);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let attempts = receiver.requests("/fails");
    assert_eq!(attempts.len(), 4, "four attempts at the failing receiver");
    for (pair, backoff) in attempts.windows(2).zip([1_u64, 2, 4]) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(backoff * 1000 - 100),
            "{gap:?} between attempts, less than the {backoff} s backoff"
        );
    }
    let span = as_ofs.last().expect("a document").duration_since(as_ofs[0]);
    assert!(
        span >= jiff::SignedDuration::from_secs(8),
        "the deliveries took {span} of live figures"
    );
    for pair in as_ofs.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap <= jiff::SignedDuration::from_millis(3_000),
            "the live figures stood still for {gap} while deliveries failed: {as_ofs:?}"
        );
    }
    let metrics = server.get("/metrics").body;
    assert_eq!(
        notifications(&metrics, "failed").as_deref(),
        Some("1"),
        "{metrics}"
    );
    assert_eq!(notifications(&metrics, "sent").as_deref(), Some("0"));
    assert!(
        metrics.contains("\nsla_live_last_refresh_success 1\n"),
        "{metrics}"
    );
}

#[test]
fn a_config_the_service_cannot_honour_stops_it_at_start() {
    let refused = |name: &str, config: &str, extra: &[&str]| {
        let path = scratch_dir(&format!("{name}-config")).join("sla.toml");
        std::fs::write(&path, config).expect("a config file");
        let path = path.display().to_string();
        let mut args = vec!["--config", path.as_str(), "--bind", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let (status, stderr) = SlaHttp::refused(name, &args);
        assert_eq!(status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&path), "{name} names the file: {stderr}");
        stderr
    };
    let demo = ["--demo"];
    let cases: [(&str, &str, &str); 5] = [
        (
            "alerts-objective",
            "[[alert]]\nname = \"sl\"\nservice_level_below = 80\nobjective = \"contract\"\n",
            "alert 'sl': objective 'contract' is not measured (the objectives are '20s', 'configured')",
        ),
        (
            "alerts-target",
            "[[alert]]\nname = \"sl\"\nservice_level_below = \"target\"\nobjective = \"20s\"\n",
            "objective '20s' has no target",
        ),
        (
            "alerts-queue",
            "[[alert]]\nname = \"typo\"\nqueues = [\"Suport\"]\nlongest_wait_above = \"2m\"\n",
            "alert 'typo' names queue 'Suport', which does not exist (see `sla queues`)",
        ),
        (
            "alerts-env",
            "[[alert]]\nname = \"w\"\nlongest_wait_above = \"2m\"\nwebhooks = [\"ops\"]\n\n\
             [[webhook]]\nname = \"ops\"\nurl_env = \"SLA_E2E_NOT_SET\"\n",
            "webhook 'ops': the environment variable SLA_E2E_NOT_SET is not set",
        ),
        (
            "alerts-field",
            "[[alert]]\nname = \"w\"\nlongest_wait_above = \"2m\"\nfro = \"1m\"\n",
            "alert 'w': unknown field `fro`",
        ),
    ];
    for (name, config, message) in cases {
        let stderr = refused(name, config, &demo);
        assert!(stderr.contains(message), "{name}: {stderr}");
    }

    // Without watched queues the rules would watch nothing.
    let sim = TestSim::start(SimConfig {
        queues: 2,
        days: 1,
        visits_per_day: 20,
        ..SimConfig::default()
    });
    let path = scratch_dir("alerts-unwatched-config").join("sla.toml");
    std::fs::write(
        &path,
        "[[alert]]\nname = \"w\"\nlongest_wait_above = \"2m\"\n",
    )
    .expect("a config file");
    let credentials = sim.server().config();
    let (status, stderr) = SlaHttp::refused_with(
        "alerts-unwatched",
        &[
            "--api-base",
            sim.base_url(),
            "--config",
            &path.display().to_string(),
        ],
        &[
            (
                "GENESYSCLOUD_OAUTHCLIENT_ID",
                credentials.client_id.as_str(),
            ),
            (
                "GENESYSCLOUD_OAUTHCLIENT_SECRET",
                credentials.client_secret.as_str(),
            ),
        ],
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the alert rules have nothing to watch"),
        "{stderr}"
    );
}
