//! The shared case store: work orders (工单) from every channel, their append-only audit trail
//! (`CaseEvent`), call records (CDR) with their steps, callback tasks, reference data
//! (categories per GB/T 30428, grid cells, departments), the work-order lifecycle and deadline
//! rules. Knows nothing of SIP.

pub mod calendar;
pub mod deadline;
pub mod evaluation;
pub mod geo;
pub mod kpi;
pub mod lifecycle;
pub mod model;
pub mod notify;
pub mod photos;
pub mod routing;
pub mod store;
pub mod sweep;

pub use lifecycle::{Actor, Command, Status};
pub use model::*;
pub use store::{Store, StoreError};

/// Intake channels of a work order.
pub const CHANNELS: &[&str] = &[
    "phone-12345",
    "phone-12319",
    "field-inspector",
    "web",
    "app",
    "wechat",
    "sms",
    "email",
    "fax",
    "video",
    "leader",
    "transfer-110",
    "transfer-119",
    "transfer-120",
    "transfer-122",
];

/// Priorities: 一般 normal, 紧急 urgent, 特急 critical.
pub const PRIORITIES: &[&str] = &["normal", "urgent", "critical"];

/// A category id: kind letter (C component, E event, S service) + 2-digit major class
/// + optional 2-digit minor class, e.g. `C01`, `E0101`.
pub fn is_category_id(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 3 || b.len() == 5)
        && matches!(b[0], b'C' | b'E' | b'S')
        && b[1..].iter().all(u8::is_ascii_digit)
}

/// Now, at the precision both databases keep (microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Text folded for search, the same way for stored text and for queries whatever the database:
/// lower case, full-width forms (common in Chinese input: `Ａ栋`, `１２号`) as their ASCII
/// letters and digits, the ideographic space as a space.
pub fn search_fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn folds_case_and_width() {
        assert_eq!(
            super::search_fold("Ａ栋１２号 École ΑΒΓ　x"),
            "a栋12号 école αβγ x"
        );
    }
}
