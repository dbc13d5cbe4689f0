//! OGC WMS 1.1.1 and 1.3.0: maps of every gridded variable, and of the observed
//! variables of observation (CF DSG) datasets drawn as points and tracks.
//!
//! `/wms` serves all datasets (layer `{id}/{variable}`), `/wms/{id}` one dataset
//! (layer `{variable}`, or `{id}/{variable}` too), `/wms/tiles/{layer}/{z}/{x}/{y}.png`
//! XYZ tiles in Web Mercator for Leaflet and OpenLayers.

mod caches;
mod capabilities;
pub mod crs;
mod draw;
pub mod encode;
mod error;
mod featureinfo;
mod get_capabilities;
mod get_feature_info;
mod get_legend;
mod get_map;
mod layer_data;
mod layers;
mod legend;
mod map_window;
mod obs_draw;
mod obs_layers;
mod obs_map;
mod obs_select;
mod overview;
pub mod params;
mod reduced;
pub mod render;
mod service;
pub mod style;
mod tiles;
mod time_extent;
mod version;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

pub use error::{ExceptionCode, WmsError};
pub use version::Version;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::service::{Endpoint, RequestInfo, Service, ThreddsService, WorkClass};
use axum::http::StatusCode;
use service::{Scope, Wms};

/// The WMS service's state: the app's, and the WMS with its caches.
#[derive(Clone)]
struct WmsState {
    app: AppState,
    wms: Arc<Wms>,
}

/// OGC WMS 1.1.1/1.3.0 and XYZ tiles over every gridded variable and observed variable.
pub struct WmsService {
    wms: Arc<Wms>,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    Arc::new(WmsService {
        wms: Arc::new(Wms::new(state)),
    })
}

impl Service for WmsService {
    fn name(&self) -> &'static str {
        "wms"
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/wms", get(all_datasets))
            .route("/wms/{*rest}", get(with_path))
            .with_state(WmsState {
                app: state.clone(),
                wms: self.wms.clone(),
            })
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "wms",
            "OGC WMS capabilities",
            format!("{base}/wms/{id}?SERVICE=WMS&REQUEST=GetCapabilities"),
            "text/xml",
        )]
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "wms",
            "OGC WMS (all datasets)",
            format!("{base}/wms?SERVICE=WMS&REQUEST=GetCapabilities"),
            "text/xml",
        )]
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/wms"]
    }

    fn error_response(&self, req: RequestInfo<'_>, status: StatusCode, message: &str) -> Response {
        let p = params::Params::parse(req.query);
        let err = WmsError {
            code: Some(ExceptionCode::NoApplicableCode),
            message: message.to_string(),
            status,
        };
        error::exception_response(&err, p.version(), error::ExceptionMode::Xml, None)
    }

    /// The dataset of `/wms/{id}` or of a tile's layer, and those of the layers named in
    /// LAYERS, QUERY_LAYERS and LAYER (`{id}/{variable}`).
    fn datasets(&self, state: &AppState, req: RequestInfo<'_>) -> Vec<String> {
        let resolve = |name: &str| {
            state
                .catalog
                .resolve(name.trim().trim_matches('/'))
                .map(|(id, _)| id)
        };
        let mut ids = Vec::new();
        if let Some(rest) = req.path.strip_prefix("/wms/") {
            ids.extend(service::TilePath::parse(rest).and_then(|t| resolve(&t.layer)));
            ids.extend(resolve(rest));
        }
        let p = params::Params::parse(req.query);
        for key in ["LAYERS", "QUERY_LAYERS", "LAYER"] {
            for name in p.non_empty(key).unwrap_or("").split(',') {
                ids.extend(resolve(name));
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// Maps and feature queries draw or sample grids; capabilities and legends do not.
    fn work_class(&self, req: RequestInfo<'_>) -> Option<WorkClass> {
        if req.path.starts_with("/wms/tiles/") {
            return Some(WorkClass::Render);
        }
        let p = params::Params::parse(req.query);
        let request = p.non_empty("REQUEST")?.to_ascii_lowercase();
        matches!(request.as_str(), "getmap" | "getfeatureinfo").then_some(WorkClass::Render)
    }

    fn thredds_services(&self) -> Vec<ThreddsService> {
        vec![ThreddsService {
            name: "wms",
            service_type: "WMS",
            base: "/wms/",
        }]
    }
}

async fn all_datasets(
    State(WmsState { app: state, wms }): State<WmsState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    wms.handle(&state, &viewer, Scope::All, &headers, query.as_deref())
        .await
}

async fn with_path(
    State(WmsState { app: state, wms }): State<WmsState>,
    Viewer(viewer): Viewer,
    Path(rest): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if rest.is_empty() {
        return wms
            .handle(&state, &viewer, Scope::All, &headers, query.as_deref())
            .await;
    }
    if let Some(tile) = service::TilePath::parse(&rest)
        && state.catalog.resolve(&tile.layer).is_some()
    {
        return wms.tile(&state, tile, query.as_deref()).await;
    }
    match state.catalog.resolve(&rest) {
        Some((id, tail)) if tail.is_empty() || tail == "/" => {
            wms.handle(
                &state,
                &viewer,
                Scope::Dataset(id),
                &headers,
                query.as_deref(),
            )
            .await
        }
        _ => service::not_found(&rest, query.as_deref()),
    }
}
