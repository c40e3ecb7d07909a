pub mod bars;
pub mod levels;
