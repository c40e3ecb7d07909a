//! The store on SQLite and PostgreSQL: users and watchlists, detections, tracked setups and
//! positions. One test binary; each file is one part of the store.

#[path = "../support/mod.rs"]
mod support;

mod backends;
mod backtest;
mod calibration;
mod detection_batches;
mod full_disk;
mod gex_history;
mod positions;
mod setups;
mod snoozes;
