//! `[wallboard]` (alert thresholds): the shipped file shows the defaults, and each bad value is
//! one problem naming the file and the key.

use crate::support::{edits_give_one, Cfg};
use hotline::config::WallboardConfig;

#[test]
fn shipped_values_are_the_defaults() {
    let config = hotline::config::load(&Cfg::new().main())
        .expect("loads")
        .config;
    assert_eq!(config.wallboard, WallboardConfig::default());
    assert_eq!(config.wallboard.agent_stuck_secs.get("break"), Some(&1200));
}

#[test]
fn a_missing_section_takes_the_defaults_and_a_state_left_out_never_alerts() {
    let cfg = Cfg::new();
    let text = cfg.read("hotline.toml");
    let start = text.find("[wallboard]").unwrap();
    let end = text.find("# Carrier SIP trunks").unwrap();
    let without = format!("{}{}", &text[..start], &text[end..]);
    cfg.replace("hotline.toml", &text, &without);
    let config = hotline::config::load(&cfg.main()).expect("loads").config;
    assert_eq!(config.wallboard, WallboardConfig::default());

    let cfg = Cfg::edited("hotline.toml", "ringing = 60\n", "");
    let config = hotline::config::load(&cfg.main()).expect("loads").config;
    assert!(!config.wallboard.agent_stuck_secs.contains_key("ringing"));
    assert_eq!(config.wallboard.agent_stuck_secs.len(), 4);
}

#[test]
fn bad_thresholds() {
    #[rustfmt::skip]
    let cases = [
        ("long_wait_secs = 15 ", "long_wait_secs = 0 ", "wallboard.long_wait_secs", "at least 1"),
        ("long_wait_critical_secs = 60 ", "long_wait_critical_secs = 10 ", "wallboard.long_wait_critical_secs", "below long_wait_secs (15)"),
        ("service_level_target = 0.8 ", "service_level_target = 80.0 ", "wallboard.service_level_target", "between 0 and 1"),
        ("service_level_critical = 0.6 ", "service_level_critical = 0.9 ", "wallboard.service_level_critical", "above service_level_target (0.8)"),
        ("no_order_critical_secs = 1800 ", "no_order_critical_secs = 60 ", "wallboard.no_order_critical_secs", "below no_order_secs (300)"),
        ("cache_ms = 2000 ", "cache_ms = 120000 ", "wallboard.cache_ms", "over a minute"),
        ("wrap-up = 180\n", "wrap-up = 180\nready = 60\n", "wallboard.agent_stuck_secs.ready", "not a state an agent can be stuck in"),
        ("break = 1200\n", "break = 0\n", "wallboard.agent_stuck_secs.break", "at least 1"),
        ("cache_ms = 2000 ", "cache_ms = 2000\nrefresh = 1 ", "wallboard", "refresh"),
    ];
    edits_give_one("hotline.toml", &cases);
}
