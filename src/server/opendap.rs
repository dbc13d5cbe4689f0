//! `/opendap/{id}{suffix}`: DAP2 and DAP4 share one URL space; the suffix decides.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use crate::app::{AppState, OpendapRequest};

/// Suffixes answered by DAP4; every other one goes to DAP2.
const DAP4_SUFFIXES: &[&str] = &[".dmr", ".dmr.xml", ".dap", ".dmr.html", ".dsr", ".dsr.xml"];

pub async fn dispatch(
    State(state): State<AppState>,
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
            crate::dap4::respond(state, id, suffix, req).await
        }
        Some((id, suffix)) => {
            let suffix = suffix.to_string();
            crate::dap2::respond(state, id, suffix, req).await
        }
        None if DAP4_SUFFIXES.iter().any(|s| path.ends_with(s)) => {
            crate::dap4::error_response(StatusCode::NOT_FOUND, &format!("no dataset at {path:?}"))
        }
        None => {
            crate::dap2::error_response(StatusCode::NOT_FOUND, &format!("no dataset at {path:?}"))
        }
    }
}
