//! DAP2 errors and their one mapping to HTTP responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Dap2Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for Dap2Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Dap2Error::NotFound(_) => StatusCode::NOT_FOUND,
            Dap2Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        error_response(status, &self.to_string())
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
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (
                header::HeaderName::from_static("content-description"),
                "dods-error",
            ),
        ],
        body,
    )
        .into_response()
}
