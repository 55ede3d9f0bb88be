//! Whole-configuration checks: references between sections, formats and ranges. Each problem
//! names the file and key it is about.

use std::collections::{BTreeSet, HashSet};

use chrono::{FixedOffset, Weekday};

use super::{
    parse_period, CalendarConfig, Config, Problem, Role, CALL_REQUEST_TYPES, QUEUE_STRATEGIES,
    REQUEST_TYPES,
};
use crate::cases::calendar::{DeadlineRule, WorkingCalendar};
use crate::cases::CHANNELS;

mod people;
mod urban;
use people::check_people;

struct Checker<'a> {
    config: &'a Config,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn file(&self, section: &str) -> String {
        self.config
            .sources
            .get(section)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(defaults)".into())
    }

    fn push(&mut self, section: &str, key: String, message: String) {
        let file = self.file(section);
        self.problems.push(Problem { file, key, message });
    }

    /// Reports a repeated value of `what` among `items`.
    fn unique<'v>(&mut self, section: &str, what: &str, items: impl Iterator<Item = &'v str>) {
        let mut seen = HashSet::new();
        for (i, v) in items.enumerate() {
            if !seen.insert(v) {
                self.push(
                    section,
                    format!("{section}[{i}].{what}"),
                    format!("{v:?} is used twice"),
                );
            }
        }
    }
}

pub(super) fn check(config: &Config, problems: &mut Vec<Problem>) {
    let mut c = Checker { config, problems };
    check_server(&mut c);
    check_media(&mut c);
    check_numbers_and_queues(&mut c);
    check_people(&mut c);
    check_city(&mut c);
    urban::check_urban(&mut c);
    if let Err(problems) = calendar_of(&config.calendar) {
        for (key, message) in problems {
            c.push("calendar", key, message);
        }
    }
    check_deadlines(&mut c);
    check_callbacks(&mut c);
    check_wallboard(&mut c);
    super::check_flows::check(config, c.problems);
}

fn check_callbacks(c: &mut Checker) {
    let cb = &c.config.callbacks;
    if !(1..=20).contains(&cb.max_attempts) {
        c.push(
            "callbacks",
            "callbacks.max_attempts".into(),
            format!("{} must be between 1 and 20", cb.max_attempts),
        );
    }
    if !(1..=1440).contains(&cb.retry_minutes) {
        c.push(
            "callbacks",
            "callbacks.retry_minutes".into(),
            format!("{} must be between 1 and 1440 (a day)", cb.retry_minutes),
        );
    }
}

fn check_wallboard(c: &mut Checker) {
    let w = &c.config.wallboard;
    let mut found = Vec::new();
    if w.long_wait_secs == 0 {
        found.push(("long_wait_secs", "must be at least 1".to_string()));
    }
    if w.long_wait_critical_secs < w.long_wait_secs {
        found.push((
            "long_wait_critical_secs",
            format!(
                "{} is below long_wait_secs ({})",
                w.long_wait_critical_secs, w.long_wait_secs
            ),
        ));
    }
    for (key, v) in [
        ("service_level_target", w.service_level_target),
        ("service_level_critical", w.service_level_critical),
    ] {
        if !(0.0..=1.0).contains(&v) {
            found.push((key, format!("{v} must be a fraction between 0 and 1")));
        }
    }
    if w.service_level_critical > w.service_level_target {
        found.push((
            "service_level_critical",
            format!(
                "{} is above service_level_target ({})",
                w.service_level_critical, w.service_level_target
            ),
        ));
    }
    if w.no_order_critical_secs < w.no_order_secs {
        found.push((
            "no_order_critical_secs",
            format!(
                "{} is below no_order_secs ({})",
                w.no_order_critical_secs, w.no_order_secs
            ),
        ));
    }
    if w.cache_ms > 60_000 {
        found.push((
            "cache_ms",
            format!(
                "{} is over a minute; the wallboard would not be live",
                w.cache_ms
            ),
        ));
    }
    let mut stuck = Vec::new();
    for (state, secs) in &w.agent_stuck_secs {
        if !super::STUCK_STATES.contains(&state.as_str()) {
            stuck.push((
                format!("wallboard.agent_stuck_secs.{state}"),
                format!(
                    "{state:?} is not a state an agent can be stuck in (one of {})",
                    super::STUCK_STATES.join(", ")
                ),
            ));
        } else if *secs == 0 {
            stuck.push((
                format!("wallboard.agent_stuck_secs.{state}"),
                "must be at least 1 (leave the state out to never alert)".into(),
            ));
        }
    }
    for (key, message) in found {
        c.push("wallboard", format!("wallboard.{key}"), message);
    }
    for (key, message) in stuck {
        c.push("wallboard", key, message);
    }
}

fn check_server(c: &mut Checker) {
    check_sip(c);
    let s = &c.config.server;
    if let Err(e) = s.rtp_range() {
        c.push("server", "server.rtp_ports".into(), e);
    }
    if let Some(url) = &s.database_url {
        if !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            c.push(
                "server",
                "server.database_url".into(),
                format!("{url:?} must start with postgres://, postgresql:// or sqlite:"),
            );
        }
    }
    if let Some(url) = &s.redis_url {
        if !url.starts_with("redis://") && !url.starts_with("rediss://") {
            c.push(
                "server",
                "server.redis_url".into(),
                format!("{url:?} must start with redis://"),
            );
        }
    }
    let trunks = &c.config.trunks;
    c.unique("trunks", "name", trunks.iter().map(|t| t.name.as_str()));
    for (i, t) in trunks.iter().enumerate() {
        if t.addresses.is_empty() {
            c.push(
                "trunks",
                format!("trunks[{i}].addresses"),
                "lists no address".into(),
            );
        }
        if let Some(p) = &t.outbound_proxy {
            if !is_host_port(p) {
                c.push(
                    "trunks",
                    format!("trunks[{i}].outbound_proxy"),
                    format!("{p:?} is not \"host:port\""),
                );
            }
        }
        if t.options_ping_secs > 0 && t.outbound_proxy.is_none() {
            c.push(
                "trunks",
                format!("trunks[{i}].options_ping_secs"),
                "pinging needs outbound_proxy (the address to ping)".into(),
            );
        }
        if let Some(r) = &t.register {
            if !is_host_port(&r.registrar) {
                c.push(
                    "trunks",
                    format!("trunks[{i}].register.registrar"),
                    format!("{:?} is not \"host:port\"", r.registrar),
                );
            }
            if r.username.is_empty() {
                c.push(
                    "trunks",
                    format!("trunks[{i}].register.username"),
                    "is empty".into(),
                );
            }
            if !(60..=86_400).contains(&r.expires_secs) {
                c.push(
                    "trunks",
                    format!("trunks[{i}].register.expires_secs"),
                    "must be between 60 and 86400".into(),
                );
            }
        }
        for (j, a) in t.addresses.iter().enumerate() {
            if !is_ip_or_cidr(a) {
                c.push(
                    "trunks",
                    format!("trunks[{i}].addresses[{j}]"),
                    format!("{a:?} is not an IP address or CIDR block"),
                );
            }
        }
    }
}

/// "host:port" with a host name or IP address (IPv6 in brackets) and a port.
pub fn is_host_port(s: &str) -> bool {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-')
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
}

fn check_sip(c: &mut Checker) {
    let s = &c.config.sip;
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut bad = |key: &'static str, msg: &'static str| found.push((key, msg));
    if s.realm.is_empty() || s.realm.contains(['"', '\\']) {
        bad("realm", "must be non-empty and hold no quote or backslash");
    }
    if s.max_pending == 0 {
        bad("max_pending", "must be at least 1");
    }
    if s.max_calls == 0 {
        bad("max_calls", "must be at least 1");
    }
    if s.register_min_expires == 0 || s.register_min_expires > s.register_max_expires {
        bad(
            "register_min_expires",
            "must be at least 1 and not above register_max_expires",
        );
    }
    if s.max_contacts_per_user == 0 {
        bad("max_contacts_per_user", "must be at least 1");
    }
    if s.nonce_lifetime_secs < 10 {
        bad("nonce_lifetime_secs", "must be at least 10");
    }
    if s.min_se_secs < 90 {
        bad("min_se_secs", "RFC 4028 does not allow less than 90");
    }
    if s.session_expires_secs < s.min_se_secs {
        bad("session_expires_secs", "must not be below min_se_secs");
    }
    if !(1_500..=1_048_576).contains(&s.max_message_bytes) {
        bad("max_message_bytes", "must be between 1500 and 1048576");
    }
    if s.digest_algorithms.is_empty() {
        bad(
            "digest_algorithms",
            "must name at least one of \"SHA-256\", \"MD5\"",
        );
    }
    let mut seen = HashSet::new();
    for a in &s.digest_algorithms {
        if !matches!(a.as_str(), "SHA-256" | "MD5") {
            bad("digest_algorithms", "each must be \"SHA-256\" or \"MD5\"");
        } else if !seen.insert(a.as_str()) {
            bad("digest_algorithms", "names an algorithm twice");
        }
    }
    for (key, msg) in found {
        c.push("sip", format!("sip.{key}"), msg.into());
    }
}

fn check_media(c: &mut Checker) {
    let m = &c.config.media;
    let mut found: Vec<(&str, String)> = Vec::new();
    if !m.public_ip.is_empty() && m.public_ip.parse::<std::net::IpAddr>().is_err() {
        found.push((
            "public_ip",
            format!("{:?} is not an IP address", m.public_ip),
        ));
    }
    if m.shards > 64 {
        found.push(("shards", "must be at most 64".into()));
    }
    if m.rtp_timeout_secs < 5 {
        found.push(("rtp_timeout_secs", "must be at least 5".into()));
    }
    if !matches!(m.language.as_str(), "zh" | "en") {
        found.push((
            "language",
            format!("{:?} must be \"zh\" or \"en\"", m.language),
        ));
    }
    if !(1..=10).contains(&m.jitter_delay_frames) {
        found.push(("jitter_delay_frames", "must be between 1 and 10".into()));
    }
    for (key, msg) in found {
        c.push("media", format!("media.{key}"), msg);
    }
}

/// "192.0.2.1", "2001:db8::1", "10.0.0.0/8", "2001:db8::/32".
pub fn is_ip_or_cidr(s: &str) -> bool {
    match s.split_once('/') {
        None => s.parse::<std::net::IpAddr>().is_ok(),
        Some((ip, bits)) => match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
            (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
    }
}

fn check_numbers_and_queues(c: &mut Checker) {
    let cfg = c.config;
    let queues: HashSet<&str> = cfg.queues.iter().map(|q| q.name.as_str()).collect();
    c.unique("queues", "name", cfg.queues.iter().map(|q| q.name.as_str()));
    for (i, q) in cfg.queues.iter().enumerate() {
        if !QUEUE_STRATEGIES.contains(&q.strategy.as_str()) {
            c.push(
                "queues",
                format!("queues[{i}].strategy"),
                format!(
                    "{:?} is not a strategy; use one of {}",
                    q.strategy,
                    QUEUE_STRATEGIES.join(", ")
                ),
            );
        }
        if !matches!(q.overflow.as_str(), "voicemail" | "callback") {
            c.push(
                "queues",
                format!("queues[{i}].overflow"),
                format!("{:?} must be \"voicemail\" or \"callback\"", q.overflow),
            );
        }
        for skill in &q.required_skills {
            if !cfg.agents.iter().any(|a| a.skills.contains(skill)) {
                c.push(
                    "queues",
                    format!("queues[{i}].required_skills"),
                    format!("no agent has the skill {skill:?}: nobody could take these calls"),
                );
            }
        }
        for (key, v) in [
            ("ring_secs", q.ring_secs),
            ("max_wait_secs", q.max_wait_secs),
            ("service_level_secs", q.service_level_secs),
            ("default_handle_secs", q.default_handle_secs),
        ] {
            if v == 0 {
                c.push(
                    "queues",
                    format!("queues[{i}].{key}"),
                    "must be more than 0".into(),
                );
            }
        }
    }
    c.unique(
        "numbers",
        "number",
        cfg.numbers.iter().map(|n| n.number.as_str()),
    );
    for (i, n) in cfg.numbers.iter().enumerate() {
        if n.number.is_empty() || !n.number.chars().all(|ch| ch.is_ascii_digit()) {
            c.push(
                "numbers",
                format!("numbers[{i}].number"),
                format!("{:?} must be digits only", n.number),
            );
        }
        if !queues.contains(n.queue.as_str()) {
            c.push(
                "numbers",
                format!("numbers[{i}].queue"),
                format!("{:?} is not a configured queue", n.queue),
            );
        }
        if !CHANNELS.contains(&n.channel.as_str()) {
            c.push(
                "numbers",
                format!("numbers[{i}].channel"),
                format!(
                    "{:?} is not a channel; use one of {}",
                    n.channel,
                    CHANNELS.join(", ")
                ),
            );
        }
        if let Some(f) = &n.forward {
            match cfg.trunks.iter().find(|t| t.name == f.trunk) {
                None => c.push(
                    "numbers",
                    format!("numbers[{i}].forward.trunk"),
                    format!("{:?} is not a configured trunk", f.trunk),
                ),
                Some(t) if t.outbound_proxy.is_none() => c.push(
                    "numbers",
                    format!("numbers[{i}].forward.trunk"),
                    format!("trunk {:?} has no outbound_proxy to send calls to", f.trunk),
                ),
                Some(_) => {}
            }
            if f.number.is_empty() || !f.number.chars().all(|ch| ch.is_ascii_digit()) {
                c.push(
                    "numbers",
                    format!("numbers[{i}].forward.number"),
                    format!("{:?} must be digits only", f.number),
                );
            }
        }
        if n.hours != "24x7" && n.hours != "working-hours" {
            c.push(
                "numbers",
                format!("numbers[{i}].hours"),
                format!("{:?} must be \"24x7\" or \"working-hours\"", n.hours),
            );
        }
    }
}

fn check_city(c: &mut Checker) {
    let cfg = c.config;
    c.unique(
        "departments",
        "id",
        cfg.departments.iter().map(|d| d.id.as_str()),
    );
    for (i, d) in cfg.departments.iter().enumerate() {
        if d.id.trim().is_empty() || d.name.trim().is_empty() {
            c.push(
                "departments",
                format!("departments[{i}]"),
                "id and name must not be empty".into(),
            );
        }
    }
    c.unique(
        "grid_cells",
        "code",
        cfg.grid_cells.iter().map(|g| g.code.as_str()),
    );
    for (i, g) in cfg.grid_cells.iter().enumerate() {
        if g.code.len() != 15 || !g.code.chars().all(|ch| ch.is_ascii_digit()) {
            c.push(
                "grid_cells",
                format!("grid_cells[{i}].code"),
                format!(
                    "{:?} must be 15 digits (6 division + 3 street + 3 community + 3 grid)",
                    g.code
                ),
            );
        }
    }
}

fn check_deadlines(c: &mut Checker) {
    let d = &c.config.deadlines;
    for t in REQUEST_TYPES {
        if !d.by_type.contains_key(*t) && !CALL_REQUEST_TYPES.contains(t) {
            c.push(
                "deadlines",
                format!("deadlines.by_type.{t}"),
                "missing: every request type needs a deadline rule".into(),
            );
        }
    }
    for (t, rule) in &d.by_type {
        if !REQUEST_TYPES.contains(&t.as_str()) {
            c.push(
                "deadlines",
                format!("deadlines.by_type.{t}"),
                format!(
                    "{t:?} is not a request type; use one of {}",
                    REQUEST_TYPES.join(", ")
                ),
            );
        }
        check_rule(c, format!("deadlines.by_type.{t}"), *rule);
    }
    for (cat, rule) in &d.by_category {
        if !crate::cases::is_category_id(cat) {
            c.push(
                "deadlines",
                format!("deadlines.by_category.{cat}"),
                format!("{cat:?} is not a category id like E0101 or C0301"),
            );
        }
        check_rule(c, format!("deadlines.by_category.{cat}"), *rule);
    }
}

fn check_rule(c: &mut Checker, key: String, rule: DeadlineRule) {
    let n = match rule {
        DeadlineRule::WorkingDays(n) | DeadlineRule::WorkingHours(n) => n,
    };
    if n == 0 || n > 3650 {
        c.push("deadlines", key, "must be between 1 and 3650".into());
    }
}

/// Builds the working calendar, or says every thing wrong with it as (key, reason).
pub(super) fn calendar_of(cal: &CalendarConfig) -> Result<WorkingCalendar, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let offset = parse_offset(&cal.utc_offset);
    if offset.is_none() {
        problems.push((
            "calendar.utc_offset".to_string(),
            format!("{:?} must look like \"+08:00\"", cal.utc_offset),
        ));
    }
    let mut periods = Vec::new();
    for (i, p) in cal.working_hours.iter().enumerate() {
        match parse_period(p) {
            Ok(p) => periods.push(p),
            Err(e) => problems.push((format!("calendar.working_hours[{i}]"), e)),
        }
    }
    let mut workdays = Vec::new();
    for (i, d) in cal.workdays.iter().enumerate() {
        match d.parse::<Weekday>() {
            Ok(w) => workdays.push(w),
            Err(_) => problems.push((
                format!("calendar.workdays[{i}]"),
                format!("{d:?} is not a weekday like \"mon\""),
            )),
        }
    }
    let Some(offset) = offset.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let holidays: BTreeSet<_> = cal.holidays.iter().copied().collect();
    let makeup: BTreeSet<_> = cal.makeup_workdays.iter().copied().collect();
    WorkingCalendar::new(offset, periods, &workdays, holidays, makeup)
        .map_err(|e| vec![("calendar".to_string(), e.to_string())])
}

/// "+HH:MM" or "-HH:MM", two digits each.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = (digits(1..3)?, digits(4..6)?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}
