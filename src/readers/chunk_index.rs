//! Where a variable's stored chunks lie: what virtual Zarr passes through.

use std::sync::Arc;

use serde::Serialize;

use super::ReadError;

/// A filter of a chunked variable's pipeline, in the order applied when writing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Filter {
    Shuffle {
        element_size: usize,
    },
    Deflate {
        level: u32,
    },
    Fletcher32,
    /// Any other HDF5 filter, by id, with its parameters.
    Other {
        id: u32,
        params: Vec<u32>,
    },
}

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkEntry {
    /// Chunk grid coordinates (chunk index along each dimension).
    pub coords: Vec<u64>,
    pub offset: u64,
    pub size: u64,
    /// Bit `i` set: filter `i` was skipped for this chunk.
    pub filter_mask: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkIndex {
    pub chunk_shape: Vec<usize>,
    pub filters: Vec<Filter>,
    /// Stored bytes are little-endian (HDF5 usually) or big-endian (NetCDF-3).
    pub little_endian: bool,
    /// Only chunks that exist; absent ones read as the fill value.
    pub chunks: Vec<ChunkEntry>,
}

impl ChunkIndex {
    /// A contiguous variable of `shape`: one chunk of the whole shape, stored at
    /// `stored` (offset, size) or nowhere when never written (all fill).
    pub fn contiguous(shape: &[usize], little_endian: bool, stored: Option<(u64, u64)>) -> Self {
        ChunkIndex {
            chunk_shape: shape.iter().map(|&n| n.max(1)).collect(),
            filters: Vec::new(),
            little_endian,
            chunks: stored
                .filter(|&(_, size)| size > 0)
                .map(|(offset, size)| ChunkEntry {
                    coords: vec![0; shape.len()],
                    offset,
                    size,
                    filter_mask: 0,
                })
                .into_iter()
                .collect(),
        }
    }
}

/// Chunk indexes of one open file by variable path, bounded by their size (a large
/// variable has hundreds of thousands of chunks). A reader serves one version of one
/// file (the catalog reopens changed files), so paths are keys enough.
pub(crate) struct IndexCache(moka::future::Cache<String, Arc<Option<ChunkIndex>>>);

impl IndexCache {
    pub(crate) fn new() -> IndexCache {
        const BYTES: u64 = 64 << 20;
        IndexCache(
            moka::future::Cache::builder()
                .weigher(|k: &String, v: &Arc<Option<ChunkIndex>>| {
                    let chunks = v.as_ref().as_ref().map_or(0, |i| i.chunks.len());
                    (k.len() + 128 + chunks * (std::mem::size_of::<ChunkEntry>() + 24))
                        .min(u32::MAX as usize) as u32
                })
                .max_capacity(BYTES)
                .build(),
        )
    }

    pub(crate) async fn cached(&self, path: &str) -> Option<Arc<Option<ChunkIndex>>> {
        self.0.get(path).await
    }

    /// The full index of `path`, computed by `compute` (with every chunk) once.
    pub(crate) async fn index<F, Fut>(
        &self,
        path: &str,
        compute: F,
    ) -> Result<Arc<Option<ChunkIndex>>, ReadError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<ChunkIndex>, ReadError>>,
    {
        if let Some(hit) = self.0.get(path).await {
            return Ok(hit);
        }
        let index = Arc::new(compute().await?);
        self.0.insert(path.to_string(), index.clone()).await;
        Ok(index)
    }

    /// The layout of `path` (the index without its chunks): from the full index when
    /// known, else from `layout`, which need not visit every chunk.
    pub(crate) async fn layout<F, Fut>(
        &self,
        path: &str,
        layout: F,
    ) -> Result<Option<ChunkIndex>, ReadError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<ChunkIndex>, ReadError>>,
    {
        let mut index = match self.0.get(path).await {
            Some(hit) => (*hit).clone(),
            None => layout().await?,
        };
        if let Some(i) = index.as_mut() {
            i.chunks.clear();
        }
        Ok(index)
    }
}
