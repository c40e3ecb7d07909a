//! The market-data providers against local stand-ins and recorded data: CBOE, Massive REST
//! and WebSocket, the Massive feed, the replay and simulated feeds. One test binary; each
//! file is one provider or concern (the parsers' fuzzing is in tests/properties).

#[path = "../alpaca_support/mod.rs"]
mod alpaca_support;
#[path = "../massive_support/mod.rs"]
mod massive_support;
#[path = "../support/mod.rs"]
mod support;

mod alpaca_focus;
mod alpaca_gex;
mod alpaca_rest;
mod alpaca_stream;
mod bar_files;
mod cboe;
mod massive_feed;
mod massive_prices;
mod massive_rest;
mod massive_scale;
mod massive_startup;
mod massive_stream;
mod replay;
mod replay_chain;
mod sim;
