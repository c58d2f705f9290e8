//! The history store: queue visits synced from Genesys into SQLite (an embedded file, the
//! default) or PostgreSQL (shared by many readers), behind sla-core's ports.
//!
//! [`open`] takes a URL (`sqlite:sla.db`, `sqlite:///var/lib/sla/sla.db`,
//! `postgres://sla@db.internal/sla`), creates or migrates the schema, and returns a [`Store`]
//! that is at once a [`VisitStore`] (what `sla_core::sync_visits` fills), a [`VisitSource`] (so
//! `sla_core::tally_visits` and the breach finder read visits from it exactly as from Genesys
//! conversation details) and a [`QueueDirectory`] (the queues' names and configured service
//! levels as last synced), so a report from the store makes no Genesys request.
//!
//! ```no_run
//! # async fn demo(
//! #     genesys: &dyn sla_core::ports::VisitSource,
//! #     queues: Vec<sla_core::QueueInfo>,
//! #     window: sla_core::TimeWindow,
//! #     now: jiff::Timestamp,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use sla_core::ports::{VisitSource, VisitStore};
//! use sla_core::{SyncRequest, sync_visits};
//!
//! let store = sla_store::open("sqlite:sla.db").await?;
//! let request = SyncRequest::new(queues, window, now);
//! let summary = sync_visits(&request, genesys, store.as_ref(), &|_progress| {}).await?;
//! println!("{} new visits, complete up to {:?}", summary.written.new, summary.complete_until);
//! // The same store, as the ports the report path takes.
//! let source: Arc<dyn VisitSource> = store.clone();
//! let writer: Arc<dyn VisitStore> = store;
//! # let _ = (source, writer);
//! # Ok(())
//! # }
//! ```
//!
//! Both databases hold the same schema (documented for BI tools in `docs/STORE.md`), applied
//! by numbered migrations when a store is opened.

mod error;
mod location;
mod postgres;
mod rows;
mod schema;
mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use sla_core::ports::{
    Coverage, QueueDirectory, QueueSelector, SourceError, SyncPiece, SyncRecord, Visit, VisitQuery,
    VisitSink, VisitSource, VisitStore, WriteCounts,
};
use sla_core::{QueueId, QueueInfo};

use crate::location::Location;
use crate::postgres::Postgres;
use crate::sqlite::Sqlite;

pub use crate::error::StoreError;

/// The store `sla` uses when none is named: `sla.db` in the working directory.
pub const DEFAULT_URL: &str = "sqlite:sla.db";

/// Opens the store `url` names, creating it (a SQLite file) or its tables (a PostgreSQL
/// database that must exist) when missing, and applying any pending migrations.
///
/// A URL that is neither `sqlite:PATH` nor `postgres://...` is a [`StoreError::InvalidUrl`]
/// naming it, with any password hidden.
pub async fn open(url: &str) -> Result<Arc<Store>, StoreError> {
    let name = location::redact(url.trim());
    let backend = match location::parse(url)? {
        Location::Sqlite(path) => Backend::Sqlite(Sqlite::open(path, name.clone()).await?),
        Location::Postgres(config) => {
            Backend::Postgres(Postgres::open(*config, name.clone()).await?)
        }
    };
    tracing::debug!(store = %name, "store open");
    Ok(Arc::new(Store { backend, name }))
}

/// The file a `sqlite:` URL names, read as [`open`] reads it; `None` for any other URL and for
/// one [`open`] refuses.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    match location::parse(url) {
        Ok(Location::Sqlite(path)) => Some(path),
        Ok(Location::Postgres(_)) | Err(_) => None,
    }
}

/// An open store. Cheap to share behind an `Arc`; calls from many tasks at once are safe.
///
/// `Debug` and [`Store::url`] show the URL with any password hidden.
pub struct Store {
    backend: Backend,
    name: String,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.name)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The store's URL, with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.name
    }
}

#[async_trait]
impl VisitStore for Store {
    async fn write_piece(
        &self,
        piece: &SyncPiece,
        visits: Vec<Visit>,
    ) -> Result<WriteCounts, SourceError> {
        let written = match &self.backend {
            Backend::Sqlite(s) => s.write_piece(piece, visits).await?,
            Backend::Postgres(p) => p.write_piece(piece, visits).await?,
        };
        Ok(written)
    }

    async fn save_queues(&self, queues: &[QueueInfo]) -> Result<(), SourceError> {
        match &self.backend {
            Backend::Sqlite(s) => s.save_queues(queues).await?,
            Backend::Postgres(p) => p.save_queues(queues).await?,
        }
        Ok(())
    }

    async fn coverage(&self, queues: &[QueueId]) -> Result<Coverage, SourceError> {
        let coverage = match &self.backend {
            Backend::Sqlite(s) => s.coverage(queues).await?,
            Backend::Postgres(p) => p.coverage(queues).await?,
        };
        Ok(coverage)
    }

    async fn record_sync(&self, record: &SyncRecord) -> Result<(), SourceError> {
        match &self.backend {
            Backend::Sqlite(s) => s.record_sync(record).await?,
            Backend::Postgres(p) => p.record_sync(record).await?,
        }
        Ok(())
    }
}

#[async_trait]
impl VisitSource for Store {
    async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut (dyn VisitSink + 'static),
    ) -> Result<(), SourceError> {
        match &self.backend {
            Backend::Sqlite(s) => s.visits(query, sink).await?,
            Backend::Postgres(p) => p.visits(query, sink).await?,
        }
        Ok(())
    }
}

#[async_trait]
impl QueueDirectory for Store {
    async fn queues(&self, selector: &QueueSelector) -> Result<Vec<QueueInfo>, SourceError> {
        let rows = match &self.backend {
            Backend::Sqlite(s) => s.queue_rows().await?,
            Backend::Postgres(p) => p.queue_rows().await?,
        };
        rows::queues(rows, selector).map_err(|reason| {
            StoreError::Corrupt {
                store: self.name.clone(),
                reason,
            }
            .into()
        })
    }
}
