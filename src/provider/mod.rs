//! Market data providers (SPEC 10). The simulated options chain is pure and lives in
//! [`sim_chain`]; the I/O-bound providers are added alongside.

pub mod sim_chain;
