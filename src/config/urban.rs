//! Configuration of the 数字城管 side of the case store: the intake and workflow settings
//! (`[urban]`), the dispatch routing table (`[[routing]]`) and the notifier (`[notifier]`).
//! Grid-cell polygons live on `[[grid_cells]]` (`polygon`).

use serde::{Deserialize, Serialize};

/// Intake and workflow settings of urban-management cases. Every key has a default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UrbanConfig {
    /// Reports of the same category closer than this (metres) …
    pub merge_distance_m: f64,
    /// … and within this many hours of each other are proposed for merging.
    pub merge_window_hours: u32,
    /// A report must be registered and dispatched within this many working hours (DOMAIN.md: 1).
    pub dispatch_within_working_hours: u32,
    /// A near-deadline notice goes out this many working minutes before an order's deadline.
    pub near_deadline_working_minutes: u32,
    /// An overdue order escalates to level 1 (the department is warned) at its deadline and to
    /// level 2 (leaders are warned) this many working hours after it.
    pub escalate_leaders_after_working_hours: u32,
    /// How often the deadline sweeper runs, in seconds.
    pub sweep_secs: u32,
    /// Largest photo accepted, in bytes.
    pub photo_max_bytes: u64,
    /// Most photos in one request.
    pub photo_max_count: u32,
}

impl Default for UrbanConfig {
    fn default() -> Self {
        UrbanConfig {
            merge_distance_m: 50.0,
            merge_window_hours: 24,
            dispatch_within_working_hours: 1,
            near_deadline_working_minutes: 60,
            escalate_leaders_after_working_hours: 8,
            sweep_secs: 60,
            photo_max_bytes: 5 * 1024 * 1024,
            photo_max_count: 9,
        }
    }
}

/// One row of the dispatch routing table: orders whose category id starts with `category`
/// (and whose grid cell code starts with `grid`, when given) go to `department`. The most
/// specific row wins: the longest category prefix, then the longest grid prefix.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// A category id or prefix: `E01`, `E0101`, `C`.
    pub category: String,
    /// A grid cell code or prefix (6-digit division, 9-digit street, …); all grid cells if left out.
    #[serde(default)]
    pub grid: Option<String>,
    pub department: String,
}

/// Where notifications (new dispatch, near deadline, overdue, results for reporters) go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NotifierConfig {
    /// `log` (written to the server log) or `webhook` (POSTed as JSON to `url`).
    pub kind: String,
    /// For kind webhook: the URL (http:// or https://).
    pub url: Option<String>,
    /// For kind webhook: a bearer token sent in `Authorization`.
    pub token: Option<String>,
    /// Seconds before a delivery attempt times out.
    pub timeout_secs: u32,
    /// Attempts before a notification is given up (marked failed).
    pub max_attempts: u32,
    /// Seconds before the first retry; doubled each attempt.
    pub retry_secs: u32,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            kind: "log".into(),
            url: None,
            token: None,
            timeout_secs: 5,
            max_attempts: 8,
            retry_secs: 10,
        }
    }
}
