//! `--fail-below`: which service levels of a report fall short, named so a person can act.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use crate::error::SlaError;
use crate::model::MediaType;
use crate::report::{ServiceLevel, SlaReport};

/// The bar a service level must reach (`--fail-below`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FailBelow {
    /// One percentage for every objective.
    Percent(f64),
    /// Each objective's own target; objectives without one are not checked.
    Target,
}

impl FromStr for FailBelow {
    type Err = SlaError;

    /// Reads a percentage from 0 to 100, or `target`.
    fn from_str(text: &str) -> Result<Self, SlaError> {
        if text.trim().eq_ignore_ascii_case("target") {
            return Ok(FailBelow::Target);
        }
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p))
            .map(FailBelow::Percent)
            .ok_or_else(|| SlaError::InvalidPercent(text.to_owned()))
    }
}

/// Which rows `--fail-below` looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailScope {
    /// Each interval of each queue as well as the whole window.
    pub intervals: bool,
}

/// A service level below its bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Shortfall {
    /// The queue's name.
    pub queue: String,
    /// The media type, for rows split by media type.
    pub media: Option<MediaType>,
    /// The interval, when an interval fell short.
    pub interval: Option<(Timestamp, Timestamp)>,
    /// The objective.
    pub objective: String,
    /// The service level.
    pub percent: f64,
    /// The bar it missed.
    pub bar: f64,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.queue)?;
        if let Some(media) = self.media {
            write!(f, " ({media})")?;
        }
        if let Some((start, end)) = self.interval {
            write!(f, " from {start} to {end}")?;
        }
        write!(
            f,
            ", objective {}: {:.2} % is below {:.2} %",
            self.objective, self.percent, self.bar
        )
    }
}

impl SlaReport {
    /// Every service level of a queue row (and, with `scope.intervals`, of its intervals) that
    /// is below `bar`, in report order. A percentage of `n/a` never falls short.
    #[must_use]
    pub fn shortfalls(&self, bar: FailBelow, scope: FailScope) -> Vec<Shortfall> {
        let mut found = Vec::new();
        for row in &self.queues {
            let mut check = |levels: &[ServiceLevel], interval| {
                for level in levels {
                    let limit = match bar {
                        FailBelow::Percent(p) => Some(p),
                        FailBelow::Target => level.target_percent,
                    };
                    if let (Some(percent), Some(limit)) = (level.percent, limit)
                        && percent < limit
                    {
                        found.push(Shortfall {
                            queue: row.queue_name.clone(),
                            media: row.media_type,
                            interval,
                            objective: level.objective.clone(),
                            percent,
                            bar: limit,
                        });
                    }
                }
            };
            check(&row.service_levels, None);
            if scope.intervals {
                for interval in &row.intervals {
                    check(
                        &interval.service_levels,
                        Some((interval.start, interval.end)),
                    );
                }
            }
        }
        found
    }
}
