//! SIP message tests: the RFC 4475 and RFC 5118 torture corpora, hand-written messages,
//! a differential oracle against rsip, and property tests that nothing panics.
mod fuzz;
mod fuzz_check;
mod ipv6;
mod message;
mod rsip_oracle;
mod support;
mod torture;
