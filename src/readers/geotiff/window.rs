//! Reading a window of the raster: which tiles or strips a (band, y, x) selection
//! touches, fetching only those by byte ranges (blocks stored back to back with one
//! request), decoding them off the async executor and copying the selected samples
//! into place.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use super::super::error::ReadError;
use super::decode::BlockCodec;
use super::image::Image;
use super::source::ByteSource;
use crate::subset::Hyperslab;

/// Runs of blocks fetched and decoded at once for one read.
const CONCURRENT_BLOCKS: usize = 4;
/// Largest run of blocks stored back to back read with one request.
const MAX_RUN_BYTES: u64 = 4 << 20;
/// Bytes between two blocks still read as one run: GDAL's COGs put a few bytes
/// (size leader, repeated trailer) around each tile, and a small gap costs less than
/// a request.
const MAX_GAP_BYTES: u64 = 64 << 10;

/// Selected indices along one axis, grouped by the block holding them: for each block,
/// (position in the output, position within the block).
pub(super) fn by_block(
    indices: impl Iterator<Item = usize>,
    block: usize,
) -> BTreeMap<usize, Vec<(usize, usize)>> {
    let mut groups: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (out, i) in indices.enumerate() {
        groups.entry(i / block).or_default().push((out, i % block));
    }
    groups
}

/// One block to read, and which selected bands it holds: (output band, sample
/// within the block's pixels).
struct Job {
    index: usize,
    block_row: usize,
    block_col: usize,
    bands: Vec<(usize, usize)>,
}

/// A read of the image's samples.
pub(super) struct Window<'a> {
    pub image: &'a Image,
    pub source: &'a dyn ByteSource,
    pub codec: BlockCodec,
    /// One sample's native bytes for blocks never written (sparse COG tiles).
    pub fill: Vec<u8>,
    /// Decoded blocks of this file, by (image, block index): reads in pieces (DAP
    /// streams a variable a few rows at a time) decode each block once.
    pub decoded: &'a DecodedBlocks,
    /// Which of the file's images `image` is (0: full resolution, then overviews).
    pub level: usize,
}

/// Decoded blocks by (image, block index), bounded by bytes.
pub(super) type DecodedBlocks = moka::sync::Cache<(usize, usize), Arc<Vec<u8>>>;

/// A cache of decoded blocks holding about `bytes`.
pub(super) fn decoded_blocks(bytes: usize) -> DecodedBlocks {
    moka::sync::Cache::builder()
        .max_capacity(bytes as u64)
        .weigher(|_: &(usize, usize), v: &Arc<Vec<u8>>| v.len().try_into().unwrap_or(u32::MAX))
        .build()
}

impl Window<'_> {
    /// Native-endian bytes of the samples of `slab` over (band, y, x), row-major.
    pub async fn read(&self, slab: &Hyperslab) -> Result<Vec<u8>, ReadError> {
        let img = self.image;
        let es = self.codec.sample_bytes;
        let shape = slab.shape();
        let (nr, nc) = (shape[1], shape[2]);
        let total = slab.checked_bytes(es)?;
        let total = usize::try_from(total)
            .map_err(|_| ReadError::Unsupported("selection too large".into()))?;
        let mut out = vec![0u8; total];
        if total == 0 {
            return Ok(out);
        }
        let rows = by_block(slab.dims[1].indices(), img.block_height);
        let cols = by_block(slab.dims[2].indices(), img.block_width);
        let bands: Vec<(usize, usize)> = slab.dims[0].indices().enumerate().collect();
        let planes: Vec<(usize, Vec<(usize, usize)>)> = if img.planar_separate {
            bands.iter().map(|&(o, b)| (b, vec![(o, 0)])).collect()
        } else {
            vec![(0, bands.clone())]
        };
        let per_plane = img.blocks_across() * img.blocks_down();
        let mut jobs = Vec::new();
        for (plane, bands) in &planes {
            for &block_row in rows.keys() {
                for &block_col in cols.keys() {
                    jobs.push(Job {
                        index: plane * per_plane + block_row * img.blocks_across() + block_col,
                        block_row,
                        block_col,
                        bands: bands.clone(),
                    });
                }
            }
        }
        // Blocks decoded by an earlier read are taken as they are; the others fetched.
        let mut cached = Vec::new();
        let mut missing = Vec::new();
        for job in jobs {
            match self.decoded.get(&(self.level, job.index)) {
                Some(block) => cached.push((job, Some(block))),
                None => missing.push(job),
            }
        }
        let mut decoded = futures::stream::iter(self.runs(missing))
            .map(|run| self.fetch_run(run))
            .buffer_unordered(CONCURRENT_BLOCKS);
        let mut first = Some(cached);
        let spb = img.samples_per_block();
        let bw = img.block_width;
        loop {
            let blocks = match first.take() {
                Some(c) => c,
                None => match decoded.try_next().await? {
                    Some(b) => b,
                    None => break,
                },
            };
            for (job, block) in blocks {
                for &(out_r, r) in &rows[&job.block_row] {
                    for &(out_c, c) in &cols[&job.block_col] {
                        for &(out_b, s) in &job.bands {
                            let dst = ((out_b * nr + out_r) * nc + out_c) * es;
                            let sample = match &block {
                                Some(b) => {
                                    let at = ((r * bw + c) * spb + s) * es;
                                    &b[at..at + es]
                                }
                                None => &self.fill[..],
                            };
                            out[dst..dst + es].copy_from_slice(sample);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Jobs in runs of blocks stored one after another (as a COG stores a row of
    /// tiles), so that each run is one range request, not one per block: concurrent
    /// requests for neighbouring blocks would also fetch the cache blocks they share
    /// more than once.
    fn runs(&self, jobs: Vec<Job>) -> Vec<Vec<Job>> {
        let img = self.image;
        let mut runs: Vec<Vec<Job>> = Vec::new();
        let mut run_end = None;
        let mut run_bytes = 0u64;
        for job in jobs {
            let (offset, count) = (img.offsets[job.index], img.byte_counts[job.index]);
            let follows = count > 0
                && run_end.is_some_and(|end| offset >= end && offset - end <= MAX_GAP_BYTES);
            match runs.last_mut() {
                Some(run) if follows && run_bytes.saturating_add(count) <= MAX_RUN_BYTES => {
                    run.push(job);
                    run_bytes += count;
                }
                _ => {
                    runs.push(vec![job]);
                    run_bytes = count;
                }
            }
            run_end = offset
                .checked_add(count)
                .filter(|_| offset > 0 && count > 0);
        }
        runs
    }

    /// Reads a run of blocks with one request and decodes each (off the async
    /// executor); `None` for blocks never written.
    async fn fetch_run(
        &self,
        run: Vec<Job>,
    ) -> Result<Vec<(Job, Option<Arc<Vec<u8>>>)>, ReadError> {
        let img = self.image;
        let first = &run[0];
        let (start, mut end) = (img.offsets[first.index], 0u64);
        if start == 0 || img.byte_counts[first.index] == 0 {
            // Never written: a run of its own (see `runs`).
            return Ok(run.into_iter().map(|job| (job, None)).collect());
        }
        let mut pieces = Vec::with_capacity(run.len());
        for job in &run {
            let rows = img
                .block_height
                .min(img.height - job.block_row * img.block_height);
            let (offset, count) = (img.offsets[job.index], img.byte_counts[job.index]);
            pieces.push(((offset - start) as usize, count as usize, rows, job.index));
            end = offset.checked_add(count).ok_or_else(|| {
                self.source
                    .damaged(format!("block {} past 2^64", job.index))
            })?;
        }
        let stored = self.source.read(start, end - start).await?;
        let codec = self.codec;
        let decoded = tokio::task::spawn_blocking(move || {
            pieces
                .into_iter()
                .map(|(at, len, rows, index)| {
                    codec
                        .decode(&stored[at..at + len], rows)
                        .map_err(|m| format!("block {index}: {m}"))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))?
        .map_err(|m| self.source.damaged(m))?;
        Ok(run
            .into_iter()
            .zip(decoded)
            .map(|(job, block)| {
                let block = Arc::new(block);
                self.decoded.insert((self.level, job.index), block.clone());
                (job, Some(block))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_grouped_by_block() {
        // Columns 3, 7, 11, 15 of 8-wide tiles.
        let g = by_block((3..16).step_by(4), 8);
        assert_eq!(g.len(), 2);
        assert_eq!(g[&0], vec![(0, 3), (1, 7)]);
        assert_eq!(g[&1], vec![(2, 3), (3, 7)]);
        // A stride longer than a block skips blocks.
        let g = by_block((0..40).step_by(20), 8);
        assert_eq!(g.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
    }
}
