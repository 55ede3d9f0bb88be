//! Wallboard alerts, a pure function of a moment's picture: the queues and agents as the
//! engine shows them ([`QueueSnapshot`], [`AgentSnapshot`]), today's figures per queue, the
//! answered calls still without a work order, the thresholds (`[wallboard]`) and the time.
//!
//! * `long-wait` — a queue's longest-waiting caller has waited more than `long_wait_secs`
//!   (critical: more than `long_wait_critical_secs`).
//! * `service-level` — today's service level of a queue offered at least
//!   `service_level_min_offered` calls is below `service_level_target` (critical: below
//!   `service_level_critical`).
//! * `agent-stuck` — an agent has been in a state longer than `agent_stuck_secs[state]`
//!   (critical: more than twice that). Ready and logged-out are never "stuck".
//! * `no-order` — an answered call ended more than `no_order_secs` ago without a work order
//!   (critical: more than `no_order_critical_secs`).
//!
//! Every threshold is exceeded strictly: a value equal to it raises nothing. Alerts come
//! critical first, then by kind in the order above, then by queue / agent / call.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AgentSnapshot, QueueSnapshot};
use crate::config::WallboardConfig;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    LongWait,
    ServiceLevel,
    AgentStuck,
    NoOrder,
}

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Critical,
    Warning,
}

/// One alert, as the wallboard shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// Seconds (long-wait, agent-stuck, no-order) or a fraction (service-level).
    pub value: f64,
    /// The (warning) threshold `value` crossed, in the same unit.
    pub target: f64,
    pub message_zh: String,
    pub message_en: String,
}

/// A queue's figures for today (from the KPI report).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueToday {
    pub queue: String,
    pub offered: u64,
    /// Answered within the queue's service-level time / offered; `None` when nothing offered.
    pub service_level: Option<f64>,
}

/// An answered call that ended without a work order.
#[derive(Debug, Clone, PartialEq)]
pub struct CallWithoutOrder {
    pub call: String,
    pub agent: Option<String>,
    pub ended_at: DateTime<Utc>,
}

/// Everything the alerts are computed from.
#[derive(Debug, Clone, Copy)]
pub struct AlertInput<'a> {
    pub queues: &'a [QueueSnapshot],
    pub agents: &'a [AgentSnapshot],
    pub today: &'a [QueueToday],
    pub without_order: &'a [CallWithoutOrder],
    pub now: DateTime<Utc>,
}

/// The alerts of this moment, most urgent first.
pub fn alerts(input: AlertInput<'_>, cfg: &WallboardConfig) -> Vec<Alert> {
    let mut out = Vec::new();
    long_waits(&input, cfg, &mut out);
    service_levels(&input, cfg, &mut out);
    stuck_agents(&input, cfg, &mut out);
    without_order(&input, cfg, &mut out);
    out.sort_by(|a, b| {
        (a.severity, a.kind, &a.queue, &a.agent, &a.call)
            .cmp(&(b.severity, b.kind, &b.queue, &b.agent, &b.call))
    });
    out
}

fn severity(value: f64, warning: f64, critical: f64, above: bool) -> Option<Severity> {
    let over = |t: f64| if above { value > t } else { value < t };
    if over(critical) {
        Some(Severity::Critical)
    } else if over(warning) {
        Some(Severity::Warning)
    } else {
        None
    }
}

fn long_waits(input: &AlertInput<'_>, cfg: &WallboardConfig, out: &mut Vec<Alert>) {
    for q in input.queues {
        let waited = q.longest_wait_secs as f64;
        let Some(severity) = severity(
            waited,
            f64::from(cfg.long_wait_secs),
            f64::from(cfg.long_wait_critical_secs),
            true,
        ) else {
            continue;
        };
        out.push(Alert {
            kind: AlertKind::LongWait,
            severity,
            queue: Some(q.name.clone()),
            agent: None,
            call: None,
            value: waited,
            target: f64::from(cfg.long_wait_secs),
            message_zh: format!(
                "队列 {} 最长等待 {}，超过目标 {} 秒（{} 人排队）",
                q.name,
                duration_zh(q.longest_wait_secs),
                cfg.long_wait_secs,
                q.waiting
            ),
            message_en: format!(
                "Queue {}: longest wait {}, over the {} s target ({} waiting)",
                q.name,
                duration_en(q.longest_wait_secs),
                cfg.long_wait_secs,
                q.waiting
            ),
        });
    }
}

fn service_levels(input: &AlertInput<'_>, cfg: &WallboardConfig, out: &mut Vec<Alert>) {
    for t in input.today {
        if t.offered < u64::from(cfg.service_level_min_offered) {
            continue;
        }
        let Some(sl) = t.service_level else { continue };
        let Some(severity) = severity(
            sl,
            cfg.service_level_target,
            cfg.service_level_critical,
            false,
        ) else {
            continue;
        };
        out.push(Alert {
            kind: AlertKind::ServiceLevel,
            severity,
            queue: Some(t.queue.clone()),
            agent: None,
            call: None,
            value: sl,
            target: cfg.service_level_target,
            message_zh: format!(
                "队列 {} 今日服务水平 {}，低于目标 {}（已呼入 {} 个）",
                t.queue,
                percent(sl),
                percent(cfg.service_level_target),
                t.offered
            ),
            message_en: format!(
                "Queue {}: service level today {}, below the {} target ({} offered)",
                t.queue,
                percent(sl),
                percent(cfg.service_level_target),
                t.offered
            ),
        });
    }
}

fn stuck_agents(input: &AlertInput<'_>, cfg: &WallboardConfig, out: &mut Vec<Alert>) {
    for a in input.agents {
        let (Some(&limit), Some(secs)) = (cfg.agent_stuck_secs.get(a.state), a.state_secs) else {
            continue;
        };
        let Some(severity) = severity(secs as f64, f64::from(limit), 2.0 * f64::from(limit), true)
        else {
            continue;
        };
        let reason_zh = a
            .reason
            .as_deref()
            .map(|r| format!("（{r}）"))
            .unwrap_or_default();
        let reason_en = a
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        out.push(Alert {
            kind: AlertKind::AgentStuck,
            severity,
            queue: None,
            agent: Some(a.id.clone()),
            call: None,
            value: secs as f64,
            target: f64::from(limit),
            message_zh: format!(
                "坐席 {} {}{}已 {}，超过 {}",
                a.id,
                state_zh(a.state),
                reason_zh,
                duration_zh(secs),
                duration_zh(u64::from(limit))
            ),
            message_en: format!(
                "Agent {} {}{} for {}, over {}",
                a.id,
                a.state,
                reason_en,
                duration_en(secs),
                duration_en(u64::from(limit))
            ),
        });
    }
}

fn without_order(input: &AlertInput<'_>, cfg: &WallboardConfig, out: &mut Vec<Alert>) {
    for c in input.without_order {
        let age = (input.now - c.ended_at).num_seconds().max(0) as u64;
        let Some(severity) = severity(
            age as f64,
            f64::from(cfg.no_order_secs),
            f64::from(cfg.no_order_critical_secs),
            true,
        ) else {
            continue;
        };
        let agent = c.agent.as_deref().unwrap_or("?");
        out.push(Alert {
            kind: AlertKind::NoOrder,
            severity,
            queue: None,
            agent: c.agent.clone(),
            call: Some(c.call.clone()),
            value: age as f64,
            target: f64::from(cfg.no_order_secs),
            message_zh: format!(
                "通话 {}（坐席 {}）结束 {} 仍未建工单",
                c.call,
                agent,
                duration_zh(age)
            ),
            message_en: format!(
                "Call {} (agent {}) ended {} ago without a work order",
                c.call,
                agent,
                duration_en(age)
            ),
        });
    }
}

fn state_zh(state: &str) -> &'static str {
    match state {
        "ready" => "示闲",
        "not-ready" => "示忙",
        "break" => "小休",
        "ringing" => "振铃",
        "on-call" => "通话",
        "wrap-up" => "话后整理",
        _ => "签出",
    }
}

fn percent(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

fn duration_zh(secs: u64) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s} 秒"),
        (m, 0) => format!("{m} 分钟"),
        (m, s) => format!("{m} 分 {s} 秒"),
    }
}

fn duration_en(secs: u64) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
