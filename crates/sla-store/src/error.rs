//! `StoreError`: what opening, migrating, reading or writing a store can fail with.

use sla_core::ports::SourceError;

/// A store failure. Messages name the store by its URL with any password hidden.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A URL that names no store this crate can open.
    #[error(
        "invalid store URL '{url}': {reason} (expected sqlite:PATH, sqlite:///ABSOLUTE/PATH or postgres://USER@HOST/DATABASE)"
    )]
    InvalidUrl {
        /// The URL as given, password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A SQLite call failed.
    #[error("SQLite store {store}: {action} failed")]
    Sqlite {
        /// The store's URL.
        store: String,
        /// What was being done.
        action: &'static str,
        /// The failure.
        #[source]
        source: rusqlite::Error,
    },
    /// A PostgreSQL call failed.
    #[error("PostgreSQL store {store}: {action} failed")]
    Postgres {
        /// The store's URL, password hidden.
        store: String,
        /// What was being done.
        action: &'static str,
        /// The failure.
        #[source]
        source: tokio_postgres::Error,
    },
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL store {store}: no connection")]
    Pool {
        /// The store's URL, password hidden.
        store: String,
        /// The failure.
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// The connection pool could not be set up.
    #[error("PostgreSQL store {store}: the connection pool could not be set up")]
    PoolBuild {
        /// The store's URL, password hidden.
        store: String,
        /// The failure.
        #[source]
        source: deadpool_postgres::BuildError,
    },
    /// The store was migrated by a newer version of this program.
    #[error(
        "store {store} has schema version {found}, newer than the {known} this program knows: upgrade it"
    )]
    SchemaTooNew {
        /// The store's URL, password hidden.
        store: String,
        /// The version found.
        found: i64,
        /// The newest version known here.
        known: i64,
    },
    /// A stored value that cannot be read back.
    #[error("store {store} holds an unreadable value: {reason}")]
    Corrupt {
        /// The store's URL, password hidden.
        store: String,
        /// What is wrong.
        reason: String,
    },
    /// A background task of the store stopped unexpectedly.
    #[error("store {store}: a background task stopped unexpectedly")]
    Task {
        /// The store's URL, password hidden.
        store: String,
        /// The failure.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl From<StoreError> for SourceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt { .. } => SourceError::InvalidResponse(Box::new(error)),
            other => SourceError::Other(Box::new(other)),
        }
    }
}
