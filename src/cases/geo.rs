//! Geometry of the city: which unit grid cell (单元网格) holds a point, from the cells'
//! configured boundary polygons, and the great-circle distance between two points. Pure code,
//! no I/O.
//!
//! A point exactly on a cell's border or on one of its vertices counts as inside that cell. A
//! point on a border shared by two cells belongs to the cell listed first in the configuration
//! (the cells are tried in configuration order and the first that holds the point wins).

use crate::config::GridCellConfig;

/// Mean Earth radius (metres) of the haversine distance.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// How close (degrees) a point must be to a border to count as on it: about 1 mm on the
/// ground, well below the precision of a handset's GPS.
const ON_EDGE_EPSILON: f64 = 1e-8;

/// One cell's boundary with its bounding box.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    code: String,
    district: Option<String>,
    /// `[lon, lat]` points; the ring closes by itself.
    ring: Vec<[f64; 2]>,
    min: [f64; 2],
    max: [f64; 2],
}

/// The cell a point lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef<'a> {
    pub code: &'a str,
    pub district: Option<&'a str>,
}

/// The grid cells with a polygon, in configuration order, for point lookups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridIndex {
    cells: Vec<Cell>,
}

impl GridIndex {
    /// The index of the configured cells that have a polygon (at least three points); cells
    /// without one cannot hold a point and are left out.
    pub fn new(cells: &[GridCellConfig]) -> GridIndex {
        GridIndex {
            cells: cells
                .iter()
                .filter(|c| c.polygon.len() >= 3)
                .map(|c| {
                    let mut min = [f64::INFINITY; 2];
                    let mut max = [f64::NEG_INFINITY; 2];
                    for p in &c.polygon {
                        for k in 0..2 {
                            min[k] = min[k].min(p[k]);
                            max[k] = max[k].max(p[k]);
                        }
                    }
                    Cell {
                        code: c.code.clone(),
                        district: c.district.clone(),
                        ring: c.polygon.clone(),
                        min,
                        max,
                    }
                })
                .collect(),
        }
    }

    /// Whether no cell has a polygon (then coordinates cannot be placed at all).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The first cell (in configuration order) holding the point, borders included.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<CellRef<'_>> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        self.cells
            .iter()
            .filter(|c| {
                lon >= c.min[0] - ON_EDGE_EPSILON
                    && lon <= c.max[0] + ON_EDGE_EPSILON
                    && lat >= c.min[1] - ON_EDGE_EPSILON
                    && lat <= c.max[1] + ON_EDGE_EPSILON
            })
            .find(|c| contains(&c.ring, [lon, lat]))
            .map(|c| CellRef {
                code: &c.code,
                district: c.district.as_deref(),
            })
    }
}

/// Whether `ring` holds `p`, borders and vertices included (even-odd rule inside).
pub fn contains(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        if on_segment(a, b, p) {
            return true;
        }
        // Even-odd: count crossings of the horizontal ray to the right of p.
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Whether `p` lies on the segment `a`–`b` (within [`ON_EDGE_EPSILON`]).
fn on_segment(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return (p[0] - a[0]).abs() <= ON_EDGE_EPSILON && (p[1] - a[1]).abs() <= ON_EDGE_EPSILON;
    }
    // The nearest point of the segment to p, then its distance.
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
    let (nx, ny) = (a[0] + t * dx, a[1] + t * dy);
    let (ex, ey) = (p[0] - nx, p[1] - ny);
    ex * ex + ey * ey <= ON_EDGE_EPSILON * ON_EDGE_EPSILON
}

/// Great-circle distance in metres between two `(lon, lat)` points (haversine).
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A `(lon, lat)` box holding every point within `metres` of `(lon, lat)`: a cheap prefilter
/// before [`haversine_m`]. Returns `(min_lon, max_lon, min_lat, max_lat)`.
pub fn bounding_box(lon: f64, lat: f64, metres: f64) -> (f64, f64, f64, f64) {
    let dlat = (metres / EARTH_RADIUS_M).to_degrees();
    // Near the poles a degree of longitude shrinks to nothing: take every longitude there.
    let cos = lat.to_radians().cos();
    let dlon = if cos < 1e-6 {
        180.0
    } else {
        (dlat / cos).min(180.0)
    };
    (lon - dlon, lon + dlon, lat - dlat, lat + dlat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(code: &str, polygon: &[[f64; 2]]) -> GridCellConfig {
        GridCellConfig {
            code: code.into(),
            name: code.into(),
            district: Some("东区".into()),
            street: None,
            community: None,
            polygon: polygon.to_vec(),
        }
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    /// The demo city: two cells sharing the border lon = 101.710, a third below both.
    fn demo() -> GridIndex {
        GridIndex::new(&[
            cell("A", &rect(101.700, 26.580, 101.710, 26.590)),
            cell("B", &rect(101.710, 26.580, 101.720, 26.590)),
            cell("C", &rect(101.700, 26.570, 101.720, 26.580)),
        ])
    }

    fn code(g: &GridIndex, lon: f64, lat: f64) -> Option<&str> {
        g.locate(lon, lat).map(|c| c.code)
    }

    #[test]
    fn inside_and_outside() {
        let g = demo();
        assert_eq!(code(&g, 101.705, 26.585), Some("A"));
        assert_eq!(code(&g, 101.715, 26.585), Some("B"));
        assert_eq!(code(&g, 101.710, 26.575), Some("C"));
        assert_eq!(g.locate(101.705, 26.585).unwrap().district, Some("东区"));
        assert_eq!(code(&g, 101.730, 26.585), None);
        assert_eq!(code(&g, 101.705, 26.600), None);
        assert_eq!(code(&g, 0.0, 0.0), None);
        assert_eq!(code(&g, f64::NAN, 26.585), None);
    }

    #[test]
    fn on_a_border_counts_as_inside() {
        let g = demo();
        // The outer western border of A, and its northern border.
        assert_eq!(code(&g, 101.700, 26.585), Some("A"));
        assert_eq!(code(&g, 101.705, 26.590), Some("A"));
        // The eastern border of B, an outer one.
        assert_eq!(code(&g, 101.720, 26.585), Some("B"));
        // Just outside that border.
        assert_eq!(code(&g, 101.720_001, 26.585), None);
    }

    #[test]
    fn on_a_vertex_counts_as_inside() {
        let g = demo();
        assert_eq!(code(&g, 101.700, 26.590), Some("A"));
        assert_eq!(code(&g, 101.720, 26.590), Some("B"));
        assert_eq!(code(&g, 101.720, 26.570), Some("C"));
    }

    #[test]
    fn shared_border_belongs_to_the_first_cell() {
        let g = demo();
        assert_eq!(code(&g, 101.710, 26.585), Some("A"));
        // The corner shared by all three cells: A is listed first.
        assert_eq!(code(&g, 101.710, 26.580), Some("A"));
        // The border between B and C (A does not reach it east of 101.710).
        assert_eq!(code(&g, 101.715, 26.580), Some("B"));
        // Listed the other way round, the shared border goes to B.
        let swapped = GridIndex::new(&[
            cell("B", &rect(101.710, 26.580, 101.720, 26.590)),
            cell("A", &rect(101.700, 26.580, 101.710, 26.590)),
        ]);
        assert_eq!(code(&swapped, 101.710, 26.585), Some("B"));
    }

    #[test]
    fn concave_polygon() {
        // A "U": the notch between the arms (x 1..2, y 1..3) is outside.
        let u = [
            [0.0, 0.0],
            [3.0, 0.0],
            [3.0, 3.0],
            [2.0, 3.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 3.0],
            [0.0, 3.0],
        ];
        let g = GridIndex::new(&[cell("U", &u)]);
        assert_eq!(code(&g, 0.5, 2.5), Some("U"));
        assert_eq!(code(&g, 2.5, 2.5), Some("U"));
        assert_eq!(code(&g, 1.5, 0.5), Some("U"));
        assert_eq!(
            code(&g, 1.5, 2.0),
            None,
            "inside the bounding box, in the notch"
        );
        assert_eq!(code(&g, 1.5, 1.0), Some("U"), "on the notch's floor");
        // A ray through a vertex (y = 1 passes the notch's corners) is counted right.
        assert_eq!(code(&g, 0.5, 1.0), Some("U"));
        assert_eq!(code(&g, -0.5, 1.0), None);
    }

    #[test]
    fn cells_without_polygon_are_left_out() {
        let g = GridIndex::new(&[cell("X", &[]), cell("Y", &[[0.0, 0.0], [1.0, 1.0]])]);
        assert!(g.is_empty());
        assert_eq!(code(&g, 0.5, 0.5), None);
    }

    #[test]
    fn haversine_distances() {
        assert_eq!(haversine_m(101.7, 26.58, 101.7, 26.58), 0.0);
        // One thousandth of a degree of latitude is about 111.2 m anywhere.
        let d = haversine_m(101.7, 26.580, 101.7, 26.581);
        assert!((d - 111.19).abs() < 0.1, "{d}");
        // Of longitude at 26.58° N: 111.19 × cos(26.58°) ≈ 99.45 m.
        let d = haversine_m(101.700, 26.58, 101.701, 26.58);
        assert!((d - 99.45).abs() < 0.1, "{d}");
        // Symmetric.
        assert_eq!(
            haversine_m(1.0, 2.0, 3.0, 4.0),
            haversine_m(3.0, 4.0, 1.0, 2.0)
        );
    }

    #[test]
    fn bounding_box_holds_the_circle() {
        let (x0, x1, y0, y1) = bounding_box(101.705, 26.585, 50.0);
        for (lon, lat) in [(x0, 26.585), (x1, 26.585), (101.705, y0), (101.705, y1)] {
            let d = haversine_m(101.705, 26.585, lon, lat);
            assert!((d - 50.0).abs() < 0.01, "{d}");
        }
    }
}
