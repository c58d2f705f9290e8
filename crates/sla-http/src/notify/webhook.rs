//! A webhook ready to post to: its URL read (from the file or the environment) and checked,
//! its signing secret read from the environment, and the signature of a body.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use reqwest::Url;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;
use sla_connect::process::UsageError;
use sla_core::{WebhookFormat, WebhookSpec, WebhookUrl};

/// The header carrying the body's signature: `sha256=<hex HMAC-SHA256 of the exact body>`.
pub(crate) const SIGNATURE_HEADER: &str = "x-sla-signature";

/// A webhook from the config file, with its URL and secret resolved.
pub(crate) struct Webhook {
    pub(crate) name: String,
    pub(crate) format: WebhookFormat,
    /// Chat services put their credential in the path: never logged, never in `Debug`.
    pub(crate) url: Url,
    secret: Option<SecretString>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("format", &self.format)
            .field(
                "url",
                &format_args!("{}", self.url.origin().ascii_serialization()),
            )
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Resolves `spec`, reading environment variables through `env` (`std::env::var` in the
    /// service). A missing or empty variable, or a URL that is not http(s), is a usage error
    /// naming the webhook and the variable, never the URL or the secret.
    pub(crate) fn from_spec(
        spec: &WebhookSpec,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Webhook, UsageError> {
        let name = &spec.name;
        let read = |var: &str| {
            env(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    UsageError(format!(
                        "webhook '{name}': the environment variable {var} is not set"
                    ))
                })
        };
        let text = match &spec.url {
            WebhookUrl::Literal(url) => url.clone(),
            WebhookUrl::Env(var) => read(var)?,
        };
        let url = Url::parse(&text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                UsageError(format!(
                    "webhook '{name}': the URL is not a valid http:// or https:// URL"
                ))
            })?;
        let secret = spec
            .secret_env
            .as_deref()
            .map(read)
            .transpose()?
            .map(SecretString::from);
        Ok(Webhook {
            name: name.clone(),
            format: spec.format,
            url,
            secret,
        })
    }

    /// The signature header's value for `body`, when the webhook has a secret.
    pub(crate) fn signature(&self, body: &[u8]) -> Option<String> {
        self.secret
            .as_ref()
            .and_then(|secret| sign(secret.expose_secret().as_bytes(), body))
    }
}

/// `sha256=<hex HMAC-SHA256 of body under key>`, as GitHub signs its webhooks.
/// HMAC takes a key of any length, so this is `None` only in theory.
pub(crate) fn sign(key: &[u8], body: &[u8]) -> Option<String> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).ok()?;
    mac.update(body);
    Some(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}
