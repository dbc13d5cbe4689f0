//! How a dataset is laid out as a Zarr store: which arrays and groups, each array's
//! chunk grid, and whether its chunks are the file's stored chunks (native) or read and
//! encoded here (decoded). Built once per dataset version and cached.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::Dataset;
use crate::model::{
    Attribute, AttributeList, ChunkEntry, ChunkIndex, DataType, Filter, Group, Variable,
};

use super::codec::Fill;
use super::error::ZarrError;

/// Decoded chunks hold about this many bytes before compression.
const DECODED_CHUNK_BYTES: usize = 4 << 20;
/// Stored chunks larger than this are re-chunked rather than passed through.
const MAX_NATIVE_CHUNK_BYTES: u64 = 64 << 20;
/// Contiguous (unchunked, unfiltered) data larger than this is re-chunked and compressed
/// rather than sent as one uncompressed chunk.
const MAX_CONTIGUOUS_BYTES: usize = 8 << 20;
/// zlib level of decoded chunks: fast, the data is usually on its way to a client.
pub const DECODED_ZLIB_LEVEL: u32 = 1;

/// Attributes that are HDF5/netCDF bookkeeping, not data description.
const HIDDEN_ATTRIBUTES: &[&str] = &[
    "DIMENSION_LIST",
    "REFERENCE_LIST",
    "CLASS",
    "NAME",
    "_Netcdf4Dimid",
    "_Netcdf4Coordinates",
    "_NCProperties",
    "_nc3_strict",
    "_FillValue",
];

/// A bytes-to-bytes codec of numcodecs matching an HDF5 filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Codec {
    /// HDF5's Fletcher-32 (numcodecs `fletcher32`): a 4-byte checksum appended.
    Fletcher32,
    Shuffle(usize),
    Zlib(u32),
}

/// The codecs of a natively served array, in write order (HDF5's pipeline order).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeCodecs {
    pub chain: Vec<Codec>,
}

impl NativeCodecs {
    /// What decoded chunks are written with.
    pub fn decoded() -> NativeCodecs {
        NativeCodecs {
            chain: vec![Codec::Zlib(DECODED_ZLIB_LEVEL)],
        }
    }
}

/// Stored chunks by grid coordinate.
pub type ChunkMap = HashMap<Vec<u64>, ChunkEntry>;

#[derive(Debug, Clone)]
pub enum Encoding {
    /// Chunks are the stored chunks, served as stored (one range read each).
    Native {
        codecs: NativeCodecs,
        little_endian: bool,
        /// Bytes at the end of each stored chunk to drop (a Fletcher-32 checksum).
        trailer: u64,
        /// The stored chunks by grid coordinate, read on the first chunk request:
        /// walking a large index is the slow part of opening a dataset.
        chunks: Arc<tokio::sync::OnceCell<Arc<ChunkMap>>>,
    },
    /// Chunks are read through the reader and zlib-compressed (strings: vlen-utf8).
    Decoded,
}

#[derive(Debug, Clone)]
pub struct ArrayLayout {
    /// Store key, `temp` or `forecast/temp`.
    pub key: String,
    /// The model variable, `/forecast/temp`.
    pub var_path: String,
    pub dims: Vec<String>,
    pub shape: Vec<usize>,
    pub dtype: DataType,
    pub chunk_shape: Vec<usize>,
    pub encoding: Encoding,
    /// From `_FillValue`, when the variable has one.
    pub fill: Option<Fill>,
    pub attributes: Vec<Attribute>,
}

impl ArrayLayout {
    /// Number of chunks along each dimension.
    pub fn grid(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunk_shape)
            .map(|(&n, &c)| n.div_ceil(c) as u64)
            .collect()
    }

    /// The fill used to pad chunks and for never-written data: `_FillValue`, else what
    /// netCDF-C returns for unwritten data.
    pub fn effective_fill(&self) -> Fill {
        self.fill
            .unwrap_or_else(|| Fill::netcdf_default(self.dtype))
    }

    /// The stored chunks of a natively served array (`None` for decoded ones), read
    /// from the reader's chunk index once.
    pub async fn stored_chunks(&self, ds: &Dataset) -> Result<Option<Arc<ChunkMap>>, ZarrError> {
        let Encoding::Native { chunks, .. } = &self.encoding else {
            return Ok(None);
        };
        let map = chunks
            .get_or_try_init(|| async {
                let index = ds.reader.chunk_index(&self.var_path).await?;
                let map: ChunkMap = index
                    .map(|i| {
                        i.chunks
                            .into_iter()
                            .map(|c| (c.coords.clone(), c))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok::<_, ZarrError>(Arc::new(map))
            })
            .await?;
        Ok(Some(map.clone()))
    }

    pub fn is_native(&self) -> bool {
        matches!(self.encoding, Encoding::Native { .. })
    }

    /// Bytes of one whole chunk, uncompressed (strings count one byte).
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_shape.iter().product::<usize>() * self.dtype.size().unwrap_or(1)
    }
}

#[derive(Debug, Clone)]
pub struct GroupLayout {
    /// Store key, `` for the root, `forecast/deep`.
    pub key: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct StoreLayout {
    pub arrays: Vec<ArrayLayout>,
    pub groups: Vec<GroupLayout>,
}

impl StoreLayout {
    pub fn array(&self, key: &str) -> Option<&ArrayLayout> {
        self.arrays.iter().find(|a| a.key == key)
    }

    pub fn group(&self, key: &str) -> Option<&GroupLayout> {
        self.groups.iter().find(|g| g.key == key)
    }

    /// Builds the layout of a dataset from each variable's storage layout (chunk shape
    /// and filters; the chunks themselves are read when first needed).
    pub async fn build(ds: &Arc<Dataset>, max_response_bytes: u64) -> StoreLayout {
        let meta = ds.meta.clone();
        let coordinates = coordinate_paths(&meta.root);
        let mut arrays = Vec::new();
        for var in meta.variables() {
            let index = if coordinates.contains(&var.path) {
                None // served as one materialised chunk: clients read them repeatedly
            } else {
                // Without an index the variable is still served, decoded.
                ds.reader.chunk_layout(&var.path).await.unwrap_or_else(|e| {
                    tracing::warn!("zarr: no chunk index for {}{}: {e}", ds.id, var.path);
                    None
                })
            };
            arrays.push(array_layout(var, index, max_response_bytes));
        }
        let groups = meta
            .root
            .all_groups()
            .into_iter()
            .map(|g| GroupLayout {
                key: g.path.trim_start_matches('/').to_string(),
                attributes: visible(&g.attributes),
            })
            .collect();
        StoreLayout { arrays, groups }
    }
}

/// Coordinate variables and the variables named by `coordinates` attributes.
fn coordinate_paths(root: &Group) -> Vec<String> {
    let mut out = Vec::new();
    for g in root.all_groups() {
        for v in &g.variables {
            if v.is_coordinate_variable() {
                out.push(v.path.clone());
            }
            if let Some(names) = v.attributes.attr_text("coordinates") {
                for n in names.split_whitespace() {
                    if let Some(c) = g.variables.iter().find(|c| c.name == n) {
                        out.push(c.path.clone());
                    }
                }
            }
        }
    }
    out
}

fn visible(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| !HIDDEN_ATTRIBUTES.contains(&a.name.as_str()))
        .cloned()
        .collect()
}

/// The codecs a Zarr client needs to read stored chunks of this pipeline, if it can,
/// and the bytes to drop from the end of each stored chunk.
fn native_codecs(filters: &[Filter], elem: usize) -> Option<(NativeCodecs, u64)> {
    let mut chain = Vec::new();
    let mut trailer = 0;
    // Bytes per chunk are a multiple of the element size until a checksum is appended
    // (+4) or the data is compressed (unknown): numcodecs' shuffle needs whole elements.
    let mut extra: Option<usize> = Some(0);
    for (i, f) in filters.iter().enumerate() {
        match f {
            Filter::Shuffle { element_size }
                if *element_size == elem && extra.is_some_and(|x| x % elem == 0) =>
            {
                chain.push(Codec::Shuffle(elem))
            }
            Filter::Deflate { level } => {
                chain.push(Codec::Zlib(*level));
                extra = None;
            }
            // Last (h5py's order): the checksum trails the stored bytes; drop it.
            Filter::Fletcher32 if i == filters.len() - 1 => trailer = 4,
            // Elsewhere (netCDF-C puts it first) later filters process it: declare it.
            Filter::Fletcher32 => {
                chain.push(Codec::Fletcher32);
                extra = extra.map(|x| x + 4);
            }
            _ => return None,
        }
    }
    Some((NativeCodecs { chain }, trailer))
}

fn array_layout(var: &Variable, index: Option<ChunkIndex>, max_response_bytes: u64) -> ArrayLayout {
    let shape = var.shape();
    let elem = var.dtype.size().unwrap_or(1);
    let native = index.filter(|idx| {
        let whole = idx.chunk_shape == shape.iter().map(|&n| n.max(1)).collect::<Vec<_>>();
        if whole && idx.filters.is_empty() {
            // Contiguous data is one uncompressed chunk: only worth it when small.
            return shape.iter().product::<usize>() * elem <= MAX_CONTIGUOUS_BYTES;
        }
        // Record variables would be one tiny chunk per record: decode instead.
        !idx.records
    });
    match native.and_then(|idx| native_layout(var, idx, max_response_bytes, false)) {
        Some(layout) => layout,
        None => {
            let target = DECODED_CHUNK_BYTES
                .min(max_response_bytes as usize / 2)
                .max(elem);
            let chunk_shape = decoded_chunk_shape(&shape, elem, target);
            base_layout(var, chunk_shape, Encoding::Decoded)
        }
    }
}

/// The layout serving the stored chunks of `index` as they are, if a Zarr client can
/// decode them and they are not too large to send. `index.chunks` is taken as complete
/// when `complete`; otherwise the chunks are read on first use.
pub fn native_layout(
    var: &Variable,
    index: ChunkIndex,
    max_chunk_bytes: u64,
    complete: bool,
) -> Option<ArrayLayout> {
    let elem = var.dtype.size()? as u64;
    let chunk_bytes = index.chunk_shape.iter().product::<usize>() as u64 * elem;
    if index.chunk_shape.len() != var.dims.len()
        || chunk_bytes == 0
        || chunk_bytes > MAX_NATIVE_CHUNK_BYTES.min(max_chunk_bytes)
    {
        return None;
    }
    let (codecs, trailer) = native_codecs(&index.filters, elem as usize)?;
    let encoding = Encoding::Native {
        codecs,
        little_endian: index.little_endian,
        trailer,
        chunks: Arc::new(if complete {
            let map: ChunkMap = index
                .chunks
                .into_iter()
                .map(|c| (c.coords.clone(), c))
                .collect();
            tokio::sync::OnceCell::new_with(Some(Arc::new(map)))
        } else {
            tokio::sync::OnceCell::new()
        }),
    };
    Some(base_layout(var, index.chunk_shape, encoding))
}

fn base_layout(var: &Variable, chunk_shape: Vec<usize>, encoding: Encoding) -> ArrayLayout {
    ArrayLayout {
        key: var.path.trim_start_matches('/').to_string(),
        var_path: var.path.clone(),
        dims: var.dims.iter().map(|d| d.name.clone()).collect(),
        shape: var.shape(),
        dtype: var.dtype,
        chunk_shape,
        encoding,
        fill: var
            .attr("_FillValue")
            .and_then(|v| Fill::from_attr(v, var.dtype))
            .filter(|_| var.dtype != DataType::String),
        attributes: visible(&var.attributes),
    }
}

/// A regular grid of about `target` bytes per chunk: whole trailing dimensions, split
/// along the outermost one that does not fit.
pub fn decoded_chunk_shape(shape: &[usize], elem: usize, target: usize) -> Vec<usize> {
    let target_elems = (target / elem.max(1)).max(1);
    let mut chunk: Vec<usize> = shape.iter().map(|&n| n.max(1)).collect();
    let mut inner = 1usize;
    for d in (0..chunk.len()).rev() {
        let want = chunk[d].saturating_mul(inner);
        if want > target_elems {
            chunk[d] = (target_elems / inner).clamp(1, chunk[d]);
            for c in chunk.iter_mut().take(d) {
                *c = 1;
            }
            break;
        }
        inner = want;
    }
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_grid() {
        assert_eq!(decoded_chunk_shape(&[10, 20], 4, 1 << 20), vec![10, 20]);
        assert_eq!(
            decoded_chunk_shape(&[100, 1000, 1000], 4, 4 << 20),
            vec![1, 1000, 1000]
        );
        assert_eq!(
            decoded_chunk_shape(&[100, 10, 100], 4, 4000),
            vec![1, 10, 100]
        );
        assert_eq!(
            decoded_chunk_shape(&[100, 10, 100], 4, 8000),
            vec![2, 10, 100]
        );
        assert_eq!(
            decoded_chunk_shape(&[5, 10_000_000], 8, 4 << 20),
            vec![1, 524288]
        );
        assert_eq!(decoded_chunk_shape(&[0, 3], 4, 100), vec![1, 3]);
        assert_eq!(decoded_chunk_shape(&[], 8, 100), Vec::<usize>::new());
    }

    #[test]
    fn which_pipelines_pass_through() {
        use Codec::*;
        let s = |e| Filter::Shuffle { element_size: e };
        let d = Filter::Deflate { level: 4 };
        let chain = |c: Vec<Codec>, t| Some((NativeCodecs { chain: c }, t));
        assert_eq!(
            native_codecs(&[s(4), d.clone()], 4),
            chain(vec![Shuffle(4), Zlib(4)], 0)
        );
        assert_eq!(native_codecs(&[s(2), d.clone()], 4), None);
        // Shuffling compressed bytes of unknown length: numcodecs may refuse.
        assert_eq!(native_codecs(&[d.clone(), s(4)], 4), None);
        assert_eq!(
            native_codecs(&[d.clone(), Filter::Fletcher32], 4),
            chain(vec![Zlib(4)], 4)
        );
        assert_eq!(
            native_codecs(&[Filter::Fletcher32, s(4), d.clone()], 4),
            chain(vec![Fletcher32, Shuffle(4), Zlib(4)], 0)
        );
        // 8-byte elements plus a 4-byte checksum do not shuffle in numcodecs.
        assert_eq!(
            native_codecs(&[Filter::Fletcher32, s(8), d.clone()], 8),
            None
        );
        assert_eq!(
            native_codecs(
                &[Filter::Other {
                    id: 4,
                    params: vec![]
                }],
                4
            ),
            None
        );
        assert_eq!(native_codecs(&[], 4), chain(vec![], 0));
    }
}
