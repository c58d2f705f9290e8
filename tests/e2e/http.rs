//! `sla-http` as built, against its own demo org: the API gives what `sla report` gives, the
//! metrics parse and cover every watched queue, the dashboard renders in headless Chromium, a
//! token guards the API and the dashboard, and SIGTERM stops the server cleanly.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use e2e::http::{SlaHttp, run_chromium};
use e2e::{bin_dir, command, scratch_dir};
use serde_json::Value;

/// The UTC date `days_ago` days before today, as `YYYY-MM-DD`. The demo org holds the 30 days
/// ending today (UTC), so dates within that span have data in every run.
fn utc_date(days_ago: i64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    civil_date(i64::try_from(secs / 86_400).expect("days fit") - days_ago)
}

/// The date `days` days after 1970-01-01 (Howard Hinnant's civil-from-days).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[test]
fn civil_dates_are_computed_right() {
    for (days, date) in [
        (0, "1970-01-01"),
        (-1, "1969-12-31"),
        (11_017, "2000-03-01"),
        (19_782, "2024-02-29"),
        (20_786, "2026-11-29"),
    ] {
        assert_eq!(civil_date(days), date);
    }
}

/// `sla report --demo ... --format json` with the same query.
fn sla_report_json(args: &[&str]) -> String {
    let dir = scratch_dir("cli-cwd");
    let mut all = vec!["report", "--demo", "--format", "json"];
    all.extend_from_slice(args);
    let output = command("sla", &all, &dir).output().expect("sla runs");
    assert!(
        output.status.success(),
        "sla {all:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn the_api_reports_what_sla_report_prints_for_the_same_query() {
    let server = SlaHttp::start("same-report", &["--demo", "--bind", "127.0.0.1:0"], &[]);
    let (from, to, day) = (utc_date(12), utc_date(6), utc_date(3));
    let cases: [(String, Vec<&str>); 3] = [
        (
            format!(
                "/api/v1/report?all_queues=true&from={from}&to={to}&tz=UTC&granularity=day\
                 &threshold=20s&threshold=configured"
            ),
            vec![
                "--all-queues", "--from", &from, "--to", &to, "--tz", "UTC", "--granularity",
                "day", "--threshold", "20s", "--threshold", "configured",
            ],
        ),
        (
            format!(
                "/api/v1/report?queue_name=Sales*&from={from}&to={to}&tz=UTC&by_media=true\
                 &abandons=against&short_abandon=5s&flowouts=against&threshold=45s"
            ),
            vec![
                "--queue-name", "Sales*", "--from", &from, "--to", &to, "--tz", "UTC",
                "--by-media", "--abandons", "against", "--short-abandon", "5s", "--flowouts",
                "against", "--threshold", "45s",
            ],
        ),
        (
            format!(
                "/api/v1/report?queue=Support&from={day}&to={day}&tz=UTC&granularity=hour\
                 &threshold=20s&source=details"
            ),
            vec![
                "--queue", "Support", "--from", &day, "--to", &day, "--tz", "UTC", "--granularity",
                "hour", "--threshold", "20s", "--source", "details",
            ],
        ),
    ];
    for (path, args) in &cases {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let cli = sla_report_json(args);
        assert_eq!(reply.body, cli, "{path}: the API and the CLI differ");
        let report = reply.json();
        assert_eq!(report["schema"], "sla-report/v1");
        assert!(!report["queues"].as_array().expect("queues").is_empty());
        assert!(report["total"]["counts"]["offered"].as_u64() > Some(0));
    }
    // The listing is the CLI's JSON listing too.
    let queues = server.get("/api/v1/queues");
    assert_eq!(queues.status, 200);
    let dir = scratch_dir("cli-queues");
    let output = command("sla", &["queues", "--demo", "--format", "json"], &dir)
        .output()
        .expect("sla runs");
    assert_eq!(queues.body, String::from_utf8_lossy(&output.stdout));
}

/// The samples of an exposition by series (`name{labels}`), after checking each line is a
/// comment or `series value`.
fn samples(exposition: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in exposition.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line:?}"));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "twice: {series}"
        );
    }
    samples
}

/// The demo queues as `/api/v1/queues` lists them: (id, name).
fn demo_queues(server: &SlaHttp) -> Vec<(String, String)> {
    let listing = server.get("/api/v1/queues").json();
    listing["queues"]
        .as_array()
        .expect("a queue list")
        .iter()
        .map(|q| {
            (
                q["queue_id"].as_str().expect("an id").to_owned(),
                q["queue_name"].as_str().expect("a name").to_owned(),
            )
        })
        .collect()
}

#[test]
fn metrics_cover_every_watched_queue_and_count_upstream_requests() {
    let server = SlaHttp::start(
        "metrics",
        &["--demo", "--bind", "127.0.0.1:0", "--tz", "UTC"],
        &[],
    );
    // The dashboard waits for the first refresh; after it, the service is ready.
    assert_eq!(server.get("/").status, 200);
    let ready = server.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);

    let reply = server.get("/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let samples = samples(&reply.body);
    let queues = demo_queues(&server);
    assert_eq!(queues.len(), 8, "the demo org's queues");
    for (id, name) in &queues {
        for objective in ["20s", "configured"] {
            let labels =
                format!("{{queue_id=\"{id}\",queue=\"{name}\",objective=\"{objective}\"}}");
            assert!(
                samples.contains_key(&format!("sla_denominator{labels}")),
                "{name} {objective}"
            );
        }
        let offered = format!("sla_offered{{queue_id=\"{id}\",queue=\"{name}\"}}");
        assert!(samples.contains_key(&offered), "{name}");
    }
    let upstream: f64 = samples
        .iter()
        .filter(|(series, _)| series.starts_with("sla_upstream_requests_total{status=\"200\"}"))
        .map(|(_, v)| *v)
        .sum();
    assert!(upstream >= 2.0, "a token and a query at least: {upstream}");
    assert!(samples.contains_key("sla_last_refresh_timestamp_seconds"));
    assert_eq!(samples.get("sla_last_refresh_success"), Some(&1.0));
}

#[test]
fn the_dashboard_renders_every_watched_queue_in_headless_chromium() {
    // Voice only: no queue's media types then have different configured targets, so no card is
    // split by media type and each shows its queue's figures, as /metrics has them.
    let server = SlaHttp::start(
        "dashboard",
        &[
            "--demo", "--bind", "127.0.0.1:0", "--tz", "UTC", "--media", "voice",
        ],
        &[],
    );
    // Loads the page once first: it waits for the first refresh, so the browser sees figures.
    assert_eq!(server.get("/").status, 200);
    let url = format!("{}/", server.base_url());
    let dom = run_chromium(&scratch_dir("chromium-dom"), &["--dump-dom"], &url);
    assert!(dom.contains("Service levels"), "{dom}");

    let samples = samples(&server.get("/metrics").body);
    let queues = demo_queues(&server);
    for (id, name) in &queues {
        let start = dom
            .find(&format!("data-queue-id=\"{id}\""))
            .unwrap_or_else(|| panic!("no card for {name}"));
        let card = &dom[start..];
        let card = &card[..card.find("</section>").expect("the card ends")];
        assert!(card.contains(&format!(">{name}</h2>")), "{name}'s heading");
        for objective in ["20s", "configured"] {
            let series = format!(
                "sla_service_level_percent{{queue_id=\"{id}\",queue=\"{name}\",objective=\"{objective}\"}}"
            );
            let at = card
                .find(&format!("data-objective=\"{objective}\""))
                .unwrap_or_else(|| panic!("{name} shows no {objective}"));
            let shown = match samples.get(&series) {
                Some(p) => format!("data-percent=\"{p}\">{p:.1}%</div>"),
                None => "data-percent=\"\">n/a</div>".to_owned(),
            };
            assert!(
                card[at..].contains(&shown),
                "{name} {objective}: {shown} not in\n{card}"
            );
        }
    }

    // A picture for people: target/dashboard.png.
    let target = bin_dir()
        .parent()
        .expect("the target directory")
        .join("dashboard.png");
    let _ = std::fs::remove_file(&target);
    run_chromium(
        &scratch_dir("chromium-shot"),
        &[
            &format!("--screenshot={}", target.display()),
            "--window-size=1600,1000",
        ],
        &url,
    );
    let png = std::fs::read(&target).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    assert!(
        png.len() > 20_000,
        "a screenshot with content: {} bytes",
        png.len()
    );
}

#[test]
fn a_token_guards_the_api_and_the_dashboard_and_sigterm_stops_cleanly() {
    let token = "e2e-Secret-Token-0123";
    let mut server = SlaHttp::start(
        "token",
        &["--demo", "--bind", "127.0.0.1:0"],
        &[("SLA_HTTP_TOKEN", token)],
    );
    let path = "/api/v1/report?period=yesterday&tz=UTC";
    let missing = server.get(path);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["code"], "unauthorized");
    let wrong = server.get_with(path, &[("Authorization", "Bearer e2e-Secret-Token-0124")]);
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {token}");
    let right = server.get_with(path, &[("Authorization", &bearer)]);
    assert_eq!(right.status, 200, "{}", right.body);
    let report: Value = right.json();
    assert_eq!(report["queues"].as_array().map(Vec::len), Some(8));

    let page = server.get("/");
    assert_eq!(page.status, 401);
    assert_eq!(
        page.header("www-authenticate"),
        Some("Basic realm=\"sla\", charset=\"UTF-8\"")
    );
    // "wallboard:e2e-Secret-Token-0123" in base64.
    let basic = "Basic d2FsbGJvYXJkOmUyZS1TZWNyZXQtVG9rZW4tMDEyMw==";
    assert_eq!(
        server.get_with("/", &[("Authorization", basic)]).status,
        200
    );
    for open in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(server.get(open).status, 200, "{open}");
    }

    let status = server.terminate();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let log = server.log();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(!log.contains(token), "the token leaked into the log");
}

/// An objective naming a queue the org does not have: `sla report` and `sla-http` refuse it the
/// same way (exit 2, one message), and so does the API for objectives sent with a request.
#[test]
fn a_missing_objective_queue_is_refused_alike_by_both_binaries_and_the_api() {
    let dir = scratch_dir("missing-objective-queue");
    let config = dir.join("sla.toml");
    let salez = "[[objective]]\nname = \"contract\"\nthreshold = \"30s\"\nqueues = [\"Salez\"]\n";
    std::fs::write(&config, salez).expect("a config file");
    let config = config.to_str().expect("a UTF-8 path");

    let cli = command(
        "sla",
        &["report", "--demo", "--all-queues", "--config", config],
        &dir,
    )
    .output()
    .expect("sla runs");
    let cli_error = String::from_utf8_lossy(&cli.stderr).into_owned();
    assert_eq!(cli.status.code(), Some(2), "{cli_error}");
    assert!(
        cli_error.contains("objective 'contract' names queue 'Salez', which does not exist"),
        "{cli_error}"
    );

    let (status, service_error) = SlaHttp::refused(
        "missing-objective-queue-http",
        &[
            "--demo", "--all-queues", "--config", config, "--bind", "127.0.0.1:0",
        ],
    );
    assert_eq!(status.code(), Some(2), "{service_error}");
    let last_line = |text: &str| {
        text.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(last_line(&service_error), last_line(&cli_error));

    // A watched queue that does not exist is refused at start too, not left unready for ever.
    let (status, nope) = SlaHttp::refused(
        "missing-watched-queue-http",
        &["--demo", "--queue", "Nope", "--bind", "127.0.0.1:0"],
    );
    assert_eq!(status.code(), Some(2), "{nope}");
    assert!(nope.contains("unknown queue 'Nope'"), "{nope}");

    let server = SlaHttp::start("objectives-api", &["--demo", "--bind", "127.0.0.1:0"], &[]);
    let query = format!(
        "/api/v1/report?queue=Sales&from={}&to={}&tz=UTC",
        utc_date(3),
        utc_date(1)
    );
    let reply = server.post(&query, salez);
    assert_eq!(reply.status, 400, "{}", reply.body);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "unknown_queue");
    assert_eq!(
        error["message"],
        "objective 'contract' names queue 'Salez', which does not exist (see /api/v1/queues)"
    );

    // The same objectives naming a real queue give what `sla report --config` prints.
    let real = salez.replace("Salez", "Sales");
    std::fs::write(dir.join("sales.toml"), &real).expect("a config file");
    let reply = server.post(&query, &real);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sales_config = dir.join("sales.toml");
    let expect = sla_report_json(&[
        "--queue",
        "Sales",
        "--from",
        &utc_date(3),
        "--to",
        &utc_date(1),
        "--tz",
        "UTC",
        "--config",
        sales_config.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(reply.body, expect);
}
