pub mod acd;
pub mod api;
pub mod call;
pub mod cases;
pub mod config;
pub mod ivr;
pub mod media;
pub mod sip;
