//! Pure: the pieces of the synchronous details query. A window (and the lookback days before
//! it) is cut into weeks of UTC days times batches of queues, and a piece that selects more than
//! paging reaches is split in two, by days or else by queues.

use std::ops::Range;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp, ToSpan};
use sla_core::ports::VisitQuery;

/// Genesys refuses synchronous details intervals longer than this many days.
pub(crate) const MAX_PIECE_DAYS: i64 = 7;

const DAY_SECONDS: i64 = 86_400;

/// The UTC midnight at or before `t`.
pub(crate) fn utc_midnight(t: Timestamp) -> Timestamp {
    let second = t.as_second() - i64::from(t.subsec_nanosecond() < 0);
    Timestamp::from_second(second.div_euclid(DAY_SECONDS) * DAY_SECONDS).unwrap_or(t)
}

/// One synchronous details query, paged through: `[start, end)` for some of the query's
/// queues (indexes into its list of distinct queues).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) queues: Range<usize>,
    /// A lookback piece: days before the window, read newest end first and only until the
    /// conversations end before the window.
    pub(crate) tail: bool,
}

/// `[start, end)` cut at UTC midnights every `days` days, counted from `start`'s UTC day, so
/// that no piece spans more than `days` days and no UTC day is shared by two pieces.
pub(crate) fn utc_pieces(
    start: Timestamp,
    end: Timestamp,
    days: i64,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    let mut cursor = start;
    let step = days.max(1) * DAY_SECONDS;
    while cursor < end {
        let next = Timestamp::from_second(utc_midnight(cursor).as_second() + step)
            .map_or(end, |t| t.min(end));
        out.push((cursor, next));
        cursor = next;
    }
    out
}

/// Two pieces that together select what `piece` does, each selecting less: cut at a UTC
/// midnight when the piece touches several UTC days, else its queues in halves; `None` for one
/// queue on one day.
///
/// The details query selects conversations by the day they started, so cutting inside a day
/// would select the same conversations twice over.
pub(crate) fn split(piece: &Piece) -> Option<(Piece, Piece)> {
    let first_day = utc_midnight(piece.start);
    let last_day = utc_midnight(piece.end - 1.nanosecond());
    let days = (last_day.as_second() - first_day.as_second()) / DAY_SECONDS + 1;
    if days >= 2 {
        let cut = Timestamp::from_second(first_day.as_second() + days / 2 * DAY_SECONDS).ok()?;
        return Some((
            Piece {
                end: cut,
                ..piece.clone()
            },
            Piece {
                start: cut,
                ..piece.clone()
            },
        ));
    }
    if piece.queues.len() >= 2 {
        let mid = piece.queues.start + piece.queues.len() / 2;
        return Some((
            Piece {
                queues: piece.queues.start..mid,
                ..piece.clone()
            },
            Piece {
                queues: mid..piece.queues.end,
                ..piece.clone()
            },
        ));
    }
    None
}

/// The pieces of the synchronous query for `query`: the window and, before it, the lookback
/// days, each cut into weeks of UTC days, times the batches of queues.
pub(crate) fn plan(
    query: &VisitQuery,
    queue_count: usize,
    lookback: Duration,
    queues_per_request: usize,
) -> Vec<Piece> {
    let window = query.window;
    let mut spans: Vec<(Timestamp, Timestamp, bool)> = Vec::new();
    let first_day = utc_midnight(window.start());
    let lookback = SignedDuration::try_from(lookback).unwrap_or(SignedDuration::ZERO);
    if let Ok(from) = window.start().checked_sub(lookback)
        && from < first_day
    {
        spans.extend(
            utc_pieces(from, first_day, MAX_PIECE_DAYS)
                .into_iter()
                .map(|(s, e)| (s, e, true)),
        );
    }
    spans.extend(
        utc_pieces(window.start(), window.end(), MAX_PIECE_DAYS)
            .into_iter()
            .map(|(s, e)| (s, e, false)),
    );
    let per_request = queues_per_request.max(1);
    let mut pieces = Vec::new();
    for (start, end, tail) in spans {
        let mut first = 0;
        while first < queue_count {
            let last = (first + per_request).min(queue_count);
            pieces.push(Piece {
                start,
                end,
                queues: first..last,
                tail,
            });
            first = last;
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    use super::*;

    #[track_caller]
    fn check_pieces(start: &str, end: &str, days: i64, expect: &[&str]) {
        let got = utc_pieces(start.parse().unwrap(), end.parse().unwrap(), days);
        let rendered: Vec<String> = got
            .iter()
            .map(|(s, e)| {
                format!(
                    "{}..{}",
                    s.strftime("%m-%d %H:%M"),
                    e.strftime("%m-%d %H:%M")
                )
            })
            .collect();
        assert_eq!(rendered, expect);
        for (s, e) in got {
            assert!(e.duration_since(s).as_hours() <= days * 24);
        }
    }

    #[test]
    fn details_pieces_span_at_most_a_week_of_utc_days() {
        check_pieces(
            "2026-03-22T00:00:00Z",
            "2026-04-05T23:00:00Z",
            7,
            &[
                "03-22 00:00..03-29 00:00",
                "03-29 00:00..04-05 00:00",
                "04-05 00:00..04-05 23:00",
            ],
        );
        // A start inside a day: the first piece ends a week after that day's midnight.
        check_pieces(
            "2026-03-22T10:15:00Z",
            "2026-03-30T08:00:00Z",
            7,
            &["03-22 10:15..03-29 00:00", "03-29 00:00..03-30 08:00"],
        );
        check_pieces(
            "2026-03-22T10:15:00Z",
            "2026-03-22T10:16:00Z",
            7,
            &["03-22 10:15..03-22 10:16"],
        );
        check_pieces(
            "2026-03-22T00:00:00Z",
            "2026-03-24T00:00:00Z",
            1,
            &["03-22 00:00..03-23 00:00", "03-23 00:00..03-24 00:00"],
        );
    }

    fn piece(start: &str, end: &str, queues: Range<usize>) -> Piece {
        Piece {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            queues,
            tail: false,
        }
    }

    #[test]
    fn pieces_split_by_whole_days_then_by_queues() {
        // Seven days: cut after three.
        let (a, b) = split(&piece("2026-03-22T00:00:00Z", "2026-03-29T00:00:00Z", 0..4)).unwrap();
        assert_eq!(
            a,
            piece("2026-03-22T00:00:00Z", "2026-03-25T00:00:00Z", 0..4)
        );
        assert_eq!(
            b,
            piece("2026-03-25T00:00:00Z", "2026-03-29T00:00:00Z", 0..4)
        );
        // Two partial days: cut at the midnight between them.
        let (a, b) = split(&piece("2026-03-22T20:00:00Z", "2026-03-23T04:00:00Z", 0..1)).unwrap();
        assert_eq!(a.end, "2026-03-23T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(b.start, a.end);
        // One day: the queues are halved instead.
        let (a, b) = split(&piece("2026-03-22T00:00:00Z", "2026-03-23T00:00:00Z", 2..7)).unwrap();
        assert_eq!((a.queues, b.queues), (2..4, 4..7));
        assert_eq!(
            a.start,
            "2026-03-22T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        // One queue, part of one day: nothing left to split.
        assert_eq!(
            split(&piece("2026-03-22T08:00:00Z", "2026-03-22T09:00:00Z", 3..4)),
            None
        );
    }

    proptest! {
        #[test]
        fn utc_midnight_is_the_day_start(seconds in -1_000_000_000i64..4_000_000_000, nanos in 0i32..1_000_000_000) {
            let t = Timestamp::new(seconds, nanos).unwrap();
            let m = utc_midnight(t);
            prop_assert!(m <= t);
            prop_assert!(t.duration_since(m).as_hours() < 24);
            prop_assert_eq!(m.to_zoned(TimeZone::UTC).time(), jiff::civil::time(0, 0, 0, 0));
        }
    }
}
