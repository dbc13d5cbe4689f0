//! `/opendap/{id}{suffix}`: DAP2 and DAP4 share one URL space and the suffix decides.
//! This service owns that space and dispatches to the two protocol modules, which
//! know nothing of each other.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;

use crate::app::{AppState, OpendapRequest};
use crate::service::{Endpoint, IntakeSource, RequestInfo, Service, ThreddsService, WorkClass};

/// Suffixes answered by DAP4; every other one goes to DAP2.
const DAP4_SUFFIXES: &[&str] = &[".dmr", ".dmr.xml", ".dap", ".dmr.html", ".dsr", ".dsr.xml"];

/// Suffixes whose answers read data (the rest is metadata).
const DATA_SUFFIXES: &[&str] = &[".dods", ".dap", ".ascii", ".asc", ".nc", ".csv"];

fn is_dap4_path(path: &str) -> bool {
    DAP4_SUFFIXES.iter().any(|s| path.ends_with(s))
}

/// The OPeNDAP service and the caches of its two protocols.
pub struct Opendap {
    caches: Arc<Caches>,
}

struct Caches {
    dap2: crate::dap2::Dap2Caches,
    checksums: crate::dap4::data::Checksums,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    let (cache, metrics) = (&state.config.cache, &state.metrics);
    Arc::new(Opendap {
        caches: Arc::new(Caches {
            dap2: crate::dap2::Dap2Caches::new(cache, metrics),
            checksums: crate::cache::ViewCache::new("dap4_checksum", cache.derived_bytes, metrics),
        }),
    })
}

impl Service for Opendap {
    fn name(&self) -> &'static str {
        "opendap"
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/opendap/{*path}", get(dispatch).head(dispatch))
            .with_state(OpendapState {
                app: state.clone(),
                caches: self.caches.clone(),
            })
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        vec![
            Endpoint::new(
                "opendap",
                "OPeNDAP (DAP2 and DAP4) data access",
                format!("{base}/opendap/{id}"),
                "text/html",
            )
            .roles(&["data"])
            .intake(IntakeSource {
                driver: "opendap",
                name_suffix: "",
                description_suffix: "",
                args: &[("engine", "netcdf4")],
            }),
            Endpoint::new(
                "dap2-form",
                "OPeNDAP DAP2 request form",
                format!("{base}/opendap/{id}.html"),
                "text/html",
            ),
            Endpoint::new(
                "dap4",
                "OPeNDAP DAP4 metadata (DMR)",
                format!("{base}/opendap/{id}.dmr.xml"),
                "application/vnd.opendap.dap4.dataset-metadata+xml",
            )
            .roles(&["metadata"]),
            Endpoint::new(
                "netcdf",
                "NetCDF-4 download",
                format!("{base}/opendap/{id}.nc"),
                "application/x-netcdf",
            )
            .roles(&["data"]),
        ]
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/opendap/"]
    }

    fn error_response(&self, req: RequestInfo<'_>, status: StatusCode, message: &str) -> Response {
        if is_dap4_path(req.path) {
            crate::dap4::error_response(status, message)
        } else {
            crate::dap2::error_response(status, message)
        }
    }

    fn datasets(&self, state: &AppState, req: RequestInfo<'_>) -> Vec<String> {
        crate::service::dataset_under(state, req.path, "/opendap/")
    }

    fn work_class(&self, req: RequestInfo<'_>) -> Option<WorkClass> {
        DATA_SUFFIXES
            .iter()
            .any(|s| req.path.ends_with(s))
            .then_some(WorkClass::Read)
    }

    fn thredds_services(&self) -> Vec<ThreddsService> {
        vec![
            ThreddsService {
                name: "odap",
                service_type: "OPENDAP",
                base: "/opendap/",
            },
            ThreddsService {
                name: "dap4",
                service_type: "DAP4",
                base: "/opendap/",
            },
        ]
    }
}

#[derive(Clone)]
struct OpendapState {
    app: AppState,
    caches: Arc<Caches>,
}

async fn dispatch(
    State(OpendapState { app: state, caches }): State<OpendapState>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let req = OpendapRequest {
        method,
        query,
        headers,
    };
    let is_dap4 = |suffix: &str| DAP4_SUFFIXES.contains(&suffix);
    match state.catalog.resolve(&path) {
        Some((id, suffix)) if is_dap4(suffix) => {
            let suffix = suffix.to_string();
            crate::dap4::respond(state, &caches.checksums, id, suffix, req).await
        }
        Some((id, suffix)) => {
            let suffix = suffix.to_string();
            crate::dap2::respond(state, &caches.dap2, id, suffix, req).await
        }
        None if is_dap4_path(&path) => {
            crate::dap4::error_response(StatusCode::NOT_FOUND, &format!("no dataset at {path:?}"))
        }
        None => {
            crate::dap2::error_response(StatusCode::NOT_FOUND, &format!("no dataset at {path:?}"))
        }
    }
}
