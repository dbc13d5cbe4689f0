//! GRIB 1 and 2, decoded by ecCodes and mapped to hypercubes as cfgrib maps them, so a
//! GRIB file served here looks like `xr.open_dataset(path, engine="cfgrib")`.
//!
//! `frame` finds messages by their indicator sections, `index` reads each message's
//! keys once per file version, `hypercube` groups messages into datasets, `coords`
//! and `attrs` make cfgrib's coordinates and attributes, `reader` serves a hypercube; `ffi` is the one place
//! that calls ecCodes.

mod attrs;
mod axes;
mod coords;
#[cfg(test)]
mod damage_tests;
mod ffi;
mod frame;
mod hypercube;
mod index;
mod keys;
mod multi_field;
mod reader;
#[cfg(any(test, feature = "fixtures"))]
pub mod testdata;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use super::reader::{FormatSpec, OpenRequest};
use super::{ReadError, Reader};
pub use reader::{GribParts, GribReader};

/// Opens a GRIB file: its message index, then one reader per hypercube. A file of one
/// hypercube is that dataset; a file of several is a `GribParts` naming them.
pub(crate) async fn open(
    format: &'static FormatSpec,
    req: OpenRequest<'_>,
) -> Result<Arc<dyn Reader>, ReadError> {
    // A field is decoded whole, as ecCodes' 8-byte values.
    let max_points = req.config.max_decoded_chunk_bytes / 8;
    let index = index::build(req.location, req.version, req.storage, max_points).await?;
    let cubes = hypercube::group(&index);
    let source = Arc::new(reader::FieldSource::new(
        req.location.clone(),
        req.version.clone(),
        req.storage.clone(),
        &index,
    ));
    drop(index);
    let mut parts = Vec::new();
    for (name, cube) in cubes {
        let whole_file = name.is_none();
        let reader = Arc::new(GribReader::new(format, cube, source.clone(), whole_file));
        match name {
            None => return Ok(reader),
            Some(name) => parts.push((name, reader)),
        }
    }
    Ok(Arc::new(GribParts::new(format, parts)))
}
