//! Where an order is in its life: the statuses of the lifecycle, their names in the database and
//! the API, and which of them are open or pause the deadline clock.

use serde::{Deserialize, Serialize};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    /// A verification task (核实) is out with an inspector.
    Verifying,
    Registered,
    Rejected,
    Dispatched,
    /// The department has taken the order on.
    Accepted,
    Returned,
    Handled,
    Verified,
    Closed,
    Merged,
    /// 挂账: cannot be handled for now (funding, a plan, the season); the clock stops.
    Parked,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Received,
        Status::Verifying,
        Status::Registered,
        Status::Rejected,
        Status::Dispatched,
        Status::Accepted,
        Status::Returned,
        Status::Handled,
        Status::Verified,
        Status::Closed,
        Status::Merged,
        Status::Parked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Verifying => "verifying",
            Status::Registered => "registered",
            Status::Rejected => "rejected",
            Status::Dispatched => "dispatched",
            Status::Accepted => "accepted",
            Status::Returned => "returned",
            Status::Handled => "handled",
            Status::Verified => "verified",
            Status::Closed => "closed",
            Status::Merged => "merged",
            Status::Parked => "parked",
        }
    }

    /// Still being worked on (its deadline runs, unless paused).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Rejected | Status::Closed | Status::Merged)
    }

    /// The deadline clock stands still in this status.
    pub fn pauses_clock(self) -> bool {
        matches!(self, Status::Verifying | Status::Returned | Status::Parked)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}
