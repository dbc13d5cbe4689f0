//! The landing page, `/datasets`, `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::{Principal, Viewer};
use crate::catalog::Dataset;
use crate::endpoint::{Endpoint, EndpointDirectory};
use crate::http::base_url;

#[derive(Serialize)]
struct VariableInfo {
    name: String,
    path: String,
    dims: Vec<String>,
    shape: Vec<usize>,
    dtype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    long_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    units: Option<String>,
}

#[derive(Serialize)]
struct DatasetInfo {
    id: String,
    title: String,
    format: &'static str,
    variables: Vec<VariableInfo>,
    links: Vec<Link>,
}

#[derive(Serialize)]
struct Link {
    rel: &'static str,
    href: String,
    title: &'static str,
    #[serde(rename = "type")]
    media_type: &'static str,
}

impl From<Endpoint> for Link {
    fn from(e: Endpoint) -> Link {
        Link {
            rel: e.rel,
            href: e.href,
            title: e.title,
            media_type: e.media_type,
        }
    }
}

/// The endpoints of a dataset in every service.
fn links(services: &dyn EndpointDirectory, base: &str, id: &str) -> Vec<Link> {
    services
        .endpoints(base, id)
        .into_iter()
        .map(Link::from)
        .collect()
}

fn info(services: &dyn EndpointDirectory, base: &str, ds: &Dataset) -> DatasetInfo {
    DatasetInfo {
        id: ds.id.clone(),
        title: ds.title.clone(),
        format: ds.format().name(),
        variables: ds
            .meta
            .variables()
            .into_iter()
            .map(|v| VariableInfo {
                name: v.name.clone(),
                path: v.path.clone(),
                dims: v.dims.iter().map(|d| d.name.clone()).collect(),
                shape: v.shape(),
                dtype: v.dtype.name(),
                long_name: v.attr("long_name").and_then(|a| a.as_text()),
                units: v.attr("units").and_then(|a| a.as_text()),
            })
            .collect(),
        links: links(services, base, &ds.id),
    }
}

/// Opens every catalogued dataset (from the cache when warm); unreadable ones are
/// logged and left out.
async fn open_all(state: &AppState, viewer: &Principal) -> Vec<std::sync::Arc<Dataset>> {
    let ids: Vec<String> = state
        .catalog
        .entries()
        .keys()
        .filter(|id| state.visible(viewer, id))
        .cloned()
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match state.catalog.open(&id).await {
            Ok(ds) => out.push(ds),
            Err(e) => tracing::warn!("{e}"),
        }
    }
    out
}

pub async fn datasets(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    let all = open_all(&state, &viewer).await;
    let list: Vec<DatasetInfo> = all
        .iter()
        .map(|ds| info(state.services.as_ref(), &base, ds))
        .collect();
    Json(serde_json::json!({ "datasets": list })).into_response()
}

/// The landing document for clients that ask for JSON (browsers get the web
/// interface's catalog page, which routes `/`).
pub fn landing_json(state: &AppState, viewer: &Principal, headers: &HeaderMap) -> Response {
    let base = base_url(state, headers);
    let entries = state.catalog.entries();
    let list: Vec<_> = entries
        .values()
        .filter(|e| state.visible(viewer, &e.id))
        .map(|e| {
            serde_json::json!({
                "id": e.id,
                "title": e.title.clone().unwrap_or_else(|| e.id.clone()),
                "links": links(state.services.as_ref(), &base, &e.id),
            })
        })
        .collect();
    Json(serde_json::json!({
        "title": "datagate",
        "version": env!("CARGO_PKG_VERSION"),
        "links": std::iter::once(Link {
            rel: "data",
            href: format!("{base}/datasets"),
            title: "Datasets with variables",
            media_type: "application/json",
        })
        .chain(state.services.service_links(&base).into_iter().map(Link::from))
        .collect::<Vec<_>>(),
        "datasets": list,
    }))
    .into_response()
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Looks for new datasets now: new files under roots and globs (local or object
/// store), and rebuilds aggregations (new or changed files under their globs).
pub async fn rescan(State(state): State<AppState>) -> Response {
    let problems = state.catalog.refresh(&state.config).await;
    Json(serde_json::json!({
        "datasets": state.catalog.len(),
        "problems": problems,
    }))
    .into_response()
}
