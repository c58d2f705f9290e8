//! Tokens through the client: renewed ahead of expiry, renewed once after a refusal, and one
//! renewal shared by concurrent refusals.

use std::time::Duration;

use serde_json::json;
use sla_core::Granularity;
use sla_core::ports::{QueueDirectory as _, QueueSelector, TallySource as _};

use crate::tests::{AGGREGATES, QUEUES, TOKEN_PATH, client, tally_query, ts};
use crate::{HttpRequest, Reply, ScriptedTransport};

fn bearer(request: &HttpRequest) -> String {
    use secrecy::ExposeSecret as _;
    request
        .authorization
        .as_ref()
        .map(|a| a.expose_secret().to_owned())
        .unwrap_or_default()
}

/// A transport whose token endpoint hands out `tok-1`, `tok-2` and `tok-3` in turn, each valid
/// for `ttl_s` seconds.
fn three_tokens(ttl_s: u64) -> ScriptedTransport {
    let transport = ScriptedTransport::new();
    transport.script(
        TOKEN_PATH,
        [1, 2, 3].map(|n| Reply::token(&format!("tok-{n}"), ttl_s)),
    );
    transport
}

/// The `Authorization` headers of the requests to `path`, in the order they were sent.
fn bearers_to(transport: &ScriptedTransport, path: &str) -> Vec<String> {
    transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == path)
        .map(bearer)
        .collect()
}

#[tokio::test]
async fn tokens_are_renewed_ahead_of_expiry_and_after_a_refusal() {
    let transport = three_tokens(600);
    // The API refuses tok-2, as if it had been revoked.
    transport.respond(QUEUES, |request| {
        if bearer(request) == "Bearer tok-2" {
            Reply::genesys_error(401, "bad.credentials", "Invalid login credentials.", "ctx")
        } else {
            Reply::json(200, &json!({"entities": [], "pageCount": 1}))
        }
    });
    let (client, clock, _) = client(&transport, |_| {});
    client.queues(&QueueSelector::All).await.unwrap();
    clock.advance(Duration::from_secs(539));
    client.queues(&QueueSelector::All).await.unwrap();
    assert_eq!(transport.count(TOKEN_PATH), 1);
    // A minute before expiry tok-2 is fetched; the API refuses it, tok-3 is fetched, and the
    // request is repeated once.
    clock.advance(Duration::from_secs(1));
    client.queues(&QueueSelector::All).await.unwrap();
    let sent = bearers_to(&transport, QUEUES);
    assert_eq!(
        sent,
        [
            "Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-3"
        ]
    );
    assert_eq!(transport.count(TOKEN_PATH), 3);
    assert!(client.check_credentials().await.is_ok());
    assert_eq!(transport.count(TOKEN_PATH), 3);
}

#[tokio::test]
async fn concurrent_refusals_share_one_renewal() {
    let transport = three_tokens(86_400);
    transport.respond(AGGREGATES, |request| {
        if bearer(request) == "Bearer tok-1" {
            Reply::status(401)
        } else {
            Reply::json(200, &json!({}))
        }
    });
    let (client, _, _) = client(&transport, |c| {
        c.chunk_days = 1;
        c.concurrency = 8;
    });
    let mut query = tally_query(
        &["q-a"],
        "UTC",
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-09T00:00:00Z"),
        Granularity::Total,
    );
    query.thresholds.clear();
    query.short_abandon = None;
    client.tallies(&query).await.unwrap();
    // Eight daily chunks in flight together, all refused with tok-1, then all repeated with tok-2.
    let sent = bearers_to(&transport, AGGREGATES);
    assert_eq!(sent.len(), 16);
    assert!(sent[..8].iter().all(|b| b == "Bearer tok-1"), "{sent:?}");
    assert!(sent[8..].iter().all(|b| b == "Bearer tok-2"), "{sent:?}");
    assert_eq!(transport.count(TOKEN_PATH), 2);
}
