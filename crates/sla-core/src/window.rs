//! Windows as users give them: dates, instants and periods, resolved into a [`TimeWindow`] at a
//! given `now` in a zone.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::error::SlaError;
use crate::model::{CalendarPeriod, Threshold, TimeWindow, Zone};

/// A `--from`/`--to` value: a whole local day, or an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeArg {
    /// A date: whole local days in the query's zone.
    Date(Date),
    /// An RFC 3339 instant.
    Instant(Timestamp),
}

impl FromStr for TimeArg {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, SlaError> {
        let trimmed = text.trim();
        // An instant first: a date parser would also read `2024-05-01 08:00:00+01:00` (RFC 3339
        // allows the space) as a date, silently dropping the time.
        if let Ok(t) = trimmed.parse::<Timestamp>() {
            return Ok(TimeArg::Instant(t));
        }
        match trimmed.parse::<Date>() {
            Ok(date) if !trimmed.contains(['T', 't', ' ']) => Ok(TimeArg::Date(date)),
            _ => Err(SlaError::InvalidTime(text.to_owned())),
        }
    }
}

impl fmt::Display for TimeArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeArg::Date(d) => d.fmt(f),
            TimeArg::Instant(t) => t.fmt(f),
        }
    }
}

/// A `--period`: a calendar period in the query's zone, or a rolling span ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// Whole local days: `today`, `last-week`, ...
    Calendar(CalendarPeriod),
    /// The span of this length ending now: `last-15m`, `last-2h`.
    Last(Threshold),
}

impl Period {
    /// The names `--period` takes, for help texts: the calendar periods, then the rolling form.
    pub fn names() -> impl Iterator<Item = &'static str> {
        CalendarPeriod::ALL
            .iter()
            .map(|p| p.as_str())
            .chain(std::iter::once(ROLLING))
    }
}

/// How help texts name the rolling form.
const ROLLING: &str = "last-<duration>";

impl Default for Period {
    fn default() -> Self {
        Period::Calendar(CalendarPeriod::default())
    }
}

impl FromStr for Period {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, SlaError> {
        if let Ok(calendar) = text.parse() {
            return Ok(Period::Calendar(calendar));
        }
        text.trim()
            .strip_prefix("last-")
            .and_then(|span| Threshold::parse(span).ok())
            .filter(|span| span.as_millis() > 0)
            .map(Period::Last)
            .ok_or_else(|| SlaError::InvalidPeriod(text.to_owned()))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Calendar(p) => p.fmt(f),
            Period::Last(span) => write!(f, "last-{span}"),
        }
    }
}

/// Resolves a window from `--from`/`--to` or `--period` (default: the last 7 days) at `now` in
/// `zone`.
pub fn resolve_window(
    from: Option<TimeArg>,
    to: Option<TimeArg>,
    period: Option<Period>,
    now: Timestamp,
    zone: &Zone,
) -> Result<TimeWindow, SlaError> {
    if period.is_some() && (from.is_some() || to.is_some()) {
        return Err(SlaError::ConflictingWindow(
            "give either --period or --from/--to, not both".to_owned(),
        ));
    }
    let Some(from) = from else {
        if to.is_some() {
            return Err(SlaError::ConflictingWindow("--to needs --from".to_owned()));
        }
        return period_window(period.unwrap_or_default(), now, zone);
    };
    let start = match from {
        TimeArg::Date(d) => midnight(d, zone)?,
        TimeArg::Instant(t) => t,
    };
    let end = match to {
        // A date in --to is inclusive: the window runs to the end of that local day.
        Some(TimeArg::Date(d)) => midnight(shift_days(d, 1)?, zone)?,
        Some(TimeArg::Instant(t)) => t,
        None => whole_seconds(now),
    };
    TimeWindow::new(start, end).map_err(|_| match to {
        Some(to) => SlaError::ConflictingWindow(format!("--to {to} is not after --from {from}")),
        None => SlaError::ConflictingWindow(format!("--from {from} is in the future")),
    })
}

/// `now` without its fraction of a second: windows ending now are shown to users and sent
/// upstream, where nanoseconds of the clock would only make equal queries look different.
fn whole_seconds(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

fn midnight(date: Date, zone: &Zone) -> Result<Timestamp, SlaError> {
    date.to_zoned(zone.tz().clone())
        .map(|z| z.timestamp())
        .map_err(|_| SlaError::InvalidTime(date.to_string()))
}

fn shift_days(date: Date, days: i64) -> Result<Date, SlaError> {
    date.checked_add(days.days())
        .map_err(|_| SlaError::InvalidTime(date.to_string()))
}

fn period_window(period: Period, now: Timestamp, zone: &Zone) -> Result<TimeWindow, SlaError> {
    let calendar = match period {
        Period::Calendar(calendar) => calendar,
        Period::Last(span) => {
            let end = whole_seconds(now);
            let start = i64::try_from(span.as_millis())
                .ok()
                .and_then(|ms| end.checked_sub(SignedDuration::from_millis(ms)).ok())
                .ok_or_else(|| SlaError::InvalidPeriod(period.to_string()))?;
            return TimeWindow::new(start, end);
        }
    };
    let today = now.to_zoned(zone.tz().clone()).date();
    let monday = shift_days(today, -i64::from(today.weekday().to_monday_zero_offset()))?;
    let first = today.first_of_month();
    let month_shift = |d: Date, months: i32| {
        d.checked_add(months.months())
            .map_err(|_| SlaError::InvalidPeriod(period.to_string()))
    };
    let (start, end) = match calendar {
        CalendarPeriod::Today => (today, shift_days(today, 1)?),
        CalendarPeriod::Yesterday => (shift_days(today, -1)?, today),
        CalendarPeriod::ThisWeek => (monday, shift_days(monday, 7)?),
        CalendarPeriod::LastWeek => (shift_days(monday, -7)?, monday),
        CalendarPeriod::ThisMonth => (first, month_shift(first, 1)?),
        CalendarPeriod::LastMonth => (month_shift(first, -1)?, first),
        CalendarPeriod::Last7Days => (shift_days(today, -7)?, today),
        CalendarPeriod::Last30Days => (shift_days(today, -30)?, today),
    };
    TimeWindow::new(midnight(start, zone)?, midnight(end, zone)?)
}
