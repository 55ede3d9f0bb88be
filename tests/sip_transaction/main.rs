//! The SIP transaction layer (RFC 3261 §17, RFC 6026) on a fake clock: every arrow of the four
//! state machines, matching, the 2xx retransmission service, failure paths and a scale run.
mod harness;
mod invite_client;
mod invite_server;
mod non_invite_client;
