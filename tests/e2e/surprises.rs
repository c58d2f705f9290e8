//! What used to surprise a new user: each is now an error naming the problem, or a warning on
//! stderr, and `--fail-below` says what fell short.

use e2e::{TestSim, assert_exit_saying, command, scratch_dir, sla_command, stderr, stdout};

/// The fixed dataset's week of 23 March 2026 by day, every queue, at 20 s.
const DAYS: &[&str] = &[
    "report", "--all-queues", "--from", "2026-03-23", "--to", "2026-03-29", "--tz", "UTC",
    "--granularity", "day",
];

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

/// The lowest percent among the queue rows of a JSON report, and among their intervals.
fn lowest(report: &serde_json::Value) -> (f64, f64) {
    let percents = |rows: Vec<&serde_json::Value>| {
        rows.iter()
            .filter_map(|r| r["service_levels"][0]["percent"].as_f64())
            .fold(f64::INFINITY, f64::min)
    };
    let queues: Vec<&serde_json::Value> = report["queues"].as_array().unwrap().iter().collect();
    let intervals = queues
        .iter()
        .flat_map(|q| q["intervals"].as_array().unwrap())
        .collect();
    (percents(queues), percents(intervals))
}

#[test]
fn fail_below_names_what_fell_short_and_can_count_intervals() {
    let sim = TestSim::shared();
    let json = sim.sla(&with(DAYS, &["--format", "json"]));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let (row, interval) = lowest(&report);
    assert!(interval < row, "some day is worse than its week");
    // A bar between the worst day and the worst week passes the rows, fails an interval.
    let bar = format!("{:.2}", f64::midpoint(row, interval));
    let rows_only = sim.sla(&with(DAYS, &["--fail-below", &bar]));
    assert_eq!(rows_only.status.code(), Some(0), "{}", stderr(&rows_only));
    assert!(stderr(&rows_only).is_empty(), "{}", stderr(&rows_only));
    let intervals = sim.sla(&with(DAYS, &["--fail-below", &bar, "--fail-intervals"]));
    assert_eq!(intervals.status.code(), Some(3), "{}", stderr(&intervals));
    assert!(
        stdout(&intervals).contains("TOTAL"),
        "the report is written"
    );
    let said = stderr(&intervals);
    assert!(said.starts_with("below --fail-below: "), "{said}");
    assert!(
        said.contains(&format!("{interval:.2} % is below {bar} %")),
        "{said}"
    );
    assert!(said.contains(" from 2026-03-2"), "names the day: {said}");

    // `target`: each objective against its own target; one without a target is not checked.
    let dir = scratch_dir("fail-below-target");
    let config = dir.join("sla.toml");
    std::fs::write(
        &config,
        "[[objective]]\nname = \"stretch\"\nthreshold = \"20s\"\ntarget = 99.9\nqueues = [\"Sales\"]\n\
         [[objective]]\nname = \"untargeted\"\nthreshold = \"1s\"\n",
    )
    .unwrap();
    let target = sim.sla(&with(
        DAYS,
        &[
            "--config",
            config.to_str().unwrap(),
            "--fail-below",
            "target",
        ],
    ));
    let said = stderr(&target);
    assert_eq!(target.status.code(), Some(3), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("below --fail-below: Sales, objective stretch: "),
        "{said}"
    );
    assert!(said.trim_end().ends_with("is below 99.90 %"), "{said}");
}

#[test]
fn demo_flags_that_would_be_ignored_are_named() {
    let output = sla_command(&["queues", "--demo", "--region", "eu-west-1"])
        .output()
        .unwrap();
    assert_exit_saying(&output, 0, "ignores --region (GENESYSCLOUD_REGION)");
}

#[test]
fn credentials_without_a_region_are_refused_rather_than_sent_to_the_us() {
    let output = sla_command(&["queues"])
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", "id")
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret")
        .output()
        .unwrap();
    assert_exit_saying(&output, 2, "no region: set --region or GENESYSCLOUD_REGION");
}

#[test]
fn a_malformed_env_file_is_named_by_line_without_echoing_it() {
    let dir = scratch_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        "GENESYSCLOUD_REGION=eu-west-1\nGENESYSCLOUD_OAUTHCLIENT_SECRET=very secret words\n",
    )
    .unwrap();
    let output = command("sla", &["queues"], &dir).output().unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("cannot read .env: line 2"), "{said}");
    assert!(!said.contains("secret words"), "{said}");
}

#[test]
fn a_window_after_now_is_reported_with_a_warning() {
    let output = sla_command(&[
        "report", "--demo", "--from", "2099-01-01", "--to", "2099-01-02",
    ])
    .output()
    .unwrap();
    assert_exit_saying(&output, 0, "after now: every count will be zero");
}

#[test]
fn debug_logs_are_not_drowned_by_the_http_plumbing() {
    let output = sla_command(&["queues", "--demo"])
        .env("SLA_LOG", "debug")
        .output()
        .unwrap();
    let said = stderr(&output);
    assert!(said.contains("genesys_adapter"), "{said}");
    for plumbing in ["hyper_util", "reqwest::", "h2::"] {
        assert!(!said.contains(plumbing), "{plumbing} in:\n{said}");
    }
}

#[test]
fn help_wraps_and_shows_no_dangling_environment_values() {
    for command in [
        ["report", "--help"],
        ["queues", "--help"],
        ["breaches", "--help"],
    ] {
        let output = sla_command(&command).output().unwrap();
        let help = stdout(&output);
        assert_eq!(output.status.code(), Some(0));
        assert!(!help.contains("=]"), "{help}");
        let widest = help.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 100, "{command:?} help is {widest} columns wide");
        assert!(help.contains("Examples:"), "{command:?} has examples");
    }
}

/// The demo org is on loopback: the budget meant for Genesys does not pace it, so a details
/// demo of hundreds of requests runs without waiting.
#[test]
fn the_demo_is_not_paced_by_the_genesys_budget() {
    let output = sla_command(&["report", "--demo", "--source", "details"])
        .env("SLA_LOG", "genesys_adapter=debug")
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    let requests = said.matches("genesys request").count();
    assert!(
        requests > 240,
        "{requests} requests: more than a minute's budget"
    );
    assert!(!said.contains("rate limit reached"), "{said}");
}

#[test]
fn a_runaway_queue_name_is_a_usage_error_that_is_not_echoed_whole() {
    let long = "x".repeat(100_000);
    for args in [
        vec!["report", "--demo", "--queue", &long],
        vec!["report", "--demo", "--queue-name", &long],
        vec!["now", "--demo", "--queue", &long],
        vec!["queues", "--demo", "--name", &long],
    ] {
        let output = sla_command(&args).output().unwrap();
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {said:.300}", args[0]);
        assert!(
            said.contains("a queue name of 100000 characters"),
            "{said:.300}"
        );
        assert!(said.len() < 300, "{} bytes on stderr", said.len());
    }
}

#[test]
fn a_login_host_that_refuses_connections_is_named_after_two_attempts() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let output = sla_command(&["queues", "--api-base", &base])
        .env("GENESYSCLOUD_REGION", "mypurecloud.ie")
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", "id")
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret")
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("after 2 attempts"), "{said}");
    assert!(
        said.contains("POST /oauth/token failed: cannot reach the login host"),
        "{said}"
    );
    assert!(!said.contains("secret"), "{said}");
}

/// A child killed on the way out, so that a hung run fails its test rather than holding the
/// harness's output open.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// On a terminal the progress bars draw on stderr from the runtime's worker threads while the
/// run writes its report: neither may wait on the other for good, and a report that reads no
/// conversation details shows no bar. Run under `script`, which gives it a terminal.
#[test]
fn a_report_on_a_terminal_finishes_without_a_progress_bar() {
    let dir = scratch_dir("terminal");
    let typescript = dir.join("typescript");
    let line = format!(
        "{} report --demo --period last-2h --tz UTC",
        e2e::bin("sla").display()
    );
    let child = std::process::Command::new("script")
        .args(["-qec", &line])
        .arg(&typescript)
        .current_dir(&dir)
        .env_remove("GENESYSCLOUD_OAUTHCLIENT_ID")
        .env_remove("GENESYSCLOUD_OAUTHCLIENT_SECRET")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("script runs (util-linux)");
    let mut child = KillOnDrop(child);
    let status = e2e::poll(
        "sla report on a terminal",
        std::time::Duration::from_mins(1),
        || child.0.try_wait().expect("the child can be waited for"),
    );
    assert!(status.success(), "{status}");
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(screen.contains("TOTAL"), "{screen}");
    assert!(!screen.contains("conversation details"), "{screen}");
}
