//! Image encoding: PNG (RGBA) and JPEG (flattened onto the background). Below the
//! WMS errors: its own errors become exceptions in `error.rs`.

use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use thiserror::Error;

/// A FORMAT that is not an image format served.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported FORMAT {0:?}: use image/png or image/jpeg")]
pub struct UnsupportedFormat(pub String);

/// The image encoder failed.
#[derive(Debug, Error)]
#[error("encoding the image: {0}")]
pub struct EncodeError(#[from] image::ImageError);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    /// `image/png` (with any `; mode=...` parameters), `image/png8`, `image/jpeg`.
    pub fn parse(v: &str) -> Result<ImageFormat, UnsupportedFormat> {
        let base = v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "image/png" | "image/png8" | "image/png24" | "image/png32" | "png" => {
                Ok(ImageFormat::Png)
            }
            "image/jpeg" | "image/jpg" | "jpeg" | "jpg" => Ok(ImageFormat::Jpeg),
            _ => Err(UnsupportedFormat(v.to_string())),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// Encodes an RGBA buffer. JPEG has no alpha: pixels are put over `background`.
pub fn encode(
    rgba: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
    background: [u8; 4],
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    match format {
        ImageFormat::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)?;
        }
        ImageFormat::Jpeg => {
            let rgb: Vec<u8> = rgba
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = p[3] as u32;
                    let mix = |k: usize| {
                        ((p[k] as u32 * a + background[k] as u32 * (255 - a)) / 255) as u8
                    };
                    [mix(0), mix(1), mix(2)]
                })
                .collect();
            JpegEncoder::new_with_quality(&mut out, 90).write_image(
                &rgb,
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            ImageFormat::parse("image/png; mode=32bit").unwrap(),
            ImageFormat::Png
        );
        assert_eq!(ImageFormat::parse("IMAGE/JPEG").unwrap(), ImageFormat::Jpeg);
        let e = ImageFormat::parse("image/gif").unwrap_err();
        assert_eq!(e, UnsupportedFormat("image/gif".into()));
    }

    #[test]
    fn png_and_jpeg_decode_to_the_right_size() {
        let rgba = [255u8, 0, 0, 255].repeat(6 * 4);
        for f in [ImageFormat::Png, ImageFormat::Jpeg] {
            let bytes = encode(&rgba, 6, 4, f, [255, 255, 255, 255]).unwrap();
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (6, 4));
        }
    }
}
