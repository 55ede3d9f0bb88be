//! Checks of the 数字城管 sections: the intake and workflow settings (`[urban]`), the dispatch
//! routing table (`[[routing]]`), the grid cells' boundary polygons (`[[grid_cells]] polygon`)
//! and the notifier (`[notifier]`). Each problem names the file and key.

use super::*;

/// Largest photo that may be configured (the intake body must hold several).
const MAX_PHOTO_BYTES: u64 = 50 * 1024 * 1024;

pub(super) fn check_urban(c: &mut Checker) {
    check_settings(c);
    check_routing(c);
    check_polygons(c);
    check_notifier(c);
}

fn check_settings(c: &mut Checker) {
    let u = &c.config.urban;
    let mut found: Vec<(&str, String)> = Vec::new();
    if !(u.merge_distance_m.is_finite()
        && u.merge_distance_m > 0.0
        && u.merge_distance_m <= 10_000.0)
    {
        found.push((
            "merge_distance_m",
            format!(
                "{} must be more than 0 and at most 10000 metres",
                u.merge_distance_m
            ),
        ));
    }
    for (key, v, max, unit) in [
        (
            "merge_window_hours",
            u.merge_window_hours,
            720,
            "hours (30 days)",
        ),
        (
            "dispatch_within_working_hours",
            u.dispatch_within_working_hours,
            80,
            "working hours",
        ),
        (
            "near_deadline_working_minutes",
            u.near_deadline_working_minutes,
            4800,
            "working minutes",
        ),
        (
            "escalate_leaders_after_working_hours",
            u.escalate_leaders_after_working_hours,
            400,
            "working hours",
        ),
        ("sweep_secs", u.sweep_secs, 3600, "seconds"),
        ("photo_max_count", u.photo_max_count, 50, "photos"),
    ] {
        if !(1..=max).contains(&v) {
            found.push((key, format!("{v} must be between 1 and {max} {unit}")));
        }
    }
    if !(1024..=MAX_PHOTO_BYTES).contains(&u.photo_max_bytes) {
        found.push((
            "photo_max_bytes",
            format!(
                "{} must be between 1024 and {MAX_PHOTO_BYTES} bytes",
                u.photo_max_bytes
            ),
        ));
    }
    for (key, message) in found {
        c.push("urban", format!("urban.{key}"), message);
    }
}

/// A category id or prefix of one: a kind letter (C, E, S) and up to four digits.
fn is_category_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 5
        && matches!(b[0], b'C' | b'E' | b'S')
        && b[1..].iter().all(u8::is_ascii_digit)
}

fn check_routing(c: &mut Checker) {
    let cfg = c.config;
    let departments: HashSet<&str> = cfg.departments.iter().map(|d| d.id.as_str()).collect();
    // When the departments themselves are wrong (a row that did not parse, an id used twice),
    // that one mistake is reported there, not again on every row routed to it.
    let departments_ok = !c.problems.iter().any(|p| p.key.starts_with("departments"));
    let mut seen = HashSet::new();
    for (i, r) in cfg.routing.iter().enumerate() {
        if !is_category_prefix(&r.category) {
            c.push(
                "routing",
                format!("routing[{i}].category"),
                format!(
                    "{:?} must be a category id or prefix: C, E or S and up to 4 digits (E01, E0101)",
                    r.category
                ),
            );
        }
        if let Some(g) = &r.grid {
            if g.is_empty() || g.len() > 15 || !g.bytes().all(|b| b.is_ascii_digit()) {
                c.push(
                    "routing",
                    format!("routing[{i}].grid"),
                    format!("{g:?} must be a grid cell code or prefix: 1 to 15 digits"),
                );
            }
        }
        if departments_ok && !departments.contains(r.department.as_str()) {
            c.push(
                "routing",
                format!("routing[{i}].department"),
                format!("{:?} is not a configured department", r.department),
            );
        }
        if !seen.insert((r.category.as_str(), r.grid.as_deref())) {
            c.push(
                "routing",
                format!("routing[{i}]"),
                format!(
                    "category {:?} with grid {:?} is routed twice",
                    r.category,
                    r.grid.as_deref().unwrap_or("(all)")
                ),
            );
        }
    }
}

fn check_polygons(c: &mut Checker) {
    let cfg = c.config;
    for (i, g) in cfg.grid_cells.iter().enumerate() {
        let key = format!("grid_cells[{i}].polygon");
        let p = &g.polygon;
        if p.is_empty() {
            continue; // a cell without a boundary: reports name it by code
        }
        if p.len() < 3 {
            c.push(
                "grid_cells",
                key,
                format!("has {} points; a polygon needs at least 3", p.len()),
            );
            continue;
        }
        if let Some((j, pt)) = p.iter().enumerate().find(|(_, pt)| {
            // (NaN is in no range.)
            !((-180.0..=180.0).contains(&pt[0]) && (-90.0..=90.0).contains(&pt[1]))
        }) {
            c.push(
                "grid_cells",
                format!("{key}[{j}]"),
                format!(
                    "[{}, {}] must be [longitude -180…180, latitude -90…90]",
                    pt[0], pt[1]
                ),
            );
            continue;
        }
        // Shoelace: twice the signed area; zero means every point is on one line.
        let twice_area: f64 = (0..p.len())
            .map(|k| {
                let (a, b) = (p[k], p[(k + 1) % p.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        if twice_area.abs() < 1e-12 {
            c.push(
                "grid_cells",
                key,
                "encloses no area (its points are on one line or repeated)".into(),
            );
        }
    }
}

fn check_notifier(c: &mut Checker) {
    let n = &c.config.notifier;
    let mut found: Vec<(&str, String)> = Vec::new();
    match n.kind.as_str() {
        "log" => {}
        "webhook" if n.url.is_none() => {
            found.push(("url", "a webhook notifier needs a url".into()));
        }
        "webhook" => {}
        other => found.push(("kind", format!("{other:?} must be log or webhook"))),
    }
    if let Some(url) = &n.url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            found.push((
                "url",
                format!("{url:?} must be an http:// or https:// URL with a host"),
            ));
        }
    }
    if !(1..=300).contains(&n.timeout_secs) {
        found.push((
            "timeout_secs",
            format!("{} must be between 1 and 300 seconds", n.timeout_secs),
        ));
    }
    if !(1..=100).contains(&n.max_attempts) {
        found.push((
            "max_attempts",
            format!("{} must be between 1 and 100", n.max_attempts),
        ));
    }
    if !(1..=86_400).contains(&n.retry_secs) {
        found.push((
            "retry_secs",
            format!(
                "{} must be between 1 and 86400 seconds (a day)",
                n.retry_secs
            ),
        ));
    }
    for (key, message) in found {
        c.push("notifier", format!("notifier.{key}"), message);
    }
}
