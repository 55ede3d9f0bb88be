//! ACD simulation.
