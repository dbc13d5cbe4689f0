//! The spatial and temporal extent of a dataset, from its CF coordinates: what discovery
//! (STAC items, catalog listings) says about a file.

use super::Dataset;
use crate::model::cf::{self, Axis, CfDateTime};
use crate::readers::ReadError;
use crate::subset::{BBox, Hyperslab};

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetExtent {
    /// Longitudes in -180..180.
    pub bbox: Option<BBox>,
    /// First and last time.
    pub time: Option<(CfDateTime, CfDateTime)>,
}

fn finite_min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite() && v.abs() < 1e30)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

impl Dataset {
    /// Reads the horizontal and time coordinates of the dataset's first gridded variable
    /// (the one with most dimensions) and returns their extent.
    pub async fn extent(&self) -> Result<DatasetExtent, ReadError> {
        let mut vars = self.meta.variables();
        vars.sort_by_key(|v| std::cmp::Reverse(v.dims.len()));
        let mut extent = DatasetExtent {
            bbox: None,
            time: None,
        };
        for var in vars {
            let cs = cf::coordinates(&self.meta, var);
            if extent.bbox.is_none()
                && let (Some(x), Some(y)) = (cs.get(Axis::X), cs.get(Axis::Y))
            {
                let read_all = |path: &str| {
                    let shape = self
                        .meta
                        .variable(path)
                        .map(|v| v.shape())
                        .unwrap_or_default();
                    let path = path.to_string();
                    async move {
                        let a = self.read(&path, &Hyperslab::full(&shape)).await?;
                        let packing = self.meta.variable(&path).map(cf::Packing::of);
                        Ok::<_, ReadError>(match packing {
                            Some(p) => p.decode_values(&a.values),
                            None => a.values.to_f64(),
                        })
                    }
                };
                let (xs, ys) = (read_all(&x.path).await?, read_all(&y.path).await?);
                if let (Some((w, e)), Some((s, n))) = (
                    finite_min_max(xs.iter().copied()),
                    finite_min_max(ys.iter().copied()),
                ) {
                    // Finite by construction, so never rejected.
                    extent.bbox = BBox::of_data(w, s, e, n).ok();
                }
            }
            if extent.time.is_none()
                && let Some(t) = cs.get(Axis::T)
                && let Some(tv) = self.meta.variable(&t.path)
                && let Some(units) = cf::time_units(tv)
                && tv.dims.len() <= 1
                && tv.num_elements() > 0
            {
                let a = self.read(&t.path, &Hyperslab::full(&tv.shape())).await?;
                if let Some((lo, hi)) = finite_min_max(a.values.to_f64().into_iter())
                    && let (Some(a), Some(b)) = (units.decode(lo), units.decode(hi))
                {
                    extent.time = Some((a, b));
                }
            }
            if extent.bbox.is_some() && extent.time.is_some() {
                break;
            }
        }
        Ok(extent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::config::Config;
    use std::sync::Arc;

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
        assert_eq!(
            t,
            DatasetExtent {
                bbox: None,
                time: None
            }
        );
    }
}
