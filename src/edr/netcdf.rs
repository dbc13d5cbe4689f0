//! NetCDF-4 answers through the protocol-free writer: one variable per parameter over
//! the answer's output axes (t, z, lat, lon, or a `point` dimension for point lists and
//! trajectories) with coordinate variables. Values are written decoded (float, NaN as
//! fill), because cells outside the query shape must read as missing whatever the
//! packing; the source attributes other than packing ones are kept.

use std::sync::Arc;

use axum::response::Response;

use super::collection::Collection;
use super::coverage::{Coord, Coverage};
use super::error::{EdrError, EdrResult};
use crate::model::{
    Array, ArrayValues, AttrValue, Attribute, DataType, DatasetMeta, DimRef, Dimension, Group,
    Variable,
};
use crate::writers::NetcdfWriter;

fn text(name: &str, v: &str) -> Attribute {
    Attribute::new(name, AttrValue::Text(v.into()))
}

fn kept_attrs(v: &Variable) -> Vec<Attribute> {
    v.attributes
        .iter()
        .filter(|a| !dropped(&a.name))
        .cloned()
        .collect()
}

/// Output dimension name of an axis component.
fn dim_name(col: &Collection, cov: &Coverage, axis: &str) -> String {
    let g = &col.groups[cov.group];
    match axis {
        "t" => g.t.as_ref().map_or("time".into(), |t| t.var.name.clone()),
        "z" => g.z.as_ref().map_or("z".into(), |z| z.var.name.clone()),
        "y" => "lat".into(),
        "x" => "lon".into(),
        _ => "point".into(),
    }
}

/// A coordinate variable for component `comp` of output axis `k`.
fn coord_var(
    col: &Collection,
    cov: &Coverage,
    k: usize,
    comp: &str,
    prefix: &str,
    dim: &DimRef,
) -> (Variable, Vec<f64>) {
    let g = &col.groups[cov.group];
    let ax = &cov.axes[k];
    let c = ax.components.iter().position(|x| *x == comp).unwrap_or(0);
    let n = ax.len();
    let (name, attrs, dtype, values): (String, Vec<Attribute>, DataType, Vec<f64>) = match comp {
        "t" => {
            let t = g.t.as_ref();
            let tpos = ax.dims.iter().position(|d| Some(*d) == t.map(|t| t.dim));
            let vals = (0..n)
                .map(|e| match (t, tpos) {
                    (Some(t), Some(p)) => t.axis.values()[ax.tuple(e)[p]],
                    _ => f64::NAN,
                })
                .collect();
            let (name, attrs) = t.map_or(("time".into(), vec![]), |t| {
                (t.var.name.clone(), kept_attrs(&t.var))
            });
            (name, attrs, DataType::F64, vals)
        }
        other => {
            let vals = (0..n)
                .map(|e| match &ax.coord(e)[c] {
                    Coord::Num(v) => *v,
                    Coord::Time(_) => f64::NAN,
                })
                .collect();
            match other {
                "z" => {
                    let z = g.z.as_ref();
                    let (name, attrs) = z.map_or(("z".into(), vec![]), |z| {
                        (z.var.name.clone(), kept_attrs(&z.var))
                    });
                    (name, attrs, DataType::F64, vals)
                }
                "y" => (
                    "lat".into(),
                    vec![
                        text("units", "degrees_north"),
                        text("standard_name", "latitude"),
                    ],
                    DataType::F64,
                    vals,
                ),
                _ => (
                    "lon".into(),
                    vec![
                        text("units", "degrees_east"),
                        text("standard_name", "longitude"),
                    ],
                    DataType::F64,
                    vals,
                ),
            }
        }
    };
    let var = Variable {
        name: name.clone(),
        path: format!("{prefix}/{name}"),
        dims: vec![dim.clone()],
        dtype,
        attributes: attrs,
        chunks: None,
    };
    (var, values)
}

struct Plan {
    /// (variable path, values) of coordinates.
    coords: Vec<(String, Vec<f64>)>,
    /// (coverage index, parameter index, output variable path).
    params: Vec<(usize, usize, String)>,
}

fn layout(col: &Collection, covs: &[Coverage]) -> (DatasetMeta, Plan) {
    let mut root = Group {
        name: String::new(),
        path: "/".into(),
        attributes: vec![
            text("Conventions", "CF-1.8"),
            text("title", &col.title),
            text(
                "source",
                &format!("datagate OGC API EDR, collection {}", col.id),
            ),
        ],
        ..Default::default()
    };
    let mut plan = Plan {
        coords: Vec::new(),
        params: Vec::new(),
    };
    for (ci, cov) in covs.iter().enumerate() {
        let (name, prefix) = if covs.len() == 1 {
            (String::new(), String::new())
        } else {
            (
                format!("coverage{}", ci + 1),
                format!("/coverage{}", ci + 1),
            )
        };
        let mut g = Group {
            name,
            path: if prefix.is_empty() {
                "/".into()
            } else {
                prefix.clone()
            },
            ..Default::default()
        };
        let mut dims = Vec::new();
        for (k, ax) in cov.axes.iter().enumerate() {
            let dname = dim_name(col, cov, ax.name);
            let d = DimRef {
                name: dname.clone(),
                path: format!("{prefix}/{dname}"),
                len: ax.len(),
            };
            g.dimensions.push(Dimension {
                name: dname,
                path: d.path.clone(),
                len: ax.len(),
                unlimited: false,
            });
            for comp in &ax.components {
                let (v, vals) = coord_var(col, cov, k, comp, &prefix, &d);
                plan.coords.push((v.path.clone(), vals));
                g.variables.push(v);
            }
            dims.push(d);
        }
        for &pi in &cov.params {
            let p = &col.params[pi];
            let name = p.var.name.clone();
            let mut attributes = kept_attrs(&p.var);
            let dtype = if p.single {
                DataType::F32
            } else {
                DataType::F64
            };
            attributes.push(Attribute::new(
                "_FillValue",
                if p.single {
                    AttrValue::F32(vec![f32::NAN])
                } else {
                    AttrValue::F64(vec![f64::NAN])
                },
            ));
            let path = format!("{prefix}/{name}");
            g.variables.push(Variable {
                name,
                path: path.clone(),
                dims: dims.clone(),
                dtype,
                attributes,
                chunks: None,
            });
            plan.params.push((ci, pi, path));
        }
        // The values chosen on custom dimensions (a forecast step) name the coverage.
        let fixed = cov
            .fixed
            .iter()
            .map(|f| Attribute::new(&f.id, AttrValue::F64(vec![f.value])));
        if covs.len() == 1 {
            root.attributes.extend(fixed);
            root.dimensions = g.dimensions;
            root.variables = g.variables;
        } else {
            g.attributes.extend(fixed);
            root.groups.push(g);
        }
    }
    (DatasetMeta { root }, plan)
}

fn values(v: Vec<f64>, single: bool) -> ArrayValues {
    if single {
        ArrayValues::F32(v.into_iter().map(|x| x as f32).collect())
    } else {
        ArrayValues::F64(v)
    }
}

/// Writes the answer to a temporary NetCDF-4 file and streams it.
pub async fn respond(
    col: Arc<Collection>,
    covs: Vec<Coverage>,
    block: usize,
) -> EdrResult<Response> {
    let internal = |e: crate::writers::WriteError| EdrError::Internal(e.to_string());
    let (meta, plan) = layout(&col, &covs);
    let writer = NetcdfWriter::create(&meta, None).await.map_err(internal)?;
    for (path, vals) in plan.coords {
        let n = vals.len();
        writer
            .write(&path, vec![0], Array::new(vec![n], ArrayValues::F64(vals)))
            .await
            .map_err(internal)?;
    }
    for (ci, pi, path) in &plan.params {
        let (cov, p) = (&covs[*ci], &col.params[*pi]);
        let shape = cov.shape();
        for chunk in cov.chunks(p.elem_size(), block) {
            let vals = cov.read_chunk(&col.ds, p, chunk).await?;
            let mut piece_shape = shape.clone();
            piece_shape[0] = chunk.1 - chunk.0;
            let mut start = vec![0usize; shape.len()];
            start[0] = chunk.0;
            writer
                .write(path, start, Array::new(piece_shape, values(vals, p.single)))
                .await
                .map_err(internal)?;
        }
    }
    let file = writer.finish().await.map_err(internal)?;
    crate::http::netcdf_download(file, &col.id, "-edr")
        .await
        .map_err(|e| EdrError::Internal(e.to_string()))
}

/// Attributes of the stored form (packing, storage, `coordinates`), not carried over to
/// the decoded values written.
fn dropped(name: &str) -> bool {
    use crate::model::cf::{PACKING_ATTRIBUTES, STORAGE_ATTRIBUTES};
    PACKING_ATTRIBUTES.contains(&name)
        || STORAGE_ATTRIBUTES.contains(&name)
        || name == "coordinates"
}
