//! The store on SQLite (temporary files) and on a PostgreSQL server of the run's own: the same
//! behaviour on both, the schema as BI tools read it, and a sync of the simulated org through
//! the real Genesys client.

mod behaviour;
mod schema;
mod sim;
mod support;
