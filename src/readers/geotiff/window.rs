//! Reading a window of the raster: which tiles or strips a (band, y, x) selection
//! touches, fetching only those by byte ranges, decoding them off the async executor
//! and copying the selected samples into place.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};

use super::super::error::ReadError;
use super::decode::BlockCodec;
use super::image::Image;
use super::source::ByteSource;
use crate::subset::Hyperslab;

/// Blocks fetched and decoded at once for one read.
const CONCURRENT_BLOCKS: usize = 4;

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
    pub max_block_bytes: usize,
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
        let mut decoded = futures::stream::iter(jobs)
            .map(|job| async move {
                let block = self.block(job.index, job.block_row).await?;
                Ok::<_, ReadError>((job, block))
            })
            .buffer_unordered(CONCURRENT_BLOCKS);
        let spb = img.samples_per_block();
        let bw = img.block_width;
        while let Some((job, block)) = decoded.try_next().await? {
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
        Ok(out)
    }

    /// The decoded samples of block `index` (in block row `block_row`), or `None` for a
    /// block never written.
    async fn block(&self, index: usize, block_row: usize) -> Result<Option<Vec<u8>>, ReadError> {
        let img = self.image;
        let (offset, count) = (img.offsets[index], img.byte_counts[index]);
        if offset == 0 || count == 0 {
            return Ok(None);
        }
        // The last strip holds only the rows left; tiles are padded to full size, and
        // their padding rows are simply not kept.
        let rows = img
            .block_height
            .min(img.height - block_row * img.block_height);
        let decoded_bytes = rows
            .checked_mul(img.block_width)
            .and_then(|n| n.checked_mul(img.samples_per_block()))
            .and_then(|n| n.checked_mul(self.codec.sample_bytes));
        if decoded_bytes.is_none_or(|n| n > self.max_block_bytes) {
            return Err(ReadError::Unsupported(format!(
                "TIFF blocks of {}×{} pixels are too large to decode",
                img.block_width, img.block_height
            )));
        }
        let stored = self.source.read(offset, count).await?;
        let codec = self.codec;
        let decoded = tokio::task::spawn_blocking(move || codec.decode(&stored, rows))
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        decoded
            .map(Some)
            .map_err(|m| self.source.damaged(format!("block {index}: {m}")))
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
