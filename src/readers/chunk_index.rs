//! Where a variable's stored chunks lie: what virtual Zarr passes through.

use serde::Serialize;

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

/// Chunk indexes of one open file by variable path, bounded by their size (a large
/// variable has hundreds of thousands of chunks).
pub(crate) fn index_cache() -> moka::future::Cache<String, std::sync::Arc<Option<ChunkIndex>>> {
    const BYTES: u64 = 64 << 20;
    moka::future::Cache::builder()
        .weigher(|k: &String, v: &std::sync::Arc<Option<ChunkIndex>>| {
            let chunks = v.as_ref().as_ref().map_or(0, |i| i.chunks.len());
            (k.len() + 128 + chunks * (std::mem::size_of::<ChunkEntry>() + 24))
                .min(u32::MAX as usize) as u32
        })
        .max_capacity(BYTES)
        .build()
}
