//! THREDDS InvCatalog 1.0 catalogs, so Siphon and THREDDS-aware tools can crawl
//! datagate: `/thredds/catalog.xml` lists every dataset and aggregation,
//! `/thredds/catalog/{collection}/catalog.xml` an aggregation's files.

use std::fmt::Write;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quick_xml::escape::escape;

use crate::app::AppState;
use crate::http::base_url;
use crate::service::{Endpoint, Service, ThreddsService};

/// THREDDS catalogs (Siphon) of every dataset, with an access service per service.
pub struct Thredds;

pub fn service(_state: &AppState) -> std::sync::Arc<dyn Service> {
    std::sync::Arc::new(Thredds)
}

impl Service for Thredds {
    fn name(&self) -> &'static str {
        "thredds"
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/thredds/"]
    }

    /// An aggregation's catalog (`/thredds/catalog/{id}/catalog.xml`).
    fn datasets(&self, state: &AppState, req: crate::service::RequestInfo<'_>) -> Vec<String> {
        crate::service::dataset_under(state, req.path, "/thredds/catalog/")
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/thredds/catalog.xml", get(top))
            .route("/thredds/catalog/{*path}", get(collection))
            .with_state(state.clone())
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "thredds",
            "THREDDS catalog",
            format!("{base}/thredds/catalog.xml"),
            "application/xml",
        )]
    }
}

fn xml(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn not_found(message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error status=\"404\">{}</error>\n",
        escape(message)
    );
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// The path part of the public base URL (`/datagate` behind a proxy, else empty):
/// service bases are absolute paths, which clients join to the catalog's host.
fn base_path(base: &str) -> String {
    let after_scheme = base.split_once("://").map_or(base, |(_, r)| r);
    after_scheme.find('/').map_or(String::new(), |i| {
        after_scheme[i..].trim_end_matches('/').to_string()
    })
}

fn open_catalog(out: &mut String, name: &str, prefix: &str, services: &[ThreddsService]) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <catalog xmlns=\"http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0\" \
         xmlns:xlink=\"http://www.w3.org/1999/xlink\" name=\"{}\" version=\"1.0.1\">\n\
         \x20 <service name=\"all\" serviceType=\"Compound\" base=\"\">\n",
        escape(name)
    );
    for s in services {
        let _ = writeln!(
            out,
            "    <service name=\"{}\" serviceType=\"{}\" base=\"{prefix}{}\"/>",
            s.name, s.service_type, s.base
        );
    }
    out.push_str("  </service>\n");
}

fn dataset_element(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(
        out,
        "    <dataset name=\"{}\" ID=\"{}\" urlPath=\"{}\"/>",
        escape(title),
        escape(id),
        escape(id)
    );
}

async fn top(
    State(state): State<AppState>,
    crate::auth::Viewer(viewer): crate::auth::Viewer,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    let prefix = base_path(&base);
    let entries = state.catalog.entries();
    let aggregates: Vec<(String, Vec<String>)> = entries
        .keys()
        .filter(|id| state.visible(&viewer, id))
        .filter_map(|id| {
            state
                .catalog
                .collection_members(id)
                .map(|m| (id.clone(), m))
        })
        .collect();
    let mut out = String::new();
    open_catalog(
        &mut out,
        "datagate",
        &prefix,
        &state.services.thredds_services(),
    );
    out.push_str("  <dataset name=\"datagate\" ID=\"datagate\">\n    <metadata inherited=\"true\">\n      <serviceName>all</serviceName>\n    </metadata>\n");
    for (id, entry) in entries.iter() {
        if !state.visible(&viewer, id)
            || aggregates
                .iter()
                .any(|(a, members)| a == id || members.contains(id))
        {
            continue;
        }
        dataset_element(&mut out, id, entry.title.as_deref().unwrap_or(id));
    }
    for (id, _) in &aggregates {
        let title = entries
            .get(id)
            .and_then(|e| e.title.clone())
            .unwrap_or_else(|| id.clone());
        let _ = writeln!(
            out,
            "    <catalogRef xlink:href=\"{prefix}/thredds/catalog/{}/catalog.xml\" xlink:title=\"{}\" name=\"\"/>",
            escape(id),
            escape(&title)
        );
    }
    out.push_str("  </dataset>\n</catalog>\n");
    xml(out)
}

async fn collection(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = path.strip_suffix("/catalog.xml") else {
        return not_found(&format!("no catalog at {path:?}"));
    };
    let Some(members) = state.catalog.collection_members(id) else {
        return not_found(&format!("no collection {id:?}"));
    };
    let base = base_url(&state, &headers);
    let prefix = base_path(&base);
    let title = state
        .catalog
        .entries()
        .get(id)
        .and_then(|e| e.title.clone())
        .unwrap_or_else(|| id.to_string());
    let mut out = String::new();
    open_catalog(
        &mut out,
        &title,
        &prefix,
        &state.services.thredds_services(),
    );
    let _ = writeln!(
        out,
        "  <dataset name=\"{}\" ID=\"{}\">\n    <metadata inherited=\"true\">\n      <serviceName>all</serviceName>\n    </metadata>",
        escape(&title),
        escape(id)
    );
    dataset_element(
        &mut out,
        id,
        &format!("{title} (aggregation of {} files)", members.len()),
    );
    for m in &members {
        let name = m.rsplit('/').next().unwrap_or(m);
        dataset_element(&mut out, m, name);
    }
    out.push_str("  </dataset>\n</catalog>\n");
    xml(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(base_path("http://h:8080"), "");
        assert_eq!(base_path("https://h/datagate/"), "/datagate");
    }
}
