//! Team mode's pure rules (SPEC 14): what a change notification says, and how several
//! `coach serve` instances split the symbols. No I/O here; the shell is
//! src/store/team.rs (SQL, LISTEN, advisory locks) and src/runtime/{ownership,listen}.rs.

pub mod change;
pub mod share;
