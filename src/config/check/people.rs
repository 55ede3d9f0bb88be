//! Checks of the people in the configuration: seat agents (softphone accounts, queues, skills,
//! levels) and API users (roles, tokens, what they stand for, a supervisor's softphone). Each
//! problem names the file and key.

use super::*;

pub(super) fn check_people(c: &mut Checker) {
    let cfg = c.config;
    let queues: HashSet<&str> = cfg.queues.iter().map(|q| q.name.as_str()).collect();
    let agents: HashSet<&str> = cfg.agents.iter().map(|a| a.id.as_str()).collect();
    let departments: HashSet<&str> = cfg.departments.iter().map(|d| d.id.as_str()).collect();
    c.unique("agents", "id", cfg.agents.iter().map(|a| a.id.as_str()));
    for (i, a) in cfg.agents.iter().enumerate() {
        for (queue, level) in &a.levels {
            if !a.queues.contains(queue) {
                c.push(
                    "agents",
                    format!("agents[{i}].levels.{queue}"),
                    format!("{queue:?} is not one of this agent's queues"),
                );
            } else if !(1..=9).contains(level) {
                c.push(
                    "agents",
                    format!("agents[{i}].levels.{queue}"),
                    "must be between 1 (offered first) and 9".into(),
                );
            }
        }
        if a.id.is_empty()
            || a.id.len() > 64
            || !a
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
        {
            c.push(
                "agents",
                format!("agents[{i}].id"),
                format!(
                    "{:?} must be the softphone user name: letters, digits, '.', '-', '_'",
                    a.id
                ),
            );
        }
        let hex = |v: &Option<String>, len: usize| {
            v.as_ref()
                .is_some_and(|h| h.len() == len && h.chars().all(|ch| ch.is_ascii_hexdigit()))
        };
        match (&a.password, &a.ha1_md5, &a.ha1_sha256) {
            (Some(p), None, None) => {
                if p.len() < 8 {
                    c.push(
                        "agents",
                        format!("agents[{i}].password"),
                        "must be at least 8 characters".into(),
                    );
                }
            }
            (None, Some(_), Some(_)) => {
                if !hex(&a.ha1_md5, 32) {
                    c.push(
                        "agents",
                        format!("agents[{i}].ha1_md5"),
                        "must be 32 hex digits (hotline sip-ha1 prints it)".into(),
                    );
                }
                if !hex(&a.ha1_sha256, 64) {
                    c.push(
                        "agents",
                        format!("agents[{i}].ha1_sha256"),
                        "must be 64 hex digits (hotline sip-ha1 prints it)".into(),
                    );
                }
            }
            _ => c.push(
                "agents",
                format!("agents[{i}].password"),
                "give either password or both ha1_md5 and ha1_sha256".into(),
            ),
        }
        for (j, q) in a.queues.iter().enumerate() {
            if !queues.contains(q.as_str()) {
                c.push(
                    "agents",
                    format!("agents[{i}].queues[{j}]"),
                    format!("{q:?} is not a configured queue"),
                );
            }
        }
    }
    c.unique("users", "name", cfg.users.iter().map(|u| u.name.as_str()));
    let mut tokens = HashSet::new();
    let mut extensions = HashSet::new();
    for (i, u) in cfg.users.iter().enumerate() {
        let key = |k: &str| format!("users[{i}].{k}");
        match (&u.token, &u.token_sha256) {
            (Some(t), None) => {
                if t.len() < 8 {
                    c.push(
                        "users",
                        key("token"),
                        "must be at least 8 characters".into(),
                    );
                }
                if !tokens.insert(crate::api::auth::token_hash(t)) {
                    c.push("users", key("token"), "is used by another user".into());
                }
            }
            (None, Some(h)) => {
                if h.len() != 64 || !h.chars().all(|ch| ch.is_ascii_hexdigit()) {
                    c.push(
                        "users",
                        key("token_sha256"),
                        "must be 64 hex digits (sha256sum of the token)".into(),
                    );
                } else if !tokens.insert(h.to_ascii_lowercase()) {
                    c.push(
                        "users",
                        key("token_sha256"),
                        "is used by another user".into(),
                    );
                }
            }
            _ => c.push(
                "users",
                key("token"),
                "give exactly one of token and token_sha256".into(),
            ),
        }
        match u.role {
            Role::Agent => match &u.agent {
                Some(a) if agents.contains(a.as_str()) => {}
                Some(a) => c.push(
                    "users",
                    key("agent"),
                    format!("{a:?} is not a configured agent"),
                ),
                None => c.push(
                    "users",
                    key("agent"),
                    "a user with role agent names its agent id".into(),
                ),
            },
            Role::Department => match &u.department {
                Some(d) if departments.contains(d.as_str()) => {}
                Some(d) => c.push(
                    "users",
                    key("department"),
                    format!("{d:?} is not a configured department"),
                ),
                None => c.push(
                    "users",
                    key("department"),
                    "a user with role department names its department".into(),
                ),
            },
            Role::Channel => match &u.channel {
                Some(ch) if CHANNELS.contains(&ch.as_str()) => {}
                Some(ch) => c.push(
                    "users",
                    key("channel"),
                    format!(
                        "{ch:?} is not a channel; use one of {}",
                        CHANNELS.join(", ")
                    ),
                ),
                None => c.push(
                    "users",
                    key("channel"),
                    "a user with role channel names its channel".into(),
                ),
            },
            Role::Supervisor | Role::Admin | Role::Inspector | Role::Leader => {}
        }
        check_user_softphone(c, i, u, &agents, &mut extensions);
    }
}

/// A user's softphone (`extension` with `sip_password` or both `sip_ha1_*`): supervisors and
/// admins only, a SIP user name that is nobody else's (no agent's, no other user's).
fn check_user_softphone(
    c: &mut Checker,
    i: usize,
    u: &crate::config::ApiUser,
    agents: &HashSet<&str>,
    extensions: &mut HashSet<String>,
) {
    let key = |k: &str| format!("users[{i}].{k}");
    let has_credentials =
        u.sip_password.is_some() || u.sip_ha1_md5.is_some() || u.sip_ha1_sha256.is_some();
    let Some(ext) = &u.extension else {
        if has_credentials {
            c.push(
                "users",
                key("extension"),
                "softphone credentials are given without the extension they are for".into(),
            );
        }
        return;
    };
    if !matches!(u.role, Role::Supervisor | Role::Admin) {
        c.push(
            "users",
            key("extension"),
            format!(
                "only supervisors and admins have a softphone here (role {}; agents register as [[agents]])",
                u.role.as_str()
            ),
        );
    }
    if ext.is_empty()
        || !ext
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
    {
        c.push(
            "users",
            key("extension"),
            format!("{ext:?} must be a SIP user name: letters, digits, '.', '-', '_'"),
        );
    } else if agents.contains(ext.as_str()) {
        c.push(
            "users",
            key("extension"),
            format!("{ext:?} is an agent's softphone; a supervisor's must be its own"),
        );
    } else if !extensions.insert(ext.clone()) {
        c.push(
            "users",
            key("extension"),
            format!("{ext:?} is the extension of another user"),
        );
    }
    let hex = |v: &Option<String>, len: usize| {
        v.as_ref()
            .is_some_and(|h| h.len() == len && h.chars().all(|ch| ch.is_ascii_hexdigit()))
    };
    match (&u.sip_password, &u.sip_ha1_md5, &u.sip_ha1_sha256) {
        (Some(p), None, None) => {
            if p.len() < 8 {
                c.push(
                    "users",
                    key("sip_password"),
                    "must be at least 8 characters".into(),
                );
            }
        }
        (None, Some(_), Some(_)) => {
            if !hex(&u.sip_ha1_md5, 32) {
                c.push(
                    "users",
                    key("sip_ha1_md5"),
                    "must be 32 hex digits (hotline sip-ha1 prints it)".into(),
                );
            }
            if !hex(&u.sip_ha1_sha256, 64) {
                c.push(
                    "users",
                    key("sip_ha1_sha256"),
                    "must be 64 hex digits (hotline sip-ha1 prints it)".into(),
                );
            }
        }
        _ => c.push(
            "users",
            key("sip_password"),
            "give either sip_password or both sip_ha1_md5 and sip_ha1_sha256".into(),
        ),
    }
}
