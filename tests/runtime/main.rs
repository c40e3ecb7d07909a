//! The running workers end to end: detectors, evaluator, GEX refresher, auto-tracking, the
//! brief scheduler, alerts and their Discord and Sentry delivery, the AI coach, a panicking
//! worker. One test binary; each file is one worker or chain of workers.

#[path = "../fake_channel/mod.rs"]
mod fake_channel;
#[path = "../fake_discord/mod.rs"]
mod fake_discord;
#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod auto_track;
mod backtest_worker;
mod brief_scheduler;
mod coach_llm;
mod detect_worker;
mod evaluator_bus;
mod evaluator_follows;
mod evaluator_worker;
mod full_disk_recovery;
mod gex_worker;
mod health_alerts;
mod journal_stats;
mod market_bus;
mod notify_channels;
mod notify_discord;
mod poll_changes;
mod replay_equals_live;
mod sentry_events;
mod worker_panic;
