//! genesys-adapter.
