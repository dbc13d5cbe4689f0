//! The error every reader returns; its kind decides what clients are told.

use thiserror::Error;

use crate::storage::StorageError;
use crate::subset::SubsetError;

#[derive(Debug, Error)]
pub enum ReadError {
    #[error("no variable {0:?}")]
    NoSuchVariable(String),
    #[error(transparent)]
    Subset(#[from] SubsetError),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("cannot read {location}: {message}")]
    Format { location: String, message: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("reader task failed: {0}")]
    Internal(String),
}

impl crate::error::Kinded for ReadError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            ReadError::NoSuchVariable(_) => ErrorKind::NotFound,
            ReadError::Subset(e) => e.kind(),
            ReadError::Storage(e) => e.kind(),
            ReadError::Format { .. } | ReadError::Unsupported(_) => ErrorKind::Unreadable,
            ReadError::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl ReadError {
    /// The text a client may see: no server paths or storage locations (those go to
    /// the log), only what went wrong.
    pub fn public_message(&self) -> String {
        use crate::error::{ErrorKind, Kinded};
        match self {
            ReadError::NoSuchVariable(_) | ReadError::Subset(_) | ReadError::Unsupported(_) => {
                self.to_string()
            }
            ReadError::Format { location, message } => {
                format!(
                    "the file cannot be read: {}",
                    message.replace(location.as_str(), "…")
                )
            }
            ReadError::Storage(_) | ReadError::Internal(_) => match self.kind() {
                ErrorKind::NotFound => "the file is missing from storage".into(),
                ErrorKind::UpstreamTimeout => "the storage behind the dataset timed out".into(),
                ErrorKind::Changed => {
                    "the file changed at the source during the read; retry".into()
                }
                ErrorKind::UpstreamFailed => "the storage behind the dataset failed".into(),
                _ => "internal error while reading the dataset".into(),
            },
        }
    }
}
