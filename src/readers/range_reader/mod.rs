//! NetCDF-3 and NetCDF-4/HDF5 files read without the C library: files in object storage
//! by byte ranges, and local files too when configured (`readers.local_reads`).
//!
//! The pure-Rust `netcdf-reader` parses the header or the HDF5 metadata and chunk
//! indexes, and asks for exactly the byte ranges it needs; `RangeSource` serves them
//! from the storage's block cache (aligned blocks, adjacent misses fetched as one
//! request, separate runs concurrently). No file is downloaded whole, no C library is
//! involved, so reads of different files (and chunks of one read) run in parallel.
//! netCDF-C stays the reference: `tests` compare both readers on every fixture.

mod chunked;
mod feature_gap;
mod meta;
mod source;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use netcdf_reader::{NcFile, NcSliceInfo, NcSliceInfoElem};

use chunked::{ChunkSource, ChunkedVariable};
use meta::build_group;
use source::{PureSource, RangeSource};

use super::reader::FormatSpec;
use super::{
    Container, NetcdfReader, ReadError, Reader, ReadersConfig, hdf5_index, netcdf3_layout,
};
use crate::model::{Array, ArrayValues, ChunkIndex, DataType, DatasetMeta, Variable};
use crate::storage::{Location, ObjectVersion, Storage};
use crate::subset::Hyperslab;

pub struct RangeReader {
    file: Arc<NcFile>,
    source: Arc<RangeSource>,
    format: &'static FormatSpec,
    container: Container,
    meta: Arc<DatasetMeta>,
    /// Memory its decoded-chunk cache may fill (`readers.decoded_chunk_cache_bytes`).
    decoded_chunk_cache_bytes: usize,
    /// Largest chunk decoded in memory (`readers.max_decoded_chunk_bytes`).
    max_chunk_bytes: usize,
    /// The file's URL and version: its chunks' keys in the shared decoded-chunk cache.
    url: Arc<str>,
    version: Arc<ObjectVersion>,
    /// Variables whose chunks datagate decodes itself (`chunked`), by path; `None` for
    /// those left to `netcdf-reader`.
    chunked: moka::sync::Cache<String, Option<Arc<ChunkedVariable>>>,
    /// NetCDF-3 data offsets, parsed from the header once.
    nc3_layout: tokio::sync::OnceCell<Arc<netcdf3_layout::Layout>>,
    /// The HDF5 file as `hdf5-pure` sees it, for chunk indexes, opened on first use.
    hdf5: tokio::sync::OnceCell<Arc<hdf5_pure::File>>,
    /// Chunk indexes by variable path (walking a large index is the slow part).
    chunk_indexes: super::index_cache::IndexCache,
    /// Chunk shapes by variable path, known without walking an index.
    chunk_shapes: moka::sync::Cache<String, Option<Vec<usize>>>,
    /// netCDF-C on a file-cache copy, once a read failed in the pure-Rust reader.
    fallback: tokio::sync::OnceCell<NetcdfReader>,
    /// What the decoded-chunk cache counted when last reported to the metrics.
    reported: Mutex<hdf5_reader::ChunkCacheStats>,
}

impl RangeReader {
    /// Opens `location` at `version`, reading its metadata by ranges.
    pub async fn open(
        location: &Location,
        version: &ObjectVersion,
        format: &'static FormatSpec,
        container: Container,
        storage: Arc<Storage>,
        config: &ReadersConfig,
    ) -> Result<RangeReader, ReadError> {
        let local = match location.local_path() {
            Some(path) => Some(
                tokio::fs::File::open(path)
                    .await
                    .map_err(|e| ReadError::Format {
                        location: location.to_string(),
                        message: e.to_string(),
                    })?
                    .into_std()
                    .await,
            ),
            None => None,
        };
        let source = Arc::new(RangeSource {
            storage: storage.clone(),
            location: location.clone(),
            version: version.clone(),
            runtime: tokio::runtime::Handle::current(),
            local,
            failure: Mutex::new(None),
        });
        // Local chunked variables are decoded into the shared cache (`chunked`); the
        // reader's own cache only serves what that path leaves to it.
        let per_file = if location.local_path().is_some() {
            config.decoded_chunk_cache_bytes.min(LOCAL_FILE_CHUNK_BYTES)
        } else {
            config.decoded_chunk_cache_bytes
        };
        let options = netcdf_reader::NcOpenOptions {
            chunk_cache_bytes: per_file,
            max_chunk_bytes: config.max_decoded_chunk_bytes,
            ..Default::default()
        };
        // NetCDF-4 metadata is read lazily: on the blocking pool, like every read.
        let s = source.clone();
        let (file, meta) = tokio::task::spawn_blocking(move || {
            let file =
                NcFile::from_storage_with_options(s.clone(), options).map_err(|e| s.error(e))?;
            let root = build_group(file.root_group().map_err(|e| s.error(e))?, "/", &[], &[])
                .map_err(|var| ReadError::Unsupported(format!("{var}: a user-defined type")))?;
            Ok::<_, ReadError>((file, DatasetMeta { root }))
        })
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))??;
        Ok(RangeReader {
            file: Arc::new(file),
            source,
            format,
            container,
            meta: Arc::new(meta),
            decoded_chunk_cache_bytes: per_file,
            max_chunk_bytes: config.max_decoded_chunk_bytes,
            url: location.to_string().into(),
            version: Arc::new(version.clone()),
            chunked: moka::sync::Cache::builder()
                .weigher(|k: &String, v: &Option<Arc<ChunkedVariable>>| {
                    let n = v.as_ref().map_or(0, |v| v.weight());
                    (k.len() + 64).saturating_add(n).min(u32::MAX as usize) as u32
                })
                .max_capacity(64 << 20)
                .build(),
            nc3_layout: tokio::sync::OnceCell::new(),
            hdf5: tokio::sync::OnceCell::new(),
            chunk_indexes: super::index_cache::IndexCache::new(),
            chunk_shapes: moka::sync::Cache::new(10_000),
            fallback: tokio::sync::OnceCell::new(),
            reported: Mutex::new(Default::default()),
        })
    }

    /// Adds what the file's decoded-chunk cache did since the last report to the
    /// process metrics.
    fn report_chunk_cache(&self) {
        let Some(now) = self.file.chunk_cache_stats() else {
            return;
        };
        let mut last = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        let metrics = self.source.storage.metrics();
        for (event, n) in [
            ("hit", now.hits.saturating_sub(last.hits)),
            ("miss", now.misses.saturating_sub(last.misses)),
            ("eviction", now.evictions.saturating_sub(last.evictions)),
        ] {
            if n > 0 {
                metrics
                    .cache
                    .with_label_values(&["decoded_chunk", event])
                    .inc_by(n);
            }
        }
        *last = now;
    }
}

impl RangeReader {
    /// Fetches, concurrently, the stored chunks of an HDF5 variable that `slab` needs,
    /// before `netcdf-reader` reads them; true when it did (the read may then decode in
    /// parallel: rayon's few threads will not wait on the network). Only for chunked variables: a
    /// contiguous variable (or a NetCDF-3 record) is read by sub-ranges instead, and a
    /// selection bigger than a quarter of the block cache is left to the reader.
    async fn prefetch_chunks(&self, var: &Variable, slab: &Hyperslab) -> Result<bool, ReadError> {
        if self.container != Container::Hdf5 {
            return Ok(false);
        }
        // Walking the whole chunk index can cost more than a few chunks (its B-tree
        // nodes lie all over the file): a small read leaves the reader to descend to
        // just its chunks, unless the index is known already.
        let cached = match self.chunk_indexes.cached(&var.path).await {
            Some(index) => index,
            None => {
                let Some(shape) = self.chunk_shape(&var.path).await? else {
                    return Ok(false);
                };
                if chunks_met(&shape, slab) <= MIN_PREFETCH_CHUNKS {
                    return Ok(false);
                }
                self.cached_index(&var.path).await?
            }
        };
        let Some(index) = cached.as_ref() else {
            return Ok(false);
        };
        if index.chunk_shape == var.shape() {
            return Ok(false);
        }
        let s = &self.source;
        // A damaged index may put chunks past the end of the object (or past 2^64,
        // found by fuzzing): no prefetch then; the chunk reads give the error.
        let Some(ranges) = index
            .chunks
            .iter()
            .filter(|c| chunk_meets(&c.coords, &index.chunk_shape, slab))
            .map(|c| {
                let end = c.offset.checked_add(c.size)?;
                (end <= s.version.size).then_some(c.offset..end)
            })
            .collect::<Option<Vec<std::ops::Range<u64>>>>()
        else {
            return Ok(false);
        };
        // Ranges may repeat (a damaged index): the sum saturates rather than overflow.
        let total = ranges
            .iter()
            .fold(0u64, |t, r| t.saturating_add(r.end - r.start));
        if ranges.len() < 2 || total > s.storage.config().block_cache_bytes / 4 {
            return Ok(false);
        }
        s.storage.prefetch(&s.location, &s.version, ranges).await?;
        Ok(true)
    }

    /// A variable's chunk shape (`None` when not chunked), read once, without walking
    /// its chunk index.
    async fn chunk_shape(&self, path: &str) -> Result<Option<Vec<usize>>, ReadError> {
        if let Some(hit) = self.chunk_shapes.get(path) {
            return Ok(hit);
        }
        let shape = self
            .compute_chunk_index(path, false)
            .await?
            .map(|i| i.chunk_shape);
        self.chunk_shapes.insert(path.to_string(), shape.clone());
        Ok(shape)
    }

    /// The whole of a NetCDF-3 variable's bytes, from the header's offsets (for `char`
    /// variables, which `netcdf-reader` reads only as strings).
    async fn read_classic_bytes(&self, var: &Variable) -> Result<Vec<u8>, ReadError> {
        let index = self
            .chunk_index(&var.path)
            .await?
            .ok_or_else(|| ReadError::Unsupported(format!("{}: no NetCDF-3 layout", var.path)))?;
        let s = &self.source;
        // One byte an element: a damaged header may claim more than the file holds
        // (2^56 bytes, found by fuzzing), refused before anything is allocated.
        if var.num_elements() as u64 > s.version.size {
            return Err(s.error(format!("{}: larger than the file", var.path)));
        }
        let mut out = Vec::with_capacity(var.num_elements());
        for c in &index.chunks {
            let end = c.offset.checked_add(c.size).ok_or_else(|| {
                s.error(format!("{}: a record beyond any possible file", var.path))
            })?;
            let bytes = s
                .storage
                .read_cached(&s.location, &s.version, c.offset..end)
                .await?;
            out.extend_from_slice(&bytes);
        }
        out.truncate(var.num_elements());
        if out.len() < var.num_elements() {
            return Err(s.error(format!("{}: file shorter than its header says", var.path)));
        }
        Ok(out)
    }
}

/// The per-file chunk cache of a local file's reader (see `open`).
const LOCAL_FILE_CHUNK_BYTES: usize = 1 << 20;

/// Reads meeting at most this many chunks are not prefetched.
const MIN_PREFETCH_CHUNKS: usize = 4;

/// How many chunks of shape `chunk_shape` `slab` meets (at most: a stride can skip
/// some).
fn chunks_met(chunk_shape: &[usize], slab: &Hyperslab) -> usize {
    chunk_shape
        .iter()
        .zip(&slab.dims)
        .map(|(&n, d)| {
            if d.count == 0 {
                0
            } else {
                let n = n.max(1);
                (d.last() / n - d.start / n + 1).min(d.count)
            }
        })
        .product()
}

/// Whether the chunk at grid `coords` holds any element `slab` selects.
fn chunk_meets(coords: &[u64], chunk_shape: &[usize], slab: &Hyperslab) -> bool {
    coords
        .iter()
        .zip(chunk_shape)
        .zip(&slab.dims)
        .all(|((&c, &n), d)| {
            let (lo, hi) = (c as usize * n, (c as usize + 1) * n);
            // The first selected index at or after `lo`.
            let k = lo.saturating_sub(d.start).div_ceil(d.stride.max(1));
            let first = d.start + k * d.stride;
            k < d.count && first < hi
        })
}

/// `netcdf-reader` names root variables `v` and others `g/v`.
fn reader_path(path: &str) -> &str {
    path.trim_start_matches('/')
}

fn slice_info(slab: &Hyperslab) -> NcSliceInfo {
    NcSliceInfo {
        selections: slab
            .dims
            .iter()
            .map(|d| NcSliceInfoElem::Slice {
                start: d.start as u64,
                end: (d.start + d.count.saturating_sub(1) * d.stride + 1) as u64,
                step: d.stride as u64,
            })
            .collect(),
    }
}

/// Numeric values of a selection; `parallel`: decode chunks on rayon's threads (only
/// when their bytes are in memory already, or those threads would wait on the network
/// for every request in the process).
fn read_numeric(
    file: &NcFile,
    path: &str,
    dtype: DataType,
    slab: &Hyperslab,
    parallel: bool,
) -> netcdf_reader::Result<ArrayValues> {
    let selection = slice_info(slab);
    let read = (file, path, &selection, parallel);
    fn get<T: netcdf_reader::NcReadable + Clone>(
        (file, path, selection, parallel): (&NcFile, &str, &NcSliceInfo, bool),
    ) -> netcdf_reader::Result<Vec<T>> {
        let a = if parallel {
            file.read_variable_slice_parallel::<T>(path, selection)?
        } else {
            file.read_variable_slice::<T>(path, selection)?
        };
        Ok(match a.as_slice() {
            Some(s) => s.to_vec(),
            None => a.iter().cloned().collect(),
        })
    }
    Ok(match dtype {
        DataType::I8 => ArrayValues::I8(get(read)?),
        DataType::U8 => ArrayValues::U8(get(read)?),
        DataType::I16 => ArrayValues::I16(get(read)?),
        DataType::U16 => ArrayValues::U16(get(read)?),
        DataType::I32 => ArrayValues::I32(get(read)?),
        DataType::U32 => ArrayValues::U32(get(read)?),
        DataType::I64 => ArrayValues::I64(get(read)?),
        DataType::U64 => ArrayValues::U64(get(read)?),
        DataType::F32 => ArrayValues::F32(get(read)?),
        DataType::F64 => ArrayValues::F64(get(read)?),
        DataType::Char | DataType::String => unreachable!("read whole, see read_text"),
    })
}

/// Char and string variables: `netcdf-reader` reads them whole (they are small: names,
/// labels); the selection is taken in memory.
fn read_text(
    file: &NcFile,
    var: &Variable,
    slab: &Hyperslab,
) -> netcdf_reader::Result<ArrayValues> {
    let path = reader_path(&var.path);
    let picks = slab.linear_indices(&var.shape());
    Ok(match var.dtype {
        DataType::Char => {
            let raw = file.read_variable_raw_bytes(path)?;
            ArrayValues::Char(picks.iter().map(|&i| raw[i]).collect())
        }
        // NetCDF-3 `char` is read by `read_classic_bytes`.
        _ => {
            let all = file.read_variable_as_strings(path)?;
            ArrayValues::Str(picks.iter().map(|&i| all[i].clone()).collect())
        }
    })
}

#[async_trait]
impl Reader for RangeReader {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    fn memory_budget(&self) -> usize {
        self.decoded_chunk_cache_bytes
    }

    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?
            .clone();
        slab.validate(&var.shape())?;
        let shape = slab.shape();
        if slab.num_elements() == 0 {
            let values =
                ArrayValues::from_ne_bytes(var.dtype, &[]).unwrap_or(ArrayValues::Str(Vec::new()));
            return Ok(Array::new(shape, values));
        }
        if var.dtype == DataType::Char && self.container == Container::Classic {
            let raw = self.read_classic_bytes(&var).await?;
            let picks = slab.linear_indices(&var.shape());
            let values = ArrayValues::Char(picks.iter().map(|&i| raw[i]).collect());
            return Ok(Array::new(shape, values));
        }
        let prefetched = var.dtype != DataType::String && self.prefetch_chunks(&var, slab).await?;
        let parallel = prefetched || self.source.local.is_some();
        if let Some(fallback) = self.fallback.get() {
            return fallback.read(path, slab).await;
        }
        if let Some(chunked) = self.chunked_variable(&var).await? {
            let s = &self.source;
            let source = ChunkSource {
                storage: &s.storage,
                location: &s.location,
                version: &self.version,
                url: &self.url,
            };
            let item: Arc<str> = var.path.as_str().into();
            let n = slab
                .checked_num_elements()
                .ok_or_else(|| ReadError::Internal(format!("{path}: selection too large")))?;
            let mut values = ArrayValues::zeroed(var.dtype, n)
                .ok_or_else(|| ReadError::Internal(format!("{path}: not a numeric type")))?;
            let out = values
                .as_bytes_mut()
                .ok_or_else(|| ReadError::Internal(format!("{path}: not a numeric type")))?;
            chunked::read_into(&chunked, &item, slab, source, out)
                .await
                .map_err(|e| s.error(e))?;
            return Ok(Array::new(shape, values));
        }
        let (file, source, s2) = (self.file.clone(), self.source.clone(), slab.clone());
        let read = tokio::task::spawn_blocking(move || {
            let read = match var.dtype {
                DataType::Char | DataType::String => read_text(&file, &var, &s2),
                dtype => read_numeric(&file, reader_path(&var.path), dtype, &s2, parallel),
            };
            read.map_err(|e| source.error(e))
        })
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))?;
        self.report_chunk_cache();
        let values = match read {
            Ok(values) => values,
            // Data the pure-Rust reader cannot decode (a filter it lacks...): netCDF-C
            // reads it from a copy in the file cache, from now on. Damaged data stays
            // an error (libhdf5 may crash on it).
            Err(ReadError::Unsupported(message)) => {
                let s = &self.source;
                tracing::warn!(
                    "{}: {path}: {message}; reading through the file cache from now on",
                    s.location
                );
                let fallback = self
                    .fallback
                    .get_or_try_init(|| async {
                        let local = s.storage.local_file(&s.location, &s.version).await?;
                        NetcdfReader::open_path(&local, self.format, self.container).await
                    })
                    .await?;
                return fallback.read(path, slab).await;
            }
            Err(e) => return Err(e),
        };
        if values.len() != shape.iter().product::<usize>() {
            return Err(ReadError::Internal(format!(
                "{path}: read {} values for a selection of {shape:?}",
                values.len()
            )));
        }
        Ok(Array::new(shape, values))
    }

    async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        Ok((*self.cached_index(path).await?).clone())
    }

    async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        let with_chunks = self.container != Container::Hdf5;
        self.chunk_indexes
            .layout(path, || self.compute_chunk_index(path, with_chunks))
            .await
    }
}

impl RangeReader {
    /// The variable as datagate decodes it itself, when it can: an HDF5 chunked variable
    /// with a known filter pipeline whose chunk index is at hand (local files: read
    /// once; remote: once a larger read has fetched it, so a first small read of a
    /// remote file does not walk the whole index).
    async fn chunked_variable(
        &self,
        var: &Variable,
    ) -> Result<Option<Arc<ChunkedVariable>>, ReadError> {
        if self.container != Container::Hdf5
            || matches!(var.dtype, DataType::Char | DataType::String)
        {
            return Ok(None);
        }
        if let Some(known) = self.chunked.get(&var.path) {
            return Ok(known);
        }
        let index = if self.source.local.is_some() {
            self.cached_index(&var.path).await?
        } else {
            match self.chunk_indexes.cached(&var.path).await {
                Some(index) => index,
                None => return Ok(None),
            }
        };
        let chunked = ChunkedVariable::new(var, index, self.max_chunk_bytes).map(Arc::new);
        self.chunked.insert(var.path.clone(), chunked.clone());
        Ok(chunked)
    }

    /// The chunk index of a variable, computed once (shared, not copied: reads consult
    /// it on every call).
    async fn cached_index(&self, path: &str) -> Result<Arc<Option<ChunkIndex>>, ReadError> {
        self.chunk_indexes
            .index(path, || self.compute_chunk_index(path, true))
            .await
    }

    async fn compute_chunk_index(
        &self,
        path: &str,
        with_chunks: bool,
    ) -> Result<Option<ChunkIndex>, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        if var.dtype == DataType::String {
            return Ok(None); // variable-length: no byte ranges to give
        }
        if self.container == Container::Hdf5 {
            let file = self
                .hdf5
                .get_or_try_init(|| async {
                    let s = self.source.clone();
                    tokio::task::spawn_blocking(move || {
                        hdf5_pure::File::from_source(PureSource(s.clone()))
                            .map(Arc::new)
                            .map_err(|e| s.error(e))
                    })
                    .await
                    .map_err(|e| ReadError::Internal(e.to_string()))?
                })
                .await?
                .clone();
            let (vpath, shape, s) = (var.path.clone(), var.shape(), self.source.clone());
            return tokio::task::spawn_blocking(move || {
                hdf5_index::chunk_index(&file, &vpath, &shape, with_chunks).map_err(|e| s.error(e))
            })
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        }
        let layout = self
            .nc3_layout
            .get_or_try_init(|| async {
                let s = &self.source;
                let mut want = 64 * 1024;
                loop {
                    let end = want.min(s.version.size);
                    let head = s
                        .storage
                        .read_cached(&s.location, &s.version, 0..end)
                        .await?;
                    match netcdf3_layout::parse(&head) {
                        Ok(layout) => return Ok(Arc::new(layout)),
                        Err(e) if e.contains("truncated") && end < s.version.size => want *= 8,
                        Err(e) => return Err(s.error(e)),
                    }
                }
            })
            .await?;
        Ok(layout.chunk_index(&var.name, &var.shape()))
    }
}

#[cfg(test)]
mod regression_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subset::DimSlice;

    #[test]
    fn chunks_met_by_a_selection() {
        // Rows 3, 7, 11 (stride 4) over chunks of 5: chunks 0, 1, 2 but with stride
        // 10 from 1 (rows 1, 11) chunk 1 (rows 5..10) is skipped.
        let slab = Hyperslab::new(vec![DimSlice {
            start: 3,
            stride: 4,
            count: 3,
        }]);
        assert!(chunk_meets(&[0], &[5], &slab));
        assert!(chunk_meets(&[2], &[5], &slab));
        assert!(!chunk_meets(&[3], &[5], &slab));
        let sparse = Hyperslab::new(vec![DimSlice {
            start: 1,
            stride: 10,
            count: 2,
        }]);
        assert!(chunk_meets(&[0], &[5], &sparse));
        assert!(!chunk_meets(&[1], &[5], &sparse));
        assert!(chunk_meets(&[2], &[5], &sparse));
        assert_eq!(chunks_met(&[5], &slab), 3);
        assert_eq!(chunks_met(&[5], &sparse), 2);
        let window = Hyperslab::new(vec![DimSlice::index(4), DimSlice::full(720)]);
        assert_eq!(chunks_met(&[1, 180], &window), 4);
    }
}
