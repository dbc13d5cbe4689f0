//! Coordinate reference systems of GetMap/GetFeatureInfo: parsing, the 1.3.0 axis
//! order, and map coordinates ↔ longitude/latitude. CRS:84, EPSG:4326 and Web Mercator
//! are done in closed form; other EPSG codes through `proj4rs`.

use std::sync::Arc;

use proj4rs::Proj;
use proj4rs::adaptors::transform_vertex_2d;

use super::Version;
use super::error::{ExceptionCode, WmsError};

/// Sphere radius of Web Mercator (EPSG:3857), metres.
const R: f64 = 6_378_137.0;
/// Latitude limit of Web Mercator's square world.
pub const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// CRSs advertised in capabilities (all accepted by GetMap; other EPSG codes that
/// `proj4rs` knows are accepted too).
pub const ADVERTISED: &[&str] = &[
    "CRS:84",
    "EPSG:4326",
    "EPSG:3857",
    "EPSG:3395",
    "EPSG:3413",
    "EPSG:3031",
];

#[derive(Clone)]
enum Kind {
    Crs84,
    /// Geographic WGS 84; latitude first in WMS 1.3.0.
    Epsg4326,
    WebMercator,
    Proj {
        proj: Arc<Proj>,
        wgs84: Arc<Proj>,
        latlong: bool,
    },
}

/// A parsed CRS.
#[derive(Clone)]
pub struct Crs {
    pub name: String,
    kind: Kind,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Crs {
    pub fn parse(name: &str) -> Result<Crs, WmsError> {
        let upper = name.trim().to_ascii_uppercase();
        let invalid = || {
            WmsError::new(
                ExceptionCode::InvalidCrs,
                format!("unsupported CRS {name:?}"),
            )
        };
        let kind = match upper.as_str() {
            "CRS:84" | "OGC:CRS84" => Kind::Crs84,
            "EPSG:4326" => Kind::Epsg4326,
            "EPSG:3857" | "EPSG:900913" | "EPSG:3785" | "EPSG:102100" | "EPSG:102113" => {
                Kind::WebMercator
            }
            _ => {
                let code: u16 = upper
                    .strip_prefix("EPSG:")
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(invalid)?;
                let proj = Proj::from_epsg_code(code).map_err(|_| invalid())?;
                let wgs84 = Proj::from_epsg_code(4326).map_err(|_| invalid())?;
                Kind::Proj {
                    latlong: proj.is_latlong(),
                    proj: Arc::new(proj),
                    wgs84: Arc::new(wgs84),
                }
            }
        };
        Ok(Crs { name: upper, kind })
    }

    /// True when this version of WMS gives this CRS's coordinates latitude first.
    pub fn lat_first(&self, version: Version) -> bool {
        version == Version::V130
            && match &self.kind {
                Kind::Epsg4326 => true,
                Kind::Proj { latlong, .. } => *latlong,
                _ => false,
            }
    }

    /// A request's BBOX as (min east, min north, max east, max north).
    pub fn bbox_xy(&self, version: Version, b: [f64; 4]) -> [f64; 4] {
        if self.lat_first(version) {
            [b[1], b[0], b[3], b[2]]
        } else {
            b
        }
    }

    /// Longitude depends on x only and latitude on y only: rows and columns of an
    /// image can be located once each.
    pub fn is_separable(&self) -> bool {
        !matches!(self.kind, Kind::Proj { latlong: false, .. })
    }

    /// Longitude of map x (separable CRSs).
    pub fn x_to_lon(&self, x: f64) -> f64 {
        match self.kind {
            Kind::WebMercator => (x / R).to_degrees(),
            _ => x,
        }
    }

    /// Latitude of map y (separable CRSs); NaN outside the world.
    pub fn y_to_lat(&self, y: f64) -> f64 {
        match self.kind {
            Kind::WebMercator => (y / R).sinh().atan().to_degrees(),
            _ if (-90.0..=90.0).contains(&y) => y,
            _ => f64::NAN,
        }
    }

    /// (lon, lat) of a map point (x east, y north); `None` outside the projection.
    pub fn to_lonlat(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Proj {
                proj,
                wgs84,
                latlong: false,
            } => {
                let (lon, lat) = transform_vertex_2d(proj, wgs84, (x, y)).ok()?;
                let (lon, lat) = (lon.to_degrees(), lat.to_degrees());
                (lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0).then_some((lon, lat))
            }
            _ => {
                let lat = self.y_to_lat(y);
                (!lat.is_nan()).then(|| (self.x_to_lon(x), lat))
            }
        }
    }

    /// Map point (x east, y north) of a (lon, lat); `None` where it has none.
    pub fn from_lonlat(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Crs84 | Kind::Epsg4326 => Some((lon, lat)),
            Kind::WebMercator => {
                let lat = lat.clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT).to_radians();
                Some((lon.to_radians() * R, (lat.tan() + 1.0 / lat.cos()).ln() * R))
            }
            Kind::Proj {
                proj,
                wgs84,
                latlong,
            } => {
                if *latlong {
                    return Some((lon, lat));
                }
                let (x, y) =
                    transform_vertex_2d(wgs84, proj, (lon.to_radians(), lat.to_radians())).ok()?;
                (x.is_finite() && y.is_finite()).then_some((x, y))
            }
        }
    }
}

/// The Web Mercator bbox (min x, min y, max x, max y) of XYZ tile `z/x/y`.
pub fn tile_bbox(z: u32, x: u32, y: u32) -> Option<[f64; 4]> {
    if z > 30 {
        return None;
    }
    let n = (1u64 << z) as f64;
    if x as f64 >= n || y as f64 >= n {
        return None;
    }
    let size = 2.0 * std::f64::consts::PI * R / n;
    let min_x = -std::f64::consts::PI * R + x as f64 * size;
    let max_y = std::f64::consts::PI * R - y as f64 * size;
    Some([min_x, max_y - size, min_x + size, max_y])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_order() {
        let c = Crs::parse("epsg:4326").unwrap();
        assert_eq!(
            c.bbox_xy(Version::V130, [-10.0, 20.0, 30.0, 40.0]),
            [20.0, -10.0, 40.0, 30.0]
        );
        assert_eq!(
            c.bbox_xy(Version::V111, [20.0, -10.0, 40.0, 30.0]),
            [20.0, -10.0, 40.0, 30.0]
        );
        let c84 = Crs::parse("CRS:84").unwrap();
        assert_eq!(
            c84.bbox_xy(Version::V130, [20.0, -10.0, 40.0, 30.0]),
            [20.0, -10.0, 40.0, 30.0]
        );
        assert!(!Crs::parse("EPSG:3857").unwrap().lat_first(Version::V130));
        let e = Crs::parse("EPSG:99999").unwrap_err();
        assert_eq!(e.code, Some(ExceptionCode::InvalidCrs));
        assert!(Crs::parse("FOO").is_err());
    }

    #[test]
    fn web_mercator_round_trip() {
        let c = Crs::parse("EPSG:3857").unwrap();
        let (x, y) = c.from_lonlat(10.0, 50.0).unwrap();
        assert!((x - 1_113_194.907_932_735_7).abs() < 1e-3, "{x}");
        assert!((y - 6_446_275.841_017_158).abs() < 1e-3, "{y}");
        let (lon, lat) = c.to_lonlat(x, y).unwrap();
        assert!((lon - 10.0).abs() < 1e-9 && (lat - 50.0).abs() < 1e-9);
        assert!(c.is_separable());
        // The whole world at zoom 0.
        let b = tile_bbox(0, 0, 0).unwrap();
        assert!((b[2] - 20_037_508.342_789_244).abs() < 1e-6);
        assert!((c.y_to_lat(b[3]) - MERCATOR_MAX_LAT).abs() < 1e-9);
        assert_eq!(tile_bbox(1, 2, 0), None);
    }

    #[test]
    fn polar_stereographic_via_proj4rs() {
        let c = Crs::parse("EPSG:3413").unwrap();
        assert!(!c.is_separable());
        // The pole is the origin.
        let (lon, lat) = c.to_lonlat(0.0, 0.0).unwrap();
        assert!((lat - 90.0).abs() < 1e-6, "{lon} {lat}");
        let (x, y) = c.from_lonlat(-45.0, 70.0).unwrap();
        let (lon, lat) = c.to_lonlat(x, y).unwrap();
        assert!(
            (lon + 45.0).abs() < 1e-6 && (lat - 70.0).abs() < 1e-6,
            "{lon} {lat}"
        );
    }
}
