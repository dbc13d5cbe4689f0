//! An intake catalog of every dataset (`/intake/catalog.yaml`, intake-xarray's opendap
//! and zarr drivers) and a sample Jupyter notebook per dataset
//! (`/datasets/{id}/notebook.ipynb`) showing DAP, Zarr and EDR access.

use std::fmt::Write;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

use crate::app::AppState;
use crate::http::base_url;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/intake/catalog.yaml", get(catalog))
        .route("/datasets/{*path}", get(notebook))
}

/// intake source names are identifiers: other characters become `_`.
fn source_name(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// A YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

async fn catalog(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    let mut out = String::from(
        "# intake catalog of the datasets served by datagate (intake-xarray drivers)\n\
         metadata:\n  version: 1\nsources:\n",
    );
    for (id, entry) in state.catalog.entries().iter() {
        let name = source_name(id);
        let title = entry.title.clone().unwrap_or_else(|| id.clone());
        let _ = write!(
            out,
            "  {name}:\n    description: {}\n    driver: opendap\n    args:\n      urlpath: {}\n      engine: netcdf4\n    metadata:\n      datagate_id: {}\n",
            quoted(&title),
            quoted(&format!("{base}/opendap/{id}")),
            quoted(id),
        );
        let _ = write!(
            out,
            "  {name}_zarr:\n    description: {}\n    driver: zarr\n    args:\n      urlpath: {}\n      consolidated: true\n    metadata:\n      datagate_id: {}\n",
            quoted(&format!("{title} (virtual Zarr)")),
            quoted(&format!("{base}/zarr/{id}")),
            quoted(id),
        );
    }
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        out,
    )
        .into_response()
}

fn cell_markdown(text: &str) -> serde_json::Value {
    json!({"cell_type": "markdown", "metadata": {}, "source": text})
}

fn cell_code(code: &str) -> serde_json::Value {
    json!({"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": code})
}

async fn notebook(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let not_found = |m: String| {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"code": 404, "description": m})),
        )
            .into_response()
    };
    let Some(id) = path.strip_suffix("/notebook.ipynb") else {
        return not_found(format!("no resource /datasets/{path}"));
    };
    let ds = match state.catalog.open(id).await {
        Ok(ds) => ds,
        Err(e) => {
            use crate::error::Kinded;
            return crate::http::json_error(e.kind().status(), e.to_string());
        }
    };
    let base = base_url(&state, &headers);
    // A variable to show: the first with the most dimensions.
    let mut vars = ds.meta.variables();
    vars.sort_by_key(|v| std::cmp::Reverse(v.dims.len()));
    let var = vars.first().map(|v| v.name.clone()).unwrap_or_default();
    let mut cells = vec![
        cell_markdown(&format!(
            "# {}\n\nDataset `{id}` served by datagate. The same data over OPeNDAP, virtual Zarr and OGC API EDR.",
            ds.title
        )),
        cell_code("import xarray as xr\nimport requests"),
        cell_markdown("## OPeNDAP (DAP2), lazily with xarray's netCDF4 engine"),
        cell_code(&format!(
            "ds = xr.open_dataset({:?}, engine=\"netcdf4\")\nds",
            format!("{base}/opendap/{id}")
        )),
        cell_markdown("## Virtual Zarr, chunk by chunk with dask"),
        cell_code(&format!(
            "dz = xr.open_zarr({:?}, consolidated=True)\ndz",
            format!("{base}/zarr/{id}")
        )),
    ];
    if !var.is_empty() {
        cells.push(cell_code(&format!("dz[{var:?}]")));
    }
    cells.push(cell_markdown(
        "## OGC API EDR: the collection's metadata and queries",
    ));
    cells.push(cell_code(&format!(
        "r = requests.get({:?})\nr.status_code, (r.json().get(\"data_queries\") if r.ok else r.text)",
        format!("{base}/edr/collections/{id}")
    )));
    Json(json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells.into_iter().enumerate().map(|(i, mut c)| { c["id"] = json!(format!("cell-{i}")); c }).collect::<Vec<_>>(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(source_name("sst/2023/a.nc"), "sst_2023_a_nc");
        assert_eq!(source_name("1x"), "_1x");
        assert_eq!(quoted("a \"b\""), "\"a \\\"b\\\"\"");
    }
}
