//! The SQLite store: one file in WAL mode, so readers never wait for the writer. rusqlite is
//! synchronous, so every call runs on tokio's blocking pool with a connection kept between
//! calls; rows stream back to the async side through a bounded channel.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use sla_core::ports::{Coverage, SyncPiece, SyncRecord, Visit, VisitQuery, VisitSink, WriteCounts};
use sla_core::{QueueId, QueueInfo, StoredVisit, reconcile};
use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::rows::{self, BATCH, QueueRow, VISIT_COLUMNS, VisitValues, ceil_ms};
use crate::schema::{self, Dialect, VERSION_TABLE};
use crate::sql::{self, sqlite};

/// Connections kept open between calls.
const IDLE: usize = 4;

/// What failed inside a blocking call, before the store's name is attached.
#[derive(Debug)]
enum Failure {
    Sql(rusqlite::Error),
    Corrupt(String),
    TooNew(i64),
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure::Sql(error)
    }
}

impl From<rusqlite::types::FromSqlError> for Failure {
    fn from(error: rusqlite::types::FromSqlError) -> Self {
        Failure::Corrupt(error.to_string())
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Corrupt(reason)
    }
}

type Result<T, E = Failure> = std::result::Result<T, E>;

#[derive(Debug)]
pub(crate) struct Sqlite {
    path: PathBuf,
    /// The URL, for messages.
    name: String,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Sqlite {
    /// Opens (creating when missing) and migrates the store at `path`.
    pub(crate) async fn open(path: PathBuf, name: String) -> Result<Self, StoreError> {
        let store = Self {
            path,
            name,
            idle: Arc::default(),
        };
        store.run("opening and migrating", migrate).await?;
        Ok(store)
    }

    /// Runs `f` on the blocking pool with a connection of its own.
    async fn run<T, F>(&self, action: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        let idle = Arc::clone(&self.idle);
        let outcome = tokio::task::spawn_blocking(move || {
            let pooled = idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => connect(&path)?,
            };
            let result = f(&mut conn);
            let mut idle = idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < IDLE {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|source| StoreError::Task {
            store: self.name.clone(),
            source,
        })?;
        outcome.map_err(|failure| self.error(action, failure))
    }

    fn error(&self, action: &'static str, failure: Failure) -> StoreError {
        let store = self.name.clone();
        match failure {
            Failure::Sql(source) => StoreError::Sqlite {
                store,
                action,
                source,
            },
            Failure::Corrupt(reason) => StoreError::Corrupt { store, reason },
            Failure::TooNew(found) => StoreError::SchemaTooNew {
                store,
                found,
                known: schema::latest(),
            },
        }
    }

    pub(crate) async fn write_piece(
        &self,
        piece: &SyncPiece,
        visits: Vec<Visit>,
    ) -> Result<WriteCounts, StoreError> {
        let piece = piece.clone();
        self.run("writing a piece", move |conn| {
            write_piece(conn, &piece, visits)
        })
        .await
    }

    pub(crate) async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), StoreError> {
        let queues = queues.to_vec();
        self.run("saving queues", move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = rows::ms(jiff::Timestamp::now());
            {
                let mut upsert = tx.prepare(&sqlite(sql::SAVE_QUEUE))?;
                let mut clear = tx.prepare(&sqlite(sql::CLEAR_LEVELS))?;
                let mut level = tx.prepare(&sqlite(sql::SAVE_LEVEL))?;
                for q in &queues {
                    let id = q.queue.id.as_str();
                    upsert.execute((id, &q.queue.name, &q.division, now))?;
                    clear.execute([id])?;
                    for (media, threshold, target) in rows::levels(q) {
                        level.execute((id, media, threshold, target))?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn queue_rows(&self) -> Result<Vec<QueueRow>, StoreError> {
        self.run("reading queues", |conn| {
            let mut stmt = conn.prepare(sql::QUEUE_ROWS)?;
            let rows = stmt.query_map([], |r| {
                let media: Option<String> = r.get(3)?;
                let level = match media {
                    Some(media) => Some((media, r.get(4)?, r.get(5)?)),
                    None => None,
                };
                Ok(QueueRow {
                    queue_id: r.get(0)?,
                    name: r.get(1)?,
                    division: r.get(2)?,
                    level,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub(crate) async fn coverage(&self, queues: &[QueueId]) -> Result<Coverage, StoreError> {
        let queues = queues.to_vec();
        self.run("reading the coverage", move |conn| {
            let mut stmt = conn.prepare(
                "SELECT start_ms, end_ms FROM synced_spans WHERE queue_id = ?1 ORDER BY start_ms",
            )?;
            let mut coverage = Coverage::new();
            for queue in &queues {
                let mut rows = stmt.query([queue.as_str()])?;
                while let Some(row) = rows.next()? {
                    let span = rows::span(row.get(0)?, row.get(1)?)?;
                    coverage.add(queue, span);
                }
            }
            Ok(coverage)
        })
        .await
    }

    pub(crate) async fn record_sync(&self, record: &SyncRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.run("recording a sync", move |conn| {
            let values = rows::SyncValues::of(&record);
            conn.execute(
                &sqlite(sql::RECORD_SYNC),
                (
                    values.started_ms, values.finished_ms, values.window_start_ms,
                    values.window_end_ms, values.queue_ids, values.counts[0], values.counts[1],
                    values.counts[2], values.counts[3], values.counts[4],
                ),
            )?;
            Ok(())
        })
        .await
    }

    /// Streams the visits `query` asks for into `sink`, a batch at a time.
    pub(crate) async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut dyn VisitSink,
    ) -> Result<(), StoreError> {
        let (tx, mut rx) = mpsc::channel::<Vec<Visit>>(4);
        let query = query.clone();
        let reading = self.run("reading visits", move |conn| read_visits(conn, &query, &tx));
        let delivering = async {
            while let Some(batch) = rx.recv().await {
                for visit in batch {
                    sink.visit(visit);
                }
            }
        };
        let (read, ()) = futures_util::future::join(reading, delivering).await;
        read
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // Writers wait for each other rather than fail; a sync commits a piece in well under this.
    conn.busy_timeout(Duration::from_mins(1))?;
    // WAL lets readers (reports, BI tools) go on while a sync writes; NORMAL is durable across
    // a crash of the program and may lose only the last commits on a power failure, which the
    // next sync reads again.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::debug!(%mode, "SQLite store not in WAL mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Reading a year of visits follows an index into rows all over the file: mapped pages
    // (up to SQLite's default ceiling of 2 GB) and a larger cache spare a system call per page.
    let _: i64 = conn.query_row("PRAGMA mmap_size = 2147418112", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -32_768)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(VERSION_TABLE)?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    if current > schema::latest() {
        return Err(Failure::TooNew(current));
    }
    let now = rows::ms(jiff::Timestamp::now());
    for (version, sql) in schema::pending(current, Dialect::Sqlite) {
        tracing::info!(version, "migrating the SQLite store");
        tx.execute_batch(&sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_ms) VALUES (?1, ?2)",
            (version, now),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Reads one row of [`VISIT_COLUMNS`].
fn stored(row: &rusqlite::Row<'_>) -> Result<StoredVisit> {
    let index = rows::index(row.get(1)?)?;
    let visit = rows::visit(
        row.get(0)?,
        QueueId::new(row.get::<_, String>(2)?),
        rows::media(row.get_ref(3)?.as_str()?)?,
        row.get(4)?,
        row.get(5)?,
        row.get_ref(6)?.as_str_or_null()?,
        row.get(7)?,
        row.get(8)?,
    )?;
    Ok(StoredVisit { index, visit })
}

fn write_piece(
    conn: &mut Connection,
    piece: &SyncPiece,
    visits: Vec<Visit>,
) -> Result<WriteCounts> {
    // Immediate: take the write lock before reading, so that no other writer assigns visit
    // indexes between this read and this write.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing = existing(&tx, piece, &visits)?;
    let changes = reconcile(piece, existing, visits);
    {
        let mut delete =
            tx.prepare("DELETE FROM visits WHERE conversation_id = ?1 AND visit_index = ?2")?;
        for (conversation, index) in &changes.removals {
            delete.execute((conversation, index))?;
        }
        let mut upsert = tx.prepare(&format!(
            "INSERT INTO visits ({VISIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) {}",
            sql::VISIT_CONFLICT
        ))?;
        for row in &changes.upserts {
            let v = VisitValues::of(&row.visit);
            upsert.execute((
                v.conversation_id, row.index, v.queue_id, v.media_type, v.entered_ms, v.offered_ms,
                v.outcome, v.ended_ms, v.wait_ms,
            ))?;
        }
    }
    let (start, end) = (ceil_ms(piece.window.start()), ceil_ms(piece.window.end()));
    for queue in &piece.queues {
        extend_span(&tx, queue.as_str(), start, end)?;
    }
    tx.commit()?;
    Ok(changes.counts)
}

/// The stored visits [`reconcile`] needs: those of the incoming conversations and those in the
/// piece's scope.
fn existing(tx: &Transaction<'_>, piece: &SyncPiece, visits: &[Visit]) -> Result<Vec<StoredVisit>> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS piece_conversations (conversation_id TEXT PRIMARY KEY);
         DELETE FROM piece_conversations;",
    )?;
    {
        let mut insert =
            tx.prepare("INSERT OR IGNORE INTO piece_conversations (conversation_id) VALUES (?1)")?;
        for visit in visits {
            insert.execute([&visit.conversation_id])?;
        }
    }
    let mut out = Vec::new();
    let mut by_conversation = tx.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits
         WHERE conversation_id IN (SELECT conversation_id FROM piece_conversations)"
    ))?;
    let mut rows = by_conversation.query([])?;
    while let Some(row) = rows.next()? {
        out.push(stored(row)?);
    }
    // One range per index: SQLite would scan the queue's whole history for an `OR` of both.
    // A visit offered and ended inside the piece comes twice; `reconcile` keeps it once.
    let mut offered = tx.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits
         WHERE queue_id = ?1 AND offered_ms >= ?2 AND offered_ms < ?3"
    ))?;
    let mut ended = tx.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits
         WHERE queue_id = ?1 AND ended_ms >= ?2 AND ended_ms < ?3"
    ))?;
    let (start, end) = (ceil_ms(piece.window.start()), ceil_ms(piece.window.end()));
    for queue in &piece.queues {
        for stmt in [&mut offered, &mut ended] {
            let mut rows = stmt.query((queue.as_str(), start, end))?;
            while let Some(row) = rows.next()? {
                out.push(stored(row)?);
            }
        }
    }
    tx.execute_batch("DELETE FROM piece_conversations")?;
    Ok(out)
}

/// Adds `[start, end)` to the synced spans of `queue`, merging the spans it overlaps or touches.
fn extend_span(tx: &Transaction<'_>, queue: &str, start: i64, end: i64) -> Result<()> {
    if start >= end {
        return Ok(());
    }
    let bounds = tx.query_row(&sqlite(sql::SPAN_BOUNDS), (queue, start, end), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    let (start, end) = rows::merged_span(bounds, start, end);
    tx.execute(&sqlite(sql::SPAN_DELETE), (queue, start, end))?;
    tx.execute(&sqlite(sql::SPAN_INSERT), (queue, start, end))?;
    Ok(())
}

/// Reads the visits `query` asks for, queue by queue: those offered inside the window, then
/// those ended inside it but offered outside, each through its own index.
fn read_visits(
    conn: &mut Connection,
    query: &VisitQuery,
    tx: &mpsc::Sender<Vec<Visit>>,
) -> Result<()> {
    let (start, end) = (ceil_ms(query.window.start()), ceil_ms(query.window.end()));
    let columns = "conversation_id, media_type, entered_ms, offered_ms, outcome, ended_ms, wait_ms";
    let mut offered = conn.prepare(&format!(
        "SELECT {columns} FROM visits WHERE queue_id = ?1 AND offered_ms >= ?2 AND offered_ms < ?3"
    ))?;
    let mut ended = conn.prepare(&format!(
        "SELECT {columns} FROM visits WHERE queue_id = ?1 AND ended_ms >= ?2 AND ended_ms < ?3
           AND (offered_ms IS NULL OR offered_ms < ?2 OR offered_ms >= ?3)"
    ))?;
    let mut queues = query.queues.clone();
    queues.sort();
    queues.dedup();
    let mut batch = Vec::with_capacity(BATCH);
    for queue in &queues {
        for stmt in [&mut offered, &mut ended] {
            let mut rows = stmt.query((queue.as_str(), start, end))?;
            while let Some(row) = rows.next()? {
                let media = rows::media(row.get_ref(1)?.as_str()?)?;
                if !query.media.is_empty() && !query.media.contains(&media) {
                    continue;
                }
                batch.push(rows::visit(
                    row.get(0)?,
                    queue.clone(),
                    media,
                    row.get(2)?,
                    row.get(3)?,
                    row.get_ref(4)?.as_str_or_null()?,
                    row.get(5)?,
                    row.get(6)?,
                )?);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if tx.blocking_send(full).is_err() {
                        // The reader went away: nobody wants the rest.
                        return Ok(());
                    }
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
    Ok(())
}
