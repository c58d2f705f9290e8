//! The real transport over reqwest, and how its failures read: retryable or not, and short.
//!
//! reqwest names the URL in its messages, so a request with a huge URL (a 100,000-character queue
//! name in a listing's query, say) would fail with a message as long. URLs are cut short in every
//! message, and a URL too long for HTTP is refused before reqwest sees it, with a message that
//! names the query parameter that made it so.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use url::Url;

use crate::config::GenesysConfig;
use crate::error::{GenesysError, shorten};
use crate::seams::{
    HttpRequest, HttpResponse, Method, Transport, TransportError, TransportErrorKind,
};

/// The longest URI the `http` crate under reqwest accepts, in bytes.
const MAX_URI_LENGTH: usize = u16::MAX as usize - 1;

/// How much of a URL a message quotes.
const QUOTED_CHARS: usize = 200;

/// How much of a query parameter's value a message quotes.
const QUOTED_VALUE_CHARS: usize = 40;

/// The real transport: one reqwest client, so connections are kept alive and reused, asking
/// for gzip.
#[derive(Clone, Debug)]
pub(crate) struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub(crate) fn new(config: &GenesysConfig) -> Result<Self, GenesysError> {
        let client = reqwest::Client::builder()
            .gzip(true)
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("sla-genesys-adapter/", env!("CARGO_PKG_VERSION")))
            // Redirects are not part of the API; following one could send a token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GenesysError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Some(reason) = too_long(&request.url) {
            return Err(TransportError {
                kind: TransportErrorKind::Invalid,
                message: reason,
            });
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .client
            .request(method, request.url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(auth) = &request.authorization {
            let mut value =
                reqwest::header::HeaderValue::from_str(auth.expose_secret()).map_err(|_| {
                    TransportError {
                        kind: TransportErrorKind::Other,
                        message: "the authorization header holds invalid characters".to_owned(),
                    }
                })?;
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(content_type) = request.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let body = response.bytes().await.map_err(transport_error)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Why `url` cannot be sent, when it is longer than HTTP allows: its length, and the query
/// parameter that makes up most of it, quoted short.
fn too_long(url: &Url) -> Option<String> {
    let length = url.as_str().len();
    if length <= MAX_URI_LENGTH {
        return None;
    }
    let mut reason =
        format!("its URL is {length} characters long, more than the {MAX_URI_LENGTH} HTTP allows");
    let longest = url.query_pairs().max_by_key(|(_, value)| value.len());
    match longest {
        Some((name, value)) if value.len() > length / 2 => {
            let _ = write!(
                reason,
                ": the {name} parameter alone is {} characters ({})",
                value.chars().count(),
                shorten(&value, QUOTED_VALUE_CHARS)
            );
        }
        _ => {
            let _ = write!(reason, " ({})", shorten(url.as_str(), QUOTED_CHARS));
        }
    }
    Some(reason)
}

fn transport_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_builder() {
        // The request was never sent: repeating it builds it the same way.
        TransportErrorKind::Invalid
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_request() || error.is_body() || error.is_decode() {
        // Resets, early closes and truncated bodies: the exchange broke, the request was
        // well formed, and every request we send may be repeated.
        TransportErrorKind::Interrupted
    } else {
        TransportErrorKind::Other
    };
    // reqwest's own message is generic ("error sending request"); the cause is in the chain. The
    // URL it names is quoted short, so that a long one does not swamp the message.
    let url = error
        .url()
        .map(|url| shorten(url.as_str(), QUOTED_CHARS).into_owned());
    let error = error.without_url();
    let mut message = error.to_string();
    if let Some(url) = url {
        let _ = write!(message, " for url ({url})");
    }
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    TransportError { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Inner;

    fn transport() -> ReqwestTransport {
        let config = GenesysConfig::new(
            crate::Region::default(),
            "id",
            secrecy::SecretString::from("secret"),
        );
        ReqwestTransport::new(&config).unwrap()
    }

    #[tokio::test]
    async fn a_url_longer_than_http_allows_is_refused_before_sending_in_few_words() {
        // The request fails before connecting anywhere.
        let mut url: Url = "http://127.0.0.1:9/api/v2/routing/queues?pageSize=100"
            .parse()
            .unwrap();
        url.query_pairs_mut()
            .append_pair("name", &"q".repeat(100_000));
        let err = transport().send(Inner::get_request(url)).await.unwrap_err();
        assert_eq!(err.kind, TransportErrorKind::Invalid);
        assert_eq!(
            err.message,
            format!(
                "its URL is 100059 characters long, more than the 65534 HTTP allows: the name \
                 parameter alone is 100000 characters ({}…)",
                "q".repeat(40)
            )
        );
    }

    #[test]
    fn a_long_url_without_one_long_parameter_is_quoted_short() {
        let mut url: Url = "http://127.0.0.1:9/api/v2/routing/queues".parse().unwrap();
        for i in 0..20_000 {
            url.query_pairs_mut().append_pair("id", &format!("{i:04}"));
        }
        let reason = too_long(&url).unwrap();
        assert!(
            reason.starts_with("its URL is 170040 characters long, more than the 65534 HTTP allows (http://127.0.0.1:9/api/v2/routing/queues?id=0000&id=0001"),
            "{reason}"
        );
        assert!(reason.ends_with("…)"), "{reason}");
        assert!(reason.len() < 400, "{reason}");
        // A URL within the limit is left to reqwest.
        assert_eq!(
            too_long(&"http://127.0.0.1:9/x?name=a".parse().unwrap()),
            None
        );
    }

    #[tokio::test]
    async fn failures_to_connect_quote_the_url_short() {
        // A loopback port just given up, so connecting is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut url: Url = format!("http://127.0.0.1:{port}/api/v2/routing/queues")
            .parse()
            .unwrap();
        url.query_pairs_mut()
            .append_pair("name", &"q".repeat(5_000));
        let err = transport().send(Inner::get_request(url)).await.unwrap_err();
        assert_eq!(err.kind, TransportErrorKind::Connect, "{}", err.message);
        assert!(
            err.message.starts_with(&format!(
                "error sending request for url (http://127.0.0.1:{port}/api/v2/routing/queues?name=qqq"
            )),
            "{}",
            err.message
        );
        assert!(err.message.len() < 600, "{}", err.message);
    }
}
