//! Georeferencing of a GeoTIFF: the pixel-to-model affine transform (from
//! ModelPixelScale + ModelTiepoint or ModelTransformation, corrected for PixelIsPoint
//! the way GDAL does) and the CRS from the GeoKey directory, as an EPSG code.

use std::sync::Arc;

use proj4rs::Proj;
use proj4rs::adaptors::transform_vertex_2d;

use super::image::GeoTags;

const GT_MODEL_TYPE: u64 = 1024;
const GT_RASTER_TYPE: u64 = 1025;
const GEOGRAPHIC_TYPE: u64 = 2048;
const PROJECTED_CS_TYPE: u64 = 3072;
/// GeoKey value meaning "user-defined": no EPSG code.
const USER_DEFINED: u64 = 32767;

/// The CRS of a raster, where an EPSG code names it.
#[derive(Clone)]
pub(super) struct Crs {
    pub epsg: u16,
    pub geographic: bool,
    /// Projection of the CRS and WGS 84, for the 2-D longitudes and latitudes of a
    /// projected raster (`None` if `proj4rs` does not know the code).
    pub to_lonlat: Option<(Arc<Proj>, Arc<Proj>)>,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EPSG:{} (geographic: {})", self.epsg, self.geographic)
    }
}

impl Crs {
    /// Longitude and latitude in degrees of a point in the CRS's coordinates.
    pub fn lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        if self.geographic {
            return (x, y);
        }
        match &self.to_lonlat {
            Some((proj, wgs84)) => match transform_vertex_2d(proj, wgs84, (x, y)) {
                Ok((lon, lat)) => (lon.to_degrees(), lat.to_degrees()),
                Err(_) => (f64::NAN, f64::NAN),
            },
            None => (f64::NAN, f64::NAN),
        }
    }
}

/// Where pixels lie: `x = origin_x + (col + 0.5) * step_x` at pixel centres, and the
/// same for `y` with rows.
#[derive(Debug, Clone)]
pub(super) struct Georef {
    pub origin_x: f64,
    pub step_x: f64,
    pub origin_y: f64,
    pub step_y: f64,
    /// GTRasterTypeGeoKey said PixelIsPoint (GDAL's `AREA_OR_POINT=Point`).
    pub pixel_is_point: bool,
    pub crs: Option<Crs>,
}

impl Georef {
    /// The georeferencing of an image's tags; an error for rotated or sheared
    /// transforms, which 1-D `x`/`y` coordinates cannot describe.
    pub fn of(tags: &GeoTags) -> Result<Georef, String> {
        let keys = geo_keys(tags.geo_keys.as_deref().unwrap_or(&[]));
        let key = |id| keys.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        let pixel_is_point = key(GT_RASTER_TYPE) == Some(2);
        let (mut ox, sx, rx, mut oy, ry, sy) = if let Some(m) = &tags.transformation {
            if m.len() < 16 {
                return Err("ModelTransformation with fewer than 16 values".into());
            }
            (m[3], m[0], m[1], m[7], m[4], m[5])
        } else if let (Some(scale), Some(tie)) = (&tags.pixel_scale, &tags.tiepoints) {
            if scale.len() < 2 || tie.len() < 6 {
                return Err("ModelPixelScale or ModelTiepoint too short".into());
            }
            (
                tie[3] - tie[0] * scale[0],
                scale[0],
                0.0,
                tie[4] + tie[1] * scale[1],
                0.0,
                -scale[1],
            )
        } else {
            // No georeferencing: pixel indices, as GDAL and rasterio give them.
            (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
        };
        if rx != 0.0 || ry != 0.0 {
            return Err("a rotated or sheared raster".into());
        }
        if ![ox, sx, oy, sy].iter().all(|v| v.is_finite()) || sx == 0.0 || sy == 0.0 {
            return Err("a degenerate geotransform".into());
        }
        if pixel_is_point {
            // The tie point is a pixel's centre: GDAL moves the origin to its corner.
            ox -= 0.5 * sx;
            oy -= 0.5 * sy;
        }
        Ok(Georef {
            origin_x: ox,
            step_x: sx,
            origin_y: oy,
            step_y: sy,
            pixel_is_point,
            crs: crs_of(
                key(GT_MODEL_TYPE),
                key(PROJECTED_CS_TYPE),
                key(GEOGRAPHIC_TYPE),
            ),
        })
    }

    pub fn x(&self, col: usize) -> f64 {
        self.origin_x + (col as f64 + 0.5) * self.step_x
    }

    pub fn y(&self, row: usize) -> f64 {
        self.origin_y + (row as f64 + 0.5) * self.step_y
    }
}

/// The (key, value) pairs of a GeoKeyDirectory whose value is stored inline.
fn geo_keys(dir: &[u64]) -> Vec<(u64, u64)> {
    let Some(&n) = dir.get(3) else {
        return Vec::new();
    };
    dir[4..]
        .chunks_exact(4)
        .take(n as usize)
        .filter(|k| k[1] == 0)
        .map(|k| (k[0], k[3]))
        .collect()
}

fn crs_of(model: Option<u64>, projected: Option<u64>, geographic: Option<u64>) -> Option<Crs> {
    let valid = |c: Option<u64>| c.filter(|&c| c > 0 && c != USER_DEFINED && c <= u16::MAX as u64);
    let (code, is_geographic) = match (model, valid(projected), valid(geographic)) {
        (Some(2), _, Some(g)) | (None, None, Some(g)) => (g, true),
        (_, Some(p), _) => (p, false),
        (Some(1), None, _) => return None,
        (_, None, Some(g)) => (g, true),
        _ => return None,
    };
    let code = code as u16;
    let to_lonlat = if is_geographic {
        None
    } else {
        match (Proj::from_epsg_code(code), Proj::from_epsg_code(4326)) {
            (Ok(p), Ok(w)) => Some((Arc::new(p), Arc::new(w))),
            _ => None,
        }
    };
    Some(Crs {
        epsg: code,
        geographic: is_geographic,
        to_lonlat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(keys: Vec<u64>) -> GeoTags {
        GeoTags {
            pixel_scale: Some(vec![0.5, 0.25, 0.0]),
            tiepoints: Some(vec![0.0, 0.0, 0.0, -10.0, 50.0, 0.0]),
            geo_keys: Some(keys),
            ..Default::default()
        }
    }

    #[test]
    fn geographic_area_raster() {
        let g = Georef::of(&tags(vec![1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326])).unwrap();
        assert_eq!((g.x(0), g.y(0)), (-9.75, 49.875));
        let crs = g.crs.unwrap();
        assert!(crs.geographic);
        assert_eq!(crs.epsg, 4326);
        assert_eq!(crs.lonlat(3.0, 4.0), (3.0, 4.0));
    }

    #[test]
    fn projected_point_raster() {
        let keys = vec![1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2, 3072, 0, 1, 3857];
        let g = Georef::of(&tags(keys)).unwrap();
        assert!(g.pixel_is_point);
        // The tie point is the first pixel's centre.
        assert_eq!((g.x(0), g.y(0)), (-10.0, 50.0));
        let crs = g.crs.unwrap();
        assert!(!crs.geographic);
        let (lon, lat) = crs.lonlat(1_113_194.9, 0.0);
        assert!((lon - 10.0).abs() < 1e-3 && lat.abs() < 1e-6, "{lon} {lat}");
    }

    #[test]
    fn rotated_and_missing() {
        let mut t = tags(vec![]);
        t.transformation = Some(vec![
            1.0, 0.5, 0.0, 0.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
        ]);
        assert!(Georef::of(&t).is_err());
        let g = Georef::of(&GeoTags::default()).unwrap();
        assert_eq!((g.x(2), g.y(1)), (2.5, 1.5));
        assert!(g.crs.is_none());
        // A truncated key directory is ignored, not a panic.
        assert!(
            Georef::of(&tags(vec![1, 1, 0, 9, 1024]))
                .unwrap()
                .crs
                .is_none()
        );
    }
}
