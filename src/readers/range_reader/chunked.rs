//! Reads of chunked NetCDF-4/HDF5 variables by datagate itself, for the common filter
//! pipelines (deflate, shuffle, Fletcher-32): the chunks a selection meets are fetched
//! concurrently, inflated in parallel on every core (rayon), and kept in the process's
//! shared decoded-chunk cache (`storage::DecodedCache`), so a time series at a point
//! re-reading the same chunks, from any protocol, costs no decompression. Pipelines it
//! does not know are left to `netcdf-reader`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use rayon::prelude::*;

use crate::model::{AttrValue, ChunkIndex, DataType, Filter, Variable};
use crate::storage::{DecodedCache, DecodedKey, Location, ObjectVersion, Storage};
use crate::subset::Hyperslab;

/// Chunks decoded at once: bounds the memory of one read, whatever its size.
const BATCH_BYTES: usize = 64 << 20;

/// A variable whose chunks datagate decodes itself.
pub(super) struct ChunkedVariable {
    index: Arc<Option<ChunkIndex>>,
    /// Position in `index.chunks` of each stored chunk, by grid coordinates.
    by_coords: HashMap<Vec<u64>, usize>,
    elem: usize,
    chunk_bytes: usize,
    /// One element of the fill value, in the stored byte order (absent chunks).
    fill: Vec<u8>,
}

impl ChunkedVariable {
    /// `None` when the variable is better read by `netcdf-reader`: not chunked, a
    /// filter datagate does not decode, chunks larger than `max_chunk_bytes`.
    pub(super) fn new(
        var: &Variable,
        index: Arc<Option<ChunkIndex>>,
        max_chunk_bytes: usize,
    ) -> Option<ChunkedVariable> {
        let i = index.as_ref().as_ref()?;
        let elem = var.dtype.size()?;
        if matches!(var.dtype, DataType::Char | DataType::String)
            || i.records
            || i.chunk_shape == var.shape()
            || i.chunk_shape.len() != var.shape().len()
            || !i.filters.iter().all(known_filter)
        {
            return None;
        }
        let chunk_bytes = i
            .chunk_shape
            .iter()
            .try_fold(elem, |acc, &n| acc.checked_mul(n))?;
        if chunk_bytes == 0 || chunk_bytes > max_chunk_bytes {
            return None;
        }
        let by_coords = i
            .chunks
            .iter()
            .enumerate()
            .map(|(n, c)| (c.coords.clone(), n))
            .collect();
        let fill = fill_element(var, elem, i.little_endian);
        Some(ChunkedVariable {
            index,
            by_coords,
            elem,
            chunk_bytes,
            fill,
        })
    }

    /// Memory it holds (its lookup of chunks by coordinates).
    pub(super) fn weight(&self) -> usize {
        self.by_coords.len() * (48 + 8 * self.layout().chunk_shape.len())
    }

    fn layout(&self) -> &ChunkIndex {
        self.index.as_ref().as_ref().expect("checked in new")
    }
}

fn known_filter(f: &Filter) -> bool {
    matches!(
        f,
        Filter::Shuffle { .. } | Filter::Deflate { .. } | Filter::Fletcher32
    )
}

/// Where an object is: the decoded cache's key prefix and the bytes' source.
pub(super) struct ChunkSource<'a> {
    pub storage: &'a Arc<Storage>,
    pub location: &'a Location,
    pub version: &'a Arc<ObjectVersion>,
    pub url: &'a Arc<str>,
}

/// Along one dimension, the chunks a selection meets: for each, its grid coordinate
/// and the (output index, index within the chunk) pairs it gives.
type DimRuns = Vec<(u64, Vec<(usize, usize)>)>;

fn dim_runs(start: usize, stride: usize, count: usize, chunk: usize) -> DimRuns {
    let mut runs: DimRuns = Vec::new();
    for k in 0..count {
        let i = start + k * stride;
        let c = (i / chunk) as u64;
        match runs.last_mut() {
            Some((last, picks)) if *last == c => picks.push((k, i % chunk)),
            _ => runs.push((c, vec![(k, i % chunk)])),
        }
    }
    runs
}

/// Reads `slab` (validated against the variable's shape) as native-endian bytes into
/// `out`, which holds exactly the selection (the answer's own storage: no copy after).
pub(super) async fn read_into(
    var: &ChunkedVariable,
    item: &Arc<str>,
    slab: &Hyperslab,
    src: ChunkSource<'_>,
    out: &mut [u8],
) -> Result<(), String> {
    let layout = var.layout();
    let runs: Vec<_> = slab
        .dims
        .iter()
        .zip(&layout.chunk_shape)
        .map(|(d, &n)| dim_runs(d.start, d.stride.max(1), d.count, n))
        .collect();
    let out_shape = slab.shape();
    let total = out_shape
        .iter()
        .try_fold(var.elem, |acc, &n| acc.checked_mul(n))
        .ok_or("selection too large")?;
    if out.len() != total {
        return Err(format!("{total} bytes selected, room for {}", out.len()));
    }
    let mut chunks = Vec::new();
    grid_product(&runs, &mut Vec::new(), &mut chunks);
    let per_batch = (BATCH_BYTES / var.chunk_bytes).max(1);
    for batch in chunks.chunks(per_batch) {
        let decoded = fetch_batch(var, item, &runs, batch, &src).await?;
        for (picks, bytes) in batch.iter().zip(&decoded) {
            copy_chunk(var, &runs, picks, bytes.as_deref(), &out_shape, out);
        }
    }
    if layout.little_endian != cfg!(target_endian = "little") {
        for e in out.chunks_exact_mut(var.elem) {
            e.reverse();
        }
    }
    Ok(())
}

/// Every combination of one chunk per dimension: (grid coordinates, run index per dim).
fn grid_product(runs: &[DimRuns], at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if at.len() == runs.len() {
        out.push(at.clone());
        return;
    }
    for r in 0..runs[at.len()].len() {
        at.push(r);
        grid_product(runs, at, out);
        at.pop();
    }
}

/// The decoded bytes of a batch of chunks (by run indices), `None` for chunks never
/// written: from the shared cache, or read concurrently and inflated on every core.
async fn fetch_batch(
    var: &ChunkedVariable,
    item: &Arc<str>,
    runs: &[DimRuns],
    batch: &[Vec<usize>],
    src: &ChunkSource<'_>,
) -> Result<Vec<Option<Arc<[u8]>>>, String> {
    let layout = var.layout();
    let cache: &DecodedCache = src.storage.decoded();
    let mut found: Vec<Option<Arc<[u8]>>> = vec![None; batch.len()];
    let mut missing = Vec::new();
    for (slot, picks) in batch.iter().enumerate() {
        let coords = coords_of(runs, picks);
        let Some(&n) = var.by_coords.get(&coords) else {
            continue; // never written: fill
        };
        let key = DecodedKey {
            url: src.url.clone(),
            version: src.version.clone(),
            item: item.clone(),
            coords,
        };
        match cache.get(&key) {
            Some(hit) => found[slot] = Some(hit),
            None => missing.push((slot, n, key)),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let ranges: Vec<_> = missing
        .iter()
        .map(|(_, n, _)| {
            let c = &layout.chunks[*n];
            c.offset..c.offset.saturating_add(c.size)
        })
        .collect();
    if src.location.local_path().is_none() && ranges.len() > 1 {
        src.storage
            .prefetch(src.location, src.version, ranges.clone())
            .await
            .map_err(|e| e.to_string())?;
    }
    let stored = futures::future::try_join_all(ranges.iter().map(|r| {
        src.storage
            .read_cached(src.location, src.version, r.clone())
    }))
    .await
    .map_err(|e| e.to_string())?;
    let masks: Vec<u32> = missing
        .iter()
        .map(|(_, n, _)| layout.chunks[*n].filter_mask)
        .collect();
    let (filters, want) = (layout.filters.clone(), var.chunk_bytes);
    let decoded = tokio::task::spawn_blocking(move || {
        stored
            .par_iter()
            .zip(masks.par_iter())
            .map(|(raw, &mask)| decode(raw, &filters, mask, want))
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| e.to_string())??;
    let keep = var.chunk_bytes <= cache.max_entry_bytes();
    for ((slot, _, key), bytes) in missing.into_iter().zip(decoded) {
        let bytes: Arc<[u8]> = bytes.into();
        if keep {
            cache.insert(key, bytes.clone());
        }
        found[slot] = Some(bytes);
    }
    Ok(found)
}

/// A chunk's grid coordinates, from its run index along each dimension.
fn coords_of(runs: &[DimRuns], picks: &[usize]) -> Vec<u64> {
    picks.iter().zip(runs).map(|(&r, runs)| runs[r].0).collect()
}

/// Undoes a chunk's filter pipeline (applied in order when writing, so undone in
/// reverse), skipping filters its mask marks as not applied.
fn decode(raw: &[u8], filters: &[Filter], mask: u32, want: usize) -> Result<Vec<u8>, String> {
    // What a stage may hold: the chunk plus any Fletcher-32 checksums still on it.
    let checksums = filters.iter().filter(|f| **f == Filter::Fletcher32).count();
    let most = want + 4 * checksums;
    let mut bytes = raw.to_vec();
    for (i, f) in filters.iter().enumerate().rev() {
        if i < 32 && mask & (1 << i) != 0 {
            continue;
        }
        bytes = match f {
            Filter::Fletcher32 => {
                let n = bytes
                    .len()
                    .checked_sub(4)
                    .ok_or("chunk shorter than its checksum")?;
                bytes.truncate(n);
                bytes
            }
            Filter::Deflate { .. } => inflate(&bytes, most)?,
            Filter::Shuffle { element_size } => unshuffle(&bytes, *element_size),
            Filter::Other { id, .. } => return Err(format!("HDF5 filter {id}")),
        };
    }
    if bytes.len() != want {
        return Err(format!(
            "a chunk decodes to {} bytes, not {want}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// zlib-inflates at most `want` bytes (a damaged or hostile chunk cannot inflate past
/// what the chunk shape says).
fn inflate(raw: &[u8], want: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(want);
    flate2::read::ZlibDecoder::new(raw)
        .take(want as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("damaged deflate chunk: {e}"))?;
    Ok(out)
}

/// HDF5's shuffle: byte `b` of every element stored together; trailing bytes that do
/// not fill an element are left as they are.
fn unshuffle(bytes: &[u8], element_size: usize) -> Vec<u8> {
    if element_size <= 1 {
        return bytes.to_vec();
    }
    let n = bytes.len() / element_size;
    let mut out = vec![0u8; bytes.len()];
    for b in 0..element_size {
        let plane = &bytes[b * n..(b + 1) * n];
        for (e, &v) in plane.iter().enumerate() {
            out[e * element_size + b] = v;
        }
    }
    let tail = n * element_size;
    out[tail..].copy_from_slice(&bytes[tail..]);
    out
}

/// Copies the elements one chunk gives into the output (row-major), or the fill value
/// for a chunk never written.
fn copy_chunk(
    var: &ChunkedVariable,
    runs: &[DimRuns],
    picks: &[usize],
    chunk: Option<&[u8]>,
    out_shape: &[usize],
    out: &mut [u8],
) {
    let layout = var.layout();
    let rank = runs.len();
    let elem = var.elem;
    // Element strides of the chunk and of the output.
    let mut cs = vec![1usize; rank];
    let mut os = vec![1usize; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        cs[d] = cs[d + 1] * layout.chunk_shape[d + 1];
        os[d] = os[d + 1] * out_shape[d + 1];
    }
    let lists: Vec<&Vec<(usize, usize)>> = picks
        .iter()
        .enumerate()
        .map(|(d, &r)| &runs[d][r].1)
        .collect();
    if rank == 0 {
        return;
    }
    let last = lists[rank - 1];
    // The innermost run is contiguous in both when the selection's stride is 1.
    let contiguous = last.windows(2).all(|w| w[1].1 == w[0].1 + 1);
    let mut idx = vec![0usize; rank - 1];
    loop {
        let (mut o, mut c) = (0usize, 0usize);
        for d in 0..rank - 1 {
            let (k, i) = lists[d][idx[d]];
            o += k * os[d];
            c += i * cs[d];
        }
        let (k0, i0) = last[0];
        if contiguous {
            let n = last.len() * elem;
            let dst = &mut out[(o + k0) * elem..(o + k0) * elem + n];
            match chunk {
                Some(src) => dst.copy_from_slice(&src[(c + i0) * elem..(c + i0) * elem + n]),
                None => dst
                    .chunks_exact_mut(elem)
                    .for_each(|e| e.copy_from_slice(&var.fill)),
            }
        } else {
            for &(k, i) in last {
                let dst = &mut out[(o + k) * elem..(o + k + 1) * elem];
                match chunk {
                    Some(src) => dst.copy_from_slice(&src[(c + i) * elem..(c + i + 1) * elem]),
                    None => dst.copy_from_slice(&var.fill),
                }
            }
        }
        // Next combination of the outer dimensions.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < lists[d].len() {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// One element of the variable's `_FillValue` (netCDF-C's default when it has none), in
/// the stored byte order.
fn fill_element(var: &Variable, elem: usize, little_endian: bool) -> Vec<u8> {
    let attr = var.attributes.iter().find(|a| a.name == "_FillValue");
    let le: Vec<u8> = match attr.map(|a| &a.value) {
        Some(AttrValue::I8(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::U8(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::I16(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::U16(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::I32(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::U32(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::I64(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::U64(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::F32(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        Some(AttrValue::F64(v)) if !v.is_empty() => v[0].to_le_bytes().to_vec(),
        _ => default_fill(var.dtype),
    };
    let mut e = if le.len() == elem {
        le
    } else {
        default_fill(var.dtype)
    };
    if !little_endian {
        e.reverse();
    }
    e
}

/// netCDF-C's default fill values (`NC_FILL_*`), little-endian.
fn default_fill(dtype: DataType) -> Vec<u8> {
    match dtype {
        DataType::I8 => (-127i8).to_le_bytes().to_vec(),
        DataType::U8 => 255u8.to_le_bytes().to_vec(),
        DataType::I16 => (-32767i16).to_le_bytes().to_vec(),
        DataType::U16 => 65535u16.to_le_bytes().to_vec(),
        DataType::I32 => (-2147483647i32).to_le_bytes().to_vec(),
        DataType::U32 => 4294967295u32.to_le_bytes().to_vec(),
        DataType::I64 => (-9223372036854775806i64).to_le_bytes().to_vec(),
        DataType::U64 => 18446744073709551614u64.to_le_bytes().to_vec(),
        DataType::F32 => 9.969_21e36_f32.to_le_bytes().to_vec(),
        DataType::F64 => 9.969_209_968_386_869e36_f64.to_le_bytes().to_vec(),
        DataType::Char | DataType::String => vec![0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_a_selection_by_chunk() {
        // Indices 3, 7, 11 over chunks of 5: chunks 0, 1, 2.
        assert_eq!(
            dim_runs(3, 4, 3, 5),
            vec![(0, vec![(0, 3)]), (1, vec![(1, 2)]), (2, vec![(2, 1)])]
        );
        assert_eq!(
            dim_runs(4, 1, 3, 5),
            vec![(0, vec![(0, 4)]), (1, vec![(1, 0), (2, 1)])]
        );
    }

    #[test]
    fn shuffle_round_trip() {
        // Two u16 elements 0x0102, 0x0304 little-endian: 02 01 04 03; shuffled 02 04 01 03.
        assert_eq!(unshuffle(&[2, 4, 1, 3], 2), vec![2, 1, 4, 3]);
        assert_eq!(unshuffle(&[2, 4, 1, 3, 9], 2), vec![2, 1, 4, 3, 9]);
    }

    #[test]
    fn inflate_is_bounded_by_the_chunk_shape() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&[7u8; 1000]).unwrap();
        let raw = z.finish().unwrap();
        assert_eq!(
            decode(&raw, &[Filter::Deflate { level: 1 }], 0, 1000).unwrap(),
            vec![7u8; 1000]
        );
        // Inflating past the chunk's size is an error, not an allocation.
        assert!(decode(&raw, &[Filter::Deflate { level: 1 }], 0, 10).is_err());
        assert!(decode(&raw[..10], &[Filter::Deflate { level: 1 }], 0, 1000).is_err());
        // netCDF-C's pipeline: Fletcher-32, then shuffle, then deflate; 8-byte values
        // and the 4-byte checksum shuffled together (the tail is left in place).
        let values: Vec<u8> = (0..12u64)
            .flat_map(|v| (v * 1000 + 7).to_le_bytes())
            .collect();
        let mut with_sum = values.clone();
        with_sum.extend_from_slice(&[1, 2, 3, 4]);
        let mut shuffled = vec![0u8; with_sum.len()];
        for e in 0..12 {
            for b in 0..8 {
                shuffled[b * 12 + e] = with_sum[e * 8 + b];
            }
        }
        shuffled[96..].copy_from_slice(&with_sum[96..]);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&shuffled).unwrap();
        let pipeline = [
            Filter::Fletcher32,
            Filter::Shuffle { element_size: 8 },
            Filter::Deflate { level: 1 },
        ];
        assert_eq!(
            decode(&z.finish().unwrap(), &pipeline, 0, 96).unwrap(),
            values
        );
        // A skipped filter (mask bit) is not undone.
        assert_eq!(
            decode(&[1, 2], &[Filter::Deflate { level: 1 }], 1, 2).unwrap(),
            vec![1, 2]
        );
    }
}
