//! The coordinate variables cfgrib makes of GRIB keys, with its names, attributes and
//! encodings: `number`, `time` (seconds since 1970, proleptic Gregorian), `step`
//! (hours), the level named by `typeOfLevel`, `latitude`/`longitude`, `valid_time`.

use crate::model::{AttrValue, Attribute};

use super::keys::Geography;

/// A coordinate's values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CoordValues {
    /// Ensemble numbers (32 bits: DAP2 has no 64-bit integers).
    I32(Vec<i32>),
    F64(Vec<f64>),
}

impl CoordValues {
    pub(crate) fn len(&self) -> usize {
        match self {
            CoordValues::I32(v) => v.len(),
            CoordValues::F64(v) => v.len(),
        }
    }
}

/// One coordinate variable; `dims` empty for a scalar coordinate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Coord {
    pub name: String,
    pub dims: Vec<(String, usize)>,
    pub values: CoordValues,
    pub attrs: Vec<Attribute>,
}

fn text(name: &str, value: &str) -> Attribute {
    Attribute::new(name, AttrValue::Text(value.to_string()))
}

/// cfgrib's `COORD_ATTRS` for a coordinate name (without the generic fallback).
fn known_attrs(name: &str) -> Option<Vec<(&'static str, &'static str)>> {
    let pressure = |units| {
        vec![
            ("units", units),
            ("positive", "down"),
            ("stored_direction", "decreasing"),
            ("standard_name", "air_pressure"),
            ("long_name", "pressure"),
        ]
    };
    let depth = vec![
        ("units", "m"),
        ("positive", "down"),
        ("long_name", "soil depth"),
        ("standard_name", "depth"),
    ];
    Some(match name {
        "depthBelowLand" | "depthBelowLandLayer" => depth,
        "hybrid" => vec![
            ("units", "1"),
            ("positive", "down"),
            ("long_name", "hybrid level"),
            (
                "standard_name",
                "atmosphere_hybrid_sigma_pressure_coordinate",
            ),
        ],
        "heightAboveGround" => vec![
            ("units", "m"),
            ("positive", "up"),
            ("long_name", "height above the surface"),
            ("standard_name", "height"),
        ],
        "isobaricInhPa" => pressure("hPa"),
        "isobaricInPa" => pressure("Pa"),
        "isobaricLayer" => vec![
            ("units", "Pa"),
            ("positive", "down"),
            ("standard_name", "air_pressure"),
            ("long_name", "pressure"),
        ],
        "number" => vec![
            ("units", "1"),
            ("standard_name", "realization"),
            ("long_name", "ensemble member numerical id"),
        ],
        "step" => vec![
            ("units", "hours"),
            ("standard_name", "forecast_period"),
            ("long_name", "time since forecast_reference_time"),
        ],
        "time" => vec![
            ("units", "seconds since 1970-01-01T00:00:00"),
            ("calendar", "proleptic_gregorian"),
            ("standard_name", "forecast_reference_time"),
            ("long_name", "initial time of forecast"),
        ],
        "valid_time" => vec![
            ("units", "seconds since 1970-01-01T00:00:00"),
            ("calendar", "proleptic_gregorian"),
            ("standard_name", "time"),
            ("long_name", "time"),
        ],
        "latitude" => vec![
            ("units", "degrees_north"),
            ("standard_name", "latitude"),
            ("long_name", "latitude"),
        ],
        "longitude" => vec![
            ("units", "degrees_east"),
            ("standard_name", "longitude"),
            ("long_name", "longitude"),
        ],
        _ => return None,
    })
}

/// Attributes of a header coordinate (`key` is the GRIB key it comes from), as
/// cfgrib writes them: a generic long name and units, overridden by the known ones.
pub(crate) fn header_attrs(name: &str, key: &str) -> Vec<Attribute> {
    let mut attrs = vec![
        text(
            "long_name",
            &format!("original GRIB coordinate for key: {key}({name})"),
        ),
        text("units", "1"),
    ];
    for (k, v) in known_attrs(name).unwrap_or_default() {
        match attrs.iter_mut().find(|a| a.name == k) {
            Some(a) => a.value = AttrValue::Text(v.to_string()),
            None => attrs.push(text(k, v)),
        }
    }
    attrs
}

/// True if the coordinate is stored in decreasing order (pressure levels).
pub(crate) fn decreasing(name: &str) -> bool {
    known_attrs(name).is_some_and(|a| a.contains(&("stored_direction", "decreasing")))
}

/// The header coordinate `name` over `values` (sorted already): a dimension of its
/// own, or a scalar when it has one value (cfgrib squeezes those).
pub(crate) fn header_coord(name: &str, key: &str, values: CoordValues) -> Coord {
    let n = values.len();
    Coord {
        name: name.to_string(),
        dims: if n == 1 {
            vec![]
        } else {
            vec![(name.to_string(), n)]
        },
        values,
        attrs: header_attrs(name, key),
    }
}

fn named_attrs(name: &str) -> Vec<Attribute> {
    known_attrs(name)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| text(k, v))
        .collect()
}

/// `valid_time` = `time` + `step`, over whichever of them are dimensions.
pub(crate) fn valid_time(time: &Coord, step: &Coord) -> Option<Coord> {
    let (CoordValues::F64(t), CoordValues::F64(s)) = (&time.values, &step.values) else {
        return None;
    };
    let mut values = Vec::with_capacity(t.len() * s.len());
    for &t in t {
        for &s in s {
            values.push(t + s * 3600.0);
        }
    }
    Some(Coord {
        name: "valid_time".into(),
        dims: time.dims.iter().chain(&step.dims).cloned().collect(),
        values: CoordValues::F64(values),
        attrs: named_attrs("valid_time"),
    })
}

/// The latitude and longitude coordinates of a grid.
pub(crate) fn geo_coords(geo: &Geography) -> Vec<Coord> {
    let dims: Vec<(String, usize)> = geo
        .dims()
        .into_iter()
        .map(|(n, l)| (n.to_string(), l))
        .collect();
    let coord = |name: &str, dims: Vec<(String, usize)>, v: &[f64]| Coord {
        name: name.to_string(),
        dims,
        values: CoordValues::F64(v.to_vec()),
        attrs: named_attrs(name),
    };
    match geo {
        Geography::Regular { lat, lon } => {
            let mut latitude = coord("latitude", vec![dims[0].clone()], lat);
            if lat.first() > lat.last() {
                latitude.attrs.push(text("stored_direction", "decreasing"));
            }
            vec![latitude, coord("longitude", vec![dims[1].clone()], lon)]
        }
        Geography::Projected { lat, lon, .. } => {
            vec![
                coord("latitude", dims.clone(), lat),
                coord("longitude", dims, lon),
            ]
        }
        Geography::Points { lat, lon, .. } => match (lat, lon) {
            (Some(lat), Some(lon)) => {
                vec![
                    coord("latitude", dims.clone(), lat),
                    coord("longitude", dims, lon),
                ]
            }
            _ => vec![],
        },
    }
}
