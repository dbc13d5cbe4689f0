//! GeoJSON geometries of `intersects` queries, tested against item bounding boxes.

use serde_json::Value;

use super::error::StacError;
use crate::subset::BBox;

/// Polygons (rings of lon/lat) and points; lines count as thin polygons' edges.
#[derive(Debug, Clone)]
pub struct Geometry {
    points: Vec<[f64; 2]>,
    /// Each polygon: its outer ring (holes are ignored: a conservative match).
    polygons: Vec<Vec<[f64; 2]>>,
    lines: Vec<Vec<[f64; 2]>>,
}

fn bad(msg: &str) -> StacError {
    StacError::BadRequest(format!("intersects: {msg}"))
}

fn position(v: &Value) -> Result<[f64; 2], StacError> {
    let a = v
        .as_array()
        .ok_or_else(|| bad("a position is not an array"))?;
    match (
        a.first().and_then(Value::as_f64),
        a.get(1).and_then(Value::as_f64),
    ) {
        (Some(x), Some(y)) => Ok([x, y]),
        _ => Err(bad("a position needs two numbers")),
    }
}

fn positions(v: &Value) -> Result<Vec<[f64; 2]>, StacError> {
    v.as_array()
        .ok_or_else(|| bad("expected an array of positions"))?
        .iter()
        .map(position)
        .collect()
}

impl Geometry {
    pub fn from_geojson(v: &Value) -> Result<Geometry, StacError> {
        let mut g = Geometry {
            points: vec![],
            polygons: vec![],
            lines: vec![],
        };
        g.add(v)?;
        Ok(g)
    }

    fn add(&mut self, v: &Value) -> Result<(), StacError> {
        let coords = || v.get("coordinates").ok_or_else(|| bad("no coordinates"));
        match v.get("type").and_then(Value::as_str) {
            Some("Point") => self.points.push(position(coords()?)?),
            Some("MultiPoint") => self.points.extend(positions(coords()?)?),
            Some("LineString") => self.lines.push(positions(coords()?)?),
            Some("MultiLineString") => {
                for l in coords()?
                    .as_array()
                    .ok_or_else(|| bad("bad MultiLineString"))?
                {
                    self.lines.push(positions(l)?);
                }
            }
            Some("Polygon") => {
                let rings = coords()?.as_array().ok_or_else(|| bad("bad Polygon"))?;
                self.polygons.push(positions(
                    rings.first().ok_or_else(|| bad("empty Polygon"))?,
                )?);
            }
            Some("MultiPolygon") => {
                for p in coords()?
                    .as_array()
                    .ok_or_else(|| bad("bad MultiPolygon"))?
                {
                    let rings = p.as_array().ok_or_else(|| bad("bad MultiPolygon"))?;
                    self.polygons.push(positions(
                        rings.first().ok_or_else(|| bad("empty polygon"))?,
                    )?);
                }
            }
            Some("GeometryCollection") => {
                for g in v
                    .get("geometries")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("no geometries"))?
                {
                    self.add(g)?;
                }
            }
            other => return Err(bad(&format!("unsupported geometry type {other:?}"))),
        }
        Ok(())
    }

    /// Whether the geometry touches the box (one not crossing the antimeridian).
    pub fn intersects_bbox(&self, bbox: &BBox) -> bool {
        let b = bbox.to_array();
        let inside = |p: &[f64; 2]| p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3];
        let corners = [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]];
        let box_edges: Vec<([f64; 2], [f64; 2])> =
            (0..4).map(|i| (corners[i], corners[(i + 1) % 4])).collect();
        let crosses = |line: &[[f64; 2]]| {
            line.windows(2).any(|w| {
                box_edges
                    .iter()
                    .any(|(a, c)| segments_cross(w[0], w[1], *a, *c))
            })
        };
        self.points.iter().any(inside)
            || self
                .lines
                .iter()
                .any(|l| l.iter().any(inside) || crosses(l))
            || self.polygons.iter().any(|ring| {
                ring.iter().any(inside)
                    || corners.iter().any(|c| point_in_ring(c, ring))
                    || crosses(ring)
            })
    }
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn segments_cross(p: [f64; 2], q: [f64; 2], r: [f64; 2], s: [f64; 2]) -> bool {
    let (d1, d2) = (orient(r, s, p), orient(r, s, q));
    let (d3, d4) = (orient(p, q, r), orient(p, q, s));
    (d1 * d2 <= 0.0) && (d3 * d4 <= 0.0) && !(d1 == 0.0 && d2 == 0.0 && d3 == 0.0 && d4 == 0.0)
}

/// Ray casting.
fn point_in_ring(p: &[f64; 2], ring: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_containing_the_box() {
        let g = Geometry::from_geojson(&serde_json::json!({
            "type": "Polygon", "coordinates": [[[-50, -50], [50, -50], [50, 50], [-50, 50], [-50, -50]]]
        }))
        .unwrap();
        let bbox = |w, s, e, n| BBox::new(w, s, e, n).unwrap();
        assert!(g.intersects_bbox(&bbox(0.0, 0.0, 1.0, 1.0)));
        assert!(!g.intersects_bbox(&bbox(60.0, 0.0, 70.0, 1.0)));
        let line = Geometry::from_geojson(&serde_json::json!({
            "type": "LineString", "coordinates": [[-10, 5], [10, 5]]
        }))
        .unwrap();
        assert!(line.intersects_bbox(&bbox(0.0, 0.0, 1.0, 10.0)));
    }
}
