//! The work-order lifecycle (`hotline::cases::lifecycle`) as a pure state machine, tested
//! exhaustively: every (status × action) and (role × action) pair against tables written out
//! by hand from the lifecycle diagram, every field rejection, the contents of each `Change`,
//! and a long seeded random walk checking the invariants. No clock reads: `now` is fixed.

mod changes;
mod fields;
mod support;
mod tables;
mod walk;
mod workflow;
