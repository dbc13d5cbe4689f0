//! The catalog's error: an unknown id, or a dataset that cannot be opened.

use std::sync::Arc;

use thiserror::Error;

use crate::readers::ReadError;

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("no dataset {0:?}")]
    NotFound(String),
    /// Displays without the source's locations (clients see it); the source, with
    /// them, is for the log.
    #[error("dataset {id:?} is unavailable: {}", source.public_message())]
    Unavailable { id: String, source: Arc<ReadError> },
}

impl crate::error::Kinded for CatalogError {
    /// 404 for an unknown id or a vanished file, the source's kind otherwise (504 when
    /// storage timed out, 502 for other storage failures, 503 when the file cannot be
    /// read).
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            CatalogError::NotFound(_) => ErrorKind::NotFound,
            CatalogError::Unavailable { source, .. } => match source.kind() {
                // A bad slab cannot come from opening: the file is at fault.
                ErrorKind::BadRequest => ErrorKind::Unreadable,
                k => k,
            },
        }
    }
}

impl CatalogError {
    /// The HTTP status of `kind()`.
    pub fn status(&self) -> u16 {
        use crate::error::Kinded;
        self.kind().status().as_u16()
    }
}
