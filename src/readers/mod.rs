//! File-format readers. Each knows one format and none of the protocols; the `Reader`
//! trait is all the rest of datagate sees. Formats are listed once, in `formats.rs`:
//! a new format is a reader module here plus one row there.

mod config;
#[cfg(any(test, feature = "fixtures"))]
pub mod conformance;
mod error;
pub mod formats;
mod geotiff;
mod hdf5_chunks;
mod hdf5_index;
mod index_cache;
mod netcdf;
mod netcdf3_layout;
mod netcdf_family;
mod range_reader;
mod reader;

use std::sync::Arc;

use crate::storage::Location;

pub use config::{LocalReads, ReadersConfig, RemoteReads};
pub use error::ReadError;
pub use formats::FormatSpec;
pub use netcdf::{Container, NetcdfReader, with_netcdf};
pub use range_reader::RangeReader;
pub use reader::Reader;

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
