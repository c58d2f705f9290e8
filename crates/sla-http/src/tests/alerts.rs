//! Alerts in the service: rules evaluated on every live refresh, failed ones included, and by
//! the watchdog when refreshes hang; `GET /api/v1/alerts` (behind the token, valid against
//! `sla-alerts/v1`); `sla_alerts` and `sla_alert_notifications_total` in `/metrics`; events
//! posted to a webhook on 127.0.0.1; and the check of the queues the rules name.

use std::sync::Mutex;

use axum::routing::post;
use sla_core::{AlertRule, parse_service_config};
use tokio::sync::watch as tokio_watch;

use super::*;
use crate::alerts::{Alerts, check_queues};
use crate::live::Poller;
use crate::notify::{Notifier, NotifySettings, Webhook};

/// The rules of a config file's `[[alert]]` tables.
fn rules(toml: &str) -> Vec<AlertRule> {
    parse_service_config(toml).unwrap().alerts
}

/// The alerts of a config file's `[[alert]]` tables, notifying no webhook.
fn alerting(toml: &str) -> Alerts {
    Alerts::new(rules(toml), None)
}

/// A harness with `alerts` over a live source and a clock the test holds, the clock at [`NOW`].
fn stepped(alerts: Alerts) -> (Arc<FixtureLive>, Arc<StepClock>, Harness) {
    let live = Arc::new(FixtureLive::default());
    let clock = StepClock::at(now());
    let h = Built {
        live: Arc::clone(&live) as Arc<dyn LiveSource>,
        clock: Some(Arc::clone(&clock) as Arc<dyn Clock>),
        alerts,
        ..Built::default()
    }
    .build();
    (live, clock, h)
}

/// A clock the test sets by hand.
#[derive(Debug)]
struct StepClock(Mutex<Timestamp>);

impl StepClock {
    fn at(t: Timestamp) -> Arc<StepClock> {
        Arc::new(StepClock(Mutex::new(t)))
    }

    fn advance(&self, secs: i64) {
        let mut now = self.0.lock().unwrap();
        *now += jiff::SignedDuration::from_secs(secs);
    }
}

impl Clock for StepClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// A clock that follows tokio's (paused) clock from [`NOW`].
#[derive(Debug)]
struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.0.elapsed()).unwrap();
        now() + elapsed
    }
}

/// The schema of `GET /api/v1/alerts`, as shipped in `schemas/`.
fn alerts_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/sla-alerts-v1.schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, listing: &Value) {
    if let Err(e) = validator.validate(listing) {
        panic!(
            "the listing breaks sla-alerts/v1 at {}: {e}\n{listing:#}",
            e.instance_path()
        );
    }
}

/// `(rule, state, queue name, media type)` of each listed alert, in order.
fn listed(listing: &Value) -> Vec<(String, String, String, String)> {
    listing["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            (
                text(&a["rule"]),
                text(&a["state"]),
                text(&a["queue_name"]),
                text(&a["media_type"]),
            )
        })
        .collect()
}

fn row(rule: &str, state: &str, queue: &str, media: &str) -> (String, String, String, String) {
    (rule.into(), state.into(), queue.into(), media.into())
}

/// The value of `sla_alerts{rule, state}`.
async fn alerts_gauge(app: &Router, rule: &str, state: &str) -> Option<String> {
    let samples = parse_exposition(&get(app, "/metrics").await.body);
    value(&samples, "sla_alerts", &[("rule", rule), ("state", state)]).map(str::to_owned)
}

#[tokio::test]
async fn rules_are_evaluated_on_a_live_refresh_and_listed_in_the_api_and_metrics() {
    // Support waits 45 s; Sales is split by media (its targets differ): voice waits 10 s, chat
    // 90 s. Both Support and Sales chat have one conversation past 20 s.
    let h = Built {
        alerts: alerting(
            r#"
                [[alert]]
                name = "long-wait"
                longest_wait_above = "30s"

                [[alert]]
                name = "support-slow"
                queues = ["support"]
                longest_wait_above = "30s"
                for = "1m"

                [[alert]]
                name = "past-threshold"
                waiting_over_threshold_above = 0
                objective = "20s"

                [[alert]]
                name = "stale"
                stale_after = "1m"
                "#,
        ),
        ..Built::default()
    }
    .build();
    let validator = alerts_validator();

    // Before any refresh: nothing listed, every rule at zero in /metrics.
    let empty = get(&h.app, "/api/v1/alerts").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(empty.header(header::CACHE_CONTROL), "no-store");
    let listing = empty.json();
    assert_valid(&validator, &listing);
    assert_eq!(listing["schema"], "sla-alerts/v1");
    assert_eq!(listing["as_of"], NOW);
    assert_eq!(listing["alerts"], json!([]));
    for rule in ["long-wait", "support-slow", "past-threshold", "stale"] {
        for state in ["pending", "firing"] {
            assert_eq!(
                alerts_gauge(&h.app, rule, state).await.as_deref(),
                Some("0"),
                "{rule} {state}"
            );
        }
    }

    refresh_all(&h.state).await;
    let listing = get(&h.app, "/api/v1/alerts").await.json();
    assert_valid(&validator, &listing);
    assert_eq!(
        listed(&listing),
        [
            row("long-wait", "firing", "Sales", "chat"),
            row("long-wait", "firing", "Support", "-"),
            row("past-threshold", "firing", "Sales", "chat"),
            row("past-threshold", "firing", "Support", "-"),
            row("support-slow", "pending", "Support", "-"),
        ]
    );
    let support = &listing["alerts"][1];
    assert_eq!(support["queue_id"], SUPPORT);
    assert_eq!(support["value"], 45_000);
    assert_eq!(support["bound"], 30_000);
    assert_eq!(support["unit"], "ms");
    assert_eq!(support["since"], NOW);
    assert_eq!(support["firing_since"], NOW);
    assert_eq!(support["resolved_at"], Value::Null);
    assert_eq!(
        support["summary"], "Support: longest wait 45.0s, bound 30.0s",
        "{support}"
    );
    assert_eq!(listing["alerts"][4]["firing_since"], Value::Null);

    for (rule, state, n) in [
        ("long-wait", "firing", "2"),
        ("long-wait", "pending", "0"),
        ("past-threshold", "firing", "2"),
        ("support-slow", "pending", "1"),
        ("support-slow", "firing", "0"),
        ("stale", "firing", "0"),
    ] {
        assert_eq!(
            alerts_gauge(&h.app, rule, state).await.as_deref(),
            Some(n),
            "{rule} {state}"
        );
    }
    let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
    for outcome in ["sent", "failed", "dropped"] {
        assert_eq!(
            value(
                &samples,
                "sla_alert_notifications_total",
                &[("outcome", outcome)]
            ),
            Some("0"),
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn the_listing_wants_the_apis_token() {
    let h = with_token();
    assert_eq!(
        get(&h.app, "/api/v1/alerts").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_with(&h.app, "/api/v1/alerts", "Bearer wrong")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let reply = get_with(&h.app, "/api/v1/alerts", "Bearer s3cret-token").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["schema"], "sla-alerts/v1");
}

#[tokio::test]
async fn without_rules_the_listing_is_empty_and_metrics_count_no_notification() {
    let h = refreshed().await;
    assert_eq!(
        get(&h.app, "/api/v1/alerts").await.json()["alerts"],
        json!([])
    );
    let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert!(samples.iter().all(|s| s.name != "sla_alerts"));
    assert_eq!(
        value(
            &samples,
            "sla_alert_notifications_total",
            &[("outcome", "sent")]
        ),
        Some("0")
    );
}

#[tokio::test]
async fn a_failed_refresh_is_evaluated_too_so_stale_figures_fire_and_resolve_once_fresh() {
    let (live, clock, h) = stepped(alerting(
        r#"
        [[alert]]
        name = "stale"
        stale_after = "10s"
        resolve_after = "5s"
        "#,
    ));
    let mut poller = Poller::default();
    let states =
        |listing: Value| -> Vec<String> { listed(&listing).into_iter().map(|r| r.1).collect() };

    poller.refresh(&h.state).await;
    live.fail(true);
    clock.advance(5);
    poller.refresh(&h.state).await;
    assert_eq!(
        states(get(&h.app, "/api/v1/alerts").await.json()),
        [] as [&str; 0],
        "5 s old"
    );
    clock.advance(6);
    poller.refresh(&h.state).await;
    let listing = get(&h.app, "/api/v1/alerts").await.json();
    assert_eq!(states(listing.clone()), ["firing"], "11 s old: {listing}");
    assert_eq!(listing["alerts"][0]["value"], 11_000);
    assert_eq!(listing["alerts"][0]["queue_id"], Value::Null);
    assert_valid(&alerts_validator(), &listing);

    // Fresh again: clear, and resolved once clear for 5 s.
    live.fail(false);
    clock.advance(1);
    poller.refresh(&h.state).await;
    assert_eq!(
        states(get(&h.app, "/api/v1/alerts").await.json()),
        ["firing"]
    );
    clock.advance(5);
    poller.refresh(&h.state).await;
    assert_eq!(
        states(get(&h.app, "/api/v1/alerts").await.json()),
        [] as [&str; 0]
    );
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_trips_a_stale_rule_while_the_refresh_hangs() {
    // The first count never answers: the refresh task is stuck, and evaluates nothing.
    let (tallies, h) = counting_in(
        Duration::from_hours(1),
        Built {
            clock: Some(Arc::new(TokioClock(tokio::time::Instant::now()))),
            settings: Settings {
                live_interval: Duration::from_secs(1),
                ..watching()
            },
            alerts: alerting(
                r#"
                [[alert]]
                name = "stale"
                stale_after = "3s"
                "#,
            ),
            ..Built::default()
        },
    );
    let poller = crate::live::spawn(h.state.clone());
    let watchdog = crate::alerts::spawn_watchdog(h.state.clone());
    // The watchdog's first evaluation, at 1 s, starts the clock of "no figures yet"; it
    // evaluates every second after that, since no refresh does.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(tallies.calls(), 1);
    assert!(h.state.live.status().last.is_none());
    assert_eq!(
        alerts_gauge(&h.app, "stale", "firing").await.as_deref(),
        Some("0"),
        "3 s without figures at the evaluation of 4 s"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        alerts_gauge(&h.app, "stale", "firing").await.as_deref(),
        Some("1"),
        "4 s without figures at the evaluation of 5 s"
    );
    let listing = get(&h.app, "/api/v1/alerts").await.json();
    assert_eq!(listing["alerts"][0]["value"], 4_000, "{listing}");
    poller.abort();
    watchdog.abort();
}

/// A receiver on 127.0.0.1 that records each body and its signature header.
async fn receiver() -> (
    String,
    tokio_watch::Receiver<Vec<(Option<String>, Vec<u8>)>>,
) {
    let (tx, rx) = tokio_watch::channel(Vec::new());
    let tx = Arc::new(tx);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = Arc::clone(&tx);
            async move {
                let signature = headers
                    .get(crate::notify::SIGNATURE_HEADER)
                    .map(|v| v.to_str().unwrap().to_owned());
                tx.send_modify(|seen| seen.push((signature, body.to_vec())));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

#[tokio::test]
async fn what_fires_and_resolves_is_posted_to_the_rules_webhooks_and_counted() {
    let (url, mut seen) = receiver().await;
    let config = parse_service_config(&format!(
        r#"
        [[alert]]
        name = "stale"
        stale_after = "10s"
        resolve_after = "2s"
        webhooks = ["ops"]

        [[alert]]
        name = "quiet"
        stale_after = "10s"

        [[webhook]]
        name = "ops"
        url = "{url}"
        secret_env = "OPS_SECRET"
        "#
    ))
    .unwrap();
    let env = |var: &str| (var == "OPS_SECRET").then(|| "hush".to_owned());
    let webhook = Webhook::from_spec(&config.webhooks[0], env).unwrap();
    // The same webhook, to sign what the receiver got as the service signs it.
    let signer = Webhook::from_spec(&config.webhooks[0], env).unwrap();
    let (notifier, sender) = Notifier::start(vec![webhook], NotifySettings::default()).unwrap();
    let (live, clock, h) = stepped(Alerts::new(config.alerts, Some(notifier)));
    let mut poller = Poller::default();
    poller.refresh(&h.state).await;
    live.fail(true);
    clock.advance(11);
    poller.refresh(&h.state).await;
    live.fail(false);
    clock.advance(1);
    poller.refresh(&h.state).await;
    clock.advance(2);
    poller.refresh(&h.state).await;

    let bodies = seen.wait_for(|s| s.len() >= 2).await.unwrap().clone();
    // Only the rule naming the webhook is posted: fired, then resolved, each signed.
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    for ((signature, bytes), event) in bodies.iter().zip(["fired", "resolved"]) {
        let body: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(body["schema"], "sla-alert/v1");
        assert_eq!(body["event"], event);
        assert_eq!(body["alert"]["rule"], "stale");
        assert_eq!(
            body["alert"]["state"],
            if event == "fired" {
                "firing"
            } else {
                "resolved"
            }
        );
        assert!(signature.as_ref().is_some_and(|s| s.starts_with("sha256=")));
        assert_eq!(signature, &signer.signature(bytes));
    }
    let samples = loop {
        let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
        if value(
            &samples,
            "sla_alert_notifications_total",
            &[("outcome", "sent")],
        ) == Some("2")
        {
            break samples;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(
        value(
            &samples,
            "sla_alert_notifications_total",
            &[("outcome", "failed")]
        ),
        Some("0")
    );
    sender.abort();
}

#[tokio::test]
async fn the_queues_rules_name_must_be_watched_or_exist() {
    let directory = directory();
    let watched: Vec<QueueInfo> = fixture_queues()
        .into_iter()
        .filter(|q| q.queue.name != "Sales")
        .collect();
    let check = |toml: &str| {
        let rules = rules(toml);
        let watched = watched.clone();
        let directory = &directory;
        async move {
            check_queues(&rules, &watched, directory)
                .await
                .map_err(|e| e.to_string())
        }
    };
    // Watched, by name in any case or by id; Sales exists though it is not watched.
    for queues in [
        r#"["SUPPORT"]"#,
        &format!(r#"["{LAB}"]"#),
        r#"["sales"]"#,
        &format!(r#"["{SALES}"]"#),
    ] {
        let toml =
            format!("[[alert]]\nname = \"a\"\nqueues = {queues}\nlongest_wait_above = \"1m\"\n");
        assert_eq!(check(&toml).await, Ok(()), "{queues}");
    }
    for (queues, bad) in [
        (r#"["Support", "Suport"]"#, "Suport"),
        (
            r#"["00000000-0000-4000-8000-0000000000ff"]"#,
            "00000000-0000-4000-8000-0000000000ff",
        ),
    ] {
        let toml =
            format!("[[alert]]\nname = \"typo\"\nqueues = {queues}\nlongest_wait_above = \"1m\"\n");
        assert_eq!(
            check(&toml).await,
            Err(format!(
                "invalid config: alert 'typo' names queue '{bad}', which does not exist (see `sla queues`)"
            ))
        );
    }
}

#[test]
fn the_readme_listing_is_valid_sla_alerts() {
    let readme = include_str!("../../../../README.md");
    let section = &readme[readme
        .find("\n### `GET /api/v1/alerts`\n")
        .expect("the listing's section")..];
    let start = section.find("```json\n").expect("a JSON example") + "```json\n".len();
    let end = start
        + section[start..]
            .find("```")
            .expect("the end of the example");
    let listing: Value = serde_json::from_str(&section[start..end]).unwrap();
    assert_valid(&alerts_validator(), &listing);
    assert_eq!(listing["alerts"][0]["state"], "firing");
}
