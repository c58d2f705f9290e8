//! The command line and environment: where to listen, what to watch, how to reach Genesys.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use clap::{Args, Parser};
use secrecy::SecretString;
use sla_connect::process::UsageError;
use sla_connect::{
    ConnectionArgs, FormulaArgs, ObjectiveArgs, QueueArgs, duration_arg, named, parse, period_help,
};
use sla_core::{
    CalendarPeriod, Granularity, LiveWindow, Objective, Period, QueryInput, ServiceConfig,
    SlaError, Zone, parse_service_config,
};

const EXAMPLES: &str = "\
Examples:
  sla-http --demo
  sla-http --queue Support --queue Sales --threshold 20s --threshold configured --tz Europe/London
  sla-http --queue-name 'Sales*' --config sla.toml --abandons against --bind 0.0.0.0:8080

Routes: GET /api/v1/report, /api/v1/queues, /api/v1/live, /api/v1/live/stream (Server-Sent
Events), /api/v1/alerts, /metrics, / (the live wallboard), /healthz, /readyz.
With --store URL, GET /api/v1/report?source=store&... reads the history store `sla sync` fills.

The --config file holds [[objective]] tables, as `sla report --config` reads them, and the
service's [[alert]] rules and the [[webhook]] tables they notify (README, \"Alerts\"). The rules
are evaluated on every live refresh; webhook URLs and signing secrets may come from the
environment (url_env, secret_env).

Credentials come from GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET in the
environment or a .env file in the working directory, never from a flag. When SLA_HTTP_TOKEN is
set, /api/* wants `Authorization: Bearer <token>` and the dashboard wants it as the password
(the wallboard's browser sends that login with its stream, which /api/v1/live/stream accepts).
/metrics stays open unless SLA_HTTP_METRICS_TOKEN is set: then it wants `Authorization: Bearer
<metrics token>`, which Prometheus sends with `authorization: {credentials: ...}` in its scrape
config. Both tokens are compared in constant time.

Live API budget: each live interval costs one observations query per 100 watched queues, each
re-count of the rolling window one aggregates query per 100 queues and 10 views (two views per
distinct threshold). At the defaults (5s and 15s), watching 8 or 100 queues at 20s and
configured, the whole service sends 23 requests a minute, a tenth of the client's 240-a-minute
budget (docs/PERFORMANCE.md).";

/// The environment variable holding the token clients must present.
pub(crate) const TOKEN_VAR: &str = "SLA_HTTP_TOKEN";

/// The environment variable holding the token Prometheus must present at `/metrics`.
pub(crate) const METRICS_TOKEN_VAR: &str = "SLA_HTTP_METRICS_TOKEN";

/// The token clients must present, from the value of [`TOKEN_VAR`]: surrounding whitespace
/// (a trailing newline from a secrets file, say) is trimmed, as it is from a presented token,
/// and an empty value leaves the service open.
pub(crate) fn client_token(value: Option<String>) -> Option<SecretString> {
    let value = value?;
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| SecretString::from(trimmed.to_owned()))
}

/// The service's config file, when one is named: objectives, alert rules and webhooks, each
/// error prefixed with the file's path. A file with none of them is refused, as `sla report`
/// refuses a file without objectives: it is most likely the wrong file.
pub(crate) fn read_service_config(path: Option<&Path>) -> Result<ServiceConfig, UsageError> {
    let Some(path) = path else {
        return Ok(ServiceConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read config file {}: {e}", path.display())))?;
    let config =
        parse_service_config(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    if config.objectives.is_empty() && config.alerts.is_empty() && config.webhooks.is_empty() {
        return Err(UsageError(format!(
            "{}: {}",
            path.display(),
            SlaError::InvalidConfig(
                "no objectives and no alerts: add an [[objective]] with a name and a threshold, \
                 or an [[alert]]"
                    .to_owned()
            )
        )));
    }
    Ok(config)
}

/// Service levels of Genesys Cloud queues over HTTP: a JSON API, a wallboard dashboard and
/// Prometheus metrics.
#[derive(Debug, Parser)]
#[command(name = "sla-http", version, about, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// Address to listen on; port 0 takes a free port, printed at start.
    #[arg(
        long,
        env = "SLA_HTTP_BIND",
        hide_env_values = true,
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub(crate) bind: SocketAddr,
    /// IANA time zone of the watched window and the default of API requests [default: the
    /// system zone].
    #[arg(long, env = "SLA_HTTP_TZ", hide_env_values = true, value_name = "ZONE", value_parser = parse::<Zone>)]
    pub(crate) tz: Option<Zone>,
    /// How often today's figures of the watched queues (the watched period) are refreshed for
    /// /metrics and the wallboard.
    #[arg(long, env = "SLA_HTTP_REFRESH_INTERVAL", hide_env_values = true, default_value = "60s", value_name = "DURATION", value_parser = duration_arg)]
    pub(crate) refresh_interval: Duration,
    /// The longest a request may take before it is answered 504.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = duration_arg)]
    pub(crate) request_timeout: Duration,
    #[arg(long, env = "SLA_HTTP_STORE", hide_env_values = true, value_name = "URL", help = STORE_HELP)]
    pub(crate) store: Option<String>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[command(flatten)]
    pub(crate) alerts: AlertArgs,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// The help of `--store`, written out rather than as a doc comment, whose URLs rustdoc would
/// read as links.
const STORE_HELP: &str = "A history store filled by `sla sync` (sqlite:PATH, \
    sqlite:///ABSOLUTE/PATH or postgres://USER@HOST:PORT/DATABASE), from which \
    GET /api/v1/report?source=store answers with no Genesys request";

/// The queues, objectives and formula of `/metrics` and the dashboard, as `sla report` takes
/// them. With `--demo` and no queue, every demo queue at 20s and configured.
#[derive(Debug, Args)]
#[command(next_help_heading = "Watched queues (/metrics and the dashboard)")]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    pub(crate) queues: QueueArgs,
    /// The watched window: a calendar period in the service's zone, or a rolling
    /// `last-<duration>` ending at each refresh.
    #[arg(long, default_value_t = Period::Calendar(CalendarPeriod::Today), value_parser = parse::<Period>, long_help = watch_period_help())]
    pub(crate) period: Period,
    /// The interval of the dashboard's bars.
    #[arg(long, default_value_t = Granularity::Hour, value_parser = named(WATCH_GRANULARITIES, Granularity::as_str))]
    pub(crate) granularity: Granularity,
    #[command(flatten)]
    pub(crate) objectives: ObjectiveArgs,
    #[command(flatten)]
    pub(crate) formula: FormulaArgs,
}

/// The long help of `--period`: `sla report`'s, without its default, since the service's is
/// today (which clap adds).
fn watch_period_help() -> String {
    period_help().replace(" [default: last-7-days]", "")
}

/// The live figures of the watched queues: how they are read and who may follow them.
#[derive(Debug, Args)]
#[command(next_help_heading = "Live (/api/v1/live, its stream, the wallboard and the live gauges)")]
pub(crate) struct LiveArgs {
    /// The rolling window of live service levels, ending now: from 5m to 24h.
    #[arg(long, env = "SLA_HTTP_LIVE_WINDOW", hide_env_values = true, default_value_t = LiveWindow::default(), value_name = "DURATION", value_parser = parse::<LiveWindow>)]
    pub(crate) live_window: LiveWindow,
    /// How often the watched queues' observations (waiting, longest wait, agents) are polled,
    /// once for every subscriber; at least 1s.
    #[arg(long, env = "SLA_HTTP_LIVE_INTERVAL", hide_env_values = true, default_value = "5s", value_name = "DURATION", value_parser = at_least_a_second)]
    pub(crate) live_interval: Duration,
    /// How often the rolling window's counts are read again from the aggregates query; the
    /// polls in between reuse the last counts. The counts move only as conversations end, so
    /// re-reading them on every poll would triple the aggregates queries for little: at 15s,
    /// 4 re-counts a minute (one query each per 100 queues and 5 thresholds) beside the 12
    /// observations queries of a 5s poll; at least 1s.
    #[arg(long, env = "SLA_HTTP_LIVE_RECOUNT_INTERVAL", hide_env_values = true, default_value = "15s", value_name = "DURATION", value_parser = at_least_a_second)]
    pub(crate) live_recount_interval: Duration,
    /// How many clients may follow /api/v1/live/stream at once; one more is answered 503.
    #[arg(long, env = "SLA_HTTP_MAX_LIVE_SUBSCRIBERS", hide_env_values = true, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) max_live_subscribers: u32,
}

/// How alert notifications reach the webhooks of the config file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Alerts (the [[alert]] and [[webhook]] tables of --config)")]
pub(crate) struct AlertArgs {
    /// The longest one webhook request may take, connecting included, before it counts as a
    /// failed attempt; each notification gets 4 attempts, 1s, 2s and 4s apart; at least 1s.
    #[arg(long, env = "SLA_HTTP_WEBHOOK_TIMEOUT", hide_env_values = true, default_value = "10s", value_name = "DURATION", value_parser = at_least_a_second)]
    pub(crate) webhook_timeout: Duration,
}

/// A duration option of at least one second.
fn at_least_a_second(text: &str) -> Result<Duration, String> {
    let duration = duration_arg(text)?;
    if duration < Duration::from_secs(1) {
        return Err(format!("'{text}' is shorter than 1s"));
    }
    Ok(duration)
}

/// The dashboard's bars: finer than a day would not fit, coarser would show one bar.
const WATCH_GRANULARITIES: &[Granularity] =
    &[Granularity::HalfHour, Granularity::Hour, Granularity::Day];

impl Cli {
    /// The watched query as sla-core reads it; `objectives` are the config file's, already
    /// read. The zone stays unset, so the service's zone applies.
    pub(crate) fn watch_input(&self, objectives: Vec<Objective>) -> QueryInput {
        let watch = &self.watch;
        let thresholds = &watch.objectives.threshold;
        let mut input = QueryInput {
            period: Some(watch.period),
            granularity: watch.granularity,
            thresholds: if self.connection.demo
                && watch.queues.is_empty()
                && thresholds.is_empty()
                && objectives.is_empty()
            {
                ["20s", "configured"]
                    .iter()
                    .filter_map(|t| t.parse().ok())
                    .collect()
            } else {
                thresholds.clone()
            },
            objectives,
            ..QueryInput::default()
        };
        watch.queues.apply(&mut input);
        watch.formula.apply(&mut input);
        input
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
        assert_eq!(&cli.watch_input(Vec::new()), expect);
    }

    fn p<T: std::str::FromStr<Err = sla_core::SlaError>>(text: &str) -> T {
        text.parse().unwrap()
    }

    fn defaults() -> QueryInput {
        QueryInput {
            period: Some(p("today")),
            granularity: Granularity::Hour,
            ..QueryInput::default()
        }
    }

    #[test]
    fn watch_flags_become_the_same_query_as_sla_report() {
        check(&[], &defaults());
        check(
            &["--demo"],
            &QueryInput {
                thresholds: vec![p("20s"), p("configured")],
                ..defaults()
            },
        );
        check(
            &["--demo", "--queue", "Support", "--threshold", "30s"],
            &QueryInput {
                queues: vec!["Support".into()],
                thresholds: vec![p("30s")],
                ..defaults()
            },
        );
        check(
            &[
                "--queue-name", "Sales*", "--media", "voice,chat", "--period", "this-week",
                "--granularity", "day", "--abandons", "against", "--short-abandon", "5s",
                "--flowouts", "against",
            ],
            &QueryInput {
                queue_names: vec!["Sales*".into()],
                media: vec![p("voice"), p("chat")],
                period: Some(p("this-week")),
                granularity: Granularity::Day,
                abandons: p("against"),
                short_abandon: Some(p("5s")),
                flowouts: p("against"),
                ..defaults()
            },
        );
    }

    #[test]
    fn the_live_query_is_the_watched_one_over_the_rolling_window() {
        let cli = Cli::try_parse_from([
            "sla-http", "--queue", "Support", "--period", "this-week", "--granularity", "day",
            "--threshold", "configured", "--abandons", "against", "--live-window", "15m",
        ])
        .unwrap();
        let watch = cli.watch_input(Vec::new());
        assert_eq!(
            watch.clone().over_live_window(cli.live.live_window),
            QueryInput {
                period: Some(p("last-15m")),
                granularity: Granularity::Total,
                ..watch
            }
        );
    }

    #[test]
    fn the_client_token_is_trimmed_like_a_presented_one() {
        use secrecy::ExposeSecret as _;
        let token = |value: Option<&str>| {
            client_token(value.map(str::to_owned)).map(|t| t.expose_secret().to_owned())
        };
        assert_eq!(
            token(Some(" s3cret-token\n")).as_deref(),
            Some("s3cret-token")
        );
        assert_eq!(token(Some("s3cret-token")).as_deref(), Some("s3cret-token"));
        assert_eq!(token(Some(" \t\n")), None);
        assert_eq!(token(Some("")), None);
        assert_eq!(token(None), None);
    }

    #[test]
    fn service_flags_are_read() {
        let cli = Cli::try_parse_from([
            "sla-http", "--bind", "127.0.0.1:0", "--refresh-interval", "15s", "--tz", "UTC",
            "--request-timeout", "1m30s",
        ])
        .unwrap();
        assert_eq!(cli.bind.to_string(), "127.0.0.1:0");
        assert_eq!(cli.refresh_interval, Duration::from_secs(15));
        assert_eq!(cli.request_timeout, Duration::from_secs(90));
        assert_eq!(cli.tz.as_ref().map(Zone::name), Some("UTC"));
        assert!(Cli::try_parse_from(["sla-http", "--refresh-interval", "0s"]).is_err());
        // The live settings and their bounds.
        assert_eq!(cli.live.live_window.to_string(), "30m");
        assert_eq!(cli.live.live_interval, Duration::from_secs(5));
        assert_eq!(cli.live.live_recount_interval, Duration::from_secs(15));
        assert_eq!(cli.live.max_live_subscribers, 500);
        let live = Cli::try_parse_from([
            "sla-http",
            "--live-window",
            "1h",
            "--live-interval",
            "2s",
            "--live-recount-interval",
            "1m",
            "--max-live-subscribers",
            "20",
        ])
        .unwrap();
        assert_eq!(live.live.live_window.to_string(), "1h");
        assert_eq!(live.live.live_interval, Duration::from_secs(2));
        assert_eq!(live.live.live_recount_interval, Duration::from_mins(1));
        assert_eq!(live.live.max_live_subscribers, 20);
        assert_eq!(cli.alerts.webhook_timeout, Duration::from_secs(10));
        let alerts = Cli::try_parse_from(["sla-http", "--webhook-timeout", "3s"]).unwrap();
        assert_eq!(alerts.alerts.webhook_timeout, Duration::from_secs(3));
        assert!(Cli::try_parse_from(["sla-http", "--webhook-timeout", "200ms"]).is_err());
        for bad in [
            ["--live-window", "2m"],
            ["--live-window", "25h"],
            ["--live-interval", "500ms"],
            ["--live-recount-interval", "0s"],
            ["--max-live-subscribers", "0"],
        ] {
            assert!(
                Cli::try_parse_from(std::iter::once("sla-http").chain(bad)).is_err(),
                "{bad:?}"
            );
        }
        assert!(Cli::try_parse_from(["sla-http", "--threshold", "soon"]).is_err());
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("[default: today]"), "{help}");
        assert!(
            !help.contains("last-7-days]"),
            "sla report's default: {help}"
        );
    }
}
