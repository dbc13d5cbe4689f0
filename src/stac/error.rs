//! STAC API errors and their one mapping to HTTP: OGC API JSON with a code name.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StacError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
}

impl IntoResponse for StacError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            StacError::BadRequest(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValue"),
            StacError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
        };
        (
            status,
            Json(json!({"code": code, "description": self.to_string()})),
        )
            .into_response()
    }
}
