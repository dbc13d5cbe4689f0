//! GeoTIFF and Cloud-Optimised GeoTIFF, read by byte ranges: the header and IFDs at
//! open, then only the tiles or strips a selection touches, through the storage
//! layer's block cache (local files and object storage alike).
//!
//! The first full-resolution image is the dataset; its reduced-resolution images
//! (overviews) are offered as reduced copies of the data variable
//! (`Reader::reduced_resolutions`); masks are skipped.

mod decode;
mod gdal_metadata;
mod georef;
mod grid_mapping;
mod ifd;
mod image;
mod meta;
mod overviews;
mod source;
mod window;

use std::sync::Arc;

use async_trait::async_trait;

use super::error::ReadError;
use super::reader::{FormatSpec, OpenRequest, Reader};
use crate::model::{Array, ArrayValues, ChunkEntry, ChunkIndex, DatasetMeta, Filter};
use crate::subset::Hyperslab;
use decode::{BlockCodec, supported_compression};
use georef::Georef;
use image::Image;
use source::{ByteSource, StoredFile};
use window::Window;

/// Decoded blocks kept when opened outside the format table (tests).
const DEFAULT_DECODED_BYTES: usize = 4 << 20;

pub struct GeotiffReader {
    format: &'static FormatSpec,
    meta: Arc<DatasetMeta>,
    source: Arc<dyn ByteSource>,
    image: Image,
    georef: Georef,
    codec: BlockCodec,
    fill: Vec<u8>,
    time: Option<f64>,
    decoded: window::DecodedBlocks,
    decoded_bytes: usize,
    /// Reduced-resolution images of `image`, finest first.
    overviews: Vec<overviews::Overview>,
}

/// The format table's open function for GeoTIFF.
pub(super) async fn open(
    format: &'static FormatSpec,
    req: OpenRequest<'_>,
) -> Result<Arc<dyn Reader>, ReadError> {
    let source = Arc::new(StoredFile {
        storage: req.storage.clone(),
        location: req.location.clone(),
        version: req.version.clone(),
    });
    let reader = GeotiffReader::open(source, format, req.config.max_decoded_chunk_bytes)
        .await?
        .with_decoded_cache(req.config.decoded_chunk_cache_bytes);
    Ok(Arc::new(reader))
}

impl GeotiffReader {
    async fn open(
        source: Arc<dyn ByteSource>,
        format: &'static FormatSpec,
        max_block_bytes: usize,
    ) -> Result<GeotiffReader, ReadError> {
        let mut chain = ifd::IfdChain::start(source.as_ref()).await?;
        let layout = chain.layout;
        let values = ifd::Values {
            src: source.as_ref(),
            layout,
        };
        let mut image = None;
        while let Some(entries) = chain.next(source.as_ref()).await? {
            let candidate = Image::from_entries(&values, &entries).await?;
            // Bit 0: a reduced-resolution copy; bit 2: a transparency mask.
            if candidate.subfile_type & 0b101 == 0 {
                image = Some(candidate);
                break;
            }
        }
        let image = image.ok_or_else(|| source.damaged("no full-resolution image"))?;
        let codec = decodable(&image, layout.little, max_block_bytes)?;
        let overviews = overviews::collect(&mut chain, source.as_ref(), &image, |ov| {
            decodable(ov, layout.little, max_block_bytes)
        })
        .await;
        let georef = Georef::of(&image.geo).map_err(ReadError::Unsupported)?;
        let items = image
            .geo
            .gdal_metadata
            .as_deref()
            .map(gdal_metadata::parse)
            .unwrap_or_default();
        let time = image.geo.datetime.as_deref().and_then(meta::tiff_datetime);
        let meta = meta::build(&image, &georef, &items, time.is_some());
        Ok(GeotiffReader {
            format,
            meta: Arc::new(meta),
            fill: meta::fill_bytes(&image),
            source,
            image,
            georef,
            codec,
            time,
            decoded: window::decoded_blocks(DEFAULT_DECODED_BYTES),
            decoded_bytes: DEFAULT_DECODED_BYTES,
            overviews,
        })
    }

    /// Native-endian bytes of `slab` over (band, y, x) of image `level` (0: full
    /// resolution, then the overviews finest first).
    async fn read_image(&self, level: usize, slab: &Hyperslab) -> Result<Vec<u8>, ReadError> {
        let (image, codec) = match level {
            0 => (&self.image, self.codec),
            n => {
                let ov = &self.overviews[n - 1];
                (&ov.image, ov.codec)
            }
        };
        let window = Window {
            image,
            source: self.source.as_ref(),
            codec,
            fill: self.fill.clone(),
            decoded: &self.decoded,
            level,
        };
        window.read(slab).await
    }

    /// Keeps about `bytes` of decoded blocks (the readers' setting for decoded chunks).
    fn with_decoded_cache(mut self, bytes: usize) -> Self {
        self.decoded = window::decoded_blocks(bytes);
        self.decoded_bytes = bytes;
        self
    }

    /// The tiles of `band_data` as chunks a Zarr client can decode itself: tiles (all
    /// one size), one band each, uncompressed or deflate, no predictor. Tiles never
    /// written are left out (they read as `_FillValue`, so a nodata value is needed).
    fn stored_tiles(&self) -> Option<ChunkIndex> {
        let img = &self.image;
        let filters = match img.compression {
            1 => vec![],
            8 | 32946 => vec![Filter::Deflate { level: 6 }],
            _ => return None,
        };
        if !img.tiled || img.predictor != 1 || img.samples_per_block() != 1 {
            return None;
        }
        // Zarr fills absent chunks with `_FillValue`, as reads do when there is one.
        let has_fill = self
            .meta
            .variable(meta::DATA)
            .is_some_and(|v| v.attr("_FillValue").is_some());
        let tile_bytes = (img.block_width * img.block_height * self.codec.sample_bytes) as u64;
        let planes = if img.planar_separate { img.samples } else { 1 };
        let (across, down) = (img.blocks_across(), img.blocks_down());
        let mut chunks = Vec::with_capacity(planes * across * down);
        for plane in 0..planes {
            for row in 0..down {
                for col in 0..across {
                    let i = (plane * down + row) * across + col;
                    let (offset, size) = (img.offsets[i], img.byte_counts[i]);
                    if offset == 0 || size == 0 {
                        if !has_fill {
                            return None;
                        }
                        continue;
                    }
                    if filters.is_empty() && size != tile_bytes {
                        return None;
                    }
                    chunks.push(ChunkEntry {
                        coords: vec![plane as u64, row as u64, col as u64],
                        offset,
                        size,
                        filter_mask: 0,
                        key: None,
                    });
                }
            }
        }
        Some(ChunkIndex {
            chunk_shape: vec![1, img.block_height, img.block_width],
            filters,
            little_endian: self.codec.little_endian,
            chunks,
            records: false,
        })
    }

    /// Values of a coordinate computed from the georeferencing, at the selected
    /// indices of each dimension.
    fn computed(&self, name: &str, slab: &Hyperslab) -> Option<ArrayValues> {
        let along = |d: usize| slab.dims[d].indices();
        Some(match name {
            "band" => ArrayValues::I32(along(0).map(|b| b as i32 + 1).collect()),
            "x" => ArrayValues::F64(along(0).map(|i| self.georef.x(i)).collect()),
            "y" => ArrayValues::F64(along(0).map(|j| self.georef.y(j)).collect()),
            "spatial_ref" => ArrayValues::I32(vec![0]),
            "time" => ArrayValues::F64(vec![self.time?]),
            "lon" | "lat" => {
                let crs = self.georef.crs.as_ref()?;
                let lon = name == "lon";
                let mut out = Vec::with_capacity(slab.num_elements());
                for j in along(0) {
                    let y = self.georef.y(j);
                    for i in along(1) {
                        let (lo, la) = crs.lonlat(self.georef.x(i), y);
                        out.push(if lon { lo } else { la });
                    }
                }
                ArrayValues::F64(out)
            }
            _ => return None,
        })
    }
}

#[async_trait]
impl Reader for GeotiffReader {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    fn memory_budget(&self) -> usize {
        self.decoded_bytes
    }

    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        slab.validate(&var.shape())?;
        let shape = slab.shape();
        let values = if var.name == meta::DATA {
            let bytes = self.read_image(0, slab).await?;
            ArrayValues::from_ne_bytes(var.dtype, &bytes)
                .ok_or_else(|| ReadError::Internal("non-numeric raster".into()))?
        } else {
            self.computed(&var.name, slab)
                .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?
        };
        Ok(Array::new(shape, values))
    }

    fn reduced_resolutions(&self, path: &str) -> Vec<Vec<usize>> {
        if self
            .meta
            .variable(path)
            .is_none_or(|v| v.name != meta::DATA)
        {
            return Vec::new();
        }
        self.overviews
            .iter()
            .map(|o| vec![self.image.samples, o.image.height, o.image.width])
            .collect()
    }

    async fn read_reduced(
        &self,
        path: &str,
        level: usize,
        slab: &Hyperslab,
    ) -> Result<Array, ReadError> {
        let shapes = self.reduced_resolutions(path);
        let shape = shapes.get(level).ok_or_else(|| {
            ReadError::NoSuchVariable(format!("{path} at reduced resolution {level}"))
        })?;
        slab.validate(shape)?;
        let dtype = self.image.dtype;
        let bytes = self.read_image(level + 1, slab).await?;
        let values = ArrayValues::from_ne_bytes(dtype, &bytes)
            .ok_or_else(|| ReadError::Internal("non-numeric raster".into()))?;
        Ok(Array::new(slab.shape(), values))
    }

    async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        let var = self
            .meta
            .variable(path)
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        Ok(if var.name == meta::DATA {
            self.stored_tiles()
        } else {
            None
        })
    }
}

/// How `image`'s blocks are decoded, or why this reader cannot: a compression or
/// predictor it does not know, or blocks too large to decode.
fn decodable(image: &Image, little: bool, max_block_bytes: usize) -> Result<BlockCodec, ReadError> {
    if !supported_compression(image.compression) {
        return Err(ReadError::Unsupported(format!(
            "TIFF compression {}",
            image.compression
        )));
    }
    if !matches!(image.predictor, 1..=3) {
        return Err(ReadError::Unsupported(format!(
            "TIFF predictor {}",
            image.predictor
        )));
    }
    let block_bytes = image
        .block_height
        .min(image.height)
        .checked_mul(image.block_width)
        .and_then(|n| n.checked_mul(image.samples_per_block()))
        .and_then(|n| n.checked_mul(image.dtype.size().unwrap_or(1)));
    if block_bytes.is_none_or(|n| n > max_block_bytes) {
        return Err(ReadError::Unsupported(format!(
            "TIFF blocks of {}×{} pixels are too large to decode",
            image.block_width, image.block_height
        )));
    }
    Ok(BlockCodec {
        compression: image.compression,
        predictor: image.predictor,
        little_endian: little,
        sample_bytes: image.dtype.size().unwrap_or(1),
        samples: image.samples_per_block(),
        width: image.block_width,
    })
}

#[cfg(test)]
mod tests;
