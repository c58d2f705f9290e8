//! genesys-sim.
