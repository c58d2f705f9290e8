//! The statements both databases run alike, written once with PostgreSQL's `$N` placeholders;
//! the SQLite store reads them through [`sqlite`], which writes them as SQLite's `?N`.

/// Inserts or renames a queue: `$1` id, `$2` name, `$3` division, `$4` now in milliseconds.
pub(crate) const SAVE_QUEUE: &str = "INSERT INTO queues (queue_id, name, division, updated_ms)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (queue_id) DO UPDATE SET name = EXCLUDED.name,
         division = EXCLUDED.division, updated_ms = EXCLUDED.updated_ms";

/// Forgets the service levels of queue `$1`, before [`SAVE_LEVEL`] writes them again.
pub(crate) const CLEAR_LEVELS: &str = "DELETE FROM queue_service_levels WHERE queue_id = $1";

/// One service level: `$1` queue, `$2` media type, `$3` threshold in milliseconds, `$4` target.
pub(crate) const SAVE_LEVEL: &str =
    "INSERT INTO queue_service_levels (queue_id, media_type, threshold_ms, target_percent)
     VALUES ($1, $2, $3, $4)";

/// Every queue joined with its service levels, read into [`crate::rows::QueueRow`]s.
pub(crate) const QUEUE_ROWS: &str =
    "SELECT q.queue_id, q.name, q.division, l.media_type, l.threshold_ms, l.target_percent
     FROM queues AS q LEFT JOIN queue_service_levels AS l ON l.queue_id = q.queue_id";

/// A finished sync, from [`crate::rows::SyncValues`] in field order.
pub(crate) const RECORD_SYNC: &str =
    "INSERT INTO syncs (started_ms, finished_ms, window_start_ms, window_end_ms,
         queue_ids, pieces, visits_new, visits_updated, visits_unchanged, visits_removed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// What follows an insert into `visits`: a visit already stored takes the new values.
pub(crate) const VISIT_CONFLICT: &str = "ON CONFLICT (conversation_id, visit_index) DO UPDATE SET
     queue_id = EXCLUDED.queue_id, media_type = EXCLUDED.media_type,
     entered_ms = EXCLUDED.entered_ms, offered_ms = EXCLUDED.offered_ms,
     outcome = EXCLUDED.outcome, ended_ms = EXCLUDED.ended_ms, wait_ms = EXCLUDED.wait_ms";

/// The extent of queue `$1`'s synced spans that overlap or touch `[$2, $3)`: one row, both
/// `NULL` when there are none.
pub(crate) const SPAN_BOUNDS: &str = "SELECT MIN(start_ms), MAX(end_ms) FROM synced_spans
     WHERE queue_id = $1 AND start_ms <= $3 AND end_ms >= $2";

/// Removes queue `$1`'s synced spans that overlap or touch `[$2, $3)`.
pub(crate) const SPAN_DELETE: &str =
    "DELETE FROM synced_spans WHERE queue_id = $1 AND start_ms <= $3 AND end_ms >= $2";

/// Records `[$2, $3)` as synced for queue `$1`.
pub(crate) const SPAN_INSERT: &str =
    "INSERT INTO synced_spans (queue_id, start_ms, end_ms) VALUES ($1, $2, $3)";

/// `sql` with SQLite's numbered placeholders: `?N` for `$N`, the same parameter by number.
pub(crate) fn sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}
