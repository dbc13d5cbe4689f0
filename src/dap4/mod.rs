//! OPeNDAP DAP4.

mod error;

use axum::http::StatusCode;
use axum::response::Response;

pub use error::{Dap4Error, error_response};

use crate::server::{AppState, OpendapRequest};

/// Answers `/opendap/{id}{suffix}` for DAP4 suffixes.
pub async fn respond(
    _state: AppState,
    id: String,
    suffix: String,
    _req: OpendapRequest,
) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        &format!("{id}{suffix}: DAP4 responses are not implemented yet"),
    )
}
