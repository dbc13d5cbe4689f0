//! Overviews: the reduced-resolution images a COG (or a GeoTIFF after `gdaladdo`)
//! stores after its full-resolution image, offered to callers that draw small maps so
//! they read a few overview tiles instead of the whole raster.

use super::super::error::ReadError;
use super::decode::BlockCodec;
use super::ifd::{IfdChain, Values};
use super::image::Image;
use super::source::ByteSource;

/// Overviews kept at most (GDAL makes one per halving: 2^32 pixels need ~20).
const MAX_OVERVIEWS: usize = 24;

/// One overview and how its blocks are decoded.
pub(super) struct Overview {
    pub image: Image,
    pub codec: BlockCodec,
}

/// Whether a later IFD is an overview of `main` this reader can serve as a reduced
/// copy of the same variable: flagged reduced-resolution (NewSubfileType bit 0), not a
/// mask (bit 2), smaller, with the same bands and sample type.
fn is_overview_of(candidate: &Image, main: &Image) -> bool {
    candidate.subfile_type & 0b101 == 0b001
        && candidate.samples == main.samples
        && candidate.dtype == main.dtype
        && candidate.planar_separate == main.planar_separate
        && candidate.width <= main.width
        && candidate.height <= main.height
        && (candidate.width < main.width || candidate.height < main.height)
}

/// The overviews among the IFDs left in `chain` after the full-resolution image,
/// finest first. A damaged or undecodable overview is left out (the full-resolution
/// image still serves every read), and the scan stops at the first damaged IFD.
pub(super) async fn collect(
    chain: &mut IfdChain,
    source: &dyn ByteSource,
    main: &Image,
    decodable: impl Fn(&Image) -> Result<BlockCodec, ReadError>,
) -> Vec<Overview> {
    let values = Values {
        src: source,
        layout: chain.layout,
    };
    let mut found: Vec<Overview> = Vec::new();
    while found.len() < MAX_OVERVIEWS {
        let entries = match chain.next(source).await {
            Ok(Some(entries)) => entries,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(file = %source.name(), error = %e, "overviews: IFD chain ends damaged");
                break;
            }
        };
        let Ok(image) = Image::from_entries(&values, &entries).await else {
            continue;
        };
        if !is_overview_of(&image, main) {
            continue;
        }
        if let Ok(codec) = decodable(&image) {
            found.push(Overview { image, codec });
        }
    }
    found.sort_by_key(|o| std::cmp::Reverse((o.image.width, o.image.height)));
    found.dedup_by_key(|o| (o.image.width, o.image.height));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DataType;

    fn image(width: usize, height: usize, subfile_type: u64) -> Image {
        Image {
            width,
            height,
            samples: 1,
            dtype: DataType::F32,
            compression: 1,
            predictor: 1,
            planar_separate: false,
            tiled: true,
            block_width: 16,
            block_height: 16,
            offsets: vec![],
            byte_counts: vec![],
            subfile_type,
            geo: Default::default(),
        }
    }

    #[test]
    fn overviews_are_smaller_reduced_images_not_masks() {
        let main = image(100, 80, 0);
        assert!(is_overview_of(&image(50, 40, 1), &main));
        // A mask of the full image, a mask of an overview, a second full image.
        assert!(!is_overview_of(&image(100, 80, 4), &main));
        assert!(!is_overview_of(&image(50, 40, 5), &main));
        assert!(!is_overview_of(&image(50, 40, 0), &main));
        // Not smaller, or larger: not a reduced copy.
        assert!(!is_overview_of(&image(100, 80, 1), &main));
        assert!(!is_overview_of(&image(200, 40, 1), &main));
        let mut other = image(50, 40, 1);
        other.dtype = DataType::U8;
        assert!(!is_overview_of(&other, &main));
    }
}
