//! Configuration loading and checking (`hotline::config::load`, `hotline check-config`): the
//! shipped example loads and holds the demo contract; every kind of problem the checker knows is
//! reported with the file and key it is about. Each test copies `sip-config/` into a temporary
//! directory and plants its mistakes there.

mod calendar;
mod directory;
mod files;
mod flows;
mod server;
mod shipped;
mod support;
mod urban;
mod wallboard;
