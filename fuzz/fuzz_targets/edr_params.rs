//! EDR query parameters: the query string, then every value parser a query uses
//! (`datetime`, `z`, `bbox`, `within`/`within-units`, `corridor-width`, `coords`,
//! `f`/`Accept`, `resolution-x`...), and the geometry helpers on what `coords` gives.
#![no_main]

use datagate::edr::geometry::{self, Geometry};
use datagate::edr::params::{self, Format, Params};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let p = Params::parse(Some(query));
    let mut headers = http::HeaderMap::new();
    if let Some(accept) = p.get("accept")
        && let Ok(v) = http::HeaderValue::from_str(accept)
    {
        headers.insert(http::header::ACCEPT, v);
    }
    let _ = p.format(&headers, Format::CovJson);
    let _ = p.only(&["coords", "within", "within-units", "bbox"]);
    let _ = p.parameter_names();
    for name in ["resolution-x", "resolution-y", "resolution-z", "limit"] {
        let _ = p.count(name);
    }
    if let Some(v) = p.get("datetime") {
        let _ = params::parse_datetime(v);
    }
    if let Some(v) = p.get("z") {
        let _ = params::parse_z(v);
    }
    if let Some(v) = p.get("bbox") {
        let _ = params::parse_bbox(v);
    }
    for (value, units) in [
        ("within", "within-units"),
        ("corridor-width", "width-units"),
    ] {
        if let Ok(Some(x)) = p.number(value) {
            let _ = params::distance_km(x, p.get(units), value);
        }
    }
    if let Some(coords) = p.get("coords")
        && let Ok(g) = geometry::parse(coords)
    {
        match &g {
            Geometry::Points(pts) | Geometry::Line(pts) => {
                let _ = geometry::bounds(pts);
                let _ = geometry::distance_to_line_km(pts, 10.0, 20.0);
            }
            Geometry::Polygons(polys) => {
                for poly in polys {
                    let _ = geometry::polygon_contains(poly, 10.0, 20.0);
                    let _ = geometry::bounds(poly.iter().flatten());
                }
            }
        }
    }
});
