//! The GEX profile beyond its unit tests: the real SPY chain in ../shared. One test binary.

mod real_chain;
