pub mod api;
pub mod cases;
pub mod config;
pub mod media;
pub mod sip;
