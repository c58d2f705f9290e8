//! The client's shared state and its JSON request helpers.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::ClientCredentials;
use crate::config::{DetailsMode, Endpoints, GenesysConfig};
use crate::error::GenesysError;
use crate::metrics::Counters;
use crate::rate_limit::RateLimiter;
use crate::retry::{Endpoint, RetryPolicy, Sender};
use crate::seams::{HttpRequest, Method, Seams, TokenSource, Transport};
use crate::transport::ReqwestTransport;

/// Everything a client's clones share.
pub(crate) struct Inner {
    pub(crate) endpoints: Endpoints,
    pub(crate) client_id: String,
    pub(crate) sender: Arc<Sender>,
    pub(crate) tokens: Arc<dyn TokenSource>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) chunk_days: u32,
    pub(crate) queues_per_request: usize,
    pub(crate) concurrency: usize,
    pub(crate) details_mode: DetailsMode,
    pub(crate) details_lookback: std::time::Duration,
    pub(crate) job_timeout: std::time::Duration,
}

impl fmt::Debug for Inner {
    // Only what identifies the client: never credentials or tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenesysClient")
            .field("api_base", &self.endpoints.api.as_str())
            .field("login_base", &self.endpoints.login.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn build(config: GenesysConfig, seams: Seams) -> Result<Self, GenesysError> {
        let endpoints = config.validate()?;
        let transport: Arc<dyn Transport> = match seams.transport {
            Some(transport) => transport,
            None => Arc::new(ReqwestTransport::new(&config)?),
        };
        let counters = Arc::new(Counters::default());
        let sender = Arc::new(Sender {
            transport,
            sleep: Arc::clone(&seams.sleep),
            clock: Arc::clone(&seams.clock),
            policy: RetryPolicy::from_config(&config),
            jitter: seams.jitter,
            limiter: RateLimiter::new(
                config.max_requests_per_minute,
                config.concurrency,
                seams.clock,
                seams.sleep,
            ),
            counters: Arc::clone(&counters),
        });
        let tokens = Arc::new(ClientCredentials::new(
            Arc::clone(&sender),
            endpoints.login_url("/oauth/token"),
            &config.client_id,
            &config.client_secret,
        ));
        Ok(Self {
            endpoints,
            client_id: config.client_id,
            sender,
            tokens,
            counters,
            chunk_days: config.chunk_days,
            queues_per_request: config.queues_per_request,
            concurrency: config.concurrency,
            details_mode: config.details_mode,
            details_lookback: config.details_lookback,
            job_timeout: config.job_timeout,
        })
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        request: HttpRequest,
    ) -> Result<T, GenesysError> {
        let body = self.send_raw(&request).await?;
        serde_json::from_slice(&body).map_err(|e| GenesysError::Decode {
            request: request.describe(),
            reason: e.to_string(),
        })
    }

    /// Sends `request` to the API host and returns the body of its successful response, for
    /// callers that parse it themselves (borrowing from it).
    pub(crate) async fn send_raw(&self, request: &HttpRequest) -> Result<Vec<u8>, GenesysError> {
        let response = self
            .sender
            .send(request, Endpoint::Api, Some(self.tokens.as_ref()))
            .await?;
        Ok(response.body)
    }

    /// A GET of `url` on the API host.
    pub(crate) fn get_request(url: Url) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url,
            authorization: None,
            content_type: None,
            body: None,
        }
    }

    /// A POST of `body` as JSON to `path` on the API host.
    pub(crate) fn post_request<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<HttpRequest, GenesysError> {
        let body = serde_json::to_string(body).map_err(|e| {
            GenesysError::Config(format!("cannot encode the request to {path}: {e}"))
        })?;
        Ok(HttpRequest {
            method: Method::Post,
            url: self.endpoints.api_url(path),
            authorization: None,
            content_type: Some("application/json"),
            body: Some(body),
        })
    }

    /// DELETEs `url` on the API host; the answer's body is ignored.
    pub(crate) async fn delete(&self, url: Url) -> Result<(), GenesysError> {
        let request = HttpRequest {
            method: Method::Delete,
            url,
            authorization: None,
            content_type: None,
            body: None,
        };
        self.send_raw(&request).await.map(|_| ())
    }

    /// GETs `url` on the API host and reads its JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, GenesysError> {
        self.send_json(Self::get_request(url)).await
    }

    /// POSTs `body` as JSON to `path` on the API host and reads the JSON answer. Only read-only
    /// queries are posted, so the retry loop may repeat them.
    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, GenesysError> {
        self.send_json(self.post_request(path, body)?).await
    }
}
