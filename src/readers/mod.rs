//! File-format readers. Each knows one format and none of the protocols; the `Reader`
//! trait is all the rest of datagate sees. Formats are listed once, in `formats.rs`:
//! a new format is a reader module here plus one row there.

mod config;
#[cfg(any(test, feature = "fixtures"))]
pub mod conformance;
pub mod formats;
mod hdf5_chunks;
mod hdf5_index;
mod index_cache;
mod netcdf;
mod netcdf3_layout;
mod range_reader;

use std::sync::Arc;

use async_trait::async_trait;
use thiserror::Error;

use crate::model::{Array, ChunkIndex, DatasetMeta};
use crate::storage::{Location, StorageError};
use crate::subset::{Hyperslab, SubsetError};

pub use config::{LocalReads, ReadersConfig, RemoteReads};
pub use formats::FormatSpec;
pub use netcdf::{Container, NetcdfReader, with_netcdf};
pub use range_reader::RangeReader;

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

/// One opened dataset file.
#[async_trait]
pub trait Reader: Send + Sync {
    /// The row of the format table the dataset was opened as.
    fn format(&self) -> &'static FormatSpec;

    /// The dataset's structure and attributes, read once at open.
    fn metadata(&self) -> Arc<DatasetMeta>;

    /// Memory the open reader may hold besides its metadata (decoded chunks): what the
    /// cache of open datasets weighs it by, so that their total stays bounded.
    fn memory_budget(&self) -> usize {
        0
    }

    /// Reads `slab` of the variable at `path` (`/var` or `/group/var`).
    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError>;

    /// Where each stored chunk of a variable lies in the file, if the format and the
    /// reader can tell.
    async fn chunk_index(&self, _path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        Ok(None)
    }

    /// The chunk shape, filters and byte order of a variable's storage, with `chunks`
    /// left empty: what describing the layout needs, without visiting every chunk.
    async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        Ok(self.chunk_index(path).await?.map(|mut index| {
            index.chunks.clear();
            index
        }))
    }
}

/// Opens the reader for a location, choosing the format by the file's first bytes
/// (see `formats`).
pub async fn open(
    location: &Location,
    storage: &Arc<crate::storage::Storage>,
    config: &ReadersConfig,
) -> Result<Arc<dyn Reader>, ReadError> {
    let version = storage.head(location).await?;
    open_at(location, &version, storage, config).await
}

/// `open` for a version the caller already knows (the catalog has just checked it):
/// no second HEAD request.
pub async fn open_at(
    location: &Location,
    version: &crate::storage::ObjectVersion,
    storage: &Arc<crate::storage::Storage>,
    config: &ReadersConfig,
) -> Result<Arc<dyn Reader>, ReadError> {
    let format = formats::sniff_at(location, version, storage).await?;
    let request = formats::OpenRequest {
        location,
        version,
        storage,
        config,
    };
    (format.open)(format, request).await
}
