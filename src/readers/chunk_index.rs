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
