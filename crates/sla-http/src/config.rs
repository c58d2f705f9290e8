//! The command line and environment: where to listen, what to watch, how to reach Genesys.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser};
use sla_connect::ConnectionArgs;
use sla_core::{AbandonPolicy, FlowOutPolicy, QueryInput, Threshold, parse_objective_threshold};

const EXAMPLES: &str = "\
Examples:
  sla-http --demo
  sla-http --queue Support --queue Sales --threshold 20s --threshold configured --tz Europe/London
  sla-http --queue-name 'Sales*' --config sla.toml --abandons against --bind 0.0.0.0:8080

Routes: GET /api/v1/report, /api/v1/queues, /metrics, /, /healthz, /readyz.

Credentials come from GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET in the
environment or a .env file in the working directory, never from a flag. When SLA_HTTP_TOKEN is
set, /api/* wants `Authorization: Bearer <token>` and the dashboard wants it as the password.";

/// The environment variable holding the token clients must present.
pub(crate) const TOKEN_VAR: &str = "SLA_HTTP_TOKEN";

/// Service levels of Genesys Cloud queues over HTTP: a JSON API, a wallboard dashboard and
/// Prometheus metrics.
#[derive(Debug, Parser)]
#[command(name = "sla-http", version, about, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// Address to listen on; port 0 takes a free port, printed at start.
    #[arg(
        long,
        env = "SLA_HTTP_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub(crate) bind: SocketAddr,
    /// IANA time zone of the watched window and the default of API requests [default: the
    /// system zone].
    #[arg(long, env = "SLA_HTTP_TZ", value_name = "ZONE")]
    pub(crate) tz: Option<String>,
    /// How often the watched queues are refreshed for /metrics and the dashboard, which
    /// reloads itself as often.
    #[arg(long, env = "SLA_HTTP_REFRESH_INTERVAL", default_value = "60s", value_name = "DURATION", value_parser = duration_arg)]
    pub(crate) refresh_interval: Duration,
    /// The longest a request may take before it is answered 504.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = duration_arg)]
    pub(crate) request_timeout: Duration,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// The queues, objectives and formula of `/metrics` and the dashboard, as `sla report` takes
/// them. With `--demo` and no queue, every demo queue at 20s and configured.
#[derive(Debug, Args)]
#[command(next_help_heading = "Watched queues (/metrics and the dashboard)")]
pub(crate) struct WatchArgs {
    /// A queue by id (a UUID) or exact name, ignoring case; repeatable.
    #[arg(long = "queue", value_name = "ID_OR_NAME")]
    pub(crate) queue: Vec<String>,
    /// Queues whose name matches a pattern with `*` wildcards, such as 'Sales*'; repeatable.
    #[arg(long = "queue-name", value_name = "PATTERN")]
    pub(crate) queue_name: Vec<String>,
    /// Every queue in the org.
    #[arg(long)]
    pub(crate) all_queues: bool,
    /// Only these media types (voice, callback, chat, email, message, ...), comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) media: Vec<String>,
    /// The rolling window, a calendar period in the service's zone.
    #[arg(long, default_value = "today", value_parser = PossibleValuesParser::new([
        "today", "yesterday", "this-week", "last-week", "this-month", "last-month", "last-7-days", "last-30-days",
    ]))]
    pub(crate) period: String,
    /// The interval of the dashboard's bars.
    #[arg(long, default_value = "hour", value_parser = PossibleValuesParser::new(["30m", "hour", "day"]))]
    pub(crate) granularity: String,
    /// A threshold every queue is measured at (20s, 1m30s, 45000ms), or `configured` for each
    /// queue's own Genesys target; repeatable [default: 20s].
    #[arg(long, value_name = "DURATION|configured", value_parser = threshold_arg)]
    pub(crate) threshold: Vec<String>,
    /// A TOML file of named objectives, each with a threshold, an optional target and queues.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// How abandons count: ignore (aw/a), against (aw/(a+ab)), after-threshold
    /// (aw/(a+ab-abw)) or for ((aw+abw)/(a+ab)).
    #[arg(long, default_value = "ignore", value_parser = names(AbandonPolicy::ALL, AbandonPolicy::as_str))]
    pub(crate) abandons: String,
    /// Abandons with a shorter wait leave numerator and denominator.
    #[arg(long, value_name = "DURATION", value_parser = threshold_duration_arg)]
    pub(crate) short_abandon: Option<String>,
    /// Whether flow-outs join the denominator as misses.
    #[arg(long, default_value = "ignore", value_parser = names(FlowOutPolicy::ALL, FlowOutPolicy::as_str))]
    pub(crate) flowouts: String,
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> PossibleValuesParser {
    PossibleValuesParser::new(all.iter().map(|v| name(*v)))
}

fn threshold_arg(text: &str) -> Result<String, String> {
    parse_objective_threshold(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn threshold_duration_arg(text: &str) -> Result<String, String> {
    Threshold::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn duration_arg(text: &str) -> Result<Duration, String> {
    let threshold = Threshold::parse(text).map_err(|e| e.to_string())?;
    if threshold.as_millis() == 0 {
        return Err(format!("'{text}' must be longer than zero"));
    }
    Ok(Duration::from_millis(threshold.as_millis()))
}

impl Cli {
    /// The watched query as sla-core reads it; `config` is the config file's text, already
    /// read. The zone stays unset, so the service's zone applies.
    pub(crate) fn watch_input(&self, config: Option<String>) -> QueryInput {
        let watch = &self.watch;
        let no_queue = watch.queue.is_empty() && watch.queue_name.is_empty() && !watch.all_queues;
        let thresholds =
            if self.connection.demo && no_queue && watch.threshold.is_empty() && config.is_none() {
                vec!["20s".to_owned(), "configured".to_owned()]
            } else {
                watch.threshold.clone()
            };
        QueryInput {
            queues: watch.queue.clone(),
            queue_names: watch.queue_name.clone(),
            all_queues: watch.all_queues,
            media: watch.media.clone(),
            by_media: false,
            from: None,
            to: None,
            period: Some(watch.period.clone()),
            tz: None,
            granularity: Some(watch.granularity.clone()),
            thresholds,
            config,
            abandons: Some(watch.abandons.clone()),
            short_abandon: watch.short_abandon.clone(),
            flowouts: Some(watch.flowouts.clone()),
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[track_caller]
    fn check(args: &[&str], expect: &QueryInput) {
        let cli =
            Cli::try_parse_from(std::iter::once("sla-http").chain(args.iter().copied())).unwrap();
        assert_eq!(&cli.watch_input(None), expect);
    }

    fn defaults() -> QueryInput {
        QueryInput {
            period: Some("today".into()),
            granularity: Some("hour".into()),
            abandons: Some("ignore".into()),
            flowouts: Some("ignore".into()),
            ..QueryInput::default()
        }
    }

    #[test]
    fn watch_flags_become_the_same_query_as_sla_report() {
        check(&[], &defaults());
        check(
            &["--demo"],
            &QueryInput {
                thresholds: vec!["20s".into(), "configured".into()],
                ..defaults()
            },
        );
        check(
            &["--demo", "--queue", "Support", "--threshold", "30s"],
            &QueryInput {
                queues: vec!["Support".into()],
                thresholds: vec!["30s".into()],
                ..defaults()
            },
        );
        check(
            &[
                "--queue-name",
                "Sales*",
                "--media",
                "voice,chat",
                "--period",
                "this-week",
                "--granularity",
                "day",
                "--abandons",
                "against",
                "--short-abandon",
                "5s",
                "--flowouts",
                "against",
            ],
            &QueryInput {
                queue_names: vec!["Sales*".into()],
                media: vec!["voice".into(), "chat".into()],
                period: Some("this-week".into()),
                granularity: Some("day".into()),
                abandons: Some("against".into()),
                short_abandon: Some("5s".into()),
                flowouts: Some("against".into()),
                ..defaults()
            },
        );
    }

    #[test]
    fn service_flags_are_read() {
        let cli = Cli::try_parse_from([
            "sla-http",
            "--bind",
            "127.0.0.1:0",
            "--refresh-interval",
            "15s",
            "--tz",
            "UTC",
            "--request-timeout",
            "1m30s",
        ])
        .unwrap();
        assert_eq!(cli.bind.to_string(), "127.0.0.1:0");
        assert_eq!(cli.refresh_interval, Duration::from_secs(15));
        assert_eq!(cli.request_timeout, Duration::from_secs(90));
        assert_eq!(cli.tz.as_deref(), Some("UTC"));
        assert!(Cli::try_parse_from(["sla-http", "--refresh-interval", "0s"]).is_err());
        assert!(Cli::try_parse_from(["sla-http", "--threshold", "soon"]).is_err());
    }
}
