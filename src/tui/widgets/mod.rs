//! Custom ratatui widgets.

pub mod gex_bars;
