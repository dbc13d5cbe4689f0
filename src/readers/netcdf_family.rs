//! Opening the NetCDF family (NetCDF-3 and NetCDF-4/HDF5): the pure-Rust range reader
//! or netCDF-C, by configuration, with netCDF-C as the fallback.

use std::sync::Arc;

use super::config::{LocalReads, RemoteReads};
use super::error::ReadError;
use super::netcdf::{Container, NetcdfReader};
use super::range_reader::RangeReader;
use super::reader::Reader;
use super::reader::{FormatSpec, OpenRequest};

/// Opens a file of one of the NetCDF-family rows of the format table: remote files by
/// byte ranges (`RangeReader`), local ones through netCDF-C, unless configured
/// otherwise; netCDF-C (on a file-cache copy for remote files) for what the range
/// reader cannot read for lack of a feature (never for a damaged file: see below).
pub(super) async fn open_family(
    format: &'static FormatSpec,
    container: Container,
    req: OpenRequest<'_>,
) -> Result<Arc<dyn Reader>, ReadError> {
    let native = match req.location.local_path() {
        Some(_) => req.config.local_reads == LocalReads::Native,
        None => req.config.remote_reads == RemoteReads::Ranges,
    };
    // netCDF-C 4.9 (with libhdf5 1.10) crashes the whole process (SIGSEGV) on some
    // damaged NetCDF-3 headers and HDF5 structures (found by fuzzing): a file goes to
    // netCDF-C only after the pure-Rust parser has read its metadata, or found a
    // feature it lacks (`ReadError::Unsupported`), never when it found damage.
    let opened = RangeReader::open(
        req.location,
        req.version,
        format,
        container,
        req.storage.clone(),
        req.config,
    )
    .await;
    match opened {
        Ok(reader) if native => return Ok(Arc::new(reader)),
        Ok(_) => {}
        Err(e @ ReadError::Storage(_)) => return Err(e),
        Err(ReadError::Unsupported(e)) if container != Container::Classic => {
            tracing::warn!(
                "{}: the range reader cannot read it ({e}); using netCDF-C",
                req.location
            )
        }
        Err(e) => {
            tracing::warn!("{}: damaged file ({e})", req.location);
            let what = match container {
                Container::Classic => "NetCDF-3 header",
                _ => "HDF5 structure",
            };
            return Err(ReadError::Format {
                location: req.location.to_string(),
                message: format!("damaged {what}: {e}"),
            });
        }
    }
    let path = req.storage.local_file(req.location, req.version).await?;
    Ok(Arc::new(
        NetcdfReader::open_path(&path, format, container).await?,
    ))
}
