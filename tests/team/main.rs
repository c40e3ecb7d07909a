//! Team mode (SPEC 14) on PostgreSQL: `coach serve` processes and attached screens, per-user
//! isolation, outages. One test binary; the database restart (which stops the cluster) is
//! tests/team_restart.rs, run alone by .ci/run.

#[path = "../support/mod.rs"]
mod support;

mod attach;
mod isolation;
mod outage;
mod queue;
mod serve;
