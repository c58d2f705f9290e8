//! The client secret and access tokens appear nowhere: not in the CLI's or the service's output
//! or logs at trace level, not in HTTP responses, not in error messages.

use std::fmt::Write as _;

use base64::Engine as _;
use e2e::http::SlaHttp;
use e2e::{TestSim, fixed_config, stderr, stdout};
use genesys_sim::SimConfig;

const SECRET: &str = "sla-e2e-SECRET-7f3a9c2e";
const CLIENT_ID: &str = "sla-e2e-client";

fn sim() -> TestSim {
    TestSim::start(SimConfig {
        client_id: CLIENT_ID.to_owned(),
        client_secret: SECRET.to_owned(),
        // Short tokens make the client fetch several, so there is more to leak.
        token_ttl_s: 2,
        ..fixed_config()
    })
}

/// Every form a secret could leak in: as given, and inside an HTTP Basic header.
fn needles(sim: &TestSim) -> Vec<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"));
    let mut needles = vec![SECRET.to_owned(), basic];
    needles.extend(sim.server().issued_tokens());
    needles
}

#[track_caller]
fn assert_clean(what: &str, text: &str, needles: &[String]) {
    for needle in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{what} contains a secret or a token"
        );
    }
}

#[test]
fn the_cli_at_trace_level_shows_no_secret_or_token() {
    let sim = sim();
    let runs: [&[&str]; 3] = [
        &[
            "report", "--all-queues", "--from", "2026-03-01", "--to", "2026-03-31", "--tz", "UTC",
            "--granularity", "day", "--format", "json",
        ],
        &["queues", "--format", "json"],
        &["report", "--queue", "No Such Queue"],
    ];
    let mut outputs = Vec::new();
    for args in runs {
        let output = e2e::sla_command(args)
            .env("SLA_LOG", "trace")
            .env("GENESYSCLOUD_API_BASE", sim.base_url())
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID)
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET)
            .output()
            .unwrap();
        outputs.push((args, output));
    }
    assert!(outputs[0].1.status.success(), "{}", stderr(&outputs[0].1));
    assert!(
        stderr(&outputs[0].1).contains("TRACE") || stderr(&outputs[0].1).contains("DEBUG"),
        "trace logging is on"
    );
    assert!(
        sim.server().issued_tokens().len() >= 2,
        "tokens were issued"
    );
    let needles = needles(&sim);
    for (args, output) in &outputs {
        assert_clean(
            &format!("stdout of sla {args:?}"),
            &stdout(output),
            &needles,
        );
        assert_clean(
            &format!("stderr of sla {args:?}"),
            &stderr(output),
            &needles,
        );
    }
}

#[test]
fn a_refused_secret_is_not_echoed() {
    let sim = sim();
    let wrong = "sla-e2e-WRONG-secret-55aa";
    let output = e2e::sla_command(&["report", "--all-queues"])
        .env("SLA_LOG", "trace")
        .env("GENESYSCLOUD_API_BASE", sim.base_url())
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID)
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", wrong)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("401"), "{}", stderr(&output));
    let mut needles = needles(&sim);
    needles.push(wrong.to_owned());
    assert_clean(
        "sla's output with a wrong secret",
        &format!("{}{}", stdout(&output), stderr(&output)),
        &needles,
    );
}

#[test]
fn the_service_at_trace_level_shows_no_secret_or_token() {
    let sim = sim();
    let env = [
        ("SLA_LOG", "trace"),
        ("RUST_LOG", "trace"),
        ("GENESYSCLOUD_API_BASE", sim.base_url()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", SECRET),
    ];
    let mut service = SlaHttp::start(
        "secrets",
        &[
            "--bind", "127.0.0.1:0", "--all-queues", "--tz", "UTC", "--refresh-interval", "1s",
        ],
        &env,
    );
    let mut bodies = String::new();
    for path in [
        "/api/v1/report?all_queues=true&from=2026-03-01&to=2026-03-31&tz=UTC&granularity=day",
        "/api/v1/queues",
        "/api/v1/report?queue=No%20Such%20Queue",
        "/metrics",
        "/",
        "/readyz",
    ] {
        let reply = service.get(path);
        assert!(
            reply.status < 500 || path == "/readyz",
            "{path}: {}",
            reply.status
        );
        bodies.push_str(&reply.body);
        for (name, value) in &reply.headers {
            let _ = writeln!(bodies, "{name}: {value}");
        }
    }
    service.terminate();
    let log = service.log();
    assert!(!log.is_empty(), "the service logged at trace level");
    let needles = needles(&sim);
    assert!(needles.len() >= 3, "tokens were issued");
    assert_clean("sla-http's responses", &bodies, &needles);
    assert_clean("sla-http's log", &log, &needles);
}
