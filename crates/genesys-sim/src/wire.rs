//! Pieces of the Genesys wire format shared by several endpoints: instants, intervals, request
//! parsing, filter shapes and the list of metric names Genesys knows.

use std::fmt::Write as _;

use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, de::DeserializeOwned};

use crate::error::ApiError;

/// Every metric name of the vendor's `ConversationAggregationQuery.metrics` enum. Names outside it
/// are rejected; names inside it that the simulator does not compute are accepted and never returned.
pub(crate) const METRICS: [&str; 82] = [
    "nAgentDeclined",
    "nAlertExpired",
    "nBlindTransferred",
    "nBotInteractions",
    "nCallbackAttempts",
    "nCallbackOverSla",
    "nCallbackScheduled",
    "nCfcOffered",
    "nCobrowseSessions",
    "nConnected",
    "nConsult",
    "nConsultTransferred",
    "nConversations",
    "nError",
    "nOffered",
    "nOutbound",
    "nOutboundAbandoned",
    "nOutboundAttempted",
    "nOutboundConnected",
    "nOverSla",
    "nStateTransitionError",
    "nTakeover",
    "nTransferred",
    "oAudioMessageCount",
    "oCallbackServiceLevel",
    "oExternalAudioMessageCount",
    "oExternalMediaCount",
    "oMediaCount",
    "oMessageCount",
    "oMessageSegmentCount",
    "oMessageTurn",
    "oServiceLevel",
    "oServiceTarget",
    "oSkillExpressionApplications",
    "tAbandon",
    "tAcd",
    "tActiveCallback",
    "tActiveCallbackComplete",
    "tAcw",
    "tAgentResponseTime",
    "tAgentVideoConnected",
    "tAlert",
    "tAnswered",
    "tAverageAgentResponseTime",
    "tAverageCustomerResponseTime",
    "tBarging",
    "tCallbackAbandon",
    "tCallbackConnect",
    "tCallbackNotReached",
    "tCallbackVirtualWait",
    "tCfcAbandon",
    "tCfcAcd",
    "tCfcAnswered",
    "tCfcFlowOut",
    "tCoaching",
    "tCoachingComplete",
    "tConnected",
    "tContacting",
    "tDialing",
    "tFirstConnect",
    "tFirstDial",
    "tFirstEngagement",
    "tFirstResponse",
    "tFlowOut",
    "tHandle",
    "tHeld",
    "tHeldComplete",
    "tIvr",
    "tMonitoring",
    "tMonitoringComplete",
    "tNotResponding",
    "tPark",
    "tParkComplete",
    "tScreenMonitoring",
    "tShortAbandon",
    "tSnippetRecord",
    "tTalk",
    "tTalkComplete",
    "tTransmitting",
    "tUserResponseTime",
    "tVoicemail",
    "tWait",
];

pub(crate) fn is_known_metric(name: &str) -> bool {
    METRICS.contains(&name)
}

/// An instant as Genesys writes it: UTC, millisecond precision, `Z`.
pub(crate) fn format_ms(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub(crate) fn format_interval(start_ms: i64, end_ms: i64) -> String {
    format!("{}/{}", format_ms(start_ms), format_ms(end_ms))
}

/// Parses an ISO-8601 `start/end` interval of two instants into milliseconds, end exclusive.
pub(crate) fn parse_interval(interval: &str) -> Result<(i64, i64), ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Invalid interval '{interval}': expected ISO-8601 'start/end' with start before end"
        ))
    };
    let (start, end) = interval.split_once('/').ok_or_else(bad)?;
    let start: Timestamp = start.trim().parse().map_err(|_| bad())?;
    let end: Timestamp = end.trim().parse().map_err(|_| bad())?;
    if start >= end {
        return Err(bad());
    }
    Ok((start.as_millisecond(), end.as_millisecond()))
}

/// Deserializes a request body, naming the offending field (path) in the 400 message.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    Json::<T>::from_bytes(bytes)
        .map(|Json(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// `and` / `or` of a filter or clause.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Logic {
    And,
    Or,
}

impl Logic {
    /// Combines booleans; an empty list constrains nothing.
    pub(crate) fn combine(self, mut items: impl Iterator<Item = bool>) -> bool {
        match self {
            Logic::And => items.all(|b| b),
            Logic::Or => {
                let mut any_item = false;
                for item in items {
                    if item {
                        return true;
                    }
                    any_item = true;
                }
                !any_item
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Operator {
    #[default]
    Matches,
    Exists,
    NotExists,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum PredicateType {
    Dimension,
    Property,
    Metric,
}

/// A `NumericRange` of a predicate (`gt`, `gte`, `lt`, `lte`).
#[derive(Clone, Copy, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumericRange {
    pub(crate) gt: Option<f64>,
    pub(crate) gte: Option<f64>,
    pub(crate) lt: Option<f64>,
    pub(crate) lte: Option<f64>,
}

impl NumericRange {
    pub(crate) fn contains(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }
}

/// A filter (`type`, `predicates`, `clauses`) generic over its predicate shape.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filter<P> {
    #[serde(rename = "type")]
    pub(crate) logic: Logic,
    #[serde(default = "Vec::new")]
    pub(crate) predicates: Vec<P>,
    #[serde(default = "Vec::new")]
    pub(crate) clauses: Vec<Clause<P>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Clause<P> {
    #[serde(rename = "type")]
    pub(crate) logic: Logic,
    pub(crate) predicates: Vec<P>,
}

impl<P> Filter<P> {
    /// Evaluates the filter, given how to evaluate one predicate.
    pub(crate) fn eval(&self, pred: &impl Fn(&P) -> bool) -> bool {
        let predicates = self.predicates.iter().map(pred);
        let clauses = self
            .clauses
            .iter()
            .map(|c| c.logic.combine(c.predicates.iter().map(pred)));
        self.logic.combine(predicates.chain(clauses))
    }

    /// Converts every predicate, keeping the filter's shape; the first failure wins.
    pub(crate) fn try_map<Q, E>(
        &self,
        mut f: impl FnMut(&P) -> Result<Q, E>,
    ) -> Result<Filter<Q>, E> {
        let predicates = self
            .predicates
            .iter()
            .map(&mut f)
            .collect::<Result<_, _>>()?;
        let mut clauses = Vec::with_capacity(self.clauses.len());
        for clause in &self.clauses {
            clauses.push(Clause {
                logic: clause.logic,
                predicates: clause
                    .predicates
                    .iter()
                    .map(&mut f)
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(Filter {
            logic: self.logic,
            predicates,
            clauses,
        })
    }
}

/// Percent-encodes a query-string component.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Splits `application/x-www-form-urlencoded` text (a query string or a form body) into pairs.
pub(crate) fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_have_milliseconds_and_z() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_714_554_020_123), "2024-05-01T09:00:20.123Z");
    }

    #[test]
    fn intervals_parse_or_fail() {
        let ok = parse_interval("2024-05-01T00:00:00.000Z/2024-05-02T00:00:00+01:00").unwrap();
        assert_eq!(ok.1 - ok.0, 23 * 3_600_000);
        for bad in [
            "2024-05-01T00:00:00Z",
            "2024-05-02T00:00:00Z/2024-05-01T00:00:00Z",
            "2024-05-01T00:00:00Z/2024-05-01T00:00:00Z",
            "yesterday/today",
            "2024-05-01/2024-05-02",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urlencoded_round_trips() {
        let pairs = parse_urlencoded("name=Sales%20Priority&id=a&id=b&x=1+2&pct=%zz");
        assert_eq!(pairs[0], ("name".into(), "Sales Priority".into()));
        assert_eq!(pairs[2].1, "b");
        assert_eq!(pairs[3].1, "1 2");
        assert_eq!(pairs[4].1, "%zz");
        assert_eq!(url_encode("Sales *"), "Sales%20%2A");
    }

    #[test]
    fn logic_of_empty_lists_constrains_nothing() {
        assert!(Logic::And.combine(std::iter::empty()));
        assert!(Logic::Or.combine(std::iter::empty()));
        assert!(!Logic::Or.combine([false, false].into_iter()));
        assert!(Logic::Or.combine([false, true].into_iter()));
    }
}
