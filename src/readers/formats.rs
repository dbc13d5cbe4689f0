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
use crate::storage::{Location, ObjectVersion, Storage, StorageError};

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
    probe: None,
    shape: DatasetShape::File,
    open: open_classic,
};

pub static NETCDF3_64BIT_OFFSET: FormatSpec = FormatSpec {
    name: "netcdf3-64bit-offset",
    magic: b"CDF\x02",
    extensions: NETCDF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_classic,
};

pub static NETCDF3_CDF5: FormatSpec = FormatSpec {
    name: "netcdf3-cdf5",
    magic: b"CDF\x05",
    extensions: NETCDF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_classic,
};

/// HDF5, which includes NetCDF-4. HDF5 superblocks may also start at 512, 1024, ...
/// (after a user block); only offset 0 is recognised.
pub static NETCDF4_HDF5: FormatSpec = FormatSpec {
    name: "netcdf4-hdf5",
    magic: b"\x89HDF\r\n\x1a\n",
    extensions: NETCDF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_hdf5,
};

fn open_grib<'a>(
    spec: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(super::grib::open(spec, req))
}

/// GRIB editions 1 and 2 (ecCodes). A file whose messages form several hypercubes is
/// several datasets.
pub static GRIB: FormatSpec = FormatSpec {
    name: "grib",
    magic: b"GRIB",
    extensions: &[".grib", ".grb", ".grib2", ".grb2", ".grib1", ".grb1"],
    probe: None,
    shape: DatasetShape::MultiDatasetFile,
    open: open_grib,
};

/// Zarr v2 and v3 stores: a directory or object prefix. `.zmetadata` (v2 consolidated)
/// before `zarr.json` (v3) before `.zgroup`: the first found versions the dataset, so
/// the consolidated document, which changes with any array, is preferred.
pub static ZARR: FormatSpec = FormatSpec {
    name: "zarr",
    magic: b"",
    extensions: &[".zmetadata", "zarr.json", ".zgroup"],
    probe: None,
    shape: DatasetShape::Directory,
    // Parquet kerchunk references share the `.zmetadata` marker (`kerchunk.rs`).
    open: super::kerchunk::open_store,
};

/// kerchunk / VirtualiZarr reference files (JSON, versions 0 and 1).
pub static KERCHUNK: FormatSpec = FormatSpec {
    name: "kerchunk",
    magic: b"",
    extensions: &[".json"],
    probe: Some(super::kerchunk::looks_like_references),
    shape: DatasetShape::File,
    open: super::kerchunk::open_references,
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
    probe: None,
    shape: DatasetShape::File,
    open: open_geotiff,
};

/// The same formats in their other variants (one row per content test): big-endian
/// classic TIFF, and BigTIFF in either byte order.
pub static GEOTIFF_BIG_ENDIAN: FormatSpec = FormatSpec {
    name: "geotiff-be",
    magic: b"MM\0*",
    extensions: TIFF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_geotiff,
};

pub static BIGTIFF: FormatSpec = FormatSpec {
    name: "bigtiff",
    magic: b"II+\0",
    extensions: TIFF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_geotiff,
};

pub static BIGTIFF_BIG_ENDIAN: FormatSpec = FormatSpec {
    name: "bigtiff-be",
    magic: b"MM\0+",
    extensions: TIFF_EXTENSIONS,
    probe: None,
    shape: DatasetShape::File,
    open: open_geotiff,
};

/// Every format, in the order content tests are tried.
pub static FORMATS: &[&FormatSpec] = &[
    &NETCDF3_CLASSIC,
    &NETCDF3_64BIT_OFFSET,
    &NETCDF3_CDF5,
    &NETCDF4_HDF5,
    &GRIB,
    &ZARR,
    &KERCHUNK,
    &GEOTIFF,
    &GEOTIFF_BIG_ENDIAN,
    &BIGTIFF,
    &BIGTIFF_BIG_ENDIAN,
];

/// How many first bytes of a file `probe` functions see: enough for the top of a
/// JSON document.
pub const PROBE_BYTES: usize = 4096;

/// The longest content test: how many bytes detection reads.
fn head_len() -> usize {
    let magic = FORMATS.iter().map(|f| f.magic.len()).max().unwrap_or(0);
    if FORMATS.iter().any(|f| f.probe.is_some()) {
        magic.max(PROBE_BYTES)
    } else {
        magic
    }
}

/// The file format whose magic `head` (a file's first bytes) starts with.
pub fn detect(head: &[u8]) -> Option<&'static FormatSpec> {
    FORMATS
        .iter()
        .copied()
        .filter(|f| f.shape != DatasetShape::Directory && !f.magic.is_empty())
        .find(|f| head.starts_with(f.magic))
}

/// The file format of a file named `name` starting with `head`: magic prefixes first,
/// then the rows' probes.
pub fn detect_named(name: &str, head: &[u8]) -> Option<&'static FormatSpec> {
    detect(head).or_else(|| {
        FORMATS
            .iter()
            .copied()
            .filter(|f| f.shape != DatasetShape::Directory)
            .find(|f| f.probe.is_some_and(|probe| probe(name, head)))
    })
}

/// The format of a local file, by its first bytes; `None` if unreadable or unknown.
pub fn detect_local(path: &Path) -> Option<&'static FormatSpec> {
    let mut head = Vec::with_capacity(head_len());
    std::fs::File::open(path)
        .and_then(|f| f.take(head_len() as u64).read_to_end(&mut head))
        .ok()?;
    detect_named(&path.file_name()?.to_string_lossy(), &head)
}

/// The directory format of a local directory: one whose marker files it holds.
pub fn detect_local_dir(path: &Path) -> Option<&'static FormatSpec> {
    FORMATS
        .iter()
        .copied()
        .filter(|f| f.shape == DatasetShape::Directory)
        .find(|f| f.extensions.iter().any(|m| path.join(m).is_file()))
}

/// The directory format whose marker file `key` (a listed object's path) is, with the
/// directory's path: `stores/a.zarr/.zgroup` gives (`ZARR`, `stores/a.zarr`). A marker
/// at the top of the listing (no directory) gives `None`.
pub fn directory_marker(key: &str) -> Option<(&'static FormatSpec, &str)> {
    let (dir, name) = key.rsplit_once('/')?;
    let format = FORMATS
        .iter()
        .copied()
        .filter(|f| f.shape == DatasetShape::Directory)
        .find(|f| f.extensions.contains(&name))?;
    (!dir.is_empty()).then_some((format, dir))
}

/// True if a file name ends like a file format's (for listings, which cannot read bytes).
pub fn has_dataset_extension(name: &str) -> bool {
    listed_format(name).is_some()
}

/// The first file row whose endings `name` has: what a listing takes it for. Rows with
/// a probe need the file's first bytes (`detect_named`) to be sure.
pub fn listed_format(name: &str) -> Option<&'static FormatSpec> {
    FORMATS
        .iter()
        .copied()
        .filter(|f| f.shape != DatasetShape::Directory)
        .find(|f| f.extensions.iter().any(|e| name.ends_with(e)))
}

/// True if a file name ends like a format whose files may hold several datasets.
pub fn may_hold_several_datasets(name: &str) -> bool {
    FORMATS
        .iter()
        .filter(|f| f.shape == DatasetShape::MultiDatasetFile)
        .flat_map(|f| f.extensions)
        .any(|e| name.ends_with(e))
}

/// The format of a directory dataset and the version of its first marker file (what
/// its caches are keyed by), `None` when it holds none: one HEAD per marker tried.
pub async fn directory_version(
    loc: &Location,
    storage: &Storage,
) -> Result<Option<(&'static FormatSpec, ObjectVersion)>, StorageError> {
    for format in FORMATS
        .iter()
        .filter(|f| f.shape == DatasetShape::Directory)
    {
        for marker in format.extensions {
            match storage.head(&loc.join(marker)).await {
                Ok(v) => return Ok(Some((format, v))),
                Err(StorageError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(None)
}

/// Reads the first bytes of a location at a known version (through the block cache for
/// remote objects: the first block is the metadata's start too) and recognises the
/// format; directories by their marker files.
pub async fn sniff_at(
    loc: &Location,
    version: &ObjectVersion,
    storage: &Storage,
) -> Result<&'static FormatSpec, ReadError> {
    if loc.is_directory() {
        return match directory_version(loc, storage).await? {
            Some((format, _)) => Ok(format),
            None => Err(ReadError::Format {
                location: loc.to_string(),
                message: "a directory holding no dataset (no .zmetadata, zarr.json or .zgroup)"
                    .into(),
            }),
        };
    }
    let want = (head_len() as u64).min(version.size);
    let head = storage.read_cached(loc, version, 0..want).await?;
    let name = loc.to_string();
    let name = name.rsplit('/').next().unwrap_or_default();
    detect_named(name, &head).ok_or_else(|| ReadError::Format {
        location: loc.to_string(),
        message: if version.size < 8 {
            "file too short".into()
        } else {
            "not a known format".into()
        },
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
        assert_eq!(detect(b"GRIB"), Some(&GRIB));
        assert_eq!(detect(b"GRI"), None);
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
        assert!(has_dataset_extension("era5.grib"));
        assert!(may_hold_several_datasets("gfs.t00z.pgrb2.grb2"));
        assert!(!may_hold_several_datasets("x.nc"));
        assert_eq!(listed_format("a/refs.json"), Some(&KERCHUNK));
    }

    #[test]
    fn json_references_are_probed_not_prefixed() {
        let refs = br#"{"version": 1, "refs": {".zgroup": "{}"}}"#;
        assert_eq!(detect(refs), None);
        assert_eq!(detect_named("x.json", refs), Some(&KERCHUNK));
        assert_eq!(detect_named("x.txt", refs), None);
        assert_eq!(detect_named("x.json", br#"{"type": "Feature"}"#), None);
        assert_eq!(detect_named("x.nc", b"CDF\x01"), Some(&NETCDF3_CLASSIC));
    }

    #[test]
    fn directory_markers() {
        assert_eq!(
            directory_marker("stores/a.zarr/.zgroup"),
            Some((&ZARR, "stores/a.zarr"))
        );
        assert_eq!(
            directory_marker("a.zarr/zarr.json"),
            Some((&ZARR, "a.zarr"))
        );
        assert_eq!(directory_marker(".zgroup"), None);
        assert_eq!(directory_marker("a.zarr/temp/.zarray"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect_local_dir(dir.path()), None);
        std::fs::write(dir.path().join(".zgroup"), "{}").unwrap();
        assert_eq!(detect_local_dir(dir.path()), Some(&ZARR));
    }
}
