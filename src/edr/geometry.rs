//! The `coords` parameter: WKT geometries (parsed by the `wkt` crate) brought into
//! the few shapes EDR queries use, plus the plane/sphere tests the queries need.

use std::str::FromStr;

use wkt::Wkt;
use wkt::types::{Coord, Dimension};

use super::error::{EdrError, EdrResult};

/// A position in CRS84 with the optional height (Z) and time (M, epoch seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pos {
    pub x: f64,
    pub y: f64,
    pub z: Option<f64>,
    pub m: Option<f64>,
}

/// A polygon: outer ring then holes, each closed or not.
pub type Polygon = Vec<Vec<Pos>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    Points(Vec<Pos>),
    Line(Vec<Pos>),
    Polygons(Vec<Polygon>),
}

fn pos(c: &Coord<f64>, dim: Dimension) -> Pos {
    // `POINT M (x y m)` puts the measure in `m`; some writers put it in `z`.
    let (z, m) = match dim {
        Dimension::XYM => (None, c.m.or(c.z)),
        _ => (c.z, c.m),
    };
    Pos {
        x: c.x,
        y: c.y,
        z,
        m,
    }
}

fn check(p: &Pos) -> EdrResult<()> {
    let finite = p.x.is_finite()
        && p.y.is_finite()
        && p.z.is_none_or(f64::is_finite)
        && p.m.is_none_or(f64::is_finite);
    if !finite {
        return Err(EdrError::bad("coords: coordinates must be finite numbers"));
    }
    if !(-90.0..=90.0).contains(&p.y) {
        return Err(EdrError::bad(format!(
            "coords: latitude {} is outside -90..90 (WKT order is longitude latitude)",
            p.y
        )));
    }
    Ok(())
}

/// Deepest parenthesis nesting accepted in `coords` (a MULTIPOLYGON needs 3): the
/// `wkt` crate parses nested geometries by recursion, so deeper text could overflow
/// the stack.
const MAX_NESTING: usize = 16;

fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses `coords`. Accepts POINT, MULTIPOINT, LINESTRING, POLYGON, MULTIPOLYGON in
/// their 2-D, Z, M and ZM forms.
pub fn parse(text: &str) -> EdrResult<Geometry> {
    let text = text.trim();
    if text.is_empty() {
        return Err(EdrError::bad("coords is empty"));
    }
    if nesting(text) > MAX_NESTING {
        return Err(EdrError::bad(format!(
            "coords: geometries nested deeper than {MAX_NESTING} levels"
        )));
    }
    let wkt = Wkt::<f64>::from_str(text)
        .map_err(|e| EdrError::bad(format!("coords is not valid WKT ({e}): {text:?}")))?;
    let empty = || EdrError::bad("coords: empty geometry");
    let g = match wkt {
        Wkt::Point(p) => {
            let c = p.coord().ok_or_else(empty)?;
            Geometry::Points(vec![pos(c, p.dimension())])
        }
        Wkt::MultiPoint(mp) => {
            let dim = mp.dimension();
            let pts: Vec<Pos> = mp
                .points()
                .iter()
                .filter_map(|p| p.coord().map(|c| pos(c, dim)))
                .collect();
            if pts.is_empty() {
                return Err(empty());
            }
            Geometry::Points(pts)
        }
        Wkt::LineString(ls) => {
            let dim = ls.dimension();
            let pts: Vec<Pos> = ls.coords().iter().map(|c| pos(c, dim)).collect();
            if pts.is_empty() {
                return Err(empty());
            }
            Geometry::Line(pts)
        }
        Wkt::Polygon(p) => Geometry::Polygons(vec![polygon(&p)?]),
        Wkt::MultiPolygon(mp) => {
            let polys: EdrResult<Vec<Polygon>> = mp.polygons().iter().map(polygon).collect();
            let polys = polys?;
            if polys.is_empty() {
                return Err(empty());
            }
            Geometry::Polygons(polys)
        }
        other => {
            return Err(EdrError::bad(format!(
                "coords: unsupported geometry {:?}; use POINT, MULTIPOINT, LINESTRING, POLYGON or MULTIPOLYGON",
                wkt_name(&other)
            )));
        }
    };
    match &g {
        Geometry::Points(p) | Geometry::Line(p) => p.iter().try_for_each(check)?,
        Geometry::Polygons(ps) => ps.iter().flatten().flatten().try_for_each(check)?,
    }
    Ok(g)
}

fn wkt_name(w: &Wkt<f64>) -> &'static str {
    match w {
        Wkt::Point(_) => "POINT",
        Wkt::LineString(_) => "LINESTRING",
        Wkt::Polygon(_) => "POLYGON",
        Wkt::MultiPoint(_) => "MULTIPOINT",
        Wkt::MultiLineString(_) => "MULTILINESTRING",
        Wkt::MultiPolygon(_) => "MULTIPOLYGON",
        Wkt::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    }
}

fn polygon(p: &wkt::types::Polygon<f64>) -> EdrResult<Polygon> {
    let dim = p.dimension();
    let rings: Polygon = p
        .rings()
        .iter()
        .map(|r| r.coords().iter().map(|c| pos(c, dim)).collect::<Vec<_>>())
        .collect();
    match rings.first() {
        Some(outer) if outer.len() >= 3 => Ok(rings),
        _ => Err(EdrError::bad(
            "coords: a polygon needs an outer ring of at least 3 points",
        )),
    }
}

/// Even-odd test of a point against all rings of a polygon (holes excluded).
pub fn polygon_contains(poly: &Polygon, x: f64, y: f64) -> bool {
    let mut inside = false;
    for ring in poly {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (a, b) = (ring[i], ring[j]);
            if (a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x {
                inside = !inside;
            }
            j = i;
        }
    }
    inside
}

/// (west, south, east, north) of a set of positions.
pub fn bounds<'a>(pts: impl IntoIterator<Item = &'a Pos>) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    for p in pts {
        b = Some(match b {
            None => (p.x, p.y, p.x, p.y),
            Some((w, s, e, n)) => (w.min(p.x), s.min(p.y), e.max(p.x), n.max(p.y)),
        });
    }
    b
}

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km between two lon/lat points (haversine).
pub fn distance_km(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    let (p1, p2) = (y1.to_radians(), y2.to_radians());
    let dp = p2 - p1;
    let dl = (x2 - x1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Distance in km from a point to a polyline, on a local plane around each segment
/// (good to well under 1% for corridors of up to a few hundred km).
pub fn distance_to_line_km(line: &[Pos], x: f64, y: f64) -> f64 {
    if line.len() == 1 {
        return distance_km(line[0].x, line[0].y, x, y);
    }
    let mut best = f64::INFINITY;
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let lat0 = ((a.y + b.y) / 2.0).to_radians();
        let k = EARTH_RADIUS_KM.to_radians();
        let proj = |px: f64, py: f64| {
            let dx = wrap180(px - a.x);
            (dx * lat0.cos() * k, (py - a.y) * k)
        };
        let (bx, by) = proj(b.x, b.y);
        let (px, py) = proj(x, y);
        let len2 = bx * bx + by * by;
        let t = if len2 > 0.0 {
            ((px * bx + py * by) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (dx, dy) = (px - t * bx, py - t * by);
        best = best.min((dx * dx + dy * dy).sqrt());
    }
    best
}

/// A longitude difference brought into -180..180.
pub fn wrap180(d: f64) -> f64 {
    (d + 180.0).rem_euclid(360.0) - 180.0
}

/// `x` moved by whole turns to lie within 180° of `reference` (to express a grid
/// longitude in the frame of the request).
pub fn lon_near(x: f64, reference: f64) -> f64 {
    shift_turns(x, reference + wrap180(x - reference))
}

/// `x` plus the whole number of turns that brings it nearest `target` (exactly `x`
/// when no turn is needed, so grid values print unchanged).
pub fn shift_turns(x: f64, target: f64) -> f64 {
    let k = ((target - x) / 360.0).round();
    if k == 0.0 { x } else { x + k * 360.0 }
}

/// `x` moved by whole turns into `[west, west + 360)`.
pub fn lon_from(x: f64, west: f64) -> f64 {
    shift_turns(x, west + (x - west).rem_euclid(360.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shapes() {
        assert_eq!(
            parse("POINT(10 -2)").unwrap(),
            Geometry::Points(vec![Pos {
                x: 10.0,
                y: -2.0,
                z: None,
                m: None
            }])
        );
        match parse("MULTIPOINT((0 1),(2 3))").unwrap() {
            Geometry::Points(p) => assert_eq!(p.len(), 2),
            g => panic!("{g:?}"),
        }
        match parse("LINESTRING Z (0 0 10, 1 1 20)").unwrap() {
            Geometry::Line(p) => assert_eq!(p[1].z, Some(20.0)),
            g => panic!("{g:?}"),
        }
        match parse("LINESTRINGM(0 0 946684800, 1 1 946688400)").unwrap() {
            Geometry::Line(p) => assert_eq!((p[0].z, p[0].m), (None, Some(946684800.0))),
            g => panic!("{g:?}"),
        }
        match parse("LINESTRING ZM (0 0 5 100, 1 1 6 200)").unwrap() {
            Geometry::Line(p) => assert_eq!((p[1].z, p[1].m), (Some(6.0), Some(200.0))),
            g => panic!("{g:?}"),
        }
        match parse("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))").unwrap() {
            Geometry::Polygons(p) => assert_eq!(p[0][0].len(), 5),
            g => panic!("{g:?}"),
        }
        match parse("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))").unwrap() {
            Geometry::Polygons(p) => assert_eq!(p.len(), 2),
            g => panic!("{g:?}"),
        }
    }

    #[test]
    fn rejects_bad_wkt() {
        for bad in [
            "",
            "POINT",
            "POINT(1)",
            "POINT(a b)",
            "POINT(10 -2",
            "CIRCLE(1 2 3)",
            "POINT(1 95)",
            "POLYGON((0 0, 1 1))",
            "MULTILINESTRING((0 0,1 1))",
            "POINT EMPTY",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    /// The `wkt` crate parses nested geometries by recursion: deep nesting overflowed
    /// the stack (found by fuzzing); it is refused before parsing.
    #[test]
    fn rejects_deep_nesting() {
        for open in ["GEOMETRYCOLLECTION(", "(", "MULTIPOLYGON(("] {
            let text = format!("{}POINT(1 2){}", open.repeat(1500), ")".repeat(3000));
            assert!(parse(&text).is_err());
        }
        let ok = format!(
            "GEOMETRYCOLLECTION({}POINT(1 2){})",
            "GEOMETRYCOLLECTION(".repeat(3),
            ")".repeat(3)
        );
        // Nesting within the limit reaches the parser (and this shape is unsupported).
        let e = parse(&ok).unwrap_err().to_string();
        assert!(e.contains("unsupported geometry"), "{e}");
    }

    #[test]
    fn point_in_polygon_grid() {
        let Geometry::Polygons(p) =
            parse("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0),(4 4, 6 4, 6 6, 4 6, 4 4))").unwrap()
        else {
            panic!()
        };
        // Cell centres on a 1° grid from 0.5 to 9.5: 100 cells, minus 4 in the hole.
        let mut n = 0;
        for j in 0..12 {
            for i in 0..12 {
                if polygon_contains(&p[0], i as f64 + 0.5 - 1.0, j as f64 + 0.5 - 1.0) {
                    n += 1;
                }
            }
        }
        assert_eq!(n, 96);
        // A triangle: centres under the diagonal.
        let Geometry::Polygons(t) = parse("POLYGON((0 0, 4 0, 0 4, 0 0))").unwrap() else {
            panic!()
        };
        let inside: usize = (0..4)
            .flat_map(|j| (0..4).map(move |i| (i, j)))
            .filter(|&(i, j)| polygon_contains(&t[0], i as f64 + 0.5, j as f64 + 0.5))
            .count();
        assert_eq!(inside, 6);
    }

    #[test]
    fn distances() {
        let d = distance_km(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111.195).abs() < 0.01, "{d}");
        assert!((distance_km(179.5, 0.0, -179.5, 0.0) - 111.195).abs() < 0.01);
        let line = [
            Pos {
                x: 0.0,
                y: 0.0,
                z: None,
                m: None,
            },
            Pos {
                x: 10.0,
                y: 0.0,
                z: None,
                m: None,
            },
        ];
        assert!((distance_to_line_km(&line, 5.0, 1.0) - 111.195).abs() < 0.5);
        assert!((distance_to_line_km(&line, -1.0, 0.0) - 111.195).abs() < 0.5);
        assert_eq!(lon_near(350.0, 0.0), -10.0);
        assert_eq!(lon_near(-10.0, 180.0), 350.0);
        // Grid values come back unchanged when no turn is needed.
        assert_eq!(lon_near(9.3169872981078, 10.0), 9.3169872981078);
        assert_eq!(lon_from(350.0, -30.0), -10.0);
        assert_eq!(lon_from(-175.0, 170.0), 185.0);
        assert_eq!(lon_from(0.1, -30.0), 0.1);
    }
}
