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
use crate::auth::Viewer;
use crate::http::{base_url, html_escape};
use crate::service::{Endpoint, Service};

/// The intake catalog and the per-dataset notebooks.
pub struct Intake;

pub fn service(_state: &AppState) -> std::sync::Arc<dyn Service> {
    std::sync::Arc::new(Intake)
}

impl Service for Intake {
    fn name(&self) -> &'static str {
        "intake"
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/intake/"]
    }

    /// `/datasets/{id}/...`: the notebook (and the web pages of other modules).
    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/intake/catalog.yaml", get(catalog))
            .with_state(state.clone())
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "notebook",
            "Jupyter notebook opening the dataset",
            format!("{base}/datasets/{id}/notebook.ipynb"),
            "application/x-ipynb+json",
        )]
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "intake",
            "intake catalog",
            format!("{base}/intake/catalog.yaml"),
            "application/yaml",
        )]
    }
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

async fn catalog(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    let mut out = String::from(
        "# intake catalog of the datasets served by datagate (intake-xarray drivers)\n\
         metadata:\n  version: 1\nsources:\n",
    );
    for (id, entry) in state.catalog.entries().iter() {
        if !state.visible(&viewer, id) {
            continue;
        }
        let name = source_name(id);
        let title = entry.title.clone().unwrap_or_else(|| id.clone());
        for endpoint in state.services.endpoints(&base, id) {
            let Some(source) = endpoint.intake else {
                continue;
            };
            let _ = write!(
                out,
                "  {name}{}:\n    description: {}\n    driver: {}\n    args:\n      urlpath: {}\n",
                source.name_suffix,
                quoted(&format!("{title}{}", source.description_suffix)),
                source.driver,
                quoted(&endpoint.href),
            );
            for (k, v) in source.args {
                let _ = writeln!(out, "      {k}: {v}");
            }
            let _ = writeln!(out, "    metadata:\n      datagate_id: {}", quoted(id));
        }
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

/// `/datasets/{id}/notebook.ipynb` (routed by the web interface, which answers the
/// rest of `/datasets/…`).
pub async fn notebook(
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
    let href = |rel: &str| {
        state
            .services
            .endpoints(&base, id)
            .into_iter()
            .find(|e| e.rel == rel)
            .map(|e| e.href)
    };
    // Titles come from file attributes: escaped, so they cannot inject markup.
    let mut cells = vec![
        cell_markdown(&format!(
            "# {}\n\nDataset `{}` served by datagate. The same data over OPeNDAP, virtual Zarr and OGC API EDR.",
            html_escape(&ds.title),
            html_escape(id)
        )),
        cell_code("import xarray as xr\nimport requests"),
    ];
    if let Some(url) = href("opendap") {
        cells.push(cell_markdown(
            "## OPeNDAP (DAP2), lazily with xarray's netCDF4 engine",
        ));
        cells.push(cell_code(&format!(
            "ds = xr.open_dataset({url:?}, engine=\"netcdf4\")\nds"
        )));
    }
    if let Some(url) = href("zarr") {
        cells.push(cell_markdown("## Virtual Zarr, chunk by chunk with dask"));
        cells.push(cell_code(&format!(
            "dz = xr.open_zarr({url:?}, consolidated=True)\ndz"
        )));
        if !var.is_empty() {
            cells.push(cell_code(&format!("dz[{var:?}]")));
        }
    }
    if let Some(url) = href("edr") {
        cells.push(cell_markdown(
            "## OGC API EDR: the collection's metadata and queries",
        ));
        cells.push(cell_code(&format!(
            "r = requests.get({url:?})\nr.status_code, (r.json().get(\"data_queries\") if r.ok else r.text)"
        )));
    }
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
