//! `.nc`: the constrained variables as a NetCDF-4 file (groups and types as in the
//! source, 64-bit integers included only if DAP2 could name them, i.e. never).

use std::collections::HashMap;
use std::sync::Arc;

use axum::response::Response;

use super::error::Dap2Error;
use super::selection::{Projected, Selected};
use crate::catalog::Dataset;
use crate::model::{DatasetMeta, DimRef, Dimension, Group, Variable};
use crate::subset::Hyperslab;
use crate::writers::NetcdfWriter;

fn group_mut<'a>(root: &'a mut Group, path: &str) -> &'a mut Group {
    let mut g = root;
    let mut so_far = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        so_far = format!("{so_far}/{part}");
        let i = match g.groups.iter().position(|c| c.name == part) {
            Some(i) => i,
            None => {
                g.groups.push(Group {
                    name: part.to_string(),
                    path: so_far.clone(),
                    ..Default::default()
                });
                g.groups.len() - 1
            }
        };
        g = &mut g.groups[i];
    }
    g
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The output's structure: each selected variable with its dimensions shortened to the
/// selection; a dimension used with two different lengths gets a second name.
fn output_meta(
    source: &DatasetMeta,
    selected: &[&Selected],
) -> Result<(DatasetMeta, Vec<(String, Hyperslab)>), Dap2Error> {
    let mut root = Group {
        path: "/".into(),
        attributes: source.root.attributes.clone(),
        ..Default::default()
    };
    let mut dims: HashMap<(String, usize), String> = HashMap::new();
    let mut seen: HashMap<String, Hyperslab> = HashMap::new();
    let mut copies = Vec::new();
    for s in selected {
        let var = &s.array.var;
        let slab = s.source_slab();
        if let Some(prev) = seen.get(&var.path) {
            if *prev == slab {
                continue;
            }
            return Err(Dap2Error::BadRequest(format!(
                "{} is requested twice with different index ranges; a NetCDF file holds it once",
                s.array.name
            )));
        }
        seen.insert(var.path.clone(), slab.clone());
        let mut out_dims = Vec::new();
        for (d, slice) in var.dims.iter().zip(&slab.dims) {
            let key = (d.path.clone(), slice.count);
            let name = match dims.get(&key) {
                Some(n) => n.clone(),
                None => {
                    let taken = dims.keys().any(|(p, _)| *p == d.path);
                    let name = if taken {
                        format!("{}_{}", d.name, slice.count)
                    } else {
                        d.name.clone()
                    };
                    let unlimited =
                        !taken && source.dimension(&d.path).is_some_and(|x| x.unlimited);
                    let g = group_mut(&mut root, parent(&d.path));
                    g.dimensions.push(Dimension {
                        name: name.clone(),
                        path: format!("{}/{name}", g.path.trim_end_matches('/')),
                        len: slice.count,
                        unlimited,
                    });
                    dims.insert(key, name.clone());
                    name
                }
            };
            out_dims.push(DimRef {
                name,
                path: d.path.clone(),
                len: slice.count,
            });
        }
        let group_path = var.group_path().to_string();
        if let Some(src_group) = source.root.group(&group_path) {
            let g = group_mut(&mut root, &group_path);
            if g.attributes.is_empty() && group_path != "/" {
                g.attributes = src_group.attributes.clone();
            }
        }
        group_mut(&mut root, &group_path).variables.push(Variable {
            dims: out_dims,
            chunks: None,
            ..var.clone()
        });
        copies.push((var.path.clone(), slab));
    }
    Ok((DatasetMeta { root }, copies))
}

/// HEAD of a download: the request is checked as a GET's would be (same status for the
/// same faults), but no file is written. No `Content-Length`: a NetCDF-4 file's size
/// is known only once written; a body of unknown length keeps the server from
/// announcing a length of zero.
pub fn netcdf_head(ds: &Dataset, projected: &[Projected]) -> Result<Response, Dap2Error> {
    let selected: Vec<&Selected> = projected.iter().flat_map(|p| p.members()).collect();
    output_meta(&ds.meta, &selected)?;
    let no_body = futures::stream::empty::<Result<bytes::Bytes, std::convert::Infallible>>();
    let mut r = Response::new(axum::body::Body::from_stream(no_body));
    crate::http::netcdf_download_headers(r.headers_mut(), &ds.id, "");
    Ok(r)
}

pub async fn netcdf(
    ds: &Arc<Dataset>,
    projected: &[Projected],
    block_bytes: usize,
) -> Result<Response, Dap2Error> {
    let selected: Vec<&Selected> = projected.iter().flat_map(|p| p.members()).collect();
    let (meta, copies) = output_meta(&ds.meta, &selected)?;
    let internal = |e: crate::writers::WriteError| match e {
        crate::writers::WriteError::Read(e) => Dap2Error::from(e),
        other => Dap2Error::Internal(other.to_string()),
    };
    let writer = NetcdfWriter::create(&meta, None).await.map_err(internal)?;
    for (path, slab) in &copies {
        writer
            .copy_from(ds, path, slab, path, block_bytes)
            .await
            .map_err(internal)?;
    }
    let path = writer.finish().await.map_err(internal)?;
    crate::http::netcdf_download(path, &ds.id, "")
        .await
        .map_err(|e| Dap2Error::Internal(e.to_string()))
}
