//! The history store as both binaries open it: for a sync, which creates it when missing, or
//! for reading, which never creates an empty store in its place.

use std::sync::Arc;

use sla_core::StoreSources;
use sla_core::ports::{QueueDirectory, VisitSource, VisitStore};
use sla_store::{Store, StoreError};

pub use sla_store::DEFAULT_URL;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    /// A URL or a store the user can fix: a bad URL, a `sqlite:` file that does not exist yet.
    #[error("{0}")]
    Usage(String),
    /// The store could not be opened or migrated.
    #[error(transparent)]
    Store(StoreError),
}

/// What is done with a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A sync writes to it: a `sqlite:` file is created when missing.
    Write,
    /// A report reads it: a `sqlite:` file must exist, since an empty one made in its place would
    /// only report zeros.
    Read,
}

/// An open history store and the ports it serves.
#[derive(Clone, Debug)]
pub struct HistoryStore {
    store: Arc<Store>,
}

impl HistoryStore {
    /// Opens the store `url` names (see `docs/STORE.md`), creating or migrating its schema.
    pub async fn open(url: &str, access: Access) -> Result<HistoryStore, OpenStoreError> {
        if access == Access::Read
            && let Some(path) = sla_store::sqlite_file(url)
            && !path.exists()
        {
            return Err(OpenStoreError::Usage(format!(
                "there is no store at {} (no file {}): fill it with `sla sync --store {}` first",
                url.trim(),
                path.display(),
                url.trim()
            )));
        }
        let store = sla_store::open(url).await.map_err(|e| match e {
            e @ StoreError::InvalidUrl { .. } => OpenStoreError::Usage(e.to_string()),
            other => OpenStoreError::Store(other),
        })?;
        Ok(HistoryStore { store })
    }

    /// The store's URL, with any password hidden.
    pub fn url(&self) -> &str {
        self.store.url()
    }

    /// The queues as last synced.
    pub fn directory(&self) -> Arc<dyn QueueDirectory> {
        self.store.clone()
    }

    /// The stored visits.
    pub fn visits(&self) -> Arc<dyn VisitSource> {
        self.store.clone()
    }

    /// What a sync writes, and how far the store is complete.
    pub fn writer(&self) -> Arc<dyn VisitStore> {
        self.store.clone()
    }

    /// The store as reports read it.
    pub fn sources(&self) -> StoreSources<'_> {
        StoreSources {
            directory: self.store.as_ref(),
            visits: self.store.as_ref(),
            store: self.store.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file_and_others_none() {
        let sqlite_path = |url| sla_store::sqlite_file(url).map(|p| p.display().to_string());
        assert_eq!(sqlite_path("sqlite:sla.db").as_deref(), Some("sla.db"));
        assert_eq!(
            sqlite_path(" SQLite:data/sla.db\n").as_deref(),
            Some("data/sla.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/sla.db").as_deref(),
            Some("/var/lib/sla.db")
        );
        assert_eq!(sqlite_path("sqlite:"), None);
        assert_eq!(sqlite_path("postgres://db/sla"), None);
        assert_eq!(sqlite_path("sla.db"), None);
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn reading_never_creates_a_store_and_writing_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.db");
        let url = format!("sqlite:{}", file.display());
        match block_on(HistoryStore::open(&url, Access::Read)) {
            Err(OpenStoreError::Usage(message)) => {
                assert!(
                    message.starts_with(&format!("there is no store at {url}")),
                    "{message}"
                );
                assert!(message.contains("sla sync --store"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!file.exists());
        let written = block_on(HistoryStore::open(&url, Access::Write)).unwrap();
        assert_eq!(written.url(), url);
        assert!(file.exists());
        assert!(block_on(HistoryStore::open(&url, Access::Read)).is_ok());
    }

    #[test]
    fn a_bad_url_is_a_usage_error_without_its_password() {
        match block_on(HistoryStore::open(
            "mysql://root:hunter2@db/sla",
            Access::Write,
        )) {
            Err(OpenStoreError::Usage(message)) => {
                assert!(message.contains("unknown scheme 'mysql'"), "{message}");
                assert!(!message.contains("hunter2"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
