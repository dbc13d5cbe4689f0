//! DAP4 errors and their one mapping to HTTP responses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Dap4Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for Dap4Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Dap4Error::NotFound(_) => StatusCode::NOT_FOUND,
            Dap4Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        error_response(status, &self.to_string())
    }
}

fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A DAP4 error document: `<Error httpcode="N"><Message>...</Message></Error>`.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error httpcode=\"{}\">\n  <Message>{}</Message>\n</Error>\n",
        status.as_u16(),
        xml_escape(message)
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/vnd.opendap.dap4.error+xml",
        )],
        body,
    )
        .into_response()
}
