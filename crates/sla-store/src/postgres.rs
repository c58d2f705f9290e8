//! The PostgreSQL store: a pool of connections shared by every caller (several `sla-http`
//! replicas and BI tools can read one store while a sync writes). Writes send a piece's rows in
//! a few statements over `UNNEST`ed arrays; reads stream rows through a portal, a batch at a
//! time, so memory stays bounded however long the window.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use sla_core::ports::{Coverage, SyncPiece, SyncRecord, Visit, VisitQuery, VisitSink, WriteCounts};
use sla_core::{QueueId, QueueInfo, StoredVisit, reconcile};
use tokio_postgres::{NoTls, Row};

use crate::error::StoreError;
use crate::rows::{self, QueueRow, VISIT_COLUMNS, VisitValues, ceil_ms};
use crate::schema::{self, Dialect, VERSION_TABLE};
use crate::sql;

/// Held for the length of a migration, so that two programs opening a new store at once do
/// not both create it.
const MIGRATION_LOCK: i64 = 0x736c_615f_6d69_6772;
/// Held for the length of a piece's write, so that writers assign visit indexes one at a time.
const WRITE_LOCK: i64 = 0x736c_615f_7772_6974;
/// Rows per `INSERT` over arrays.
const CHUNK: usize = 5_000;
/// Rows fetched from a portal at a time.
const FETCH: i32 = 4_096;
/// Connections in the pool.
const POOL_SIZE: usize = 8;

/// What failed, before the store's name is attached.
#[derive(Debug)]
enum Failure {
    Sql(&'static str, tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    Corrupt(String),
    TooNew(i64),
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Failure::Pool(error)
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Corrupt(reason)
    }
}

type Result<T, E = Failure> = std::result::Result<T, E>;

/// Attaches what was being done to a driver error.
trait Doing<T> {
    fn doing(self, action: &'static str) -> Result<T>;
}

impl<T> Doing<T> for std::result::Result<T, tokio_postgres::Error> {
    fn doing(self, action: &'static str) -> Result<T> {
        self.map_err(|e| Failure::Sql(action, e))
    }
}

/// A transaction that first takes the advisory lock `lock`, which PostgreSQL holds until the
/// transaction ends.
async fn locked<'a>(
    client: &'a mut deadpool_postgres::Client,
    lock: i64,
    action: &'static str,
) -> Result<deadpool_postgres::Transaction<'a>> {
    let tx = client.transaction().await.doing(action)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .await
        .doing(action)?;
    Ok(tx)
}

#[derive(Debug)]
pub(crate) struct Postgres {
    pool: Pool,
    /// The URL with its password hidden, for messages.
    name: String,
}

impl Postgres {
    /// Connects to the database `config` names and migrates it.
    pub(crate) async fn open(
        mut config: tokio_postgres::Config,
        name: String,
    ) -> Result<Self, StoreError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("sla");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|source| StoreError::PoolBuild {
                store: name.clone(),
                source,
            })?;
        let store = Self { pool, name };
        store.check(store.migrate().await)?;
        Ok(store)
    }

    fn check<T>(&self, result: Result<T>) -> Result<T, StoreError> {
        let store = self.name.clone();
        result.map_err(|failure| match failure {
            Failure::Sql(action, source) => StoreError::Postgres {
                store,
                action,
                source,
            },
            Failure::Pool(source) => StoreError::Pool { store, source },
            Failure::Corrupt(reason) => StoreError::Corrupt { store, reason },
            Failure::TooNew(found) => StoreError::SchemaTooNew {
                store,
                found,
                known: schema::latest(),
            },
        })
    }

    async fn migrate(&self) -> Result<()> {
        const ACTION: &str = "migrating";
        let mut client = self.pool.get().await?;
        let tx = locked(&mut client, MIGRATION_LOCK, ACTION).await?;
        tx.batch_execute(VERSION_TABLE).await.doing(ACTION)?;
        let current: i64 = tx
            .query_one(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version",
                &[],
            )
            .await
            .doing(ACTION)?
            .try_get(0)
            .doing(ACTION)?;
        if current > schema::latest() {
            return Err(Failure::TooNew(current));
        }
        let now = rows::ms(jiff::Timestamp::now());
        for (version, sql) in schema::pending(current, Dialect::Postgres) {
            tracing::info!(version, "migrating the PostgreSQL store");
            tx.batch_execute(&sql).await.doing(ACTION)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_ms) VALUES ($1, $2)",
                &[&version, &now],
            )
            .await
            .doing(ACTION)?;
        }
        tx.commit().await.doing(ACTION)?;
        Ok(())
    }

    pub(crate) async fn write_piece(
        &self,
        piece: &SyncPiece,
        visits: Vec<Visit>,
    ) -> Result<WriteCounts, StoreError> {
        self.check(self.write(piece, visits).await)
    }

    async fn write(&self, piece: &SyncPiece, visits: Vec<Visit>) -> Result<WriteCounts> {
        const ACTION: &str = "writing a piece";
        let mut client = self.pool.get().await?;
        let tx = locked(&mut client, WRITE_LOCK, ACTION).await?;
        let (start, end) = (ceil_ms(piece.window.start()), ceil_ms(piece.window.end()));
        let queues: Vec<&str> = piece.queues.iter().map(QueueId::as_str).collect();
        let mut conversations: Vec<&str> =
            visits.iter().map(|v| v.conversation_id.as_str()).collect();
        conversations.sort_unstable();
        conversations.dedup();
        let mut existing = Vec::new();
        for row in tx
            .query(
                &format!("SELECT {VISIT_COLUMNS} FROM visits WHERE conversation_id = ANY($1)"),
                &[&conversations],
            )
            .await
            .doing(ACTION)?
        {
            existing.push(stored(&row)?);
        }
        for row in tx
            .query(
                &format!(
                    "SELECT {VISIT_COLUMNS} FROM visits WHERE queue_id = ANY($1)
                       AND ((offered_ms >= $2 AND offered_ms < $3) OR (ended_ms >= $2 AND ended_ms < $3))"
                ),
                &[&queues, &start, &end],
            )
            .await
            .doing(ACTION)?
        {
            existing.push(stored(&row)?);
        }
        let changes = reconcile(piece, existing, visits);
        if !changes.removals.is_empty() {
            let ids: Vec<&str> = changes.removals.iter().map(|(c, _)| c.as_str()).collect();
            let indexes = changes
                .removals
                .iter()
                .map(|(_, i)| index_value(*i))
                .collect::<Result<Vec<i32>>>()?;
            tx.execute(
                "DELETE FROM visits AS v USING UNNEST($1::text[], $2::int4[]) AS d (c, i)
                 WHERE v.conversation_id = d.c AND v.visit_index = d.i",
                &[&ids, &indexes],
            )
            .await
            .doing(ACTION)?;
        }
        let upsert = tx
            .prepare(&format!(
                "INSERT INTO visits ({VISIT_COLUMNS})
                 SELECT * FROM UNNEST($1::text[], $2::int4[], $3::text[], $4::text[], $5::int8[],
                                      $6::int8[], $7::text[], $8::int8[], $9::int8[])
                 {}",
                sql::VISIT_CONFLICT
            ))
            .await
            .doing(ACTION)?;
        for chunk in changes.upserts.chunks(CHUNK) {
            let columns = Columns::of(chunk)?;
            tx.execute(
                &upsert,
                &[
                    &columns.conversation_id, &columns.visit_index, &columns.queue_id,
                    &columns.media_type, &columns.entered_ms, &columns.offered_ms,
                    &columns.outcome, &columns.ended_ms, &columns.wait_ms,
                ],
            )
            .await
            .doing(ACTION)?;
        }
        if start < end {
            for queue in &queues {
                extend_span(&tx, queue, start, end).await?;
            }
        }
        tx.commit().await.doing(ACTION)?;
        Ok(changes.counts)
    }

    pub(crate) async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), StoreError> {
        self.check(self.save(queues).await)
    }

    async fn save(&self, queues: &[QueueInfo]) -> Result<()> {
        const ACTION: &str = "saving queues";
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await.doing(ACTION)?;
        let now = rows::ms(jiff::Timestamp::now());
        let upsert = tx.prepare(sql::SAVE_QUEUE).await.doing(ACTION)?;
        let clear = tx.prepare(sql::CLEAR_LEVELS).await.doing(ACTION)?;
        let level = tx.prepare(sql::SAVE_LEVEL).await.doing(ACTION)?;
        for q in queues {
            let id = q.queue.id.as_str();
            tx.execute(&upsert, &[&id, &q.queue.name, &q.division, &now])
                .await
                .doing(ACTION)?;
            tx.execute(&clear, &[&id]).await.doing(ACTION)?;
            for (media, threshold, target) in rows::levels(q) {
                tx.execute(&level, &[&id, &media, &threshold, &target])
                    .await
                    .doing(ACTION)?;
            }
        }
        tx.commit().await.doing(ACTION)?;
        Ok(())
    }

    pub(crate) async fn queue_rows(&self) -> Result<Vec<QueueRow>, StoreError> {
        self.check(self.read_queues().await)
    }

    async fn read_queues(&self) -> Result<Vec<QueueRow>> {
        const ACTION: &str = "reading queues";
        let client = self.pool.get().await?;
        let rows = client.query(sql::QUEUE_ROWS, &[]).await.doing(ACTION)?;
        rows.iter()
            .map(|r| {
                let media: Option<String> = r.try_get(3).doing(ACTION)?;
                let level = match media {
                    Some(media) => Some((
                        media,
                        r.try_get(4).doing(ACTION)?,
                        r.try_get(5).doing(ACTION)?,
                    )),
                    None => None,
                };
                Ok(QueueRow {
                    queue_id: r.try_get(0).doing(ACTION)?,
                    name: r.try_get(1).doing(ACTION)?,
                    division: r.try_get(2).doing(ACTION)?,
                    level,
                })
            })
            .collect()
    }

    pub(crate) async fn coverage(&self, queues: &[QueueId]) -> Result<Coverage, StoreError> {
        self.check(self.read_coverage(queues).await)
    }

    async fn read_coverage(&self, queues: &[QueueId]) -> Result<Coverage> {
        const ACTION: &str = "reading the coverage";
        let client = self.pool.get().await?;
        let ids: Vec<&str> = queues.iter().map(QueueId::as_str).collect();
        let rows = client
            .query(
                "SELECT queue_id, start_ms, end_ms FROM synced_spans WHERE queue_id = ANY($1)
                 ORDER BY queue_id, start_ms",
                &[&ids],
            )
            .await
            .doing(ACTION)?;
        let mut coverage = Coverage::new();
        for row in &rows {
            let queue = QueueId::new(row.try_get::<_, String>(0).doing(ACTION)?);
            let span = rows::span(row.try_get(1).doing(ACTION)?, row.try_get(2).doing(ACTION)?)?;
            coverage.add(&queue, span);
        }
        Ok(coverage)
    }

    pub(crate) async fn record_sync(&self, record: &SyncRecord) -> Result<(), StoreError> {
        self.check(self.record(record).await)
    }

    async fn record(&self, record: &SyncRecord) -> Result<()> {
        const ACTION: &str = "recording a sync";
        let client = self.pool.get().await?;
        let v = rows::SyncValues::of(record);
        client
            .execute(
                sql::RECORD_SYNC,
                &[
                    &v.started_ms, &v.finished_ms, &v.window_start_ms, &v.window_end_ms,
                    &v.queue_ids, &v.counts[0], &v.counts[1], &v.counts[2], &v.counts[3],
                    &v.counts[4],
                ],
            )
            .await
            .doing(ACTION)?;
        Ok(())
    }

    pub(crate) async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut dyn VisitSink,
    ) -> Result<(), StoreError> {
        self.check(self.read_visits(query, sink).await)
    }

    /// Streams the visits offered inside the window, then those ended inside it but offered
    /// outside, through a portal.
    async fn read_visits(&self, query: &VisitQuery, sink: &mut dyn VisitSink) -> Result<()> {
        const ACTION: &str = "reading visits";
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await.doing(ACTION)?;
        let columns = "conversation_id, queue_id, media_type, entered_ms, offered_ms, outcome, \
                       ended_ms, wait_ms";
        let media_filter = "(cardinality($4::text[]) = 0 OR media_type = ANY($4))";
        let statement = tx
            .prepare(&format!(
                "SELECT {columns} FROM visits
                 WHERE queue_id = ANY($1) AND offered_ms >= $2 AND offered_ms < $3 AND {media_filter}
                 UNION ALL
                 SELECT {columns} FROM visits
                 WHERE queue_id = ANY($1) AND ended_ms >= $2 AND ended_ms < $3
                   AND (offered_ms IS NULL OR offered_ms < $2 OR offered_ms >= $3) AND {media_filter}"
            ))
            .await
            .doing(ACTION)?;
        let queues: Vec<&str> = query.queues.iter().map(QueueId::as_str).collect();
        let media: Vec<&str> = query.media.iter().map(|m| m.as_str()).collect();
        let (start, end) = (ceil_ms(query.window.start()), ceil_ms(query.window.end()));
        let portal = tx
            .bind(&statement, &[&queues, &start, &end, &media])
            .await
            .doing(ACTION)?;
        loop {
            let rows = tx.query_portal(&portal, FETCH).await.doing(ACTION)?;
            for row in &rows {
                sink.visit(visit_in(row, 1, ACTION)?);
            }
            if rows.len() < usize::try_from(FETCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        tx.commit().await.doing(ACTION)?;
        Ok(())
    }
}

/// Reads one row of [`VISIT_COLUMNS`].
fn stored(row: &Row) -> Result<StoredVisit> {
    const ACTION: &str = "reading stored visits";
    let index = rows::index(i64::from(row.try_get::<_, i32>(1).doing(ACTION)?))?;
    let visit = visit_in(row, 2, ACTION)?;
    Ok(StoredVisit { index, visit })
}

/// The visit in `row`: the conversation id in column 0, the queue in column `queue`, then its
/// media, entry, offer, outcome, end and wait in the columns after it.
fn visit_in(row: &Row, queue: usize, action: &'static str) -> Result<Visit> {
    Ok(rows::visit(
        row.try_get(0).doing(action)?,
        QueueId::new(row.try_get::<_, String>(queue).doing(action)?),
        rows::media(row.try_get(queue + 1).doing(action)?)?,
        row.try_get(queue + 2).doing(action)?,
        row.try_get(queue + 3).doing(action)?,
        row.try_get(queue + 4).doing(action)?,
        row.try_get(queue + 5).doing(action)?,
        row.try_get(queue + 6).doing(action)?,
    )?)
}

/// A visit index as the `INTEGER` column holds it.
fn index_value(index: u32) -> Result<i32> {
    i32::try_from(index).map_err(|_| Failure::Corrupt(format!("visit index {index} is too large")))
}

/// Visits as one array per column, for an `INSERT` over `UNNEST`.
struct Columns<'a> {
    conversation_id: Vec<&'a str>,
    visit_index: Vec<i32>,
    queue_id: Vec<&'a str>,
    media_type: Vec<&'static str>,
    entered_ms: Vec<i64>,
    offered_ms: Vec<Option<i64>>,
    outcome: Vec<Option<&'static str>>,
    ended_ms: Vec<Option<i64>>,
    wait_ms: Vec<Option<i64>>,
}

impl<'a> Columns<'a> {
    fn of(rows: &'a [StoredVisit]) -> Result<Self> {
        let mut out = Columns {
            conversation_id: Vec::with_capacity(rows.len()),
            visit_index: Vec::with_capacity(rows.len()),
            queue_id: Vec::with_capacity(rows.len()),
            media_type: Vec::with_capacity(rows.len()),
            entered_ms: Vec::with_capacity(rows.len()),
            offered_ms: Vec::with_capacity(rows.len()),
            outcome: Vec::with_capacity(rows.len()),
            ended_ms: Vec::with_capacity(rows.len()),
            wait_ms: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            let v = VisitValues::of(&row.visit);
            out.conversation_id.push(v.conversation_id);
            out.visit_index.push(index_value(row.index)?);
            out.queue_id.push(v.queue_id);
            out.media_type.push(v.media_type);
            out.entered_ms.push(v.entered_ms);
            out.offered_ms.push(v.offered_ms);
            out.outcome.push(v.outcome);
            out.ended_ms.push(v.ended_ms);
            out.wait_ms.push(v.wait_ms);
        }
        Ok(out)
    }
}

/// Adds `[start, end)` to the synced spans of `queue`, merging the spans it overlaps or touches.
async fn extend_span(
    tx: &deadpool_postgres::Transaction<'_>,
    queue: &str,
    start: i64,
    end: i64,
) -> Result<()> {
    const ACTION: &str = "extending the coverage";
    let row = tx
        .query_one(sql::SPAN_BOUNDS, &[&queue, &start, &end])
        .await
        .doing(ACTION)?;
    let bounds = (row.try_get(0).doing(ACTION)?, row.try_get(1).doing(ACTION)?);
    let (start, end) = rows::merged_span(bounds, start, end);
    tx.execute(sql::SPAN_DELETE, &[&queue, &start, &end])
        .await
        .doing(ACTION)?;
    tx.execute(sql::SPAN_INSERT, &[&queue, &start, &end])
        .await
        .doing(ACTION)?;
    Ok(())
}
