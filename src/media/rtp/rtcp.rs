//! RTCP (RFC 3550 §6): compound report writing and parsing, and per-stream report timing.
