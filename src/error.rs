//! The error vocabulary every layer shares: a storage, reader or catalog error carries
//! an [`ErrorKind`], and each protocol renders a kind in its own form (DAP `Error {…}`,
//! DAP4 `<Error>`, WMS ServiceException, OGC API JSON) in one place. Knows no protocol.

use axum::http::StatusCode;

/// What went wrong, independent of where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No such dataset, variable, key or object.
    NotFound,
    /// The request is malformed or out of range: the client's mistake.
    BadRequest,
    /// The answer would exceed a configured limit.
    TooLarge,
    /// The file exists but cannot be read (damaged, unsupported).
    Unreadable,
    /// The storage behind a dataset failed.
    UpstreamFailed,
    /// The storage behind a dataset did not answer in time.
    UpstreamTimeout,
    /// The object changed at the source during the read: retry.
    Changed,
    /// Too many expensive requests at once: retry later.
    Overloaded,
    /// A bug or an unexpected failure of ours.
    Internal,
}

impl ErrorKind {
    /// The HTTP status a gateway answers with. Protocols whose specifications want
    /// another status for a kind (DAP2 answers "too large" with 400) map it themselves.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unreadable | ErrorKind::Changed | ErrorKind::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorKind::UpstreamFailed => StatusCode::BAD_GATEWAY,
            ErrorKind::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True when the client is to blame (a 4xx).
    pub fn is_client_error(self) -> bool {
        matches!(
            self,
            ErrorKind::NotFound | ErrorKind::BadRequest | ErrorKind::TooLarge
        )
    }
}

/// An error that knows its kind.
pub trait Kinded {
    fn kind(&self) -> ErrorKind;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(ErrorKind::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ErrorKind::UpstreamTimeout.status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(ErrorKind::UpstreamFailed.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(ErrorKind::Changed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(ErrorKind::TooLarge.is_client_error());
        assert!(!ErrorKind::Unreadable.is_client_error());
    }
}
