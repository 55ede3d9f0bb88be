//! SIP signalling (DESIGN.md `sip/`): the message model and parser, transports (UDP, TCP),
//! RFC 3261 transactions and timers, dialogs and session timers, the registrar with digest
//! authentication, and trunks. It knows nothing about queues or work orders.

pub mod auth;
pub mod dialog;
pub mod endpoint;
pub mod message;
pub mod registrar;
pub mod server;
#[cfg(test)]
mod server_tests;
pub mod transaction;
pub mod transport;
pub mod trunk;
