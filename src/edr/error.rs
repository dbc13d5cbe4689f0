//! EDR errors and their one mapping to HTTP: OGC API problem JSON (RFC 7807 members
//! `type`, `title`, `status`, `detail`, plus the `code`/`description` pair that EDR
//! clients read), or an empty 204 when a query selects no data.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::catalog::CatalogError;
use crate::catalog::ReadError;
use crate::error::{ErrorKind, Kinded};

#[derive(Debug, Error)]
pub enum EdrError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the response would need {bytes} bytes of data, more than the limit of {limit}")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("the query selects no data")]
    NoData,
    /// The storage behind a dataset failed (502), timed out (504), or the file cannot be
    /// read (503).
    #[error("{1}")]
    Upstream(u16, String),
    #[error("{0}")]
    Internal(String),
    /// Refused by the server before the query ran (overload, time-out, a URL too long).
    #[error("{1}")]
    Refused(StatusCode, String),
}

pub type EdrResult<T> = Result<T, EdrError>;

impl EdrError {
    pub fn bad(msg: impl Into<String>) -> EdrError {
        EdrError::BadRequest(msg.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            EdrError::BadRequest(_) => StatusCode::BAD_REQUEST,
            EdrError::NotFound(_) => StatusCode::NOT_FOUND,
            EdrError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            EdrError::NoData => StatusCode::NO_CONTENT,
            EdrError::Upstream(code, _) => {
                StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            EdrError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            EdrError::Refused(status, _) => *status,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            EdrError::BadRequest(_) => "Bad request",
            EdrError::NotFound(_) => "Not found",
            EdrError::TooLarge { .. } => "Response too large",
            EdrError::NoData => "No data",
            EdrError::Upstream(..) => "Dataset unavailable",
            EdrError::Internal(_) => "Internal error",
            EdrError::Refused(..) => "Request refused",
        }
    }
}

impl From<CatalogError> for EdrError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound(id) => EdrError::NotFound(format!("no collection {id:?}")),
            e => EdrError::of_kind(e.kind(), e.to_string()),
        }
    }
}

impl From<ReadError> for EdrError {
    fn from(e: ReadError) -> Self {
        EdrError::of_kind(e.kind(), e.public_message())
    }
}

impl EdrError {
    /// The one place an error kind becomes an EDR error.
    pub fn of_kind(kind: ErrorKind, message: String) -> EdrError {
        match kind {
            ErrorKind::NotFound => EdrError::NotFound(message),
            ErrorKind::BadRequest | ErrorKind::TooLarge => EdrError::BadRequest(message),
            ErrorKind::Internal => EdrError::Internal(message),
            other => EdrError::Upstream(other.status().as_u16(), message),
        }
    }
}

impl IntoResponse for EdrError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::NO_CONTENT {
            return status.into_response();
        }
        if status.is_server_error() {
            tracing::error!("edr: {self}");
        }
        let detail = self.to_string();
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.title(),
            "status": status.as_u16(),
            "detail": detail,
            "code": status.as_u16(),
            "description": detail,
        });
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(EdrError::bad("x").status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            EdrError::TooLarge { bytes: 2, limit: 1 }.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(EdrError::NoData.into_response().status(), 204);
        assert_eq!(EdrError::Upstream(504, "t".into()).status(), 504);
        let missing = EdrError::from(CatalogError::NotFound("x".into()));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
