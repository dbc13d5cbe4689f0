//! The WMS service: which datasets a request sees, and the dispatch of a request (or
//! an XYZ tile) to its operation (GetCapabilities, GetMap, GetFeatureInfo,
//! GetLegendGraphic) with errors turned into exception reports or images.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::app::AppState;
use crate::auth::Principal;
use crate::config::WmsConfig;

use super::Version;
use super::caches::Caches;
use super::crs::tile_bbox;
use super::encode::ImageFormat;
use super::error::{ExceptionCode, ExceptionMode, ImageContext, WmsError, exception_response};
use super::params::{Params, parse_color};

pub use super::tiles::TilePath;

/// Which datasets a request sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Dataset(String),
}

impl Scope {
    pub(super) fn key(&self) -> String {
        match self {
            Scope::All => "*".into(),
            Scope::Dataset(id) => format!("d:{id}"),
        }
    }
}

/// The WMS service state: its caches.
pub struct Wms {
    pub(super) caches: Caches,
    /// Memory for drawing, in MiB permits (`wms.render_memory_bytes`).
    pub(super) render_memory: std::sync::Arc<tokio::sync::Semaphore>,
    pub(super) render_memory_mib: u32,
}

impl Wms {
    pub(super) fn new(state: &AppState) -> Wms {
        let mib =
            (state.config.wms.render_memory_bytes >> 20).clamp(1, u32::MAX as u64 >> 4) as u32;
        Wms {
            caches: Caches::new(&state.config.wms, &state.config.cache, &state.metrics),
            render_memory: std::sync::Arc::new(tokio::sync::Semaphore::new(mib as usize)),
            render_memory_mib: mib,
        }
    }
}

/// The 404 of an unknown `/wms/...` path, as a 1.3.0 exception report.
pub fn not_found(path: &str, query: Option<&str>) -> Response {
    let p = Params::parse(query);
    let err = WmsError {
        code: None,
        message: format!("no dataset or tile at /wms/{path}"),
        status: StatusCode::NOT_FOUND,
    };
    exception_response(&err, p.version(), ExceptionMode::Xml, None)
}

impl Wms {
    pub async fn handle(
        &self,
        state: &AppState,
        viewer: &Principal,
        scope: Scope,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Response {
        let p = Params::parse(query);
        let request = p.non_empty("REQUEST").unwrap_or("").to_ascii_lowercase();
        let version = if request.ends_with("capabilities") {
            Version::negotiate(p.non_empty("VERSION").or_else(|| p.non_empty("WMTVER")))
        } else {
            p.version()
        };
        let mode = ExceptionMode::parse(p.non_empty("EXCEPTIONS"));
        if let Some(s) = p.non_empty("SERVICE")
            && !s.eq_ignore_ascii_case("WMS")
        {
            let e = WmsError::invalid(&format!("SERVICE={s}: this is a WMS"));
            return exception_response(&e, version, ExceptionMode::Xml, None);
        }
        let result = match request.as_str() {
            "getcapabilities" | "capabilities" => {
                self.capabilities(state, viewer, &scope, headers, version)
                    .await
            }
            "getmap" | "map" => {
                let ctx = image_context(&p, &state.config.wms);
                return match self.get_map(state, &scope, &p, version).await {
                    Ok(r) => r,
                    Err(e) => exception_response(&e, version, mode, ctx),
                };
            }
            "getfeatureinfo" | "feature_info" => {
                self.feature_info(state, &scope, &p, version).await
            }
            "getlegendgraphic" => self.legend(state, &scope, &p).await,
            "" => Err(WmsError::missing("missing parameter REQUEST")),
            other => Err(WmsError::new(
                ExceptionCode::OperationNotSupported,
                format!("REQUEST={other} is not supported"),
            )),
        };
        result.unwrap_or_else(|e| exception_response(&e, version, ExceptionMode::Xml, None))
    }

    /// An XYZ tile: a 256×256 Web Mercator GetMap (transparent unless asked).
    pub async fn tile(&self, state: &AppState, tile: TilePath, query: Option<&str>) -> Response {
        let mut p = Params::parse(query);
        let Some(b) = tile_bbox(tile.z, tile.x, tile.y) else {
            let e = WmsError::invalid(&format!("no tile {}/{}/{}", tile.z, tile.x, tile.y));
            return exception_response(&e, Version::V130, ExceptionMode::Xml, None);
        };
        p.set("LAYERS", tile.layer);
        p.set("CRS", "EPSG:3857");
        p.set("BBOX", format!("{},{},{},{}", b[0], b[1], b[2], b[3]));
        p.set("WIDTH", "256");
        p.set("HEIGHT", "256");
        p.set("FORMAT", "image/png");
        if let Some(s) = p.non_empty("STYLE").map(str::to_string) {
            p.set("STYLES", s);
        }
        if p.non_empty("TRANSPARENT").is_none() {
            p.set("TRANSPARENT", "TRUE");
        }
        match self.get_map(state, &Scope::All, &p, Version::V130).await {
            Ok(r) => r,
            Err(e) => exception_response(&e, Version::V130, ExceptionMode::Xml, None),
        }
    }
}

/// What an image exception needs, when the request gives it well enough.
fn image_context(p: &Params, c: &WmsConfig) -> Option<ImageContext> {
    let width = p.dimension("WIDTH", c.max_width).ok()?;
    let height = p.dimension("HEIGHT", c.max_height).ok()?;
    Some(ImageContext {
        width,
        height,
        format: ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"))
            .unwrap_or(ImageFormat::Png),
        transparent: p.flag("TRANSPARENT").ok().flatten().unwrap_or(false),
        background: p
            .non_empty("BGCOLOR")
            .and_then(parse_color)
            .unwrap_or([255, 255, 255, 255]),
    })
}
