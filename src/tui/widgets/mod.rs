//! Custom ratatui widgets.

pub mod candles;
pub mod gex_bars;
