//! The schema, one for both databases, as numbered migrations applied when a store is opened.
//!
//! The tables and the view are documented for BI tools in `docs/STORE.md`; a change here is a
//! new migration appended to [`MIGRATIONS`] and a change there. Instants are whole
//! milliseconds since the Unix epoch in `BIGINT` columns (`*_ms`), which both databases store
//! and index alike.

/// The SQL dialect a migration is written out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The table holding the versions applied; created before any migration runs.
pub(crate) const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version BIGINT NOT NULL PRIMARY KEY,
    applied_ms BIGINT NOT NULL
)";

/// The migrations, version 1 first. `{SYNC_ID}` and `{DAY(column)}` differ between dialects.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE visits (
    conversation_id TEXT NOT NULL,
    visit_index INTEGER NOT NULL,
    queue_id TEXT NOT NULL,
    media_type TEXT NOT NULL,
    entered_ms BIGINT NOT NULL,
    offered_ms BIGINT,
    outcome TEXT,
    ended_ms BIGINT,
    wait_ms BIGINT,
    PRIMARY KEY (conversation_id, visit_index),
    CHECK (outcome IN ('answered', 'abandoned', 'flow_out')),
    CHECK ((outcome IS NULL) = (ended_ms IS NULL) AND (outcome IS NULL) = (wait_ms IS NULL)),
    CHECK (wait_ms >= 0)
);
CREATE INDEX visits_queue_offered ON visits (queue_id, offered_ms);
CREATE INDEX visits_queue_ended ON visits (queue_id, ended_ms);

CREATE TABLE queues (
    queue_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    division TEXT,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE queue_service_levels (
    queue_id TEXT NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    threshold_ms BIGINT NOT NULL,
    target_percent DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (queue_id, media_type)
);

CREATE TABLE synced_spans (
    queue_id TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    PRIMARY KEY (queue_id, start_ms),
    CHECK (start_ms < end_ms)
);

CREATE TABLE syncs (
    sync_id {SYNC_ID},
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms BIGINT NOT NULL,
    queue_ids TEXT NOT NULL,
    pieces BIGINT NOT NULL,
    visits_new BIGINT NOT NULL,
    visits_updated BIGINT NOT NULL,
    visits_unchanged BIGINT NOT NULL,
    visits_removed BIGINT NOT NULL
);

CREATE VIEW daily_queue_counts AS
SELECT e.day AS day,
       e.queue_id AS queue_id,
       q.name AS queue_name,
       e.media_type AS media_type,
       CAST(SUM(e.offered) AS BIGINT) AS offered,
       CAST(SUM(e.answered) AS BIGINT) AS answered,
       CAST(SUM(e.abandoned) AS BIGINT) AS abandoned,
       CAST(SUM(e.flow_out) AS BIGINT) AS flow_outs,
       CAST(COALESCE(SUM(e.answer_wait_ms), 0) AS BIGINT) AS answer_wait_ms_sum,
       MAX(e.answer_wait_ms) AS answer_wait_ms_max,
       CAST(COALESCE(SUM(e.abandon_wait_ms), 0) AS BIGINT) AS abandon_wait_ms_sum
FROM (
    SELECT {DAY(offered_ms)} AS day, queue_id, media_type,
           1 AS offered, 0 AS answered, 0 AS abandoned, 0 AS flow_out,
           CAST(NULL AS BIGINT) AS answer_wait_ms, CAST(NULL AS BIGINT) AS abandon_wait_ms
    FROM visits
    WHERE offered_ms IS NOT NULL
    UNION ALL
    SELECT {DAY(ended_ms)}, queue_id, media_type,
           0,
           CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END,
           CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END,
           CASE WHEN outcome = 'flow_out' THEN 1 ELSE 0 END,
           CASE WHEN outcome = 'answered' THEN wait_ms END,
           CASE WHEN outcome = 'abandoned' THEN wait_ms END
    FROM visits
    WHERE ended_ms IS NOT NULL
) AS e
LEFT JOIN queues AS q ON q.queue_id = e.queue_id
GROUP BY e.day, e.queue_id, q.name, e.media_type;
"];

/// The newest schema version this program knows.
pub(crate) fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// The migrations after `current`, with their versions, written out for `dialect`.
pub(crate) fn pending(current: i64, dialect: Dialect) -> Vec<(i64, String)> {
    MIGRATIONS
        .iter()
        .zip(1..)
        .filter(|(_, version)| *version > current)
        .map(|(sql, version)| (version, render(sql, dialect)))
        .collect()
}

fn render(sql: &str, dialect: Dialect) -> String {
    let (sync_id, day) = match dialect {
        Dialect::Sqlite => (
            "INTEGER PRIMARY KEY",
            // `date` reads whole seconds since the epoch.
            "date(COLUMN / 1000, 'unixepoch')",
        ),
        Dialect::Postgres => (
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            // Arithmetic on a timestamp without a zone, so the session's zone plays no part.
            "to_char(TIMESTAMP '1970-01-01 00:00:00' + COLUMN * INTERVAL '1 millisecond', 'YYYY-MM-DD')",
        ),
    };
    let mut out = sql.replace("{SYNC_ID}", sync_id);
    for column in ["offered_ms", "ended_ms"] {
        out = out.replace(
            &format!("{{DAY({column})}}"),
            &day.replace("COLUMN", column),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_written_out_in_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for (version, sql) in pending(0, dialect) {
                assert!(!sql.contains('{'), "{dialect:?} v{version}: {sql}");
            }
        }
        assert_eq!(pending(latest(), Dialect::Sqlite), Vec::new());
        assert_eq!(pending(0, Dialect::Postgres).len(), MIGRATIONS.len());
    }
}
