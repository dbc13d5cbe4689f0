//! One raster image of a TIFF: the tags of its IFD that say how pixels are laid out
//! (size, samples, tiles or strips, compression) and the GeoTIFF/GDAL tags beside them.

use super::super::error::ReadError;
use super::ifd::{Entry, Values};
use crate::model::DataType;

/// The image's blocks (tiles or strips) and how each is encoded.
#[derive(Debug, Clone)]
pub(super) struct Image {
    pub width: usize,
    pub height: usize,
    pub samples: usize,
    pub dtype: DataType,
    pub compression: u16,
    pub predictor: u16,
    /// PlanarConfiguration 2: each band stored in blocks of its own.
    pub planar_separate: bool,
    /// Tiles (every block the same size, edges padded) rather than strips.
    pub tiled: bool,
    pub block_width: usize,
    pub block_height: usize,
    pub offsets: Vec<u64>,
    pub byte_counts: Vec<u64>,
    /// NewSubfileType: bit 0 = reduced resolution (an overview), bit 2 = a mask.
    pub subfile_type: u64,
    pub geo: GeoTags,
}

/// GeoTIFF and GDAL tags, as stored.
#[derive(Debug, Clone, Default)]
pub(super) struct GeoTags {
    pub pixel_scale: Option<Vec<f64>>,
    pub tiepoints: Option<Vec<f64>>,
    pub transformation: Option<Vec<f64>>,
    pub geo_keys: Option<Vec<u64>>,
    pub nodata: Option<String>,
    pub gdal_metadata: Option<String>,
    pub datetime: Option<String>,
}

impl Image {
    /// Blocks across and down one band's plane.
    pub fn blocks_across(&self) -> usize {
        self.width.div_ceil(self.block_width)
    }

    pub fn blocks_down(&self) -> usize {
        self.height.div_ceil(self.block_height)
    }

    /// Samples in each block's pixels: all bands, or one when stored separately.
    pub fn samples_per_block(&self) -> usize {
        if self.planar_separate {
            1
        } else {
            self.samples
        }
    }

    /// Reads an IFD's tags; an error says which tag is missing or wrong.
    pub async fn from_entries(values: &Values<'_>, entries: &[Entry]) -> Result<Image, ReadError> {
        let src = values.src;
        let find = |tag: u16| entries.iter().find(|e| e.tag == tag);
        let uint = |tag: u16, default: Option<u64>| async move {
            match find(tag) {
                Some(e) => values
                    .uints(e)
                    .await?
                    .first()
                    .copied()
                    .ok_or_else(|| src.damaged(format!("tag {tag} has no value"))),
                None => default.ok_or_else(|| src.damaged(format!("tag {tag} is missing"))),
            }
        };
        let width = to_usize(uint(256, None).await?, "ImageWidth")?;
        let height = to_usize(uint(257, None).await?, "ImageLength")?;
        let samples = to_usize(uint(277, Some(1)).await?, "SamplesPerPixel")?;
        if width == 0 || height == 0 || samples == 0 || samples > 65535 {
            return Err(src.damaged(format!("an image of {width}×{height}×{samples}")));
        }
        let bits = match find(258) {
            Some(e) => values.uints(e).await?,
            None => vec![1],
        };
        let formats = match find(339) {
            Some(e) => values.uints(e).await?,
            None => vec![1],
        };
        // A tag present with no values (a damaged file) says nothing: an error.
        let (Some(&bits0), Some(&format0)) = (bits.first(), formats.first()) else {
            return Err(src.damaged("BitsPerSample or SampleFormat has no value"));
        };
        if bits.iter().any(|b| *b != bits0) || formats.iter().any(|f| *f != format0) {
            return Err(ReadError::Unsupported(
                "TIFF bands of different sample types".into(),
            ));
        }
        let dtype = sample_type(bits0, format0)?;
        let planar_separate = uint(284, Some(1)).await? == 2 && samples > 1;
        let tiled = find(322).is_some();
        let (block_width, block_height, offsets_tag, counts_tag) = if tiled {
            (
                to_usize(uint(322, None).await?, "TileWidth")?,
                to_usize(uint(323, None).await?, "TileLength")?,
                324,
                325,
            )
        } else {
            let rows = uint(278, Some(u32::MAX as u64)).await?;
            (
                width,
                to_usize(rows, "RowsPerStrip")?.clamp(1, height),
                273,
                279,
            )
        };
        if block_width == 0 || block_height == 0 {
            return Err(src.damaged("blocks of zero size"));
        }
        let offsets = match find(offsets_tag) {
            Some(e) => values.uints(e).await?,
            None => return Err(src.damaged("no tile or strip offsets")),
        };
        let byte_counts = match find(counts_tag) {
            Some(e) => values.uints(e).await?,
            None => return Err(src.damaged("no tile or strip byte counts")),
        };
        let geo = GeoTags {
            pixel_scale: opt_floats(values, find(33550)).await?,
            tiepoints: opt_floats(values, find(33922)).await?,
            transformation: opt_floats(values, find(34264)).await?,
            geo_keys: match find(34735) {
                Some(e) => Some(values.uints(e).await?),
                None => None,
            },
            nodata: opt_text(values, find(42113)).await?,
            gdal_metadata: opt_text(values, find(42112)).await?,
            datetime: opt_text(values, find(306)).await?,
        };
        let image = Image {
            width,
            height,
            samples,
            dtype,
            compression: uint(259, Some(1)).await? as u16,
            predictor: uint(317, Some(1)).await? as u16,
            planar_separate,
            tiled,
            block_width,
            block_height,
            offsets,
            byte_counts,
            subfile_type: uint(254, Some(0)).await?,
            geo,
        };
        let planes = if planar_separate { samples } else { 1 };
        let blocks = image
            .blocks_across()
            .checked_mul(image.blocks_down())
            .and_then(|n| n.checked_mul(planes));
        if blocks.is_none_or(|n| image.offsets.len() < n || image.byte_counts.len() < n) {
            return Err(src.damaged(format!(
                "{} block offsets and {} byte counts for {:?} blocks",
                image.offsets.len(),
                image.byte_counts.len(),
                blocks
            )));
        }
        Ok(image)
    }
}

fn to_usize(v: u64, what: &str) -> Result<usize, ReadError> {
    usize::try_from(v).map_err(|_| ReadError::Unsupported(format!("{what} {v}")))
}

/// The model's type for TIFF BitsPerSample and SampleFormat (1 unsigned, 2 signed,
/// 3 IEEE float).
fn sample_type(bits: u64, format: u64) -> Result<DataType, ReadError> {
    Ok(match (format, bits) {
        (1 | 4, 8) => DataType::U8,
        (1 | 4, 16) => DataType::U16,
        (1 | 4, 32) => DataType::U32,
        (1 | 4, 64) => DataType::U64,
        (2, 8) => DataType::I8,
        (2, 16) => DataType::I16,
        (2, 32) => DataType::I32,
        (2, 64) => DataType::I64,
        (3, 32) => DataType::F32,
        (3, 64) => DataType::F64,
        _ => {
            return Err(ReadError::Unsupported(format!(
                "TIFF samples of {bits} bits in sample format {format}"
            )));
        }
    })
}

async fn opt_floats(values: &Values<'_>, e: Option<&Entry>) -> Result<Option<Vec<f64>>, ReadError> {
    match e {
        Some(e) => Ok(Some(values.floats(e).await?)),
        None => Ok(None),
    }
}

async fn opt_text(values: &Values<'_>, e: Option<&Entry>) -> Result<Option<String>, ReadError> {
    match e {
        Some(e) => Ok(Some(values.text(e).await?).filter(|t| !t.trim().is_empty())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_types() {
        assert_eq!(sample_type(16, 2).unwrap(), DataType::I16);
        assert_eq!(sample_type(32, 3).unwrap(), DataType::F32);
        assert_eq!(sample_type(8, 1).unwrap(), DataType::U8);
        assert!(sample_type(1, 1).is_err());
        assert!(sample_type(16, 3).is_err());
    }
}
