//! The client-credentials grant over HTTP Basic, with the token cached and renewed ahead of
//! its expiry; concurrent callers share a single renewal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::error::GenesysError;
use crate::retry::{Endpoint, Sender};
use crate::seams::{AccessToken, HttpRequest, Method, TokenSource};

/// How long after issue a token of `lifetime` is renewed: a minute before it expires, or at
/// half its life when that comes first (so that a token of a few seconds is still used).
pub(crate) fn renew_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub((lifetime / 2).min(Duration::from_mins(1)))
}

/// The token endpoint's answer. Only the fields we use; unknown ones are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    renew_at: Instant,
}

#[derive(Debug, Default)]
struct Cache {
    current: Option<Cached>,
    generation: u64,
}

/// Client credentials and the token they last earned.
#[derive(Debug)]
pub(crate) struct ClientCredentials {
    sender: Arc<Sender>,
    token_url: Url,
    /// The whole `Authorization: Basic …` value, built once.
    basic: SecretString,
    // An async mutex held across the token request: callers arriving while a renewal is in
    // flight wait for it and then find the fresh token, so one renewal serves them all.
    cache: Mutex<Cache>,
}

impl ClientCredentials {
    pub(crate) fn new(
        sender: Arc<Sender>,
        token_url: Url,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Self {
        let credentials = format!("{client_id}:{}", client_secret.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        Self {
            sender,
            token_url,
            basic: SecretString::from(format!("Basic {encoded}")),
            cache: Mutex::new(Cache::default()),
        }
    }

    fn fresh(&self, cache: &Cache) -> Option<AccessToken> {
        let cached = cache.current.as_ref()?;
        (self.sender.clock.now() < cached.renew_at).then(|| cached.token.clone())
    }

    async fn fetch(&self, cache: &mut Cache) -> Result<AccessToken, GenesysError> {
        let request = HttpRequest {
            method: Method::Post,
            url: self.token_url.clone(),
            authorization: Some(self.basic.clone()),
            content_type: Some("application/x-www-form-urlencoded"),
            body: Some("grant_type=client_credentials".to_owned()),
        };
        // The lifetime counts from when the request left, which errs on the safe side.
        let sent_at = self.sender.clock.now();
        self.sender.counters.token_request();
        let response = self.sender.send(&request, Endpoint::Login, None).await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&response.body).map_err(|e| GenesysError::Decode {
                request: request.describe(),
                // serde's messages name positions and types, never the input itself.
                reason: e.to_string(),
            })?;
        if parsed.access_token.is_empty() {
            return Err(GenesysError::Auth {
                status: Some(response.status),
                message: "the login host issued an empty access token".to_owned(),
            });
        }
        // Genesys always sends `expires_in`; a missing one is treated as a token to use once.
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(0));
        cache.generation += 1;
        let token = AccessToken {
            secret: SecretString::from(parsed.access_token),
            generation: cache.generation,
        };
        tracing::debug!(
            generation = token.generation,
            expires_in_s = lifetime.as_secs(),
            "obtained an access token"
        );
        // A lifetime too long for the clock (Genesys never sends one) is, like a missing one,
        // a token to use once.
        let renew_at = sent_at
            .checked_add(renew_after(lifetime))
            .unwrap_or(sent_at);
        cache.current = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }
}

#[async_trait]
impl TokenSource for ClientCredentials {
    async fn token(&self) -> Result<AccessToken, GenesysError> {
        let mut cache = self.cache.lock().await;
        if let Some(token) = self.fresh(&cache) {
            return Ok(token);
        }
        self.fetch(&mut cache).await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, GenesysError> {
        let mut cache = self.cache.lock().await;
        // Another caller holding the same rejected token may have renewed it already.
        if cache.generation > rejected.generation
            && let Some(token) = self.fresh(&cache)
        {
            return Ok(token);
        }
        self.fetch(&mut cache).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::retry::RetryPolicy;
    use crate::seams::TransportErrorKind;
    use crate::test_util::{ManualClock, Reply, ScriptedTransport};
    use crate::tests::retry;

    #[test]
    fn renewal_comes_a_minute_early_or_at_half_life() {
        let table = [
            (86_400, 86_340),
            (3_600, 3_540),
            (121, 61),
            (120, 60),
            (100, 50),
            (4, 2),
            (0, 0),
        ];
        for (lifetime, renew) in table {
            assert_eq!(
                renew_after(Duration::from_secs(lifetime)),
                Duration::from_secs(renew),
                "{lifetime}"
            );
        }
        assert_eq!(
            renew_after(Duration::from_secs(3)),
            Duration::from_millis(1500)
        );
        assert_eq!(
            renew_after(Duration::from_secs(1)),
            Duration::from_millis(500)
        );
    }

    struct Harness {
        transport: ScriptedTransport,
        clock: ManualClock,
        creds: Arc<ClientCredentials>,
    }

    const TOKEN_PATH: &str = "/oauth/token";

    fn harness() -> Harness {
        let sending = retry::Harness::new(
            RetryPolicy {
                max_attempts: 3,
                max_backoff: Duration::from_secs(4),
                ..retry::policy()
            },
            1.0,
        );
        let creds = Arc::new(ClientCredentials::new(
            sending.sender,
            "http://sim.test/oauth/token".parse().unwrap(),
            "my-client",
            &SecretString::from("my-secret"),
        ));
        Harness {
            transport: sending.transport,
            clock: sending.clock,
            creds,
        }
    }

    fn value(token: &AccessToken) -> &str {
        token.secret.expose_secret()
    }

    #[tokio::test]
    async fn token_request_is_a_basic_authenticated_form_post() {
        let h = harness();
        h.transport.script(TOKEN_PATH, [Reply::token("t1", 3600)]);
        let token = h.creds.token().await.unwrap();
        assert_eq!(value(&token), "t1");
        let sent = h.transport.requests();
        assert_eq!(sent.len(), 1);
        let request = &sent[0];
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url.as_str(), "http://sim.test/oauth/token");
        assert_eq!(
            request.content_type,
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            request.body.as_deref(),
            Some("grant_type=client_credentials")
        );
        // base64("my-client:my-secret")
        assert_eq!(
            request.authorization.as_ref().unwrap().expose_secret(),
            "Basic bXktY2xpZW50Om15LXNlY3JldA=="
        );
    }

    #[tokio::test]
    async fn token_is_cached_until_shortly_before_expiry() {
        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [Reply::token("t1", 3600), Reply::token("t2", 3600)],
        );
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        h.clock.advance(Duration::from_secs(3539));
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        assert_eq!(h.transport.count(TOKEN_PATH), 1);
        // 60 s before expiry the token is renewed.
        h.clock.advance(Duration::from_secs(1));
        let t2 = h.creds.token().await.unwrap();
        assert_eq!((value(&t2), t2.generation), ("t2", 2));
        assert_eq!(h.transport.count(TOKEN_PATH), 2);
    }

    #[tokio::test]
    async fn short_lived_tokens_are_renewed_at_half_life() {
        let h = harness();
        h.transport
            .script(TOKEN_PATH, [Reply::token("t1", 4), Reply::token("t2", 4)]);
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        h.clock.advance(Duration::from_millis(1999));
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        h.clock.advance(Duration::from_millis(1));
        assert_eq!(value(&h.creds.token().await.unwrap()), "t2");
    }

    #[tokio::test]
    async fn renewal_after_a_refusal_is_shared_by_concurrent_callers() {
        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [
                Reply::token("t1", 3600),
                Reply::token("t2", 3600),
                Reply::token("t3", 3600),
            ],
        );
        let rejected = h.creds.token().await.unwrap();
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let creds = Arc::clone(&h.creds);
                let rejected = rejected.clone();
                tokio::spawn(async move { creds.renew(&rejected).await })
            })
            .collect();
        for call in calls {
            let token = call.await.unwrap().unwrap();
            assert_eq!(value(&token), "t2");
        }
        assert_eq!(h.transport.count(TOKEN_PATH), 2);
        // A refusal of the renewed token renews again.
        let t2 = h.creds.token().await.unwrap();
        assert_eq!(value(&h.creds.renew(&t2).await.unwrap()), "t3");
    }

    #[tokio::test]
    async fn concurrent_first_callers_share_one_token_request() {
        let h = harness();
        h.transport.script(TOKEN_PATH, [Reply::token("t1", 3600)]);
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let creds = Arc::clone(&h.creds);
                tokio::spawn(async move { creds.token().await })
            })
            .collect();
        for call in calls {
            assert_eq!(value(&call.await.unwrap().unwrap()), "t1");
        }
        assert_eq!(h.transport.count(TOKEN_PATH), 1);
    }

    #[tokio::test]
    async fn login_host_failures_are_retried_and_refusals_are_not() {
        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [
                Reply::error(TransportErrorKind::Connect),
                Reply::status(503),
                Reply::token("t1", 3600),
            ],
        );
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        assert_eq!(h.transport.count(TOKEN_PATH), 3);

        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [Reply::json(
                400,
                &serde_json::json!({"error": "invalid_client", "error_description": "client authentication failed"}),
            )
            .with_header("ININ-Correlation-Id", "corr-7")],
        );
        let err = h.creds.token().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "authentication failed with status 400: client authentication failed; check \
             GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET [correlationId corr-7]"
        );
        assert_eq!(h.transport.count(TOKEN_PATH), 1);
    }

    #[tokio::test]
    async fn a_lifetime_too_long_for_the_clock_makes_a_token_to_use_once() {
        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [
                Reply::json(
                    200,
                    &serde_json::json!({"access_token": "t1", "expires_in": u64::MAX}),
                ),
                Reply::token("t2", 3600),
            ],
        );
        assert_eq!(value(&h.creds.token().await.unwrap()), "t1");
        assert_eq!(value(&h.creds.token().await.unwrap()), "t2");
        assert_eq!(h.transport.count(TOKEN_PATH), 2);
    }

    #[tokio::test]
    async fn unusable_token_responses_are_errors() {
        let h = harness();
        h.transport.script(
            TOKEN_PATH,
            [Reply::json(
                200,
                &serde_json::json!({"token_type": "bearer"}),
            )],
        );
        let err = h.creds.token().await.unwrap_err();
        assert!(
            err.to_string().starts_with(
                "could not read the response to POST /oauth/token: missing field `access_token`"
            ),
            "{err}"
        );
        let h = harness();
        h.transport.script(TOKEN_PATH, [Reply::token("", 3600)]);
        let err = h.creds.token().await.unwrap_err();
        assert!(matches!(err, GenesysError::Auth { .. }), "{err:?}");
    }
}
