//! sla-core.
