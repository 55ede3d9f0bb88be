//! Checks of the call-flow settings: each number's greeting, keys, self-service and closed-hours
//! choice, and the `[callers]` blacklist and priorities. Each problem names the file and key.

use std::collections::{BTreeMap, HashSet};

use super::{Config, Problem, SELF_SERVICES};

/// A key a caller can press that a flow may bind: one digit 0–9.
pub fn is_key(s: &str) -> bool {
    s.len() == 1 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A caller number as the trunk sends it: digits, optionally after one leading `+`.
fn is_caller_number(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 32 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A prompt name as the manifest allows it.
fn is_prompt_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) fn check(config: &Config, problems: &mut Vec<Problem>) {
    let file = |section: &str| {
        config
            .sources
            .get(section)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(defaults)".into())
    };
    let mut push = |section: &str, key: String, message: String| {
        problems.push(Problem {
            file: file(section),
            key,
            message,
        })
    };
    for (i, n) in config.numbers.iter().enumerate() {
        let key = |k: &str| format!("numbers[{i}].{k}");
        if let Some(g) = &n.greeting {
            if !is_prompt_name(g) {
                push(
                    "numbers",
                    key("greeting"),
                    format!("{g:?} is not a prompt name (letters, digits, '-', '_')"),
                );
            }
        }
        // Keys bound during the greeting, for the clash check.
        let mut bound: BTreeMap<&str, String> = BTreeMap::new();
        for (k, service) in &n.self_service {
            if !is_key(k) {
                push(
                    "numbers",
                    key(&format!("self_service.{k}")),
                    format!("{k:?} is not a key: use one digit 0-9"),
                );
            }
            if !SELF_SERVICES.contains(&service.as_str()) {
                push(
                    "numbers",
                    key(&format!("self_service.{k}")),
                    format!(
                        "{service:?} is not a self-service; use one of {}",
                        SELF_SERVICES.join(", ")
                    ),
                );
            }
            bound.insert(k.as_str(), format!("self-service {service:?}"));
        }
        if let Some(k) = &n.language_key {
            if !is_key(k) {
                push(
                    "numbers",
                    key("language_key"),
                    format!("{k:?} is not a key: use one digit 0-9"),
                );
            } else if let Some(other) = bound.get(k.as_str()) {
                push(
                    "numbers",
                    key("language_key"),
                    format!("key {k:?} is also the key of {other}"),
                );
            }
        }
        if let Some(k) = &n.queue_callback_key {
            if !is_key(k) {
                push(
                    "numbers",
                    key("queue_callback_key"),
                    format!("{k:?} is not a key: use one digit 0-9"),
                );
            }
        }
        if !matches!(n.closed.as_str(), "reject" | "voicemail") {
            push(
                "numbers",
                key("closed"),
                format!("{:?} must be \"reject\" or \"voicemail\"", n.closed),
            );
        }
    }
    let callers = &config.callers;
    let mut blacklisted = HashSet::new();
    for (i, b) in callers.blacklist.iter().enumerate() {
        if !is_caller_number(&b.number) {
            push(
                "callers",
                format!("callers.blacklist[{i}].number"),
                format!("{:?} must be digits (a leading + allowed)", b.number),
            );
        } else if !blacklisted.insert(b.number.as_str()) {
            push(
                "callers",
                format!("callers.blacklist[{i}].number"),
                format!("{:?} is listed twice", b.number),
            );
        }
        if b.reason.trim().is_empty() {
            push(
                "callers",
                format!("callers.blacklist[{i}].reason"),
                "must say why the number is refused".into(),
            );
        }
    }
    let mut prioritized = HashSet::new();
    for (i, p) in callers.priority.iter().enumerate() {
        let key = |k: &str| format!("callers.priority[{i}].{k}");
        if !is_caller_number(&p.number) {
            push(
                "callers",
                key("number"),
                format!("{:?} must be digits (a leading + allowed)", p.number),
            );
        } else if !prioritized.insert(p.number.as_str()) {
            push(
                "callers",
                key("number"),
                format!("{:?} is listed twice", p.number),
            );
        } else if blacklisted.contains(p.number.as_str()) {
            push(
                "callers",
                key("number"),
                format!("{:?} is also blacklisted", p.number),
            );
        }
        if !(1..=9).contains(&p.priority) {
            push(
                "callers",
                key("priority"),
                "must be between 1 and 9 (callers not listed have 0)".into(),
            );
        }
    }
}
