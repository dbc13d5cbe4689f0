//! DAP4 errors and their one mapping to responses: the `<Error httpcode>` document with
//! that status before streaming starts, and the same document in an error chunk after.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use super::ce::CeError;
use super::selection::SelectError;
use crate::catalog::{CatalogError, Dataset, ReadError};
use crate::error::{ErrorKind, Kinded};
use crate::http::redact_location;

#[derive(Debug, Error)]
pub enum Dap4Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Larger than `limits.max_response_bytes` (403, as TDS answers "Request too big").
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Internal(String),
    /// The dataset or its storage failed: 503, or 502/504 for the storage behind it.
    #[error("{message}")]
    Unavailable { status: u16, message: String },
}

impl Dap4Error {
    /// The same error with the dataset's location replaced by its id.
    pub fn redacted(self, ds: &Dataset) -> Dap4Error {
        let r = |m: String| redact_location(&m, ds);
        match self {
            Dap4Error::NotFound(m) => Dap4Error::NotFound(r(m)),
            Dap4Error::BadRequest(m) => Dap4Error::BadRequest(r(m)),
            Dap4Error::TooLarge(m) => Dap4Error::TooLarge(r(m)),
            Dap4Error::Internal(m) => Dap4Error::Internal(r(m)),
            Dap4Error::Unavailable { status, message } => Dap4Error::Unavailable {
                status,
                message: r(message),
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Dap4Error::NotFound(_) => StatusCode::NOT_FOUND,
            Dap4Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Dap4Error::TooLarge(_) => StatusCode::FORBIDDEN,
            Dap4Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Dap4Error::Unavailable { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

impl From<CatalogError> for Dap4Error {
    fn from(e: CatalogError) -> Self {
        if !e.kind().is_client_error() {
            // The whole text, paths included, for the operator only.
            tracing::warn!("dap4: {e:?}");
        }
        Dap4Error::of_kind(e.kind(), e.to_string())
    }
}

impl Dap4Error {
    /// The one place an error kind becomes a DAP4 error.
    pub fn of_kind(kind: ErrorKind, message: String) -> Dap4Error {
        match kind {
            ErrorKind::NotFound => Dap4Error::NotFound(message),
            ErrorKind::BadRequest => Dap4Error::BadRequest(message),
            ErrorKind::TooLarge => Dap4Error::TooLarge(message),
            ErrorKind::Internal => Dap4Error::Internal(message),
            other => Dap4Error::Unavailable {
                status: other.status().as_u16(),
                message,
            },
        }
    }
}

impl From<CeError> for Dap4Error {
    fn from(e: CeError) -> Self {
        Dap4Error::BadRequest(e.to_string())
    }
}

impl From<SelectError> for Dap4Error {
    fn from(e: SelectError) -> Self {
        Dap4Error::BadRequest(e.to_string())
    }
}

impl From<ReadError> for Dap4Error {
    fn from(e: ReadError) -> Self {
        if !e.kind().is_client_error() {
            tracing::warn!("dap4: {e}");
        }
        Dap4Error::of_kind(e.kind(), e.public_message())
    }
}

impl IntoResponse for Dap4Error {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!("dap4: {self}");
        }
        error_response(self.status(), &self.to_string())
    }
}

/// The DAP4 error document.
pub fn error_document(status: StatusCode, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error httpcode=\"{}\">\n  <Message>{}</Message>\n</Error>\n",
        status.as_u16(),
        quick_xml::escape::escape(message)
    )
}

/// A DAP4 error response: `<Error httpcode="N"><Message>...</Message></Error>`.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/vnd.opendap.dap4.error+xml; charset=UTF-8",
        )],
        error_document(status, message),
    )
        .into_response()
}

/// The error chunk that ends a data response failing after streaming started.
pub fn error_chunk(e: &Dap4Error) -> bytes::Bytes {
    tracing::error!("dap4: response failed mid-stream: {e}");
    super::chunk::error_chunk(&error_document(e.status(), &e.to_string()))
}
