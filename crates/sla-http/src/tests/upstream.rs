//! Upstream failures: 502 with Genesys's status, message and correlation id, and transport errors named.

use super::*;

#[tokio::test]
async fn upstream_failures_are_502_with_genesys_details() {
    let h = with_tallies(failing_tallies());
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    insta::assert_json_snapshot!("upstream_unavailable", reply.json());

    let mut directory = MockQueueDirectory::new();
    directory.expect_queues().returning(|_| {
        Err(SourceError::Unauthorized(Box::new(GenesysError::Auth {
            status: Some(401),
            message: "invalid_client: client credentials are wrong".to_owned(),
        })))
    });
    let h = Built {
        directory: Arc::new(directory),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    insta::assert_json_snapshot!("upstream_unauthorized", reply.json());
    let reply = get(&h.app, "/api/v1/queues").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.json()["error"]["upstream"]["status"], 401);
}

// ---------------------------------------------------------------------------------------------
// Smaller edges.

#[tokio::test]
async fn a_network_failure_after_retries_is_a_502_naming_the_transport_error() {
    let mut tallies = MockTallySource::new();
    tallies.expect_tallies().returning(|_| {
        Err(SourceError::Unavailable {
            attempts: 8,
            source: Box::new(GenesysError::RetriesExhausted {
                attempts: 8,
                last: Box::new(GenesysError::Transport {
                    request: "POST /api/v2/analytics/conversations/aggregates/query".to_owned(),
                    reason: "error sending request for url (https://api.internal.example/api/v2/analytics/conversations/aggregates/query): \
                             client error (Connect): tcp connect error: Connection refused (os error 111)"
                        .to_owned(),
                }),
            }),
        })
    });
    let h = with_tallies(tallies);
    let reply = get(&h.app, DAYS_QUERY).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(!reply.body.contains("internal.example"), "{}", reply.body);
    assert_eq!(
        reply.json()["error"]["upstream"],
        json!({
            "status": null,
            "message": "request POST /api/v2/analytics/conversations/aggregates/query failed: error sending request: \
                        client error (Connect): tcp connect error: Connection refused (os error 111)",
            "context_id": null,
        })
    );
}
