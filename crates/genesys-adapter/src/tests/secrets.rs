//! The client secret and access tokens stay out of logs, errors and `Debug` output.

use base64::Engine as _;
use secrecy::SecretString;
use serde_json::json;
use sla_core::ports::{QueueDirectory as _, QueueSelector, SourceError};

use crate::tests::shared::capture_logs;
use crate::tests::{QUEUES, SECRET, TOKEN_PATH, client};
use crate::{GenesysConfig, GenesysError, Region, Reply, ScriptedTransport};

#[tokio::test]
async fn secrets_and_tokens_stay_out_of_logs_errors_and_debug() {
    let (logs, _guard) = capture_logs("trace");

    let transport = ScriptedTransport::new();
    transport.script(
        TOKEN_PATH,
        [
            Reply::token("tok-first-0001", 86_400),
            Reply::token("tok-second-0002", 86_400),
        ],
    );
    transport.script(
        QUEUES,
        [
            Reply::status(401),
            Reply::genesys_error(429, "too.many.requests", "Rate limit exceeded", "ctx-1")
                .with_header("Retry-After", "1"),
            Reply::json(200, &json!({"entities": [], "pageCount": 1}))
                .with_header("ININ-Correlation-Id", "corr-123"),
            Reply::genesys_error(400, "bad.request", "nope", "ctx-2"),
        ],
    );
    let (good_client, _, _) = client(&transport, |_| {});
    good_client.queues(&QueueSelector::All).await.unwrap();
    let mut errors: Vec<String> = Vec::new();
    let rejected = good_client.queues(&QueueSelector::All).await.unwrap_err();
    errors.push(format!("{rejected} {rejected:?} {rejected:#?}"));

    // A refused login.
    let refusing = ScriptedTransport::new();
    refusing.script(TOKEN_PATH, [Reply::json(401, &json!({"error": "invalid_client", "error_description": "client authentication failed"}))]);
    let (bad_client, _, _) = client(&refusing, |_| {});
    let unauthorized = bad_client.queues(&QueueSelector::All).await.unwrap_err();
    assert!(matches!(unauthorized, SourceError::Unauthorized(_)));
    errors.push(format!(
        "{unauthorized} {unauthorized:?} {:?}",
        std::error::Error::source(&unauthorized)
    ));
    let direct: GenesysError = bad_client.check_credentials().await.unwrap_err();
    errors.push(format!("{direct} {direct:?}"));
    errors.push(format!("{good_client:?} {good_client:#?}"));
    let config = GenesysConfig::new(Region::default(), "test-client", SecretString::from(SECRET));
    errors.push(format!("{config:?} {config:#?}"));
    for request in transport.requests() {
        errors.push(format!("{request:?}"));
    }

    let logs = logs.text();
    assert!(logs.contains("status=429"), "{logs}");
    assert!(logs.contains("correlation_id=\"corr-123\""), "{logs}");
    assert!(logs.contains("attempt=2"), "{logs}");
    assert!(logs.contains("token refused"), "{logs}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("test-client:{SECRET}"));
    for text in errors.iter().chain([&logs]) {
        for secret in [SECRET, "tok-first-0001", "tok-second-0002", basic.as_str()] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}
