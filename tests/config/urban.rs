//! The 数字城管 sections: `[urban]` (positive, sane ranges), `[[routing]]` (category prefixes,
//! departments, grid prefixes, no row twice), `[[grid_cells]] polygon` (points, ranges, area)
//! and `[notifier]` (kind, URL, timeouts, attempts). Each bad value is one problem naming the
//! file and the key.

use crate::support::{edits_give_one, Cfg};
use hotline::config::{NotifierConfig, UrbanConfig};

#[test]
fn shipped_values_are_the_defaults() {
    let config = hotline::config::load(&Cfg::new().main())
        .expect("loads")
        .config;
    assert_eq!(config.urban, UrbanConfig::default());
    assert_eq!(config.notifier, NotifierConfig::default());
    assert_eq!(config.routing.len(), 11);
    assert!(config.grid_cells.iter().all(|g| g.polygon.len() == 4));
}

#[test]
fn bad_urban_settings() {
    #[rustfmt::skip]
    let cases = [
        ("merge_distance_m = 50.0 ", "merge_distance_m = 0.0 ", "urban.merge_distance_m", "more than 0"),
        ("merge_distance_m = 50.0 ", "merge_distance_m = 50000.0 ", "urban.merge_distance_m", "at most 10000"),
        ("merge_window_hours = 24 ", "merge_window_hours = 0 ", "urban.merge_window_hours", "between 1 and 720"),
        ("dispatch_within_working_hours = 1 ", "dispatch_within_working_hours = 0 ", "urban.dispatch_within_working_hours", "between 1"),
        ("near_deadline_working_minutes = 60 ", "near_deadline_working_minutes = 0 ", "urban.near_deadline_working_minutes", "between 1"),
        ("escalate_leaders_after_working_hours = 8 ", "escalate_leaders_after_working_hours = 1000 ", "urban.escalate_leaders_after_working_hours", "between 1 and 400"),
        ("sweep_secs = 60 ", "sweep_secs = 0 ", "urban.sweep_secs", "between 1 and 3600"),
        ("photo_max_bytes = 5242880 ", "photo_max_bytes = 10 ", "urban.photo_max_bytes", "between 1024"),
        ("photo_max_bytes = 5242880 ", "photo_max_bytes = 5242880000 ", "urban.photo_max_bytes", "between 1024"),
        ("photo_max_count = 9 ", "photo_max_count = 0 ", "urban.photo_max_count", "between 1 and 50"),
    ];
    edits_give_one("hotline.toml", &cases);
}

#[test]
fn bad_notifier() {
    #[rustfmt::skip]
    let cases = [
        ("kind = \"log\"", "kind = \"sms\"", "notifier.kind", "log or webhook"),
        ("kind = \"log\"", "kind = \"webhook\"", "notifier.url", "needs a url"),
        ("kind = \"log\"", "kind = \"webhook\"\nurl = \"ftp://gateway.example/notify\"", "notifier.url", "http:// or https://"),
        ("kind = \"log\"", "kind = \"webhook\"\nurl = \"https://\"", "notifier.url", "with a host"),
        ("timeout_secs = 5\n", "timeout_secs = 0\n", "notifier.timeout_secs", "between 1 and 300"),
        ("timeout_secs = 5\n", "timeout_secs = 301\n", "notifier.timeout_secs", "between 1 and 300"),
        ("max_attempts = 8\n", "max_attempts = 101\n", "notifier.max_attempts", "between 1 and 100"),
        ("retry_secs = 10\n", "retry_secs = 0\n", "notifier.retry_secs", "between 1 and 86400"),
    ];
    edits_give_one("hotline.toml", &cases);
    // A webhook with an https URL is fine.
    let cfg = Cfg::edited(
        "hotline.toml",
        "kind = \"log\"",
        "kind = \"webhook\"\nurl = \"https://sms-gateway.example/notify\"",
    );
    assert!(hotline::config::load(&cfg.main()).is_ok());
}

#[test]
fn bad_routing_rows() {
    #[rustfmt::skip]
    let cases = [
        ("category = \"E03\"", "category = \"X03\"", "routing[4].category", "C, E or S and up to 4 digits"),
        ("category = \"E03\"", "category = \"E030101\"", "routing[4].category", "C, E or S and up to 4 digits"),
        ("category = \"E03\"\ndepartment = \"enforcement\"", "category = \"E03\"\ndepartment = \"water\"", "routing[4].department", "\"water\" is not a configured department"),
        ("grid = \"510402002\"", "grid = \"51040200200300101\"", "routing[10].grid", "1 to 15 digits"),
        ("grid = \"510402002\"", "grid = \"5104-02\"", "routing[10].grid", "1 to 15 digits"),
        ("category = \"E05\"", "category = \"E02\"", "routing[3]", "routed twice"),
    ];
    edits_give_one("city.toml", &cases);
    // The same category in two grids is not a repeat.
    let cfg = Cfg::new();
    cfg.append(
        "city.toml",
        "[[routing]]\ncategory = \"E0103\"\ngrid = \"510402001\"\ndepartment = \"sanitation\"",
    );
    assert!(hotline::config::load(&cfg.main()).is_ok());
}

#[test]
fn bad_polygons() {
    let first =
        "polygon = [[101.700, 26.580], [101.710, 26.580], [101.710, 26.590], [101.700, 26.590]]";
    #[rustfmt::skip]
    let cases = [
        (first, "polygon = [[101.700, 26.580], [101.710, 26.580]]", "grid_cells[0].polygon", "needs at least 3"),
        (first, "polygon = [[101.700, 26.580], [191.710, 26.580], [101.710, 26.590]]", "grid_cells[0].polygon[1]", "longitude -180…180"),
        (first, "polygon = [[101.700, 26.580], [101.710, 96.580], [101.710, 26.590]]", "grid_cells[0].polygon[1]", "latitude -90…90"),
        (first, "polygon = [[101.700, 26.580], [101.705, 26.585], [101.710, 26.590]]", "grid_cells[0].polygon", "encloses no area"),
        (first, "polygon = [[101.700, 26.580], [101.700, 26.580], [101.700, 26.580]]", "grid_cells[0].polygon", "encloses no area"),
    ];
    edits_give_one("city.toml", &cases);
    // A cell without a polygon is allowed (reports name it by code).
    let cfg = Cfg::edited("city.toml", first, "");
    assert!(hotline::config::load(&cfg.main()).is_ok());
}
