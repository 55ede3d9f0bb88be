//! The dispatch routing table (`[[routing]]`): which department an order goes to, from its
//! category and grid cell. Pure; the most specific row wins — the longest category prefix, then
//! the longest grid prefix (a row without a grid applies to every cell and is the least specific).

use crate::config::RoutingRule;

/// The routing table, ready to answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routing {
    rules: Vec<RoutingRule>,
}

impl Routing {
    pub fn new(rules: &[RoutingRule]) -> Self {
        Routing {
            rules: rules.to_vec(),
        }
    }

    /// The department for an order of `category` in `grid_cell`; `None` when no row matches
    /// (or the order has no category).
    pub fn department(&self, category: Option<&str>, grid_cell: Option<&str>) -> Option<&str> {
        let category = category?;
        self.rules
            .iter()
            .filter(|r| !r.category.is_empty() && category.starts_with(r.category.as_str()))
            .filter(|r| match (&r.grid, grid_cell) {
                (None, _) => true,
                (Some(g), Some(cell)) => cell.starts_with(g.as_str()),
                (Some(_), None) => false,
            })
            // Later rows lose ties: max_by_key keeps the last maximum, so iterate reversed.
            .rev()
            .max_by_key(|r| (r.category.len(), r.grid.as_ref().map_or(0, String::len)))
            .map(|r| r.department.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, grid: Option<&str>, department: &str) -> RoutingRule {
        RoutingRule {
            category: category.into(),
            grid: grid.map(str::to_string),
            department: department.into(),
        }
    }

    fn demo() -> Routing {
        Routing::new(&[
            rule("E01", None, "sanitation"),
            rule("C03", None, "sanitation"),
            rule("E02", None, "market"),
            rule("E05", None, "market"),
            rule("E04", None, "roads"),
            rule("C04", None, "landscaping"),
            rule("E0105", None, "landscaping"),
            rule("E0103", Some("510402002"), "roads"),
        ])
    }

    #[test]
    fn longest_category_prefix_wins() {
        let r = demo();
        assert_eq!(r.department(Some("E0101"), None), Some("sanitation"));
        assert_eq!(r.department(Some("E0105"), None), Some("landscaping"));
        assert_eq!(
            r.department(Some("E0105"), Some("510402001001001")),
            Some("landscaping")
        );
        assert_eq!(r.department(Some("E0402"), None), Some("roads"));
        assert_eq!(r.department(Some("C0301"), None), Some("sanitation"));
    }

    #[test]
    fn a_grid_row_applies_only_inside_its_prefix() {
        let r = demo();
        assert_eq!(
            r.department(Some("E0103"), Some("510402002003001")),
            Some("roads")
        );
        assert_eq!(
            r.department(Some("E0103"), Some("510402001001001")),
            Some("sanitation")
        );
        // No grid cell known: the grid row cannot apply.
        assert_eq!(r.department(Some("E0103"), None), Some("sanitation"));
    }

    #[test]
    fn longer_grid_prefix_wins_for_the_same_category() {
        let r = Routing::new(&[
            rule("E01", Some("510402"), "district-sanitation"),
            rule("E01", Some("510402001"), "street-sanitation"),
            rule("E01", None, "sanitation"),
        ]);
        assert_eq!(
            r.department(Some("E0101"), Some("510402001001002")),
            Some("street-sanitation")
        );
        assert_eq!(
            r.department(Some("E0101"), Some("510402002003001")),
            Some("district-sanitation")
        );
        assert_eq!(
            r.department(Some("E0101"), Some("510403000000000")),
            Some("sanitation")
        );
        // A longer category prefix beats any grid prefix.
        let r = Routing::new(&[
            rule("E01", Some("510402001"), "street"),
            rule("E0101", None, "specific"),
        ]);
        assert_eq!(
            r.department(Some("E0101"), Some("510402001001001")),
            Some("specific")
        );
    }

    #[test]
    fn nothing_matches_without_a_row_or_a_category() {
        let r = demo();
        assert_eq!(r.department(Some("E03"), None), None);
        assert_eq!(r.department(Some("S01"), None), None);
        assert_eq!(r.department(None, Some("510402001001001")), None);
        assert_eq!(Routing::default().department(Some("E0101"), None), None);
    }

    #[test]
    fn the_first_of_equally_specific_rows_wins() {
        let r = Routing::new(&[rule("E01", None, "first"), rule("E01", None, "second")]);
        assert_eq!(r.department(Some("E0101"), None), Some("first"));
    }
}
