//! The spatial and temporal extent of a dataset, from its CF coordinates: what discovery
//! (STAC items, catalog listings) says about a file.

use super::Dataset;
use crate::model::acdd::DeclaredExtent;
use crate::model::cf::{self, Axis, CfDateTime};
use crate::model::{DatasetMeta, Variable};
use crate::readers::ReadError;
use crate::subset::{BBox, Hyperslab};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatasetExtent {
    /// Longitudes in -180..180.
    pub bbox: Option<BBox>,
    /// First and last time.
    pub time: Option<(CfDateTime, CfDateTime)>,
    /// The outline of 2-D longitudes and latitudes (a swath, a curvilinear grid):
    /// polygons' outer rings, split at the antimeridian. `None` for 1-D axes, whose
    /// footprint is their box.
    pub footprint: Option<Vec<Vec<[f64; 2]>>>,
}

fn finite_min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite() && v.abs() < 1e30)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The valid time of `var` where it is not its time dimension: a coordinate named in
/// its `coordinates` attribute with standard name `time`, of any shape (a forecast's
/// `valid_time` over reference time × step, whose time axis is the reference time).
fn valid_time<'m>(meta: &'m DatasetMeta, var: &Variable) -> Option<&'m Variable> {
    let names = var.attr("coordinates")?.as_text()?;
    names
        .split_whitespace()
        .filter_map(|n| {
            let group = var.group_path().trim_end_matches('/');
            meta.variable(&format!("{group}/{n}"))
        })
        .find(|c| c.attr("standard_name").and_then(|a| a.as_text()).as_deref() == Some("time"))
}

impl Dataset {
    /// All values of a variable, unpacked, missing values as NaN.
    async fn physical_values(&self, var: &Variable) -> Result<Vec<f64>, ReadError> {
        let a = self.read(&var.path, &Hyperslab::full(&var.shape())).await?;
        Ok(cf::Packing::of(var).decode_values(&a.values))
    }

    /// The box of longitudes and latitudes, and the outline of 2-D ones.
    async fn horizontal_extent(
        &self,
        lon: &Variable,
        lat: &Variable,
    ) -> Result<(Option<BBox>, Option<Vec<Vec<[f64; 2]>>>), ReadError> {
        let (xs, ys) = (
            self.physical_values(lon).await?,
            self.physical_values(lat).await?,
        );
        let bbox = match (
            finite_min_max(xs.iter().copied()),
            finite_min_max(ys.iter().copied()),
        ) {
            // Finite by construction, so never rejected.
            (Some((w, e)), Some((s, n))) => BBox::of_data(w, s, e, n).ok(),
            _ => None,
        };
        let same_dims = lon.dims.len() == 2
            && lat
                .dims
                .iter()
                .map(|d| &d.path)
                .eq(lon.dims.iter().map(|d| &d.path));
        let footprint = match lon.shape().as_slice() {
            [rows, cols] if same_dims && bbox.is_some() => {
                super::footprint::outline(&xs, &ys, *rows, *cols)
            }
            _ => None,
        };
        // A footprint split at the antimeridian: the box crosses it too, from the
        // westmost longitude east of 0 to the eastmost west of 0 (min/max would give the
        // whole circle).
        let bbox = match (&footprint, bbox) {
            (Some(parts), Some(b)) if parts.len() == 2 => {
                let west = finite_min_max(xs.iter().copied().map(signed).filter(|x| *x >= 0.0));
                let east = finite_min_max(xs.iter().copied().map(signed).filter(|x| *x < 0.0));
                match (west, east) {
                    (Some((w, _)), Some((_, e))) => BBox::new(w, b.south(), e, b.north()).ok(),
                    _ => Some(b),
                }
            }
            (_, b) => b,
        };
        Ok((bbox, footprint))
    }

    /// First and last time of a time coordinate of any shape.
    async fn time_span(
        &self,
        tv: &Variable,
    ) -> Result<Option<(CfDateTime, CfDateTime)>, ReadError> {
        let Some(units) = cf::time_units(tv) else {
            return Ok(None);
        };
        if tv.num_elements() == 0 {
            return Ok(None);
        }
        let values = self.physical_values(tv).await?;
        Ok(finite_min_max(values.into_iter())
            .and_then(|(lo, hi)| Some((units.decode(lo)?, units.decode(hi)?))))
    }

    /// The dataset's place and time: from the coordinates of its gridded variable with
    /// most dimensions; else from any longitude/latitude pair and any CF time
    /// coordinate in the file (a swath's `time(row)` that no variable names); else from
    /// the ACDD attributes the file declares.
    pub async fn extent(&self) -> Result<DatasetExtent, ReadError> {
        let mut vars = self.meta.variables();
        vars.sort_by_key(|v| std::cmp::Reverse(v.dims.len()));
        let mut extent = DatasetExtent::default();
        for var in vars {
            let cs = cf::coordinates(&self.meta, var);
            if extent.bbox.is_none()
                && let (Some(x), Some(y)) = (cs.get(Axis::X), cs.get(Axis::Y))
                && let (Some(x), Some(y)) =
                    (self.meta.variable(&x.path), self.meta.variable(&y.path))
            {
                (extent.bbox, extent.footprint) = self.horizontal_extent(x, y).await?;
            }
            if extent.time.is_none()
                && let Some(tv) = valid_time(&self.meta, var)
                    .or_else(|| cs.get(Axis::T).and_then(|t| self.meta.variable(&t.path)))
            {
                extent.time = self.time_span(tv).await?;
            }
            if extent.bbox.is_some() && extent.time.is_some() {
                return Ok(extent);
            }
        }
        if extent.bbox.is_none()
            && let Some((lon, lat)) = cf::longitude_latitude(&self.meta)
        {
            (extent.bbox, extent.footprint) = self.horizontal_extent(lon, lat).await?;
        }
        for tv in cf::time_coordinates(&self.meta) {
            if extent.time.is_some() {
                break;
            }
            extent.time = self.time_span(tv).await?;
        }
        let declared = DeclaredExtent::of(&self.meta);
        if extent.bbox.is_none()
            && let Some([w, s, e, n]) = declared.lon_lat
        {
            extent.bbox = declared_bbox(w, s, e, n);
        }
        if extent.time.is_none() {
            extent.time = declared.time;
        }
        Ok(extent)
    }
}

/// A longitude in -180..180 from either convention.
fn signed(x: f64) -> f64 {
    if x > 180.0 { x - 360.0 } else { x }
}

/// The box of ACDD bounds: west > east crosses the antimeridian (ACDD's convention),
/// 0..360 longitudes are brought into -180..180 (170..190 crosses it too), a whole
/// turn or more is every longitude.
fn declared_bbox(w: f64, s: f64, e: f64, n: f64) -> Option<BBox> {
    let (s, n) = (s.max(-90.0), n.min(90.0));
    if w <= e && e - w >= 360.0 {
        return BBox::new(-180.0, s, 180.0, n).ok();
    }
    BBox::new(signed(w), s, signed(e), n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::config::Config;
    use std::sync::Arc;

    #[test]
    fn declared_boxes_across_the_antimeridian_and_in_0_360() {
        let b = |w, s, e, n| declared_bbox(w, s, e, n).map(|b| b.to_array());
        assert_eq!(b(10.0, -5.0, 20.0, 5.0), Some([10.0, -5.0, 20.0, 5.0]));
        // ACDD: west > east crosses the antimeridian.
        assert_eq!(
            b(170.0, -5.0, -170.0, 5.0),
            Some([170.0, -5.0, -170.0, 5.0])
        );
        assert_eq!(
            b(190.0, -5.0, 200.0, 95.0),
            Some([-170.0, -5.0, -160.0, 90.0])
        );
        assert_eq!(b(170.0, -5.0, 190.0, 5.0), Some([170.0, -5.0, -170.0, 5.0]));
        assert_eq!(b(0.0, -5.0, 360.0, 5.0), Some([-180.0, -5.0, 180.0, 5.0]));
        assert_eq!(b(0.0, 5.0, 1.0, -5.0), None);
    }

    #[tokio::test]
    async fn extents_of_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::write_all(dir.path()).unwrap();
        let (cat, _) = Catalog::from_config(
            &Config::for_roots(&[dir.path().to_path_buf()]),
            Arc::new(crate::metrics::Metrics::new()),
        );
        let sst = cat
            .open("sst_classic.nc")
            .await
            .unwrap()
            .extent()
            .await
            .unwrap();
        assert_eq!(
            sst.bbox.map(|b| b.to_array()),
            Some([-180.0, -45.0, 180.0, 45.0])
        );
        let (a, b) = sst.time.unwrap();
        assert_eq!(
            (a.to_iso(), b.to_iso()),
            ("2000-01-01T00:00:00Z".into(), "2000-03-01T00:00:00Z".into())
        );
        let g = cat
            .open("gridded_nc4.nc")
            .await
            .unwrap()
            .extent()
            .await
            .unwrap();
        assert_eq!(
            g.bbox.map(|b| b.to_array()),
            Some([-175.0, -47.5, 175.0, 47.5])
        );
        let c = cat
            .open("curvilinear.nc")
            .await
            .unwrap()
            .extent()
            .await
            .unwrap();
        let [w, s, e, n] = c.bbox.unwrap().to_array();
        assert!(w > 4.0 && e < 16.0 && s > 44.0 && n < 56.0, "{:?}", c.bbox);
        let t = cat
            .open("types_nc4.nc")
            .await
            .unwrap()
            .extent()
            .await
            .unwrap();
        assert_eq!(t, DatasetExtent::default());
    }
}
