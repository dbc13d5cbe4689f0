//! DAP2 errors and their one mapping to HTTP responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::catalog::{CatalogError, Dataset};
use crate::readers::ReadError;
use crate::storage::{Location, StorageError};

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

/// The text of a read error that a client may see: what failed, without the file's
/// path or the storage URL (those name the server's layout; the log has them).
pub fn public_read_message(e: &ReadError) -> String {
    match e {
        ReadError::Format { message, .. } => format!("cannot read the dataset: {message}"),
        ReadError::Storage(s) => match s {
            StorageError::NotFound(_) => "the dataset's file is missing from storage".into(),
            StorageError::Backend { .. } => "the storage behind the dataset failed".into(),
            StorageError::Timeout(_) => "the storage behind the dataset timed out".into(),
            StorageError::InvalidLocation(_) => "the dataset's location is invalid".into(),
            StorageError::Changed(_) => {
                "the dataset changed at the source during the read; retry".into()
            }
        },
        other => other.to_string(),
    }
}

/// The text of a catalog error that a client may see (see `public_read_message`).
pub fn public_catalog_message(e: &CatalogError) -> String {
    match e {
        CatalogError::NotFound(_) => e.to_string(),
        CatalogError::Unavailable { id, source } => format!(
            "dataset {id:?} is unavailable: {}",
            public_read_message(source)
        ),
    }
}

/// `message` with every spelling of the dataset's location replaced by its id: a last
/// guard for paths that lower layers (netCDF-C, HDF5) put in their own messages.
pub fn redact_location(message: &str, ds: &Dataset) -> String {
    let mut out = message.to_string();
    let mut spellings = vec![ds.location.to_string()];
    if let Location::Local(p) = &ds.location {
        spellings.push(p.display().to_string());
    }
    for s in spellings.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), &ds.id);
    }
    // Other files of the same directory (a sidecar, a temporary copy).
    if let Location::Local(p) = &ds.location
        && let Some(dir) = p.parent().filter(|d| d.as_os_str().len() > 1)
    {
        out = out.replace(&dir.display().to_string(), "<data>");
    }
    out
}

impl From<CatalogError> for Dap2Error {
    fn from(e: CatalogError) -> Self {
        let message = public_catalog_message(&e);
        match e {
            CatalogError::NotFound(_) => Dap2Error::NotFound(message),
            CatalogError::Unavailable { .. } => {
                tracing::warn!("dap2: {e}");
                Dap2Error::Unavailable {
                    status: e.status(),
                    message,
                }
            }
        }
    }
}

impl From<ReadError> for Dap2Error {
    fn from(e: ReadError) -> Self {
        let message = public_read_message(&e);
        if matches!(e, ReadError::Storage(_) | ReadError::Format { .. }) {
            // The full text, path included, for the operator only.
            tracing::warn!("dap2: {e}");
        }
        match e {
            ReadError::NoSuchVariable(_) => Dap2Error::NotFound(message),
            ReadError::Subset(_) => Dap2Error::BadRequest(message),
            ReadError::Storage(_) => Dap2Error::Unavailable {
                status: e.upstream_status().unwrap_or(502),
                message,
            },
            _ => Dap2Error::Internal(message),
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
