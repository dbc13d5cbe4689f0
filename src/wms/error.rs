//! WMS errors and their one mapping to responses: a `ServiceExceptionReport` in the
//! version's form and content type, or (EXCEPTIONS=INIMAGE/BLANK) an image.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use super::Version;
use super::draw::Canvas;
use super::encode::{self, EncodeError, ImageFormat, UnsupportedFormat};

/// An exception, with the spec's `code` where one applies.
#[derive(Debug, Error, Clone)]
#[error("{message}")]
pub struct WmsError {
    pub code: Option<ExceptionCode>,
    pub message: String,
    pub status: StatusCode,
}

/// The exception codes of WMS 1.1.1 and 1.3.0 (and OWS's for parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionCode {
    InvalidFormat,
    /// `InvalidCRS` in 1.3.0, `InvalidSRS` in 1.1.1.
    InvalidCrs,
    LayerNotDefined,
    StyleNotDefined,
    LayerNotQueryable,
    InvalidPoint,
    MissingDimensionValue,
    InvalidDimensionValue,
    OperationNotSupported,
    MissingParameterValue,
    InvalidParameterValue,
    NoApplicableCode,
}

impl ExceptionCode {
    pub fn name(self, version: Version) -> &'static str {
        match self {
            ExceptionCode::InvalidFormat => "InvalidFormat",
            ExceptionCode::InvalidCrs => match version {
                Version::V111 => "InvalidSRS",
                Version::V130 => "InvalidCRS",
            },
            ExceptionCode::LayerNotDefined => "LayerNotDefined",
            ExceptionCode::StyleNotDefined => "StyleNotDefined",
            ExceptionCode::LayerNotQueryable => "LayerNotQueryable",
            ExceptionCode::InvalidPoint => "InvalidPoint",
            ExceptionCode::MissingDimensionValue => "MissingDimensionValue",
            ExceptionCode::InvalidDimensionValue => "InvalidDimensionValue",
            ExceptionCode::OperationNotSupported => "OperationNotSupported",
            ExceptionCode::MissingParameterValue => "MissingParameterValue",
            ExceptionCode::InvalidParameterValue => "InvalidParameterValue",
            ExceptionCode::NoApplicableCode => "NoApplicableCode",
        }
    }
}

impl WmsError {
    pub fn new(code: ExceptionCode, message: impl Into<String>) -> WmsError {
        WmsError {
            code: Some(code),
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }
    pub fn missing(message: &str) -> WmsError {
        WmsError::new(ExceptionCode::MissingParameterValue, message)
    }
    pub fn invalid(message: &str) -> WmsError {
        WmsError::new(ExceptionCode::InvalidParameterValue, message)
    }
    pub fn too_large(message: &str) -> WmsError {
        WmsError::new(ExceptionCode::InvalidParameterValue, message)
    }
    pub fn layer(name: &str) -> WmsError {
        WmsError::new(ExceptionCode::LayerNotDefined, format!("no layer {name:?}"))
    }
    pub fn internal(message: impl Into<String>) -> WmsError {
        WmsError {
            code: Some(ExceptionCode::NoApplicableCode),
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    /// A failure reading data: 502/504 when the storage behind the file failed, else 503.
    pub fn read_failed(what: &str, e: &crate::catalog::ReadError) -> WmsError {
        use crate::error::Kinded;
        let mut err = WmsError::unavailable(format!("reading {what}: {}", e.public_message()));
        err.status = match e.kind() {
            // The slab came from our own arithmetic: a failure is ours.
            crate::error::ErrorKind::BadRequest => StatusCode::INTERNAL_SERVER_ERROR,
            kind => kind.status(),
        };
        err
    }

    pub fn unavailable(message: impl Into<String>) -> WmsError {
        WmsError {
            code: Some(ExceptionCode::NoApplicableCode),
            message: message.into(),
            status: StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<UnsupportedFormat> for WmsError {
    fn from(e: UnsupportedFormat) -> WmsError {
        WmsError::new(ExceptionCode::InvalidFormat, e.to_string())
    }
}

impl From<EncodeError> for WmsError {
    fn from(e: EncodeError) -> WmsError {
        WmsError::internal(e.to_string())
    }
}

/// How the client asked to see exceptions (`EXCEPTIONS=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionMode {
    Xml,
    /// The message drawn into an image of the requested size.
    InImage,
    /// An empty (transparent or BGCOLOR) image of the requested size.
    Blank,
}

impl ExceptionMode {
    /// `XML`, `INIMAGE`, `BLANK` (1.3.0) or `application/vnd.ogc.se_*` (1.1.1).
    pub fn parse(v: Option<&str>) -> ExceptionMode {
        let v = v.unwrap_or("").to_ascii_lowercase();
        if v.ends_with("inimage") {
            ExceptionMode::InImage
        } else if v.ends_with("blank") {
            ExceptionMode::Blank
        } else {
            ExceptionMode::Xml
        }
    }
}

/// What an image exception needs to know of the request.
#[derive(Debug, Clone, Copy)]
pub struct ImageContext {
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    pub transparent: bool,
    pub background: [u8; 4],
}

/// The image of an exception: blank (transparent or background), or with the message
/// written in it (EXCEPTIONS=INIMAGE).
fn exception_image(ctx: &ImageContext, message: Option<&str>) -> Result<Vec<u8>, EncodeError> {
    let fill = if ctx.transparent {
        [0, 0, 0, 0]
    } else {
        ctx.background
    };
    let mut canvas = Canvas::new(ctx.width, ctx.height, fill);
    if let Some(text) = message {
        canvas.wrapped_text(4, 4, text, [200, 0, 0, 255]);
    }
    encode::encode(
        &canvas.rgba,
        ctx.width,
        ctx.height,
        ctx.format,
        ctx.background,
    )
}

/// The one place WMS errors become responses.
pub fn exception_response(
    err: &WmsError,
    version: Version,
    mode: ExceptionMode,
    image: Option<ImageContext>,
) -> Response {
    if mode != ExceptionMode::Xml
        && let Some(ctx) = image
    {
        let text = (mode == ExceptionMode::InImage).then_some(err.message.as_str());
        if let Ok(bytes) = exception_image(&ctx, text) {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, ctx.format.mime())],
                bytes,
            )
                .into_response();
        }
    }
    let code_attr = err
        .code
        .map(|c| format!(" code=\"{}\"", c.name(version)))
        .unwrap_or_default();
    let message = xml_escape(&err.message);
    let (body, content_type) = match version {
        Version::V130 => (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <ServiceExceptionReport version=\"1.3.0\" xmlns=\"http://www.opengis.net/ogc\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:schemaLocation=\"http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">\n\
                 <ServiceException{code_attr}>{message}</ServiceException>\n\
                 </ServiceExceptionReport>\n"
            ),
            "text/xml",
        ),
        Version::V111 => (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <!DOCTYPE ServiceExceptionReport SYSTEM \"http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd\">\n\
                 <ServiceExceptionReport version=\"1.1.1\">\n\
                 <ServiceException{code_attr}>{message}</ServiceException>\n\
                 </ServiceExceptionReport>\n"
            ),
            "application/vnd.ogc.se_xml",
        ),
    };
    (err.status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Escapes text and attribute values for XML; control characters XML 1.0 forbids
/// become spaces.
pub fn xml_escape(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c,
            c if (c as u32) < 0x20 => ' ',
            c => c,
        })
        .collect();
    quick_xml::escape::escape(cleaned.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_errors_become_exceptions() {
        let e = WmsError::from(ImageFormat::parse("image/gif").unwrap_err());
        assert_eq!(e.code, Some(ExceptionCode::InvalidFormat));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("image/gif"), "{}", e.message);
    }

    #[test]
    fn blank_exception_image_has_the_requested_size() {
        let ctx = ImageContext {
            width: 7,
            height: 3,
            format: ImageFormat::Png,
            transparent: true,
            background: [255, 255, 255, 255],
        };
        let err = WmsError::invalid("no");
        let r = exception_response(&err, Version::V130, ExceptionMode::Blank, Some(ctx));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "image/png");
    }
}
