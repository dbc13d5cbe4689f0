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

impl ReadError {
    /// For failures of the storage behind the file: the status a gateway answers with
    /// (504 when it timed out, 503 when the object changed during the read: retry,
    /// 502 otherwise). `None` for other errors.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            ReadError::Storage(crate::storage::StorageError::Timeout(_)) => Some(504),
            ReadError::Storage(crate::storage::StorageError::Changed(_)) => Some(503),
            ReadError::Storage(crate::storage::StorageError::Backend { .. }) => Some(502),
            _ => None,
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
