//! The GEX profile beyond its unit tests: the real SPY chain in ../shared, and the profile
//! against the textbook formula on random chains. One test binary; .ci/run runs it twice,
//! the second time with `COACH_GEX_PORTABLE=1` (the portable loops instead of AVX-512/AVX2).

mod real_chain;
mod reference;
