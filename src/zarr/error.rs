//! Zarr errors and their one mapping to HTTP responses. Clients treat only 404 as
//! "absent", so every probe of a key that does not exist gets a 404.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::catalog::CatalogError;
use crate::catalog::ReadError;
use crate::error::Kinded;

#[derive(Debug, Error)]
pub enum ZarrError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("dataset unavailable: {0}")]
    Unavailable(String),
    #[error("read failed: {}", .0.public_message())]
    Read(#[from] ReadError),
    /// A shared failure seen by another waiter of the same cached computation.
    #[error("{message}")]
    Again { status: StatusCode, message: String },
}

impl From<CatalogError> for ZarrError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound(id) => ZarrError::NotFound(format!("no dataset {id:?}")),
            // Storage failures keep their 502/504; unreadable files are 503.
            other => ZarrError::Again {
                status: other.kind().status(),
                message: format!("dataset unavailable: {other}"),
            },
        }
    }
}

impl ZarrError {
    /// The error of a cached computation another request may share.
    pub fn shared(e: std::sync::Arc<ZarrError>) -> ZarrError {
        std::sync::Arc::try_unwrap(e).unwrap_or_else(|e| ZarrError::Again {
            status: e.status(),
            message: e.to_string(),
        })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ZarrError::Again { status, .. } => *status,
            ZarrError::NotFound(_) => StatusCode::NOT_FOUND,
            ZarrError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ZarrError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ZarrError::Read(e) => e.kind().status(),
        }
    }
}

impl IntoResponse for ZarrError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("zarr: {self}");
        }
        let body = serde_json::json!({"code": status.as_u16(), "description": self.to_string()});
        (status, Json(body)).into_response()
    }
}
