//! Storage errors, classified by the type of the object store's error.

use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum StorageError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("storage error at {location}: {message}")]
    Backend { location: String, message: String },
    #[error("storage timed out at {0}")]
    Timeout(String),
    #[error("invalid location {0:?}")]
    InvalidLocation(String),
    /// The object is no longer the version being read (its ETag changed): bytes of two
    /// versions are never mixed; the next request sees the new version.
    #[error("{0} changed at the source during the read; retry")]
    Changed(String),
}

/// Maps object_store's errors by their type: time-outs are told apart (by the
/// `HttpError` kind or an I/O `TimedOut` anywhere in the source chain) so that they
/// can become 504s.
pub(crate) fn map_store_error(location: &str, e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound(location.to_string()),
        object_store::Error::Precondition { .. } => StorageError::Changed(location.to_string()),
        other if is_timeout(&other) => StorageError::Timeout(location.to_string()),
        other => StorageError::Backend {
            location: location.to_string(),
            message: other.to_string(),
        },
    }
}

fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    use object_store::client::{HttpError, HttpErrorKind};
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<HttpError>()
            .is_some_and(|h| h.kind() == HttpErrorKind::Timeout)
            || err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || err.is::<tokio::time::error::Elapsed>()
        {
            return true;
        }
        cur = err.source();
    }
    false
}

impl crate::error::Kinded for StorageError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            StorageError::NotFound(_) => ErrorKind::NotFound,
            StorageError::Backend { .. } => ErrorKind::UpstreamFailed,
            StorageError::Timeout(_) => ErrorKind::UpstreamTimeout,
            // A location the configuration or the catalog made: ours, not the client's.
            StorageError::InvalidLocation(_) => ErrorKind::Internal,
            StorageError::Changed(_) => ErrorKind::Changed,
        }
    }
}

#[cfg(test)]
mod error_kind_tests {
    use super::*;
    use crate::error::{ErrorKind, Kinded};

    #[test]
    fn object_store_errors_are_classified_by_type() {
        let timeout = object_store::Error::Generic {
            store: "S3",
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no words that say so",
            )),
        };
        assert_eq!(
            map_store_error("s3://b/k", timeout).kind(),
            ErrorKind::UpstreamTimeout
        );
        // Text alone does not make a time-out.
        let other = object_store::Error::Generic {
            store: "S3",
            source: "request timed out".into(),
        };
        assert_eq!(
            map_store_error("s3://b/k", other).kind(),
            ErrorKind::UpstreamFailed
        );
        let missing = object_store::Error::NotFound {
            path: "k".into(),
            source: "gone".into(),
        };
        assert_eq!(
            map_store_error("s3://b/k", missing).kind(),
            ErrorKind::NotFound
        );
    }
}
