//! Sync: copies queue visits from a [`VisitSource`] (Genesys conversation details) into a
//! [`VisitStore`], piece by piece, so that reports can later be computed from the store.
//!
//! A sync plans pieces from what the store already covers ([`plan_sync`]): the parts of the
//! window no queue has yet, plus the last `restate` of every covered span that the window
//! reaches, because Genesys rewrites conversation data for up to 48 hours after the fact. Each
//! piece ([`DEFAULT_PIECE_DAYS`] UTC days by default) is read whole, then written in one transaction that also extends
//! the store's coverage, so a sync stopped midway leaves every committed piece complete and
//! consistent, and the next sync fetches only what is still missing. Writing a piece replaces
//! the store's visits for its queues and span ([`reconcile`]): a visit read again is updated in
//! place, and a visit Genesys no longer reports there is deleted.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::model::{QueueId, QueueInfo, TimeWindow};
use crate::ports::{
    Coverage, SourceError, SyncPiece, SyncRecord, Visit, VisitOutcome, VisitQuery, VisitSink,
    VisitSource, VisitStore, WriteCounts,
};

/// How far back a sync reads again what it already holds, by default: Genesys rewrites
/// conversation data up to 48 hours old, and a day more covers a sync that ran late.
pub const DEFAULT_RESTATE: Duration = Duration::from_hours(72);

/// How many UTC days a piece spans, by default: more than the week past which the Genesys
/// client reads conversation details through async jobs (Genesys's way for bulk history)
/// rather than the paged query, while holding a piece's visits in memory stays small (about
/// 45,000 visits for a 50-queue centre).
pub const DEFAULT_PIECE_DAYS: u32 = 8;

const DAY_MS: i64 = 86_400_000;

/// What to sync.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncRequest {
    /// The queues; their names and configured service levels are recorded in the store too.
    pub queues: Vec<QueueInfo>,
    /// The window of emit instants to hold; an end after `now` is read as `now`.
    pub window: TimeWindow,
    /// The time of the sync.
    pub now: Timestamp,
    /// How much of what the store already covers is read again: the last `restate` of each
    /// covered span the window reaches ([`DEFAULT_RESTATE`] by default).
    pub restate: Duration,
    /// The length of a piece in whole UTC days (at least 1; [`DEFAULT_PIECE_DAYS`] by
    /// default): the unit read and committed at once. Longer pieces mean fewer reads of the
    /// source and more visits held in memory.
    pub piece_days: u32,
}

impl SyncRequest {
    /// A sync of `queues` over `window` at `now`, restating [`DEFAULT_RESTATE`], in pieces of
    /// [`DEFAULT_PIECE_DAYS`].
    #[must_use]
    pub fn new(queues: Vec<QueueInfo>, window: TimeWindow, now: Timestamp) -> Self {
        Self {
            queues,
            window,
            now,
            restate: DEFAULT_RESTATE,
            piece_days: DEFAULT_PIECE_DAYS,
        }
    }
}

/// How far a sync has got, as reported to its progress callback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncProgress {
    /// Pieces read and committed.
    pub pieces_done: usize,
    /// Pieces planned.
    pub pieces_total: usize,
    /// The span of the piece being read, if one is.
    pub current: Option<TimeWindow>,
    /// Visits read from the source so far.
    pub visits_read: u64,
    /// What the committed pieces changed.
    pub written: WriteCounts,
}

/// What a sync did, or had done when it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncSummary {
    /// The window synced: the one asked for, ending at the time of the sync at the latest;
    /// `None` when it lay wholly in the future.
    pub window: Option<TimeWindow>,
    /// Pieces planned.
    pub pieces_total: usize,
    /// Pieces read and committed.
    pub pieces_done: usize,
    /// Visits read from the source.
    pub visits_read: u64,
    /// What the committed pieces changed. A visit delivered in two pieces (offered in one,
    /// ended in the next) counts twice: new once, then unchanged.
    pub written: WriteCounts,
    /// How far the store now covers the queues over the window without a gap from its start
    /// (see [`Coverage::complete_until`]); `None` when it does not reach back to the start.
    pub complete_until: Option<Timestamp>,
}

/// The step a sync was taking when it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncStep {
    /// Recording the queues' names and service levels.
    SaveQueues,
    /// Reading what the store covers.
    Coverage,
    /// Reading a piece's visits from the source.
    Read(SyncPiece),
    /// Writing a piece's visits to the store.
    Write(SyncPiece),
    /// Recording the finished sync.
    Record,
}

impl fmt::Display for SyncStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let piece = |f: &mut fmt::Formatter<'_>, verb: &str, piece: &SyncPiece| {
            write!(
                f,
                "{verb} visits for {}/{} ({} queue{})",
                piece.window.start(),
                piece.window.end(),
                piece.queues.len(),
                if piece.queues.len() == 1 { "" } else { "s" }
            )
        };
        match self {
            SyncStep::SaveQueues => f.write_str("saving the queues"),
            SyncStep::Coverage => f.write_str("reading the store's coverage"),
            SyncStep::Read(p) => piece(f, "reading", p),
            SyncStep::Write(p) => piece(f, "writing", p),
            SyncStep::Record => f.write_str("recording the sync"),
        }
    }
}

/// A sync that stopped: where, why, and what it had stored by then. Every piece counted in
/// `stored` is committed; the piece that failed left the store as it was.
#[derive(Debug, thiserror::Error)]
#[error(
    "sync stopped while {step}; {} of {} pieces were stored before ({} visits new, {} updated, {} removed)",
    stored.pieces_done,
    stored.pieces_total,
    stored.written.new,
    stored.written.updated,
    stored.written.removed
)]
pub struct SyncError {
    /// The step that failed.
    pub step: SyncStep,
    /// What was stored before it.
    pub stored: SyncSummary,
    /// The failure.
    #[source]
    pub source: SourceError,
}

/// Reads the visits of `request.queues` over `request.window` from `source` into `store`,
/// piece by piece (see the module docs), telling `progress` after planning and around each
/// piece.
///
/// Idempotent: running it again changes nothing the source did not change, and reads only the
/// restated tail and what is new.
pub async fn sync_visits(
    request: &SyncRequest,
    source: &dyn VisitSource,
    store: &dyn VisitStore,
    progress: &(dyn Fn(&SyncProgress) + Send + Sync),
) -> Result<SyncSummary, SyncError> {
    let mut summary = SyncSummary {
        window: TimeWindow::new(
            request.window.start(),
            request.window.end().min(request.now),
        )
        .ok(),
        ..SyncSummary::default()
    };
    let mut queues: Vec<QueueId> = request.queues.iter().map(|q| q.queue.id.clone()).collect();
    queues.sort();
    queues.dedup();
    let fail = |step: SyncStep, stored: &SyncSummary, source: SourceError| SyncError {
        step,
        stored: stored.clone(),
        source,
    };
    let Some(window) = summary.window else {
        return Ok(summary);
    };
    if queues.is_empty() {
        return Ok(summary);
    }
    store
        .save_queues(&request.queues)
        .await
        .map_err(|e| fail(SyncStep::SaveQueues, &summary, e))?;
    let coverage = store
        .coverage(&queues)
        .await
        .map_err(|e| fail(SyncStep::Coverage, &summary, e))?;
    let pieces = plan_sync(
        &queues, window, &coverage, request.restate, request.piece_days,
    );
    summary.pieces_total = pieces.len();
    let mut state = SyncProgress {
        pieces_total: pieces.len(),
        ..SyncProgress::default()
    };
    progress(&state);
    for piece in pieces {
        state.current = Some(piece.window);
        progress(&state);
        let query = VisitQuery {
            queues: piece.queues.clone(),
            media: Vec::new(),
            window: piece.window,
        };
        let mut sink = Collect(Vec::new());
        source
            .visits(&query, &mut sink)
            .await
            .map_err(|e| fail(SyncStep::Read(piece.clone()), &summary, e))?;
        let read = sink.0.len() as u64;
        let written = store
            .write_piece(&piece, sink.0)
            .await
            .map_err(|e| fail(SyncStep::Write(piece.clone()), &summary, e))?;
        summary.pieces_done += 1;
        summary.visits_read += read;
        summary.written += written;
        state.pieces_done = summary.pieces_done;
        state.visits_read = summary.visits_read;
        state.written = summary.written;
        state.current = None;
        progress(&state);
    }
    let coverage = store
        .coverage(&queues)
        .await
        .map_err(|e| fail(SyncStep::Coverage, &summary, e))?;
    summary.complete_until = coverage.complete_until(&queues, window);
    let record = SyncRecord {
        queues,
        window,
        started: request.now,
        pieces: summary.pieces_done,
        written: summary.written,
    };
    store
        .record_sync(&record)
        .await
        .map_err(|e| fail(SyncStep::Record, &summary, e))?;
    Ok(summary)
}

/// Holds a piece's visits until they are written in one transaction.
struct Collect(Vec<Visit>);

impl VisitSink for Collect {
    fn visit(&mut self, visit: Visit) {
        self.0.push(visit);
    }
}

/// The pieces a sync of `queues` over `window` reads, given what the store covers.
///
/// For each queue, a covered span counts as settled except for its last `restate`; what the
/// queue needs is the window minus its settled spans, plus the whole restated tail of every
/// span ending inside the window (even the part of that tail before the window, so that the
/// span and the new data merge into one span whose interior is settled). Pieces cut these
/// needs at every `piece_days`-th UTC midnight (counted from the Unix epoch) and group the
/// queues that need the same span; they come out in order of time.
#[must_use]
pub fn plan_sync(
    queues: &[QueueId],
    window: TimeWindow,
    coverage: &Coverage,
    restate: Duration,
    piece_days: u32,
) -> Vec<SyncPiece> {
    let restate = SignedDuration::try_from(restate).unwrap_or(SignedDuration::MAX);
    let mut queues = queues.to_vec();
    queues.sort();
    queues.dedup();
    let needs: Vec<Vec<Span>> = queues
        .iter()
        .map(|q| need(coverage.spans(q), window, restate))
        .collect();
    let mut cuts: Vec<Timestamp> = needs.iter().flatten().flat_map(|s| [s.0, s.1]).collect();
    cuts.sort();
    cuts.dedup();
    let cell_ms = DAY_MS.saturating_mul(i64::from(piece_days.max(1)));
    let mut pieces: Vec<SyncPiece> = Vec::new();
    // The cell (a run of `piece_days` days) of the piece last pushed, to merge only within one.
    let mut last_cell: Option<i64> = None;
    for pair in cuts.windows(2) {
        let (mut from, to) = (pair[0], pair[1]);
        while from < to {
            let cell = from.as_millisecond().div_euclid(cell_ms);
            let cell_end = cell
                .checked_add(1)
                .and_then(|c| c.checked_mul(cell_ms))
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .map_or(to, |t| t.min(to));
            let members: Vec<QueueId> = queues
                .iter()
                .zip(&needs)
                .filter(|(_, spans)| covers(spans, from, cell_end))
                .map(|(q, _)| q.clone())
                .collect();
            if !members.is_empty() {
                let merged = match pieces.last_mut() {
                    Some(last)
                        if last_cell == Some(cell)
                            && last.window.end() == from
                            && last.queues == members =>
                    {
                        if let Ok(w) = TimeWindow::new(last.window.start(), cell_end) {
                            last.window = w;
                        }
                        true
                    }
                    _ => false,
                };
                if !merged && let Ok(w) = TimeWindow::new(from, cell_end) {
                    pieces.push(SyncPiece {
                        queues: members,
                        window: w,
                    });
                    last_cell = Some(cell);
                }
            }
            from = cell_end;
        }
    }
    pieces
}

/// A half-open span `[start, end)`.
type Span = (Timestamp, Timestamp);

/// What one queue needs read: `window` minus the settled parts of `spans`, plus the restated
/// tails of the spans that end inside the window; sorted, disjoint, merged where they touch.
fn need(spans: &[TimeWindow], window: TimeWindow, restate: SignedDuration) -> Vec<Span> {
    let tail_start = |span: &TimeWindow| {
        span.end()
            .checked_sub(restate)
            .unwrap_or(Timestamp::MIN)
            .max(span.start())
    };
    let mut out: Vec<Span> = Vec::new();
    let mut from = window.start();
    for span in spans {
        let settled_end = tail_start(span);
        if settled_end <= from || span.start() >= window.end() {
            continue;
        }
        if span.start() > from {
            out.push((from, span.start().min(window.end())));
        }
        from = from.max(settled_end);
        if from >= window.end() {
            break;
        }
    }
    if from < window.end() {
        out.push((from, window.end()));
    }
    for span in spans {
        if window.start() <= span.end() && span.end() <= window.end() {
            out.push((tail_start(span), span.end()));
        }
    }
    out.retain(|(s, e)| s < e);
    out.sort();
    let mut merged: Vec<Span> = Vec::with_capacity(out.len());
    for (s, e) in out {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Whether `[from, to)` lies inside one of `spans` (sorted and disjoint).
fn covers(spans: &[Span], from: Timestamp, to: Timestamp) -> bool {
    let i = spans.partition_point(|s| s.1 <= from);
    spans.get(i).is_some_and(|s| s.0 <= from && to <= s.1)
}

/// A visit as a store holds it: with its index among its conversation's visits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredVisit {
    /// The visit index: unique within the conversation, assigned by [`reconcile`].
    pub index: u32,
    /// The visit.
    pub visit: Visit,
}

/// The changes that make a store's visits for a piece what the source delivered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Visits to insert or update, each (conversation, index) once, ordered by queue and entry.
    pub upserts: Vec<StoredVisit>,
    /// Visits to delete, by (conversation id, index).
    pub removals: Vec<(String, u32)>,
    /// What the changes amount to.
    pub counts: WriteCounts,
}

/// Works out how writing `incoming` (what a source delivered for `piece`) changes a store
/// that holds `existing`, which must include every stored visit of the conversations in
/// `incoming` and every stored visit in the piece's scope (to one of its queues, with
/// `nOffered` or the outcome emitted inside its window); more is harmless.
///
/// A visit is the same visit as a stored one when the conversation, the queue and the entry
/// instant agree: it keeps the stored index, and counts as unchanged when every value agrees
/// (instants compared in whole milliseconds, as stores keep them), as updated otherwise. Other
/// visits are new and take the next index after the highest of their conversation. Stored
/// visits in the piece's scope that `incoming` does not hold are removed: Genesys no longer
/// reports them there (the conversation was restated, or moved to another queue).
#[must_use]
pub fn reconcile(
    piece: &SyncPiece,
    existing: Vec<StoredVisit>,
    incoming: Vec<Visit>,
) -> Reconciled {
    struct Stored {
        row: StoredVisit,
        matched: bool,
    }
    let mut by_conversation: HashMap<String, Vec<Stored>> = HashMap::new();
    for row in existing {
        let rows = by_conversation
            .entry(row.visit.conversation_id.clone())
            .or_default();
        if !rows.iter().any(|r| r.row.index == row.index) {
            rows.push(Stored {
                row,
                matched: false,
            });
        }
    }
    // A source delivers each visit once; should one repeat, the last delivery wins.
    let mut latest: HashMap<(&str, &QueueId, Timestamp), usize> = HashMap::new();
    let incoming: Vec<Visit> = incoming.into_iter().map(whole_ms).collect();
    for (i, v) in incoming.iter().enumerate() {
        latest.insert((v.conversation_id.as_str(), &v.queue, v.entered), i);
    }
    let mut out = Reconciled::default();
    for (i, visit) in incoming.iter().enumerate() {
        if latest.get(&(visit.conversation_id.as_str(), &visit.queue, visit.entered)) != Some(&i) {
            continue;
        }
        let rows = by_conversation
            .entry(visit.conversation_id.clone())
            .or_default();
        let same = rows.iter_mut().find(|r| {
            !r.matched && r.row.visit.queue == visit.queue && r.row.visit.entered == visit.entered
        });
        let index = if let Some(stored) = same {
            stored.matched = true;
            if stored.row.visit == *visit {
                out.counts.unchanged += 1;
                continue;
            }
            out.counts.updated += 1;
            stored.row.index
        } else {
            let next = rows
                .iter()
                .map(|r| r.row.index.saturating_add(1))
                .max()
                .unwrap_or(0);
            rows.push(Stored {
                row: StoredVisit {
                    index: next,
                    visit: visit.clone(),
                },
                matched: true,
            });
            out.counts.new += 1;
            next
        };
        out.upserts.push(StoredVisit {
            index,
            visit: visit.clone(),
        });
    }
    let mut queues = piece.queues.clone();
    queues.sort();
    queues.dedup();
    for rows in by_conversation.into_values() {
        for stored in rows {
            if !stored.matched && in_scope(&queues, piece.window, &stored.row.visit) {
                out.counts.removed += 1;
                out.removals
                    .push((stored.row.visit.conversation_id, stored.row.index));
            }
        }
    }
    out.removals.sort();
    // A queue's visits of a piece written together lie together, so reading a queue's history
    // touches few pages.
    out.upserts.sort_by(|a, b| {
        (&a.visit.queue, a.visit.entered, &a.visit.conversation_id)
            .cmp(&(&b.visit.queue, b.visit.entered, &b.visit.conversation_id))
    });
    out
}

/// Whether a stored visit belongs to a piece: to one of its queues (`queues`, sorted), with
/// `nOffered` or the outcome emitted inside its window `w`.
fn in_scope(queues: &[QueueId], w: TimeWindow, visit: &Visit) -> bool {
    queues.binary_search(&visit.queue).is_ok()
        && (visit.offered_at.is_some_and(|t| w.contains(t))
            || visit.outcome.is_some_and(|o| w.contains(o.at)))
}

/// The visit with its instants cut to whole milliseconds, as stores keep them.
fn whole_ms(visit: Visit) -> Visit {
    let ms = |t: Timestamp| Timestamp::from_millisecond(t.as_millisecond()).unwrap_or(t);
    Visit {
        entered: ms(visit.entered),
        offered_at: visit.offered_at.map(ms),
        outcome: visit.outcome.map(|o| VisitOutcome { at: ms(o.at), ..o }),
        ..visit
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use futures_executor::block_on;

    use super::*;
    use crate::model::{Granularity, MediaType, QueueRef, Threshold, Zone};
    use crate::ports::{MockVisitStore, OutcomeKind, TallyQuery};
    use crate::service::tally_visits;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn win(start: &str, end: &str) -> TimeWindow {
        TimeWindow::new(ts(start), ts(end)).unwrap()
    }

    fn q(id: &str) -> QueueId {
        QueueId::new(id)
    }

    fn info(id: &str) -> QueueInfo {
        QueueInfo {
            queue: QueueRef {
                id: q(id),
                name: format!("Queue {id}"),
            },
            division: None,
            service_levels: BTreeMap::new(),
        }
    }

    const HOUR: Duration = Duration::from_hours(1);

    /// Plans a sync of `queues` over `window` against `covered` (queue, start, end) and checks
    /// the pieces, one line each: `start..end queues`.
    #[track_caller]
    fn check_plan(
        covered: &[(&str, &str, &str)],
        queues: &[&str],
        window: (&str, &str),
        restate_hours: u64,
        piece_days: u32,
        expect: &str,
    ) {
        let mut coverage = Coverage::new();
        for (queue, start, end) in covered {
            coverage.add(&q(queue), win(start, end));
        }
        let queues: Vec<QueueId> = queues.iter().map(|id| q(id)).collect();
        let pieces = plan_sync(
            &queues,
            win(window.0, window.1),
            &coverage,
            HOUR * u32::try_from(restate_hours).unwrap(),
            piece_days,
        );
        let mut got = String::new();
        for p in &pieces {
            let names: Vec<&str> = p.queues.iter().map(QueueId::as_str).collect();
            writeln!(
                got,
                "{}..{} {}",
                p.window.start(),
                p.window.end(),
                names.join(",")
            )
            .unwrap();
        }
        assert_eq!(got.trim_end(), expect.trim(), "\n{got}");
    }

    #[test]
    fn an_empty_store_is_read_whole_in_utc_days() {
        check_plan(
            &[],
            &["b", "a", "a"],
            ("2026-03-01T12:00:00Z", "2026-03-03T06:00:00Z"),
            72,
            1,
            "
2026-03-01T12:00:00Z..2026-03-02T00:00:00Z a,b
2026-03-02T00:00:00Z..2026-03-03T00:00:00Z a,b
2026-03-03T00:00:00Z..2026-03-03T06:00:00Z a,b",
        );
    }

    #[test]
    fn a_second_sync_reads_what_is_new_and_the_restated_tail() {
        // Synced up to 10:00 on 5 March; 72 h earlier is 10:00 on 2 March.
        check_plan(
            &[
                ("a", "2026-02-01T00:00:00Z", "2026-03-05T10:00:00Z"),
                ("b", "2026-02-01T00:00:00Z", "2026-03-05T10:00:00Z"),
            ],
            &["a", "b"],
            ("2026-02-20T00:00:00Z", "2026-03-05T11:00:00Z"),
            72,
            1,
            "
2026-03-02T10:00:00Z..2026-03-03T00:00:00Z a,b
2026-03-03T00:00:00Z..2026-03-04T00:00:00Z a,b
2026-03-04T00:00:00Z..2026-03-05T00:00:00Z a,b
2026-03-05T00:00:00Z..2026-03-05T11:00:00Z a,b",
        );
        // Without restating, only what is new.
        check_plan(
            &[("a", "2026-02-01T00:00:00Z", "2026-03-05T10:00:00Z")],
            &["a"],
            ("2026-02-20T00:00:00Z", "2026-03-05T11:00:00Z"),
            0,
            1,
            "2026-03-05T10:00:00Z..2026-03-05T11:00:00Z a",
        );
        // Fully covered and not restated: nothing to do.
        check_plan(
            &[("a", "2026-02-01T00:00:00Z", "2026-03-05T10:00:00Z")],
            &["a"],
            ("2026-02-20T00:00:00Z", "2026-03-05T10:00:00Z"),
            0,
            1,
            "",
        );
    }

    #[test]
    fn a_window_inside_a_span_needs_nothing_unless_it_reaches_the_tail() {
        let covered = [("a", "2026-02-01T00:00:00Z", "2026-03-05T10:00:00Z")];
        check_plan(
            &covered,
            &["a"],
            ("2026-02-10T00:00:00Z", "2026-02-12T00:00:00Z"),
            72,
            1,
            "",
        );
        // Ending at the span's end, the window reaches its tail.
        check_plan(
            &covered,
            &["a"],
            ("2026-03-04T00:00:00Z", "2026-03-05T10:00:00Z"),
            24,
            1,
            "
2026-03-04T10:00:00Z..2026-03-05T00:00:00Z a
2026-03-05T00:00:00Z..2026-03-05T10:00:00Z a",
        );
    }

    #[test]
    fn a_window_starting_where_a_span_ends_reads_its_tail_before_the_window_too() {
        check_plan(
            &[("a", "2026-02-01T00:00:00Z", "2026-03-05T00:00:00Z")],
            &["a"],
            ("2026-03-05T00:00:00Z", "2026-03-05T06:00:00Z"),
            36,
            1,
            "
2026-03-03T12:00:00Z..2026-03-04T00:00:00Z a
2026-03-04T00:00:00Z..2026-03-05T00:00:00Z a
2026-03-05T00:00:00Z..2026-03-05T06:00:00Z a",
        );
    }

    #[test]
    fn queues_with_different_coverage_get_their_own_pieces() {
        // `a` is covered up to noon on 2 March, `b` was never synced, `c` has a hole on 2 March
        // and its last span ends with the window, so only that span's 6-hour tail is read.
        check_plan(
            &[
                ("a", "2026-02-01T00:00:00Z", "2026-03-02T12:00:00Z"),
                ("c", "2026-02-01T00:00:00Z", "2026-03-02T00:00:00Z"),
                ("c", "2026-03-03T00:00:00Z", "2026-03-03T12:00:00Z"),
            ],
            &["a", "b", "c"],
            ("2026-03-01T00:00:00Z", "2026-03-03T12:00:00Z"),
            6,
            1,
            "
2026-03-01T00:00:00Z..2026-03-01T18:00:00Z b
2026-03-01T18:00:00Z..2026-03-02T00:00:00Z b,c
2026-03-02T00:00:00Z..2026-03-02T06:00:00Z b,c
2026-03-02T06:00:00Z..2026-03-03T00:00:00Z a,b,c
2026-03-03T00:00:00Z..2026-03-03T06:00:00Z a,b
2026-03-03T06:00:00Z..2026-03-03T12:00:00Z a,b,c",
        );
    }

    #[test]
    fn pieces_span_whole_cells_of_several_days_from_the_epoch() {
        // 7-day cells from 1970-01-01 (a Thursday) start on Thursdays: 26 Feb and 5 March 2026.
        check_plan(
            &[],
            &["a"],
            ("2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"),
            72,
            7,
            "
2026-03-01T00:00:00Z..2026-03-05T00:00:00Z a
2026-03-05T00:00:00Z..2026-03-10T00:00:00Z a",
        );
    }

    #[test]
    fn coverage_merges_spans_that_touch_and_says_how_far_a_report_is_complete() {
        let mut coverage = Coverage::new();
        coverage.add(&q("a"), win("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"));
        coverage.add(&q("a"), win("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"));
        coverage.add(&q("a"), win("2026-03-02T00:00:00Z", "2026-03-02T12:00:00Z"));
        coverage.add(&q("b"), win("2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z"));
        assert_eq!(
            coverage.spans(&q("a")),
            [
                win("2026-03-01T00:00:00Z", "2026-03-02T12:00:00Z"),
                win("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
            ]
        );
        // Filling the hole merges all three.
        let mut filled = coverage.clone();
        filled.add(&q("a"), win("2026-03-02T06:00:00Z", "2026-03-03T00:00:00Z"));
        assert_eq!(
            filled.spans(&q("a")),
            [win("2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z")]
        );
        assert_eq!(
            filled.synced_until(&q("a")),
            Some(ts("2026-03-04T00:00:00Z"))
        );
        assert_eq!(coverage.synced_until(&q("z")), None);

        let both = [q("a"), q("b")];
        let report = win("2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z");
        assert_eq!(
            coverage.complete_until(&both, report),
            Some(ts("2026-03-02T12:00:00Z"))
        );
        assert_eq!(
            filled.complete_until(&both, report),
            Some(ts("2026-03-04T00:00:00Z"))
        );
        assert_eq!(
            coverage.complete_until(&[q("b")], report),
            Some(report.end())
        );
        // A window starting in a hole, or a queue never synced, is not covered at all.
        let late = win("2026-03-02T12:00:00Z", "2026-03-03T00:00:00Z");
        assert_eq!(coverage.complete_until(&both, late), None);
        assert_eq!(coverage.complete_until(&[q("a"), q("z")], report), None);
        assert_eq!(coverage.complete_until(&[], report), None);
    }

    fn visit(
        conversation: &str,
        queue: &str,
        entered: &str,
        kind: OutcomeKind,
        wait_s: i64,
    ) -> Visit {
        let entered = ts(entered);
        Visit {
            conversation_id: conversation.to_owned(),
            queue: q(queue),
            media: MediaType::Voice,
            entered,
            offered_at: Some(entered),
            outcome: Some(VisitOutcome {
                kind,
                wait_ms: u64::try_from(wait_s * 1000).unwrap(),
                at: entered + SignedDuration::from_secs(wait_s),
            }),
        }
    }

    fn piece(queues: &[&str], start: &str, end: &str) -> SyncPiece {
        SyncPiece {
            queues: queues.iter().map(|id| q(id)).collect(),
            window: win(start, end),
        }
    }

    fn stored(index: u32, visit: &Visit) -> StoredVisit {
        StoredVisit {
            index,
            visit: visit.clone(),
        }
    }

    #[test]
    fn reconcile_numbers_new_visits_keeps_known_ones_and_removes_what_is_gone() {
        use OutcomeKind::{Abandoned, Answered, FlowOut};
        // Queues in any order: the piece is read as a set.
        let day = piece(&["b", "a"], "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
        // c1: a visit to `a`, then a transfer to `b`; c2: one visit to `a`.
        let c1a = visit("c1", "a", "2026-03-01T09:00:00Z", FlowOut, 30);
        let c1b = visit("c1", "b", "2026-03-01T09:00:30Z", Answered, 12);
        let c2 = visit("c2", "a", "2026-03-01T10:00:00Z", Abandoned, 50);
        let first = reconcile(&day, Vec::new(), vec![c1a.clone(), c1b.clone(), c2.clone()]);
        assert_eq!(
            first.upserts,
            [stored(0, &c1a), stored(0, &c2), stored(1, &c1b)]
        );
        assert!(first.removals.is_empty());
        assert_eq!(
            first.counts,
            WriteCounts {
                new: 3,
                ..WriteCounts::default()
            }
        );

        let store = first.upserts;
        // The same visits again, in another order: nothing to write.
        let again = reconcile(
            &day,
            store.clone(),
            vec![c2.clone(), c1b.clone(), c1a.clone()],
        );
        assert_eq!((again.upserts.len(), again.removals.len()), (0, 0));
        assert_eq!(again.counts.unchanged, 3);

        // Restated: c2 was answered after all, and c1's transfer to `b` vanished.
        let c2_answered = visit("c2", "a", "2026-03-01T10:00:00Z", Answered, 40);
        let restated = reconcile(&day, store.clone(), vec![c1a.clone(), c2_answered.clone()]);
        assert_eq!(restated.upserts, [stored(0, &c2_answered)]);
        assert_eq!(restated.removals, [("c1".to_owned(), 1)]);
        assert_eq!(
            restated.counts,
            WriteCounts {
                new: 0,
                updated: 1,
                unchanged: 1,
                removed: 1
            }
        );

        // A piece of `a` only: c1's visit to `b` is out of its scope and stays; c1's visit to `a`
        // now went to `c` instead: the new visit takes the next free index.
        let only_a = piece(&["a"], "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z");
        let moved = visit("c1", "c", "2026-03-01T09:00:00Z", FlowOut, 30);
        let changed = reconcile(&only_a, store, vec![moved.clone(), c2.clone()]);
        assert_eq!(changed.upserts, [stored(2, &moved)]);
        assert_eq!(changed.removals, [("c1".to_owned(), 0)]);
        assert_eq!(
            changed.counts,
            WriteCounts {
                new: 1,
                updated: 0,
                unchanged: 1,
                removed: 1
            }
        );
    }

    #[test]
    fn reconcile_leaves_visits_outside_the_window_and_compares_whole_milliseconds() {
        let day = piece(&["a"], "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z");
        // Offered and ended the day before: out of scope, never removed by this piece.
        let before = visit("c1", "a", "2026-03-01T23:00:00Z", OutcomeKind::Answered, 5);
        // Offered the day before, answered inside the piece: in scope.
        let straddling = visit("c2", "a", "2026-03-01T23:59:50Z", OutcomeKind::Answered, 20);
        let existing = vec![stored(0, &before), stored(0, &straddling)];
        let gone = reconcile(&day, existing.clone(), Vec::new());
        assert_eq!(gone.removals, [("c2".to_owned(), 0)]);

        // Sub-millisecond digits are cut, as a store keeps instants.
        let mut fine = straddling.clone();
        fine.entered += SignedDuration::from_micros(300);
        let same = reconcile(&day, existing, vec![fine]);
        assert_eq!((same.counts.unchanged, same.upserts.len()), (1, 0));
    }

    /// An in-memory store with the semantics of `reconcile` and `Coverage`, and a visit source.
    #[derive(Default)]
    struct MemoryStore {
        state: Mutex<MemoryState>,
    }

    #[derive(Default)]
    struct MemoryState {
        visits: BTreeMap<(String, u32), Visit>,
        coverage: Coverage,
        queues: Vec<QueueInfo>,
        records: Vec<SyncRecord>,
    }

    #[async_trait]
    impl VisitStore for MemoryStore {
        async fn write_piece(
            &self,
            piece: &SyncPiece,
            visits: Vec<Visit>,
        ) -> Result<WriteCounts, SourceError> {
            let mut state = self.state.lock().unwrap();
            let existing = state
                .visits
                .iter()
                .map(|((_, index), visit)| stored(*index, visit))
                .collect();
            let changes = reconcile(piece, existing, visits);
            for key in changes.removals {
                state.visits.remove(&key);
            }
            for row in changes.upserts {
                state
                    .visits
                    .insert((row.visit.conversation_id.clone(), row.index), row.visit);
            }
            for queue in &piece.queues {
                state.coverage.add(queue, piece.window);
            }
            Ok(changes.counts)
        }

        async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), SourceError> {
            self.state.lock().unwrap().queues = queues.to_vec();
            Ok(())
        }

        async fn coverage(&self, _queues: &[QueueId]) -> Result<Coverage, SourceError> {
            Ok(self.state.lock().unwrap().coverage.clone())
        }

        async fn record_sync(&self, record: &SyncRecord) -> Result<(), SourceError> {
            self.state.lock().unwrap().records.push(record.clone());
            Ok(())
        }
    }

    /// Delivers what a details source would: the visits to the query's queues (and media) with
    /// `nOffered` or the outcome emitted in its window. Fails the read numbered `fail_on`.
    #[derive(Default)]
    struct Source {
        visits: Mutex<Vec<Visit>>,
        reads: Mutex<Vec<VisitQuery>>,
        fail_on: Option<usize>,
    }

    fn deliver(visits: &[Visit], query: &VisitQuery, sink: &mut dyn VisitSink) {
        let w = query.window;
        for v in visits {
            let emitted = v.offered_at.is_some_and(|t| w.contains(t))
                || v.outcome.is_some_and(|o| w.contains(o.at));
            if emitted
                && query.queues.contains(&v.queue)
                && (query.media.is_empty() || query.media.contains(&v.media))
            {
                sink.visit(v.clone());
            }
        }
    }

    #[async_trait]
    impl VisitSource for Source {
        async fn visits(
            &self,
            query: &VisitQuery,
            sink: &mut (dyn VisitSink + 'static),
        ) -> Result<(), SourceError> {
            let n = {
                let mut reads = self.reads.lock().unwrap();
                reads.push(query.clone());
                reads.len()
            };
            if self.fail_on == Some(n) {
                return Err(SourceError::Other("connection reset".into()));
            }
            deliver(&self.visits.lock().unwrap(), query, sink);
            Ok(())
        }
    }

    #[async_trait]
    impl VisitSource for MemoryStore {
        async fn visits(
            &self,
            query: &VisitQuery,
            sink: &mut (dyn VisitSink + 'static),
        ) -> Result<(), SourceError> {
            let visits: Vec<Visit> = self
                .state
                .lock()
                .unwrap()
                .visits
                .values()
                .cloned()
                .collect();
            deliver(&visits, query, sink);
            Ok(())
        }
    }

    /// Visits to `a` and `b` every 20 minutes from 1 to 7 March 2026, some transferred.
    fn traffic() -> Vec<Visit> {
        let mut out = Vec::new();
        let start = ts("2026-03-01T00:00:00Z");
        for i in 0..(6 * 72) {
            let entered = start + SignedDuration::from_mins(20 * i);
            let kind = match i % 5 {
                0 => OutcomeKind::Abandoned,
                1 => OutcomeKind::FlowOut,
                _ => OutcomeKind::Answered,
            };
            let wait = 5 + (i * 7) % 90;
            let mut first = visit(
                &format!("c{i}"),
                ["a", "b"][usize::try_from(i % 2).unwrap()],
                "2026-03-01T00:00:00Z",
                kind,
                wait,
            );
            first.entered = entered;
            first.offered_at = Some(entered);
            first.outcome = first.outcome.map(|o| VisitOutcome {
                at: entered + SignedDuration::from_secs(wait),
                ..o
            });
            if kind == OutcomeKind::FlowOut {
                // Transferred to the other queue, answered there.
                let at = entered + SignedDuration::from_secs(wait);
                let mut second = first.clone();
                second.queue = q(if first.queue == q("a") { "b" } else { "a" });
                second.entered = at;
                second.offered_at = Some(at);
                second.outcome = Some(VisitOutcome {
                    kind: OutcomeKind::Answered,
                    wait_ms: 9_000,
                    at: at + SignedDuration::from_secs(9),
                });
                out.push(first);
                out.push(second);
            } else {
                out.push(first);
            }
        }
        out
    }

    fn tally_query(window: TimeWindow) -> TallyQuery {
        TallyQuery {
            queues: vec![q("a"), q("b")],
            media: Vec::new(),
            window,
            zone: Zone::utc(),
            granularity: Granularity::Hour,
            thresholds: vec![
                Threshold::from_millis(20_000),
                Threshold::from_millis(60_000),
            ],
            short_abandon: Some(Threshold::from_millis(10_000)),
        }
    }

    fn no_progress(_: &SyncProgress) {}

    #[test]
    fn syncs_are_incremental_idempotent_and_give_the_sources_tallies() {
        block_on(async {
            let source = Source {
                visits: Mutex::new(traffic()),
                ..Source::default()
            };
            let store = MemoryStore::default();
            let window = win("2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z");
            let now = ts("2026-03-06T12:00:00Z");
            let request = SyncRequest {
                piece_days: 1,
                ..SyncRequest::new(vec![info("a"), info("b")], window, now)
            };
            let progress = Mutex::new(Vec::new());
            let record = |p: &SyncProgress| progress.lock().unwrap().push(p.clone());
            let first = sync_visits(&request, &source, &store, &record)
                .await
                .unwrap();
            let all = u64::try_from(store.state.lock().unwrap().visits.len()).unwrap();
            assert_eq!(
                first.window,
                Some(win("2026-03-01T00:00:00Z", "2026-03-06T12:00:00Z"))
            );
            assert_eq!((first.pieces_total, first.pieces_done), (6, 6));
            assert_eq!(first.written.new, all);
            assert_eq!(first.complete_until, Some(now));
            let reports = progress.lock().unwrap().clone();
            assert_eq!(reports.len(), 1 + 2 * 6);
            assert_eq!(reports.last().unwrap().pieces_done, 6);
            assert_eq!(
                reports[1].current,
                Some(win("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"))
            );

            // The store now answers as the source does, up to the time of the sync.
            let synced = win("2026-03-01T00:00:00Z", "2026-03-06T12:00:00Z");
            let from_source = tally_visits(&tally_query(synced), &source).await.unwrap();
            let from_store = tally_visits(&tally_query(synced), &store).await.unwrap();
            assert!(!from_store.is_empty());
            assert_eq!(from_store, from_source);

            // An hour later, only the restated 72 hours and the new hour are read, and nothing
            // read again is doubled.
            let reads_before = source.reads.lock().unwrap().len();
            let later = SyncRequest {
                now: ts("2026-03-06T13:00:00Z"),
                ..request.clone()
            };
            let second = sync_visits(&later, &source, &store, &no_progress)
                .await
                .unwrap();
            let reads: Vec<TimeWindow> = source.reads.lock().unwrap()[reads_before..]
                .iter()
                .map(|r| r.window)
                .collect();
            assert_eq!(
                reads.first().map(TimeWindow::start),
                Some(ts("2026-03-03T12:00:00Z"))
            );
            assert_eq!(
                reads.last().map(TimeWindow::end),
                Some(ts("2026-03-06T13:00:00Z"))
            );
            assert_eq!(second.written.updated + second.written.removed, 0);
            let now_stored = u64::try_from(store.state.lock().unwrap().visits.len()).unwrap();
            assert_eq!(now_stored - all, second.written.new);
            let synced = win("2026-03-01T00:00:00Z", "2026-03-06T13:00:00Z");
            assert_eq!(
                tally_visits(&tally_query(synced), &store).await.unwrap(),
                tally_visits(&tally_query(synced), &source).await.unwrap()
            );
            let records = store.state.lock().unwrap().records.clone();
            assert_eq!(records.len(), 2);
            assert_eq!(records[1].pieces, second.pieces_done);
        });
    }

    #[test]
    fn a_sync_stopped_midway_keeps_what_it_committed_and_the_next_one_completes_it() {
        block_on(async {
            let visits = traffic();
            let failing = Source {
                visits: Mutex::new(visits.clone()),
                fail_on: Some(3),
                ..Source::default()
            };
            let store = MemoryStore::default();
            let window = win("2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z");
            let now = ts("2026-03-06T00:00:00Z");
            let request = SyncRequest {
                piece_days: 1,
                ..SyncRequest::new(vec![info("a"), info("b")], window, now)
            };
            let error = sync_visits(&request, &failing, &store, &no_progress)
                .await
                .unwrap_err();
            assert_eq!(
                error.step,
                SyncStep::Read(piece(
                    &["a", "b"],
                    "2026-03-03T00:00:00Z",
                    "2026-03-04T00:00:00Z"
                ))
            );
            assert_eq!(
                (error.stored.pieces_done, error.stored.pieces_total),
                (2, 5)
            );
            assert_eq!(
                error.to_string(),
                format!(
                    "sync stopped while reading visits for 2026-03-03T00:00:00Z/2026-03-04T00:00:00Z \
                     (2 queues); 2 of 5 pieces were stored before ({} visits new, 0 updated, 0 removed)",
                    error.stored.written.new
                )
            );
            {
                let state = store.state.lock().unwrap();
                assert!(state.records.is_empty());
                assert_eq!(
                    state.coverage.spans(&q("a")),
                    [win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")]
                );
            }
            // What was committed is whole: the store answers as the source for those two days.
            let committed = win("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z");
            let source = Source {
                visits: Mutex::new(visits),
                ..Source::default()
            };
            assert_eq!(
                tally_visits(&tally_query(committed), &store).await.unwrap(),
                tally_visits(&tally_query(committed), &source)
                    .await
                    .unwrap()
            );
            // The next sync reads only the restated tail of what was committed and the rest.
            let done = sync_visits(&request, &source, &store, &no_progress)
                .await
                .unwrap();
            let reads = source.reads.lock().unwrap().clone();
            assert_eq!(reads[0].window.start(), ts("2026-03-01T00:00:00Z"));
            assert_eq!(done.complete_until, Some(now));
            assert_eq!(
                tally_visits(&tally_query(window), &store).await.unwrap(),
                tally_visits(&tally_query(window), &source).await.unwrap()
            );
        });
    }

    #[test]
    fn a_failed_write_names_the_piece_and_what_was_stored() {
        block_on(async {
            let source = Source {
                visits: Mutex::new(traffic()),
                ..Source::default()
            };
            let mut store = MockVisitStore::new();
            store.expect_save_queues().times(1).returning(|_| Ok(()));
            store
                .expect_coverage()
                .times(1)
                .returning(|_| Ok(Coverage::new()));
            let mut written = 0;
            store
                .expect_write_piece()
                .times(2)
                .returning(move |_, visits| {
                    written += 1;
                    if written == 2 {
                        return Err(SourceError::Other("disk full".into()));
                    }
                    Ok(WriteCounts {
                        new: visits.len() as u64,
                        ..WriteCounts::default()
                    })
                });
            store.expect_record_sync().never();
            let request = SyncRequest {
                piece_days: 1,
                ..SyncRequest::new(
                    vec![info("a")],
                    win("2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z"),
                    ts("2026-03-10T00:00:00Z"),
                )
            };
            let error = sync_visits(&request, &source, &store, &no_progress)
                .await
                .unwrap_err();
            assert_eq!(
                error.step,
                SyncStep::Write(piece(
                    &["a"],
                    "2026-03-02T00:00:00Z",
                    "2026-03-03T00:00:00Z"
                ))
            );
            assert_eq!(error.stored.pieces_done, 1);
            assert!(error.stored.written.new > 0);
            assert!(
                error
                    .to_string()
                    .starts_with("sync stopped while writing visits for 2026-03-02")
            );
        });
    }

    #[test]
    fn a_window_in_the_future_or_without_queues_syncs_nothing() {
        block_on(async {
            let source = Source::default();
            let mut store = MockVisitStore::new();
            store.expect_save_queues().never();
            store.expect_write_piece().never();
            let future = SyncRequest::new(
                vec![info("a")],
                win("2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"),
                ts("2026-03-01T00:00:00Z"),
            );
            let summary = sync_visits(&future, &source, &store, &no_progress)
                .await
                .unwrap();
            assert_eq!(summary, SyncSummary::default());
            let nobody = SyncRequest {
                queues: Vec::new(),
                now: ts("2026-03-10T00:00:00Z"),
                ..future
            };
            let summary = sync_visits(&nobody, &source, &store, &no_progress)
                .await
                .unwrap();
            assert_eq!(summary.pieces_total, 0);
            assert!(source.reads.lock().unwrap().is_empty());
        });
    }
}
