//! The fault matrix: `sla report` against simulators that throttle, fail, expire tokens and lag
//! gives the same JSON as a fault-free run, or fails clearly and promptly.

use std::process::Stdio;
use std::time::{Duration, Instant};

use e2e::{TestSim, fixed_config, scratch_dir, stderr, stdout, succeeded};
use genesys_sim::SimConfig;

/// A month of the fixed dataset: five weekly chunks, a dozen views over two queries each, so
/// that a run makes enough requests for the faults to bite.
const MONTH: &[&str] = &[
    "report", "--all-queues", "--from", "2026-03-07", "--to", "2026-04-05", "--tz",
    "Europe/London", "--granularity", "day", "--threshold", "20s", "--threshold", "configured",
    "--abandons", "against", "--short-abandon", "5s", "--format", "json",
];

#[track_caller]
fn report(sim: &TestSim) -> String {
    // Under a storm where more than half the attempts fail, eight attempts would leave one
    // request in a hundred or so without an answer; twenty leave none in practice.
    let mut args = MONTH.to_vec();
    args.extend(["--max-attempts", "20"]);
    succeeded(&sim.sla(&args), "sla report")
}

/// Runs the month under `faults` and checks the JSON equals the fault-free run's; returns the
/// simulator so that tests can check the faults really happened.
#[track_caller]
fn same_as_fault_free(faults: SimConfig) -> TestSim {
    let reference = report(TestSim::shared());
    let sim = TestSim::start(faults);
    let under_faults = report(&sim);
    assert!(!reference.is_empty());
    assert!(
        under_faults == reference,
        "a run under faults differs from the fault-free run"
    );
    sim
}

#[track_caller]
fn answered(sim: &TestSim, status: u16) -> u64 {
    sim.server()
        .responses_by_status()
        .get(&status)
        .copied()
        .unwrap_or(0)
}

#[test]
fn half_the_requests_throttled_with_retry_after_1() {
    let sim_faults = SimConfig {
        throttle_rate: 0.5,
        retry_after_s: 1,
        ..fixed_config()
    };
    let sim = same_as_fault_free(sim_faults);
    assert!(answered(&sim, 429) > 0);
}

#[test]
fn ten_percent_server_errors() {
    let sim = same_as_fault_free(SimConfig {
        fail_rate: 0.1,
        ..fixed_config()
    });
    assert!(answered(&sim, 503) + answered(&sim, 500) > 0);
}

#[test]
fn two_second_tokens() {
    same_as_fault_free(SimConfig {
        token_ttl_s: 2,
        ..fixed_config()
    });
}

#[test]
fn two_hundred_ms_latency() {
    same_as_fault_free(SimConfig {
        latency_ms: 200,
        ..fixed_config()
    });
}

#[test]
fn every_fault_at_once() {
    let sim = same_as_fault_free(SimConfig {
        throttle_rate: 0.5,
        retry_after_s: 1,
        fail_rate: 0.1,
        token_ttl_s: 2,
        latency_ms: 200,
        ..fixed_config()
    });
    assert!(answered(&sim, 429) > 0);
    // The run outlasts a 2 s token, so the client renewed it on the way.
    assert!(
        sim.server().token_requests() >= 2,
        "tokens: {}",
        sim.server().token_requests()
    );
}

#[test]
fn a_retry_after_beyond_180_s_fails_at_once_with_a_clear_message() {
    let sim = TestSim::start(SimConfig {
        throttle_rate: 1.0,
        retry_after_s: 600,
        ..fixed_config()
    });
    let started = Instant::now();
    let output = sim.sla(MONTH);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // Waiting 600 s is what must not happen; anything near it would fail here.
    assert!(started.elapsed() < Duration::from_mins(1));
    let message = stderr(&output);
    assert!(
        message.contains("600"),
        "the message should give the wait asked for: {message}"
    );
    assert!(
        message.contains("429"),
        "the message should give the status: {message}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_simulator_that_dies_mid_run_gives_exit_1_and_no_file() {
    let mut sim = TestSim::start(SimConfig {
        latency_ms: 1_000,
        ..fixed_config()
    });
    let dir = scratch_dir("killed");
    let out = dir.join("report.json");
    let config = sim.server().config().clone();
    let mut args = MONTH.to_vec();
    args.extend(["--out", out.to_str().unwrap(), "--max-attempts", "2"]);
    let child = e2e::sla_command(&args)
        .env("GENESYSCLOUD_API_BASE", sim.base_url())
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", &config.client_id)
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &config.client_secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the simulator once the run is under way: its first API request has arrived.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.server().api_requests() == 0 {
        assert!(
            Instant::now() < deadline,
            "the run never reached the simulator"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sim.stop();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.lines().any(|l| l.starts_with("error: ")),
        "{message}"
    );
    assert!(
        message.contains("attempts"),
        "the message should say what was tried: {message}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(
        left.is_empty(),
        "no file, partial or temporary, is left: {left:?}"
    );
}
