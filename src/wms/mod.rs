//! OGC WMS 1.1.1 and 1.3.0: maps of every gridded variable.
//!
//! `/wms` serves all datasets (layer `{id}/{variable}`), `/wms/{id}` one dataset
//! (layer `{variable}`, or `{id}/{variable}` too), `/wms/tiles/{layer}/{z}/{x}/{y}.png`
//! XYZ tiles in Web Mercator for Leaflet and OpenLayers.

mod capabilities;
pub mod crs;
mod draw;
pub mod encode;
mod error;
mod featureinfo;
pub mod grid;
mod layers;
mod legend;
pub mod params;
pub mod render;
mod service;
pub mod style;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

pub use error::{ExceptionCode, WmsError};

use crate::app::AppState;
use service::{Scope, Wms};

/// The two protocol versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V111,
    V130,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V111 => "1.1.1",
            Version::V130 => "1.3.0",
        }
    }

    /// GetCapabilities negotiation (WMS 1.3.0 §6.2.4): no version or one at least
    /// 1.3.0 gets 1.3.0; one below gets the highest version not above it, and one
    /// below every version gets the lowest.
    pub fn negotiate(requested: Option<&str>) -> Version {
        let Some(v) = requested.map(str::trim).filter(|v| !v.is_empty()) else {
            return Version::V130;
        };
        let parts: Vec<u32> = v
            .split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect();
        let key = (
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0),
        );
        if key >= (1, 3, 0) {
            Version::V130
        } else {
            Version::V111
        }
    }

    /// The version of an operation other than GetCapabilities: VERSION if given,
    /// else 1.1.1 when the request uses 1.1.1's `SRS`, else 1.3.0.
    fn of_request(p: &params::Params) -> Version {
        match p.non_empty("VERSION").or_else(|| p.non_empty("WMTVER")) {
            Some(v) => Version::negotiate(Some(v)),
            None if p.non_empty("SRS").is_some() && p.non_empty("CRS").is_none() => Version::V111,
            None => Version::V130,
        }
    }
}

/// The WMS routes; its caches live with the router.
pub fn router() -> Router<AppState> {
    let wms = Arc::new(Wms::default());
    Router::new()
        .route("/wms", get(all_datasets))
        .route("/wms/{*rest}", get(with_path))
        .layer(Extension(wms))
}

async fn all_datasets(
    State(state): State<AppState>,
    Extension(wms): Extension<Arc<Wms>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    wms.handle(&state, Scope::All, &headers, query.as_deref())
        .await
}

async fn with_path(
    State(state): State<AppState>,
    Extension(wms): Extension<Arc<Wms>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if rest.is_empty() {
        return wms
            .handle(&state, Scope::All, &headers, query.as_deref())
            .await;
    }
    if let Some(tile) = service::TilePath::parse(&rest)
        && state.catalog.resolve(&tile.layer).is_some()
    {
        return wms.tile(&state, tile, query.as_deref()).await;
    }
    match state.catalog.resolve(&rest) {
        Some((id, tail)) if tail.is_empty() || tail == "/" => {
            wms.handle(&state, Scope::Dataset(id), &headers, query.as_deref())
                .await
        }
        _ => service::not_found(&rest, query.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_negotiation() {
        assert_eq!(Version::negotiate(None), Version::V130);
        assert_eq!(Version::negotiate(Some("1.3.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("2.0.0")), Version::V130);
        assert_eq!(Version::negotiate(Some("1.1.1")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.2.0")), Version::V111);
        assert_eq!(Version::negotiate(Some("1.0.0")), Version::V111);
        let p = params::Params::parse(Some("SRS=EPSG:4326"));
        assert_eq!(Version::of_request(&p), Version::V111);
        let p = params::Params::parse(Some("CRS=EPSG:4326"));
        assert_eq!(Version::of_request(&p), Version::V130);
    }
}
