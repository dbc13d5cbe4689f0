//! DAP2 errors and their one mapping to HTTP responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::catalog::CatalogError;
use crate::catalog::ReadError;
use crate::error::{ErrorKind, Kinded};

#[derive(Debug, Error)]
pub enum Dap2Error {
    #[error("{0}")]
    NotFound(String),
    /// A malformed constraint expression, an unknown variable, an index out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The response would exceed `limits.max_response_bytes`.
    #[error(
        "the response would be {size} bytes, more than this server's limit of {limit} bytes; request a smaller subset"
    )]
    TooLarge { size: u64, limit: u64 },
    /// The dataset or its storage failed: the status `CatalogError::status` gives every
    /// protocol (502/504 for storage, 503 for an unreadable file).
    #[error("{message}")]
    Unavailable { status: u16, message: String },
    #[error("{0}")]
    Internal(String),
}

impl From<CatalogError> for Dap2Error {
    fn from(e: CatalogError) -> Self {
        Dap2Error::of_kind(e.kind(), e.to_string())
    }
}

impl From<ReadError> for Dap2Error {
    fn from(e: ReadError) -> Self {
        Dap2Error::of_kind(e.kind(), e.public_message())
    }
}

impl Dap2Error {
    /// The one place an error kind becomes a DAP2 error.
    pub fn of_kind(kind: ErrorKind, message: String) -> Dap2Error {
        match kind {
            ErrorKind::NotFound => Dap2Error::NotFound(message),
            ErrorKind::BadRequest | ErrorKind::TooLarge => Dap2Error::BadRequest(message),
            ErrorKind::Internal => Dap2Error::Internal(message),
            other => Dap2Error::Unavailable {
                status: other.status().as_u16(),
                message,
            },
        }
    }
}

impl Dap2Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Dap2Error::NotFound(_) => StatusCode::NOT_FOUND,
            // Hyrax answers an over-limit request with 400 too; netCDF-C only needs a 4xx.
            Dap2Error::BadRequest(_) | Dap2Error::TooLarge { .. } => StatusCode::BAD_REQUEST,
            Dap2Error::Unavailable { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            Dap2Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Dap2Error {
    fn into_response(self) -> Response {
        if matches!(self, Dap2Error::Internal(_) | Dap2Error::Unavailable { .. }) {
            tracing::error!("dap2: {self}");
        }
        error_response(self.status(), &self.to_string())
    }
}

/// A DAP2 error body: `Error { code = N; message = "..."; };` with quotes and
/// backslashes escaped (netCDF-C's parser needs both, and the final `;`).
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
    let body = format!(
        "Error {{\n    code = {};\n    message = \"{}\";\n}};\n",
        status.as_u16(),
        escaped
    );
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (
                header::HeaderName::from_static("content-description"),
                "dods_error",
            ),
        ],
        body,
    )
        .into_response();
    super::headers::add_server_headers(response.headers_mut());
    response
}
