//! The layers of a dataset: every numeric variable with horizontal (X, Y) coordinates,
//! with its grid, time and elevation axes, built once per dataset version.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::Dataset;
use crate::model::cf::{self, Axis, CfDateTime, CoordinateSystem, Packing, TimeUnits};
use crate::model::{AttrValue, DatasetMeta, Variable};
use crate::subset::{BBox, CoordAxis, CurvilinearGrid, HorizontalGrid, Hyperslab, RectilinearGrid};

use super::error::{ExceptionCode, WmsError};
use super::obs_layers::{self, ObsLayer};

/// The layers of one dataset.
#[derive(Debug)]
pub struct DatasetLayers {
    pub id: String,
    pub title: String,
    pub etag: String,
    pub layers: Vec<Arc<Layer>>,
    /// The observed variables of an observation (CF DSG) dataset, drawn as points and
    /// tracks; such a dataset has no gridded layers.
    pub observations: Vec<Arc<ObsLayer>>,
}

/// A layer of either kind.
#[derive(Debug, Clone)]
pub enum AnyLayer {
    Grid(Arc<Layer>),
    Obs(Arc<ObsLayer>),
}

impl AnyLayer {
    pub fn units(&self) -> Option<&str> {
        match self {
            AnyLayer::Grid(l) => l.units.as_deref(),
            AnyLayer::Obs(l) => l.units.as_deref(),
        }
    }

    /// (variable path, shape, packing): what a default colour range is estimated from.
    pub fn variable(&self) -> (&str, Vec<usize>, &Packing) {
        match self {
            AnyLayer::Grid(l) => (&l.var_path, l.shape.clone(), &l.packing),
            AnyLayer::Obs(l) => (&l.var.path, l.var.shape(), &l.packing),
        }
    }
}

impl DatasetLayers {
    /// The layer of a variable name (`sst`, `forecast/temp`, or with a leading `/`).
    pub fn layer(&self, var: &str) -> Option<&Arc<Layer>> {
        let var = var.trim_start_matches('/');
        self.layers.iter().find(|l| l.var_name == var)
    }

    /// The gridded or observation layer of a variable name.
    pub fn any_layer(&self, var: &str) -> Option<AnyLayer> {
        if let Some(l) = self.layer(var) {
            return Some(AnyLayer::Grid(l.clone()));
        }
        let var = var.trim_start_matches('/');
        self.observations
            .iter()
            .find(|l| l.var_name == var)
            .map(|l| AnyLayer::Obs(l.clone()))
    }

    /// No layer of either kind.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty() && self.observations.is_empty()
    }

    /// Approximate memory held (grids shared by layers counted once).
    pub fn approx_bytes(&self) -> usize {
        let mut seen: Vec<*const HorizontalGrid> = Vec::new();
        let mut total = 1024;
        for l in &self.layers {
            total += 512 + l.time.as_ref().map_or(0, |t| t.values.len() * 64);
            let ptr = Arc::as_ptr(&l.grid);
            if !seen.contains(&ptr) {
                seen.push(ptr);
                total += l.grid.approx_bytes();
            }
        }
        // Observation layers share one feature index.
        total += self.observations.first().map_or(0, |l| {
            crate::cache::Weight::weight(&*l.index) + self.observations.len() * 512
        });
        total
    }

    /// Union of the layers' extents.
    pub fn bbox(&self) -> Option<BBox> {
        self.layers
            .iter()
            .map(|l| l.bbox)
            .chain(self.observations.iter().map(|l| l.bbox))
            .reduce(|a, b| a.union(&b))
    }
}

/// One mappable variable.
#[derive(Debug)]
pub struct Layer {
    pub dataset_id: String,
    /// Variable path without the leading `/` (`sst`, `forecast/temp`).
    pub var_name: String,
    pub var_path: String,
    pub title: String,
    pub abstract_text: Option<String>,
    pub units: Option<String>,
    pub shape: Vec<usize>,
    pub packing: Packing,
    pub grid: Arc<HorizontalGrid>,
    /// Variable dimensions of the grid's rows and columns.
    pub row_dim: usize,
    pub col_dim: usize,
    /// Offsets in a 2-D slice (the two horizontal dimensions in variable order) of one
    /// grid row / column step.
    pub row_stride: usize,
    pub col_stride: usize,
    pub bbox: BBox,
    pub time: Option<TimeAxis>,
    pub elevation: Option<ElevationAxis>,
}

#[derive(Debug)]
pub struct TimeAxis {
    pub dim: usize,
    pub values: Vec<f64>,
    pub units: TimeUnits,
    pub dates: Vec<CfDateTime>,
}

#[derive(Debug)]
pub struct ElevationAxis {
    pub dim: usize,
    pub values: Vec<f64>,
    pub units: String,
}

impl Layer {
    /// `{dataset id}/{variable}`: the name in the all-datasets service.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.dataset_id, self.var_name)
    }

    /// Offset in the 2-D slice of grid cell (row, col).
    #[inline]
    pub fn offset(&self, row: usize, col: usize) -> usize {
        row * self.row_stride + col * self.col_stride
    }

    /// A slice's values decoded (packing and fill values applied; NaN = missing).
    pub fn decode(&self, arr: &crate::model::Array) -> Vec<f32> {
        (0..arr.values.len())
            .map(|i| {
                self.packing
                    .decode(arr.values.get_f64(i))
                    .map_or(f32::NAN, |v| v as f32)
            })
            .collect()
    }

    pub fn slice_len(&self) -> usize {
        self.shape[self.row_dim] * self.shape[self.col_dim]
    }

    /// The hyperslab of the 2-D field at time index `t` and elevation index `z`
    /// (index 0 of any other dimension).
    pub fn slab(&self, t: usize, z: usize) -> Hyperslab {
        let mut slab = Hyperslab::full(&self.shape);
        for (d, s) in slab.dims.iter_mut().enumerate() {
            if d == self.row_dim || d == self.col_dim {
                continue;
            }
            let i = if self.time.as_ref().is_some_and(|a| a.dim == d) {
                t
            } else if self.elevation.as_ref().is_some_and(|a| a.dim == d) {
                z
            } else {
                0
            };
            *s = crate::subset::DimSlice::index(i);
        }
        slab
    }

    /// The time index TIME selects: the latest time when absent or `current`; the
    /// nearest time within the axis' extent; the latest within a `start/end` range.
    pub fn time_index(&self, value: Option<&str>) -> Result<usize, WmsError> {
        let Some(axis) = &self.time else {
            return Ok(0);
        };
        let last = axis.values.len().saturating_sub(1);
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return Ok(last);
        };
        // A list: the first element.
        let v = v.split(',').next().unwrap_or(v).trim();
        if v.eq_ignore_ascii_case("current") || v.eq_ignore_ascii_case("present") {
            return Ok(last);
        }
        let bad = |why: &str| {
            WmsError::new(
                ExceptionCode::InvalidDimensionValue,
                format!("TIME={v}: {why}"),
            )
        };
        let encode = |s: &str| -> Result<f64, WmsError> {
            let t = CfDateTime::parse(s).map_err(|_| bad("not an ISO 8601 time"))?;
            axis.units.encode(&t).map_err(|e| bad(&e.to_string()))
        };
        let parts: Vec<&str> = v.split('/').collect();
        if parts.len() >= 2 {
            let (a, b) = (encode(parts[0])?, encode(parts[1])?);
            let (a, b) = (a.min(b), a.max(b));
            return axis
                .values
                .iter()
                .enumerate()
                .filter(|(_, x)| **x >= a && **x <= b)
                .max_by(|x, y| x.1.total_cmp(y.1))
                .map(|(i, _)| i)
                .ok_or_else(|| bad("no time of the layer lies in this range"));
        }
        nearest_within(&axis.values, encode(v)?).ok_or_else(|| bad("outside the layer's times"))
    }

    /// The elevation index ELEVATION selects (default: the first level).
    pub fn elevation_index(&self, value: Option<&str>) -> Result<usize, WmsError> {
        let Some(axis) = &self.elevation else {
            return Ok(0);
        };
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return Ok(0);
        };
        let v = v.split(',').next().unwrap_or(v).trim();
        let bad = |why: &str| {
            WmsError::new(
                ExceptionCode::InvalidDimensionValue,
                format!("ELEVATION={v}: {why}"),
            )
        };
        let x: f64 = v
            .split('/')
            .next()
            .unwrap_or(v)
            .parse()
            .map_err(|_| bad("not a number"))?;
        nearest_within(&axis.values, x).ok_or_else(|| bad("outside the layer's elevations"))
    }
}

/// The index nearest `x` if `x` lies within the values' extent widened by half the
/// mean spacing (a single value must match to within a millionth).
fn nearest_within(values: &[f64], x: f64) -> Option<usize> {
    if !x.is_finite() {
        return None;
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let half = if values.len() > 1 {
        (hi - lo) / (values.len() - 1) as f64 / 2.0
    } else {
        1e-6 * lo.abs().max(1.0)
    };
    if x < lo - half || x > hi + half {
        return None;
    }
    values
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
        .map(|(i, _)| i)
}

fn text(var: &Variable, name: &str) -> Option<String> {
    var.attr(name)
        .and_then(AttrValue::as_text)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

async fn read_values(ds: &Dataset, var: &Variable) -> Result<Vec<f64>, WmsError> {
    let arr = ds
        .read(&var.path, &Hyperslab::full(&var.shape()))
        .await
        .map_err(|e| WmsError::read_failed(&var.path, &e))?;
    Ok(Packing::of(var).decode_values(&arr.values))
}

/// Finds the layers of a dataset, reading its coordinate variables; an observation
/// dataset's layers are its observed variables.
pub async fn build(ds: &Arc<Dataset>) -> Result<DatasetLayers, WmsError> {
    if crate::features::is_dsg(&ds.meta) {
        return Ok(DatasetLayers {
            id: ds.id.clone(),
            title: ds.title.clone(),
            etag: ds.etag(),
            layers: Vec::new(),
            observations: obs_layers::build(ds).await?,
        });
    }
    let meta: &DatasetMeta = &ds.meta;
    let mut grids: HashMap<(String, String), Option<Arc<HorizontalGrid>>> = HashMap::new();
    let mut layers = Vec::new();
    for var in meta.variables() {
        if !var.dtype.is_numeric() || var.dims.len() < 2 || var.is_coordinate_variable() {
            continue;
        }
        let cs = cf::coordinates(meta, var);
        let (Some(x), Some(y)) = (&cs.x, &cs.y) else {
            continue;
        };
        let curvi = cs.is_curvilinear();
        let rect = x.dims.len() == 1 && y.dims.len() == 1 && x.dims != y.dims;
        if !curvi && !rect {
            continue;
        }
        if curvi && x.dims != y.dims {
            continue;
        }
        let key = (x.path.clone(), y.path.clone());
        let grid = match grids.get(&key) {
            Some(g) => g.clone(),
            None => {
                let g = build_grid(ds, meta, &cs, curvi).await?.map(Arc::new);
                grids.insert(key, g.clone());
                g
            }
        };
        let Some(grid) = grid else { continue };
        let (row_dim, col_dim) = if curvi {
            (x.dims[0], x.dims[1])
        } else {
            (y.dims[0], x.dims[0])
        };
        let shape = var.shape();
        let (first, second) = (row_dim.min(col_dim), row_dim.max(col_dim));
        let stride = |d: usize| if d == first { shape[second] } else { 1 };
        let _ = first;
        let time = match &cs.t {
            Some(t) if t.dims.len() == 1 => time_axis(ds, meta, &t.path, t.dims[0]).await?,
            _ => None,
        };
        let elevation = match &cs.z {
            Some(z) if z.dims.len() == 1 => {
                let zv = meta.variable(&z.path).expect("coordinate exists");
                let values = read_values(ds, zv).await?;
                values.iter().all(|v| v.is_finite()).then(|| ElevationAxis {
                    dim: z.dims[0],
                    values,
                    units: text(zv, "units").unwrap_or_else(|| "1".into()),
                })
            }
            _ => None,
        };
        let title = text(var, "long_name")
            .or_else(|| text(var, "standard_name"))
            .unwrap_or_else(|| var.name.clone());
        let abstract_text = text(var, "comment").or_else(|| text(var, "description"));
        layers.push(Arc::new(Layer {
            dataset_id: ds.id.clone(),
            var_name: var.path.trim_start_matches('/').to_string(),
            var_path: var.path.clone(),
            title,
            abstract_text,
            units: text(var, "units"),
            packing: Packing::of(var),
            bbox: grid.bbox(),
            grid,
            row_dim,
            col_dim,
            row_stride: stride(row_dim),
            col_stride: stride(col_dim),
            shape,
            time,
            elevation,
        }));
    }
    Ok(DatasetLayers {
        id: ds.id.clone(),
        title: ds.title.clone(),
        etag: ds.etag(),
        layers,
        observations: Vec::new(),
    })
}

async fn time_axis(
    ds: &Dataset,
    meta: &DatasetMeta,
    path: &str,
    dim: usize,
) -> Result<Option<TimeAxis>, WmsError> {
    let tv = meta.variable(path).expect("coordinate exists");
    let Some(units) = cf::time_units(tv) else {
        return Ok(None);
    };
    let values = read_values(ds, tv).await?;
    let dates: Option<Vec<CfDateTime>> = values.iter().map(|v| units.decode(*v)).collect();
    Ok(dates.map(|dates| TimeAxis {
        dim,
        values,
        units,
        dates,
    }))
}

async fn build_grid(
    ds: &Dataset,
    meta: &DatasetMeta,
    cs: &CoordinateSystem,
    curvi: bool,
) -> Result<Option<HorizontalGrid>, WmsError> {
    let (Some(x), Some(y)) = (cs.get(Axis::X), cs.get(Axis::Y)) else {
        return Ok(None);
    };
    let xv = meta.variable(&x.path).expect("coordinate exists");
    let yv = meta.variable(&y.path).expect("coordinate exists");
    // Projected x/y (metres) are not longitudes and latitudes.
    let is_degrees = |v: &Variable, axis: &str| {
        text(v, "units").is_none_or(|u| u.to_ascii_lowercase().starts_with("degree"))
            || text(v, "standard_name").is_some_and(|s| s.contains(axis))
    };
    if !is_degrees(xv, "longitude") || !is_degrees(yv, "latitude") {
        return Ok(None);
    }
    let lon = read_values(ds, xv).await?;
    let lat = read_values(ds, yv).await?;
    if curvi {
        let shape = xv.shape();
        return Ok(
            CurvilinearGrid::new(shape[0], shape[1], &lon, &lat).map(HorizontalGrid::Curvilinear)
        );
    }
    match (CoordAxis::new(lon), CoordAxis::new(lat)) {
        (Ok(lon), Ok(lat)) => Ok(Some(HorizontalGrid::Rectilinear(RectilinearGrid::new(
            lon, lat,
        )))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_within_extent() {
        let v = [0.0, 31.0, 59.0];
        assert_eq!(nearest_within(&v, 30.0), Some(1));
        assert_eq!(nearest_within(&v, 70.0), Some(2));
        assert_eq!(nearest_within(&v, 100.0), None);
        assert_eq!(nearest_within(&v, -20.0), None);
        assert_eq!(nearest_within(&[5.0], 5.0), Some(0));
        assert_eq!(nearest_within(&[5.0], 6.0), None);
    }
}
