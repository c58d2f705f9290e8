//! The seams the client is built on (`Transport`, `TokenSource`, `Sleep`, `Clock`), and the real
//! sleep and clock over tokio (the real transport is in `transport.rs`).
// These items are exported only with the `test-util` feature; without it they are the crate's
// own plumbing, so `pub` here does not mean part of the default API.
#![cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::GenesysError;

/// The HTTP methods the client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One HTTP request. `Debug` hides the authorization header.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// The whole `Authorization` header value (`Bearer …` or `Basic …`).
    pub authorization: Option<SecretString>,
    /// The `Content-Type` of the body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Option<String>,
}

impl HttpRequest {
    /// `METHOD /path`, as logs and errors name a request.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.url.path())
    }
}

/// One HTTP response, body fully read and decompressed.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpResponse {
    // A token response's body holds an access token, so `Debug` shows only its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why a request got no response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// The request or its response took too long.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke mid-exchange (reset, closed early, truncated body).
    Interrupted,
    /// The request could not be built (a URL longer than HTTP allows, say), so it was not
    /// sent; sending it again would not help.
    Invalid,
    /// Anything else; not worth retrying.
    Other,
}

/// A request that got no (complete) response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// The transport's description.
    pub message: String,
}

/// Sends HTTP requests.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Waits.
#[async_trait]
pub trait Sleep: Send + Sync + fmt::Debug {
    /// Returns after `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Tells the time, for token expiry, rate limits and request durations.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// An access token. `generation` tells tokens apart without comparing secrets: a renewal
/// requested for an older generation than the cached one is already done.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

impl AccessToken {
    /// The `Authorization` header value.
    pub(crate) fn bearer(&self) -> SecretString {
        SecretString::from(format!("Bearer {}", self.secret.expose_secret()))
    }
}

/// Hands out access tokens for API requests.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub(crate) trait TokenSource: Send + Sync {
    /// A token that is not about to expire.
    async fn token(&self) -> Result<AccessToken, GenesysError>;

    /// A token newer than `rejected`, which the API refused. Callers that present the same
    /// rejected token at once share a single renewal.
    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, GenesysError>;
}

/// Everything the client reaches the world through. Tests swap in doubles.
#[derive(Clone, Debug)]
pub struct Seams {
    /// Sends requests; `None` means reqwest, configured from the client's configuration.
    pub transport: Option<Arc<dyn Transport>>,
    /// Waits between attempts and for the rate limit.
    pub sleep: Arc<dyn Sleep>,
    /// Tells the time.
    pub clock: Arc<dyn Clock>,
    /// Pins the jitter factor (0 to 1) of backoffs; random when `None`.
    pub jitter: Option<f64>,
}

impl Seams {
    /// reqwest, tokio's timer and random jitter.
    pub fn real() -> Self {
        Self {
            transport: None,
            sleep: Arc::new(TokioSleep),
            clock: Arc::new(SystemClock),
            jitter: None,
        }
    }
}

/// Sleeps on tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TokioSleep;

#[async_trait]
impl Sleep for TokioSleep {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Reads tokio's clock, which follows `tokio::time::pause` in tests.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}
