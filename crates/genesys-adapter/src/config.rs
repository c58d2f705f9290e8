//! Client configuration: region, API and login bases, credentials, timeouts, retry and rate settings.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::GenesysError;

macro_rules! regions {
    ($($variant:ident => $name:literal, $domain:literal;)*) => {
        /// A Genesys Cloud region, as the official SDKs name it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Region {
            $(
                #[doc = concat!("`", $name, "` (`", $domain, "`)")]
                $variant,
            )*
        }

        impl Region {
            /// Every region, in the SDKs' order.
            pub const ALL: &'static [Region] = &[$(Region::$variant),*];

            /// The SDK name with hyphens, such as `eu-west-1`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Region::$variant => $name,)*
                }
            }

            /// The region's domain, such as `mypurecloud.ie`.
            pub fn domain(self) -> &'static str {
                match self {
                    $(Region::$variant => $domain,)*
                }
            }
        }
    };
}

// From the SDKs' region tables (API.md §4).
regions! {
    UsEast1 => "us-east-1", "mypurecloud.com";
    UsWest2 => "us-west-2", "usw2.pure.cloud";
    UsEast2 => "us-east-2", "use2.us-gov-pure.cloud";
    CaCentral1 => "ca-central-1", "cac1.pure.cloud";
    SaEast1 => "sa-east-1", "sae1.pure.cloud";
    MxCentral1 => "mx-central-1", "mxc1.pure.cloud";
    EuWest1 => "eu-west-1", "mypurecloud.ie";
    EuWest2 => "eu-west-2", "euw2.pure.cloud";
    EuCentral1 => "eu-central-1", "mypurecloud.de";
    EuCentral2 => "eu-central-2", "euc2.pure.cloud";
    EuscDeEast1 => "eusc-de-east-1", "edee1.eusc-pure.cloud";
    MeCentral1 => "me-central-1", "mec1.pure.cloud";
    ApSouth1 => "ap-south-1", "aps1.pure.cloud";
    ApNortheast1 => "ap-northeast-1", "mypurecloud.jp";
    ApNortheast2 => "ap-northeast-2", "apne2.pure.cloud";
    ApNortheast3 => "ap-northeast-3", "apne3.pure.cloud";
    ApSoutheast1 => "ap-southeast-1", "apse1.pure.cloud";
    ApSoutheast2 => "ap-southeast-2", "mypurecloud.com.au";
}

impl Region {
    /// The API base URL, `https://api.<domain>`.
    pub fn api_base(self) -> String {
        format!("https://api.{}", self.domain())
    }
}

impl Default for Region {
    /// `us-east-1`, the SDKs' default.
    fn default() -> Self {
        Region::UsEast1
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Region {
    type Err = GenesysError;

    /// Reads an SDK name in either spelling (`eu-west-1`, `eu_west_1`) or a domain
    /// (`mypurecloud.ie`), ignoring case.
    fn from_str(s: &str) -> Result<Self, GenesysError> {
        let wanted = s.trim().to_ascii_lowercase();
        // The SDKs spell names with underscores and the CLI with hyphens, inconsistently even
        // within one table, so both are accepted everywhere.
        let hyphenated = wanted.replace('_', "-");
        Region::ALL
            .iter()
            .copied()
            .find(|r| r.name() == hyphenated || r.domain() == wanted)
            .ok_or_else(|| {
                GenesysError::Config(format!(
                    "unknown region '{s}': expected an SDK region name like us-east-1 or \
                     eu-west-1, or a domain like mypurecloud.ie (set an API base URL for other hosts)"
                ))
            })
    }
}

/// Which Genesys API the details path ([`sla_core::ports::VisitSource`]) reads conversations from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DetailsMode {
    /// Async details jobs for windows longer than a week whose end the data lake already holds
    /// (`dataAvailabilityDate`), the synchronous query otherwise.
    #[default]
    Auto,
    /// Always the synchronous details query, in pieces of at most a week.
    Query,
    /// Async details jobs whenever the data lake holds the window; the synchronous query when it
    /// does not yet (jobs would miss the most recent conversations).
    Jobs,
}

impl DetailsMode {
    /// `auto`, `query` or `jobs`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetailsMode::Auto => "auto",
            DetailsMode::Query => "query",
            DetailsMode::Jobs => "jobs",
        }
    }
}

impl fmt::Display for DetailsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetailsMode {
    type Err = GenesysError;

    fn from_str(s: &str) -> Result<Self, GenesysError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DetailsMode::Auto),
            "query" => Ok(DetailsMode::Query),
            "jobs" => Ok(DetailsMode::Jobs),
            _ => Err(GenesysError::Config(format!(
                "unknown details mode '{s}': expected auto, query or jobs"
            ))),
        }
    }
}

/// How to reach Genesys Cloud and how hard to push it.
///
/// Built with [`GenesysConfig::new`] and then adjusted field by field; [`crate::GenesysClient::new`]
/// checks the values. `Debug` shows the client id but never the secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GenesysConfig {
    /// The API base URL, such as `https://api.mypurecloud.ie` or `http://127.0.0.1:8080`.
    pub api_base: String,
    /// The login base URL; when `None` it is derived from the API base by replacing a leading
    /// `api.` in the host with `login.` (a base without `api.` is used as it is).
    pub login_base: Option<String>,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// The longest one HTTP request may take, response body included.
    pub request_timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
    /// The client-side budget of API requests per rolling minute (Genesys allows 300 per token).
    pub max_requests_per_minute: u32,
    /// How many API requests may be in flight at once.
    pub concurrency: usize,
    /// How many times one request may be sent, the first time included.
    pub max_attempts: u32,
    /// The most one request may spend waiting between attempts, all waits together.
    pub max_retry_wait: Duration,
    /// A `Retry-After` above this is not waited for: the request fails as throttled.
    pub max_retry_after: Duration,
    /// The first backoff ceiling after a transient failure; it doubles with each retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest span one aggregates query covers, in local days.
    pub chunk_days: u32,
    /// The most queue ids one request names.
    pub queues_per_request: usize,
    /// Which API conversation details come from.
    pub details_mode: DetailsMode,
    /// How long before the window a conversation may have started and still emit a metric
    /// inside it (default and most: 7 days, since an email can wait in a queue for days). The
    /// synchronous details query selects conversations by the day they started, so the days this
    /// reaches back are scanned too, newest ends first, stopping at the first conversation that
    /// ended before the window: the cost is the long conversations, not the days.
    pub details_lookback: Duration,
    /// How long to wait for a details job to finish before cancelling it.
    pub job_timeout: Duration,
}

impl GenesysConfig {
    /// A configuration for `region` with default limits: 240 requests per minute, 4 at a time,
    /// 8 attempts within 5 minutes of waiting, `Retry-After` up to 180 s, 7-day chunks; details
    /// from jobs or the query as the window suits, a day of lookback, jobs given 30 minutes.
    pub fn new(region: Region, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            api_base: region.api_base(),
            login_base: None,
            client_id: client_id.into(),
            client_secret,
            request_timeout: Duration::from_mins(1),
            connect_timeout: Duration::from_secs(10),
            max_requests_per_minute: 240,
            concurrency: 4,
            max_attempts: 8,
            max_retry_wait: Duration::from_mins(5),
            max_retry_after: Duration::from_mins(3),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            chunk_days: 7,
            queues_per_request: 100,
            details_mode: DetailsMode::Auto,
            details_lookback: Duration::from_hours(7 * 24),
            job_timeout: Duration::from_mins(30),
        }
    }

    /// Checks every value and resolves the two base URLs.
    pub(crate) fn validate(&self) -> Result<Endpoints, GenesysError> {
        let api = parse_base("API base", &self.api_base)?;
        let login = match &self.login_base {
            Some(base) => parse_base("login base", base)?,
            None => derive_login_base(&api),
        };
        if self.client_id.trim().is_empty() {
            return Err(GenesysError::Config("the client id is empty".to_owned()));
        }
        if self.client_secret.expose_secret().is_empty() {
            return Err(GenesysError::Config(
                "the client secret is empty".to_owned(),
            ));
        }
        let positive = [
            ("max requests per minute", self.max_requests_per_minute > 0),
            ("concurrency", self.concurrency > 0),
            ("max attempts", self.max_attempts > 0),
            ("chunk days", self.chunk_days > 0),
            ("request timeout", !self.request_timeout.is_zero()),
            ("connect timeout", !self.connect_timeout.is_zero()),
            ("job timeout", !self.job_timeout.is_zero()),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, ok)| !ok) {
            return Err(GenesysError::Config(format!("{name} must be above zero")));
        }
        // Genesys's queue listing pages hold 100 entries, so an id batch must fit in one page.
        if !(1..=100).contains(&self.queues_per_request) {
            return Err(GenesysError::Config(format!(
                "queues per request must be from 1 to 100, not {}",
                self.queues_per_request
            )));
        }
        // The lookback is scanned with the synchronous query, whose pieces span at most a week.
        if self.details_lookback > Duration::from_hours(7 * 24) {
            return Err(GenesysError::Config(format!(
                "details lookback must be at most 7 days, not {} s",
                self.details_lookback.as_secs()
            )));
        }
        Ok(Endpoints { api, login })
    }
}

/// The resolved base URLs, without trailing slashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoints {
    pub(crate) api: Url,
    pub(crate) login: Url,
}

impl Endpoints {
    /// `path` (starting with `/`) on the API host.
    pub(crate) fn api_url(&self, path: &str) -> Url {
        join(&self.api, path)
    }

    /// `path` (starting with `/`) on the login host.
    pub(crate) fn login_url(&self, path: &str) -> Url {
        join(&self.login, path)
    }
}

fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    // Keep any path prefix of the base (a proxy mount point), then append ours.
    let prefix = base.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}{path}"));
    url
}

fn parse_base(what: &str, text: &str) -> Result<Url, GenesysError> {
    let url = Url::parse(text.trim())
        .map_err(|e| GenesysError::Config(format!("invalid {what} '{text}': {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(GenesysError::Config(format!(
            "invalid {what} '{text}': expected an http or https URL like https://api.mypurecloud.com"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GenesysError::Config(format!(
            "invalid {what} '{text}': a base URL takes no query or fragment"
        )));
    }
    Ok(url)
}

/// The SDKs' rule: the login host is the API host with a leading `api.` replaced by `login.`.
/// A base without it (a local simulator) serves both.
fn derive_login_base(api: &Url) -> Url {
    let mut login = api.clone();
    if let Some(rest) = api.host_str().and_then(|h| h.strip_prefix("api.")) {
        // Replacing a domain label with another valid label cannot fail.
        let _ = login.set_host(Some(&format!("login.{rest}")));
    }
    login
}
