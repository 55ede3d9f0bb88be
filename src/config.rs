//! Configuration: the TOML files under `sip-config/` (server addresses, trunks, numbers, queues,
//! agents, API users, departments, grid cells, the working calendar and deadline rules), loaded
//! into one [`Config`] and checked as a whole, so that `hotline check-config` can name every
//! problem with its file, key and reason.

mod check;
mod check_flows;
mod load;
mod urban;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::cases::calendar::{DeadlineRule, WorkingCalendar};

pub use load::{load, Loaded};
pub use urban::{NotifierConfig, RoutingRule, UrbanConfig};

/// Default main configuration file, relative to the working directory.
pub const DEFAULT_CONFIG: &str = "sip-config/hotline.toml";

/// One problem found in the configuration: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

/// Every problem found, in file order.
#[derive(Debug, thiserror::Error)]
#[error("{} configuration problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<Problem>);

/// The whole configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub server: ServerConfig,
    pub sip: SipConfig,
    pub media: MediaSettings,
    pub trunks: Vec<Trunk>,
    pub numbers: Vec<Number>,
    pub queues: Vec<Queue>,
    pub agents: Vec<AgentConfig>,
    pub users: Vec<ApiUser>,
    pub departments: Vec<DepartmentConfig>,
    pub grid_cells: Vec<GridCellConfig>,
    pub calendar: CalendarConfig,
    pub deadlines: DeadlineConfig,
    pub callers: CallersConfig,
    pub callbacks: CallbacksConfig,
    pub wallboard: WallboardConfig,
    pub urban: UrbanConfig,
    pub routing: Vec<RoutingRule>,
    pub notifier: NotifierConfig,
    /// Which file each top-level section came from (for messages).
    pub sources: BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub sip_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// RTP port range, e.g. "20000-29999".
    pub rtp_ports: String,
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; empty = SQLite under the data directory.
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            sip_addr: "0.0.0.0:5060".parse().expect("literal address"),
            http_addr: "0.0.0.0:8080".parse().expect("literal address"),
            rtp_ports: "20000-29999".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
        }
    }
}

impl ServerConfig {
    /// The RTP range as (first, last), both inclusive.
    pub fn rtp_range(&self) -> Result<(u16, u16), String> {
        parse_port_range(&self.rtp_ports)
    }
}

/// Parses "first-last" with first < last, both in 1024..=65535.
pub fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not a range like \"20000-29999\""))?;
    let a: u16 = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is not a port number"))?;
    let b: u16 = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is not a port number"))?;
    if a < 1024 || a >= b {
        return Err(format!(
            "range {a}-{b} must start at 1024 or above and end after it starts"
        ));
    }
    Ok((a, b))
}

/// SIP signalling settings (`[sip]`); every field has a default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Digest realm for softphones' REGISTER and INVITE authentication.
    pub realm: String,
    /// Host name or address written in our Contact and Via headers; empty = the address the
    /// server is bound to (or 127.0.0.1 when bound to 0.0.0.0).
    pub public_host: String,
    /// Out-of-dialog requests waiting to be handled; beyond this new INVITEs and REGISTERs get
    /// 503 with Retry-After (in-dialog requests and responses are never refused).
    pub max_pending: usize,
    /// Calls in progress at most; a new INVITE beyond gets 503.
    pub max_calls: usize,
    /// Retry-After seconds in 503 responses.
    pub retry_after_secs: u32,
    /// REGISTER expiry bounds (423 below the minimum, clamp above the maximum).
    pub register_min_expires: u32,
    pub register_max_expires: u32,
    /// Contacts kept per user (oldest dropped beyond).
    pub max_contacts_per_user: usize,
    /// A digest nonce older than this gets `stale=true`.
    pub nonce_lifetime_secs: u32,
    /// Failed authentications from one IP address within `auth_failure_window_secs` before
    /// further attempts are refused with 403 until the window passes.
    pub auth_failure_limit: u32,
    pub auth_failure_window_secs: u32,
    /// RFC 4028 session timer: interval we ask for, and the smallest we accept.
    pub session_expires_secs: u32,
    pub min_se_secs: u32,
    /// Largest SIP message accepted (bytes).
    pub max_message_bytes: usize,
    /// Digest algorithms offered to softphones, in order: "SHA-256", "MD5". RFC 8760 prefers
    /// SHA-256 first; some clients (SIPp 3.6, baresip 1.0) only cope with MD5 (first, or alone).
    pub digest_algorithms: Vec<String>,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            realm: "hotline".into(),
            public_host: String::new(),
            max_pending: 1024,
            max_calls: 2000,
            retry_after_secs: 5,
            register_min_expires: 60,
            register_max_expires: 3600,
            max_contacts_per_user: 10,
            nonce_lifetime_secs: 300,
            auth_failure_limit: 20,
            auth_failure_window_secs: 60,
            session_expires_secs: 1800,
            min_se_secs: 90,
            max_message_bytes: 65_535,
            digest_algorithms: vec!["SHA-256".into(), "MD5".into()],
        }
    }
}

/// Media settings (`[media]`); every field has a default. The RTP port range is
/// `[server].rtp_ports`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// Address written in SDP for our RTP; empty = `[sip].public_host` if it is an address,
    /// else the SIP bind address (127.0.0.1 when bound to 0.0.0.0).
    pub public_ip: String,
    /// Media worker threads; 0 = one per core.
    pub shards: usize,
    /// A call whose caller sends no RTP for this long is ended (dead line, lost BYE).
    pub rtp_timeout_secs: u32,
    /// Directory of the prompts (`<lang>/<name>.wav`), relative to the working directory.
    pub prompts_dir: PathBuf,
    /// Language of the prompts callers hear: "zh" or "en".
    pub language: String,
    /// Record answered calls (under `<data_dir>/recordings/YYYY/MM/DD/`).
    pub record_calls: bool,
    /// Frames of 20 ms the jitter buffer holds back before playing out (recording, mixing).
    pub jitter_delay_frames: usize,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            public_ip: String::new(),
            shards: 0,
            rtp_timeout_secs: 60,
            prompts_dir: PathBuf::from("ivr-prompts"),
            language: "zh".into(),
            record_calls: true,
            jitter_delay_frames: 2,
        }
    }
}

/// A carrier SIP trunk: INVITEs from these addresses are accepted without authentication.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    pub name: String,
    pub addresses: Vec<String>,
    /// Where outbound calls through this trunk are sent, "host:port" (UDP).
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    /// Seconds between OPTIONS pings to `outbound_proxy` (0 = no pinging).
    #[serde(default)]
    pub options_ping_secs: u32,
    /// Register to the carrier, when the carrier wants it.
    #[serde(default)]
    pub register: Option<TrunkRegister>,
}

/// Outbound registration of this server to a carrier (refreshed before it expires).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrunkRegister {
    /// The carrier's registrar, "host:port" (UDP).
    pub registrar: String,
    /// The carrier's SIP domain for the To/From URIs (default: the registrar's host).
    #[serde(default)]
    pub domain: Option<String>,
    pub username: String,
    /// The carrier's password for this account (sent only as a digest response).
    pub password: String,
    #[serde(default = "default_register_expires")]
    pub expires_secs: u32,
}

fn default_register_expires() -> u32 {
    3600
}

/// A dialled number (12345, 12319, …) and what it leads to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Number {
    pub number: String,
    pub name: String,
    /// Work-order channel for calls to this number, e.g. "phone-12345".
    pub channel: String,
    /// The queue a caller joins after the greeting.
    pub queue: String,
    /// "24x7" or "working-hours" (the working calendar).
    #[serde(default = "default_hours")]
    pub hours: String,
    /// Ring this long before answering (180 Ringing first when not 0).
    #[serde(default)]
    pub answer_after_ms: u32,
    /// An answered call is hung up (BYE) this long after the answer at the latest; 0 = no
    /// limit. Default 14,400 s (4 h).
    #[serde(default = "default_max_call")]
    pub max_call_secs: u32,
    /// Forward calls to this number through a trunk instead of the greeting (bridged and
    /// recorded), e.g. a duty phone out of hours.
    #[serde(default)]
    pub forward: Option<Forward>,
    /// The first prompt a caller hears (default `greeting-<number>`); a name of the prompt
    /// manifest (docs/ivr.md).
    #[serde(default)]
    pub greeting: Option<String>,
    /// Play `recording-notice` after the greeting.
    #[serde(default = "default_true")]
    pub recording_notice: bool,
    /// A key pressed during the greeting that switches the call to the other language
    /// (Mandarin ↔ English); the greeting then offers it with `language-menu`. None = no offer.
    #[serde(default)]
    pub language_key: Option<String>,
    /// Keys a caller may press during the greeting for self-service: key → one of
    /// [`SELF_SERVICES`]. Empty = none (the greeting then plays no `self-service-menu`).
    #[serde(default)]
    pub self_service: BTreeMap<String, String>,
    /// What a caller hears outside `hours`: "reject" (a closed notice and goodbye) or
    /// "voicemail" (the closed notice, then leave a message).
    #[serde(default = "default_closed")]
    pub closed: String,
    /// The satisfaction survey after the agent hangs up.
    #[serde(default)]
    pub survey: bool,
    /// A key a waiting caller presses to ask for a callback that keeps its place in the queue.
    #[serde(default)]
    pub queue_callback_key: Option<String>,
}

impl Number {
    /// The greeting prompt's name: `greeting`, or `greeting-<number>`.
    pub fn greeting_prompt(&self) -> String {
        self.greeting
            .clone()
            .unwrap_or_else(|| format!("greeting-{}", self.number))
    }
}

/// Self-service a number may offer during its greeting (`self_service` values).
pub const SELF_SERVICES: &[&str] = &["order-status", "voicemail", "callback"];

fn default_true() -> bool {
    true
}

fn default_closed() -> String {
    "reject".into()
}

/// Callers the hotline treats apart (`[callers]`): refused, or put ahead in the queue.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CallersConfig {
    /// Numbers refused with the `blacklisted` prompt.
    pub blacklist: Vec<BlacklistEntry>,
    /// Numbers that wait ahead of others (priority 1–9; everyone else has 0).
    pub priority: Vec<PriorityEntry>,
}

/// A caller number that is refused, and why (kept for supervisors and the audit).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BlacklistEntry {
    pub number: String,
    pub reason: String,
}

/// A caller number with a queue priority (higher waits ahead).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriorityEntry {
    pub number: String,
    pub priority: u8,
}

/// Where a forwarded number's calls go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    /// A configured trunk with an `outbound_proxy`.
    pub trunk: String,
    pub number: String,
}

fn default_max_call() -> u32 {
    14_400
}

fn default_hours() -> String {
    "24x7".into()
}

pub const QUEUE_STRATEGIES: &[&str] = &[
    "longest-idle",
    "round-robin",
    "ring-all",
    "fewest-calls",
    "least-talk-time",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    pub name: String,
    #[serde(default = "default_strategy")]
    pub strategy: String,
    /// Seconds of wrap-up (话后整理) after a call before the agent is ready again.
    #[serde(default = "default_wrap_up")]
    pub wrap_up_secs: u32,
    /// Seconds an agent's phone rings before the call goes to the next agent.
    #[serde(default = "default_ring")]
    pub ring_secs: u32,
    /// Longest wait before overflow.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: u32,
    /// Service-level threshold (GB/T 33358: 15 s).
    #[serde(default = "default_sl")]
    pub service_level_secs: u32,
    /// Seconds between position / expected-wait announcements to a waiting caller (0 = none).
    #[serde(default = "default_announce")]
    pub announce_secs: u32,
    /// Consecutive unanswered offers before an agent is set not-ready ("no answer"); 0 = never.
    #[serde(default = "default_no_answer_limit")]
    pub no_answer_limit: u32,
    /// Where callers go after `max_wait_secs`, or when no agent is logged in: "voicemail" or
    /// "callback".
    #[serde(default = "default_overflow")]
    pub overflow: String,
    /// Skills an agent needs to be offered this queue's calls.
    #[serde(default)]
    pub required_skills: Vec<String>,
    /// Average handle time (talk + wrap-up) assumed until calls have been measured, for the
    /// expected-wait estimate.
    #[serde(default = "default_handle")]
    pub default_handle_secs: u32,
}

fn default_announce() -> u32 {
    30
}

fn default_no_answer_limit() -> u32 {
    3
}

fn default_overflow() -> String {
    "voicemail".into()
}

fn default_handle() -> u32 {
    180
}

fn default_strategy() -> String {
    "longest-idle".into()
}
fn default_wrap_up() -> u32 {
    30
}
fn default_ring() -> u32 {
    15
}
fn default_max_wait() -> u32 {
    300
}
fn default_sl() -> u32 {
    15
}

/// A seat agent (坐席) and the softphone account they register with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The softphone's SIP user name (digits, letters, `.`, `-`, `_`).
    pub id: String,
    pub name: String,
    /// Clear-text password (demo and development). Prefer the two HA1 hashes below, which
    /// `hotline sip-ha1` prints; either way only the hashes are kept in the store.
    #[serde(default)]
    pub password: Option<String>,
    /// Hex MD5(user:realm:password) for `[sip].realm`.
    #[serde(default)]
    pub ha1_md5: Option<String>,
    /// Hex SHA-256(user:realm:password) for `[sip].realm`.
    #[serde(default)]
    pub ha1_sha256: Option<String>,
    pub queues: Vec<String>,
    /// Become ready as soon as the softphone registers (desk phones).
    #[serde(default)]
    pub ready_on_register: bool,
    /// Skills (e.g. "english", "urban-management") that queues may require.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Level per queue (1 = offered first; an agent of level 2 gets a call only when no free
    /// level-1 agent can take it). Queues not named here: level 1.
    #[serde(default)]
    pub levels: BTreeMap<String, u8>,
}

/// API roles (DESIGN.md).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
    Department,
    Channel,
    /// A field inspector (监督员) with a 城管通 handset: reports cases, verifies (核实/核查) the
    /// tasks assigned to them. The user's `name` is the inspector's id.
    Inspector,
    /// A leader (管理通): reads the city's state, orders and evaluations; assigns cases
    /// (领导交办, channel `leader`).
    Leader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Department => "department",
            Role::Channel => "channel",
            Role::Inspector => "inspector",
            Role::Leader => "leader",
        }
    }
}

/// A user of the HTTP API, identified by a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiUser {
    pub name: String,
    pub role: Role,
    /// The token in clear (demo and development); prefer `token_sha256`.
    pub token: Option<String>,
    /// Hex SHA-256 of the token.
    pub token_sha256: Option<String>,
    /// For role agent: the agent id.
    pub agent: Option<String>,
    /// For role department: the department id.
    pub department: Option<String>,
    /// For role channel: the intake channel this user reports through (e.g. "web").
    pub channel: Option<String>,
    /// For roles supervisor and admin: the SIP user name of their softphone (班长席 phone),
    /// called when they listen to, whisper into or barge into a call. It registers with
    /// `sip_password` (or the two HA1s), like an agent's softphone, but is never an ACD agent.
    #[serde(default)]
    pub extension: Option<String>,
    /// The softphone's password in clear (demo and development); prefer the two HA1s.
    #[serde(default)]
    pub sip_password: Option<String>,
    /// Hex MD5(extension:realm:password) for `[sip].realm` (`hotline sip-ha1` prints it).
    #[serde(default)]
    pub sip_ha1_md5: Option<String>,
    /// Hex SHA-256(extension:realm:password) for `[sip].realm`.
    #[serde(default)]
    pub sip_ha1_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DepartmentConfig {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
}

/// A unit grid cell (单元网格), GB/T 30428: 15 digits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridCellConfig {
    pub code: String,
    pub name: String,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    /// The cell's boundary as `[longitude, latitude]` points (WGS-84), at least three; the
    /// ring closes by itself. Reports with coordinates are placed in the cell that holds them.
    #[serde(default)]
    pub polygon: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// UTC offset of the city, e.g. "+08:00".
    pub utc_offset: String,
    /// Working periods of a working day, e.g. ["09:00-12:00", "13:30-17:30"].
    pub working_hours: Vec<String>,
    /// Normal working weekdays, e.g. ["mon", "tue", "wed", "thu", "fri"].
    pub workdays: Vec<String>,
    /// Public holidays (dates off even on a weekday).
    pub holidays: Vec<NaiveDate>,
    /// Make-up working days (调休): weekend dates that are working days.
    pub makeup_workdays: Vec<NaiveDate>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            utc_offset: "+08:00".into(),
            working_hours: vec!["09:00-12:00".into(), "13:30-17:30".into()],
            workdays: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            holidays: vec![],
            makeup_workdays: vec![],
        }
    }
}

/// Request types of a work order (Sichuan deadlines count per type).
pub const REQUEST_TYPES: &[&str] = &[
    "consultation",
    "help",
    "suggestion",
    "complaint",
    "report",
    "urban-management",
    "voicemail",
    "callback",
];

/// Request types of the orders a call makes by itself (a voicemail, a callback request). Their
/// deadline rule may be left out of `deadlines.by_type`: it then defaults to 1 working day.
pub const CALL_REQUEST_TYPES: &[&str] = &["voicemail", "callback"];

/// Callbacks (漏接回拨 and requested callbacks): how often and how far apart a number is tried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CallbacksConfig {
    /// Attempts before a task fails (1–20).
    pub max_attempts: u32,
    /// Minutes between an unanswered attempt and the next (1–1440).
    pub retry_minutes: u32,
    /// Whether an abandoned call makes a missed-call task.
    pub missed_call_tasks: bool,
}

impl Default for CallbacksConfig {
    fn default() -> Self {
        CallbacksConfig {
            max_attempts: 3,
            retry_minutes: 30,
            missed_call_tasks: true,
        }
    }
}

impl CallbacksConfig {
    /// The pause between an unanswered attempt and the next.
    pub fn retry_interval(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.retry_minutes))
    }
}

/// The wallboard's alert thresholds (docs/wallboard.md). Every key has a default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WallboardConfig {
    /// A caller waiting longer than this is a warning (GB/T 33358: answer within 15 s).
    pub long_wait_secs: u32,
    /// … and longer than this a critical alert.
    pub long_wait_critical_secs: u32,
    /// Today's service level below this is a warning (0–1; the assessment's 80 %).
    pub service_level_target: f64,
    /// … and below this a critical alert.
    pub service_level_critical: f64,
    /// The service-level alert waits until a queue has been offered this many calls today.
    pub service_level_min_offered: u32,
    /// Seconds in a state before an agent counts as stuck there, per state (not-ready, break,
    /// ringing, on-call, wrap-up); twice as long is critical. A state left out is never stuck.
    pub agent_stuck_secs: BTreeMap<String, u32>,
    /// An answered call still without an order this long after it ended is a warning…
    pub no_order_secs: u32,
    /// … and this long a critical alert.
    pub no_order_critical_secs: u32,
    /// How long the store-derived figures (today's numbers, calls without an order) are reused,
    /// in milliseconds, so that many wallboards do not each query the store.
    pub cache_ms: u32,
}

/// States an agent can be stuck in (`wallboard.agent_stuck_secs` keys).
pub const STUCK_STATES: &[&str] = &["not-ready", "break", "ringing", "on-call", "wrap-up"];

impl Default for WallboardConfig {
    fn default() -> Self {
        WallboardConfig {
            long_wait_secs: 15,
            long_wait_critical_secs: 60,
            service_level_target: 0.8,
            service_level_critical: 0.6,
            service_level_min_offered: 10,
            agent_stuck_secs: [
                ("not-ready", 900),
                ("break", 1200),
                ("ringing", 60),
                ("on-call", 1200),
                ("wrap-up", 180),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            no_order_secs: 300,
            no_order_critical_secs: 1800,
            cache_ms: 2000,
        }
    }
}

/// How long an order may take: per request type, with per-category overrides.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlineConfig {
    /// Request type → rule, e.g. consultation = { working_days = 3 }.
    pub by_type: BTreeMap<String, DeadlineRule>,
    /// Category id → rule, e.g. E0101 = { working_hours = 8 }; wins over `by_type`.
    pub by_category: BTreeMap<String, DeadlineRule>,
}

impl Default for DeadlineConfig {
    fn default() -> Self {
        let mut by_type = BTreeMap::new();
        for (t, d) in [
            ("consultation", 3),
            ("help", 7),
            ("suggestion", 7),
            ("complaint", 15),
            ("report", 15),
            ("urban-management", 5),
            ("voicemail", 1),
            ("callback", 1),
        ] {
            by_type.insert(t.to_string(), DeadlineRule::WorkingDays(d));
        }
        DeadlineConfig {
            by_type,
            by_category: BTreeMap::new(),
        }
    }
}

impl Config {
    /// The working calendar this configuration describes (checked by [`load`]).
    pub fn working_calendar(&self) -> Result<WorkingCalendar, String> {
        check::calendar_of(&self.calendar).map_err(|problems| {
            problems
                .into_iter()
                .map(|(key, reason)| format!("{key}: {reason}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// The digest HA1s of the users' softphones (`[[users]] extension`), by SIP user name,
    /// for the registrar beside the agents' (which come from the store). Entries whose
    /// credentials are missing or malformed are left out (check-config names them).
    pub fn user_softphones(&self) -> std::collections::HashMap<String, crate::sip::auth::Ha1> {
        self.users
            .iter()
            .filter_map(|u| {
                let ext = u.extension.as_ref()?;
                let ha1 = match (&u.sip_password, &u.sip_ha1_md5, &u.sip_ha1_sha256) {
                    (Some(p), _, _) => {
                        crate::sip::auth::Ha1::from_password(ext, &self.sip.realm, p)
                    }
                    (None, md5, sha) => {
                        crate::sip::auth::Ha1::from_hex(md5.as_deref(), sha.as_deref()).ok()?
                    }
                };
                (ha1.md5.is_some() || ha1.sha256.is_some()).then(|| (ext.clone(), ha1))
            })
            .collect()
    }

    /// True while any demo credential of the shipped example is configured.
    pub fn has_demo_credentials(&self) -> bool {
        self.users.iter().any(|u| {
            u.token.as_deref().is_some_and(|t| t.starts_with("demo-"))
                || u.sip_password
                    .as_deref()
                    .is_some_and(|p| p.starts_with("demo-"))
        }) || self.agents.iter().any(|a| {
            a.password
                .as_deref()
                .is_some_and(|p| p.starts_with("demo-"))
        })
    }
}

/// Parses "HH:MM-HH:MM"; an end of "24:00" or "00:00" means midnight.
pub fn parse_period(s: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not a period like \"09:00-12:00\""))?;
    let p = |t: &str| {
        NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .map_err(|_| format!("{t:?} is not a time like \"09:00\""))
    };
    // An end of "24:00" (or "00:00") is midnight at the end of the day.
    let midnight = matches!(b.trim(), "24:00" | "00:00");
    let (a, b) = (p(a)?, if midnight { NaiveTime::MIN } else { p(b)? });
    if a >= b && !midnight {
        return Err(format!("period {s:?} ends before it starts"));
    }
    Ok((a, b))
}
