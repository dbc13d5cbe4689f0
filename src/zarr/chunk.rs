//! The bytes of one Zarr chunk: a stored chunk as it is on disk (one range read), or
//! data read through the reader and encoded with the codecs the metadata declares.

use std::sync::Arc;

use bytes::Bytes;

use crate::catalog::Dataset;
use crate::model::{ArrayValues, DataType};
use crate::subset::{DimSlice, Hyperslab};

use super::codec;
use super::error::ZarrError;
use super::layout::{ArrayLayout, ChunkMap, Codec, DECODED_ZLIB_LEVEL, Encoding, NativeCodecs};

/// What a chunk key holds.
#[derive(Debug, PartialEq)]
pub enum Source {
    /// Stored bytes at this range of the file (or of the reader's chunk `key`), valid
    /// as they are.
    Stored {
        offset: u64,
        size: u64,
        key: Option<String>,
    },
    /// Must be read and encoded here (decoded arrays, chunks stored with a different
    /// filter mask, never-written chunks that the metadata gives no fill value for).
    Encode,
    /// Never written: the client fills it with `fill_value`.
    Absent,
}

/// Where the chunk at `coords` comes from; `None` when the coordinates are off the grid.
/// `stored` is the array's stored chunks (`ArrayLayout::stored_chunks`). `v2` matters
/// for never-written chunks: v2 metadata may declare no fill value.
pub fn source(
    a: &ArrayLayout,
    stored: Option<&ChunkMap>,
    coords: &[u64],
    v2: bool,
) -> Option<Source> {
    let grid = a.grid();
    if coords.len() != grid.len() || coords.iter().zip(&grid).any(|(c, g)| c >= g) {
        return None;
    }
    Some(match (&a.encoding, stored) {
        (Encoding::Decoded, _) | (_, None) => Source::Encode,
        (Encoding::Native { trailer, .. }, Some(chunks)) => match chunks.get(coords) {
            Some(e) if e.filter_mask == 0 && e.size > *trailer => Source::Stored {
                offset: e.offset,
                size: e.size - trailer,
                key: e.key.clone(),
            },
            Some(_) => Source::Encode,
            // In v2 without `_FillValue` the client would fill with zeros; send what
            // netCDF-C returns for unwritten data instead.
            None if v2 && a.fill.is_none() => Source::Encode,
            None => Source::Absent,
        },
    })
}

/// The encoded bytes of chunk `coords` (which `source` said to encode); `written`
/// false for a chunk never written (all fill, nothing to read).
pub async fn encode(
    ds: &Arc<Dataset>,
    a: &ArrayLayout,
    coords: &[u64],
    written: bool,
) -> Result<Bytes, ZarrError> {
    let slab = Hyperslab::new(
        coords
            .iter()
            .zip(a.chunk_shape.iter().zip(&a.shape))
            .map(|(&c, (&cs, &n))| {
                let start = c as usize * cs;
                DimSlice {
                    start,
                    stride: 1,
                    count: cs.min(n - start),
                }
            })
            .collect(),
    );
    let region = slab.shape();
    let values = match written {
        false => None,
        true => Some(ds.read(&a.var_path, &slab).await?.values),
    };
    Ok(Bytes::from(encode_values(a, values, &region)))
}

/// Encodes a chunk's values (`None`: never written, all fill) of shape `region`.
pub fn encode_values(a: &ArrayLayout, values: Option<ArrayValues>, region: &[usize]) -> Vec<u8> {
    let n: usize = a.chunk_shape.iter().product();
    if a.dtype == DataType::String {
        let strings = match values {
            Some(ArrayValues::Str(s)) => s,
            _ => vec![String::new(); region.iter().product()],
        };
        let padded = codec::pad(&strings, region, &a.chunk_shape, 1, &[String::new()]);
        return codec::zlib(&codec::vlen_utf8(&padded), DECODED_ZLIB_LEVEL);
    }
    let elem = a.dtype.size().unwrap_or(1);
    let (little, codecs) = match &a.encoding {
        Encoding::Native {
            little_endian,
            codecs,
            ..
        } => (*little_endian, codecs.clone()),
        Encoding::Decoded => (true, NativeCodecs::decoded()),
    };
    let fill = a.effective_fill().bytes(a.dtype, little);
    let raw = match values {
        Some(v) => {
            let mut b = codec::to_le_bytes(&v);
            if !little && elem > 1 {
                b.chunks_exact_mut(elem).for_each(|e| e.reverse());
            }
            codec::pad(&b, region, &a.chunk_shape, elem, &fill)
        }
        None => fill.repeat(n),
    };
    codecs.chain.iter().fold(raw, |bytes, c| match c {
        Codec::Fletcher32 => codec::with_fletcher32(bytes),
        Codec::Shuffle(e) => codec::shuffle(&bytes, *e),
        Codec::Zlib(level) => codec::zlib(&bytes, *level),
    })
}
