//! The SIP transaction layer (RFC 3261 §17, RFC 6026) on a fake clock: every arrow of the four
//! state machines, matching, the 2xx retransmission service, failure paths and a scale run.
mod ack_2xx;
mod harness;
mod invite_client;
mod invite_server;
mod lifecycle;
mod matching;
mod non_invite_client;
mod non_invite_server;
mod random;
mod scale;
