//! Image encoding: PNG (RGBA) and JPEG (flattened onto the background).

use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use super::draw::Canvas;
use super::error::{ExceptionCode, ImageContext, WmsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    /// `image/png` (with any `; mode=...` parameters), `image/png8`, `image/jpeg`.
    pub fn parse(v: &str) -> Result<ImageFormat, WmsError> {
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
            _ => Err(WmsError::new(
                ExceptionCode::InvalidFormat,
                format!("unsupported FORMAT {v:?}: use image/png or image/jpeg"),
            )),
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
) -> Result<Vec<u8>, WmsError> {
    let fail = |e: image::ImageError| WmsError::internal(format!("encoding the image: {e}"));
    let mut out = Vec::new();
    match format {
        ImageFormat::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
                .map_err(fail)?;
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
            JpegEncoder::new_with_quality(&mut out, 90)
                .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
                .map_err(fail)?;
        }
    }
    Ok(out)
}

/// The image of an exception: blank (transparent or background), or with the message
/// written in it (EXCEPTIONS=INIMAGE).
pub fn exception_image(ctx: &ImageContext, message: Option<&str>) -> Result<Vec<u8>, WmsError> {
    let fill = if ctx.transparent {
        [0, 0, 0, 0]
    } else {
        ctx.background
    };
    let mut canvas = Canvas::new(ctx.width, ctx.height, fill);
    if let Some(text) = message {
        canvas.wrapped_text(4, 4, text, [200, 0, 0, 255]);
    }
    encode(
        &canvas.rgba,
        ctx.width,
        ctx.height,
        ctx.format,
        ctx.background,
    )
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
        assert_eq!(e.code, Some(ExceptionCode::InvalidFormat));
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
