//! Webhook delivery against a receiver on 127.0.0.1: each body's shape, the signature, retries
//! of a 500 and of a receiver that hangs, a refusal, a full queue, and an enqueue that never
//! waits. Timed tests run on tokio's paused clock.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit as _, Mac as _};
use jiff::Timestamp;
use serde_json::Value;
use sha2::Sha256;
use sla_core::{
    Alert, AlertEvent, AlertEventKind, AlertStatus, AlertUnit, MediaType, WebhookFormat,
    WebhookSpec, WebhookUrl,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::notify::body::body;
use crate::notify::webhook::sign;
use crate::notify::{Notifier, NotifyCounts, NotifySettings, SIGNATURE_HEADER, Webhook, backoff};

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn event(rule: &str, kind: AlertEventKind, webhooks: &[&str]) -> AlertEvent {
    let resolved = kind == AlertEventKind::Resolved;
    AlertEvent {
        kind,
        at: ts("2026-03-10T15:02:00Z"),
        alert: Alert {
            rule: rule.to_owned(),
            state: if resolved {
                AlertStatus::Resolved
            } else {
                AlertStatus::Firing
            },
            condition: "service_level_below",
            objective: Some("contract".into()),
            queue_id: Some("q-support".into()),
            queue_name: Some("Support <EU> & Co".into()),
            media_type: Some(MediaType::Voice),
            value: Some(72.5),
            bound: Some(80.0),
            unit: AlertUnit::Percent,
            since: ts("2026-03-10T15:00:00Z"),
            firing_since: Some(ts("2026-03-10T15:02:00Z")),
            resolved_at: resolved.then(|| ts("2026-03-10T15:02:00Z")),
            summary: "Support <EU> & Co (voice): rolling service level 72.5 % (objective \
                      contract), bound 80 %"
                .into(),
        },
        webhooks: webhooks.iter().map(|w| (*w).to_owned()).collect(),
    }
}

/// How the receiver answers.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Status(u16),
    /// Never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1 that records every request and answers as told.
struct Receiver {
    addr: SocketAddr,
    seen: watch::Receiver<Vec<Received>>,
}

impl Receiver {
    async fn start(answer: Answer) -> Receiver {
        let (tx, seen) = watch::channel(Vec::new());
        let tx = Arc::new(tx);
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let tx = Arc::clone(&tx);
                async move {
                    tx.send_modify(|seen| seen.push(Received { headers, body }));
                    match answer {
                        Answer::Ok => StatusCode::OK,
                        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
                        Answer::Hang => std::future::pending().await,
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Waits until the receiver has seen `n` requests, and gives them.
    async fn requests(&mut self, n: usize) -> Vec<Received> {
        self.seen
            .wait_for(|seen| seen.len() >= n)
            .await
            .unwrap()
            .clone()
    }

    fn count(&self) -> usize {
        self.seen.borrow().len()
    }
}

/// A webhook named `name` posting to `url` in `format`, signed when `secret` is given.
fn webhook(name: &str, url: &str, format: WebhookFormat, secret: Option<&str>) -> Webhook {
    let spec = WebhookSpec {
        name: name.into(),
        url: WebhookUrl::Literal(url.into()),
        format,
        secret_env: secret.map(|_| "HOOK_SECRET".to_owned()),
    };
    let secret = secret.map(str::to_owned);
    Webhook::from_spec(&spec, |var| {
        (var == "HOOK_SECRET").then(|| secret.clone()).flatten()
    })
    .unwrap()
}

fn settings() -> NotifySettings {
    NotifySettings {
        capacity: 16,
        max_attempts: 3,
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(30),
        request_timeout: Duration::from_secs(10),
    }
}

/// A receiver answering as told and a notifier whose one webhook, `ops`, posts to it unsigned
/// in `format`: the setup most delivery tests share.
async fn ops_hook(
    answer: Answer,
    format: WebhookFormat,
    settings: NotifySettings,
) -> (Receiver, Notifier, JoinHandle<()>) {
    let receiver = Receiver::start(answer).await;
    let hooks = vec![webhook("ops", &receiver.url(), format, None)];
    let (notifier, task) = Notifier::start(hooks, settings).unwrap();
    (receiver, notifier, task)
}

/// Notifies one event for `ops` and waits until its delivery has failed: the counts then, and
/// how long that took on the paused clock.
async fn fail_one(notifier: &Notifier) -> (NotifyCounts, Duration) {
    let started = tokio::time::Instant::now();
    notifier.notify(&[event("slow", AlertEventKind::Fired, &["ops"])]);
    let counts = counts_when(notifier, |c| c.failed == 1).await;
    (counts, started.elapsed())
}

/// Waits until the counts satisfy `done`, and gives them.
async fn counts_when(notifier: &Notifier, done: impl Fn(&NotifyCounts) -> bool) -> NotifyCounts {
    *notifier.watch_counts().wait_for(|c| done(c)).await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// Bodies.

#[test]
fn each_format_has_its_shape() {
    let fired = event("slow", AlertEventKind::Fired, &[]);

    let generic: Value = serde_json::from_slice(&body(WebhookFormat::Generic, &fired)).unwrap();
    assert_eq!(generic["schema"], "sla-alert/v1");
    assert_eq!(generic["event"], "fired");
    assert_eq!(generic["alert"]["rule"], "slow");
    assert_eq!(generic["alert"]["value"], 72.5);
    insta::assert_json_snapshot!("generic_body", generic);

    let slack: Value = serde_json::from_slice(&body(WebhookFormat::Slack, &fired)).unwrap();
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] slow: Support &lt;EU&gt; &amp; Co (voice)"),
        "{text}"
    );
    assert_eq!(slack["blocks"][0]["type"], "section");
    insta::assert_json_snapshot!("slack_body", slack);

    let resolved = event("slow", AlertEventKind::Resolved, &[]);
    let teams: Value = serde_json::from_slice(&body(WebhookFormat::Teams, &resolved)).unwrap();
    assert_eq!(teams["type"], "message");
    let attachment = &teams["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["body"][0]["text"], "RESOLVED: slow");
    assert_eq!(attachment["content"]["body"][0]["color"], "Good");
    insta::assert_json_snapshot!("teams_body", teams);
}

#[test]
fn the_signature_is_the_hmac_sha256_of_the_body_in_hex() {
    // RFC 4231, test case 2.
    assert_eq!(
        sign(b"Jefe", b"what do ya want for nothing?").as_deref(),
        Some("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
}

#[test]
fn backoff_doubles_up_to_its_ceiling() {
    let settings = NotifySettings {
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(5),
        ..settings()
    };
    let waits: Vec<u64> = (1..=5).map(|a| backoff(&settings, a).as_secs()).collect();
    assert_eq!(waits, [1, 2, 4, 5, 5]);
    assert_eq!(backoff(&settings, u32::MAX), Duration::from_secs(5));
}

#[test]
fn a_webhook_reads_its_url_and_secret_from_the_environment_and_never_shows_them() {
    let spec = WebhookSpec {
        name: "ops".into(),
        url: WebhookUrl::Env("OPS_URL".into()),
        format: WebhookFormat::Slack,
        secret_env: Some("OPS_SECRET".into()),
    };
    let env: BTreeMap<&str, &str> = [
        (
            "OPS_URL",
            "https://hooks.example.invalid/services/T0/B0/credential\n",
        ),
        ("OPS_SECRET", "s3cr3t-value"),
    ]
    .into();
    let hook = Webhook::from_spec(&spec, |var| env.get(var).map(|v| (*v).to_owned())).unwrap();
    assert_eq!(hook.url.path(), "/services/T0/B0/credential");
    let debug = format!("{hook:?}");
    assert!(debug.contains("https://hooks.example.invalid") && debug.contains("signed: true"));
    assert!(
        !debug.contains("credential") && !debug.contains("s3cr3t"),
        "{debug}"
    );

    let missing = Webhook::from_spec(&spec, |var| {
        (var == "OPS_URL").then(|| "https://hooks.example.invalid/x".to_owned())
    })
    .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "webhook 'ops': the environment variable OPS_SECRET is not set"
    );
    let bad = Webhook::from_spec(&spec, |var| {
        Some(
            if var == "OPS_URL" {
                "mailto:credential@x"
            } else {
                "s"
            }
            .to_owned(),
        )
    })
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "webhook 'ops': the URL is not a valid http:// or https:// URL"
    );
}

// ---------------------------------------------------------------------------------------------
// Delivery.

#[tokio::test]
async fn each_format_is_posted_as_json_and_signed_when_a_secret_is_set() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    let url = receiver.url();
    let hooks = vec![
        webhook("generic", &url, WebhookFormat::Generic, Some("top-secret")),
        webhook("slack", &url, WebhookFormat::Slack, None),
        webhook("teams", &url, WebhookFormat::Teams, None),
    ];
    let (notifier, task) = Notifier::start(hooks, settings()).unwrap();
    notifier.notify(&[event(
        "slow",
        AlertEventKind::Fired,
        &["generic", "slack", "teams"],
    )]);
    let seen = receiver.requests(3).await;
    let counts = counts_when(&notifier, |c| c.sent == 3).await;
    assert_eq!(
        counts,
        NotifyCounts {
            sent: 3,
            failed: 0,
            dropped: 0
        }
    );
    task.abort();

    for request in &seen {
        assert_eq!(request.headers["content-type"], "application/json");
    }
    // Queued in webhook order and delivered in queue order.
    let (generic, slack, teams) = (seen[0].json(), seen[1].json(), seen[2].json());
    assert_eq!(generic["schema"], "sla-alert/v1");
    assert!(slack["text"].as_str().unwrap().starts_with("[FIRING] slow"));
    assert_eq!(
        teams["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(teams["attachments"][0]["content"]["type"], "AdaptiveCard");

    // The receiver verifies the exact bytes it got with the shared secret.
    let header = seen[0].headers[SIGNATURE_HEADER].to_str().unwrap();
    let hex = header.strip_prefix("sha256=").unwrap();
    let mut mac = <Hmac<Sha256>>::new_from_slice(b"top-secret").unwrap();
    mac.update(&seen[0].body);
    mac.verify_slice(&hex_decode(hex)).unwrap();
    let mut wrong = <Hmac<Sha256>>::new_from_slice(b"guess").unwrap();
    wrong.update(&seen[0].body);
    assert!(wrong.verify_slice(&hex_decode(hex)).is_err());
    // Unsigned webhooks send no signature.
    assert!(!seen[1].headers.contains_key(SIGNATURE_HEADER));
}

fn hex_decode(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_receiver_answering_500_is_retried_with_backoff_then_counted_failed() {
    let (mut receiver, notifier, task) =
        ops_hook(Answer::Status(500), WebhookFormat::Generic, settings()).await;
    let (counts, took) = fail_one(&notifier).await;
    assert_eq!(
        counts,
        NotifyCounts {
            sent: 0,
            failed: 1,
            dropped: 0
        }
    );
    assert_eq!(receiver.requests(3).await.len(), 3);
    assert_eq!(receiver.count(), 3, "three attempts, no more");
    // 1 s after the first attempt, 2 s after the second.
    assert!(took >= Duration::from_secs(3), "{took:?}");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_receiver_that_hangs_times_out_and_is_retried() {
    let settings = NotifySettings {
        max_attempts: 2,
        ..settings()
    };
    let (mut receiver, notifier, task) =
        ops_hook(Answer::Hang, WebhookFormat::Slack, settings).await;
    let (counts, took) = fail_one(&notifier).await;
    assert_eq!(counts.sent, 0);
    assert_eq!(receiver.requests(2).await.len(), 2);
    // Two timeouts of 10 s and the backoff of 1 s between them.
    assert!(took >= Duration::from_secs(21), "{took:?}");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_receiver_refusing_with_a_4xx_is_not_retried_and_429_is() {
    let mut refusing = Receiver::start(Answer::Status(404)).await;
    let mut throttling = Receiver::start(Answer::Status(429)).await;
    let hooks = vec![
        webhook("gone", &refusing.url(), WebhookFormat::Generic, None),
        webhook("busy", &throttling.url(), WebhookFormat::Generic, None),
    ];
    let (notifier, task) = Notifier::start(hooks, settings()).unwrap();
    notifier.notify(&[event("slow", AlertEventKind::Fired, &["gone", "busy"])]);
    let counts = counts_when(&notifier, |c| c.failed == 2).await;
    assert_eq!(counts.sent, 0);
    assert_eq!(refusing.requests(1).await.len(), 1);
    assert_eq!(refusing.count(), 1);
    assert_eq!(throttling.requests(3).await.len(), 3);
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_drops_the_oldest_deliveries_and_counts_them() {
    let settings = NotifySettings {
        capacity: 2,
        ..settings()
    };
    let (mut receiver, notifier, task) =
        ops_hook(Answer::Ok, WebhookFormat::Generic, settings).await;
    // Five events before the delivery task runs: the queue keeps the newest two.
    let events: Vec<AlertEvent> = (1..=5)
        .map(|i| event(&format!("rule-{i}"), AlertEventKind::Fired, &["ops"]))
        .collect();
    notifier.notify(&events);
    assert_eq!(notifier.counts().dropped, 3);
    assert_eq!(notifier.queued(), 2);
    let counts = counts_when(&notifier, |c| c.sent == 2).await;
    assert_eq!(
        counts,
        NotifyCounts {
            sent: 2,
            failed: 0,
            dropped: 3
        }
    );
    let rules: Vec<String> = receiver
        .requests(2)
        .await
        .iter()
        .map(|r| r.json()["alert"]["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rules, ["rule-4", "rule-5"]);
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn notify_returns_at_once_while_a_delivery_hangs() {
    let (mut receiver, notifier, task) =
        ops_hook(Answer::Hang, WebhookFormat::Generic, settings()).await;
    notifier.notify(&[event("first", AlertEventKind::Fired, &["ops"])]);
    // The delivery task is now waiting on the receiver, which never answers.
    receiver.requests(1).await;
    let before = tokio::time::Instant::now();
    for i in 0..10 {
        notifier.notify(&[event(&format!("next-{i}"), AlertEventKind::Fired, &["ops"])]);
    }
    // Queued without waiting: the paused clock has not moved, and nothing was sent or dropped.
    assert_eq!(tokio::time::Instant::now(), before);
    assert_eq!(notifier.queued(), 10);
    assert_eq!(notifier.counts(), NotifyCounts::default());
    task.abort();
}

#[tokio::test]
async fn an_event_for_an_unknown_webhook_is_skipped() {
    let (_receiver, notifier, task) =
        ops_hook(Answer::Ok, WebhookFormat::Generic, settings()).await;
    notifier.notify(&[event("slow", AlertEventKind::Fired, &["elsewhere"])]);
    assert_eq!(notifier.queued(), 0);
    assert_eq!(notifier.counts(), NotifyCounts::default());
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn drain_waits_for_queued_deliveries_and_gives_up_after_its_grace() {
    let (mut receiver, notifier, task) =
        ops_hook(Answer::Ok, WebhookFormat::Generic, settings()).await;
    let events: Vec<AlertEvent> = (1..=3)
        .map(|i| event(&format!("rule-{i}"), AlertEventKind::Resolved, &["ops"]))
        .collect();
    notifier.notify(&events);
    assert_eq!(notifier.drain(Duration::from_secs(5)).await, 0);
    assert_eq!(
        notifier.counts().sent,
        3,
        "all three went out before drain returned"
    );
    assert_eq!(receiver.requests(3).await.len(), 3);
    task.abort();

    // A receiver that hangs: drain returns after its grace, naming what is left.
    let (_hanging, notifier, task) =
        ops_hook(Answer::Hang, WebhookFormat::Generic, settings()).await;
    notifier.notify(&events);
    let started = tokio::time::Instant::now();
    assert_eq!(notifier.drain(Duration::from_secs(5)).await, 3);
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    task.abort();
}
