//! EDR query parameters: the query string, then every value parser a query uses
//! (`datetime`, `z`, `bbox`, `within`/`within-units`, `corridor-width`, `coords`,
//! `f`/`Accept`, `resolution-x`...), and the geometry helpers on what `coords` gives.
#![no_main]

use datagate::edr::geometry::{self, Geometry};
use datagate::edr::params::{self, DateTimeSel, Format, Params};
use datagate::model::cf::TimeUnits;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn time_units() -> &'static [TimeUnits] {
    static UNITS: OnceLock<Vec<TimeUnits>> = OnceLock::new();
    UNITS.get_or_init(|| {
        [
            ("hours since 1970-01-01", "standard"),
            ("days since 2000-01-01", "360_day"),
            ("seconds since 1900-01-01", "noleap"),
            ("days since 0001-01-01", "julian"),
        ]
        .iter()
        .map(|(u, c)| TimeUnits::parse(u, Some(c)).expect("time units"))
        .collect()
    })
}

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
    if let Some(v) = p.get("datetime")
        && let Ok(sel) = params::parse_datetime(v)
    {
        // Queries select time steps by encoding the dates in the dataset's units.
        let dates = match sel {
            DateTimeSel::Instant(t) => vec![t],
            DateTimeSel::Interval(a, b) => a.into_iter().chain(b).collect(),
            DateTimeSel::List(l) => l,
        };
        for units in time_units() {
            for t in &dates {
                let _ = units.encode(t);
            }
        }
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
