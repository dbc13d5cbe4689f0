//! The static files of the web interface (stylesheet, scripts, the vendored Leaflet and
//! uPlot), embedded in the binary and served under `/static/` with long cache
//! lifetimes: their URLs carry the crate version, so a new release is a new URL.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The URL prefix of the static files (a new version, new URLs).
pub use crate::site_page::STATIC_PREFIX as PREFIX;

struct Asset {
    path: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $media:literal, $file:literal) => {
        Asset {
            path: $path,
            media_type: $media,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $file)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!(
        "datagate.css",
        "text/css; charset=utf-8",
        "static/datagate.css"
    ),
    asset!(
        "catalog.js",
        "text/javascript; charset=utf-8",
        "static/catalog.js"
    ),
    asset!(
        "dataset.js",
        "text/javascript; charset=utf-8",
        "static/dataset.js"
    ),
    asset!(
        "basemap.js",
        "text/javascript; charset=utf-8",
        "static/basemap.js"
    ),
    asset!(
        "leaflet/leaflet.js",
        "text/javascript; charset=utf-8",
        "vendor/leaflet/leaflet.js"
    ),
    asset!(
        "leaflet/leaflet.css",
        "text/css; charset=utf-8",
        "vendor/leaflet/leaflet.css"
    ),
    asset!(
        "leaflet/LICENSE",
        "text/plain; charset=utf-8",
        "vendor/leaflet/LICENSE"
    ),
    asset!(
        "leaflet/images/layers.png",
        "image/png",
        "vendor/leaflet/images/layers.png"
    ),
    asset!(
        "leaflet/images/layers-2x.png",
        "image/png",
        "vendor/leaflet/images/layers-2x.png"
    ),
    asset!(
        "leaflet/images/marker-icon.png",
        "image/png",
        "vendor/leaflet/images/marker-icon.png"
    ),
    asset!(
        "leaflet/images/marker-icon-2x.png",
        "image/png",
        "vendor/leaflet/images/marker-icon-2x.png"
    ),
    asset!(
        "leaflet/images/marker-shadow.png",
        "image/png",
        "vendor/leaflet/images/marker-shadow.png"
    ),
    asset!(
        "uplot/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        "vendor/uplot/uPlot.iife.min.js"
    ),
    asset!(
        "uplot/uPlot.min.css",
        "text/css; charset=utf-8",
        "vendor/uplot/uPlot.min.css"
    ),
    asset!(
        "uplot/LICENSE",
        "text/plain; charset=utf-8",
        "vendor/uplot/LICENSE"
    ),
];

/// `GET /static/{version}/{file}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    let file = path
        .strip_prefix(env!("CARGO_PKG_VERSION"))
        .and_then(|p| p.strip_prefix('/'));
    match file.and_then(|f| ASSETS.iter().find(|a| a.path == f)) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.media_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.bytes,
        )
            .into_response(),
        None => crate::http::json_error(StatusCode::NOT_FOUND, "no such static file"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vendored_files_are_there_and_not_empty() {
        for a in super::ASSETS {
            assert!(a.bytes.len() > 100, "{}", a.path);
        }
    }
}
