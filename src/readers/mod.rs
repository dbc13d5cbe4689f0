//! File-format readers. Each knows one format and none of the protocols; the `Reader`
//! trait is all the rest of datagate sees. Formats are listed once, in `formats.rs`:
//! a new format is a reader module here plus one row there.

mod config;
#[cfg(any(test, feature = "fixtures"))]
pub mod conformance;
mod error;
pub mod formats;
mod geotiff;
mod grib;
mod hdf5_chunks;
mod hdf5_index;
mod index_cache;
mod kerchunk;
mod netcdf;
mod netcdf3_layout;
mod netcdf_family;
mod netcdf_open;
mod netcdf_user_types;
mod range_reader;
mod reader;
mod zarr_store;

use std::sync::Arc;

use crate::storage::Location;

pub use config::{LocalReads, ReadersConfig, RemoteReads};
pub use error::ReadError;
pub use formats::FormatSpec;
/// GRIB test files written by ecCodes from its samples.
#[cfg(any(test, feature = "fixtures"))]
pub use grib::testdata as grib_testdata;
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
    let version = dataset_version(location, storage).await?;
    open_at(location, &version, storage, config).await
}

/// The version of a dataset's location, which its caches are keyed by: the file's, or
/// for a directory dataset (a Zarr store) its first marker file's (`formats`).
pub async fn dataset_version(
    location: &Location,
    storage: &crate::storage::Storage,
) -> Result<crate::storage::ObjectVersion, crate::storage::StorageError> {
    if !location.is_directory() {
        return storage.head(location).await;
    }
    match formats::directory_version(location, storage).await? {
        Some((_, version)) => Ok(version),
        None => Err(crate::storage::StorageError::NotFound(location.to_string())),
    }
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
