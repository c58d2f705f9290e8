//! A bounded load test of `sla-http` on loopback: 20,000 cold requests over 64 connections,
//! mixing 10 queries. No 5xx, every body equal to `sla report --format json` for its query, and
//! one upstream aggregates request per query (each fits one chunk).

use std::sync::Arc;

use e2e::http::SlaHttp;
use e2e::{TestSim, fixed_config, stderr, stdout};

const REQUESTS: usize = 20_000;
const CONNECTIONS: usize = 64;
const AGGREGATES: &str = "POST /api/v2/analytics/conversations/aggregates/query";

/// Ten distinct closed windows of at most a week (one chunk each), as HTTP parameters and as
/// the same CLI flags.
fn queries() -> Vec<(String, Vec<String>)> {
    let shapes: [(&str, &str); 10] = [
        (
            "all_queues=true&from=2026-03-23&to=2026-03-29&tz=UTC",
            "--all-queues --from 2026-03-23 --to 2026-03-29 --tz UTC",
        ),
        (
            "queue=Sales&from=2026-03-23&to=2026-03-29&tz=UTC&threshold=30s",
            "--queue Sales --from 2026-03-23 --to 2026-03-29 --tz UTC --threshold 30s",
        ),
        (
            "queue=Support&from=2026-03-16&to=2026-03-22&tz=Europe/London&granularity=day",
            "--queue Support --from 2026-03-16 --to 2026-03-22 --tz Europe/London --granularity day",
        ),
        (
            "queue_name=Sales*&from=2026-03-10&to=2026-03-12&tz=UTC&granularity=hour&abandons=against",
            "--queue-name Sales* --from 2026-03-10 --to 2026-03-12 --tz UTC --granularity hour --abandons against",
        ),
        (
            "all_queues=true&from=2026-03-25&to=2026-03-25&tz=UTC&granularity=30m&threshold=configured",
            "--all-queues --from 2026-03-25 --to 2026-03-25 --tz UTC --granularity 30m --threshold configured",
        ),
        (
            "queue=Billing&from=2026-03-27&to=2026-03-31&tz=Europe/London&granularity=day&short_abandon=5s",
            "--queue Billing --from 2026-03-27 --to 2026-03-31 --tz Europe/London --granularity day --short-abandon 5s",
        ),
        (
            "queue=Claims&from=2026-03-20&to=2026-03-21&tz=UTC&by_media=true",
            "--queue Claims --from 2026-03-20 --to 2026-03-21 --tz UTC --by-media",
        ),
        (
            "all_queues=true&from=2026-03-09&to=2026-03-15&tz=UTC&abandons=for&flowouts=against",
            "--all-queues --from 2026-03-09 --to 2026-03-15 --tz UTC --abandons for --flowouts against",
        ),
        (
            "queue=Retention&media=voice&from=2026-03-18&to=2026-03-19&tz=UTC&threshold=20s&threshold=60s",
            "--queue Retention --media voice --from 2026-03-18 --to 2026-03-19 --tz UTC --threshold 20s --threshold 60s",
        ),
        (
            "queue=Onboarding&from=2026-03-08T06:00:00Z&to=2026-03-08T18:00:00Z&tz=UTC&granularity=hour&abandons=after-threshold",
            "--queue Onboarding --from 2026-03-08T06:00:00Z --to 2026-03-08T18:00:00Z --tz UTC --granularity hour --abandons after-threshold",
        ),
    ];
    shapes
        .iter()
        .map(|(http, cli)| {
            (
                format!("/api/v1/report?{http}"),
                cli.split(' ').map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// Sends [`REQUESTS`] GETs over [`CONNECTIONS`] kept-alive connections, cycling through
/// `paths`; returns (path index, status, body) for each.
fn load(base: &str, paths: Vec<String>) -> Vec<(usize, u16, String)> {
    let base = base.to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let paths = Arc::new(paths);
        let mut tasks = Vec::new();
        for worker in 0..CONNECTIONS {
            let (client, paths, base) = (client.clone(), Arc::clone(&paths), base.clone());
            tasks.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in (worker..REQUESTS).step_by(CONNECTIONS) {
                    let query = i % paths.len();
                    let reply = client
                        .get(format!("{base}{}", paths[query]))
                        .send()
                        .await
                        .unwrap();
                    let status = reply.status().as_u16();
                    let body = reply.text().await.unwrap();
                    seen.push((query, status, body));
                }
                seen
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    })
}

#[test]
fn twenty_thousand_cold_requests_share_one_fetch_per_query() {
    let sim = TestSim::start(fixed_config());
    let config = sim.server().config().clone();
    let env = [
        ("GENESYSCLOUD_API_BASE", sim.base_url()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", config.client_id.as_str()),
        (
            "GENESYSCLOUD_OAUTHCLIENT_SECRET",
            config.client_secret.as_str(),
        ),
    ];
    let service = SlaHttp::start(
        "load",
        &[
            "--bind",
            "127.0.0.1:0",
            "--queue",
            "Sales",
            "--tz",
            "UTC",
            // Nothing but the load may ask for aggregates: today's report and the live
            // rolling window are re-read hourly, not inside the few seconds the load takes.
            "--refresh-interval",
            "1h",
            "--live-recount-interval",
            "1h",
            "--max-requests-per-minute",
            "100000",
        ],
        &env,
    );
    // The watched queue's first refresh makes its own requests; count from when it is done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while service.get("/readyz").status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "sla-http never became ready:\n{}",
            service.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = sim
        .server()
        .requests_by_path()
        .get(AGGREGATES)
        .copied()
        .unwrap_or(0);

    let queries = queries();
    let paths: Vec<String> = queries.iter().map(|(p, _)| p.clone()).collect();
    let results = load(service.base_url(), paths);
    assert_eq!(results.len(), REQUESTS);

    let aggregates = || {
        sim.server()
            .requests_by_path()
            .get(AGGREGATES)
            .copied()
            .unwrap_or(0)
    };
    let during_load = aggregates() - before;
    // Each CLI run starts cold, so together they make the fewest requests the ten queries need:
    // one per chunk and view part of each.
    let before_cli = aggregates();
    let references: Vec<String> = queries
        .iter()
        .map(|(_, cli)| {
            let mut args = vec!["report", "--format", "json"];
            args.extend(cli.iter().map(String::as_str));
            let output = sim.sla(&args);
            assert!(output.status.success(), "sla {args:?}: {}", stderr(&output));
            stdout(&output)
        })
        .collect();
    let fewest = aggregates() - before_cli;
    // Every answer to a query must be byte-identical to the first; that first one must equal
    // the CLI's report as JSON (the two print it with different whitespace).
    let mut first: Vec<Option<&str>> = vec![None; queries.len()];
    for (query, status, body) in &results {
        assert!(
            *status < 500,
            "a {status} for {}: {body}",
            queries[*query].0
        );
        assert_eq!(*status, 200, "{}: {body}", queries[*query].0);
        let seen = *first[*query].get_or_insert(body);
        assert!(
            seen == body,
            "two different bodies for {}",
            queries[*query].0
        );
    }
    for (query, body) in first.iter().enumerate() {
        let got: serde_json::Value = serde_json::from_str(body.unwrap()).unwrap();
        let want: serde_json::Value = serde_json::from_str(&references[query]).unwrap();
        assert!(
            got == want,
            "sla-http and sla disagree on {}",
            queries[query].0
        );
    }
    assert!(fewest >= queries.len() as u64);
    assert!(
        during_load <= fewest,
        "{during_load} upstream aggregates requests under load, where the queries need {fewest}"
    );
}
