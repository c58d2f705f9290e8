//! The report API's query parameters, read into sla-core's `QueryInput`, the same value the
//! CLI's flags become, so both binaries validate through one parser.

use std::str::FromStr;

use sla_core::{LiveWindow, QueryInput, SlaError};

use crate::error::ApiError;

/// The parameters `GET /api/v1/report` takes; each matches the `sla report` flag of the same
/// name with `-` written `_`.
pub(crate) const REPORT_PARAMETERS: &[&str] = &[
    "queue", "queue_name", "all_queues", "media", "by_media", "from", "to", "period", "tz",
    "granularity", "threshold", "abandons", "short_abandon", "flowouts", "source",
];

/// Reads the report parameters, each value through the same `FromStr` the CLI's flags use.
/// Repeatable ones (`queue`, `queue_name`, `media`, `threshold`) collect every value; the
/// others may appear once. Unknown names are refused, so a typo never silently changes the
/// query.
pub(crate) fn report_input(pairs: &[(String, String)]) -> Result<QueryInput, ApiError> {
    let mut input = QueryInput::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let repeatable = matches!(
            name.as_str(),
            "queue" | "queue_name" | "media" | "threshold"
        );
        if !repeatable {
            if seen.contains(&name.as_str()) {
                return Err(ApiError::parameter(
                    "duplicate_parameter",
                    format!("parameter '{name}' is given more than once"),
                ));
            }
            seen.push(name);
        }
        match name.as_str() {
            "queue" => input.queues.push(value.clone()),
            "queue_name" => input.queue_names.push(value.clone()),
            "media" => {
                for media in value.split(',') {
                    input.media.push(read(name, media)?);
                }
            }
            "threshold" => input.thresholds.push(read(name, value)?),
            "all_queues" => input.all_queues = flag(name, value)?,
            "by_media" => input.by_media = flag(name, value)?,
            "from" => input.from = Some(read(name, value)?),
            "to" => input.to = Some(read(name, value)?),
            "period" => input.period = Some(read(name, value)?),
            "tz" => input.tz = Some(read(name, value)?),
            "granularity" => input.granularity = read(name, value)?,
            "abandons" => input.abandons = read(name, value)?,
            "short_abandon" => input.short_abandon = Some(read(name, value)?),
            "flowouts" => input.flowouts = read(name, value)?,
            "source" => input.source = read(name, value)?,
            _ => return Err(unknown(name, REPORT_PARAMETERS)),
        }
    }
    Ok(input)
}

/// The parameters `GET /api/v1/live` takes: the report's queues, objectives, formula and zone,
/// and the rolling `window` (as `sla now --window`) in place of dates, periods and granularity.
pub(crate) const LIVE_PARAMETERS: &[&str] = &[
    "queue", "queue_name", "all_queues", "media", "by_media", "window", "tz", "threshold",
    "abandons", "short_abandon", "flowouts",
];

/// Reads the live parameters into the query `sla now` builds: the rolling window (default
/// 30m) as the period, one interval, from the aggregates.
pub(crate) fn live_input(pairs: &[(String, String)]) -> Result<QueryInput, ApiError> {
    let mut window: Option<LiveWindow> = None;
    let mut rest = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        match name.as_str() {
            "window" if window.is_some() => {
                return Err(ApiError::parameter(
                    "duplicate_parameter",
                    "parameter 'window' is given more than once",
                ));
            }
            "window" => window = Some(read(name, value)?),
            known if LIVE_PARAMETERS.contains(&known) => rest.push((name.clone(), value.clone())),
            _ => return Err(unknown(name, LIVE_PARAMETERS)),
        }
    }
    let input = report_input(&rest)?;
    Ok(input.over_live_window(window.unwrap_or_default()))
}

fn read<T: FromStr<Err = SlaError>>(name: &str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|e| ApiError::parameter_value(name, &e))
}

/// Reads the queue listing's parameters: an optional `name` pattern.
pub(crate) fn queues_pattern(pairs: &[(String, String)]) -> Result<Option<String>, ApiError> {
    let mut pattern = None;
    for (name, value) in pairs {
        match name.as_str() {
            "name" if pattern.is_none() => pattern = Some(value.clone()),
            "name" => {
                return Err(ApiError::parameter(
                    "duplicate_parameter",
                    "parameter 'name' is given more than once",
                ));
            }
            _ => return Err(unknown(name, &["name"])),
        }
    }
    Ok(pattern)
}

fn unknown(name: &str, known: &[&str]) -> ApiError {
    ApiError::parameter(
        "unknown_parameter",
        format!(
            "unknown parameter '{name}': expected one of {}",
            known.join(", ")
        ),
    )
}

/// A boolean parameter: `true`, `false`, `1`, `0`, or present without a value (true).
fn flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim() {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::parameter(
            "invalid_parameter",
            format!("invalid {name} '{value}': expected true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use sla_core::Granularity;

    use super::*;

    fn p<T: FromStr<Err = SlaError>>(text: &str) -> T {
        text.parse().unwrap()
    }

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[track_caller]
    fn check(query: &str, expect: Result<QueryInput, &str>) {
        let got = report_input(&pairs(query)).map_err(|e| format!("{e:?}"));
        match (got, expect) {
            (Ok(got), Ok(expect)) => assert_eq!(got, expect),
            (Err(got), Err(expect)) => assert!(got.contains(expect), "{got} lacks {expect}"),
            (got, expect) => panic!("got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn parameters_map_onto_the_cli_query() {
        check("", Ok(QueryInput::default()));
        check(
            "queue=Support&queue=Sales&queue_name=Bill*&all_queues=true&media=voice,chat&media=email&by_media=1\
             &from=2024-01-01&to=2024-01-31&tz=Europe/London&granularity=day&threshold=20s&threshold=configured\
             &abandons=against&short_abandon=5s&flowouts=against&source=aggregates",
            Ok(QueryInput {
                queues: vec!["Support".into(), "Sales".into()],
                queue_names: vec!["Bill*".into()],
                all_queues: true,
                media: vec![p("voice"), p("chat"), p("email")],
                by_media: true,
                from: Some(p("2024-01-01")),
                to: Some(p("2024-01-31")),
                period: None,
                tz: Some(p("Europe/London")),
                granularity: p("day"),
                thresholds: vec![p("20s"), p("configured")],
                objectives: Vec::new(),
                abandons: p("against"),
                short_abandon: Some(p("5s")),
                flowouts: p("against"),
                source: p("aggregates"),
            }),
        );
        check(
            "period=yesterday&all_queues",
            Ok(QueryInput {
                period: Some(p("yesterday")),
                all_queues: true,
                ..QueryInput::default()
            }),
        );
        check("all_queues=false", Ok(QueryInput::default()));
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        check("queues=Support", Err("unknown parameter 'queues'"));
        check("config=sla.toml", Err("unknown parameter 'config'"));
        check(
            "from=2024-01-01&from=2024-02-01",
            Err("'from' is given more than once"),
        );
        check("all_queues=yes", Err("invalid all_queues 'yes'"));
        check("by_media=maybe", Err("invalid by_media 'maybe'"));
        // Values are read by the same parsers as the CLI's flags, naming what is expected.
        check("granularity=15m", Err("unknown granularity '15m'"));
        check("period=fortnight", Err("or a rolling last-<duration>"));
        check("media=voice,", Err("unknown media type ''"));
        check("threshold=soon", Err("invalid threshold 'soon'"));
        check("tz=Mars/Olympus", Err("unknown time zone 'Mars/Olympus'"));
        check("from=yesterday", Err("invalid date or instant 'yesterday'"));
    }

    #[test]
    fn live_parameters_are_the_reports_with_a_rolling_window() {
        let live = |query: &str| live_input(&pairs(query)).map_err(|e| format!("{e:?}"));
        assert_eq!(
            live("queue=Support&window=15m&threshold=configured&by_media=true&tz=UTC").unwrap(),
            QueryInput {
                queues: vec!["Support".into()],
                by_media: true,
                period: Some(p("last-15m")),
                granularity: Granularity::Total,
                thresholds: vec![p("configured")],
                tz: Some(p("UTC")),
                ..QueryInput::default()
            }
        );
        assert_eq!(live("").unwrap().period, Some(p("last-30m")));
        for (query, expect) in [
            ("window=2m", "invalid window '2m'"),
            ("window=25h", "invalid window '25h'"),
            ("window=soon", "invalid duration 'soon'"),
            ("window=15m&window=20m", "'window' is given more than once"),
            ("period=today", "unknown parameter 'period'"),
            ("granularity=hour", "unknown parameter 'granularity'"),
            ("from=2024-01-01", "unknown parameter 'from'"),
            ("source=details", "unknown parameter 'source'"),
            ("threshold=soon", "invalid threshold 'soon'"),
        ] {
            let error = live(query).unwrap_err();
            assert!(error.contains(expect), "{query}: {error}");
        }
    }

    #[test]
    fn the_queue_listing_takes_a_name_pattern_only() {
        assert_eq!(queues_pattern(&pairs("")).unwrap(), None);
        assert_eq!(
            queues_pattern(&pairs("name=Sales*")).unwrap(),
            Some("Sales*".to_owned())
        );
        assert!(queues_pattern(&pairs("name=a&name=b")).is_err());
        assert!(queues_pattern(&pairs("queue=a")).is_err());
    }
}
