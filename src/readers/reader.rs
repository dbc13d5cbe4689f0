//! The reader interface: the `Reader` trait, all the rest of datagate sees of an open
//! file, and `FormatSpec`, the shape of a row of the format table (`formats.rs`). One
//! module, as each names the other.

use std::sync::Arc;

use async_trait::async_trait;

use super::error::ReadError;
use futures::future::BoxFuture;

use super::config::ReadersConfig;
use crate::model::{Array, ChunkIndex, DatasetMeta, UserArray};
use crate::storage::{Location, ObjectVersion, Storage};
use crate::subset::Hyperslab;

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

    /// Reads `slab` of a variable of a compound, vlen or opaque type (one of the
    /// metadata's `UserTypes::variables`).
    async fn read_user(&self, path: &str, _slab: &Hyperslab) -> Result<UserArray, ReadError> {
        Err(ReadError::Unsupported(format!(
            "{path}: this reader cannot read user-defined types"
        )))
    }

    /// The shapes of the reduced-resolution copies of a variable the file stores beside
    /// it (a COG's overviews), finest first; empty when there are none. Each copy has
    /// the variable's dimensions; along a dimension of `n` cells reduced to `m`, cell
    /// `i` of the copy stands for the cells `[i·n/m, (i+1)·n/m)` of the variable.
    fn reduced_resolutions(&self, _path: &str) -> Vec<Vec<usize>> {
        Vec::new()
    }

    /// Reads `slab` of the reduced-resolution copy `level` (an index into
    /// `reduced_resolutions`) of the variable at `path`.
    async fn read_reduced(
        &self,
        path: &str,
        level: usize,
        _slab: &Hyperslab,
    ) -> Result<Array, ReadError> {
        Err(ReadError::NoSuchVariable(format!(
            "{path} at reduced resolution {level}"
        )))
    }

    /// The names of the datasets the file holds when it holds several (a GRIB file
    /// whose messages form several hypercubes): the catalog serves each as
    /// `{file}/{name}`. Empty when the file is one dataset.
    fn parts(&self) -> Vec<String> {
        Vec::new()
    }

    /// The reader of one of `parts`.
    fn part(&self, _name: &str) -> Option<Arc<dyn Reader>> {
        None
    }

    /// Where each stored chunk of a variable lies in the file, if the format and the
    /// reader can tell.
    async fn chunk_index(&self, _path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        Ok(None)
    }

    /// The stored (still encoded) bytes of the chunk `chunk_index` names `key`, for
    /// formats that keep chunks apart from the dataset's file; `None` if absent.
    async fn stored_chunk(&self, _key: &str) -> Result<Option<bytes::Bytes>, ReadError> {
        Ok(None)
    }

    /// The file holding the chunk `chunk_index` names `key`, when it is not the
    /// dataset's own file (an aggregation's member): the chunk's `offset`/`size` are
    /// then within that file. `None`: the key is for `stored_chunk`.
    fn chunk_file(&self, _key: &str) -> Option<(Location, ObjectVersion)> {
        None
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

/// What an open function gets: the dataset, at the version the caller has checked, and
/// where and how to read it.
pub struct OpenRequest<'a> {
    pub location: &'a Location,
    pub version: &'a ObjectVersion,
    pub storage: &'a Arc<Storage>,
    pub config: &'a ReadersConfig,
}

/// Opens a dataset of the row's format (the row is passed so one function can serve
/// several rows).
pub type OpenFn = for<'a> fn(
    &'static FormatSpec,
    OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>>;

/// Whether a dataset of a format is one file or a directory / object prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetShape {
    File,
    /// A directory or object prefix (a Zarr store): scans must not look inside it.
    Directory,
    /// A file that may hold several datasets (GRIB messages forming several
    /// hypercubes): the catalog opens it when scanning to list its `parts`.
    MultiDatasetFile,
}

/// A content test that a fixed prefix cannot express (JSON documents): the file's name
/// and its first bytes (up to `formats::PROBE_BYTES`, fewer for a short file).
pub type ProbeFn = fn(name: &str, head: &[u8]) -> bool;

/// One row of the format table.
pub struct FormatSpec {
    /// A short stable name, shown in dataset listings (`netcdf3-classic`).
    pub name: &'static str,
    /// The content test: the bytes every dataset of the format starts with (empty for
    /// rows tested by `probe`, and for directory rows).
    pub magic: &'static [u8],
    /// File rows: file-name endings taken as this format where bytes cannot be read
    /// cheaply (object-store listings); the content test still decides at open.
    /// Directory rows: the names of the files whose presence in a directory or under a
    /// prefix makes it a dataset of this format, most authoritative first (the first
    /// found also versions the dataset).
    pub extensions: &'static [&'static str],
    /// The content test of rows without a magic prefix.
    pub probe: Option<ProbeFn>,
    pub shape: DatasetShape,
    pub open: OpenFn,
}

impl FormatSpec {
    /// The short name (also a method, for callers holding a `&FormatSpec`).
    pub fn name(&self) -> &'static str {
        self.name
    }
}
