//! Query-string parameters of the EDR queries: parsed and checked here, applied to a
//! dataset elsewhere.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

use super::error::{EdrError, EdrResult};
use crate::model::cf::CfDateTime;

/// Output formats, from `f` or `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CovJson,
    GeoJson,
    Csv,
    Json,
    Html,
    NetCdf,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::CovJson => "application/prs.coverage+json",
            Format::GeoJson => "application/geo+json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::NetCdf => "application/x-netcdf",
        }
    }

    fn from_f(v: &str) -> Option<Format> {
        Some(match v.to_ascii_lowercase().as_str() {
            "coveragejson"
            | "covjson"
            | "application/prs.coverage+json"
            | "application/vnd.cov+json" => Format::CovJson,
            "geojson" | "application/geo+json" => Format::GeoJson,
            "csv" | "text/csv" => Format::Csv,
            "json" | "application/json" => Format::Json,
            "html" | "text/html" => Format::Html,
            "netcdf" | "nc" | "application/x-netcdf" | "application/netcdf" => Format::NetCdf,
            _ => return None,
        })
    }
}

/// The raw parameters, names lower-cased (first occurrence wins).
#[derive(Debug, Default, Clone)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            map.entry(k.to_ascii_lowercase()).or_insert(v.into_owned());
        }
        Params { map }
    }

    /// These parameters without `names` (those already taken by the collection's
    /// custom dimensions, so that `only` does not call them unknown).
    pub fn without(&self, names: &[String]) -> Params {
        let mut map = self.map.clone();
        for n in names {
            map.remove(&n.to_ascii_lowercase());
        }
        Params { map }
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    pub fn number(&self, name: &str) -> EdrResult<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| EdrError::bad(format!("{name}: not a number: {v:?}"))),
        }
    }

    /// `resolution-x` etc.: a positive count of points.
    pub fn count(&self, name: &str) -> EdrResult<Option<usize>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(EdrError::bad(format!(
                    "{name}: expected a positive whole number of points, got {v:?}"
                ))),
            },
        }
    }

    /// `parameter-name` (or OWSLib's `parameter_names`): comma-separated names.
    pub fn parameter_names(&self) -> Option<Vec<String>> {
        self.get("parameter-name")
            .or_else(|| self.get("parameter_names"))
            .or_else(|| self.get("parameter-names"))
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
    }

    /// The format asked for: `f`, else `Accept`, else `default`.
    pub fn format(&self, headers: &HeaderMap, default: Format) -> EdrResult<Format> {
        if let Some(f) = self.get("f") {
            return Format::from_f(f).ok_or_else(|| {
                EdrError::bad(format!(
                    "f: unknown format {f:?}; use CoverageJSON, GeoJSON, CSV, NetCDF, JSON or HTML"
                ))
            });
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first media type of Accept we can produce, in the client's order.
        for item in accept.split(',') {
            let mt = item
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let f = match mt.as_str() {
                "application/prs.coverage+json" | "application/vnd.cov+json" => Format::CovJson,
                "application/geo+json" => Format::GeoJson,
                "text/csv" => Format::Csv,
                "text/html" => Format::Html,
                "application/x-netcdf" | "application/netcdf" => Format::NetCdf,
                "application/json" => {
                    if default == Format::Html {
                        Format::Json
                    } else {
                        default
                    }
                }
                _ => continue,
            };
            return Ok(f);
        }
        Ok(default)
    }

    /// Checks that no unknown parameter is given (a typo should not be silently
    /// ignored).
    pub fn only(&self, allowed: &[&str]) -> EdrResult<()> {
        const COMMON: &[&str] = &[
            "f",
            "crs",
            "datetime",
            "parameter-name",
            "parameter_names",
            "parameter-names",
            "z",
        ];
        for k in self.map.keys() {
            if !allowed.contains(&k.as_str()) && !COMMON.contains(&k.as_str()) {
                return Err(EdrError::bad(format!(
                    "unknown parameter {k:?} for this query; known: {}",
                    [COMMON, allowed].concat().join(", ")
                )));
            }
        }
        if let Some(crs) = self.get("crs") {
            let ok = matches!(
                crs.to_ascii_uppercase().as_str(),
                "CRS84" | "OGC:CRS84" | "EPSG:4326" | "[OGC:CRS84]"
            ) || crs.ends_with("/OGC/1.3/CRS84")
                || crs.ends_with("/EPSG/0/4326");
            if !ok {
                return Err(EdrError::bad(format!(
                    "crs: only CRS84 is supported, got {crs:?}"
                )));
            }
        }
        Ok(())
    }
}

/// `datetime`: an instant, an interval (open at either end with `..` or nothing),
/// or a list of instants.
#[derive(Debug, Clone, PartialEq)]
pub enum DateTimeSel {
    Instant(CfDateTime),
    Interval(Option<CfDateTime>, Option<CfDateTime>),
    List(Vec<CfDateTime>),
}

fn instant(s: &str) -> EdrResult<CfDateTime> {
    let s = s.trim();
    // A date must start with a year: reject things CfDateTime would read as a year.
    let starts_ok = s
        .trim_start_matches('-')
        .chars()
        .take(4)
        .all(|c| c.is_ascii_digit())
        && s.trim_start_matches('-').len() >= 4;
    if !starts_ok {
        return Err(EdrError::bad(format!(
            "datetime: not an ISO 8601 date {s:?}"
        )));
    }
    CfDateTime::parse(s).map_err(|_| EdrError::bad(format!("datetime: not an ISO 8601 date {s:?}")))
}

pub fn parse_datetime(v: &str) -> EdrResult<DateTimeSel> {
    let v = v.trim();
    if v.is_empty() {
        return Err(EdrError::bad("datetime is empty"));
    }
    if let Some((a, b)) = v.split_once('/') {
        let end = |s: &str| -> EdrResult<Option<CfDateTime>> {
            let s = s.trim();
            if s.is_empty() || s == ".." {
                Ok(None)
            } else {
                instant(s).map(Some)
            }
        };
        let (lo, hi) = (end(a)?, end(b)?);
        if lo.is_none() && hi.is_none() && !(a.trim() == ".." || b.trim() == "..") {
            return Err(EdrError::bad(
                "datetime: an interval needs at least one end",
            ));
        }
        if let (Some(l), Some(h)) = (&lo, &hi)
            && cmp_dt(l, h) == std::cmp::Ordering::Greater
        {
            return Err(EdrError::bad(format!(
                "datetime: interval start {l} is after its end {h}"
            )));
        }
        return Ok(DateTimeSel::Interval(lo, hi));
    }
    if v.contains(',') {
        let list: EdrResult<Vec<CfDateTime>> = v.split(',').map(instant).collect();
        return Ok(DateTimeSel::List(list?));
    }
    Ok(DateTimeSel::Instant(instant(v)?))
}

fn cmp_dt(a: &CfDateTime, b: &CfDateTime) -> std::cmp::Ordering {
    (a.year, a.month, a.day, a.hour, a.minute)
        .cmp(&(b.year, b.month, b.day, b.hour, b.minute))
        .then(a.second.total_cmp(&b.second))
}

/// `z`: one level, a list, an interval `lo/hi`, or a repeat `Rn/start/step`.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSel {
    Values(Vec<f64>),
    Interval(f64, f64),
}

pub fn parse_z(v: &str) -> EdrResult<ZSel> {
    let bad = || {
        EdrError::bad(format!(
            "z: expected a level, a list, lo/hi or Rn/start/step: {v:?}"
        ))
    };
    let num = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
    let v = v.trim();
    if let Some(rest) = v.strip_prefix(['R', 'r']) {
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let n: usize = parts[0].trim().parse().map_err(|_| bad())?;
        let (start, step) = (
            num(parts[1]).ok_or_else(bad)?,
            num(parts[2]).ok_or_else(bad)?,
        );
        if n == 0 || n > 100_000 {
            return Err(bad());
        }
        return Ok(ZSel::Values(
            (0..n).map(|k| start + step * k as f64).collect(),
        ));
    }
    if let Some((a, b)) = v.split_once('/') {
        let (a, b) = (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?);
        return Ok(ZSel::Interval(a.min(b), a.max(b)));
    }
    let vals: Option<Vec<f64>> = v.split(',').map(num).collect();
    match vals {
        Some(v) if !v.is_empty() => Ok(ZSel::Values(v)),
        _ => Err(bad()),
    }
}

/// West, south, east, north, and the z range of a 6-number bbox.
pub type BBox = (f64, f64, f64, f64, Option<(f64, f64)>);

/// `bbox=minx,miny,maxx,maxy` (or 6 numbers with z).
pub fn parse_bbox(v: &str) -> EdrResult<BBox> {
    let nums: Option<Vec<f64>> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    let bad = || EdrError::bad(format!("bbox: expected minx,miny,maxx,maxy: {v:?}"));
    let nums = nums.ok_or_else(bad)?;
    let (w, s, e, n, z) = match nums.as_slice() {
        [w, s, e, n] => (*w, *s, *e, *n, None),
        [w, s, z0, e, n, z1] => (*w, *s, *e, *n, Some((*z0, *z1))),
        _ => return Err(bad()),
    };
    if s > n || !(-90.0..=90.0).contains(&s) || !(-90.0..=90.0).contains(&n) {
        return Err(EdrError::bad(format!(
            "bbox: latitudes must be within -90..90 with miny <= maxy: {v:?}"
        )));
    }
    Ok((w, s, e, n, z))
}

/// A distance with its units (`within-units`, `corridor-width` + `width-units`) in km.
pub fn distance_km(value: f64, units: Option<&str>, what: &str) -> EdrResult<f64> {
    let factor = match units.map(|u| u.trim().to_ascii_lowercase()).as_deref() {
        None | Some("km") | Some("kilometers") | Some("kilometres") => 1.0,
        Some("m") | Some("meters") | Some("metres") => 0.001,
        Some("mi") | Some("miles") => 1.609344,
        Some("nm") | Some("nmi") | Some("nautical miles") => 1.852,
        Some(u) => {
            return Err(EdrError::bad(format!(
                "{what}: unknown distance unit {u:?}; use km, m, mi or nmi"
            )));
        }
    };
    if value < 0.0 {
        return Err(EdrError::bad(format!("{what} must not be negative")));
    }
    Ok(value * factor)
}

/// Distance units the queries accept (advertised in the metadata).
pub const DISTANCE_UNITS: &[&str] = &["km", "m", "mi", "nmi"];

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> CfDateTime {
        CfDateTime::parse(s).unwrap()
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            parse_datetime("2000-01-01T00:00:00Z").unwrap(),
            DateTimeSel::Instant(dt("2000-01-01"))
        );
        assert_eq!(
            parse_datetime("2000-01-01/2000-02-01T12:00Z").unwrap(),
            DateTimeSel::Interval(Some(dt("2000-01-01")), Some(dt("2000-02-01T12:00")))
        );
        assert_eq!(
            parse_datetime("../2000-02-01").unwrap(),
            DateTimeSel::Interval(None, Some(dt("2000-02-01")))
        );
        assert_eq!(
            parse_datetime("2000-02-01/..").unwrap(),
            DateTimeSel::Interval(Some(dt("2000-02-01")), None)
        );
        assert_eq!(
            parse_datetime("2000-02-01/").unwrap(),
            DateTimeSel::Interval(Some(dt("2000-02-01")), None)
        );
        assert_eq!(
            parse_datetime("2000-01-01,2000-03-01").unwrap(),
            DateTimeSel::List(vec![dt("2000-01-01"), dt("2000-03-01")])
        );
        for bad in [
            "",
            "yesterday",
            "2000-13-01",
            "2000-01-01/1999-01-01",
            "12",
            "2000-01-01,x",
            "/",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn levels_and_boxes() {
        assert_eq!(parse_z("10").unwrap(), ZSel::Values(vec![10.0]));
        assert_eq!(parse_z("0,50").unwrap(), ZSel::Values(vec![0.0, 50.0]));
        assert_eq!(parse_z("50/0").unwrap(), ZSel::Interval(0.0, 50.0));
        assert_eq!(
            parse_z("R3/0/10").unwrap(),
            ZSel::Values(vec![0.0, 10.0, 20.0])
        );
        assert!(parse_z("ten").is_err());
        assert_eq!(
            parse_bbox("-10,-5,10,5").unwrap(),
            (-10.0, -5.0, 10.0, 5.0, None)
        );
        assert!(parse_bbox("1,2,3").is_err());
        assert!(parse_bbox("0,10,1,5").is_err());
        assert_eq!(distance_km(1000.0, Some("m"), "within").unwrap(), 1.0);
        assert!(distance_km(1.0, Some("parsec"), "within").is_err());
    }

    #[test]
    fn formats() {
        let mut h = HeaderMap::new();
        let p = Params::parse(Some("f=CoverageJSON&parameter_names=a,b"));
        assert_eq!(p.format(&h, Format::Html).unwrap(), Format::CovJson);
        assert_eq!(p.parameter_names().unwrap(), vec!["a", "b"]);
        let p = Params::parse(None);
        h.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml".parse().unwrap(),
        );
        assert_eq!(p.format(&h, Format::Json).unwrap(), Format::Html);
        h.insert(header::ACCEPT, "*/*".parse().unwrap());
        assert_eq!(p.format(&h, Format::CovJson).unwrap(), Format::CovJson);
        h.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert_eq!(p.format(&h, Format::Html).unwrap(), Format::Json);
        assert!(
            Params::parse(Some("f=xml"))
                .format(&h, Format::Json)
                .is_err()
        );
    }
}
