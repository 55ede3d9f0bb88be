//! The real `hotline` binary against real SIP peers over loopback: SIPp scenarios
//! (`scenarios/*.xml`), baresip as an agent's softphone, and raw UDP from Rust. Every test
//! starts its own server on kernel-chosen ports with an edited copy of `sip-config`, bounds
//! every peer in call count and time, and kills what it started when it ends (also on panic).
//!
//! Needs `sipp` (SIPp 3.6.1 or later) and `baresip` (1.0.0 or later, with its modules in
//! `/usr/lib/baresip/modules`) on the PATH; `scripts/test.sh` installs them from Debian
//! (`apt-get install sip-tester baresip-core`). Nothing is sent beyond 127.0.0.0/8 and ::1;
//! IPv6 tests need ::1 to be configured (as it is by default). `HOTLINE_LIVE_BIN` names another
//! server binary than the one cargo built (useful when a target directory is shared with other
//! checkouts of this crate, whose builds overwrite `target/debug/hotline`).
//! `HOTLINE_LIVE_LOG_DIR` keeps every server's whole JSON log there (`hotline-<sip port>.log`);
//! otherwise a failing test prints the last lines of its server's log.
//!
//! One test, `agent`, runs the SIP task in the test process instead, because it drives the
//! server through `SipHandle::dial`, which the binary keeps to itself.
//!
//! `call_path` runs whole calls — SIPp caller → greeting → queue → baresip agent — each
//! 15–40 s long (`support::{caller, agent}`); dumpcap (Debian tshark) captures what reaches the
//! caller's media port. `call_path2` adds transfer (API and REFER), the survey, callbacks
//! through the trunk's `outbound_proxy` (a SIPp citizen), hold/resume and ring-all, with SIPp
//! playing the softphones that must hang up, REFER or re-INVITE (`support::softphone`).
//! `dialog::no_ack_makes_the_server_send_bye` waits the 32 s that RFC 3261
//! gives an unacknowledged 200; with the tests in parallel the suite takes several minutes
//! (most of it the whole calls of `call_path` and `call_path2`).
//!
//! Digest algorithms: by default the server challenges with SHA-256 first, then MD5 (RFC 8760
//! order); `[sip] digest_algorithms` chooses which and in what order. SIPp 3.6.1 reads only the
//! first challenge and answers only MD5, and baresip 1.0.0 (libre 1.1.0) goes through every
//! challenge and fails on any that is not MD5. So the tests that make SIPp authenticate start
//! the server with `["MD5", "SHA-256"]`, the baresip test with `["MD5"]`, and the default order
//! is checked with raw UDP from Rust answering the SHA-256 challenge (`auth.rs`).

mod support;

mod agent;
mod auth;
mod baresip;
mod basic;
mod call_path;
mod call_path2;
mod dialog;
mod malformed;
mod media;
mod session;
mod wallboard;
