//! DAP2 errors and their one mapping to HTTP responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::catalog::{CatalogError, Dataset, ReadError};
use crate::error::{ErrorKind, Kinded};
use crate::http::redact_location;

#[derive(Debug, Error)]
pub enum Dap2Error {
    #[error("{0}")]
    NotFound(String),
    /// A malformed constraint expression, an unknown variable, an index out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The response would exceed `limits.max_response_bytes` (`size` is `None` when
    /// it does not even fit a u64).
    #[error("{}", too_large(*size, *limit))]
    TooLarge { size: Option<u64>, limit: u64 },
    /// The dataset or its storage failed: the status `CatalogError::status` gives every
    /// protocol (502/504 for storage, 503 for an unreadable file).
    #[error("{message}")]
    Unavailable { status: u16, message: String },
    #[error("{0}")]
    Internal(String),
}

fn too_large(size: Option<u64>, limit: u64) -> String {
    let size = size.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
    format!(
        "the response would be {size} bytes, more than this server's limit of {limit} bytes; request a smaller subset"
    )
}

impl From<CatalogError> for Dap2Error {
    fn from(e: CatalogError) -> Self {
        if !e.kind().is_client_error() {
            // The whole text, paths included, for the operator only.
            tracing::warn!("dap2: {e:?}");
        }
        Dap2Error::of_kind(e.kind(), e.to_string())
    }
}

impl From<ReadError> for Dap2Error {
    fn from(e: ReadError) -> Self {
        if !e.kind().is_client_error() {
            tracing::warn!("dap2: {e}");
        }
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
    /// The same error with the dataset's location replaced by its id.
    pub fn redacted(self, ds: &Dataset) -> Dap2Error {
        let r = |m: String| redact_location(&m, ds);
        match self {
            Dap2Error::NotFound(m) => Dap2Error::NotFound(r(m)),
            Dap2Error::BadRequest(m) => Dap2Error::BadRequest(r(m)),
            Dap2Error::Internal(m) => Dap2Error::Internal(r(m)),
            Dap2Error::Unavailable { status, message } => Dap2Error::Unavailable {
                status,
                message: r(message),
            },
            e @ Dap2Error::TooLarge { .. } => e,
        }
    }

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
