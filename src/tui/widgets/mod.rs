//! Custom ratatui widgets.

pub mod gex_bars;
pub mod candles;
