//! The ecCodes keys read from each message: the ones cfgrib indexes, groups by and
//! turns into `GRIB_*` attributes, with the types cfgrib gives them (so attributes
//! compare equal with `xr.open_dataset(path, engine="cfgrib")`), and the grid's
//! coordinates, read once per distinct grid.

use std::collections::{BTreeMap, HashMap};

use super::ffi::Message;

/// A key's value, typed as cfgrib reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyValue {
    Int(i64),
    Float(f64),
    Text(String),
}

impl KeyValue {
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            KeyValue::Int(i) => Some(*i as f64),
            KeyValue::Float(f) => Some(*f),
            KeyValue::Text(_) => None,
        }
    }
}

/// Keys read as integers.
const INT_KEYS: &[&str] = &[
    "paramId",
    "numberOfPoints",
    "stepUnits",
    "uvRelativeToGrid",
    "NV",
    "Nx",
    "Ny",
    "N",
    "Ni",
    "Nj",
    "iScansNegatively",
    "jPointsAreConsecutive",
    "jScansPositively",
    "totalNumber",
    "numberOfDirections",
    "numberOfFrequencies",
    "edition",
    "subCentre",
    "number",
    "dataDate",
    "dataTime",
    "endStep",
];

/// Keys read as floating point.
const FLOAT_KEYS: &[&str] = &[
    "level",
    "missingValue",
    "iDirectionIncrementInDegrees",
    "jDirectionIncrementInDegrees",
    "latitudeOfFirstGridPointInDegrees",
    "latitudeOfLastGridPointInDegrees",
    "longitudeOfFirstGridPointInDegrees",
    "longitudeOfLastGridPointInDegrees",
    "angleOfRotationInDegrees",
    "latitudeOfSouthernPoleInDegrees",
    "longitudeOfSouthernPoleInDegrees",
    "LaDInDegrees",
    "LoVInDegrees",
    "DxInMetres",
    "DyInMetres",
    "Latin1InDegrees",
    "Latin2InDegrees",
];

/// Keys read as text.
const TEXT_KEYS: &[&str] = &[
    "dataType",
    "typeOfLevel",
    "stepType",
    "gridType",
    "gridDefinitionDescription",
    "centre",
    "centreDescription",
    "md5GridSection",
];

/// Text keys ecCodes computes from its parameter tables, as it computes `paramId`: each
/// read searches the tables (0.4-0.9 ms a key with Debian's ecCodes 2.28, against
/// ~0.05 ms for all the other keys), so they were most of the time of indexing a file.
/// They follow from the same conditions as `paramId`, so they are read once per
/// parameter of a file (`ParameterNames`).
const PARAMETER_KEYS: &[&str] = &["shortName", "units", "name", "cfName", "cfVarName"];

/// The parameter keys of the parameters met so far in one file, by edition, centre and
/// `paramId` (local parameters' ids are the centre's own).
#[derive(Default)]
pub(crate) struct ParameterNames(HashMap<Parameter, Vec<(&'static str, KeyValue)>>);

/// Edition, centre, `paramId`.
type Parameter = (i64, String, i64);

/// ecCodes' integer for a key coded as "missing" (all bits set).
const MISSING_LONG: i64 = 2147483647;

/// The keys of one message, by name; absent keys are not in the map.
pub(crate) type Keys = BTreeMap<&'static str, KeyValue>;

/// Reads the keys of `m`, the parameter keys from `names` when its parameter was met
/// before. Text `unknown`/`undef` counts as absent, as in cfgrib.
pub(crate) fn read_keys(m: &Message, names: &mut ParameterNames) -> Result<Keys, String> {
    let mut keys = Keys::new();
    for &k in INT_KEYS {
        if let Some(v) = m.long(k)?.filter(|v| *v != MISSING_LONG) {
            keys.insert(k, KeyValue::Int(v));
        }
    }
    for &k in FLOAT_KEYS {
        if let Some(v) = m.double(k)? {
            keys.insert(k, KeyValue::Float(v));
        }
    }
    for &k in TEXT_KEYS {
        if let Some(v) = read_text(m, k)? {
            keys.insert(k, KeyValue::Text(v));
        }
    }
    let parameter = match (keys.get("edition"), keys.get("centre"), keys.get("paramId")) {
        (Some(KeyValue::Int(e)), Some(KeyValue::Text(c)), Some(KeyValue::Int(p))) => {
            Some((*e, c.clone(), *p))
        }
        _ => None,
    };
    let known = parameter.as_ref().and_then(|p| names.0.get(p));
    let values = match known {
        Some(v) => v.clone(),
        None => {
            let mut read = Vec::with_capacity(PARAMETER_KEYS.len());
            for &k in PARAMETER_KEYS {
                if let Some(v) = read_text(m, k)? {
                    read.push((k, KeyValue::Text(v)));
                }
            }
            if let Some(p) = parameter {
                names.0.insert(p, read.clone());
            }
            read
        }
    };
    keys.extend(values);
    Ok(keys)
}

fn read_text(m: &Message, key: &str) -> Result<Option<String>, String> {
    Ok(m.string(key)?.filter(|v| v != "unknown" && v != "undef"))
}

/// How a grid maps to dimensions (cfgrib's rules).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Geography {
    /// Regular lat/lon or regular Gaussian: 1-D `latitude` and `longitude` dimensions.
    Regular { lat: Vec<f64>, lon: Vec<f64> },
    /// Projected grids (Lambert, polar stereographic, rotated...): `y`, `x` dimensions
    /// with 2-D `latitude`, `longitude`.
    Projected {
        ny: usize,
        nx: usize,
        lat: Vec<f64>,
        lon: Vec<f64>,
    },
    /// Anything else (reduced Gaussian...): one `values` dimension, with 1-D latitude
    /// and longitude where ecCodes gives them.
    Points {
        n: usize,
        lat: Option<Vec<f64>>,
        lon: Option<Vec<f64>>,
    },
}

impl Geography {
    /// Number of grid points, the length of one field's values.
    pub(crate) fn points(&self) -> usize {
        match self {
            Geography::Regular { lat, lon } => lat.len() * lon.len(),
            Geography::Projected { ny, nx, .. } => ny * nx,
            Geography::Points { n, .. } => *n,
        }
    }

    /// Dimension names and lengths of one field.
    pub(crate) fn dims(&self) -> Vec<(&'static str, usize)> {
        match self {
            Geography::Regular { lat, lon } => {
                vec![("latitude", lat.len()), ("longitude", lon.len())]
            }
            Geography::Projected { ny, nx, .. } => vec![("y", *ny), ("x", *nx)],
            Geography::Points { n, .. } => vec![("values", *n)],
        }
    }
}

const PROJECTED: &[&str] = &[
    "rotated_ll",
    "rotated_gg",
    "lambert",
    "lambert_azimuthal_equal_area",
    "albers",
    "polar_stereographic",
];

/// Grids given as a list of points whose coordinates ecCodes computes.
const POINT_GRIDS: &[&str] = &[
    "reduced_gg",
    "reduced_ll",
    "reduced_rotated_gg",
    "mercator",
    "transverse_mercator",
    "space_view",
];

/// Upper bound on a Gaussian grid's number N (parallels between a pole and the
/// equator): the finest operational grids have N = 2560. ecCodes computes the
/// latitudes with work growing as N², so a damaged N of millions held a thread for
/// hours (found by fuzzing).
const MAX_GAUSSIAN_N: usize = 4096;

/// A non-negative integer key (a count or a size).
fn count(keys: &Keys, key: &str) -> Option<usize> {
    match keys.get(key) {
        Some(KeyValue::Int(v)) if *v >= 0 => Some(*v as usize),
        _ => None,
    }
}

/// Refuses a grid description that ecCodes' coordinate iterators cannot survive, before
/// they are asked for anything: Debian's ecCodes 2.28 segfaults on a reduced Gaussian
/// grid with corners at -1392° longitude and on a reduced lat-lon grid whose `pl`
/// does not add up to its points, and grinds for hours through a Gaussian number of
/// millions (all found by fuzzing).
fn check_grid_description(
    m: &Message,
    keys: &Keys,
    grid_type: &str,
    n: usize,
) -> Result<(), String> {
    for (key, limit) in [
        ("latitudeOfFirstGridPointInDegrees", 90.0),
        ("latitudeOfLastGridPointInDegrees", 90.0),
        ("longitudeOfFirstGridPointInDegrees", 720.0),
        ("longitudeOfLastGridPointInDegrees", 720.0),
    ] {
        if let Some(KeyValue::Float(v)) = keys.get(key)
            && !(v.is_finite() && v.abs() <= limit)
        {
            return Err(format!("{key} = {v} is out of range"));
        }
    }
    let int = |k: &str| count(keys, k);
    let rows = int("Nj").unwrap_or(0);
    // The most points a row may have: an octahedral Gaussian grid's 4N + 16.
    let mut row_max = n;
    if grid_type.ends_with("_gg") {
        let g = match int("N") {
            Some(g) if (1..=MAX_GAUSSIAN_N).contains(&g) => g,
            g => return Err(format!("Gaussian grid number N = {g:?} is implausible")),
        };
        // Rows: at most the 2N of the whole globe.
        if rows == 0 || rows > 2 * g {
            return Err(format!("{rows} rows on a Gaussian grid of N = {g}"));
        }
        // The first and last rows are Gaussian latitudes (never a pole), about 90/N
        // degrees apart: ecCodes looks them up among the 2N latitudes and segfaulted
        // on a grid from 90° to -90° with N = 1000 and 181 rows (found by fuzzing).
        let lat = |k: &str| keys.get(k).and_then(KeyValue::as_f64);
        if let (Some(first), Some(last)) = (
            lat("latitudeOfFirstGridPointInDegrees"),
            lat("latitudeOfLastGridPointInDegrees"),
        ) {
            let spanned = (first - last).abs() * g as f64 / 90.0 + 1.0;
            let slack = (rows as f64 * 0.01).max(2.0);
            if first.abs() >= 90.0 || last.abs() >= 90.0 || (spanned - rows as f64).abs() > slack {
                return Err(format!(
                    "Gaussian rows from {first}° to {last}° with N = {g} are not {rows} rows"
                ));
            }
        }
        row_max = row_max.min(4 * g + 16);
    }
    if grid_type.starts_with("reduced_") {
        // One count per row, summing to the message's points exactly: ecCodes'
        // iterators write sum(pl) coordinates into arrays of the message's size (a
        // reduced grid over a sub-area of its rows is refused with them).
        let pl = m.doubles("pl", rows)?.ok_or("a reduced grid without pl")?;
        let plausible = rows > 0
            && pl.len() == rows
            && pl
                .iter()
                .all(|&p| p.is_finite() && (0.0..=row_max as f64).contains(&p));
        let sum: f64 = pl.iter().sum();
        if !plausible || sum != n as f64 {
            return Err(format!(
                "pl of {} rows sums to {sum}, message has {n} points in {rows} rows",
                pl.len()
            ));
        }
    }
    Ok(())
}

/// The geography of the grid of `m`, whose keys are `keys`, of at most `max_points`
/// points (the largest operational grids have ~7 million): a few bytes of damaged
/// header claiming 112 million held ecCodes for 27 s and 900 MB (found by fuzzing).
pub(crate) fn read_geography(
    m: &Message,
    keys: &Keys,
    max_points: usize,
) -> Result<Geography, String> {
    let int = |k: &str| count(keys, k);
    let n = int("numberOfPoints").ok_or("no numberOfPoints")?;
    if n > max_points {
        return Err(format!(
            "a grid of {n} points, more than readers.max_decoded_chunk_bytes allows"
        ));
    }
    let grid_type = match keys.get("gridType") {
        Some(KeyValue::Text(t)) => t.as_str(),
        _ => "",
    };
    check_grid_description(m, keys, grid_type, n)?;
    let (ny, nx) = (int("Ny").or(int("Nj")), int("Nx").or(int("Ni")));
    if matches!(grid_type, "regular_ll" | "regular_gg") {
        // Checked before ecCodes computes the coordinates: it iterates over the
        // claimed row and column counts, which a damaged header can make billions.
        let Some((nx, ny)) = nx.zip(ny).filter(|(x, y)| x.checked_mul(*y) == Some(n)) else {
            return Err(format!("grid of {nx:?} × {ny:?} points, message has {n}"));
        };
        let south_to_north = matches!(keys.get("jScansPositively"), Some(KeyValue::Int(1)));
        let (lat, lon) = super::axes::regular_axes(m, nx, ny, south_to_north)?;
        if lat.len().checked_mul(lon.len()) != Some(n) {
            return Err(format!(
                "grid of {} × {} points, message has {n}",
                lat.len(),
                lon.len()
            ));
        }
        return Ok(Geography::Regular { lat, lon });
    }
    if PROJECTED.contains(&grid_type)
        && let (Some(ny), Some(nx)) = (ny, nx)
        && ny.checked_mul(nx) == Some(n)
    {
        let lat = m.doubles("latitudes", n)?.ok_or("no latitudes")?;
        let lon = m.doubles("longitudes", n)?.ok_or("no longitudes")?;
        if lat.len() == n && lon.len() == n {
            return Ok(Geography::Projected { ny, nx, lat, lon });
        }
    }
    // Other grids are a list of points; ecCodes is asked for their coordinates only
    // for types it is known to iterate safely (an `unknown_PLPresent` grid with a
    // damaged row length segfaulted it: found by fuzzing).
    let rows_fit = grid_type.starts_with("reduced_")
        || ny.zip(nx).and_then(|(y, x)| y.checked_mul(x)) == Some(n);
    if !(POINT_GRIDS.contains(&grid_type) && rows_fit) {
        return Ok(Geography::Points {
            n,
            lat: None,
            lon: None,
        });
    }
    let lat = m
        .doubles("latitudes", n)
        .ok()
        .flatten()
        .filter(|v| v.len() == n);
    let lon = m
        .doubles("longitudes", n)
        .ok()
        .flatten()
        .filter(|v| v.len() == n);
    Ok(Geography::Points { n, lat, lon })
}

/// Seconds since 1970-01-01 of `dataDate` (YYYYMMDD) and `dataTime` (HHMM): the
/// forecast reference time, cfgrib's `time`.
pub(crate) fn reference_time(keys: &Keys) -> Result<i64, String> {
    let (Some(KeyValue::Int(date)), Some(KeyValue::Int(time))) =
        (keys.get("dataDate"), keys.get("dataTime"))
    else {
        return Err("no dataDate/dataTime".into());
    };
    let (y, m, d) = (date / 10000, date / 100 % 100, date % 100);
    let (hh, mm) = (time / 100, time % 100);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 24 || mm > 59 {
        return Err(format!("bad date {date} {time:04}"));
    }
    Ok(days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The forecast step in hours (cfgrib's `step`): `endStep` in `stepUnits`.
pub(crate) fn step_hours(keys: &Keys) -> Result<f64, String> {
    let Some(KeyValue::Int(end)) = keys.get("endStep") else {
        return Ok(0.0);
    };
    let unit = match keys.get("stepUnits") {
        Some(KeyValue::Int(u)) => *u,
        _ => 1,
    };
    // Code table 4.4 (GRIB 2; GRIB 1's table 4 agrees on these).
    let hours = match unit {
        0 => 1.0 / 60.0,
        1 => 1.0,
        2 => 24.0,
        10 => 3.0,
        11 => 6.0,
        12 => 12.0,
        13 => 1.0 / 3600.0,
        u => return Err(format!("step unit {u} is not supported")),
    };
    Ok(*end as f64 * hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let mut k = Keys::new();
        k.insert("dataDate", KeyValue::Int(20240102));
        k.insert("dataTime", KeyValue::Int(1230));
        assert_eq!(reference_time(&k), Ok(1704198600));
        k.insert("dataDate", KeyValue::Int(19700101));
        k.insert("dataTime", KeyValue::Int(0));
        assert_eq!(reference_time(&k), Ok(0));
        k.insert("dataDate", KeyValue::Int(20241301));
        assert!(reference_time(&k).is_err());
        k.insert("endStep", KeyValue::Int(90));
        k.insert("stepUnits", KeyValue::Int(0));
        assert_eq!(step_hours(&k), Ok(1.5));
        k.insert("stepUnits", KeyValue::Int(99));
        assert!(step_hours(&k).is_err());
    }
}
