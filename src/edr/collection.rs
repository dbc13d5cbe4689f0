//! A dataset seen as an EDR collection: its parameters (gridded data variables) in
//! groups sharing dimensions, each group with its horizontal grid (1-D lat/lon or
//! curvilinear 2-D), time and vertical axes, read once and cached per dataset version.

use std::sync::Arc;

use crate::cache::{VersionKey, ViewCache, Weight};

use super::error::{EdrError, EdrResult};
use crate::catalog::Dataset;
use crate::model::cf::{self, CoordinateSystem, Packing, TimeUnits};
use crate::model::{AttributeList, DataType, DimRef, Variable};
use crate::subset::{BBox, CoordAxis, CurvilinearGrid, Hyperslab, LonConvention, RectilinearGrid};

/// One EDR parameter: a data variable on a horizontal grid.
#[derive(Debug, Clone)]
pub struct Param {
    /// The EDR name: the variable path without the leading `/`.
    pub name: String,
    pub var: Variable,
    pub group: usize,
    pub packing: Packing,
    /// Print values as single precision (the variable, or its decoded form, is f32).
    pub single: bool,
    /// Integer values (not packed, integer type).
    pub integer: bool,
}

impl Param {
    pub fn text(&self, attr: &str) -> Option<String> {
        self.var.attr(attr).and_then(|a| a.as_text())
    }

    pub fn label(&self) -> String {
        self.text("long_name")
            .or_else(|| self.text("standard_name"))
            .unwrap_or_else(|| self.name.clone())
    }

    pub fn units(&self) -> Option<String> {
        self.text("units").filter(|u| !u.trim().is_empty())
    }

    pub fn elem_size(&self) -> u64 {
        self.var.dtype.size().unwrap_or(8) as u64
    }
}

#[derive(Debug, Clone)]
pub enum Horizontal {
    /// 1-D longitude and latitude axes on dimensions `xdim` and `ydim`.
    Rect {
        grid: RectilinearGrid,
        xdim: usize,
        ydim: usize,
    },
    /// 2-D longitude and latitude, both on dimensions (ydim, xdim), row-major, with
    /// the nearest-cell index built once per collection.
    Curvilinear {
        grid: CurvilinearGrid,
        ydim: usize,
        xdim: usize,
    },
}

#[derive(Debug, Clone)]
pub struct TimeAxis {
    /// The coordinate variable (for its attributes in NetCDF output).
    pub var: Variable,
    pub dim: usize,
    pub axis: CoordAxis,
    pub units: TimeUnits,
    /// ISO 8601 text of each value (UTC, in the dataset's calendar).
    pub iso: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ZAxis {
    pub var: Variable,
    pub dim: usize,
    pub axis: CoordAxis,
    pub name: String,
    pub units: String,
    pub positive_down: bool,
}

/// Parameters sharing one set of dimensions and coordinates.
#[derive(Debug, Clone)]
pub struct Group {
    pub dims: Vec<DimRef>,
    pub horizontal: Horizontal,
    pub t: Option<TimeAxis>,
    pub z: Option<ZAxis>,
    /// Dimensions beyond x, y, t and z with a 1-D coordinate (GRIB `step`, `number`).
    pub custom: Vec<super::custom_axis::CustomAxis>,
}

impl Group {
    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// (west, south, east, north) of the cell centres, longitudes as stored.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        match &self.horizontal {
            Horizontal::Rect { grid, .. } => {
                let (w, e) = grid.lon().bounds().unwrap_or((0.0, 0.0));
                let (s, n) = grid.lat().bounds().unwrap_or((0.0, 0.0));
                (w, s, e, n)
            }
            Horizontal::Curvilinear { grid, .. } => {
                let (lon, lat) = (grid.lon(), grid.lat());
                let mm = |v: &[f64]| {
                    v.iter()
                        .filter(|x| x.is_finite())
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                            (a.min(*x), b.max(*x))
                        })
                };
                let (w, e) = mm(lon);
                let (s, n) = mm(lat);
                (w, s, e, n)
            }
        }
    }

    /// The bbox in CRS84 (-180..180; the whole range when the grid goes round; west
    /// east of east when it crosses the antimeridian).
    pub fn crs84_bbox(&self) -> BBox {
        let (w, s, e, n) = self.bounds();
        let global = matches!(&self.horizontal, Horizontal::Rect { grid, .. } if grid.is_global());
        let signed = LonConvention::Signed;
        let (w, e) = if global || e - w >= 360.0 {
            (-180.0, 180.0)
        } else {
            (signed.normalize(w), signed.normalize(e))
        };
        BBox::new(w, s, e, n).unwrap_or_else(|_| BBox::world())
    }
}

pub struct Collection {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub ds: Arc<Dataset>,
    pub params: Vec<Param>,
    pub groups: Vec<Group>,
}

impl Collection {
    pub fn param(&self, name: &str) -> Option<&Param> {
        let name = name.trim_start_matches('/');
        self.params.iter().find(|p| p.name == name)
    }

    /// The parameters a query names (all when none), in collection order.
    pub fn select_params(&self, names: Option<&[String]>) -> EdrResult<Vec<&Param>> {
        let Some(names) = names else {
            return Ok(self.params.iter().collect());
        };
        let mut out: Vec<&Param> = Vec::new();
        for n in names {
            let p = self.param(n).ok_or_else(|| {
                EdrError::bad(format!(
                    "parameter-name: no parameter {n:?} in collection {:?}; it has {}",
                    self.id,
                    self.params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
        Ok(out)
    }
}

/// Collections of dataset versions: owned by the EDR service.
pub type Collections = ViewCache<VersionKey, Arc<Collection>>;

impl Weight for Collection {
    /// The coordinates it holds: at most every 1-D and 2-D variable as f64.
    fn weight(&self) -> usize {
        self.ds
            .meta
            .variables()
            .iter()
            .filter(|v| v.dims.len() <= 2)
            .map(|v| v.shape().iter().product::<usize>().saturating_mul(8))
            .fold(4096usize, usize::saturating_add)
    }
}

/// The collection of an opened dataset (cached per dataset version).
pub async fn load(cache: &Collections, ds: &Arc<Dataset>) -> EdrResult<Arc<Collection>> {
    let ds2 = ds.clone();
    cache
        .try_get_with(VersionKey::of(ds), async move {
            build(&ds2).await.map(Arc::new)
        })
        .await
        .map_err(|e: Arc<EdrError>| match &*e {
            EdrError::BadRequest(m) => EdrError::BadRequest(m.clone()),
            EdrError::NotFound(m) => EdrError::NotFound(m.clone()),
            other => EdrError::Internal(other.to_string()),
        })
}

async fn read_coord(ds: &Dataset, var: &Variable) -> EdrResult<Vec<f64>> {
    let arr = ds.read(&var.path, &Hyperslab::full(&var.shape())).await?;
    let p = Packing::of(var);
    Ok(if p.is_packed() {
        p.decode_values(&arr.values)
    } else {
        arr.values.to_f64()
    })
}

fn axis(values: Vec<f64>, what: &str) -> Option<CoordAxis> {
    match CoordAxis::new(values) {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::debug!("edr: {what}: {e}");
            None
        }
    }
}

/// Builds the group of a variable's coordinate system, or `None` if the variable is
/// not on a horizontal grid every dimension of which EDR can address.
async fn build_group(ds: &Dataset, var: &Variable, cs: &CoordinateSystem) -> Option<Group> {
    let meta = &ds.meta;
    let (xc, yc) = (cs.x.as_ref()?, cs.y.as_ref()?);
    let xvar = meta.variable(&xc.path)?;
    let yvar = meta.variable(&yc.path)?;
    let mut covered = vec![false; var.dims.len()];
    let horizontal = if xc.dims.len() == 1 && yc.dims.len() == 1 {
        if xc.dims[0] == yc.dims[0] {
            return None;
        }
        let x = axis(read_coord(ds, xvar).await.ok()?, &xc.path)?;
        let y = axis(read_coord(ds, yvar).await.ok()?, &yc.path)?;
        covered[xc.dims[0]] = true;
        covered[yc.dims[0]] = true;
        Horizontal::Rect {
            grid: RectilinearGrid::new(x, y),
            xdim: xc.dims[0],
            ydim: yc.dims[0],
        }
    } else if cs.is_curvilinear() && xc.dims == yc.dims && xc.dims[0] != xc.dims[1] {
        let (ydim, xdim) = (xc.dims[0], xc.dims[1]);
        let (ny, nx) = (var.dims[ydim].len, var.dims[xdim].len);
        let lon = read_coord(ds, xvar).await.ok()?;
        let lat = read_coord(ds, yvar).await.ok()?;
        if lon.len() != ny * nx || lat.len() != ny * nx {
            return None;
        }
        let grid = CurvilinearGrid::new(ny, nx, &lon, &lat)?;
        covered[ydim] = true;
        covered[xdim] = true;
        Horizontal::Curvilinear { grid, ydim, xdim }
    } else {
        return None;
    };
    let mut t = None;
    if let Some(tc) = &cs.t
        && tc.dims.len() == 1
        && !covered[tc.dims[0]]
    {
        let tvar = meta.variable(&tc.path)?;
        let units = cf::time_units(tvar)?;
        let values = read_coord(ds, tvar).await.ok()?;
        let iso = values
            .iter()
            .map(|v| units.decode(*v).map(|d| d.to_iso()).unwrap_or_default())
            .collect();
        covered[tc.dims[0]] = true;
        t = Some(TimeAxis {
            var: tvar.clone(),
            dim: tc.dims[0],
            axis: axis(values, &tc.path)?,
            units,
            iso,
        });
    }
    let mut z = None;
    if let Some(zc) = &cs.z
        && zc.dims.len() == 1
        && !covered[zc.dims[0]]
    {
        let zvar = meta.variable(&zc.path)?;
        let values = read_coord(ds, zvar).await.ok()?;
        covered[zc.dims[0]] = true;
        z = Some(ZAxis {
            var: zvar.clone(),
            dim: zc.dims[0],
            axis: axis(values, &zc.path)?,
            name: zvar
                .attributes
                .attr_text("standard_name")
                .unwrap_or_else(|| zvar.name.clone()),
            units: zvar.attributes.attr_text("units").unwrap_or_default(),
            positive_down: zvar
                .attributes
                .attr_text("positive")
                .is_some_and(|p| p.eq_ignore_ascii_case("down")),
        });
    }
    // Other dimensions with a 1-D numeric coordinate variable are custom dimensions.
    let mut custom = Vec::new();
    for (d, dim) in var.dims.iter().enumerate() {
        if covered[d] || dim.len == 1 {
            continue;
        }
        let coord = meta.variables().into_iter().find(|c| {
            c.dims.len() == 1
                && c.dims[0].path == dim.path
                && c.is_coordinate_variable()
                && c.dtype.is_numeric()
        });
        let Some(coord) = coord else { continue };
        let values = read_coord(ds, coord).await.ok()?;
        if let Some(axis) = super::custom_axis::CustomAxis::new(d, coord, values) {
            covered[d] = true;
            custom.push(axis);
        }
    }
    // A dimension of length 1 with no coordinate (a single band, a single member)
    // needs no axis: it is read at its only index.
    if covered.iter().zip(&var.dims).any(|(c, d)| !c && d.len != 1) {
        return None;
    }
    Some(Group {
        dims: var.dims.clone(),
        horizontal,
        t,
        z,
        custom,
    })
}

async fn build(ds: &Arc<Dataset>) -> EdrResult<Collection> {
    let meta = &ds.meta;
    // Variables serving as coordinates of others are not parameters.
    let mut coord_paths: Vec<String> = Vec::new();
    for v in meta.variables() {
        let cs = cf::coordinates(meta, v);
        for c in [&cs.x, &cs.y, &cs.z, &cs.t].into_iter().flatten() {
            coord_paths.push(c.path.clone());
        }
        for b in ["bounds", "climatology"] {
            if let Some(p) = v.attributes.attr_text(b) {
                coord_paths.push(format!("{}/{}", v.group_path().trim_end_matches('/'), p));
            }
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut params = Vec::new();
    for v in meta.variables() {
        if !v.dtype.is_numeric()
            || v.is_coordinate_variable()
            || coord_paths.iter().any(|p| p == &v.path)
            || v.dims.len() < 2
        {
            continue;
        }
        let cs = cf::coordinates(meta, v);
        if !cs.is_gridded() {
            continue;
        }
        let same = |g: &Group| {
            g.dims.len() == v.dims.len()
                && g.dims.iter().zip(&v.dims).all(|(a, b)| a.path == b.path)
        };
        let gi = match groups.iter().position(same) {
            Some(i) => i,
            None => match build_group(ds, v, &cs).await {
                Some(g) => {
                    groups.push(g);
                    groups.len() - 1
                }
                None => continue,
            },
        };
        let packing = Packing::of(v);
        let scale_single = v
            .attr("scale_factor")
            .or_else(|| v.attr("add_offset"))
            .is_some_and(|a| a.dtype() == DataType::F32);
        let single = v.dtype == DataType::F32
            || (packing.is_packed() && scale_single && v.dtype.size().unwrap_or(8) <= 2);
        let integer = !packing.is_packed() && !v.dtype.is_float();
        params.push(Param {
            name: v.path.trim_start_matches('/').to_string(),
            var: v.clone(),
            group: gi,
            packing,
            single,
            integer,
        });
    }
    let description = meta
        .attributes()
        .attr_text("summary")
        .or_else(|| meta.attributes().attr_text("comment"));
    Ok(Collection {
        id: ds.id.clone(),
        title: ds.title.clone(),
        description,
        ds: ds.clone(),
        params,
        groups,
    })
}
