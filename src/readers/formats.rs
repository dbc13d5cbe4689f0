//! The format table: the one list of formats datagate reads. Directory scans, object-store
//! listings, format detection and opening all read it.
//!
//! To add a format: write its reader (a module beside this one implementing `Reader`),
//! then add one `FormatSpec` row to `FORMATS` naming its content test, file-name
//! endings, dataset shape and open function. Nothing else lists formats.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::netcdf::Container;
use super::netcdf_family::open_family;
pub use super::reader::{DatasetShape, FormatSpec, OpenFn, OpenRequest};
use super::{ReadError, Reader};
use crate::storage::{Location, ObjectVersion, Storage};

// Rows are compared by name: names are unique in the table (a test checks).
impl PartialEq for FormatSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for FormatSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Endings of NetCDF and HDF5 files: one list for the four rows, as the formats share them.
const NETCDF_EXTENSIONS: &[&str] = &[
    ".nc", ".nc4", ".nc3", ".cdf", ".h5", ".hdf5", ".he5", ".hdf",
];

fn open_classic<'a>(
    spec: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(open_family(spec, Container::Classic, req))
}

fn open_hdf5<'a>(
    spec: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(open_family(spec, Container::Hdf5, req))
}

pub static NETCDF3_CLASSIC: FormatSpec = FormatSpec {
    name: "netcdf3-classic",
    magic: b"CDF\x01",
    extensions: NETCDF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_classic,
};

pub static NETCDF3_64BIT_OFFSET: FormatSpec = FormatSpec {
    name: "netcdf3-64bit-offset",
    magic: b"CDF\x02",
    extensions: NETCDF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_classic,
};

pub static NETCDF3_CDF5: FormatSpec = FormatSpec {
    name: "netcdf3-cdf5",
    magic: b"CDF\x05",
    extensions: NETCDF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_classic,
};

/// HDF5, which includes NetCDF-4. HDF5 superblocks may also start at 512, 1024, ...
/// (after a user block); only offset 0 is recognised.
pub static NETCDF4_HDF5: FormatSpec = FormatSpec {
    name: "netcdf4-hdf5",
    magic: b"\x89HDF\r\n\x1a\n",
    extensions: NETCDF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_hdf5,
};

fn open_geotiff<'a>(
    spec: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(super::geotiff::open(spec, req))
}

const TIFF_EXTENSIONS: &[&str] = &[".tif", ".tiff", ".TIF", ".TIFF"];

/// GeoTIFF and Cloud-Optimised GeoTIFF, little-endian classic TIFF.
pub static GEOTIFF: FormatSpec = FormatSpec {
    name: "geotiff",
    magic: b"II*\0",
    extensions: TIFF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_geotiff,
};

/// The same formats in their other variants (one row per content test): big-endian
/// classic TIFF, and BigTIFF in either byte order.
pub static GEOTIFF_BIG_ENDIAN: FormatSpec = FormatSpec {
    name: "geotiff-be",
    magic: b"MM\0*",
    extensions: TIFF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_geotiff,
};

pub static BIGTIFF: FormatSpec = FormatSpec {
    name: "bigtiff",
    magic: b"II+\0",
    extensions: TIFF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_geotiff,
};

pub static BIGTIFF_BIG_ENDIAN: FormatSpec = FormatSpec {
    name: "bigtiff-be",
    magic: b"MM\0+",
    extensions: TIFF_EXTENSIONS,
    shape: DatasetShape::File,
    open: open_geotiff,
};

/// Every format, in the order content tests are tried.
pub static FORMATS: &[&FormatSpec] = &[
    &NETCDF3_CLASSIC,
    &NETCDF3_64BIT_OFFSET,
    &NETCDF3_CDF5,
    &NETCDF4_HDF5,
    &GEOTIFF,
    &GEOTIFF_BIG_ENDIAN,
    &BIGTIFF,
    &BIGTIFF_BIG_ENDIAN,
];

/// The longest content test: how many bytes detection reads.
fn head_len() -> usize {
    FORMATS.iter().map(|f| f.magic.len()).max().unwrap_or(0)
}

/// The file format whose content test `head` (a file's first bytes) passes.
pub fn detect(head: &[u8]) -> Option<&'static FormatSpec> {
    FORMATS
        .iter()
        .copied()
        .filter(|f| f.shape == DatasetShape::File)
        .find(|f| head.starts_with(f.magic))
}

/// The format of a local file, by its first bytes; `None` if unreadable, unknown or
/// shorter than the longest content test.
pub fn detect_local(path: &Path) -> Option<&'static FormatSpec> {
    let mut head = vec![0; head_len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .ok()?;
    detect(&head)
}

/// True if a file name ends like a file format's (for listings, which cannot read bytes).
pub fn has_dataset_extension(name: &str) -> bool {
    FORMATS
        .iter()
        .filter(|f| f.shape == DatasetShape::File)
        .flat_map(|f| f.extensions)
        .any(|e| name.ends_with(e))
}

/// Reads the first bytes of a location at a known version (through the block cache for
/// remote objects: the first block is the metadata's start too) and recognises the format.
pub async fn sniff_at(
    loc: &Location,
    version: &ObjectVersion,
    storage: &Storage,
) -> Result<&'static FormatSpec, ReadError> {
    let want = head_len() as u64;
    if version.size < want {
        return Err(ReadError::Format {
            location: loc.to_string(),
            message: "file too short".into(),
        });
    }
    let head = storage.read_cached(loc, version, 0..want).await?;
    detect(&head).ok_or_else(|| ReadError::Format {
        location: loc.to_string(),
        message: "not a known format".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic() {
        assert_eq!(detect(b"CDF\x01...."), Some(&NETCDF3_CLASSIC));
        assert_eq!(detect(b"CDF\x02"), Some(&NETCDF3_64BIT_OFFSET));
        assert_eq!(detect(b"CDF\x05"), Some(&NETCDF3_CDF5));
        assert_eq!(detect(b"\x89HDF\r\n\x1a\n"), Some(&NETCDF4_HDF5));
        assert_eq!(detect(b"II*\0\x08\0\0\0"), Some(&GEOTIFF));
        assert_eq!(detect(b"MM\0*"), Some(&GEOTIFF_BIG_ENDIAN));
        assert_eq!(detect(b"II+\0"), Some(&BIGTIFF));
        assert_eq!(detect(b"MM\0+"), Some(&BIGTIFF_BIG_ENDIAN));
        assert_eq!(detect(b"CDF\x03"), None);
        assert_eq!(detect(b"GRIB"), None);
        assert_eq!(detect(b"CD"), None);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FORMATS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FORMATS.len());
    }

    #[test]
    fn extensions() {
        assert!(has_dataset_extension("a/b/sst.nc"));
        assert!(has_dataset_extension("x.nc4"));
        assert!(has_dataset_extension("x.he5"));
        assert!(has_dataset_extension("dem/cog.tif"));
        assert!(!has_dataset_extension("readme.txt"));
    }
}
