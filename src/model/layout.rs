//! How a variable's values are stored: chunk shape, filters, byte order and where each
//! stored chunk lies. Format-neutral (readers fill it in, virtual Zarr passes stored
//! chunks through), so protocols need not know the readers.

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
    /// Formats that keep each chunk apart from the dataset's own file (a Zarr store's
    /// chunk objects, a reference set's keys) name it here: its stored bytes are then
    /// `Reader::stored_chunk(key)`, and `offset`/`size` are within that value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkIndex {
    pub chunk_shape: Vec<usize>,
    pub filters: Vec<Filter>,
    /// Stored bytes are little-endian (HDF5 usually) or big-endian (NetCDF-3).
    pub little_endian: bool,
    /// Only chunks that exist; absent ones read as the fill value.
    pub chunks: Vec<ChunkEntry>,
    /// Each chunk is one record of a record variable, interleaved in the file with
    /// other variables' records (NetCDF-3): many tiny chunks, better served decoded.
    pub records: bool,
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
                    key: None,
                })
                .into_iter()
                .collect(),
            records: false,
        }
    }
}
